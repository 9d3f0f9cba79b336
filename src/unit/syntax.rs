//! One unit file's bytes → its assignments, with line numbers (systemd.syntax(7) and
//! `conf-parser.c`). Version-dependent rules come from [`Rules`].
//!
//! Lines end at `\n`, `\r\n`, `\r` or NUL. Leading/trailing whitespace is stripped; `#` and
//! `;` start a comment only as the first non-blank character. A line whose last byte is an
//! unescaped backslash continues on the next one (the backslash becomes a space). Section
//! headers must be the whole line. Fatal conditions (an invalid section header, invalid UTF-8,
//! a line over the limit) stop parsing: what was parsed before stays, and the caller decides
//! what a fatal error means for the unit.
//!
//! An assignment's line number is the line where it starts (systemd's own messages cite the
//! last line of a continuation; the first is where a reader finds the key).

use super::version::Rules;

/// One `Key=value` line inside a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub section: String,
    pub key: String,
    pub value: String,
    pub line: u32,
}

/// A warning or error tied to a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: u32,
    pub message: String,
}

/// An `.include FILE` line (before v246): FILE is read in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    /// As written (relative to the including file's directory unless absolute).
    pub path: String,
    pub line: u32,
    /// How many of [`ParsedFile::assignments`] come before it.
    pub at: usize,
}

/// The result of parsing one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub assignments: Vec<Assignment>,
    /// `.include` lines, in order (only for versions that have them).
    pub includes: Vec<Include>,
    pub warnings: Vec<Diagnostic>,
    /// Set when parsing stopped on a fatal error.
    pub fatal: Option<Diagnostic>,
}

const BOM: &[u8] = b"\xef\xbb\xbf";

fn is_ws(c: u8) -> bool {
    super::words::is_space_byte(c)
}

fn strip(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_ws(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_ws(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Split into physical lines on `\n`, `\r\n`, `\r` and NUL.
fn physical_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\0' => {
                lines.push(&bytes[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(&bytes[start..i]);
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        lines.push(&bytes[start..]);
    }
    lines
}

/// Whether the line ends in an unescaped backslash.
fn continues(line: &[u8]) -> bool {
    let mut escaped = false;
    for &c in line {
        if escaped {
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
        }
    }
    escaped
}

/// Parse a unit file or drop-in. `sections` are the sections known for this unit type;
/// others are ignored (with a warning unless they start with `X-`).
pub fn parse(bytes: &[u8], sections: &[&str], rules: &Rules) -> ParsedFile {
    let mut out = ParsedFile::default();
    let mut bytes = bytes;
    if rules.strips_bom()
        && let Some(rest) = bytes.strip_prefix(BOM)
    {
        bytes = rest;
    }
    let mut section: Option<String> = None;
    let mut section_ignored = false;
    let mut continuation: Option<(Vec<u8>, u32)> = None;

    for (idx, raw) in physical_lines(bytes).into_iter().enumerate() {
        let line = idx as u32 + 1;
        if let Some(limit) = rules.line_limit() {
            let joined = continuation.as_ref().map_or(0, |(c, _)| c.len());
            if raw.len() + joined > limit {
                out.fatal = Some(Diagnostic {
                    line,
                    message: format!("line too long (limit {limit} bytes)"),
                });
                return out;
            }
        }
        let trimmed = strip(raw);
        let is_comment = matches!(trimmed.first(), Some(b'#' | b';'));
        if is_comment && (continuation.is_none() || rules.skips_comments_in_continuation()) {
            continue;
        }
        let (mut logical, start) = match continuation.take() {
            Some((mut c, start)) => {
                if trimmed.is_empty() && !rules.empty_line_ends_continuation() {
                    continuation = Some((c, start));
                    continue;
                }
                c.extend_from_slice(raw);
                (c, start)
            }
            None => (raw.to_vec(), line),
        };
        // What comes before `raw` ends in the space that replaced a continuation's
        // backslash, so only `raw` decides (rescanning the joined line was quadratic).
        if continues(raw) {
            let n = logical.len();
            logical[n - 1] = b' ';
            continuation = Some((logical, start));
            continue;
        }
        if let Err(d) = parse_line(
            &logical,
            start,
            sections,
            rules,
            &mut section,
            &mut section_ignored,
            &mut out,
        ) {
            out.fatal = Some(d);
            return out;
        }
    }
    if let Some((logical, start)) = continuation
        && let Err(d) = parse_line(
            &logical,
            start,
            sections,
            rules,
            &mut section,
            &mut section_ignored,
            &mut out,
        )
    {
        out.fatal = Some(d);
    }
    out
}

fn parse_line(
    logical: &[u8],
    line: u32,
    sections: &[&str],
    rules: &Rules,
    section: &mut Option<String>,
    section_ignored: &mut bool,
    out: &mut ParsedFile,
) -> Result<(), Diagnostic> {
    let l = strip(logical);
    if l.is_empty() || matches!(l[0], b'#' | b';') {
        return Ok(());
    }
    if rules.dot_include()
        && let Some(rest) = l.strip_prefix(b".include")
    {
        // Before v239 `startswith(l, ".include ")`; from v239 `first_word()`: any
        // whitespace, or the end of the line.
        let word = if rules.include_first_word() {
            rest.first().is_none_or(|c| is_ws(*c))
        } else {
            rest.first() == Some(&b' ')
        };
        if word {
            out.includes.push(Include {
                path: String::from_utf8_lossy(strip(rest)).into_owned(),
                line,
                at: out.assignments.len(),
            });
            return Ok(());
        }
    }
    let text = match std::str::from_utf8(l) {
        Ok(t) => t.to_string(),
        Err(_) if rules.checks_utf8() => {
            return Err(Diagnostic {
                line,
                message: "invalid UTF-8".to_string(),
            });
        }
        Err(_) => String::from_utf8_lossy(l).into_owned(),
    };
    let warn = |out: &mut ParsedFile, message: String| {
        out.warnings.push(Diagnostic { line, message });
    };
    if let Some(inner) = text.strip_prefix('[') {
        let Some(name) = inner.strip_suffix(']') else {
            return Err(Diagnostic {
                line,
                message: format!("invalid section header '{text}'"),
            });
        };
        if sections.contains(&name) {
            *section = Some(name.to_string());
            *section_ignored = false;
        } else {
            if !name.starts_with("X-") {
                warn(out, format!("unknown section '{name}', ignoring"));
            }
            *section = None;
            *section_ignored = true;
        }
        return Ok(());
    }
    let Some(sec) = section.as_ref() else {
        if !*section_ignored {
            warn(out, "assignment outside of section, ignoring".to_string());
        }
        return Ok(());
    };
    let Some(eq) = text.find('=') else {
        if rules.missing_equals_is_fatal() {
            return Err(Diagnostic {
                line,
                message: "missing '='".to_string(),
            });
        }
        warn(out, "missing '=', ignoring line".to_string());
        return Ok(());
    };
    let key = super::words::strip(&text[..eq]);
    if key.is_empty() {
        warn(
            out,
            "missing key name before '=', ignoring line".to_string(),
        );
        return Ok(());
    }
    let value = super::words::strip(&text[eq + 1..]);
    out.assignments.push(Assignment {
        section: sec.clone(),
        key: key.to_string(),
        value: value.to_string(),
        line,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &[&str] = &["Unit", "Service", "Install"];

    fn kv(p: &ParsedFile) -> Vec<(String, String, String, u32)> {
        p.assignments
            .iter()
            .map(|a| (a.section.clone(), a.key.clone(), a.value.clone(), a.line))
            .collect()
    }

    fn v252() -> Rules {
        Rules::new(252, 0)
    }

    #[test]
    fn sections_comments_and_whitespace() {
        let p = parse(
            b"# comment\n; other\n[Unit]\n  Wants = a.service b.service  \n\n[Service]\nExecStart=/bin/true\n",
            S,
            &v252(),
        );
        assert_eq!(
            kv(&p),
            vec![
                (
                    "Unit".into(),
                    "Wants".into(),
                    "a.service b.service".into(),
                    4
                ),
                ("Service".into(), "ExecStart".into(), "/bin/true".into(), 7)
            ]
        );
        assert!(p.fatal.is_none());
    }

    #[test]
    fn no_inline_comments_and_no_unquoting() {
        let p = parse(
            b"[Unit]\nWants=a.service # x\nAfter=\"q.service\"\n",
            S,
            &v252(),
        );
        assert_eq!(p.assignments[0].value, "a.service # x");
        assert_eq!(p.assignments[1].value, "\"q.service\"");
    }

    #[test]
    fn continuation_with_comment_lines_inside() {
        let p = parse(
            b"[Unit]\nWants=a.service \\\n# comment inside\n  b.service \\\n; another\n c.service\nAfter=x.service\n",
            S,
            &v252(),
        );
        assert_eq!(p.assignments[0].value, "a.service    b.service   c.service");
        assert_eq!(p.assignments[0].line, 2);
        assert_eq!(p.assignments[1].key, "After");
        assert_eq!(p.assignments[1].line, 7);
    }

    #[test]
    fn continuation_ends_at_empty_line_and_at_eof() {
        let p = parse(
            b"[Unit]\nWants=a.service \\\n\nAfter=b.service \\",
            S,
            &v252(),
        );
        assert_eq!(kv(&p)[0].2, "a.service");
        assert_eq!(kv(&p)[1].2, "b.service");
    }

    #[test]
    fn escaped_backslash_and_trailing_space_do_not_continue() {
        let p = parse(b"[Unit]\nWants=a\\\\\nAfter=b\\ \nBefore=c\n", S, &v252());
        assert_eq!(p.assignments.len(), 3);
        assert_eq!(p.assignments[0].value, "a\\\\");
    }

    #[test]
    fn old_versions_end_continuation_at_comment() {
        // v225: the comment is appended to the value and ends the continuation.
        let p = parse(
            b"[Unit]\nWants=a \\\n# c\nb.service\n",
            S,
            &Rules::new(225, 0),
        );
        assert_eq!(p.assignments[0].value, "a  # c");
        assert!(p.fatal.is_some(), "a line without '=' is fatal before v243");
    }

    #[test]
    fn crlf_nul_and_bom() {
        let p = parse(
            b"\xef\xbb\xbf[Unit]\r\nWants=a.service\r\nAfter=b.service\0Before=c.service\n",
            S,
            &v252(),
        );
        assert_eq!(
            kv(&p).iter().map(|k| k.2.as_str()).collect::<Vec<_>>(),
            ["a.service", "b.service", "c.service"]
        );
        assert_eq!(p.assignments[2].line, 4);
        // Before v230 the BOM spoils the first header: everything lands outside a section.
        let old = parse(
            b"\xef\xbb\xbf[Unit]\nWants=a.service\n",
            S,
            &Rules::new(225, 0),
        );
        assert!(old.assignments.is_empty());
    }

    #[test]
    fn invalid_section_header_is_fatal_but_keeps_earlier_lines() {
        let p = parse(
            b"[Unit]\nWants=a.service\n[Unit] # x\nWants=b.service\n",
            S,
            &v252(),
        );
        assert_eq!(p.assignments.len(), 1);
        assert_eq!(p.fatal.as_ref().unwrap().line, 3);
    }

    #[test]
    fn unknown_sections_and_case() {
        let p = parse(
            b"[unit]\nWants=a.service\n[X-Foo]\nWants=b.service\n[Unit]\nwants=c.service\n",
            S,
            &v252(),
        );
        // Section names are case-sensitive; keys are passed on (the loader ignores `wants`).
        assert_eq!(
            kv(&p),
            vec![("Unit".into(), "wants".into(), "c.service".into(), 6)]
        );
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    }

    #[test]
    fn missing_equals_and_outside_section() {
        let p = parse(
            b"Wants=x.service\n[Unit]\nfoo\n=bar\nWants=a.service\n",
            S,
            &v252(),
        );
        assert_eq!(p.assignments.len(), 1);
        assert_eq!(p.warnings.len(), 3);
        assert!(p.fatal.is_none());
    }

    #[test]
    fn invalid_utf8_is_fatal_from_239() {
        let p = parse(
            b"[Unit]\nWants=a.service\nAfter=\xff.service\nWants=b.service\n",
            S,
            &v252(),
        );
        assert_eq!(p.assignments.len(), 1);
        assert_eq!(p.fatal.as_ref().unwrap().line, 3);
        // A comment line may hold anything.
        let p = parse(b"[Unit]\n# \xff\nWants=a.service\n", S, &v252());
        assert!(p.fatal.is_none());
        assert_eq!(p.assignments.len(), 1);
    }

    #[test]
    fn overlong_line_is_fatal() {
        let mut b = b"[Unit]\nWants=a.service\nDescription=".to_vec();
        b.extend(std::iter::repeat_n(b'x', 1024 * 1024 + 1));
        let p = parse(&b, S, &v252());
        assert_eq!(p.assignments.len(), 1);
        assert_eq!(p.fatal.as_ref().unwrap().line, 3);
    }

    #[test]
    fn repeated_sections_continue() {
        let p = parse(
            b"[Unit]\nWants=a.service\n[Service]\n[Unit]\nWants=b.service\n",
            S,
            &v252(),
        );
        assert_eq!(p.assignments.len(), 2);
        assert!(p.assignments.iter().all(|a| a.section == "Unit"));
    }

    #[test]
    fn empty_value_is_kept() {
        let p = parse(b"[Unit]\nWants=\n", S, &v252());
        assert_eq!(p.assignments[0].value, "");
    }

    #[test]
    fn include_lines_by_version() {
        let text = b"[Unit]\nWants=a.service\n.include ../x.service\n.include\tb.service\nWants=c.service\n";
        let p = parse(text, S, &Rules::new(225, 0));
        // 225: `.include ` with a space; the tab form is a line without '=', fatal.
        assert_eq!(p.includes.len(), 1);
        assert_eq!(
            (
                p.includes[0].path.as_str(),
                p.includes[0].line,
                p.includes[0].at
            ),
            ("../x.service", 3, 1)
        );
        assert_eq!(p.fatal.as_ref().map(|f| f.line), Some(4));
        let p = parse(text, S, &Rules::new(245, 0));
        assert_eq!(p.includes.len(), 2);
        assert_eq!(p.includes[1].path, "b.service");
        assert_eq!(p.assignments.len(), 2);
        // 246: gone; the lines are lines without '=' (a warning since 243).
        let p = parse(text, S, &Rules::new(246, 0));
        assert!(p.includes.is_empty());
        assert!(p.fatal.is_none());
        assert_eq!(p.warnings.len(), 2);
    }
}
