//! procreg's madsim cluster mode: the explorer's `recovery` and `grants` workloads and every
//! checker of the core world, run across simulated nodes by [madsim](https://github.com/madsim-rs/madsim).
//!
//! Built only with `RUSTFLAGS="--cfg madsim"`; without the cfg this crate is empty, so the
//! workspace's ordinary `cargo clippy --workspace` builds it to nothing.
//!
//! Why it exists: the core world (`procreg-sim`) runs clients and registry on one seeded
//! executor with a modelled link. This mode puts them on separate madsim nodes instead: a
//! registry server node serving any [`SimTarget`](procreg_sim::SimTarget) over madsim's network
//! (every request and answer serialized with serde_json, [`wire`]), client nodes running the
//! workload's unchanged clients (the recovery protocol's workers, the grants racers) with
//! timeouts and retries, packet loss and latency from madsim's network
//! simulator, partitions (clog / unclog), stalls (pause / resume), and kill / restart of the
//! server node over a `SimStorage` that outlives it. Because madsim also intercepts the wall
//! clock (`SystemTime`, `Instant`), a backend that reads time directly instead of its injected
//! clock becomes deterministic here, which the core world cannot offer ([`broken`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`wire`] | the request / response format (serde_json of `Op` / `OpOutput`), round-trip checked |
//! | [`clock`] | [`MadsimClock`](clock::MadsimClock): madsim's virtual time as a procreg `Clock` |
//! | `cluster` | one run's shared state, handed to nodes through a thread-local |
//! | `server` | the registry server node: open or reopen, probe, serve |
//! | `transport` | the workers' side: one request per call, timeout, history |
//! | [`run`] | one seed: plan, nodes, faults, judge (the core world's checkers) |
//! | [`sweep`] | seeds from `MADSIM_TEST_SEED` / `MADSIM_TEST_NUM`, determinism check |
//! | [`broken`] | broken registries this mode must find |
#![deny(missing_docs)]
// Without the cfg the modules these docs link to do not exist.
#![cfg_attr(not(madsim), allow(rustdoc::broken_intra_doc_links))]

#[cfg(madsim)]
pub mod broken;
#[cfg(madsim)]
pub mod clock;
#[cfg(madsim)]
mod cluster;
#[cfg(madsim)]
pub mod run;
#[cfg(madsim)]
mod server;
#[cfg(madsim)]
pub mod sweep;
#[cfg(madsim)]
mod transport;
#[cfg(madsim)]
pub mod wire;
