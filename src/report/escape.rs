//! Escaping at the output boundary: the one place every format asks how to write a string
//! that came from an image (a drop-in file name, a symlink target, a unit's content, a
//! setting's value, the version string in the manager binary) so that the reader sees it as
//! text and never as a control sequence or markup.
//!
//! Control characters are shown the way `systemctl` shows them: `\x1b` for a C0 byte or DEL,
//! `\u{9b}` for a C1 control or a bidirectional-override character (which reorders what a
//! terminal or browser displays). Multi-line content ([`text`], [`html_pre`]) keeps its own
//! tabs and newlines; everything that must stay on one line ([`field`] and the markup
//! escapers) shows them as `\t`, `\n`, `\r` too. Backslashes are kept as they are: systemd's
//! unit names carry `\x2d` escapes of their own, and an escape this module adds always starts
//! a run that a real control character would have occupied.
//!
//! Writers for every format call these: text (stdout and stderr), Markdown, Mermaid, DOT,
//! SVG, HTML, and the CI formats (SARIF/GitHub/JUnit/GitLab: use [`field`] for one-line
//! messages, [`html`] for XML attribute and text content).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a reader raw: C0 controls, DEL, C1 controls, the
/// bidirectional marks (left-to-right, right-to-left, Arabic letter mark) and the
/// embedding/override/isolate characters; the invisible ones that make two different
/// names print alike (soft hyphen, zero-width space, non-joiner and joiner, word joiner and
/// the invisible operators, the byte order mark); and the line and paragraph separators,
/// which break a line where a reader expects none.
fn is_hostile(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{ad}' | '\u{61c}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Append the visible form of a hostile character.
fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Escape every character for which `bad` holds; borrow when there is none.
fn escape_with(s: &str, bad: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = s.find(&bad) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if bad(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Multi-line text for a terminal or a pipe (a report, `cat`'s content): keeps newlines and
/// tabs, shows every other control character as `\x1b`, `\u{9b}`….
pub fn text(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| c != '\n' && c != '\t' && is_hostile(c))
}

/// One line of text (a name, a path, a value, a warning): like [`text`], and newlines, tabs
/// and carriage returns shown as `\n`, `\t`, `\r`, so the string cannot forge other lines.
pub fn field(s: &str) -> Cow<'_, str> {
    escape_with(s, is_hostile)
}

/// Raw bytes from an image (file content) as multi-line text: invalid UTF-8 becomes U+FFFD,
/// control characters are escaped as in [`text`].
pub fn text_bytes(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    text(&s).into_owned()
}

/// HTML/XML text or attribute value (SVG too): `& < > " '` as entities and control
/// characters shown as in [`field`] (XML 1.0 cannot carry most of them even as references).
pub fn html(s: &str) -> String {
    html_with(s, is_hostile)
}

/// HTML/XML content of a `<pre>` block: like [`html`], but keeps newlines and tabs.
pub fn html_pre(s: &str) -> String {
    html_with(s, |c| c != '\n' && c != '\t' && is_hostile(c))
}

fn html_with(s: &str, bad: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if bad(c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// A Markdown inline code span showing `s` on one line. Code spans take no escapes, so the
/// fence grows past any run of backticks inside; line breaks (which would let the rest of
/// the string start a heading, an HTML block or a list) and control characters are shown
/// as [`field`] does.
pub fn markdown_code(s: &str) -> String {
    let s = field(s);
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A Markdown fenced code block: the fence is longer than any backtick run in `body`, and
/// control characters other than newline and tab are escaped.
pub fn markdown_fenced(lang: &str, body: &str) -> String {
    let body = text(body);
    // Only a backtick run at the start of a line could close the block, but any run is a
    // safe bound.
    let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
    let nl = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{}\n{body}{nl}{fence}", field(lang))
}

/// Plain Markdown text on one line: every ASCII punctuation character that could start
/// markup (emphasis, links, images, raw HTML, headings, lists, tables) is backslash-escaped,
/// and control characters are shown as [`field`] does.
pub fn markdown_text(s: &str) -> String {
    let s = field(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text inside a Mermaid quoted label (`["…"]`, `|"…"|`): `#` first (entity syntax), then
/// backslashes, quotes, `&`, `<`, `>` as entity codes (Mermaid renders labels as HTML), and
/// control characters shown as [`field`] does, with the backslash of that form coded too.
pub fn mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '\\' => out.push_str("#92;"),
            '&' => out.push_str("#38;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            c if is_hostile(c) => {
                let mut v = String::new();
                push_visible(&mut v, c);
                out.push_str(&v.replace('\\', "#92;"));
            }
            c => out.push(c),
        }
    }
    out
}

/// The inside of a DOT quoted string: `\` and `"` escaped (so Graphviz's `\N`, `\G`, `\l`
/// escapes cannot be injected), a newline as DOT's `\n` line break when `keep_breaks`, every
/// other control character shown as `\x1b` text (Graphviz would pass it raw into its SVG).
pub fn dot(s: &str, keep_breaks: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' if keep_breaks => out.push_str("\\n"),
            c if is_hostile(c) => {
                let mut v = String::new();
                push_visible(&mut v, c);
                out.push_str(&v.replace('\\', "\\\\"));
            }
            c => out.push(c),
        }
    }
    out
}

/// Serialized JSON made safe to print on a terminal: serde_json escapes C0 controls but
/// passes DEL, C1 controls and bidi overrides through raw; they can only occur inside JSON
/// strings, where `\u00XX` means the same character.
pub fn json(serialized: &str) -> Cow<'_, str> {
    let bad = |c: char| c >= '\u{7f}' && is_hostile(c);
    let Some(first) = serialized.find(bad) else {
        return Cow::Borrowed(serialized);
    };
    let mut out = String::with_capacity(serialized.len() + 16);
    out.push_str(&serialized[..first]);
    for c in serialized[first..].chars() {
        if bad(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payloads of the hostile-input issue: clear screen, clipboard write (OSC 52),
    /// window title (OSC 0), hyperlink (OSC 8), C1 CSI, bidi override, line breaks,
    /// backticks, raw HTML.
    pub const PAYLOADS: &[&str] = &[
        "\x1b[2J",
        "\x1b]52;c;ZXZpbA==\x07",
        "\x1b]0;pwned\x07",
        "\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\",
        "\u{9b}31m",
        "a\u{202e}b",
        "x\ny\r\n# heading",
        "``` `code` ```",
        "<img src=x onerror=alert(1)>",
        "10-over\u{200b}ride\u{2028}.conf",
    ];

    fn no_controls(s: &str, keep_lines: bool) {
        for c in s.chars() {
            let allowed = keep_lines && (c == '\n' || c == '\t');
            assert!(allowed || !is_hostile(c), "{c:?} survived in {s:?}");
        }
    }

    #[test]
    fn text_shows_controls_keeps_lines() {
        assert_eq!(text("a\x1b[2Jb\n\tc\x07"), "a\\x1b[2Jb\n\tc\\x07");
        assert_eq!(text("plain \\x2d"), "plain \\x2d");
        assert!(matches!(text("plain"), Cow::Borrowed(_)));
        assert_eq!(text("\u{9b}m"), "\\u{9b}m");
        // Every bidirectional mark, the Arabic letter mark included.
        assert_eq!(
            field("a\u{61c}b\u{200e}c\u{200f}d"),
            "a\\u{61c}b\\u{200e}c\\u{200f}d"
        );
        // The invisible characters and the line separators: two names that print alike
        // (`10-over\u{200b}ride.conf`) are told apart.
        assert_eq!(
            field("10-over\u{200b}ride.conf\u{2028}x\u{feff}\u{ad}\u{2060}\u{200d}"),
            "10-over\\u{200b}ride.conf\\u{2028}x\\u{feff}\\u{ad}\\u{2060}\\u{200d}"
        );
        assert_eq!(text("a\u{2029}b"), "a\\u{2029}b");
        for p in PAYLOADS {
            no_controls(&text(p), true);
        }
    }

    #[test]
    fn field_is_one_line() {
        assert_eq!(field("a\nb\tc\rd\x7f"), "a\\nb\\tc\\rd\\x7f");
        for p in PAYLOADS {
            let f = field(p);
            no_controls(&f, false);
            assert!(!f.contains('\n'));
        }
    }

    #[test]
    fn html_has_no_markup() {
        assert_eq!(
            html("<img src=x onerror='a'>&\"\x1b"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;\\x1b"
        );
        assert_eq!(html_pre("a\n<b>\t"), "a\n&lt;b&gt;\t");
        for p in PAYLOADS {
            let h = html(p);
            no_controls(&h, false);
            assert!(!h.contains('<') && !h.contains('>') && !h.contains('"'));
        }
    }

    #[test]
    fn markdown_code_cannot_be_left() {
        assert_eq!(markdown_code("a.service"), "`a.service`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`a"), "`` `a ``");
        assert_eq!(markdown_code("a\n# h"), "`a\\n# h`");
        for p in PAYLOADS {
            let c = markdown_code(p);
            no_controls(&c, false);
            assert!(!c.contains('\n'));
            // The span's fence is longer than every backtick run inside it.
            let fence = c.chars().take_while(|&c| c == '`').count();
            let inner = &c[fence..c.len() - fence];
            assert!(longest_run(inner, '`') < fence, "{c}");
        }
    }

    #[test]
    fn markdown_fenced_block_cannot_be_left() {
        let f = markdown_fenced("diff", "+a\n```\n<img src=x>\n\x1b[2J");
        assert!(f.starts_with("````diff\n"));
        assert!(f.ends_with("\n````"));
        assert!(f.contains("\\x1b[2J"));
    }

    #[test]
    fn markdown_text_escapes_markup() {
        assert_eq!(markdown_text("<b>*x*"), "\\<b\\>\\*x\\*");
        for p in PAYLOADS {
            let t = markdown_text(p);
            no_controls(&t, false);
            assert!(!t.contains('\n'));
        }
    }

    #[test]
    fn mermaid_label_is_inert() {
        assert_eq!(mermaid("a\"<b>#\\"), "a#quot;#lt;b#gt;#35;#92;");
        for p in PAYLOADS {
            let m = mermaid(p);
            no_controls(&m, false);
            for bad in ['"', '<', '>', '\\', '`', '\n'] {
                assert!(!m.contains(bad), "{bad:?} in {m}");
            }
        }
    }

    #[test]
    fn json_keeps_meaning() {
        let v = serde_json::json!({ "k": "a\u{9b}b\u{7f}\u{202e}\x1b" });
        let out = json(&serde_json::to_string(&v).unwrap()).into_owned();
        assert_eq!(out, r#"{"k":"a\u009bb\u007f\u202e\u001b"}"#);
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn dot_string_is_closed() {
        assert_eq!(dot("a\\x2d\"b\nc", true), "a\\\\x2d\\\"b\\nc");
        assert_eq!(dot("\x1b", true), "\\\\x1b");
        assert_eq!(dot("\n", false), "\\\\n");
        for p in PAYLOADS {
            let d = dot(p, true);
            no_controls(&d, false);
            // Every quote inside is escaped: an even run of backslashes never precedes one.
            let b = d.as_bytes();
            for (i, &c) in b.iter().enumerate() {
                if c == b'"' {
                    let run = b[..i].iter().rev().take_while(|&&c| c == b'\\').count();
                    assert_eq!(run % 2, 1, "{d}");
                }
            }
        }
    }
}
