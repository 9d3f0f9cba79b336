//! What the block-device generators (cryptsetup, veritysetup, integritysetup, clonesetup)
//! and the command-line generators (debug, run) share: reading a `*tab` file line by line
//! as systemd's `read_stripped_line()` does, fstab-style option lists, systemd's
//! `unit_name_from_path()`, `fstab_node_to_udev_node()`, specifier escaping, booleans and
//! the kernel command line's words. Everything here is bounded by its input's length.

use super::{Ctx, Dir, MAX_CMDLINE, MAX_CMDLINE_WORDS, Out, Source, UnitText};
use crate::tree::ImagePath;
use crate::unit::fs::tag_to_device;
use crate::unit::name;
use crate::unit::rule_name::GeneratorName;

/// Longest line of a tab file systemd reads (`LONG_LINE_MAX`); a longer one is a read
/// error that ends the file.
const LONG_LINE_MAX: usize = 1024 * 1024;

/// Most lines of one tab file considered (a 1 MiB file of empty lines has a million; the
/// writer's cap bounds what they make, this bounds the scan).
const MAX_TAB_LINES: usize = 100_000;

/// The lines of a tab file as `read_stripped_line()` returns them: a line ends at `\n`,
/// `\r`, `\r\n` or NUL, and is stripped of surrounding whitespace; with its 1-based number.
/// Comment and empty lines are left out (their numbers still count). `None` in place of a
/// line: the file ends there with a read error (a line over `LONG_LINE_MAX`).
pub(crate) fn lines(content: &str) -> Vec<(u32, Option<&str>)> {
    let mut out = Vec::new();
    let b = content.as_bytes();
    let mut start = 0;
    let mut n: u32 = 0;
    while start < b.len() && (n as usize) < MAX_TAB_LINES {
        let mut end = start;
        while end < b.len() && !matches!(b[end], b'\n' | b'\r' | 0) {
            end += 1;
        }
        n += 1;
        if end - start > LONG_LINE_MAX {
            out.push((n, None));
            return out;
        }
        let line = crate::unit::words::strip(&content[start..end]);
        if !line.is_empty() && !line.starts_with('#') {
            out.push((n, Some(line)));
        }
        start = end;
        if start < b.len() {
            // "\r\n" is one line end.
            if b[start] == b'\r' && b.get(start + 1) == Some(&b'\n') {
                start += 1;
            }
            start += 1;
        }
    }
    out
}

/// The whitespace-separated fields of a line as `sscanf("%ms %ms …")` with `max`
/// conversions reads them: at most `max`, the rest of the line ignored (checked with
/// Debian 12's cryptsetup generator: `data UUID=… none luks, discard` is a volume with
/// options `luks,`).
pub(crate) fn fields(line: &str, max: usize) -> Vec<&str> {
    line.split_ascii_whitespace().take(max).collect()
}

/// Options of a comma list, as `fstab_filter_options()` matches them: `name` or
/// `name=value`.
fn matches<'a>(opts: Option<&'a str>, names: &[&str]) -> Vec<(&'a str, Option<&'a str>)> {
    let Some(opts) = opts else {
        return Vec::new();
    };
    opts.split(',')
        .filter_map(|o| {
            names.iter().find_map(|n| {
                let rest = o.strip_prefix(n)?;
                if rest.is_empty() {
                    Some((&o[..n.len()], None))
                } else {
                    rest.strip_prefix('=').map(|v| (&o[..n.len()], Some(v)))
                }
            })
        })
        .collect()
}

/// `fstab_test_option()`: any of `names` is among the options.
pub(crate) fn has_option(opts: Option<&str>, names: &[&str]) -> bool {
    !matches(opts, names).is_empty()
}

/// `fstab_test_yes_no_option()`: the last of `yes`/`no` wins; false if neither is there.
pub(crate) fn yes_no_option(opts: Option<&str>, yes: &str, no: &str) -> bool {
    matches(opts, &[yes, no])
        .last()
        .is_some_and(|(n, _)| *n == yes)
}

/// `fstab_filter_options(…, &value)`: whether the option is there, and its last value.
pub(crate) fn option_value<'a>(opts: Option<&'a str>, name: &str) -> (bool, Option<&'a str>) {
    let m = matches(opts, &[name]);
    (!m.is_empty(), m.last().and_then(|(_, v)| *v))
}

/// `fstab_filter_options()` with several names: whether any is there, and the last value.
pub(crate) fn option_value_any<'a>(
    opts: Option<&'a str>,
    names: &[&str],
) -> (bool, Option<&'a str>) {
    let m = matches(opts, names);
    (!m.is_empty(), m.last().and_then(|(_, v)| *v))
}

/// `path_equal()`: the same path once `//`, `.` components and trailing slashes are
/// dropped.
pub(crate) fn path_equal(a: &str, b: &str) -> bool {
    let norm = |p: &str| -> (bool, Vec<String>) {
        (
            p.starts_with('/'),
            p.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .map(str::to_string)
                .collect(),
        )
    };
    norm(a) == norm(b)
}

/// The options without those named (`ret_filtered`), `None` when nothing is left.
pub(crate) fn filter_out(opts: Option<&str>, names: &[&str]) -> Option<String> {
    let opts = opts?;
    let kept: Vec<&str> = opts
        .split(',')
        .filter(|o| {
            !names.iter().any(|n| {
                o.strip_prefix(n)
                    .is_some_and(|r| r.is_empty() || r.starts_with('='))
            })
        })
        .collect();
    let s = kept.join(",");
    (!s.is_empty()).then_some(s)
}

/// `fstab_node_to_udev_node()`: `UUID=`, `LABEL=`, `PARTUUID=`, `PARTLABEL=` become their
/// `/dev/disk/by-*` link; anything else stays as it is.
pub(crate) fn udev_node(spec: &str) -> String {
    tag_to_device(spec).unwrap_or_else(|| spec.to_string())
}

/// systemd's `unit_name_from_path()` of `version` ([`super::path_names::unit_name_from_path`],
/// the one fstab uses: a name over 255 bytes hashed from 251, as 262.1's cryptsetup
/// generator names a long device), `None` where systemd fails.
pub(crate) fn unit_from_path(path: &str, suffix: &str, version: u32) -> Option<String> {
    super::path_names::unit_name_from_path(path, suffix, version).ok()
}

/// [`unit_from_path`] for a device or mount named in a tab file or on the command line: a
/// name too long for systemd before 251 is listed as not emulated.
pub(crate) fn device_unit(
    out: &mut super::Out,
    path: &str,
    suffix: &str,
    version: u32,
) -> Option<String> {
    let u = unit_from_path(path, suffix, version);
    if u.is_none() && !path.split('/').any(|c| c == "..") {
        out.skipped(
            "paths too long for a unit name (systemd refuses them before 251) are not modelled",
        );
    }
    u
}

/// `unit_name_build(prefix, escaped instance, suffix)`, `None` if the name is invalid (too
/// long).
pub(crate) fn instance(prefix: &str, inst: &str, suffix: &str) -> Option<String> {
    let unit = format!("{prefix}@{}{suffix}", name::escape(inst));
    name::is_valid(&unit).then_some(unit)
}

/// `specifier_escape()`: `%` doubled, so a value is taken literally by the unit loader.
pub(crate) fn spec_escape(s: &str) -> String {
    s.replace('%', "%%")
}

/// `cescape()` as the cryptsetup generator uses it for key and header device mount points:
/// backslash, quotes, control and non-ASCII bytes escaped.
pub(crate) fn cescape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x0b => out.push_str("\\v"),
            b if !(0x20..0x7f).contains(&b) => out.push_str(&format!("\\{b:03o}")),
            b => out.push(b as char),
        }
    }
    out
}

/// systemd's `parse_boolean()`.
pub(crate) fn parse_boolean(v: &str) -> Option<bool> {
    match v {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// `proc_cmdline_key_streq()`: `-` and `_` are the same.
pub(crate) fn key_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || (x == b'-' && y == b'_') || (x == b'_' && y == b'-'))
}

/// The kernel command line split into words as `strv_split_full(…, EXTRACT_UNQUOTE |
/// EXTRACT_RELAX | EXTRACT_RETAIN_ESCAPE)` does: whitespace separates, `'…'` and `"…"`
/// quote (the quotes removed), a backslash is kept with the character after it.
pub(crate) fn split_cmdline(line: &str) -> Vec<String> {
    let line = match line.char_indices().nth(MAX_CMDLINE) {
        Some((i, _)) => &line[..i],
        None => line,
    };
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if words.len() >= MAX_CMDLINE_WORDS {
            return words;
        }
        match (quote, c) {
            (_, '\\') => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if crate::unit::words::is_space(c) => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word && words.len() < MAX_CMDLINE_WORDS {
        words.push(cur);
    }
    words
}

/// How reading a tab file with [`each_entry`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TabEnd {
    /// Every entry was read (or the image has no such file).
    Done,
    /// A line too long to read ended the file (systemd's `read_stripped_line()` error).
    ReadError,
    /// The caller stopped at an entry.
    Stopped,
}

/// Each entry of the tab file at `path` whose field count is in `counts` (others are skipped,
/// as the generators do), with its fields, the file's path and the entry's provenance
/// (`generator`, `path:line`); `each` returns false to stop there.
pub(crate) fn each_entry(
    ctx: &Ctx,
    path: &str,
    generator: GeneratorName,
    counts: std::ops::RangeInclusive<usize>,
    mut each: impl FnMut(&[&str], &ImagePath, &Source) -> bool,
) -> TabEnd {
    let Some((path, content)) = ctx.read(path) else {
        return TabEnd::Done;
    };
    for (n, line) in lines(&content) {
        let Some(line) = line else {
            return TabEnd::ReadError;
        };
        let f = fields(line, *counts.end());
        if !counts.contains(&f.len()) {
            continue;
        }
        let src = Source {
            generator,
            input: Some(path.clone()),
            line: Some(n),
        };
        if !each(&f, &path, &src) {
            return TabEnd::Stopped;
        }
    }
    TabEnd::Done
}

/// The links that put a block device's setup service `unit` in place
/// (`generator_add_symlink()` in the cryptsetup, veritysetup and integritysetup generators):
/// into `target`'s `.requires/` (`.wants/` with `nofail`, none with `noauto`), and into
/// `dev-mapper-<escaped>.device.requires/`.
pub(crate) fn link_setup_service(
    out: &mut Out,
    unit: &str,
    target: &str,
    escaped: &str,
    (noauto, nofail): (bool, bool),
    src: &Source,
) {
    if !noauto {
        let kind = if nofail { "wants" } else { "requires" };
        out.link(
            Dir::Normal,
            &format!("{target}.{kind}/{unit}"),
            &format!("../{unit}"),
            src,
        );
    }
    out.link(
        Dir::Normal,
        &format!("dev-mapper-{escaped}.device.requires/{unit}"),
        &format!("../{unit}"),
        src,
    );
}

/// The `[Service]` section's start of a block-device setup service: an empty line,
/// `[Service]`, `Type=oneshot`, `RemainAfterExit=yes`, and with `no_timeout` the
/// generator's `TimeoutSec=` (`infinity` from 253, `0` before).
pub(crate) fn oneshot_service(t: &mut UnitText, no_timeout: Option<u32>, src: &Source) {
    t.line("", src);
    t.line("[Service]", src);
    t.line("Type=oneshot", src);
    t.line("RemainAfterExit=yes", src);
    if let Some(version) = no_timeout {
        t.line(
            if version >= 253 {
                "TimeoutSec=infinity"
            } else {
                "TimeoutSec=0"
            },
            src,
        );
    }
}

/// `# Automatically generated by <program>` and an empty line, as
/// `generator_open_unit_file()` starts every file.
pub(crate) fn header(t: &mut UnitText, program: &str, src: &super::Source) {
    t.line(format!("# Automatically generated by {program}"), src);
    t.line("", src);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_like_read_line() {
        let l = lines("# c\na b\r\nc\rd\0e\n\n  f  ");
        assert_eq!(
            l,
            vec![
                (2, Some("a b")),
                (3, Some("c")),
                (4, Some("d")),
                (5, Some("e")),
                (7, Some("f"))
            ]
        );
        let long = format!("x\n{}\ny\n", "a".repeat(LONG_LINE_MAX + 1));
        assert_eq!(lines(&long), vec![(1, Some("x")), (2, None)]);
        // `strstrip()` strips systemd's WHITESPACE only: not Unicode's spaces, not a form
        // feed (a line of them is an entry, which the generators then fail to parse).
        assert_eq!(
            lines(" \u{a0}a\u{3000} \n\x0c\n"),
            vec![(1, Some("\u{a0}a\u{3000}")), (2, Some("\x0c"))]
        );
    }

    #[test]
    fn options_match_like_fstab_filter_options() {
        let o = Some("nofail,keyfile-timeout=5s,fail,header=/h:UUID=1,tmp");
        assert!(!yes_no_option(o, "nofail", "fail"));
        assert!(yes_no_option(Some("fail,nofail"), "nofail", "fail"));
        assert_eq!(option_value(o, "keyfile-timeout"), (true, Some("5s")));
        assert_eq!(option_value(o, "tmp"), (true, None));
        assert_eq!(option_value(o, "swap"), (false, None));
        assert!(!has_option(Some("nofailx"), &["nofail"]));
        assert_eq!(
            filter_out(
                Some("a,x-systemd.device-timeout=3,b"),
                &["x-systemd.device-timeout"]
            ),
            Some("a,b".to_string())
        );
    }

    #[test]
    fn unit_names_from_paths() {
        assert_eq!(
            unit_from_path("/dev/disk/by-uuid/12-ab", ".device", 252).as_deref(),
            Some("dev-disk-by\\x2duuid-12\\x2dab.device")
        );
        assert_eq!(
            unit_from_path("//var//./img/", ".device", 252).as_deref(),
            Some("var-img.device")
        );
        assert_eq!(
            unit_from_path("var/img", ".device", 252).as_deref(),
            Some("var-img.device")
        );
        assert_eq!(
            unit_from_path("/", ".mount", 252).as_deref(),
            Some("-.mount")
        );
        assert_eq!(unit_from_path("/a/../b", ".device", 252), None);
        assert_eq!(
            unit_from_path(&format!("/{}", "a".repeat(300)), ".device", 252),
            None
        );
        // A long name of short components: hashed from 251 (what 262.1's cryptsetup
        // generator wrote), refused before.
        let p = |n: usize| format!("/dev/disk/by-path/{}/{}/x", "p".repeat(n), "p".repeat(n));
        let hashed = unit_from_path(&p(120), ".device", 262).unwrap();
        assert!(hashed.ends_with("_f93c77b610f1adf6.device"), "{hashed}");
        assert_eq!(hashed.len(), 255);
        assert_eq!(unit_from_path(&p(120), ".device", 250), None);
        assert_eq!(
            instance("systemd-cryptsetup", "a-b", ".service").as_deref(),
            Some("systemd-cryptsetup@a\\x2db.service")
        );
    }

    #[test]
    fn cmdline_words_unquote() {
        assert_eq!(
            split_cmdline(r#"a "systemd.run=echo hi" b='c d'e \"x  "#),
            vec!["a", "systemd.run=echo hi", "b=c de", "\\\"x"]
        );
        // `extract_first_word()` splits at systemd's WHITESPACE only.
        assert_eq!(
            split_cmdline("a\u{a0}b\u{2028}c\td"),
            vec!["a\u{a0}b\u{2028}c", "d"]
        );
        assert!(key_eq("systemd.debug-shell", "systemd.debug_shell"));
        assert!(!key_eq("systemd.debug", "systemd.debug_shell"));
    }
}
