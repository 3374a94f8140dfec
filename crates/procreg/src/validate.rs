//! Input rules shared by every backend: blank ids (B1) and forbidden characters (V2).

/// Whether `s` is blank: empty after trimming Unicode whitespace (B1).
///
/// ```
/// assert!(procreg::validate::is_blank(" \u{3000}\t"));
/// assert!(!procreg::validate::is_blank(" a "));
/// ```
pub fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Whether `s` holds a character no id, name or key may contain: U+0000 or `\n` (V2).
pub fn has_forbidden_char(s: &str) -> bool {
    s.contains('\0') || s.contains('\n')
}

/// The marker a session id must not contain, since it would make scope ids ambiguous (V2).
pub const FRAME_MARKER: &str = "/frame:";

/// Why `session_id` is not acceptable as a session id, if it is not (B1, V2).
pub fn session_id_problem(session_id: &str) -> Option<&'static str> {
    if is_blank(session_id) {
        Some("session id is blank")
    } else if session_id.contains(FRAME_MARKER) {
        Some("session id contains `/frame:`")
    } else if has_forbidden_char(session_id) {
        Some("session id contains U+0000 or a newline")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_session_ids() {
        assert!(session_id_problem("s1").is_none());
        assert!(session_id_problem("  ").is_some());
        assert!(session_id_problem("a/frame:b").is_some());
        assert!(session_id_problem("a\nb").is_some());
        assert!(session_id_problem("a\0b").is_some());
    }
}
