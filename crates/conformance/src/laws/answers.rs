//! Raw answers, for laws that judge more than an error's kind: the holder and expiry a
//! `LeaseHeld` names (L1), or the mix of outcomes of calls racing on one registry (A1).
//!
//! An answer is a call's `Result` as a value. `Unavailable` is still never judged (A2): it ends
//! the law as an environment failure, as [`Ctx::ok`] and [`Ctx::err`] do.

use std::future::Future;

use procreg::{ErrorKind, PluginError};

use crate::ctx::{Ctx, Spawned};
use crate::law::LawFailure;

/// A call's answer, value or error, for the law to judge.
pub(crate) type Answer<T> = Result<T, PluginError>;

/// Runs a call through [`Ctx::ok`] (numbered, bounded) and returns its answer unjudged.
///
/// # Errors
/// The call did not return, or returned `Unavailable` (an environment failure, A2).
pub(crate) async fn answer<T: serde::Serialize>(
    ctx: &Ctx,
    call: &str,
    fut: impl Future<Output = Answer<T>>,
) -> Result<Answer<T>, LawFailure> {
    let got = ctx
        .ok(call, async { Ok::<_, PluginError>(fut.await) })
        .await?;
    definite(ctx, call, got)
}

/// Starts a call in its own task whose answer [`joined`] returns unjudged.
pub(crate) fn spawn_answer<T, F>(ctx: &Ctx, call: &str, fut: F) -> Spawned<Answer<T>>
where
    T: Send + 'static,
    F: Future<Output = Answer<T>> + Send + 'static,
{
    ctx.spawn(call, async move { Ok::<_, PluginError>(fut.await) })
}

/// Waits for a call started by [`spawn_answer`] (named `call` again, for the failure).
///
/// # Errors
/// The call panicked, did not return within the call bound, or returned `Unavailable`.
pub(crate) async fn joined<T>(
    ctx: &Ctx,
    call: &str,
    spawned: Spawned<Answer<T>>,
) -> Result<Answer<T>, LawFailure> {
    let got = ctx.joined_ok(spawned, ctx.call_timeout()).await?;
    definite(ctx, call, got)
}

fn definite<T>(ctx: &Ctx, call: &str, got: Answer<T>) -> Result<Answer<T>, LawFailure> {
    match got {
        Err(e) if e.kind() == ErrorKind::Unavailable => Err(ctx.unexpected_error(call, &e)),
        other => Ok(other),
    }
}

/// The kind of an answer's error, `None` for a value: what racing laws count.
pub(crate) fn kind_of<T>(got: &Answer<T>) -> Option<ErrorKind> {
    got.as_ref().err().map(PluginError::kind)
}
