//! Benchmark workloads shared by the criterion benches: the durable "lifecycle" mix
//! (register, claim, append, complete) run against FileRegistry and against a SQLite registry
//! with the table layout a registry backend would choose, so their throughput can be compared
//! side by side in one run.
#![deny(missing_docs)]

pub mod sqlite;

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType, ProcessRegistration,
    ProcessRegistry, ProcessScope,
};
use serde_json::json;

/// The event type every benchmark process declares and appends once.
pub const PROGRESS: &str = "progress";

/// The registration every benchmark process uses.
pub fn registration(process_id: &str) -> ProcessRegistration {
    ProcessRegistration::new(process_id, ProcessScope::session("bench"), "bench-host")
        .with_input(json!({ "job": process_id }))
        .with_event_type(ProcessEventType::plain(PROGRESS))
}

/// One durable lifecycle through the `ProcessRegistry` trait: register, claim, append one
/// event, complete. Four acknowledged writes.
///
/// # Errors
/// The first error any call returns.
pub async fn lifecycle<R: ProcessRegistry + ?Sized>(
    registry: &R,
    process_id: &str,
    owner_id: &str,
) -> Result<(), procreg::PluginError> {
    registry.register_process(registration(process_id)).await?;
    registry
        .claim_process_lease(process_id, owner_id, 30_000)
        .await?;
    registry
        .append_event(
            process_id,
            ProcessEventAppendRequest::new(PROGRESS, json!({ "pct": 50 })),
        )
        .await?;
    registry
        .complete_process(
            process_id,
            ProcessAwaitOutput::Success {
                value: json!("done"),
            },
        )
        .await?;
    Ok(())
}
