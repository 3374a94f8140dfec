//! The grants workload's check: every (scope, process) grant is a register, and every
//! successful read is judged against every write that completed before the read began.
//!
//! Why it exists: grants, transfers and session deletions touch many processes at once, so
//! per-process linearizability does not apply and a whole-history search may run out of
//! budget. This check needs no search and raises no false alarm: a read may contradict a
//! write that returned before it began only if some other call that sets the value the read
//! saw could have taken effect in between (its window overlaps `[write invoke, read return]`).
//! Calls that got `Unavailable` or never returned count as possible writers (A2); calls with a
//! definite error count as nothing, and when only such a call explains a read, it is named.
//!
//! What it catches: a transfer that is not all-or-nothing (H7: an id left behind in `from`,
//! missing from `to`, or moved by a transfer that failed), a grant a deleted session still
//! holds afterwards with no later grant or transfer into it (S1, S5), lost or resurrected
//! grants and revokes (H1, H2). What it leaves alone: the read's descriptors and records, the
//! delete report's lists, and orderings only a search can decide.

use std::collections::BTreeMap;

use procreg::ProcessScope;
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::Violation;
use procreg_sim::history::{CallId, CallRecord, History};

/// Violations reported at most per run (the first ones say it all).
const MAX_VIOLATIONS: usize = 8;

/// A call that may have set one register.
struct Write {
    /// `None`: the initial state (nothing granted).
    call: Option<CallId>,
    invoke_ms: u64,
    /// `None`: never returned (may take effect any time after invoke).
    return_ms: Option<u64>,
    /// `Ok`: it surely took effect; `Unavailable` or no answer: maybe; a definite error: no.
    effect: Effect,
    value: bool,
    rule: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Effect {
    Surely,
    Maybe,
    Never,
}

impl Write {
    /// Whether this write could have taken effect after `after` began and before `before_ms`.
    fn could_land_between(&self, after: &Write, before_ms: u64) -> bool {
        self.invoke_ms <= before_ms && self.return_ms.is_none_or(|r| r >= after.invoke_ms)
    }
}

type Key = (String, String);

fn effect(call: &CallRecord) -> Effect {
    if call.is_definite_error() {
        Effect::Never
    } else if call.is_indefinite() {
        Effect::Maybe
    } else {
        Effect::Surely
    }
}

/// Every register each call may have written, the initial state first.
fn writes(
    history: &History,
    scopes: &[ProcessScope],
    pids: &[String],
) -> BTreeMap<Key, Vec<Write>> {
    let mut out: BTreeMap<Key, Vec<Write>> = BTreeMap::new();
    for scope in scopes {
        for pid in pids {
            let initial = Write {
                call: None,
                invoke_ms: 0,
                return_ms: Some(0),
                effect: Effect::Surely,
                value: false,
                rule: "H1",
            };
            out.entry((scope.id(), pid.clone()))
                .or_default()
                .push(initial);
        }
    }
    for call in history.calls() {
        let mut put = |scope: &ProcessScope, pid: &str, value: bool, rule: &'static str| {
            if let Some(list) = out.get_mut(&(scope.id(), pid.to_owned())) {
                list.push(Write {
                    call: Some(call.id),
                    invoke_ms: call.invoke_ms,
                    return_ms: call.return_ms,
                    effect: effect(call),
                    value,
                    rule,
                });
            }
        };
        match &*call.op {
            Op::GrantHandle {
                scope, process_id, ..
            } => put(scope, process_id, true, "H1"),
            Op::RevokeHandle { scope, process_id } => put(scope, process_id, false, "H2"),
            Op::TransferHandleGrants {
                from,
                to,
                process_ids,
            } if from.id() != to.id() => {
                for pid in process_ids {
                    put(from, pid, false, "H7");
                    put(to, pid, true, "H7");
                }
            }
            Op::DeleteSession { session_id } => {
                for scope in scopes.iter().filter(|s| &s.session_id == session_id) {
                    pids.iter().for_each(|pid| put(scope, pid, false, "S1"));
                }
            }
            _ => {}
        }
    }
    out
}

/// One observation: the register, the value seen, the read's call and window.
struct Read {
    key: Key,
    value: bool,
    call: CallId,
    invoke_ms: u64,
    return_ms: u64,
}

fn reads(history: &History, scopes: &[ProcessScope], pids: &[String]) -> Vec<Read> {
    let mut out = Vec::new();
    for call in history.calls() {
        let (Some(Ok(output)), Some(return_ms)) = (call.outcome(), call.return_ms) else {
            continue;
        };
        let mut saw = |scope: &ProcessScope, pid: &str, value: bool| {
            let key = (scope.id(), pid.to_owned());
            out.push(Read {
                key,
                value,
                call: call.id,
                invoke_ms: call.invoke_ms,
                return_ms,
            });
        };
        match (&*call.op, output) {
            (Op::ListHandleGrants { scope }, OpOutput::GrantEntries(entries)) => {
                for pid in pids {
                    saw(
                        scope,
                        pid,
                        entries.iter().any(|e| &e.grant.process_id == pid),
                    );
                }
            }
            (Op::HandleGrantsForProcess { process_id }, OpOutput::Grants(grants)) => {
                for scope in scopes {
                    saw(
                        scope,
                        process_id,
                        grants.iter().any(|g| g.scope.id() == scope.id()),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// See the module docs. `scopes` and `pids` are every scope and process the workload uses.
pub fn check_grant_reads(
    history: &History,
    scopes: &[ProcessScope],
    pids: &[String],
) -> Vec<Violation> {
    let writes = writes(history, scopes, pids);
    let mut out = check_registers(history, &writes, scopes, pids);
    if out.len() < MAX_VIOLATIONS {
        out.extend(check_half_transfers(history, &writes));
    }
    out.truncate(MAX_VIOLATIONS);
    out
}

/// Each read of one register against each write that completed before it.
fn check_registers(
    history: &History,
    writes: &BTreeMap<Key, Vec<Write>>,
    scopes: &[ProcessScope],
    pids: &[String],
) -> Vec<Violation> {
    let mut out: Vec<Violation> = Vec::new();
    for read in reads(history, scopes, pids) {
        if out.len() >= MAX_VIOLATIONS || out.last().is_some_and(|v| v.call == Some(read.call)) {
            continue;
        }
        let Some(list) = writes.get(&read.key) else {
            continue;
        };
        let setter = |w: &Write, other: &Write| {
            other.value == read.value && other.could_land_between(w, read.return_ms)
        };
        let contradicted = list.iter().find(|w| {
            w.effect == Effect::Surely
                && w.value != read.value
                && w.return_ms.is_some_and(|r| r < read.invoke_ms)
                && !list
                    .iter()
                    .any(|o| o.effect != Effect::Never && setter(w, o))
        });
        let Some(w) = contradicted else { continue };
        let culprit = list
            .iter()
            .find(|o| o.effect == Effect::Never && setter(w, o));
        let (rule, why) = match culprit.and_then(|c| c.call) {
            Some(c) => (
                culprit.map_or(w.rule, |c| c.rule),
                format!("only call #{c}, which failed, could have set it"),
            ),
            None => (
                w.rule,
                "no call that could set it back ran in between".to_owned(),
            ),
        };
        let by = w
            .call
            .map_or("the initial state".to_owned(), |c| format!("call #{c}"));
        out.push(Violation {
            rule: rule.to_owned(),
            call: Some(read.call),
            message: format!(
                "read #{} saw grant {} on {} = {}, but {by} had set it to {} before the read \
                 began, and {why}",
                read.call, read.key.0, read.key.1, read.value, !read.value
            ),
        });
    }
    out
}

/// Whether some call other than `skip` that writes `value` to `key` could have taken effect
/// inside `[from_ms, to_ms]`.
fn could_write(
    writes: &BTreeMap<Key, Vec<Write>>,
    key: &Key,
    value: bool,
    skip: CallId,
    (from_ms, to_ms): (u64, u64),
) -> bool {
    writes.get(key).is_some_and(|list| {
        list.iter().any(|w| {
            w.call != Some(skip)
                && w.effect != Effect::Never
                && w.value == value
                && w.invoke_ms <= to_ms
                && w.return_ms.is_none_or(|r| r >= from_ms)
        })
    })
}

/// H7 atomicity seen by one read: a successful transfer of several ids, and a read of its
/// `from` scope showing some of them moved and some not, when neither "the transfer came
/// first" (then each id still listed was granted back in between) nor "the read came first"
/// (then each id missing was granted in between, since all were there when it ran) explains it.
fn check_half_transfers(history: &History, writes: &BTreeMap<Key, Vec<Write>>) -> Vec<Violation> {
    let mut out = Vec::new();
    for t in history.calls() {
        let (
            Op::TransferHandleGrants {
                from,
                to,
                process_ids,
            },
            Some(Ok(_)),
            Some(t_ret),
        ) = (&*t.op, t.outcome(), t.return_ms)
        else {
            continue;
        };
        if process_ids.len() < 2 || from.id() == to.id() {
            continue;
        }
        for r in history.calls() {
            let (
                Op::ListHandleGrants { scope },
                Some(Ok(OpOutput::GrantEntries(entries))),
                Some(r_ret),
            ) = (&*r.op, r.outcome(), r.return_ms)
            else {
                continue;
            };
            // Only `from` is judged: before the transfer every id was there; after it, none
            // (what `to` held before is unknown, so a read of it shows nothing half done).
            if scope.id() != from.id() {
                continue;
            }
            let seen = |pid: &String| entries.iter().any(|e| &e.grant.process_id == pid);
            let key = |pid: &String| (scope.id(), pid.clone());
            let transfer_first = t.invoke_ms <= r_ret
                && process_ids.iter().all(|p| {
                    !seen(p) || could_write(writes, &key(p), true, t.id, (t.invoke_ms, r_ret))
                });
            let read_first = t_ret >= r.invoke_ms
                && process_ids.iter().all(|p| {
                    seen(p) || could_write(writes, &key(p), true, t.id, (r.invoke_ms, t_ret))
                });
            if !transfer_first && !read_first {
                out.push(Violation {
                    rule: "H7".to_owned(),
                    call: Some(r.id),
                    message: format!(
                        "read #{} of {} saw transfer #{} ({} -> {} [{}]) half done",
                        r.id,
                        scope.id(),
                        t.id,
                        from.id(),
                        to.id(),
                        process_ids.join(",")
                    ),
                });
                if out.len() >= MAX_VIOLATIONS {
                    return out;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
