//! The seeded single-threaded executor every simulated task runs on.
//!
//! Why it exists: real runtimes pick the next task by OS timing, so a race seen once may never
//! be seen again. Here the next task is drawn from the ready set by the scheduler's seeded RNG
//! stream, time is virtual ([`SimClock`]) and jumps to the next timer only when nothing can run,
//! and every poll is fingerprinted into a trace, so a seed replays bit for bit and two runs of a
//! seed can be compared step by step (`PROCREG_CHECK_DETERMINISM`).
//!
//! When nothing is runnable and no timer is set the run is *quiescent*: the executor returns
//! the blocked tasks with what each one said it waits on ([`waiting_on`]), and the world judges
//! whether that is a lost wake-up, a deadlock, or waiters whose event simply never came.
//!
//! Inside a task, [`spawn`], [`sleep`], [`now_ms`] and [`waiting_on`] reach the running executor
//! through a thread-local context; outside a run they are inert (see each function).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use procreg::Clock;

use crate::clock::SimClock;
use crate::rng::{SimRng, Stream};

/// A task's id: its spawn order, starting at 0.
pub type TaskId = u64;

type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// How a call to [`Executor::run`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every task finished.
    Completed,
    /// No task can run and no timer is set; these tasks are blocked.
    Quiescent(Vec<BlockedTask>),
    /// The poll budget ran out with tasks still runnable or sleeping.
    BudgetExhausted,
    /// [`Executor::run_until`] reached its deadline: nothing can run before it.
    Deadline,
}

/// A task that could not make progress when the run went quiescent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedTask {
    /// The task.
    pub id: TaskId,
    /// The name it was spawned with.
    pub name: String,
    /// What it last said it waits on, if anything.
    pub waiting_on: Option<String>,
}

struct Shared {
    clock: SimClock,
    timers: RefCell<BTreeMap<(u64, u64), Waker>>,
    timer_seq: Cell<u64>,
    spawned: RefCell<Vec<(String, LocalFuture)>>,
    current: Cell<Option<TaskId>>,
    labels: RefCell<BTreeMap<TaskId, Label>>,
}

/// What a task said it waits on: a text, or a function that writes it only when a report
/// asks (a link call sets one per call, and reports are rare).
enum Label {
    Text(String),
    Lazy(Box<dyn Fn() -> String>),
}

impl Label {
    fn text(&self) -> String {
        match self {
            Label::Text(text) => text.clone(),
            Label::Lazy(write) => write(),
        }
    }
}

thread_local! {
    static CONTEXT: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
}

/// Installs an executor's context for a scope and restores the previous one on drop, also when
/// a task panics, so a panicking run cannot leave a stale executor behind.
struct ContextGuard {
    previous: Option<Rc<Shared>>,
}

impl ContextGuard {
    fn enter(shared: &Rc<Shared>) -> Self {
        let previous = CONTEXT.with(|c| c.borrow_mut().replace(Rc::clone(shared)));
        Self { previous }
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CONTEXT.with(|c| *c.borrow_mut() = previous);
    }
}

fn with_context<T>(f: impl FnOnce(&Rc<Shared>) -> T) -> Option<T> {
    CONTEXT.with(|c| c.borrow().as_ref().map(f))
}

struct TaskWaker {
    id: TaskId,
    woken: Arc<Mutex<BTreeSet<TaskId>>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Single-threaded: the lock is never contended; a poisoned lock still holds the set.
        let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        woken.insert(self.id);
    }
}

struct Task {
    name: String,
    future: LocalFuture,
    waker: Waker,
}

/// The seeded executor. See the module docs.
pub struct Executor {
    shared: Rc<Shared>,
    tasks: BTreeMap<TaskId, Task>,
    woken: Arc<Mutex<BTreeSet<TaskId>>>,
    rng: SimRng,
    next_id: TaskId,
    polls: u64,
    trace: Vec<u64>,
}

impl Executor {
    /// An executor whose schedule is drawn from `seed`, running on `clock`.
    pub fn new(seed: u64, clock: SimClock) -> Self {
        let shared = Rc::new(Shared {
            clock,
            timers: RefCell::new(BTreeMap::new()),
            timer_seq: Cell::new(0),
            spawned: RefCell::new(Vec::new()),
            current: Cell::new(None),
            labels: RefCell::new(BTreeMap::new()),
        });
        Self {
            shared,
            tasks: BTreeMap::new(),
            woken: Arc::new(Mutex::new(BTreeSet::new())),
            rng: SimRng::new(seed, Stream::Scheduler),
            next_id: 0,
            polls: 0,
            trace: Vec::new(),
        }
    }

    /// The clock this executor advances.
    pub fn clock(&self) -> &SimClock {
        &self.shared.clock
    }

    /// Spawns a task from outside a run; returns its id.
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        future: impl Future<Output = ()> + 'static,
    ) -> TaskId {
        self.insert(name.into(), Box::pin(future))
    }

    fn insert(&mut self, name: String, future: LocalFuture) -> TaskId {
        let id = self.next_id;
        self.next_id += 1;
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            woken: Arc::clone(&self.woken),
        }));
        self.tasks.insert(
            id,
            Task {
                name,
                future,
                waker,
            },
        );
        self.lock_woken().insert(id);
        id
    }

    fn lock_woken(&self) -> std::sync::MutexGuard<'_, BTreeSet<TaskId>> {
        self.woken.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops every task for which `cancel(id, name)` holds, as a crash cancels in-flight calls.
    /// Returns how many were dropped.
    pub fn cancel_where(&mut self, mut cancel: impl FnMut(TaskId, &str) -> bool) -> usize {
        let doomed: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(id, t)| cancel(**id, &t.name))
            .map(|(id, _)| *id)
            .collect();
        // Dropping a future may drop a `Sleep`, which unregisters its timer through the context.
        let _context = ContextGuard::enter(&self.shared);
        for id in &doomed {
            self.tasks.remove(id);
            self.shared.labels.borrow_mut().remove(id);
        }
        doomed.len()
    }

    /// Number of live tasks.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Polls performed so far.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// One fingerprint per poll: (task id, virtual time) folded into a u64. Two runs of one seed
    /// must produce equal traces; the first differing index names the diverging step.
    pub fn trace(&self) -> &[u64] {
        &self.trace
    }

    /// Runs until every task finishes, the run goes quiescent, or `max_polls` more polls ran.
    pub fn run(&mut self, max_polls: u64) -> RunOutcome {
        self.run_until(u64::MAX, max_polls)
    }

    /// Like [`Executor::run`], but stops with [`RunOutcome::Deadline`] once nothing can run
    /// before virtual time `deadline_ms`; time is then exactly `deadline_ms` (or later if it
    /// already was), so the caller can inject an event at that instant.
    pub fn run_until(&mut self, deadline_ms: u64, max_polls: u64) -> RunOutcome {
        let _context = ContextGuard::enter(&self.shared);
        self.run_inner(deadline_ms, max_polls)
    }

    fn run_inner(&mut self, deadline_ms: u64, max_polls: u64) -> RunOutcome {
        let budget_end = self.polls.saturating_add(max_polls);
        loop {
            self.absorb_spawned();
            if self.tasks.is_empty() {
                return RunOutcome::Completed;
            }
            // The ready tasks are the woken ones still alive, in id order; one is picked
            // by the seed's rng (no copy of the set is made: this runs once per poll).
            let pick = {
                let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
                woken.retain(|id| self.tasks.contains_key(id));
                match woken.len() {
                    0 => None,
                    _ if self.polls >= budget_end => return RunOutcome::BudgetExhausted,
                    ready => {
                        let nth = self.rng.below(ready as u64) as usize;
                        let pick = woken.iter().nth(nth).copied();
                        if let Some(id) = pick {
                            woken.remove(&id);
                        }
                        pick
                    }
                }
            };
            if let Some(pick) = pick {
                self.poll_task(pick);
                continue;
            }
            match self.next_timer() {
                None => return RunOutcome::Quiescent(self.blocked()),
                Some(at) if at > deadline_ms => {
                    self.shared.clock.advance_to(deadline_ms);
                    return RunOutcome::Deadline;
                }
                Some(_) => self.fire_next_timers(),
            }
        }
    }

    fn absorb_spawned(&mut self) {
        let spawned = std::mem::take(&mut *self.shared.spawned.borrow_mut());
        for (name, future) in spawned {
            self.insert(name, future);
        }
    }

    fn poll_task(&mut self, id: TaskId) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        self.polls += 1;
        let now = self.shared.clock.now_ms();
        self.trace
            .push(id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ now.rotate_left(32));
        self.shared.current.set(Some(id));
        let waker = task.waker.clone();
        let mut cx = Context::from_waker(&waker);
        let done = task.future.as_mut().poll(&mut cx).is_ready();
        self.shared.current.set(None);
        if done {
            self.tasks.remove(&id);
            self.shared.labels.borrow_mut().remove(&id);
        }
    }

    fn next_timer(&self) -> Option<u64> {
        self.shared.timers.borrow().keys().next().map(|(at, _)| *at)
    }

    /// Advances time to the earliest timer and wakes every timer due then.
    fn fire_next_timers(&mut self) {
        let mut timers = self.shared.timers.borrow_mut();
        let Some((&(deadline, _), _)) = timers.iter().next() else {
            return;
        };
        self.shared.clock.advance_to(deadline);
        let later = timers.split_off(&(deadline + 1, 0));
        let due = std::mem::replace(&mut *timers, later);
        drop(timers);
        for (_, waker) in due {
            waker.wake();
        }
    }

    fn blocked(&self) -> Vec<BlockedTask> {
        let labels = self.shared.labels.borrow();
        self.tasks
            .iter()
            .map(|(id, task)| BlockedTask {
                id: *id,
                name: task.name.clone(),
                waiting_on: labels.get(id).map(Label::text),
            })
            .collect()
    }
}

/// Spawns a task onto the running executor. Outside a run the future is dropped and `None`
/// is returned.
pub fn spawn(name: impl Into<String>, future: impl Future<Output = ()> + 'static) -> Option<()> {
    let name = name.into();
    with_context(move |shared| shared.spawned.borrow_mut().push((name, Box::pin(future))))
}

/// Virtual now, or `None` outside a run.
pub fn now_ms() -> Option<u64> {
    with_context(|shared| shared.clock.now_ms())
}

/// Records what the current task is about to wait on (shown in quiescence reports); `None`
/// clears it. Outside a task it does nothing.
pub fn waiting_on(label: Option<String>) {
    set_label(label.map(Label::Text));
}

/// [`waiting_on`] with a label written only if a quiescence report reads it (`label` must
/// give the same text whenever it is called while the task waits).
pub fn waiting_on_lazy(label: impl Fn() -> String + 'static) {
    set_label(Some(Label::Lazy(Box::new(label))));
}

fn set_label(label: Option<Label>) {
    with_context(|shared| {
        if let Some(id) = shared.current.get() {
            let mut labels = shared.labels.borrow_mut();
            match label {
                Some(label) => labels.insert(id, label),
                None => labels.remove(&id),
            };
        }
    });
}

/// A future that completes once virtual time reaches `now + delay_ms`. Outside a run it
/// completes at once.
pub fn sleep(delay_ms: u64) -> Sleep {
    Sleep {
        delay_ms,
        deadline: None,
        key: None,
    }
}

/// See [`sleep`].
#[derive(Debug)]
pub struct Sleep {
    delay_ms: u64,
    deadline: Option<u64>,
    key: Option<(u64, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let ready = with_context(|shared| {
            let now = shared.clock.now_ms();
            let deadline = *this
                .deadline
                .get_or_insert(now.saturating_add(this.delay_ms));
            if now >= deadline {
                return true;
            }
            let key = *this.key.get_or_insert_with(|| {
                let seq = shared.timer_seq.get();
                shared.timer_seq.set(seq + 1);
                (deadline, seq)
            });
            shared.timers.borrow_mut().insert(key, cx.waker().clone());
            false
        });
        if ready.unwrap_or(true) {
            this.key = None;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            with_context(|shared| shared.timers.borrow_mut().remove(&key));
        }
    }
}

#[cfg(test)]
mod tests;
