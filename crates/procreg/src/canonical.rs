//! Canonical JSON and hashing (J1, E9, R2).
//!
//! Canonical JSON is compact text with object keys sorted by byte order at every depth. It is
//! written here by hand rather than trusting `serde_json`'s map order, because a `preserve_order`
//! feature switched on anywhere in a user's dependency graph would silently change it.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::scope::ProcessScope;

/// The canonical JSON text of `value` (J1).
///
/// ```
/// let v = serde_json::json!({"b": 1, "a": [1.0, {"d": null, "c": -0.0}]});
/// assert_eq!(procreg::canonical::to_canonical_json(&v), r#"{"a":[1.0,{"c":-0.0,"d":null}],"b":1}"#);
/// ```
pub fn to_canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    // serde_json writes UTF-8 only; the lossy path is never taken.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes `value` canonically. Keys and scalars go through serde_json's compact writer, the
/// one `Value`'s `Display` uses, straight into `out` (this runs on every registration and
/// every JSON comparison, so it allocates nothing per item).
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            if map.keys().is_sorted_by(|a, b| a.as_bytes() <= b.as_bytes()) {
                write_entries(map.iter(), out);
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                write_entries(entries.into_iter(), out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_compact(scalar, out),
    }
}

fn write_entries<'a>(entries: impl Iterator<Item = (&'a String, &'a Value)>, out: &mut Vec<u8>) {
    for (i, (key, item)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(key, out);
        out.push(b':');
        write_canonical(item, out);
    }
}

/// A scalar in serde_json's compact form (the bytes of its `Display`); writing into a `Vec`
/// cannot fail, and were it to, `Display` is the fallback.
fn write_compact(scalar: &Value, out: &mut Vec<u8>) {
    if serde_json::to_writer(&mut *out, scalar).is_err() {
        out.extend_from_slice(scalar.to_string().as_bytes());
    }
}

/// An object key as a JSON string, as [`write_compact`] writes one.
fn write_key(key: &str, out: &mut Vec<u8>) {
    if serde_json::to_writer(&mut *out, key).is_err() {
        out.extend_from_slice(Value::String(key.to_owned()).to_string().as_bytes());
    }
}

/// Whether two JSON values are equal under J1 (byte-equal canonical texts).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    to_canonical_json(a) == to_canonical_json(b)
}

/// The canonical JSON of any serializable value. Serialization of the contract's own types
/// cannot fail; a failing user type hashes its error text instead of panicking.
pub fn canonical_json_of<T: Serialize + ?Sized>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(v) => to_canonical_json(&v),
        Err(e) => format!("\"<unserializable: {e}>\""),
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// hash(x): the lowercase hex SHA-256 of the canonical JSON of `x` (J1).
pub fn hash<T: Serialize + ?Sized>(value: &T) -> String {
    sha256_hex(canonical_json_of(value).as_bytes())
}

/// The wake id of a delivery to `target` with `dedupe_key` (E9).
pub fn wake_id(target: &ProcessScope, dedupe_key: &str) -> String {
    format!(
        "wake:{}",
        sha256_hex(format!("{}\n{}", target.id(), dedupe_key).as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = json!({"z": {"b": 1, "a": 2}, "a": []});
        assert_eq!(to_canonical_json(&v), r#"{"a":[],"z":{"a":2,"b":1}}"#);
    }

    #[test]
    fn canonical_json_writes_strings_and_numbers_as_serde_json_does() {
        // Keys already in byte order, so serde_json's own compact text is the canonical one.
        let v = json!({"\u{0}a\n\"\\": "\u{1f}é\u{2028}😀", "b": [1, -1, 1.5, -0.0, 1e300, u64::MAX, i64::MIN], "c": {"x": null, "y": true}});
        assert_eq!(to_canonical_json(&v), v.to_string());
    }

    #[test]
    fn j1_distinguishes_integer_and_float() {
        assert!(!json_eq(&json!(1), &json!(1.0)));
        assert!(!json_eq(&json!(0.0), &json!(-0.0)));
        assert!(json_eq(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})));
    }

    #[test]
    fn e9_wake_id_depends_on_target_and_key_only() {
        let a = wake_id(&ProcessScope::session("s"), "k");
        assert_eq!(a, wake_id(&ProcessScope::session("s"), "k"));
        assert_ne!(a, wake_id(&ProcessScope::frame("s", "f"), "k"));
        assert!(a.starts_with("wake:") && a.len() == 5 + 64);
        assert_eq!(&a[5..], sha256_hex(b"session:s\nk"));
    }
}
