//! What the lease timeline shows, read from a finished run: one lane per client, lease bars,
//! and marks for faults, crashes and failed calls. No drawing here.
//!
//! Lease bars come from the history alone (what clients were told), per lease
//! (process id, fencing token):
//! - a successful `claim_lease` / `renew_lease` answer opens or extends the bar, from the
//!   lease's `claimed_at_ms` to its latest `expires_at_ms` (L2, L4);
//! - a successful `complete_process_lease` with the bar's lease token cuts it at its return
//!   (L5): the bar ends `Released`;
//! - a lease of the same process with a higher fencing token cuts it where that lease was
//!   claimed (L2, L6): the bar ends `Superseded`;
//! - otherwise it ends at its expiry (`Expired`): the holder went quiet (crashed, stalled or
//!   cut off).
//!
//! Duplicate copies the link made (`<client>+dup`) are drawn on their client's lane; the final
//! reads of the judge (`explorer`) are not part of the run's history.

use std::collections::BTreeMap;

use procreg::{ErrorKind, ProcessLease};
use procreg_conformance::explore::timeline::describe_op;
use procreg_reference::{Op, OpOutput};
use procreg_sim::world::START_MS;
use procreg_sim::{CallId, CallRecord, CrashEvent, LinkFault, RunReport};

/// How a lease bar ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarEnd {
    /// Released by its holder.
    Released,
    /// A higher fencing token was issued for the process.
    Superseded,
    /// It ran out.
    Expired,
}

/// One lease, as a bar on its holder's lane. Times are ms since the start of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    /// The leased process.
    pub process_id: String,
    /// The lease's fencing token.
    pub fence: u64,
    /// The owner id the lease was claimed under.
    pub owner: String,
    /// Its lease token (to match releases).
    pub lease_token: String,
    /// Start, ms since the start of the run.
    pub from_ms: u64,
    /// End, ms since the start of the run.
    pub to_ms: u64,
    /// Why it ends there.
    pub end: BarEnd,
    /// When a renewal was answered (L4), ms since the start of the run.
    pub renewals_ms: Vec<u64>,
    /// Another lease of the same process carries the same fencing token (a W3 violation).
    pub fence_reused: bool,
    /// Row within its lane (overlapping leases stack).
    pub row: usize,
}

/// What a mark on a lane means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// The call returned `Unavailable` (A2): it may or may not have taken effect.
    Unavailable,
    /// The call never returned (cancelled by a crash, or still waiting at the end).
    NoAnswer,
    /// The call was rejected with `LeaseLost` (L4): the holder was fenced off.
    LeaseLost,
    /// The call met a planned link fault.
    LinkFault(String),
    /// The worker crashed (a fresh incarnation starts).
    WorkerCrash,
    /// The explorer's judgement: this call shows a violation of these rules (`W3 D3`).
    Violation(String),
}

/// A mark on a lane at one instant, ms since the start of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at_ms: u64,
    /// What.
    pub kind: MarkKind,
    /// The call in words, for the tooltip.
    pub detail: String,
}

/// A stretch of a lane: a stall or a partition, ms since the start of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// Start.
    pub from_ms: u64,
    /// End.
    pub to_ms: u64,
    /// `stall` or `partitioned`.
    pub label: &'static str,
}

/// One client's lane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lane {
    /// The client (`w0`, `registrar`).
    pub client: String,
    /// Its leases.
    pub bars: Vec<Bar>,
    /// Rows the bars need (at least 1).
    pub rows: usize,
    /// Its marks.
    pub marks: Vec<Mark>,
    /// Its stalls and partitions.
    pub spans: Vec<Span>,
    /// When it invoked each call, for the activity ticks.
    pub calls_ms: Vec<u64>,
}

/// Everything the picture shows. Times are ms since the start of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chart {
    /// The run's length.
    pub end_ms: u64,
    /// When faults stop (the settle phase starts).
    pub faults_end_ms: u64,
    /// Registry crashes (every lane).
    pub registry_crashes: Vec<u64>,
    /// The lanes, by client name (`w2` before `w10`).
    pub lanes: Vec<Lane>,
    /// Every leased process, sorted (the colour order).
    pub processes: Vec<String>,
}

fn rel(ms: u64) -> u64 {
    ms.saturating_sub(START_MS)
}

fn lane_name(client: &str) -> &str {
    client.strip_suffix("+dup").unwrap_or(client)
}

/// Reads the chart out of a run; `violations` (rule id, call id) are marked on the lane of
/// the call that shows them.
pub fn chart(run: &RunReport, violations: &[(&str, CallId)]) -> Chart {
    let mut lanes = Lanes::default();
    let mut bars: Vec<(usize, Bar)> = Vec::new();
    let mut end_ms = rel(run.end_ms);
    let mut calls_per_client: BTreeMap<&str, u64> = BTreeMap::new();
    for call in run.history.calls() {
        let lane = lanes.of(&call.client);
        end_ms = end_ms.max(rel(call.return_ms.unwrap_or(call.invoke_ms)));
        lanes.0[lane].calls_ms.push(rel(call.invoke_ms));
        if !call.client.ends_with("+dup") {
            let count = calls_per_client.entry(&call.client).or_insert(0);
            if let Some(fault) = run.plan.link_fault(&call.client, *count) {
                lanes.0[lane].marks.push(Mark {
                    at_ms: rel(call.invoke_ms),
                    kind: MarkKind::LinkFault(fault_name(fault)),
                    detail: describe_op(&call.op),
                });
            }
            *count += 1;
        }
        read_answer(call, lane, &mut lanes, &mut bars);
    }
    cut_superseded(&mut bars);
    mark_reused_fences(&mut bars);
    mark_violations(run, violations, &mut lanes);
    let mut processes: Vec<String> = bars.iter().map(|(_, b)| b.process_id.clone()).collect();
    processes.sort();
    processes.dedup();
    for (lane, bar) in bars {
        lanes.0[lane].bars.push(bar);
    }
    add_plan_faults(run, &mut lanes);
    let mut lanes = lanes.0;
    for lane in &mut lanes {
        lane.rows = stack_rows(&mut lane.bars);
    }
    lanes.sort_by(|a, b| natural_key(&a.client).cmp(&natural_key(&b.client)));
    Chart {
        end_ms,
        faults_end_ms: run.plan.faults_end_ms,
        registry_crashes: run.registry_crashes.iter().map(|&at| rel(at)).collect(),
        lanes,
        processes,
    }
}

/// The lanes being built, one per client (duplicate copies folded into their client).
#[derive(Default)]
struct Lanes(Vec<Lane>);

impl Lanes {
    /// The index of `client`'s lane, made on first use.
    fn of(&mut self, client: &str) -> usize {
        let name = lane_name(client);
        if let Some(i) = self.0.iter().position(|l| l.client == name) {
            return i;
        }
        self.0.push(Lane {
            client: name.to_owned(),
            rows: 1,
            ..Lane::default()
        });
        self.0.len() - 1
    }
}

/// What one call's answer adds: a mark (no answer, `Unavailable`, `LeaseLost`), a lease bar
/// opened or extended (L2, L4), or a bar cut by its release (L5).
fn read_answer(call: &CallRecord, lane: usize, lanes: &mut Lanes, bars: &mut Vec<(usize, Bar)>) {
    let at_ms = rel(call.return_ms.unwrap_or(call.invoke_ms));
    let mark = |kind| Mark {
        at_ms,
        kind,
        detail: describe_op(&call.op),
    };
    match call.outcome() {
        None => lanes.0[lane].marks.push(mark(MarkKind::NoAnswer)),
        Some(Err(e)) if e.kind() == ErrorKind::Unavailable => {
            lanes.0[lane].marks.push(mark(MarkKind::Unavailable));
        }
        Some(Err(e)) if e.kind() == ErrorKind::LeaseLost => {
            lanes.0[lane].marks.push(mark(MarkKind::LeaseLost));
        }
        Some(Ok(OpOutput::Lease(lease))) => {
            // One bar per lease: a broken registry may issue one fence twice (W3), so the
            // owner and token tell two leases apart, not the fence alone.
            let found = bars.iter_mut().find(|(_, b)| {
                b.process_id == lease.process_id
                    && b.fence == lease.fencing_token
                    && b.owner == lease.owner_id
                    && b.lease_token == lease.lease_token
            });
            match found {
                Some((_, bar)) => {
                    bar.to_ms = bar.to_ms.max(rel(lease.expires_at_ms));
                    if matches!(*call.op, Op::RenewLease { .. }) {
                        bar.renewals_ms.push(at_ms);
                    }
                }
                None => bars.push((lane, new_bar(lease))),
            }
        }
        Some(Ok(_)) => {
            if let Op::CompleteLease { completion } = &*call.op {
                let released = bars.iter_mut().filter(|(_, b)| {
                    b.process_id == completion.process_id && b.lease_token == completion.lease_token
                });
                for (_, bar) in released {
                    if at_ms < bar.to_ms {
                        bar.to_ms = at_ms.max(bar.from_ms);
                        bar.end = BarEnd::Released;
                    }
                }
            }
        }
        Some(Err(_)) => {}
    }
}

fn new_bar(lease: &ProcessLease) -> Bar {
    Bar {
        process_id: lease.process_id.clone(),
        fence: lease.fencing_token,
        owner: lease.owner_id.clone(),
        lease_token: lease.lease_token.clone(),
        from_ms: rel(lease.claimed_at_ms),
        to_ms: rel(lease.expires_at_ms),
        end: BarEnd::Expired,
        renewals_ms: Vec::new(),
        fence_reused: false,
        row: 0,
    }
}

/// One mark per call a violation names, listing its rules once each (`W3 D3`).
fn mark_violations(run: &RunReport, violations: &[(&str, CallId)], lanes: &mut Lanes) {
    let mut by_call: BTreeMap<CallId, Vec<&str>> = BTreeMap::new();
    for &(rule, id) in violations {
        let rules = by_call.entry(id).or_default();
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    for (id, rules) in by_call {
        if let Some(call) = run.history.calls().get(id) {
            let lane = lanes.of(&call.client);
            lanes.0[lane].marks.push(Mark {
                at_ms: rel(call.return_ms.unwrap_or(call.invoke_ms)),
                kind: MarkKind::Violation(rules.join(" ")),
                detail: format!("call #{id}: {}", describe_op(&call.op)),
            });
        }
    }
}

/// L2 / L6: a lease ends where a higher fencing token for its process was claimed.
fn cut_superseded(bars: &mut [(usize, Bar)]) {
    let claims: Vec<(String, u64, u64)> = bars
        .iter()
        .map(|(_, b)| (b.process_id.clone(), b.fence, b.from_ms))
        .collect();
    for (_, bar) in bars.iter_mut() {
        let next = claims
            .iter()
            .filter(|(p, fence, _)| *p == bar.process_id && *fence > bar.fence)
            .map(|(_, _, from)| *from)
            .min();
        if let Some(next) = next
            && next < bar.to_ms
        {
            bar.to_ms = next.max(bar.from_ms);
            bar.end = BarEnd::Superseded;
        }
    }
}

/// W3: two leases of one process with one fencing token both get flagged.
fn mark_reused_fences(bars: &mut [(usize, Bar)]) {
    let keys: Vec<(String, u64)> = bars
        .iter()
        .map(|(_, b)| (b.process_id.clone(), b.fence))
        .collect();
    for (_, bar) in bars.iter_mut() {
        let same = keys
            .iter()
            .filter(|(p, f)| *p == bar.process_id && *f == bar.fence)
            .count();
        bar.fence_reused = same > 1;
    }
}

/// Worker crashes and stalls (on lane `w<n>`) and partitions (on their client's lane).
fn add_plan_faults(run: &RunReport, lanes: &mut Lanes) {
    for crash in &run.plan.crashes {
        match crash {
            CrashEvent::Worker { worker, at_ms } => {
                let lane = lanes.of(&format!("w{worker}"));
                lanes.0[lane].marks.push(Mark {
                    at_ms: *at_ms,
                    kind: MarkKind::WorkerCrash,
                    detail: format!("worker w{worker} crashes; a fresh incarnation starts"),
                });
            }
            CrashEvent::Stall {
                worker,
                at_ms,
                for_ms,
            } => {
                let lane = lanes.of(&format!("w{worker}"));
                lanes.0[lane].spans.push(Span {
                    from_ms: *at_ms,
                    to_ms: at_ms + for_ms,
                    label: "stall",
                });
            }
            CrashEvent::Registry { .. } => {}
        }
    }
    for partition in &run.plan.partitions {
        let lane = lanes.of(&partition.client);
        lanes.0[lane].spans.push(Span {
            from_ms: partition.from_ms,
            to_ms: partition.until_ms,
            label: "partitioned",
        });
    }
}

/// Assigns rows so bars on one row never overlap; returns the rows used (at least 1).
fn stack_rows(bars: &mut [Bar]) -> usize {
    bars.sort_by_key(|b| (b.from_ms, b.fence));
    let mut row_ends: Vec<u64> = Vec::new();
    for bar in bars.iter_mut() {
        let row = row_ends.iter().position(|&end| end <= bar.from_ms);
        bar.row = row.unwrap_or(row_ends.len());
        match row {
            Some(r) => row_ends[r] = bar.to_ms,
            None => row_ends.push(bar.to_ms),
        }
    }
    row_ends.len().max(1)
}

/// `w10` after `w9`: the name without its trailing digits, then their value.
fn natural_key(name: &str) -> (&str, u64) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    (stem, name[stem.len()..].parse().unwrap_or(0))
}

fn fault_name(fault: &LinkFault) -> String {
    match fault {
        LinkFault::Delay { delay_ms } => format!("delayed {delay_ms}ms"),
        LinkFault::DropRequest => "request dropped".to_owned(),
        LinkFault::DropResponse => "response dropped".to_owned(),
        LinkFault::Duplicate => "duplicated".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use procreg::ProcessLeaseCompletion;
    use procreg_conformance::explore::{find_workload, run_seed};
    use procreg_sim::{FaultLevel, History, MemoryTarget};

    fn lease(process: &str, fence: u64, owner: &str, from: u64, to: u64) -> ProcessLease {
        ProcessLease {
            process_id: process.into(),
            owner_id: owner.into(),
            lease_token: format!("lease-{owner}"),
            fencing_token: fence,
            claimed_at_ms: START_MS + from,
            expires_at_ms: START_MS + to,
        }
    }

    fn claim(history: &mut History, client: &str, at: u64, granted: ProcessLease) -> CallId {
        let op = Op::ClaimLease {
            process_id: granted.process_id.clone(),
            owner_id: granted.owner_id.clone(),
            lease_ttl_ms: 100,
        };
        let id = history.invoke(client, op, START_MS + at, 0);
        history.complete(id, Ok(OpOutput::Lease(granted)), START_MS + at + 1);
        id
    }

    /// A real run's report with `history` in place of its own.
    fn run_with(history: History) -> RunReport {
        let workload = find_workload("events").unwrap();
        let mut run = run_seed(workload, &mut MemoryTarget, 0, FaultLevel::None)
            .run
            .unwrap();
        run.history = history;
        run.plan.crashes.clear();
        run.plan.partitions.clear();
        run.plan.link.clear();
        run
    }

    fn bars(chart: &Chart) -> Vec<&Bar> {
        chart.lanes.iter().flat_map(|l| &l.bars).collect()
    }

    #[test]
    fn l5_a_release_cuts_the_bar_and_l2_a_higher_fence_supersedes() {
        let mut history = History::new();
        let first = lease("p1", 1, "a", 0, 100);
        claim(&mut history, "w0", 0, first.clone());
        let release = Op::CompleteLease {
            completion: ProcessLeaseCompletion::from(&first),
        };
        let id = history.invoke("w0", release, START_MS + 40, 0);
        history.complete(id, Ok(OpOutput::Unit), START_MS + 42);
        claim(&mut history, "w1", 10, lease("p2", 1, "b", 10, 110));
        claim(&mut history, "w2", 60, lease("p2", 2, "c", 60, 160));
        let chart = chart(&run_with(history), &[]);
        let bars = bars(&chart);
        let find = |p: &str, f: u64| {
            *bars
                .iter()
                .find(|b| b.process_id == p && b.fence == f)
                .unwrap()
        };
        assert_eq!(
            (find("p1", 1).to_ms, find("p1", 1).end),
            (42, BarEnd::Released)
        );
        assert_eq!(
            (find("p2", 1).to_ms, find("p2", 1).end),
            (60, BarEnd::Superseded)
        );
        assert_eq!(
            (find("p2", 2).to_ms, find("p2", 2).end),
            (160, BarEnd::Expired)
        );
        assert_eq!(chart.processes, ["p1", "p2"]);
    }

    #[test]
    fn w3_one_fence_given_to_two_owners_is_two_flagged_bars_and_violations_are_marked() {
        let mut history = History::new();
        claim(&mut history, "w0", 0, lease("p1", 1, "a", 0, 100));
        let second = claim(&mut history, "w1", 150, lease("p1", 1, "b", 150, 250));
        let chart = chart(&run_with(history), &[("W3", second), ("D3", second)]);
        let bars = bars(&chart);
        assert_eq!(bars.len(), 2, "{bars:?}");
        assert!(bars.iter().all(|b| b.fence_reused));
        let w1 = chart.lanes.iter().find(|l| l.client == "w1").unwrap();
        assert!(
            w1.marks
                .iter()
                .any(|m| m.kind == MarkKind::Violation("W3 D3".into()) && m.at_ms == 151),
            "{:?}",
            w1.marks
        );
    }

    #[test]
    fn l4_renewals_extend_one_bar_and_overlapping_leases_stack_in_rows() {
        let mut history = History::new();
        let held = lease("p1", 1, "a", 0, 100);
        claim(&mut history, "w0", 0, held.clone());
        let renew = Op::RenewLease {
            lease: held.clone(),
            lease_ttl_ms: 100,
        };
        let id = history.invoke("w0", renew, START_MS + 50, 0);
        let renewed = ProcessLease {
            expires_at_ms: START_MS + 150,
            ..held
        };
        history.complete(id, Ok(OpOutput::Lease(renewed)), START_MS + 51);
        claim(&mut history, "w0", 120, lease("p2", 1, "a2", 120, 220));
        let chart = chart(&run_with(history), &[]);
        let w0 = &chart.lanes[0];
        assert_eq!(w0.bars.len(), 2);
        assert_eq!(
            (w0.bars[0].to_ms, &w0.bars[0].renewals_ms[..]),
            (150, &[51][..])
        );
        assert_eq!((w0.rows, w0.bars[1].row), (2, 1));
    }
}
