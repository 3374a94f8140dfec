//! Session-deletion bugs (S1-S3): deleting too little (frames forgotten, wakes left pending),
//! too much (every session sharing the id as a prefix), or reporting the wrong processes.
//!
//! Each bug is one knob of [`Deletion`], a deletion written the way a backend writes it: find
//! the matching grants, revoke them, clear matching wakes, sort the processes that lost a grant.

use std::collections::BTreeSet;

use async_trait::async_trait;
use procreg::{PluginError, ProcessScope, ProcessSessionDeleteReport};

use super::{Base, Broken, Twist, wrap};
use procreg::ProcessRegistry;

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "sessions::delete_forgets_frame_scopes",
        bug: "S1/S3: session deletion removes the session scope's grants and wakes but not its frames'",
        make: |clock| {
            wrap(
                clock,
                Deletion {
                    matches: |scope, sid| scope.session_id == sid && scope.agent_frame_id.is_none(),
                    ..Deletion::CORRECT
                },
            )
        },
    },
    Broken {
        name: "sessions::delete_by_id_prefix",
        bug: "S1/S4: session deletion matches session ids by prefix, so deleting `s1` also deletes `s10`",
        make: |clock| {
            wrap(
                clock,
                Deletion {
                    matches: |scope, sid| scope.session_id.starts_with(sid),
                    ..Deletion::CORRECT
                },
            )
        },
    },
    Broken {
        name: "sessions::delete_keeps_pending_wakes",
        bug: "S3: session deletion revokes grants but leaves wakes targeted at the session pending",
        make: |clock| {
            wrap(
                clock,
                Deletion {
                    clears_wakes: false,
                    ..Deletion::CORRECT
                },
            )
        },
    },
    Broken {
        name: "sessions::delete_cancels_shared_processes",
        bug: "S2: every running process that lost a grant is listed for cancellation, even when another scope still holds it",
        make: |clock| {
            wrap(
                clock,
                Deletion {
                    looks_for_other_grants: false,
                    ..Deletion::CORRECT
                },
            )
        },
    },
    Broken {
        name: "sessions::delete_lists_terminal_processes",
        bug: "S2: terminal processes that lost a grant are listed in cancel/preserved",
        make: |clock| {
            wrap(
                clock,
                Deletion {
                    skips_terminal: false,
                    ..Deletion::CORRECT
                },
            )
        },
    },
];

/// The deletion with the contract's knobs: a control that must pass every law.
pub const CORRECT_DELETION: Broken = Broken {
    name: "control::correct_deletion",
    bug: "none: the session deletion the bugs above are knobs of, set right",
    make: |clock| wrap(clock, Deletion::CORRECT),
};

/// A session deletion built from the trait's own calls, with knobs for each bug.
#[derive(Clone, Copy)]
struct Deletion {
    /// Whether a grant or wake target scope belongs to the deleted session (S1).
    matches: fn(&ProcessScope, &str) -> bool,
    /// Whether matching pending wakes stop being pending (S3).
    clears_wakes: bool,
    /// Whether processes keeping a grant elsewhere are preserved, not cancelled (S2).
    looks_for_other_grants: bool,
    /// Whether terminal processes are left out of both lists (S2).
    skips_terminal: bool,
}

impl Deletion {
    /// The knobs that give the contract's behaviour.
    const CORRECT: Deletion = Deletion {
        matches: |scope, sid| scope.session_id == sid,
        clears_wakes: true,
        looks_for_other_grants: true,
        skips_terminal: true,
    };
}

#[async_trait]
impl Twist for Deletion {
    async fn delete_session_process_state(
        &self,
        base: &Base,
        session_id: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        let model = base.model();
        let mut report = ProcessSessionDeleteReport {
            session_id: session_id.to_owned(),
            ..ProcessSessionDeleteReport::default()
        };
        let mut lost = BTreeSet::new();
        for id in model.process_ids() {
            for grant in model.handle_grants_for_process(id)? {
                if (self.matches)(&grant.scope, session_id) {
                    base.inner.revoke_handle(&grant.scope, id).await?;
                    report.revoked_handle_count += 1;
                    lost.insert(id.to_owned());
                }
            }
            for event in model.events(id) {
                let Some(wake) = &event.wake else { continue };
                if self.clears_wakes
                    && (self.matches)(&wake.target_scope, session_id)
                    && model.is_pending_wake(id, event.sequence)
                {
                    base.inner.ack_wake(id, event.sequence).await?;
                    report.deleted_wake_count += 1;
                }
            }
        }
        for id in lost {
            let terminal = model.get_process(&id).is_some_and(|r| r.is_terminal());
            if terminal && self.skips_terminal {
                continue;
            }
            let kept = !base.inner.handle_grants_for_process(&id).await?.is_empty();
            if kept && self.looks_for_other_grants {
                report.preserved_process_ids.push(id);
            } else {
                report.cancel_process_ids.push(id);
            }
        }
        Ok(report)
    }
}
