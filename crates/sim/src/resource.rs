//! A fenced downstream resource: what recovery workers write their results to (W4).
//!
//! Why it exists: fencing tokens only protect anything if the resource that receives a
//! worker's writes rejects tokens lower than the highest it has seen. This is that resource.
//! It keeps every accepted write so [`FencedResource::check`] can judge W4 against the history:
//! each accepted write carries a fencing token that its writer really obtained from a successful
//! claim, no token is accepted from two different writers, and accepted tokens never go
//! backwards per process.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use procreg_reference::{Op, OpOutput};

use crate::check::Violation;
use crate::history::History;

/// One write the resource accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedWrite {
    /// The process the work belongs to.
    pub process_id: String,
    /// The writer's owner id.
    pub writer: String,
    /// The fencing token it presented.
    pub fencing_token: u64,
    /// What it wrote.
    pub value: String,
}

#[derive(Debug, Default)]
struct State {
    highest: BTreeMap<String, u64>,
    accepted: Vec<AcceptedWrite>,
    rejected: u64,
}

/// The resource. Clones share one store.
#[derive(Clone, Debug, Default)]
pub struct FencedResource {
    state: Rc<RefCell<State>>,
}

impl FencedResource {
    /// An empty resource.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts the write iff `fencing_token` is at least the highest seen for `process_id`.
    /// Returns whether it was accepted.
    pub fn write(&self, process_id: &str, writer: &str, fencing_token: u64, value: &str) -> bool {
        let mut state = self.state.borrow_mut();
        let highest = state.highest.get(process_id).copied().unwrap_or(0);
        if fencing_token < highest {
            state.rejected += 1;
            return false;
        }
        match state.highest.get_mut(process_id) {
            Some(seen) => *seen = fencing_token,
            None => {
                state.highest.insert(process_id.to_owned(), fencing_token);
            }
        }
        state.accepted.push(AcceptedWrite {
            process_id: process_id.to_owned(),
            writer: writer.to_owned(),
            fencing_token,
            value: value.to_owned(),
        });
        true
    }

    /// Every accepted write, in order.
    pub fn accepted(&self) -> Vec<AcceptedWrite> {
        self.state.borrow().accepted.clone()
    }

    /// How many writes were rejected as stale.
    pub fn rejected(&self) -> u64 {
        self.state.borrow().rejected
    }

    /// W4 against `history`; see the module docs.
    pub fn check(&self, history: &History) -> Vec<Violation> {
        let mut issued: BTreeMap<(&str, u64), Vec<&str>> = BTreeMap::new();
        for call in history.calls() {
            if let (Op::ClaimLease { .. }, Some(Ok(OpOutput::Lease(lease)))) =
                (&*call.op, call.outcome())
            {
                issued
                    .entry((&lease.process_id, lease.fencing_token))
                    .or_default()
                    .push(&lease.owner_id);
            }
        }
        let mut out = Vec::new();
        let state = self.state.borrow();
        let mut writer_of: BTreeMap<(&str, u64), &str> = BTreeMap::new();
        let mut last: BTreeMap<&str, u64> = BTreeMap::new();
        for write in &state.accepted {
            let key = (write.process_id.as_str(), write.fencing_token);
            let obtained = issued
                .get(&key)
                .is_some_and(|owners| owners.contains(&write.writer.as_str()));
            let mut fail = |message: String| {
                out.push(Violation {
                    rule: "W4".into(),
                    call: None,
                    message,
                });
            };
            if !obtained {
                fail(format!(
                    "{} wrote {} to {} with fence={} it never obtained from a claim",
                    write.writer, write.value, write.process_id, write.fencing_token
                ));
            }
            if let Some(other) = writer_of.insert(key, &write.writer)
                && other != write.writer
            {
                fail(format!(
                    "{}: fence={} accepted from two writers, {other} and {}",
                    write.process_id, write.fencing_token, write.writer
                ));
            }
            let previous = last
                .insert(&write.process_id, write.fencing_token)
                .unwrap_or(0);
            assert!(
                previous <= write.fencing_token,
                "the resource accepted a lower token"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use procreg::ProcessLease;

    use super::*;

    fn history_with_claim(owner: &str, fence: u64) -> History {
        let mut h = History::new();
        let op = Op::ClaimLease {
            process_id: "p".into(),
            owner_id: owner.into(),
            lease_ttl_ms: 10,
        };
        let id = h.invoke(owner, op, 0, 0);
        let lease = ProcessLease {
            process_id: "p".into(),
            owner_id: owner.into(),
            lease_token: format!("t{fence}"),
            fencing_token: fence,
            claimed_at_ms: 0,
            expires_at_ms: 10,
        };
        h.complete(id, Ok(OpOutput::Lease(lease)), 1);
        h
    }

    #[test]
    fn stale_tokens_are_rejected() {
        let r = FencedResource::new();
        assert!(r.write("p", "a", 2, "x"));
        assert!(!r.write("p", "b", 1, "y"));
        assert!(r.write("q", "b", 1, "y"));
        assert_eq!((r.accepted().len(), r.rejected()), (2, 1));
    }

    #[test]
    fn w4_write_with_an_unobtained_token_is_caught() {
        let r = FencedResource::new();
        assert!(r.write("p", "a", 1, "x"));
        assert!(r.check(&history_with_claim("a", 1)).is_empty());
        assert!(r.write("p", "b", 1, "y"));
        let rules: Vec<_> = r
            .check(&history_with_claim("a", 1))
            .into_iter()
            .map(|v| v.rule)
            .collect();
        assert_eq!(rules, vec!["W4", "W4"]);
    }
}
