//! The words after a verb, read the way every verb reads them: positional words in order and
//! `name=value` options by name, with errors that point at the word and show the verb's usage.

use procreg::ProcessScope;
use serde_json::Value;

use super::lex::Token;
use super::parse::{Problem, closest};
use super::values::{parse_json, parse_scope, parse_word};
use super::verbs::VerbSpec;

/// The words after a verb: positional words in order, and `name=value` options by name.
pub(crate) struct Args<'a> {
    pub(crate) spec: &'a VerbSpec,
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
    pub(crate) fn new(
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

    pub(crate) fn next(&mut self) -> Option<&'a Token<'a>> {
        let token = self.positional.get(self.next).copied();
        self.next += usize::from(token.is_some());
        token
    }

    pub(crate) fn next_token(&mut self, what: &str) -> Result<&'a Token<'a>, Problem> {
        self.next().ok_or_else(|| {
            Problem::offset(self.line_end, format!("`{}` needs {what}", self.spec.name))
                .hint(self.usage())
        })
    }

    pub(crate) fn word(&mut self, what: &str) -> Result<String, Problem> {
        let token = self.next_token(what)?;
        parse_word(token.text).map_err(|m| Problem::at(token, m))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, Problem> {
        let token = self.next_token(what)?;
        number(token, token.text)
    }

    pub(crate) fn scope(&mut self, what: &str) -> Result<ProcessScope, Problem> {
        let token = self.next_token(what)?;
        parse_scope(token.text).map_err(|m| Problem::at(token, m))
    }

    pub(crate) fn actor(&self, actor: Option<&str>) -> Result<String, Problem> {
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
    pub(crate) fn option(&mut self, name: &'static str) -> Option<(&'a Token<'a>, &'a str)> {
        self.asked.push(name);
        let (token, _, value) = *self.options.iter().find(|(_, n, _)| *n == name)?;
        self.used.push(name);
        Some((token, value))
    }

    pub(crate) fn opt_word(&mut self, name: &'static str) -> Result<Option<String>, Problem> {
        self.option(name)
            .map(|(t, v)| parse_word(v).map_err(|m| Problem::at(t, m)))
            .transpose()
    }

    pub(crate) fn required_word(&mut self, name: &'static str) -> Result<String, Problem> {
        self.opt_word(name)?.ok_or_else(|| self.missing(name))
    }

    pub(crate) fn opt_u64(&mut self, name: &'static str) -> Result<Option<u64>, Problem> {
        self.option(name).map(|(t, v)| number(t, v)).transpose()
    }

    pub(crate) fn required_u64(&mut self, name: &'static str) -> Result<u64, Problem> {
        self.opt_u64(name)?.ok_or_else(|| self.missing(name))
    }

    pub(crate) fn opt_scope(
        &mut self,
        name: &'static str,
    ) -> Result<Option<ProcessScope>, Problem> {
        self.option(name)
            .map(|(t, v)| parse_scope(v).map_err(|m| Problem::at(t, m)))
            .transpose()
    }

    pub(crate) fn opt_json(&mut self, name: &'static str) -> Result<Option<Value>, Problem> {
        self.option(name)
            .map(|(t, v)| parse_json(v).map_err(|m| Problem::at(t, format!("{name}: {m}"))))
            .transpose()
    }

    fn missing(&self, name: &str) -> Problem {
        let typo = self.options.iter().find(|(_, given, _)| {
            !self.used.contains(given) && closest(given, [name].into_iter()).is_some()
        });
        if let Some((token, given, _)) = typo {
            return Problem::at(
                token,
                format!("`{}` has no option `{given}`", self.spec.name),
            )
            .hint(format!("did you mean `{name}=`? {}", self.usage()));
        }
        Problem::offset(
            self.line_end,
            format!("`{}` needs `{name}=`", self.spec.name),
        )
        .hint(self.usage())
    }

    /// Refuses words nobody asked for.
    pub(crate) fn finish(self) -> Result<(), Problem> {
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
