//! The words only world scenarios have: the `world ...` header, `@T` start times, `!fault`
//! marks on calls and `partition` steps (docs/SCENARIOS.md, "World scenarios").
//!
//! Why a module of its own: sequential files must refuse every one of these words with a hint
//! (a `@T` without a `world` line is a typo, not a silent no-op), and the writer of
//! counterexamples renders them; both sides live here so they cannot drift apart.

use procreg_sim::LinkFault;

use super::lex::Token;
use super::parse::Problem;
use super::values::parse_word;
use super::{Action, StepFaults, WorldHeader};

/// The usage line of the header, for hints.
pub(crate) const HEADER_USAGE: &str =
    "world seed=N latency=MS timeout=MS [torn=PROBABILITY] [workload=NAME]";

/// Reads `world seed=N latency=MS timeout=MS [torn=P] [workload=W]`.
pub(crate) fn parse_header(tokens: &[Token<'_>]) -> Result<WorldHeader, Problem> {
    let mut header = WorldHeader {
        seed: 0,
        latency_ms: 1,
        timeout_ms: 50,
        torn_write_probability: 0.0,
        workload: None,
    };
    let mut seen_seed = false;
    for token in &tokens[1..] {
        let Some((name, value)) = token.text.split_once('=') else {
            return Err(
                Problem::at(token, format!("`{}` is not name=value", token.text))
                    .hint(HEADER_USAGE),
            );
        };
        let number = || {
            value.parse::<u64>().map_err(|_| {
                Problem::at(
                    token,
                    format!("`{name}` takes a whole number, not `{value}`"),
                )
            })
        };
        match name {
            "seed" => (header.seed, seen_seed) = (number()?, true),
            "latency" => header.latency_ms = number()?,
            "timeout" => header.timeout_ms = number()?,
            "torn" => {
                header.torn_write_probability = value
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| {
                        Problem::at(
                            token,
                            format!("`torn` is a probability in 0..=1, not `{value}`"),
                        )
                    })?;
            }
            "workload" => {
                header.workload = Some(parse_word(value).map_err(|m| Problem::at(token, m))?)
            }
            other => {
                return Err(
                    Problem::at(token, format!("`world` has no setting `{other}`"))
                        .hint(HEADER_USAGE),
                );
            }
        }
    }
    if !seen_seed {
        return Err(Problem::offset(tokens[0].end, "`world` needs `seed=N`").hint(HEADER_USAGE));
    }
    Ok(header)
}

/// Splits a leading `@T` off a step. In a world scenario every step has one; elsewhere none.
pub(crate) fn split_time<'t, 'a>(
    tokens: &'t [Token<'a>],
    world: bool,
) -> Result<(Option<u64>, &'t [Token<'a>]), Problem> {
    let first = &tokens[0];
    let Some(time) = first.text.strip_prefix('@') else {
        if world {
            return Err(Problem::at(first, "a world scenario's step starts with `@T`")
                .hint("`@T` is when the step starts, ms since the run began: `@120 a: claim p1 ttl=100`"));
        }
        return Ok((None, tokens));
    };
    if !world {
        return Err(Problem::at(first, "`@T` times need a `world` line first")
            .hint(format!("start the file with `{HEADER_USAGE}`")));
    }
    let at = time.parse::<u64>().map_err(|_| {
        Problem::at(
            first,
            format!("`{}` is not `@` and whole milliseconds", first.text),
        )
    })?;
    if tokens.len() < 2 {
        return Err(Problem::offset(
            first.end,
            "a step needs a verb after its time",
        ));
    }
    Ok((Some(at), &tokens[1..]))
}

/// Splits the trailing `!fault` words off a call.
pub(crate) fn parse_faults<'t, 'a>(
    command: &'t [Token<'a>],
    world: bool,
) -> Result<(&'t [Token<'a>], StepFaults), Problem> {
    let start = command
        .iter()
        .rposition(|t| !t.text.starts_with('!'))
        .map_or(0, |i| i + 1);
    let mut faults = StepFaults::default();
    for token in &command[start..] {
        if !world {
            return Err(Problem::at(token, "`!` faults need a `world` line first")
                .hint(format!("start the file with `{HEADER_USAGE}`")));
        }
        let fault = &token.text[1..];
        let number = |value: &str| {
            value
                .parse::<u64>()
                .map_err(|_| Problem::at(token, format!("`{fault}` needs whole milliseconds")))
        };
        let link = match fault.split_once('=') {
            None if fault == "drop-request" => LinkFault::DropRequest,
            None if fault == "drop-response" => LinkFault::DropResponse,
            None if fault == "duplicate" => LinkFault::Duplicate,
            Some(("delay", ms)) => LinkFault::Delay {
                delay_ms: number(ms)?,
            },
            Some(("cut", at)) => {
                faults.cut_at_ms = Some(number(at)?);
                continue;
            }
            _ => {
                return Err(
                    Problem::at(token, format!("unknown fault `{}`", token.text))
                        .hint("faults: !drop-request !drop-response !duplicate !delay=MS !cut=T"),
                );
            }
        };
        if faults.link.replace(link).is_some() {
            return Err(Problem::at(token, "a call suffers one link fault at most"));
        }
    }
    Ok((&command[..start], faults))
}

/// `partition CLIENT until=T`.
pub(crate) fn parse_partition(args: &[Token<'_>], verb: &Token<'_>) -> Result<Action, Problem> {
    let usage = "usage: @T partition CLIENT until=T";
    let [client, until] = args else {
        return Err(Problem::at(verb, "`partition` takes a client and `until=T`").hint(usage));
    };
    let client = parse_word(client.text).map_err(|m| Problem::at(client, m))?;
    let until_ms = until
        .text
        .strip_prefix("until=")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| Problem::at(until, "`partition` ends with `until=T`").hint(usage))?;
    Ok(Action::Partition { client, until_ms })
}

/// The `!fault` words of a call, each with a leading space.
pub(crate) fn render_faults(faults: &StepFaults) -> String {
    let mut text = String::new();
    match &faults.link {
        None => {}
        Some(LinkFault::DropRequest) => text.push_str(" !drop-request"),
        Some(LinkFault::DropResponse) => text.push_str(" !drop-response"),
        Some(LinkFault::Duplicate) => text.push_str(" !duplicate"),
        Some(LinkFault::Delay { delay_ms }) => text.push_str(&format!(" !delay={delay_ms}")),
    }
    if let Some(at) = faults.cut_at_ms {
        text.push_str(&format!(" !cut={at}"));
    }
    text
}

/// The `world ...` line.
pub(crate) fn render_header(header: &WorldHeader) -> String {
    let mut text = format!(
        "world seed={} latency={} timeout={}",
        header.seed, header.latency_ms, header.timeout_ms
    );
    if header.torn_write_probability > 0.0 {
        text.push_str(&format!(" torn={}", header.torn_write_probability));
    }
    if let Some(workload) = &header.workload {
        text.push_str(&format!(
            " workload={}",
            super::values::render_text(workload)
        ));
    }
    text
}
