//! The context a law runs in: fresh registries from the harness, the injected [`ManualClock`],
//! and the checks that turn a registry's answer into a [`LawFailure`].
//!
//! Every registry call a law makes goes through [`Ctx::ok`] or [`Ctx::err`], which number the
//! steps, bound the call in wall-clock time (a hang becomes a failure, never a stuck test; the
//! bound is never slept), compare error kinds (never message text) and class an `Unavailable`
//! answer as an environment failure (A2). Values are compared by canonical JSON (J1), so `1` and
//! `1.0`, or `0.0` and `-0.0`, are different values to every law.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use procreg::canonical::canonical_json_of;
use procreg::{Clock, ErrorKind, ManualClock, PluginError, SharedClock};
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::harness::{Capabilities, DynHarness, Instance, RegistryHandle};
use crate::law::{FailureClass, Law, LawFailure, LawResult, Observed};

/// Where every law's clock starts: 2023-11-14T22:13:20Z, in milliseconds.
pub const START_MS: u64 = 1_700_000_000_000;

/// How many times [`Ctx::settle`] yields to the runtime.
const SETTLE_YIELDS: usize = 64;

/// The last call a law made, shared with the runner so a panic can be placed.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub(crate) step: u32,
    pub(crate) call: String,
}

/// What a law runs with. Built by the [`Runner`](crate::Runner); laws take it by value.
pub struct Ctx {
    law: &'static str,
    rules: &'static [&'static str],
    harness: Arc<dyn DynHarness>,
    caps: Capabilities,
    clock: ManualClock,
    tick_ms: Arc<AtomicU64>,
    progress: Arc<Mutex<Progress>>,
    instances: Mutex<u32>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("law", &self.law)
            .finish_non_exhaustive()
    }
}

/// A registry call running in its own task (a waiter), with the step it was started at.
#[derive(Debug)]
pub struct Spawned<T> {
    step: u32,
    call: String,
    handle: JoinHandle<Result<T, PluginError>>,
}

impl<T> Spawned<T> {
    /// Cancels the call: its future is dropped (E14's "dropping the future has no effect").
    pub async fn abort(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

impl Ctx {
    pub(crate) fn new(
        law: &Law,
        harness: Arc<dyn DynHarness>,
        caps: Capabilities,
        progress: Arc<Mutex<Progress>>,
    ) -> Self {
        Self {
            law: law.id,
            rules: law.rules,
            harness,
            caps,
            clock: ManualClock::new(START_MS),
            tick_ms: Arc::new(AtomicU64::new(0)),
            progress,
            instances: Mutex::new(0),
        }
    }

    /// The harness's declared capabilities.
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The injected clock's reading.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Moves the injected clock forward by `delta_ms` (saturating at 2^63 - 1, V3).
    pub fn advance_ms(&self, delta_ms: u64) {
        self.clock.advance(delta_ms);
    }

    /// Makes the injected clock move forward by `delta_ms` after every reading a registry takes
    /// (`0` stops it), so a call that reads its clock twice writes two different times (T1).
    /// [`Ctx::now_ms`] does not move it.
    pub fn tick_on_every_read(&self, delta_ms: u64) {
        self.tick_ms.store(delta_ms, Ordering::SeqCst);
    }

    /// A fresh, empty registry on the injected clock, with its own label.
    ///
    /// # Errors
    /// An environment failure when the harness cannot make one.
    pub async fn fresh(&self) -> Result<RegistryHandle, LawFailure> {
        let instance = self.next_instance();
        let call = format!("harness.fresh({})", instance.label);
        let made = self.call(&call, self.harness.fresh(&instance)).await?;
        made.map_err(|e| self.environment(&call, e))
    }

    /// Crashes `old` (every clone of it must be dropped first) and reopens its store (D7).
    ///
    /// # Errors
    /// `Corrupt` and `Storage` are returned as values for durability laws to judge; other errors
    /// are environment failures.
    pub async fn reopen(
        &self,
        old: RegistryHandle,
    ) -> Result<Result<RegistryHandle, PluginError>, LawFailure> {
        let instance = old.instance().clone();
        let call = format!("harness.reopen({})", instance.label);
        self.call(&call, self.harness.reopen(&instance, old)).await
    }

    /// A second live handle on `first`'s store (E14, D5).
    ///
    /// # Errors
    /// An environment failure when the harness cannot open one.
    pub async fn second_handle(
        &self,
        first: &RegistryHandle,
    ) -> Result<RegistryHandle, LawFailure> {
        let instance = first.instance().clone();
        let call = format!("harness.second_handle({})", instance.label);
        let made = self
            .call(&call, self.harness.second_handle(&instance, first))
            .await?;
        made.map_err(|e| self.environment(&call, e))
    }

    /// Runs a call that must succeed, and returns its value.
    ///
    /// # Errors
    /// A failure naming the error kind the call returned, or that it did not return.
    pub async fn ok<T: Serialize>(
        &self,
        call: impl Into<String>,
        fut: impl Future<Output = Result<T, PluginError>>,
    ) -> Result<T, LawFailure> {
        let call = call.into();
        match self.call(&call, fut).await? {
            Ok(value) => Ok(value),
            Err(e) => Err(self.failure(
                &call,
                Observed::Claim("ok".into()),
                Observed::Error(e.kind()),
            )),
        }
    }

    /// Runs a call that must fail with `expected`.
    ///
    /// # Errors
    /// A failure naming the value or the other error kind the call returned.
    pub async fn err<T: Serialize>(
        &self,
        call: impl Into<String>,
        fut: impl Future<Output = Result<T, PluginError>>,
        expected: ErrorKind,
    ) -> LawResult {
        let call = call.into();
        let actual = match self.call(&call, fut).await? {
            Err(e) if e.kind() == expected => return Ok(()),
            Err(e) => Observed::Error(e.kind()),
            Ok(value) => Observed::Value(canonical_json_of(&value)),
        };
        Err(self.failure(&call, Observed::Error(expected), actual))
    }

    /// Checks that `actual` equals `expected` under J1 (canonical JSON text).
    ///
    /// # Errors
    /// A failure showing both values.
    pub fn same<T: Serialize + ?Sized>(
        &self,
        what: impl Into<String>,
        actual: &T,
        expected: &T,
    ) -> LawResult {
        let (actual, expected) = (canonical_json_of(actual), canonical_json_of(expected));
        if actual == expected {
            return Ok(());
        }
        let what = what.into();
        Err(self.failure(&what, Observed::Value(expected), Observed::Value(actual)))
    }

    /// Checks a property stated in words (`claim`, e.g. "sequence 4"), showing `actual` if it
    /// does not hold.
    ///
    /// # Errors
    /// A failure showing the claim and `actual`.
    pub fn ensure<T: Serialize + ?Sized>(
        &self,
        holds: bool,
        what: impl Into<String>,
        claim: &str,
        actual: &T,
    ) -> LawResult {
        if holds {
            return Ok(());
        }
        let what = what.into();
        let actual = Observed::Value(canonical_json_of(actual));
        Err(self.failure(&what, Observed::Claim(claim.to_owned()), actual))
    }

    /// The failure for a call (run outside [`Ctx::ok`], like [`Ctx::reopen`]) that returned
    /// `error` where the contract asks for success.
    pub fn unexpected_error(&self, call: &str, error: &PluginError) -> LawFailure {
        self.failure(
            call,
            Observed::Claim("ok".into()),
            Observed::Error(error.kind()),
        )
    }

    /// Unwraps a value that must be present (a record that must exist, ...).
    ///
    /// # Errors
    /// A failure saying it was absent.
    pub fn present<T>(&self, what: impl Into<String>, value: Option<T>) -> Result<T, LawFailure> {
        value.ok_or_else(|| {
            let what = what.into();
            self.failure(
                &what,
                Observed::Claim("a value".into()),
                Observed::Value("null".into()),
            )
        })
    }

    /// Starts a call in its own task (a waiter) and counts it as a step.
    pub fn spawn<T, F>(&self, call: impl Into<String>, fut: F) -> Spawned<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, PluginError>> + Send + 'static,
    {
        let call = call.into();
        let step = self.begin(&call);
        Spawned {
            step,
            call,
            handle: tokio::spawn(fut),
        }
    }

    /// Lets every other task run until it blocks (yields to the runtime; never sleeps).
    pub async fn settle(&self) {
        for _ in 0..SETTLE_YIELDS {
            tokio::task::yield_now().await;
        }
    }

    /// Checks that a spawned call has not returned yet.
    ///
    /// # Errors
    /// A failure showing what it returned.
    pub async fn still_pending<T: Serialize>(
        &self,
        spawned: &mut Spawned<T>,
        claim: &str,
    ) -> LawResult {
        if !spawned.handle.is_finished() {
            return Ok(());
        }
        let actual = match (&mut spawned.handle).await {
            Ok(Ok(value)) => Observed::Value(canonical_json_of(&value)),
            Ok(Err(e)) => Observed::Error(e.kind()),
            Err(join) => Observed::Claim(format!("task ended: {join}")),
        };
        let call = format!("{} (still pending?)", spawned.call);
        Err(self.failure_at(
            spawned.step,
            &call,
            Observed::Claim(claim.to_owned()),
            actual,
        ))
    }

    /// Waits for a spawned call that must succeed, within `bound` of wall-clock time.
    ///
    /// # Errors
    /// A failure when it errs, panics, or does not return within `bound`.
    pub async fn joined_ok<T>(
        &self,
        spawned: Spawned<T>,
        bound: Duration,
    ) -> Result<T, LawFailure> {
        let Spawned { step, call, handle } = spawned;
        let abort = handle.abort_handle();
        let actual = match tokio::time::timeout(bound, handle).await {
            Ok(Ok(Ok(value))) => return Ok(value),
            Ok(Ok(Err(e))) => Observed::Error(e.kind()),
            Ok(Err(join)) => Observed::Claim(format!("task ended: {join}")),
            Err(_) => {
                abort.abort();
                Observed::NoReturn {
                    waited_ms: duration_ms(bound),
                }
            }
        };
        Err(self.failure_at(step, &call, Observed::Claim("ok".into()), actual))
    }

    /// The bound on one call (from [`Capabilities::call_timeout`]).
    pub fn call_timeout(&self) -> Duration {
        self.caps.call_timeout
    }

    fn next_instance(&self) -> Instance {
        let n = {
            let mut count = self.instances.lock().unwrap_or_else(|p| p.into_inner());
            *count += 1;
            *count
        };
        let base: String = self
            .law
            .replace("::", "__")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let label = if n == 1 { base } else { format!("{base}_{n}") };
        let clock: SharedClock = Arc::new(LawClock {
            clock: self.clock.clone(),
            tick_ms: self.tick_ms.clone(),
        });
        Instance { label, clock }
    }

    fn begin(&self, call: &str) -> u32 {
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.step += 1;
        progress.call = call.to_owned();
        progress.step
    }

    fn current_step(&self) -> u32 {
        self.progress
            .lock()
            .map(|p| p.step)
            .unwrap_or_else(|p| p.into_inner().step)
    }

    /// Counts a step and runs `fut` within the call bound.
    async fn call<T>(&self, call: &str, fut: impl Future<Output = T>) -> Result<T, LawFailure> {
        let step = self.begin(call);
        let bound = self.caps.call_timeout;
        tokio::time::timeout(bound, fut).await.map_err(|_| {
            let actual = Observed::NoReturn {
                waited_ms: duration_ms(bound),
            };
            self.failure_at(step, call, Observed::Claim("a return".into()), actual)
        })
    }

    fn environment(&self, call: &str, error: PluginError) -> LawFailure {
        let mut failure = self.failure(
            call,
            Observed::Claim("ok".into()),
            Observed::Error(error.kind()),
        );
        failure.class = FailureClass::Environment;
        failure
    }

    fn failure(&self, call: &str, expected: Observed, actual: Observed) -> LawFailure {
        self.failure_at(self.current_step(), call, expected, actual)
    }

    fn failure_at(
        &self,
        step: u32,
        call: &str,
        expected: Observed,
        actual: Observed,
    ) -> LawFailure {
        // A2: an indefinite answer says nothing about the contract.
        let class = if actual == Observed::Error(ErrorKind::Unavailable) {
            FailureClass::Environment
        } else {
            FailureClass::Violation
        };
        LawFailure {
            law: self.law,
            rules: self.rules,
            step,
            call: call.to_owned(),
            expected,
            actual,
            class,
        }
    }
}

/// The clock a law's registries read: the law's [`ManualClock`], moved on by `tick_ms` after
/// each reading (see [`Ctx::tick_on_every_read`]).
#[derive(Debug)]
struct LawClock {
    clock: ManualClock,
    tick_ms: Arc<AtomicU64>,
}

impl Clock for LawClock {
    fn now_ms(&self) -> u64 {
        let now = self.clock.now_ms();
        let tick = self.tick_ms.load(Ordering::SeqCst);
        if tick > 0 {
            self.clock.advance(tick);
        }
        now
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
