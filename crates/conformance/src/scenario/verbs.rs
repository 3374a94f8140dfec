//! The verbs of a step: one per `ProcessRegistry` method, each turning its words into a [`Call`]
//! and naming the [`Shape`] of its answer. The usage line of each verb is both its hint in parse
//! errors and its row in `docs/SCENARIOS.md`.

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType, ProcessExternalRef,
    ProcessHandleDescriptor, ProcessProvenance, ProcessRegistration, ProcessScope,
    ProcessTerminalState, ProcessWakeSpec, WakeDedupeKey,
};
use procreg_reference::Op;
use serde_json::{Value, json};

use super::Call;
use super::fields::Shape;
use super::lex::Token;
use super::parse::{Problem, closest};
use super::values::{parse_json, parse_scope, parse_word, parse_word_list};

/// The session that registers a process when `register` has no `owner=`.
pub(crate) const DEFAULT_OWNER: &str = "owner";
/// The host profile id when `register` has no `host=`.
pub(crate) const DEFAULT_HOST: &str = "host";

type Build = fn(&mut Args<'_>, Option<&str>) -> Result<Call, Problem>;

/// One verb: its name, usage line, answer shape and builder.
pub(crate) struct VerbSpec {
    pub(crate) name: &'static str,
    pub(crate) usage: &'static str,
    pub(crate) shape: Shape,
    build: Build,
}

macro_rules! verb {
    ($name:literal, $usage:literal, $shape:ident, $build:expr) => {
        VerbSpec {
            name: $name,
            usage: $usage,
            shape: Shape::$shape,
            build: $build,
        }
    };
}

/// Every call verb (`advance` and `crash` are handled by the parser).
pub(crate) const VERBS: &[VerbSpec] = &[
    verb!(
        "register",
        "register P [types=T1,T2:completed,T3:wake(input=/ptr, when=/ptr, dedupe=identity|pointer:/ptr|const:K)] [input=JSON] [owner=SESSION[/FRAME]] [host=H]",
        Record,
        register
    ),
    verb!("get", "get P", MaybeRecord, |a, _| Ok(op(Op::GetProcess {
        process_id: a.word("a process id")?
    }))),
    verb!(
        "set-ref",
        "set-ref P backend=B id=I [meta=JSON]",
        Record,
        set_ref
    ),
    verb!(
        "append",
        "append P TYPE [PAYLOAD-JSON] [key=K] [target=SESSION[/FRAME]]",
        Append,
        append
    ),
    verb!("events", "events P [after=N]", Events, |a, _| {
        let process_id = a.word("a process id")?;
        let after_sequence = a.opt_u64("after")?.unwrap_or(0);
        Ok(op(Op::EventsAfter {
            process_id,
            after_sequence,
        }))
    }),
    verb!("wakes", "wakes P [after=N]", Events, |a, _| {
        let process_id = a.word("a process id")?;
        let after_sequence = a.opt_u64("after")?.unwrap_or(0);
        Ok(op(Op::WakeEventsAfter {
            process_id,
            after_sequence,
        }))
    }),
    verb!("ack", "ack P SEQ", Unit, |a, _| {
        let process_id = a.word("a process id")?;
        let sequence = a.u64("a sequence number")?;
        Ok(op(Op::AckWake {
            process_id,
            sequence,
        }))
    }),
    verb!("wait", "wait P TYPE [after=N]", Event, |a, _| {
        let process_id = a.word("a process id")?;
        let event_type = a.word("an event type")?;
        let after_sequence = a.opt_u64("after")?.unwrap_or(0);
        Ok(op(Op::WaitEventAfter {
            process_id,
            event_type,
            after_sequence,
        }))
    }),
    verb!(
        "complete",
        "complete P success[=JSON] | complete P failure [code=C] [msg=M] | complete P cancelled [msg=M]",
        Record,
        complete
    ),
    verb!("await", "await P", AwaitOutput, |a, _| Ok(op(
        Op::AwaitProcess {
            process_id: a.word("a process id")?
        }
    ))),
    verb!(
        "grant",
        "grant SESSION[/FRAME] P [label=L] [kind=K]",
        Grant,
        |a, _| {
            let scope = a.scope("a scope")?;
            let process_id = a.word("a process id")?;
            let label = a.opt_word("label")?;
            let kind = a.opt_word("kind")?;
            Ok(op(Op::GrantHandle {
                scope,
                process_id,
                descriptor: ProcessHandleDescriptor { kind, label },
            }))
        }
    ),
    verb!("revoke", "revoke SESSION[/FRAME] P", Unit, |a, _| {
        let scope = a.scope("a scope")?;
        Ok(op(Op::RevokeHandle {
            scope,
            process_id: a.word("a process id")?,
        }))
    }),
    verb!("grants", "grants SESSION[/FRAME]", GrantEntries, |a, _| Ok(
        op(Op::ListHandleGrants {
            scope: a.scope("a scope")?
        })
    )),
    verb!(
        "live-grants",
        "live-grants SESSION[/FRAME]",
        GrantEntries,
        |a, _| Ok(op(Op::ListLiveHandleGrants {
            scope: a.scope("a scope")?
        }))
    ),
    verb!("has-grant", "has-grant SESSION[/FRAME] P", Bool, |a, _| {
        let scope = a.scope("a scope")?;
        Ok(op(Op::HasHandleGrant {
            scope,
            process_id: a.word("a process id")?,
        }))
    }),
    verb!("grants-of", "grants-of P", Grants, |a, _| Ok(op(
        Op::HandleGrantsForProcess {
            process_id: a.word("a process id")?
        }
    ))),
    verb!("transfer", "transfer FROM TO [P1,P2,...]", Unit, |a, _| {
        let from = a.scope("a source scope")?;
        let to = a.scope("a target scope")?;
        let process_ids = match a.next() {
            Some(t) => parse_word_list(t.text).map_err(|m| Problem::at(t, m))?,
            None => Vec::new(),
        };
        Ok(op(Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        }))
    }),
    verb!(
        "delete-session",
        "delete-session SESSION",
        DeleteReport,
        |a, _| Ok(op(Op::DeleteSession {
            session_id: a.word("a session id")?
        }))
    ),
    verb!("claim", "A: claim P ttl=MS", Lease, |a, actor| {
        let owner_id = a.actor(actor)?;
        let process_id = a.word("a process id")?;
        let lease_ttl_ms = a.required_u64("ttl")?;
        Ok(op(Op::ClaimLease {
            process_id,
            owner_id,
            lease_ttl_ms,
        }))
    }),
    verb!("renew", "A: renew P ttl=MS [fence=N]", Lease, |a, actor| {
        a.actor(actor)?;
        let process_id = a.word("a process id")?;
        let ttl_ms = a.required_u64("ttl")?;
        Ok(Call::Renew {
            process_id,
            ttl_ms,
            fence: a.opt_u64("fence")?,
        })
    }),
    verb!("release", "A: release P [fence=N]", Unit, |a, actor| {
        a.actor(actor)?;
        let process_id = a.word("a process id")?;
        Ok(Call::Release {
            process_id,
            fence: a.opt_u64("fence")?,
        })
    }),
    verb!("worklist", "worklist", Records, |_, _| Ok(op(
        Op::ListNonTerminal
    ))),
];

fn op(op: Op) -> Call {
    Call::Op(op)
}

/// The verb named `name`.
pub(crate) fn find(name: &str) -> Option<&'static VerbSpec> {
    VERBS.iter().find(|v| v.name == name)
}

/// All verb names, for "did you mean" hints.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    VERBS
        .iter()
        .map(|v| v.name)
        .chain(["advance", "crash", "include", "onlyif", "skipif"])
}

impl VerbSpec {
    /// Builds the call from the words after the verb.
    pub(crate) fn build<'a>(
        &'a self,
        verb: &'a Token<'a>,
        words: &'a [Token<'a>],
        actor: Option<&str>,
        line_end: usize,
    ) -> Result<Call, Problem> {
        let mut args = Args::new(self, verb, words, line_end);
        let call = (self.build)(&mut args, actor)?;
        args.finish()?;
        Ok(call)
    }
}

fn register(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let id = a.word("a process id")?;
    let event_types = match a.option("types") {
        Some(t) => parse_types(t.1).map_err(|m| Problem::at(t.0, m))?,
        None => Vec::new(),
    };
    let input = a.opt_json("input")?.unwrap_or(Value::Null);
    let owner_scope = a
        .opt_scope("owner")?
        .unwrap_or_else(|| ProcessScope::session(DEFAULT_OWNER));
    let host_profile_id = a.opt_word("host")?.unwrap_or_else(|| DEFAULT_HOST.into());
    Ok(op(Op::Register {
        registration: ProcessRegistration {
            id,
            input,
            event_types,
            provenance: ProcessProvenance {
                owner_scope,
                host_profile_id,
            },
        },
    }))
}

fn set_ref(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let process_id = a.word("a process id")?;
    let backend = a.required_word("backend")?;
    let id = a.required_word("id")?;
    let metadata = a.opt_json("meta")?;
    Ok(op(Op::SetExternalRef {
        process_id,
        external_ref: ProcessExternalRef {
            backend,
            id,
            metadata,
        },
    }))
}

fn append(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let process_id = a.word("a process id")?;
    let event_type = a.word("an event type")?;
    let payload = match a.next() {
        Some(t) => parse_json(t.text).map_err(|m| {
            Problem::at(t, format!("payload {m}"))
                .hint("a payload is JSON on one line: {\"msg\": \"hi\"}, 42, \"text\"")
        })?,
        None => json!({}),
    };
    let mut request = ProcessEventAppendRequest::new(event_type, payload);
    request.replay_key = a.opt_word("key")?;
    request.wake_target_scope = a.opt_scope("target")?;
    Ok(op(Op::AppendEvent {
        process_id,
        request,
    }))
}

fn complete(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let process_id = a.word("a process id")?;
    let output = if let Some(value) = a.opt_json("success")? {
        ProcessAwaitOutput::Success { value }
    } else {
        let outcome = a.next_token("an outcome: success, failure or cancelled")?;
        match outcome.text {
            "success" => ProcessAwaitOutput::Success { value: Value::Null },
            "failure" => ProcessAwaitOutput::Failure {
                code: a.opt_word("code")?.unwrap_or_else(|| "error".into()),
                message: a.opt_word("msg")?.unwrap_or_default(),
            },
            "cancelled" => ProcessAwaitOutput::Cancelled {
                message: a.opt_word("msg")?.unwrap_or_default(),
            },
            other => {
                return Err(Problem::at(
                    outcome,
                    format!("`{other}` is not an outcome: write success, failure or cancelled"),
                ));
            }
        }
    };
    Ok(op(Op::CompleteProcess { process_id, output }))
}

/// `types=` as a JSON array of event types, or the short form `note,done:completed,ping:wake(..)`.
fn parse_types(text: &str) -> Result<Vec<ProcessEventType>, String> {
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
            quoted = !(c == '"' && !escaped);
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

/// The words after a verb: positional words in order, and `name=value` options by name.
pub(crate) struct Args<'a> {
    spec: &'a VerbSpec,
    verb: &'a Token<'a>,
    positional: Vec<&'a Token<'a>>,
    next: usize,
    options: Vec<(&'a Token<'a>, &'a str, &'a str)>,
    used: Vec<&'a str>,
    asked: Vec<&'static str>,
    line_end: usize,
}

/// Whether `token` is `name=value` with a lowercase name (JSON and quoted words are not).
fn option_of<'a>(token: &'a Token<'a>) -> Option<(&'a str, &'a str)> {
    let (name, value) = token.text.split_once('=')?;
    let is_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    is_name.then_some((name, value))
}

impl<'a> Args<'a> {
    fn new(
        spec: &'a VerbSpec,
        verb: &'a Token<'a>,
        words: &'a [Token<'a>],
        line_end: usize,
    ) -> Self {
        let mut positional = Vec::new();
        let mut options = Vec::new();
        for token in words {
            match option_of(token) {
                Some((name, value)) => options.push((token, name, value)),
                None => positional.push(token),
            }
        }
        Self {
            spec,
            verb,
            positional,
            next: 0,
            options,
            used: Vec::new(),
            asked: Vec::new(),
            line_end,
        }
    }

    fn usage(&self) -> String {
        format!("usage: {}", self.spec.usage)
    }

    fn next(&mut self) -> Option<&'a Token<'a>> {
        let token = self.positional.get(self.next).copied();
        self.next += usize::from(token.is_some());
        token
    }

    fn next_token(&mut self, what: &str) -> Result<&'a Token<'a>, Problem> {
        self.next().ok_or_else(|| {
            Problem::offset(self.line_end, format!("`{}` needs {what}", self.spec.name))
                .hint(self.usage())
        })
    }

    fn word(&mut self, what: &str) -> Result<String, Problem> {
        let token = self.next_token(what)?;
        parse_word(token.text).map_err(|m| Problem::at(token, m))
    }

    fn u64(&mut self, what: &str) -> Result<u64, Problem> {
        let token = self.next_token(what)?;
        number(token, token.text)
    }

    fn scope(&mut self, what: &str) -> Result<ProcessScope, Problem> {
        let token = self.next_token(what)?;
        parse_scope(token.text).map_err(|m| Problem::at(token, m))
    }

    fn actor(&self, actor: Option<&str>) -> Result<String, Problem> {
        actor.map(str::to_owned).ok_or_else(|| {
            Problem::at(
                self.verb,
                format!("`{}` needs an actor, the lease owner", self.spec.name),
            )
            .hint(format!(
                "write it before the verb: `a: {} ...`",
                self.spec.name
            ))
        })
    }

    /// The option `name`, with its token.
    fn option(&mut self, name: &'static str) -> Option<(&'a Token<'a>, &'a str)> {
        self.asked.push(name);
        let (token, _, value) = *self.options.iter().find(|(_, n, _)| *n == name)?;
        self.used.push(name);
        Some((token, value))
    }

    fn opt_word(&mut self, name: &'static str) -> Result<Option<String>, Problem> {
        self.option(name)
            .map(|(t, v)| parse_word(v).map_err(|m| Problem::at(t, m)))
            .transpose()
    }

    fn required_word(&mut self, name: &'static str) -> Result<String, Problem> {
        self.opt_word(name)?.ok_or_else(|| self.missing(name))
    }

    fn opt_u64(&mut self, name: &'static str) -> Result<Option<u64>, Problem> {
        self.option(name).map(|(t, v)| number(t, v)).transpose()
    }

    fn required_u64(&mut self, name: &'static str) -> Result<u64, Problem> {
        self.opt_u64(name)?.ok_or_else(|| self.missing(name))
    }

    fn opt_scope(&mut self, name: &'static str) -> Result<Option<ProcessScope>, Problem> {
        self.option(name)
            .map(|(t, v)| parse_scope(v).map_err(|m| Problem::at(t, m)))
            .transpose()
    }

    fn opt_json(&mut self, name: &'static str) -> Result<Option<Value>, Problem> {
        self.option(name)
            .map(|(t, v)| parse_json(v).map_err(|m| Problem::at(t, format!("{name}: {m}"))))
            .transpose()
    }

    fn missing(&self, name: &str) -> Problem {
        Problem::offset(
            self.line_end,
            format!("`{}` needs `{name}=`", self.spec.name),
        )
        .hint(self.usage())
    }

    /// Refuses words nobody asked for.
    fn finish(self) -> Result<(), Problem> {
        if let Some(extra) = self.positional.get(self.next) {
            return Err(
                Problem::at(extra, format!("unexpected `{}`", extra.text)).hint(self.usage())
            );
        }
        for (token, name, _) in &self.options {
            if !self.used.contains(name) {
                let mut problem = Problem::at(
                    token,
                    format!("`{}` has no option `{name}`", self.spec.name),
                );
                problem = match closest(name, self.asked.iter().copied()) {
                    Some(near) => problem.hint(format!("did you mean `{near}=`? {}", self.usage())),
                    None => problem.hint(self.usage()),
                };
                return Err(problem);
            }
            if self.options.iter().filter(|(_, n, _)| n == name).count() > 1 {
                return Err(Problem::at(
                    token,
                    format!("option `{name}` is given twice"),
                ));
            }
        }
        Ok(())
    }
}

fn number(token: &Token<'_>, text: &str) -> Result<u64, Problem> {
    text.parse().map_err(|_| {
        Problem::at(token, format!("`{text}` is not a whole number"))
            .hint("numbers are milliseconds, sequences or fencing tokens: 0, 1000, ...")
    })
}
