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

use procreg::ErrorKind;
use procreg_reference::{Op, OpOutput};
use procreg_sim::world::START_MS;
use procreg_sim::{CrashEvent, LinkFault, RunReport};

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

/// Reads the chart out of a run.
pub fn chart(run: &RunReport) -> Chart {
    let mut lanes: Vec<Lane> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut lane_of = |client: &str, lanes: &mut Vec<Lane>| -> usize {
        let name = lane_name(client);
        *index.entry(name.to_owned()).or_insert_with(|| {
            lanes.push(Lane {
                client: name.to_owned(),
                rows: 1,
                ..Lane::default()
            });
            lanes.len() - 1
        })
    };
    let mut bars: Vec<(usize, Bar)> = Vec::new();
    let mut end_ms = rel(run.end_ms);
    let mut per_client_calls: BTreeMap<&str, u64> = BTreeMap::new();
    for call in run.history.calls() {
        let lane = lane_of(&call.client, &mut lanes);
        let invoked = rel(call.invoke_ms);
        let returned = call.return_ms.map(rel);
        end_ms = end_ms.max(returned.unwrap_or(invoked));
        lanes[lane].calls_ms.push(invoked);
        let detail = procreg_conformance::explore::timeline::describe_op(&call.op);
        if !call.client.ends_with("+dup") {
            let count = per_client_calls.entry(&call.client).or_insert(0);
            if let Some(fault) = run.plan.link_fault(&call.client, *count) {
                lanes[lane].marks.push(Mark {
                    at_ms: invoked,
                    kind: MarkKind::LinkFault(fault_name(fault)),
                    detail: detail.clone(),
                });
            }
            *count += 1;
        }
        let mark = |kind| Mark {
            at_ms: returned.unwrap_or(invoked),
            kind,
            detail: detail.clone(),
        };
        match &call.outcome {
            None => lanes[lane].marks.push(mark(MarkKind::NoAnswer)),
            Some(Err(e)) if e.kind() == ErrorKind::Unavailable => {
                lanes[lane].marks.push(mark(MarkKind::Unavailable));
            }
            Some(Err(e)) if e.kind() == ErrorKind::LeaseLost => {
                lanes[lane].marks.push(mark(MarkKind::LeaseLost));
            }
            Some(Ok(OpOutput::Lease(lease))) => {
                let found = bars.iter_mut().find(|(_, b)| {
                    b.process_id == lease.process_id && b.fence == lease.fencing_token
                });
                match found {
                    Some((_, bar)) => {
                        bar.to_ms = bar.to_ms.max(rel(lease.expires_at_ms));
                        if matches!(call.op, Op::RenewLease { .. }) {
                            bar.renewals_ms.push(returned.unwrap_or(invoked));
                        }
                    }
                    None => bars.push((
                        lane,
                        Bar {
                            process_id: lease.process_id.clone(),
                            fence: lease.fencing_token,
                            owner: lease.owner_id.clone(),
                            lease_token: lease.lease_token.clone(),
                            from_ms: rel(lease.claimed_at_ms),
                            to_ms: rel(lease.expires_at_ms),
                            end: BarEnd::Expired,
                            renewals_ms: Vec::new(),
                            row: 0,
                        },
                    )),
                }
            }
            Some(Ok(_)) => {
                if let Op::CompleteLease { completion } = &call.op {
                    let at = returned.unwrap_or(invoked);
                    for (_, bar) in bars.iter_mut().filter(|(_, b)| {
                        b.process_id == completion.process_id
                            && b.lease_token == completion.lease_token
                    }) {
                        if at < bar.to_ms {
                            bar.to_ms = at.max(bar.from_ms);
                            bar.end = BarEnd::Released;
                        }
                    }
                }
            }
            Some(Err(_)) => {}
        }
    }
    cut_superseded(&mut bars);
    let mut processes: Vec<String> = bars.iter().map(|(_, b)| b.process_id.clone()).collect();
    processes.sort();
    processes.dedup();
    for (lane, bar) in bars {
        lanes[lane].bars.push(bar);
    }
    add_plan_faults(run, &mut lanes, &mut lane_of);
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

/// Worker crashes and stalls (on lane `w<n>`) and partitions (on their client's lane).
fn add_plan_faults(
    run: &RunReport,
    lanes: &mut Vec<Lane>,
    lane_of: &mut impl FnMut(&str, &mut Vec<Lane>) -> usize,
) {
    for crash in &run.plan.crashes {
        match crash {
            CrashEvent::Worker { worker, at_ms } => {
                let lane = lane_of(&format!("w{worker}"), lanes);
                lanes[lane].marks.push(Mark {
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
                let lane = lane_of(&format!("w{worker}"), lanes);
                lanes[lane].spans.push(Span {
                    from_ms: *at_ms,
                    to_ms: at_ms + for_ms,
                    label: "stall",
                });
            }
            CrashEvent::Registry { .. } => {}
        }
    }
    for partition in &run.plan.partitions {
        let lane = lane_of(&partition.client, lanes);
        lanes[lane].spans.push(Span {
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
