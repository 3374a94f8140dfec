//! The same durable lifecycle on SQLite (WAL, `synchronous=FULL`), one transaction per call,
//! with the checks a real registry makes inside each transaction (unknown process, live lease
//! held by another owner, next dense sequence, terminal once). It is the yardstick the
//! FileRegistry is measured against, not a registry offered to users.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;

/// Schema of the yardstick: one row per process, per event, per lease.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS processes (
  id TEXT PRIMARY KEY NOT NULL,
  registration_hash TEXT NOT NULL,
  record_json TEXT NOT NULL,
  state TEXT NOT NULL,
  last_sequence INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  process_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  replay_key TEXT,
  occurred_at_ms INTEGER NOT NULL,
  PRIMARY KEY (process_id, sequence)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_replay ON events(process_id, replay_key)
  WHERE replay_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS leases (
  process_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT,
  lease_token TEXT,
  fencing_token INTEGER NOT NULL,
  claimed_at_ms INTEGER,
  expires_at_ms INTEGER
) WITHOUT ROWID;
";

/// A SQLite connection doing the lifecycle mix.
pub struct SqliteMix {
    conn: Connection,
}

impl SqliteMix {
    /// Opens (creating) the database at `path` in WAL mode with `synchronous=FULL`.
    ///
    /// # Errors
    /// Any SQLite error.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// register, claim, append, complete: four committed transactions.
    ///
    /// # Errors
    /// Any SQLite error, or a logical refusal reported as `QueryReturnedNoRows`.
    pub fn lifecycle(
        &mut self,
        process_id: &str,
        owner_id: &str,
        now_ms: u64,
    ) -> rusqlite::Result<()> {
        self.register(process_id, now_ms)?;
        self.claim(process_id, owner_id, now_ms, 30_000)?;
        self.append(
            process_id,
            "progress",
            &json!({ "pct": 50 }).to_string(),
            None,
            now_ms,
        )?;
        let payload = json!({ "await_output": { "type": "success", "value": "done" } }).to_string();
        let key = format!("process:{process_id}:terminal");
        self.append(
            process_id,
            "process.completed",
            &payload,
            Some(&key),
            now_ms,
        )?;
        Ok(())
    }

    fn register(&mut self, process_id: &str, now_ms: u64) -> rusqlite::Result<()> {
        let record = serde_json::to_string(&crate::registration(process_id)).unwrap_or_default();
        let hash = procreg::canonical::sha256_hex(record.as_bytes());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT registration_hash FROM processes WHERE id = ?1",
                [process_id],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(h) if h != hash => return Err(rusqlite::Error::QueryReturnedNoRows),
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO processes VALUES (?1, ?2, ?3, 'running', 0, ?4)",
                    params![process_id, hash, record, now_ms as i64],
                )?;
            }
        }
        tx.commit()
    }

    fn claim(
        &mut self,
        process_id: &str,
        owner_id: &str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state: String = tx.query_row(
            "SELECT state FROM processes WHERE id = ?1",
            [process_id],
            |r| r.get(0),
        )?;
        if state != "running" {
            return Err(rusqlite::Error::QueryReturnedNoRows);
        }
        let lease: Option<(Option<String>, i64, Option<i64>)> = tx
            .query_row(
                "SELECT owner_id, fencing_token, expires_at_ms FROM leases WHERE process_id = ?1",
                [process_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let fence = match lease {
            Some((Some(owner), _, Some(expires)))
                if expires as u64 > now_ms && owner != owner_id =>
            {
                return Err(rusqlite::Error::QueryReturnedNoRows);
            }
            Some((_, fence, _)) => fence + 1,
            None => 1,
        };
        tx.execute(
            "INSERT INTO leases VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(process_id) DO UPDATE SET owner_id = ?2, lease_token = ?3,
               fencing_token = ?4, claimed_at_ms = ?5, expires_at_ms = ?6",
            params![
                process_id,
                owner_id,
                format!("lt-{fence}"),
                fence,
                now_ms as i64,
                (now_ms + ttl_ms) as i64
            ],
        )?;
        tx.commit()
    }

    fn append(
        &mut self,
        process_id: &str,
        event_type: &str,
        payload: &str,
        replay_key: Option<&str>,
        now_ms: u64,
    ) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(key) = replay_key {
            let replayed: Option<i64> = tx
                .query_row(
                    "SELECT sequence FROM events WHERE process_id = ?1 AND replay_key = ?2",
                    params![process_id, key],
                    |r| r.get(0),
                )
                .optional()?;
            if replayed.is_some() {
                return tx.commit();
            }
        }
        let (state, last): (String, i64) = tx.query_row(
            "SELECT state, last_sequence FROM processes WHERE id = ?1",
            [process_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let terminal =
            event_type.starts_with("process.") && event_type != "process.cancel_requested";
        if terminal && state != "running" {
            return Err(rusqlite::Error::QueryReturnedNoRows);
        }
        let sequence = last + 1;
        tx.execute(
            "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                process_id,
                sequence,
                event_type,
                payload,
                replay_key,
                now_ms as i64
            ],
        )?;
        let new_state = if terminal {
            "completed"
        } else {
            state.as_str()
        };
        tx.execute(
            "UPDATE processes SET last_sequence = ?2, state = ?3, updated_at_ms = ?4 WHERE id = ?1",
            params![process_id, sequence, new_state, now_ms as i64],
        )?;
        tx.commit()
    }
}
