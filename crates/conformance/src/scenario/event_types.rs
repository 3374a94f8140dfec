//! The short form of `register ... types=`: `note,done:completed,ping:wake(input=/msg)`, so a
//! registration's event types (R1, R2, E7) fit on its line. A JSON array of event types is
//! accepted too, for the shapes the short form cannot write.

use procreg::{ProcessEventType, ProcessTerminalState, ProcessWakeSpec, WakeDedupeKey};

use super::values::parse_word;

/// `types=` as a JSON array of event types, or the short form `note,done:completed,ping:wake(..)`.
pub(crate) fn parse_types(text: &str) -> Result<Vec<ProcessEventType>, String> {
    if text.starts_with('[') {
        return serde_json::from_str(text).map_err(|e| format!("types: not event types: {e}"));
    }
    if text.is_empty() {
        return Ok(Vec::new());
    }
    split_top(text, ',')
        .iter()
        .map(|t| match t.trim() {
            "" => Err(format!("types `{text}` has an empty item")),
            t => parse_type(t),
        })
        .collect()
}

fn parse_type(text: &str) -> Result<ProcessEventType, String> {
    let (head, options) = match text.find('(') {
        Some(open) if text.ends_with(')') => (&text[..open], Some(&text[open + 1..text.len() - 1])),
        Some(_) => return Err(format!("type `{text}`: options end with `)`")),
        None => (text, None),
    };
    let (name, kind) = match head.rfind(':') {
        Some(at) if !head.starts_with('"') || head[..at].ends_with('"') => {
            (parse_word(&head[..at])?, &head[at + 1..])
        }
        _ => (parse_word(head)?, "plain"),
    };
    let state = match kind {
        "plain" | "wake" => None,
        "completed" => Some(ProcessTerminalState::Completed),
        "failed" => Some(ProcessTerminalState::Failed),
        "cancelled" => Some(ProcessTerminalState::Cancelled),
        other => {
            return Err(format!(
                "type `{name}`: unknown kind `{other}` (plain, completed, failed, cancelled, wake)"
            ));
        }
    };
    match (kind, options) {
        ("wake", options) => Ok(ProcessEventType::waking(
            name,
            parse_wake(options.unwrap_or(""))?,
        )),
        (_, Some(_)) => Err(format!("type `{name}`: only wake types take (options)")),
        (_, None) => Ok(ProcessEventType {
            name,
            terminal: state,
            wake: None,
        }),
    }
}

fn parse_wake(options: &str) -> Result<ProcessWakeSpec, String> {
    let mut spec = ProcessWakeSpec {
        when: None,
        input: String::new(),
        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    for option in split_top(options, ',') {
        let option = option.trim();
        if option.is_empty() {
            continue;
        }
        let (key, value) = option
            .split_once('=')
            .ok_or_else(|| format!("wake option `{option}` is not key=value"))?;
        let value = parse_word(value.trim())?;
        match key.trim() {
            "input" => spec.input = value,
            "when" => spec.when = Some(value),
            "dedupe" => spec.dedupe_key = parse_dedupe(&value)?,
            other => {
                return Err(format!(
                    "unknown wake option `{other}` (input, when, dedupe)"
                ));
            }
        }
    }
    Ok(spec)
}

fn parse_dedupe(value: &str) -> Result<WakeDedupeKey, String> {
    if value == "identity" {
        Ok(WakeDedupeKey::EventIdentity)
    } else if let Some(pointer) = value.strip_prefix("pointer:") {
        Ok(WakeDedupeKey::Pointer(pointer.into()))
    } else if let Some(constant) = value.strip_prefix("const:") {
        Ok(WakeDedupeKey::Const(constant.into()))
    } else {
        Err(format!(
            "dedupe `{value}`: write identity, pointer:/ptr or const:KEY"
        ))
    }
}

/// Splits at `sep` outside quotes and brackets.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quoted, mut escaped) =
        (Vec::new(), String::new(), 0i32, false, false);
    for c in text.chars() {
        if quoted {
            quoted = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
        } else if c == '"' {
            quoted = true;
        } else if "([{".contains(c) {
            depth += 1;
        } else if ")]}".contains(c) {
            depth -= 1;
        } else if c == sep && depth == 0 {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    parts.push(current);
    parts
}
