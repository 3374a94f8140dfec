//! How values are written in scenario files: words, quoted strings, scopes, lists and JSON, and
//! how answers are written back (so bless and failure messages use the file's own notation).
//!
//! - A **word** is written bare when it is plain (`p1`, `lease_held`, `/msg`) and as a JSON
//!   string otherwise (`"a b"`, `""`, `" "` for blank ids, B1).
//! - A **scope** is `SESSION` or `SESSION/FRAME`, each part a word (`s1`, `s1/f1`, `"a/b"/f1`);
//!   `s1/""` is a frame scope with an empty frame id, which V2 normalizes to `s1`.
//! - A **list** is words joined by commas (`p1,p2`), `[]` when empty, or a JSON array of strings.
//! - A **JSON** value is any JSON text on one line (`{"a": 1}`, `42`, `"x"`, `null`).

use procreg::ProcessScope;
use procreg::canonical::to_canonical_json;
use serde_json::Value;

use super::fields::{FieldValue, Kind};

/// Characters a word may hold and still be written bare.
fn is_plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '@' | '+' | '-' | '*')
}

/// Whether `text` can be written bare and read back as itself.
fn is_plain(text: &str) -> bool {
    !text.is_empty() && text.chars().all(is_plain_char) && !matches!(text, "none" | "-")
}

/// A word as files write it: bare when plain, else a JSON string.
pub(crate) fn render_text(text: &str) -> String {
    if is_plain(text) {
        text.to_owned()
    } else {
        quote(text)
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

/// A scope as files write it: `s1`, `s1/f1`, `"a/b"/f1`.
pub(crate) fn render_scope(scope: &ProcessScope) -> String {
    let part = |p: &str| {
        if is_plain(p) && !p.contains('/') {
            p.to_owned()
        } else {
            quote(p)
        }
    };
    match &scope.agent_frame_id {
        Some(frame) => format!("{}/{}", part(&scope.session_id), part(frame)),
        None => part(&scope.session_id),
    }
}

/// Reads a word: a JSON string when it starts with `"`, else the text itself.
pub(crate) fn parse_word(text: &str) -> Result<String, String> {
    if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|e| format!("bad quoted string {text}: {e}"))
    } else {
        Ok(text.to_owned())
    }
}

/// Reads a scope (`s1`, `s1/f1`, `"a b"/"f 1"`).
pub(crate) fn parse_scope(text: &str) -> Result<ProcessScope, String> {
    let (session, rest) = if text.starts_with('"') {
        let end = quoted_end(text).ok_or_else(|| format!("scope {text}: unclosed string"))?;
        (parse_word(&text[..end])?, &text[end..])
    } else {
        match text.find('/') {
            Some(at) => (text[..at].to_owned(), &text[at..]),
            None => (text.to_owned(), ""),
        }
    };
    if rest.is_empty() {
        return Ok(ProcessScope::session(session));
    }
    let Some(frame) = rest.strip_prefix('/') else {
        return Err(format!(
            "scope {text}: expected `/FRAME` after the session, found `{rest}`"
        ));
    };
    Ok(ProcessScope::frame(session, parse_word(frame)?))
}

/// Byte offset one past the closing quote of the JSON string that starts `text`.
fn quoted_end(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Splits a list (`p1,"a,b",p3`, `[]`, `["p1","p2"]`) into its items as written.
pub(crate) fn split_list(text: &str) -> Result<Vec<String>, String> {
    if text.starts_with('[') {
        return serde_json::from_str::<Vec<String>>(text)
            .map(|items| items.iter().map(|i| quote(i)).collect())
            .map_err(|e| format!("bad list {text}: {e} (write p1,p2 or [\"p1\",\"p2\"])"));
    }
    let mut items = Vec::new();
    let mut rest = text;
    loop {
        let end = if rest.starts_with('"') {
            let end = quoted_end(rest).ok_or_else(|| format!("list {text}: unclosed string"))?;
            match rest[end..].find(',') {
                Some(comma) => end + comma,
                None => rest.len(),
            }
        } else {
            rest.find(',').unwrap_or(rest.len())
        };
        let item = &rest[..end];
        if item.is_empty() {
            return Err(format!("list {text} has an empty item"));
        }
        items.push(item.to_owned());
        if end == rest.len() {
            return Ok(items);
        }
        rest = &rest[end + 1..];
    }
}

/// Reads any JSON value written on one line.
pub(crate) fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

/// Reads an expected field value of `kind` into the typed form answers are compared in.
pub(crate) fn parse_field(kind: Kind, text: &str) -> Result<FieldValue, String> {
    if text == "none" && !matches!(kind, Kind::Int | Kind::Bool | Kind::List | Kind::ScopeList) {
        return Ok(FieldValue::Absent);
    }
    Ok(match kind {
        Kind::Text => FieldValue::Text(parse_word(text)?),
        Kind::Scope => FieldValue::Text(render_scope(&parse_scope(text)?)),
        Kind::Int => FieldValue::Int(
            text.parse()
                .map_err(|_| format!("`{text}` is not a whole number"))?,
        ),
        Kind::Bool => match text {
            "true" => FieldValue::Bool(true),
            "false" => FieldValue::Bool(false),
            _ => return Err(format!("`{text}` is not true or false")),
        },
        Kind::Json => FieldValue::Json(to_canonical_json(&parse_json(text)?)),
        Kind::List => FieldValue::List(
            split_list(text)?
                .iter()
                .map(|item| list_item(item, parse_word))
                .collect::<Result<_, _>>()?,
        ),
        Kind::ScopeList => FieldValue::List(
            split_list(text)?
                .iter()
                .map(|item| list_item(item, |i| parse_scope(i).map(|s| render_scope(&s))))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// A list item; `-` (an absent label or wake) stays as is.
fn list_item(item: &str, parse: impl Fn(&str) -> Result<String, String>) -> Result<String, String> {
    if item == "-" {
        Ok(item.to_owned())
    } else {
        parse(item)
    }
}

/// Reads a list of words (process ids for `transfer`).
pub(crate) fn parse_word_list(text: &str) -> Result<Vec<String>, String> {
    split_list(text)?.iter().map(|i| parse_word(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_rendering() {
        for scope in [
            ProcessScope::session("s1"),
            ProcessScope::frame("s1", "f1"),
            ProcessScope::frame("a/b", "f 1"),
            ProcessScope::session(""),
            ProcessScope::frame("s1", ""),
            ProcessScope::session("none"),
        ] {
            let text = render_scope(&scope);
            assert_eq!(parse_scope(&text).unwrap(), scope, "{text}");
        }
    }

    #[test]
    fn lists_split_on_commas_outside_quotes() {
        assert_eq!(
            split_list(r#"p1,"a,b",p3"#).unwrap(),
            vec!["p1", r#""a,b""#, "p3"]
        );
        assert_eq!(split_list("[]").unwrap(), Vec::<String>::new());
        assert_eq!(parse_word_list(r#"["p1"," "]"#).unwrap(), vec!["p1", " "]);
        assert!(split_list("p1,,p2").is_err());
        assert!(split_list("p1,").is_err());
    }

    #[test]
    fn words_that_are_not_plain_are_quoted() {
        assert_eq!(render_text("p1"), "p1");
        assert_eq!(render_text(" "), "\" \"");
        assert_eq!(render_text("none"), "\"none\"");
        assert_eq!(parse_word("\"a b\"").unwrap(), "a b");
    }
}
