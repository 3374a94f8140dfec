//! The wire format between client nodes and the registry server: one JSON document per
//! message (serde_json of the reference crate's [`Op`] and of `Result<OpOutput, PluginError>`),
//! sent as one madsim datagram on a fixed tag.
//!
//! Why JSON: it is what a real remote registry would most likely speak, and sending every
//! model type through it in every run checks that their serde derives round-trip exactly. Each
//! side re-decodes what it encodes and reports a message that does not come back equal
//! ([`round_trip`]), so a lossy derive is a failure of the run (rule `wire`), not a silent
//! change of what the checkers see.

use procreg::PluginError;
use procreg_reference::{Op, OpOutput};
use procreg_sim::CallId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The madsim tag requests are sent on.
pub const REQUEST_TAG: u64 = 1;
/// The madsim tag answers are sent on.
pub const RESPONSE_TAG: u64 = 2;

/// A client's request: run `op`, recorded as call `call` of the run's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The call's index in the history (the server stamps its epoch on it).
    pub call: CallId,
    /// What to run.
    pub op: Op,
}

/// The server's answer to [`Request`] `call`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The request's call index.
    pub call: CallId,
    /// The server incarnation that ran it.
    pub epoch: u32,
    /// What the registry answered.
    pub outcome: Result<OpOutput, PluginError>,
}

/// Why a message could not be sent or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decodes one message.
///
/// # Errors
/// The bytes are not a JSON document of `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    serde_json::from_slice(bytes).map_err(|e| WireError(format!("undecodable message: {e}")))
}

/// Encodes `message` and checks that it decodes back equal.
///
/// # Errors
/// Encoding failed, or the decoded message differs (a lossy serde derive).
pub fn round_trip<T>(message: &T) -> Result<Vec<u8>, WireError>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = serde_json::to_vec(message).map_err(|e| WireError(format!("unencodable: {e}")))?;
    let back: T = decode(&bytes)?;
    if &back != message {
        return Err(WireError(format!(
            "message does not survive serde_json: sent {message:?}, read back {back:?}"
        )));
    }
    Ok(bytes)
}
