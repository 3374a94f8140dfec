use std::cell::RefCell;
use std::rc::Rc;

use super::*;

fn log_runs(seed: u64) -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut ex = Executor::new(seed, SimClock::new(0));
    for name in ["a", "b", "c", "d"] {
        let log = Rc::clone(&log);
        ex.spawn(name, async move {
            for i in 0..3 {
                log.borrow_mut().push(format!("{name}{i}"));
                sleep(0).await;
                yield_now().await;
            }
        });
    }
    assert_eq!(ex.run(1_000), RunOutcome::Completed);
    log.take()
}

/// Yields once so another ready task may run.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

#[test]
fn same_seed_same_schedule() {
    assert_eq!(log_runs(42), log_runs(42));
}

#[test]
fn different_seeds_interleave_differently() {
    let schedules: BTreeSet<Vec<String>> = (0..20).map(log_runs).collect();
    assert!(schedules.len() > 1, "20 seeds produced one schedule");
}

#[test]
fn time_jumps_to_the_next_timer_when_idle() {
    let mut ex = Executor::new(1, SimClock::new(100));
    let seen = Rc::new(Cell::new(0));
    let s = Rc::clone(&seen);
    ex.spawn("sleeper", async move {
        sleep(5_000).await;
        s.set(now_ms().unwrap_or(0));
    });
    assert_eq!(ex.run(100), RunOutcome::Completed);
    assert_eq!(seen.get(), 5_100);
    assert_eq!(ex.clock().now_ms(), 5_100);
}

#[test]
fn quiescence_reports_who_waits_on_what() {
    let mut ex = Executor::new(1, SimClock::new(0));
    ex.spawn("waiter", async {
        waiting_on(Some("event p1 > 3".into()));
        std::future::pending::<()>().await;
    });
    ex.spawn("finisher", async {});
    match ex.run(100) {
        RunOutcome::Quiescent(blocked) => {
            assert_eq!(blocked.len(), 1);
            assert_eq!(blocked[0].name, "waiter");
            assert_eq!(blocked[0].waiting_on.as_deref(), Some("event p1 > 3"));
        }
        other => panic!("expected quiescence, got {other:?}"),
    }
}

#[test]
fn tasks_spawned_inside_a_run_are_run() {
    let mut ex = Executor::new(3, SimClock::new(0));
    let hits = Rc::new(Cell::new(0));
    let h = Rc::clone(&hits);
    ex.spawn("parent", async move {
        for _ in 0..3 {
            let h = Rc::clone(&h);
            spawn("child", async move { h.set(h.get() + 1) });
        }
    });
    assert_eq!(ex.run(100), RunOutcome::Completed);
    assert_eq!(hits.get(), 3);
}

#[test]
fn cancelled_sleepers_leave_no_timer_behind() {
    let mut ex = Executor::new(3, SimClock::new(0));
    ex.spawn("doomed", async { sleep(1_000_000).await });
    ex.spawn("short", async { sleep(10).await });
    // Two polls register both timers; the short one fires, then the budget is spent.
    assert_eq!(ex.run(2), RunOutcome::BudgetExhausted);
    assert_eq!(ex.clock().now_ms(), 10);
    assert_eq!(ex.cancel_where(|_, name| name == "doomed"), 1);
    assert_eq!(ex.run(10), RunOutcome::Completed);
    assert_eq!(
        ex.clock().now_ms(),
        10,
        "a dropped sleep must not move time"
    );
}

#[test]
fn budget_stops_a_livelock() {
    let mut ex = Executor::new(3, SimClock::new(0));
    ex.spawn("spinner", async {
        loop {
            yield_now().await;
        }
    });
    assert_eq!(ex.run(50), RunOutcome::BudgetExhausted);
    assert_eq!(ex.polls(), 50);
}

#[test]
fn run_until_stops_at_the_deadline_and_resumes() {
    let mut ex = Executor::new(5, SimClock::new(0));
    let seen = Rc::new(Cell::new(0));
    let s = Rc::clone(&seen);
    ex.spawn("late", async move {
        sleep(1_000).await;
        s.set(1);
    });
    assert_eq!(ex.run_until(400, 100), RunOutcome::Deadline);
    assert_eq!((ex.clock().now_ms(), seen.get()), (400, 0));
    assert_eq!(ex.run(100), RunOutcome::Completed);
    assert_eq!((ex.clock().now_ms(), seen.get()), (1_000, 1));
}

#[test]
fn a_panicking_task_leaves_no_context_behind() {
    let mut ex = Executor::new(1, SimClock::new(7));
    ex.spawn("boom", async { panic!("task panics") });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ex.run(10)));
    assert!(caught.is_err());
    assert_eq!(
        now_ms(),
        None,
        "the executor's context must be gone after the panic"
    );
}
