//! Lease tokens across the backend/Model boundary (Z31).
//!
//! A backend picks its own lease tokens (L2 asks only that none is issued twice for a
//! process); the Model picks its own. So lease answers match up to a renaming of tokens, and
//! that renaming must be one-to-one: within one epoch a process's fencing token names one
//! lease (L2, L6), so one observed token per fencing token and one fencing token per
//! observed token ([`conflict`]). A token a client presents (renew, release) is translated
//! to the Model's token of the lease the backend issued it for ([`LeaseTokens::translate`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use procreg::ProcessLease;
use procreg_reference::{Model, Op, OpOutput};

use crate::history::{CallId, CallRecord};

/// What a presented token becomes when the Model's current lease is not the one the backend
/// issued it for: a string the Model never issues (no id may contain U+0000, V2).
const NOT_CURRENT: &str = "\u{0}procreg-check: not the current lease: ";

/// Observed lease token -> the fencing token of the lease it was issued with, per process.
/// Nested (process id, then token) so that a lookup, once per renew or release the search
/// tries, borrows its key instead of building one; the ids are borrowed from the history,
/// which outlives every check of it.
#[derive(Default)]
pub(super) struct LeaseTokens<'a> {
    fencing_of: BTreeMap<&'a str, BTreeMap<&'a str, u64>>,
}

impl<'a> LeaseTokens<'a> {
    /// Learns the tokens of every lease in a successful answer among `calls`; a later
    /// answer overrides an earlier one (later epochs of an Inline store restart fencing).
    pub(super) fn learn(calls: impl Iterator<Item = &'a CallRecord>) -> Self {
        let mut tokens = LeaseTokens::default();
        for (_, lease) in calls.filter_map(lease_answer) {
            tokens
                .fencing_of
                .entry(lease.process_id.as_str())
                .or_default()
                .insert(lease.lease_token.as_str(), lease.fencing_token);
        }
        tokens
    }

    /// `op` with any presented lease token replaced by the Model's token for the same lease.
    ///
    /// A token never seen in an answer is left as it is (it may be forged, or the backend
    /// may use the Model's own tokens); a known token whose lease is not the Model's current
    /// one becomes a token the Model never issued. An op whose token translates to itself (a
    /// backend issuing the Model's own tokens) is borrowed, not copied.
    pub(super) fn translate<'o>(&self, op: &'o Op, model: &Model) -> Cow<'o, Op> {
        match op {
            Op::RenewLease {
                lease,
                lease_ttl_ms,
            } => match self.model_token(&lease.process_id, &lease.lease_token, model) {
                Some(token) if token != lease.lease_token => Cow::Owned(Op::RenewLease {
                    lease: ProcessLease {
                        lease_token: token.into_owned(),
                        ..lease.clone()
                    },
                    lease_ttl_ms: *lease_ttl_ms,
                }),
                _ => Cow::Borrowed(op),
            },
            Op::CompleteLease { completion } => {
                match self.model_token(&completion.process_id, &completion.lease_token, model) {
                    Some(token) if token != completion.lease_token => {
                        let mut completion = completion.clone();
                        completion.lease_token = token.into_owned();
                        Cow::Owned(Op::CompleteLease { completion })
                    }
                    _ => Cow::Borrowed(op),
                }
            }
            _ => Cow::Borrowed(op),
        }
    }

    fn model_token<'m>(
        &self,
        pid: &str,
        presented: &str,
        model: &'m Model,
    ) -> Option<Cow<'m, str>> {
        let fencing = self.fencing_of.get(pid)?.get(presented)?;
        Some(match model.current_lease(pid) {
            Some(current) if current.fencing_token == *fencing => {
                Cow::Borrowed(current.lease_token.as_str())
            }
            _ => Cow::Owned(format!("{NOT_CURRENT}{presented}")),
        })
    }
}

/// The first pair of answers among `calls` (one epoch) that no one-to-one renaming of
/// lease tokens can reconcile, explained.
pub(super) fn conflict<'a>(
    calls: impl Iterator<Item = &'a CallRecord>,
) -> Option<(CallId, CallId, String)> {
    let mut by_token: BTreeMap<(&str, &str), (u64, CallId)> = BTreeMap::new();
    let mut by_fencing: BTreeMap<(&str, u64), (&str, CallId)> = BTreeMap::new();
    for (id, lease) in calls.filter_map(lease_answer) {
        let pid = lease.process_id.as_str();
        let token = lease.lease_token.as_str();
        let fencing = lease.fencing_token;
        if let Some(&(other, first)) = by_token.get(&(pid, token))
            && other != fencing
        {
            let why = format!(
                "calls #{first} and #{id} got lease token `{token}` of `{pid}` with fencing \
                 tokens {other} and {fencing}: a lease token names one lease (L6)"
            );
            return Some((first, id, why));
        }
        if let Some(&(other, first)) = by_fencing.get(&(pid, fencing))
            && other != token
        {
            let why = format!(
                "calls #{first} and #{id} got fencing token {fencing} of `{pid}` with lease \
                 tokens `{other}` and `{token}`: one lease keeps one token (L2, L4)"
            );
            return Some((first, id, why));
        }
        by_token.insert((pid, token), (fencing, id));
        by_fencing.insert((pid, fencing), (token, id));
    }
    None
}

/// The lease a call's successful answer carries, if any.
fn lease_answer(call: &CallRecord) -> Option<(CallId, &ProcessLease)> {
    match call.outcome() {
        Some(Ok(OpOutput::Lease(lease))) => Some((call.id, lease)),
        _ => None,
    }
}
