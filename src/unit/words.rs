//! systemd's whitespace, for the values it splits and trims: `WHITESPACE`, `" \t\n\r"`
//! (`string-util.h`), as `extract_first_word()` without separators, `strstrip()`,
//! `first_word()` and `strv_split(…, WHITESPACE)` use it. Not Unicode's: a no-break space
//! (U+00A0), NEL (U+0085), U+2028 or an ideographic space (U+3000) is part of a word for
//! systemd, like any other byte (so `b.service<U+00A0>c.service` is one word, and not a
//! valid unit name). Form feed and vertical tab are not in it either (C's `isspace()`
//! has them; `sscanf()` and `strtol()` use that).

/// systemd's `WHITESPACE`.
pub const WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Whether `c` is in systemd's `WHITESPACE`.
pub fn is_space(c: char) -> bool {
    WHITESPACE.contains(&c)
}

/// Whether the byte `b` is in systemd's `WHITESPACE`.
pub fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// `strstrip()`: `s` without leading and trailing `WHITESPACE`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(WHITESPACE)
}

/// The words of `s` separated by runs of `WHITESPACE`, as `strv_split(s, WHITESPACE)`
/// returns them, and `extract_first_word(…, NULL, 0)` on a value without quotes or
/// backslashes.
pub fn split(s: &str) -> impl Iterator<Item = &str> {
    s.split(WHITESPACE).filter(|w| !w.is_empty())
}

/// `first_word(s, word)`: if `s` starts with `word` followed by the end or by
/// `WHITESPACE`, what follows it (that whitespace skipped); else `None`.
pub fn first_word<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(word)?;
    if rest.is_empty() || word.is_empty() {
        return Some(rest);
    }
    if !rest.starts_with(WHITESPACE) {
        return None;
    }
    Some(rest.trim_start_matches(WHITESPACE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unicode's other spaces (and form feed, vertical tab) are word characters.
    const NOT_SPACE: [char; 7] = [
        '\u{a0}', '\u{85}', '\u{2028}', '\u{3000}', '\u{2003}', '\x0b', '\x0c',
    ];

    #[test]
    fn only_ascii_whitespace_splits_and_strips() {
        assert_eq!(split(" a\tb\r\nc  ").collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(strip(" \t\r\na b\n"), "a b");
        for c in NOT_SPACE {
            assert!(!is_space(c), "{c:?}");
            let two = format!("a{c}b");
            assert_eq!(split(&two).collect::<Vec<_>>(), [two.as_str()], "{c:?}");
            let padded = format!("{c}a{c}");
            assert_eq!(strip(&padded), padded, "{c:?}");
        }
        assert!(split(" \t ").next().is_none());
        assert!((0..=255u8).all(|b| is_space_byte(b) == is_space(char::from(b))));
    }

    #[test]
    fn first_word_needs_whitespace_or_the_end() {
        assert_eq!(first_word("enable a.service", "enable"), Some("a.service"));
        assert_eq!(first_word("enable \t a b", "enable"), Some("a b"));
        assert_eq!(first_word("enable", "enable"), Some(""));
        assert_eq!(first_word("enablea.service", "enable"), None);
        assert_eq!(first_word("enable\u{a0}a.service", "enable"), None);
        assert_eq!(first_word("disable a", "enable"), None);
    }
}
