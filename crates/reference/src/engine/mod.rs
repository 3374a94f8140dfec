//! The shared registry engine: ONE implementation of the 23 trait methods for every registry
//! built on the [`Model`] (MemoryRegistry, FileRegistry).
//!
//! Each call locks the Model, reads the clock once (T1), applies the op (A1: the lock order is
//! the linearization order), hands a state change to the [`Journal`] and wakes waiters, then
//! unlocks and waits, outside the lock, until what it saw is durable (group commit).
//!
//! Failure handling (A2, Z): when `make_durable` fails, the call that was waiting returns
//! `Unavailable` (its change may or may not survive a crash), and the journal is poisoned, so
//! every later call, reads and waits included, returns `Storage` from
//! [`Journal::writable`] until the store is reopened: nobody can observe state that a crash
//! could take back.
//!
//! Waits (E14, C4) never lose a wake-up: a `tokio::sync::Notify` future is created and enabled
//! BEFORE the Model is checked, and every state change calls `notify_waiters`. Dropping a wait
//! drops only that future. Only `tokio::sync` is used (no spawn, timers or threads), so the
//! engine runs under any executor, including the simulator's single-threaded one.

mod delegate;
#[doc(hidden)]
pub use delegate::__private;
mod registry;

use std::pin::pin;
use std::sync::{Mutex, MutexGuard};

use procreg::{PluginError, SharedClock};
use tokio::sync::Notify;

use crate::journal::Journal;
use crate::model::Model;
use crate::op::{Op, OpOutput};

/// A [`Model`] behind one lock, with wake-up notification and a [`Journal`].
///
/// It implements [`procreg::ProcessRegistry`]; registries that wrap it delegate with
/// [`delegate_process_registry!`](crate::delegate_process_registry).
#[derive(Debug)]
pub struct Engine<J: Journal> {
    model: Mutex<Model>,
    changed: Notify,
    journal: J,
    clock: SharedClock,
}

impl<J: Journal> Engine<J> {
    /// An engine serving `model` (e.g. one recovered from a log), writing through `journal` and
    /// reading time from `clock`.
    pub fn new(model: Model, journal: J, clock: SharedClock) -> Self {
        Self {
            model: Mutex::new(model),
            changed: Notify::new(),
            journal,
            clock,
        }
    }

    /// The journal this engine writes through.
    pub fn journal(&self) -> &J {
        &self.journal
    }

    /// The clock this engine reads time from.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// A copy of the current Model (for checkers and tests).
    ///
    /// # Errors
    /// `Storage` when the state lock is poisoned.
    pub fn model_snapshot(&self) -> Result<Model, PluginError> {
        Ok(self.lock()?.clone())
    }

    /// Runs one call. Waits (`WaitEventAfter`, `AwaitProcess`) block until their answer exists;
    /// they never return [`OpOutput::Pending`].
    ///
    /// # Errors
    /// What the Model answers (P1), `Storage` once the journal is poisoned or the lock is,
    /// `Unavailable` when making this call durable failed (A2).
    pub async fn call(&self, op: &Op) -> Result<OpOutput, PluginError> {
        if !matches!(op, Op::WaitEventAfter { .. } | Op::AwaitProcess { .. }) {
            return self.call_once(op);
        }
        loop {
            // E14/C4: register interest BEFORE looking, so an append between the look and the
            // await still wakes us.
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            match self.call_once(op)? {
                OpOutput::Pending => notified.await,
                output => return Ok(output),
            }
        }
    }

    /// Applies `op` once, without blocking on its answer, and waits until what it saw is
    /// durable.
    fn call_once(&self, op: &Op) -> Result<OpOutput, PluginError> {
        let (result, ticket, changed) = {
            let mut model = self.lock()?;
            let now_ms = self.clock.now_ms(); // T1: one reading, under the lock.
            self.journal.writable()?; // Z1: reads too fail once the journal is poisoned.
            let before = model.revision();
            let result = model.apply(op, now_ms);
            if model.revision() != before {
                (result, self.journal.record(op, now_ms, &model), true)
            } else {
                (result, self.journal.last_ticket(), false)
            }
        };
        if changed {
            self.changed.notify_waiters();
        }
        if let Err(error) = self.journal.make_durable(ticket) {
            // Waiters re-check and meet the poisoned journal instead of sleeping forever.
            self.changed.notify_waiters();
            return Err(PluginError::unavailable(format!(
                "{} may or may not have taken effect: {error}",
                op.method_name()
            )));
        }
        result
    }

    /// Locks the Model; a poisoned lock (a panic mid-call) is `Storage`, never a panic.
    fn lock(&self) -> Result<MutexGuard<'_, Model>, PluginError> {
        self.model
            .lock()
            .map_err(|_| PluginError::storage("registry state lock poisoned by a panic"))
    }
}
