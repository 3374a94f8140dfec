use procreg::{
    PluginError, ProcessHandleDescriptor, ProcessHandleGrant, ProcessHandleGrantEntry,
    ProcessRegistration, ProcessScope,
};
use procreg_reference::{Model, Op, OpOutput};
use procreg_sim::history::History;

use super::check_grant_reads;

fn scopes() -> Vec<ProcessScope> {
    vec![ProcessScope::session("sA"), ProcessScope::session("sB")]
}

fn pids() -> Vec<String> {
    vec!["g0".to_owned(), "g1".to_owned()]
}

/// A call that returned `outcome` (or never returned) within `[invoke, ret]`.
fn call(h: &mut History, op: Op, invoke: u64, ret: u64, outcome: Result<OpOutput, PluginError>) {
    let id = h.invoke("c", op, invoke, 0);
    h.complete(id, outcome, ret);
}

fn grant(h: &mut History, session: &str, pid: &str, at: u64) {
    let op = Op::GrantHandle {
        scope: ProcessScope::session(session),
        process_id: pid.to_owned(),
        descriptor: ProcessHandleDescriptor::default(),
    };
    call(h, op, at, at + 1, Ok(OpOutput::Unit));
}

/// `handle_grants_for_process(pid)` answered: granted to `sessions`.
fn read_for(h: &mut History, pid: &str, sessions: &[&str], at: u64) {
    let grants = sessions
        .iter()
        .map(|s| ProcessHandleGrant {
            scope: ProcessScope::session(*s),
            process_id: pid.to_owned(),
            descriptor: ProcessHandleDescriptor::default(),
        })
        .collect();
    let op = Op::HandleGrantsForProcess {
        process_id: pid.to_owned(),
    };
    call(h, op, at, at + 1, Ok(OpOutput::Grants(grants)));
}

/// `list_handle_grants(session)` answered `pids`.
fn read_list(h: &mut History, session: &str, listed: &[&str], at: u64) {
    let mut model = Model::new();
    let entries = listed
        .iter()
        .map(|pid| {
            let reg = ProcessRegistration::new(*pid, ProcessScope::session("o"), "h");
            ProcessHandleGrantEntry {
                grant: ProcessHandleGrant {
                    scope: ProcessScope::session(session),
                    process_id: (*pid).to_owned(),
                    descriptor: ProcessHandleDescriptor::default(),
                },
                record: model.register_process(reg, 0).unwrap(),
            }
        })
        .collect();
    let op = Op::ListHandleGrants {
        scope: ProcessScope::session(session),
    };
    call(h, op, at, at + 1, Ok(OpOutput::GrantEntries(entries)));
}

fn transfer(h: &mut History, at: u64, ret: u64, outcome: Result<OpOutput, PluginError>) {
    let op = Op::TransferHandleGrants {
        from: ProcessScope::session("sA"),
        to: ProcessScope::session("sB"),
        process_ids: pids(),
    };
    call(h, op, at, ret, outcome);
}

fn rules(h: &History) -> Vec<String> {
    check_grant_reads(h, &scopes(), &pids())
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

#[test]
fn s1_a_deleted_session_owns_nothing_after_its_deletion() {
    let mut h = History::new();
    grant(&mut h, "sA", "g0", 10);
    let op = Op::DeleteSession {
        session_id: "sA".to_owned(),
    };
    call(&mut h, op, 20, 21, Ok(OpOutput::Unit));
    read_for(&mut h, "g0", &["sA"], 30);
    assert_eq!(rules(&h), ["S1"]);
}

#[test]
fn a_grant_that_may_follow_the_deletion_explains_the_read() {
    let mut h = History::new();
    grant(&mut h, "sA", "g0", 10);
    let op = Op::DeleteSession {
        session_id: "sA".to_owned(),
    };
    call(&mut h, op, 20, 21, Ok(OpOutput::Unit));
    let late = Op::GrantHandle {
        scope: ProcessScope::session("sA"),
        process_id: "g0".to_owned(),
        descriptor: ProcessHandleDescriptor::default(),
    };
    call(&mut h, late, 20, 40, Err(PluginError::unavailable("lost")));
    read_for(&mut h, "g0", &["sA"], 30);
    assert!(rules(&h).is_empty());
}

#[test]
fn h7_a_failed_transfer_that_moved_something_is_named() {
    let mut h = History::new();
    grant(&mut h, "sA", "g0", 10);
    grant(&mut h, "sA", "g1", 10);
    let not_granted = PluginError::HandleNotGranted {
        scope_id: "session:sA".to_owned(),
        process_id: "g1".to_owned(),
    };
    transfer(&mut h, 20, 25, Err(not_granted));
    read_for(&mut h, "g0", &["sB"], 30);
    assert_eq!(rules(&h), ["H7"]);
}

#[test]
fn h7_a_read_of_from_during_the_transfer_sees_all_or_nothing() {
    let mut h = History::new();
    grant(&mut h, "sA", "g0", 10);
    grant(&mut h, "sA", "g1", 10);
    transfer(&mut h, 20, 30, Ok(OpOutput::Unit));
    read_list(&mut h, "sA", &["g0", "g1"], 22);
    read_list(&mut h, "sA", &[], 24);
    assert!(rules(&h).is_empty());
    read_list(&mut h, "sA", &["g1"], 26);
    assert_eq!(rules(&h), ["H7"]);
}

#[test]
fn concurrent_reads_and_writes_raise_no_alarm() {
    let mut h = History::new();
    grant(&mut h, "sA", "g0", 10);
    let op = Op::RevokeHandle {
        scope: ProcessScope::session("sA"),
        process_id: "g0".to_owned(),
    };
    call(&mut h, op, 20, 30, Ok(OpOutput::Unit));
    read_for(&mut h, "g0", &["sA"], 21);
    read_for(&mut h, "g0", &[], 22);
    assert!(rules(&h).is_empty());
    read_for(&mut h, "g0", &["sA"], 40);
    assert_eq!(rules(&h), ["H2"]);
}
