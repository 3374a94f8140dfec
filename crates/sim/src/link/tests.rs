use std::cell::RefCell;
use std::rc::Rc;

use procreg::{ErrorKind, ManualClock, ProcessRegistration, ProcessScope};
use procreg_reference::MemoryRegistry;

use super::*;
use crate::executor::Executor;
use crate::plan::{LinkFaultAt, Partition};

const START: u64 = 10_000;

fn register(id: &str) -> Op {
    Op::Register {
        registration: ProcessRegistration::new(id, ProcessScope::session("s"), "h"),
    }
}

/// Runs `calls` ops from client `c`, one after another, starting at `START + start_ms`;
/// returns each outcome's error kind (None for Ok).
fn outcomes(plan: FaultPlan, start_ms: u64, calls: usize) -> Vec<Option<ErrorKind>> {
    let clock = SimClock::new(START);
    let registry = Arc::new(MemoryRegistry::new(Arc::new(ManualClock::new(1))));
    let link = FaultyLink::new(plan, clock.clone(), registry);
    let mut ex = Executor::new(1, clock);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = Rc::clone(&seen);
    ex.spawn("c", async move {
        sleep(start_ms).await;
        for i in 0..calls {
            let r = link.call("c", register(&format!("p{i}"))).await;
            s.borrow_mut()
                .push(r.as_ref().as_ref().err().map(|e| e.kind()));
        }
    });
    ex.run(10_000);
    seen.take()
}

#[test]
fn partitions_are_in_plan_time() {
    let plan = FaultPlan {
        timeout_ms: 5,
        faults_end_ms: 1_000,
        partitions: vec![Partition {
            client: "c".into(),
            from_ms: 100,
            until_ms: 200,
        }],
        ..FaultPlan::default()
    };
    assert_eq!(outcomes(plan.clone(), 0, 1), vec![None]);
    assert_eq!(outcomes(plan, 150, 1), vec![Some(ErrorKind::Unavailable)]);
}

#[test]
fn no_link_fault_fires_in_the_settle_phase() {
    let drop_first = |faults_end_ms| FaultPlan {
        timeout_ms: 5,
        faults_end_ms,
        link: vec![LinkFaultAt {
            client: "c".into(),
            index: 0,
            fault: LinkFault::DropRequest,
        }],
        ..FaultPlan::default()
    };
    assert_eq!(
        outcomes(drop_first(1_000), 0, 2),
        vec![Some(ErrorKind::Unavailable), None]
    );
    assert_eq!(outcomes(drop_first(1_000), 1_000, 2), vec![None, None]);
}

#[test]
fn a_crash_loses_answers_still_on_the_wire() {
    let clock = SimClock::new(START);
    let registry = Arc::new(MemoryRegistry::new(Arc::new(ManualClock::new(1))));
    let plan = FaultPlan {
        latency_ms: 10,
        ..FaultPlan::default()
    };
    let link = FaultyLink::new(plan, clock.clone(), registry);
    let mut ex = Executor::new(1, clock);
    let result = Rc::new(RefCell::new(None));
    let (l, r) = (link.clone(), Rc::clone(&result));
    ex.spawn("c", async move {
        *r.borrow_mut() = Some(l.call("c", register("p1")).await);
    });
    // Request latency ends at START+10 and the call executes; the answer is on the wire then.
    assert_eq!(
        ex.run_until(START + 15, 100),
        crate::executor::RunOutcome::Deadline
    );
    let old = link.crash();
    assert!(old.is_some());
    link.reopen(Arc::new(MemoryRegistry::new(Arc::new(ManualClock::new(1)))));
    ex.run(100);
    let got = result.borrow_mut().take().expect("the call returned");
    assert_eq!(
        got.as_ref().as_ref().err().map(|e| e.kind()),
        Some(ErrorKind::Unavailable)
    );
    assert_eq!(
        link.history().calls()[0].epoch,
        0,
        "it executed on the first incarnation"
    );
}
