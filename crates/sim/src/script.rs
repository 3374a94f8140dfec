//! The fixed call script the simulator's overhead is measured with: the same calls run straight
//! on a registry and through the world, by the `world_overhead` criterion bench and by
//! `procreg bench`, so both report the same ratio.

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType, ProcessRegistration,
    ProcessScope,
};
use procreg_reference::Op;
use serde_json::json;

/// 10 processes x (register, claim, 16 appends, list, complete) = 200 calls, every one of which
/// succeeds on an empty registry.
pub fn overhead_script() -> Vec<Op> {
    let mut ops = Vec::new();
    for p in 0..10 {
        let id = format!("p{p}");
        let registration = ProcessRegistration::new(&id, ProcessScope::session("s"), "h")
            .with_event_type(ProcessEventType::plain("progress"));
        ops.push(Op::Register { registration });
        ops.push(Op::ClaimLease {
            process_id: id.clone(),
            owner_id: "w".into(),
            lease_ttl_ms: 60_000,
        });
        for i in 0..16 {
            let request = ProcessEventAppendRequest::new("progress", json!({ "i": i }));
            ops.push(Op::AppendEvent {
                process_id: id.clone(),
                request,
            });
        }
        ops.push(Op::ListNonTerminal);
        let output = ProcessAwaitOutput::Success { value: json!(p) };
        ops.push(Op::CompleteProcess {
            process_id: id,
            output,
        });
    }
    ops
}
