//! Expectations (`=> ok fence=2`, `=> err lease_held holder=b`, `=> pending`): reading them,
//! checking an answer against them, and writing an answer back as one (for failures and bless).
//!
//! Errors are compared by [`ErrorKind`], never by message (the contract fixes kinds, not text).
//! A step without `=>` must succeed and its value is not checked. Only the fields written are
//! checked: `=> ok` alone accepts any successful answer.

use std::time::Duration;

use procreg::{ErrorKind, PluginError};
use procreg_reference::OpOutput;

use super::fields::{
    FieldValue, Kind, Shape, default_error_fields, error_field, error_field_kind, error_fields,
};
use super::lex::Token;
use super::parse::{Problem, closest};
use super::values::parse_field;

/// What a step expects.
#[derive(Clone, Debug)]
pub(crate) enum Expected {
    Ok(Vec<FieldCheck>),
    Err(ErrorKind, Vec<FieldCheck>),
    /// A non-blocking `wait` or `await` finds nothing yet.
    Pending,
}

/// One `name=value` of an expectation.
#[derive(Clone, Debug)]
pub(crate) struct FieldCheck {
    pub(crate) name: &'static str,
    pub(crate) value: FieldValue,
    /// The word as written, kept when bless finds it still right.
    pub(crate) text: String,
}

/// What a call answered. Short-lived (one per step), so the large `Ok` is not boxed.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Actual {
    Ok(OpOutput),
    Err(PluginError),
    /// A wait or await that had no answer yet.
    Pending,
    /// A call that is not a wait did not return within the bound.
    NoAnswer(Duration),
}

impl Actual {
    pub(crate) fn from_result(result: Result<OpOutput, PluginError>) -> Self {
        match result {
            Ok(OpOutput::Pending) => Actual::Pending,
            Ok(output) => Actual::Ok(output),
            Err(e) => Actual::Err(e),
        }
    }
}

const OUTCOMES: &str = "ok [field=value ...], err KIND [field=value ...], or pending";

/// Reads the words after `=>`.
pub(crate) fn parse(
    words: &[Token<'_>],
    shape: Shape,
    arrow_end: usize,
) -> Result<Expected, Problem> {
    let Some(first) = words.first() else {
        return Err(Problem::offset(arrow_end, "`=>` needs an outcome").hint(OUTCOMES));
    };
    match first.text {
        "ok" => {
            let lookup = |name: &str| shape.field(name).map(|f| (f.name, f.kind));
            let names = shape.fields().iter().map(|f| f.name);
            Ok(Expected::Ok(parse_fields(&words[1..], lookup, names)?))
        }
        "err" => {
            let Some(kind_word) = words.get(1) else {
                return Err(Problem::offset(first.end, "`err` needs an error kind")
                    .hint("e.g. `=> err lease_held`"));
            };
            let kind = ErrorKind::parse(kind_word.text).ok_or_else(|| unknown_kind(kind_word))?;
            let allowed = error_fields(kind);
            let lookup = |name: &str| {
                allowed
                    .iter()
                    .find(|n| **n == name)
                    .map(|n| (*n, error_field_kind(n)))
            };
            Ok(Expected::Err(
                kind,
                parse_fields(&words[2..], lookup, allowed.iter().copied())?,
            ))
        }
        "pending" if matches!(shape, Shape::Event | Shape::AwaitOutput) => match words.get(1) {
            None => Ok(Expected::Pending),
            Some(extra) => Err(Problem::at(extra, "`pending` takes no fields")),
        },
        "pending" => Err(Problem::at(first, "only `wait` and `await` can be pending")),
        other => Err(Problem::at(first, format!("unknown outcome `{other}`")).hint(OUTCOMES)),
    }
}

fn unknown_kind(word: &Token<'_>) -> Problem {
    let names = ErrorKind::ALL.iter().map(|k| k.as_str());
    let problem = Problem::at(word, format!("unknown error kind `{}`", word.text));
    match closest(word.text, names.clone()) {
        Some(near) => problem.hint(format!("did you mean `{near}`?")),
        None => problem.hint(format!("kinds: {}", names.collect::<Vec<_>>().join(", "))),
    }
}

fn parse_fields<'n>(
    words: &[Token<'_>],
    lookup: impl Fn(&str) -> Option<(&'static str, Kind)>,
    names: impl Iterator<Item = &'n str> + Clone,
) -> Result<Vec<FieldCheck>, Problem> {
    let mut checks: Vec<FieldCheck> = Vec::new();
    for word in words {
        let Some((name, value)) = word.text.split_once('=') else {
            return Err(
                Problem::at(word, format!("`{}` is not a field=value check", word.text))
                    .hint(field_list(names.clone())),
            );
        };
        let Some((name, kind)) = lookup(name) else {
            let problem = Problem::at(word, format!("no field `{name}` here"));
            return Err(match closest(name, names.clone()) {
                Some(near) => problem.hint(format!(
                    "did you mean `{near}`? {}",
                    field_list(names.clone())
                )),
                None => problem.hint(field_list(names.clone())),
            });
        };
        if checks.iter().any(|c| c.name == name) {
            return Err(Problem::at(
                word,
                format!("field `{name}` is checked twice"),
            ));
        }
        let value =
            parse_field(kind, value).map_err(|m| Problem::at(word, format!("{name}: {m}")))?;
        checks.push(FieldCheck {
            name,
            value,
            text: word.text.to_owned(),
        });
    }
    Ok(checks)
}

fn field_list<'n>(names: impl Iterator<Item = &'n str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "this outcome has no fields to check".into()
    } else {
        format!("fields: {}", names.join(", "))
    }
}

/// The value of field `name` in an answer.
fn value_of(shape: Shape, actual: &Actual, name: &str) -> FieldValue {
    match actual {
        Actual::Ok(output) => shape
            .field(name)
            .map_or(FieldValue::Absent, |f| f.get(output)),
        Actual::Err(error) => error_field(error, name),
        Actual::Pending | Actual::NoAnswer(_) => FieldValue::Absent,
    }
}

fn fields_hold(shape: Shape, actual: &Actual, checks: &[FieldCheck]) -> bool {
    checks
        .iter()
        .all(|c| value_of(shape, actual, c.name) == c.value)
}

/// Whether `actual` satisfies `expected` (no expectation: any success).
pub(crate) fn holds(expected: Option<&Expected>, shape: Shape, actual: &Actual) -> bool {
    match (expected, actual) {
        (None, Actual::Ok(_)) => true,
        (Some(Expected::Ok(checks)), Actual::Ok(_)) => fields_hold(shape, actual, checks),
        (Some(Expected::Err(kind, checks)), Actual::Err(e)) => {
            e.kind() == *kind && fields_hold(shape, actual, checks)
        }
        (Some(Expected::Pending), Actual::Pending) => true,
        _ => false,
    }
}

/// The expectation as written (`ok fence=2`), or `ok (any value)` when there is none.
pub(crate) fn describe(expected: Option<&Expected>) -> String {
    match expected {
        None => "ok (any value)".into(),
        Some(Expected::Ok(checks)) => join("ok", checks.iter().map(|c| c.text.clone())),
        Some(Expected::Err(kind, checks)) => join(
            &format!("err {kind}"),
            checks.iter().map(|c| c.text.clone()),
        ),
        Some(Expected::Pending) => "pending".into(),
    }
}

fn join(head: &str, words: impl Iterator<Item = String>) -> String {
    std::iter::once(head.to_owned())
        .chain(words)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `actual` written as an expectation, showing the fields `expected` checks (or the defaults),
/// each kept as written when it already holds. This is what bless writes and what a failure
/// shows as "actual".
pub(crate) fn written(expected: Option<&Expected>, shape: Shape, actual: &Actual) -> String {
    let render = |names: Vec<&'static str>, checks: &[FieldCheck]| -> Vec<String> {
        names
            .into_iter()
            .map(|name| {
                let value = value_of(shape, actual, name);
                match checks.iter().find(|c| c.name == name) {
                    Some(c) if c.value == value => c.text.clone(),
                    _ => format!("{name}={}", value.render()),
                }
            })
            .collect()
    };
    match actual {
        Actual::Ok(output) => match expected {
            Some(Expected::Ok(checks)) => join(
                "ok",
                render(checks.iter().map(|c| c.name).collect(), checks).into_iter(),
            ),
            _ => join("ok", render(shape.default_fields(output), &[]).into_iter()),
        },
        Actual::Err(e) => match expected {
            Some(Expected::Err(kind, checks)) if *kind == e.kind() => join(
                &format!("err {kind}"),
                render(checks.iter().map(|c| c.name).collect(), checks).into_iter(),
            ),
            _ => join(
                &format!("err {}", e.kind()),
                render(default_error_fields(e.kind()).to_vec(), &[]).into_iter(),
            ),
        },
        Actual::Pending => "pending".into(),
        Actual::NoAnswer(bound) => format!("no answer within {} ms", bound.as_millis()),
    }
}
