//! Splitting one scenario line into words, so that inline JSON (`{"a": 1}`), quoted ids
//! (`"a b"`) and wake options (`wake(input=/msg, when=/go)`) stay whole, and a `#` that starts a
//! word starts a comment.
//!
//! A word ends at whitespace outside quotes and brackets. Inside a word, `"..."` is a JSON string
//! (backslash escapes) and `{}`, `[]`, `()` nest. The lexer never fails on content it does not
//! understand; it fails only on an unterminated string or an unbalanced bracket, with the column.

/// One word of a line with its byte span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) text: &'a str,
    /// Byte offset of the first byte in the line.
    pub(crate) start: usize,
    /// Byte offset one past the last byte in the line.
    pub(crate) end: usize,
}

/// The words of a line (a trailing comment is dropped).
#[derive(Debug)]
pub(crate) struct Lexed<'a> {
    pub(crate) tokens: Vec<Token<'a>>,
}

/// A lexing problem: its byte offset in the line, a message and a hint.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LexError {
    pub(crate) offset: usize,
    pub(crate) message: String,
    pub(crate) hint: &'static str,
}

/// Splits `line` (without its newline) into words.
pub(crate) fn lex(line: &str) -> Result<Lexed<'_>, LexError> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            return Ok(Lexed { tokens });
        }
        let lone_brace = matches!(c, '{' | '}')
            && line[start + 1..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace);
        let end = if lone_brace {
            chars.next();
            start + 1
        } else {
            scan_word(line, &mut chars)?
        };
        tokens.push(Token {
            text: &line[start..end],
            start,
            end,
        });
    }
    Ok(Lexed { tokens })
}

/// Consumes one word starting at `start`; returns its end offset.
fn scan_word(
    line: &str,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<usize, LexError> {
    let mut open: Vec<(char, usize)> = Vec::new();
    while let Some(&(at, c)) = chars.peek() {
        if c.is_whitespace() && open.is_empty() {
            return Ok(at);
        }
        chars.next();
        match c {
            '"' => skip_string(at, chars)?,
            '{' | '[' | '(' => open.push((c, at)),
            '}' | ']' | ')' => match open.pop() {
                Some((o, _)) if closes(o) == c => {}
                Some((o, o_at)) => {
                    return Err(LexError {
                        offset: at,
                        message: format!(
                            "`{c}` closes `{o}` opened at column {}",
                            column_of(line, o_at)
                        ),
                        hint: "brackets inside a word must balance: check the JSON",
                    });
                }
                None => {
                    return Err(LexError {
                        offset: at,
                        message: format!("unmatched `{c}`"),
                        hint: "brackets inside a word must balance: check the JSON",
                    });
                }
            },
            _ => {}
        }
    }
    match open.last() {
        Some(&(o, o_at)) => Err(LexError {
            offset: o_at,
            message: format!("`{o}` is never closed on this line"),
            hint: "a JSON value must fit on one line, its step's",
        }),
        None => Ok(line.len()),
    }
}

/// Consumes a JSON string whose opening quote is at `open_at`.
fn skip_string(
    open_at: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<(), LexError> {
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return Ok(()),
            _ => {}
        }
    }
    Err(LexError {
        offset: open_at,
        message: "string is never closed on this line".into(),
        hint: "close it with `\"`; write a quote inside a string as `\\\"`",
    })
}

fn closes(open: char) -> char {
    match open {
        '{' => '}',
        '[' => ']',
        _ => ')',
    }
}

/// The 1-based column (in characters) of byte offset `offset` in `line`.
pub(crate) fn column_of(line: &str, offset: usize) -> usize {
    let offset = offset.min(line.len());
    line.char_indices().take_while(|(i, _)| *i < offset).count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<&str> {
        lex(line).unwrap().tokens.iter().map(|t| t.text).collect()
    }

    #[test]
    fn json_and_quotes_stay_one_word() {
        assert_eq!(
            words(r#"a: append p1 note {"m": "x y", "n": [1, 2]} key="k 1""#),
            vec![
                "a:",
                "append",
                "p1",
                "note",
                r#"{"m": "x y", "n": [1, 2]}"#,
                r#"key="k 1""#
            ]
        );
    }

    #[test]
    fn hash_starts_a_comment_only_at_a_word_start() {
        assert_eq!(words("get p#1   # why"), vec!["get", "p#1"]);
        assert_eq!(words(r##"append p1 note "# not a comment""##).len(), 4);
    }

    #[test]
    fn unbalanced_input_is_an_error_with_a_column() {
        let err = lex(r#"append p1 note {"a": 1"#).unwrap_err();
        assert_eq!(column_of(r#"append p1 note {"a": 1"#, err.offset), 16);
        assert!(lex("get p1]").is_err());
        assert!(lex(r#"get "p1"#).is_err());
        assert!(lex("get (p1]").is_err());
    }
}
