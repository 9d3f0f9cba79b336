//! The entries of an fstab as `systemd-fstab-generator` reads them: up to 258 with glibc's
//! `setmntent()`/`getmntent()` (checked with the generators of Debian 12, glibc 2.36, and
//! Debian 13, 257.13 on glibc 2.41), from 259 with libmount (systemd PR #38929, merged
//! after 258 was released; checked with sid's 262.1). Bounded by the file's length (at
//! most 1 MiB, [`super::Ctx::read`]).

/// One fstab line's fields (`struct mntent`), escapes decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MntEnt {
    /// The line it came from, 1-based.
    pub line: u32,
    pub fsname: String,
    pub dir: String,
    /// The type, `""` when the line has none (glibc; libmount skips such a line).
    pub fstype: String,
    /// The options, `""` when the line has none (glibc) or `defaults` (libmount, 259+).
    pub opts: String,
    /// `fs_passno`: only whether it is 0 matters.
    pub passno: i64,
}

/// glibc's `getmntent()` buffer (`BUFFER_SIZE` in `misc/mntent.c`): a line is read with
/// `fgets(buf, 4096)`, so at most 4,095 bytes of it; the rest of a longer line is dropped.
const MNTENT_BUFFER: usize = 4096;

/// The first systemd whose fstab-generator reads fstab with libmount.
const LIBMOUNT_FROM: u32 = 259;

/// The entries of `content` as systemd `version` reads them.
pub(crate) fn entries(content: &[u8], version: u32) -> Vec<MntEnt> {
    if version >= LIBMOUNT_FROM {
        libmount_entries(content)
    } else {
        glibc_entries(content)
    }
}

/// `fgets(buf, size)` at `pos`: the bytes read (up to a `\n`, included, or `size - 1`
/// bytes) and where the next read starts.
fn fgets(content: &[u8], pos: usize, size: usize) -> (&[u8], usize) {
    let end = content.len().min(pos + size - 1);
    match content[pos..end].iter().position(|&b| b == b'\n') {
        Some(i) => (&content[pos..pos + i + 1], pos + i + 1),
        None => (&content[pos..end], end),
    }
}

/// glibc's `decode_name()`: only `\040` (space), `\011` (tab), `\012` (newline), `\134` and
/// `\\` (backslash) are escapes; any other backslash stays as it is.
fn decode_name(field: &[u8]) -> String {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let rest = &field[i..];
        let (byte, len) = if rest.starts_with(b"\\040") {
            (b' ', 4)
        } else if rest.starts_with(b"\\011") {
            (b'\t', 4)
        } else if rest.starts_with(b"\\012") {
            (b'\n', 4)
        } else if rest.starts_with(b"\\\\") {
            (b'\\', 2)
        } else if rest.starts_with(b"\\134") {
            (b'\\', 4)
        } else {
            (rest[0], 1)
        };
        out.push(byte);
        i += len;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `strsep(&head, " \t")` followed by skipping blanks, as `getmntent()` takes each field.
fn next_field<'a>(head: &mut Option<&'a [u8]>) -> Option<&'a [u8]> {
    let h = (*head)?;
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let (field, rest) = match h.iter().position(is_blank) {
        Some(i) => (&h[..i], Some(&h[i + 1..])),
        None => (h, None),
    };
    *head = rest.map(|r| {
        let skip = r.iter().take_while(|b| is_blank(b)).count();
        &r[skip..]
    });
    Some(field)
}

/// C's `isspace()` (in the C locale), which `sscanf()` and `strtol()` skip: also vertical
/// tab and form feed.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `sscanf(s, " %d %d ", &freq, &passno)`: how many numbers it converted, `-1` (EOF) when
/// `s` holds nothing but whitespace; `passno` is the second.
fn scan_numbers(s: &[u8]) -> (i32, i64) {
    let mut pos = 0;
    let mut numbers = Vec::new();
    for _ in 0..2 {
        while pos < s.len() && c_space(s[pos]) {
            pos += 1;
        }
        if pos == s.len() {
            return (if numbers.is_empty() { -1 } else { 1 }, 0);
        }
        let start = pos;
        if matches!(s[pos], b'+' | b'-') {
            pos += 1;
        }
        let digits = s[pos..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            break;
        }
        pos += digits;
        // `%d`: strtol() into a C int (4294967296 is 0; 252's and 257.13's binaries).
        let n = std::str::from_utf8(&s[start..pos])
            .ok()
            .and_then(c_int)
            .unwrap_or(1);
        numbers.push(n);
    }
    (numbers.len() as i32, numbers.get(1).copied().unwrap_or(0))
}

/// glibc 2.36's `getmntent_r()`: lines end at `\n` (a line over 4,095 bytes is cut there
/// and the rest of it dropped, a NUL ends it too); trailing blanks of a whole line are
/// stripped; blank lines and lines whose first non-blank is `#` are skipped; fields are
/// separated by spaces and tabs; a missing field is empty; `passno` is 0 unless a second
/// number follows the options, and keeps the previous entry's value when only blanks do
/// (`sscanf()` returns EOF and the static `struct mntent` is not reset).
fn glibc_entries(content: &[u8]) -> Vec<MntEnt> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut line = 1u32;
    let mut passno = 0i64;
    while pos < content.len() {
        let start_line = line;
        let (chunk, next) = fgets(content, pos, MNTENT_BUFFER);
        line += chunk.iter().filter(|&&b| b == b'\n').count() as u32;
        pos = next;
        // The C string ends at the first NUL.
        let cstr = match chunk.iter().position(|&b| b == 0) {
            Some(i) => &chunk[..i],
            None => chunk,
        };
        let mut buf = cstr;
        if let Some(nl) = cstr.iter().position(|&b| b == b'\n') {
            buf = &cstr[..nl];
            while let [rest @ .., b' ' | b'\t'] = buf {
                buf = rest;
            }
        } else {
            // Not the whole line was read: the rest of it is read and forgotten.
            while pos < content.len() {
                let (tmp, next) = fgets(content, pos, 1024);
                line += tmp.iter().filter(|&&b| b == b'\n').count() as u32;
                pos = next;
                let tmp_str = match tmp.iter().position(|&b| b == 0) {
                    Some(i) => &tmp[..i],
                    None => tmp,
                };
                if tmp_str.contains(&b'\n') {
                    break;
                }
            }
        }
        let skip = buf.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        let head = &buf[skip..];
        if head.is_empty() || head[0] == b'#' {
            continue;
        }
        let mut head = Some(head);
        let mut field = || next_field(&mut head).map(decode_name).unwrap_or_default();
        let (fsname, dir, fstype, opts) = (field(), field(), field(), field());
        let (count, p) = head.map_or((0, 0), scan_numbers);
        match count {
            -1 => {}
            2 => passno = p,
            _ => passno = 0,
        }
        out.push(MntEnt {
            line: start_line,
            fsname,
            dir,
            fstype,
            opts,
            passno,
        });
    }
    out
}

/// A whole field read as libmount's `next_num()` reads it: `strtol()` (an optional sign,
/// decimal digits, nothing after them) into a C `int` (the low 32 bits).
fn c_int(field: &str) -> Option<i64> {
    let digits = field.strip_prefix(['+', '-']).unwrap_or(field);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // strtol() saturates at the range of a 64-bit long, then the int keeps the low bits.
    let v: i64 = field.parse().unwrap_or(if field.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    });
    Some(i64::from(v as i32))
}

/// An fstab field with libmount's octal escapes (`\040`) decoded.
fn unescape_octal(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            // `\777` is 511: the byte keeps its low eight bits, as a C char cast does.
            let v = u32::from(b[i + 1] - b'0') * 64
                + u32::from(b[i + 2] - b'0') * 8
                + u32::from(b[i + 3] - b'0');
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libmount's blanks (`skip_blank()`, `skip_separator()`, and `unmangle()`'s end of a
/// field): space and tab, nothing else (not `\r`, form feed or Unicode's spaces).
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// libmount's `mnt_table_parse_file()` as 262.1's generator reads fstab (util-linux
/// `tab_parse.c`): a line ends at `\n` (one `\r` before it is dropped), leading blanks are
/// skipped, fields are separated by runs of blanks (space and tab only), octal escapes
/// decoded in the first four, options `defaults` when missing.
fn libmount_entries(content: &[u8]) -> Vec<MntEnt> {
    let text = String::from_utf8_lossy(content);
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = raw.trim_start_matches(is_blank);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(is_blank).filter(|f| !f.is_empty()).collect();
        // libmount needs source, target and type, and whole numbers for the dump frequency
        // and the pass (what follows them is ignored); it skips any other line (262.1's
        // binary). The numbers are read as written (`strtol()`, which skips C's leading
        // white space), not unescaped.
        let numbers: Option<Vec<i64>> = fields
            .iter()
            .skip(4)
            .take(2)
            .map(|f| c_int(f.trim_start_matches(|c: char| c.is_ascii() && c_space(c as u8))))
            .collect();
        let Some(numbers) = numbers.filter(|_| fields.len() >= 3) else {
            continue;
        };
        let field = |n: usize, dflt: &str| {
            fields
                .get(n)
                .map_or_else(|| dflt.into(), |f| unescape_octal(f))
        };
        out.push(MntEnt {
            line: i as u32 + 1,
            fsname: field(0, ""),
            dir: field(1, ""),
            fstype: unescape_octal(fields[2]),
            opts: field(3, "defaults"),
            passno: numbers.get(1).copied().unwrap_or(0),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<(String, String, String, String, i64)> {
        entries(text.as_bytes(), 252)
            .into_iter()
            .map(|e| (e.fsname, e.dir, e.fstype, e.opts, e.passno))
            .collect()
    }

    /// What glibc 2.36's `getmntent()` returned for the same lines (Debian 12, through
    /// Python's ctypes).
    #[test]
    fn glibc_reads_fields_like_getmntent() {
        let s = |v: &str| v.to_string();
        assert_eq!(
            one("/dev/a\\041b /mnt/x\\\\y\\134z\\011t ty\\040pe op\\040t 1 2\n  \t# c\n"),
            vec![(
                s("/dev/a\\041b"),
                s("/mnt/x\\y\\z\tt"),
                s("ty pe"),
                s("op t"),
                2
            )]
        );
        assert_eq!(
            one("/dev/b\t/mnt/q\r\n/dev/c /mnt/r   \n /dev/d\n\n/dev/e /mnt/f\\0401 t o x\n"),
            vec![
                (s("/dev/b"), s("/mnt/q\r"), s(""), s(""), 0),
                (s("/dev/c"), s("/mnt/r"), s(""), s(""), 0),
                (s("/dev/d"), s(""), s(""), s(""), 0),
                (s("/dev/e"), s("/mnt/f 1"), s("t"), s("o"), 0),
            ]
        );
        // Only blanks after the options on a last line without `\n`: passno is kept.
        assert_eq!(one("a /b t o 0 1\nc /d t o ")[1].4, 1);
        let lines: Vec<u32> = entries(b"# x\n\na /b\n\nc /d\n", 252)
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, vec![3, 5]);
    }

    #[test]
    fn glibc_cuts_long_lines() {
        let long = format!("/dev/a /{} t o 0 1\n/dev/b /c\n", "x".repeat(5000));
        let e = entries(long.as_bytes(), 252);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].dir.len(), 4095 - "/dev/a ".len());
        assert_eq!((e[0].fstype.as_str(), e[0].passno), ("", 0));
        assert_eq!((e[1].dir.as_str(), e[1].line), ("/c", 2));
    }

    /// What 262.1's generator (libmount) made of these lines: only `b`, `d`, `g`, `h`
    /// and `i` became mounts, `h` without fsck.
    #[test]
    fn libmount_skips_lines_without_a_type_or_with_a_bad_number() {
        let text = "/dev/sdb1 /mnt/a ext4 defaults 0 1x\n/dev/sdb2 /mnt/b ext4 defaults 0 +1\n\
                    /dev/sdb3 /mnt/c ext4 defaults x 1\n/dev/sdb4 /mnt/d ext4 defaults 0 1 extra\n\
                    /dev/sdb5 /mnt/e ext4 defaults 1x\n/dev/sdb6 /mnt/f\n\
                    /dev/sdb7 /mnt/g ext4 defaults 0 -0\n/dev/sdb8 /mnt/h ext4 defaults 0 4294967296\n\
                    /dev/sdb9 /mnt/i ext4\n/mnt/j\\041 /mnt/k\\\\l ext4\n";
        let got: Vec<(String, i64, String)> = entries(text.as_bytes(), 262)
            .into_iter()
            .map(|e| (e.dir, e.passno, e.opts))
            .collect();
        let want = |d: &str, p: i64, o: &str| (d.to_string(), p, o.to_string());
        assert_eq!(
            got,
            vec![
                want("/mnt/b", 1, "defaults"),
                want("/mnt/d", 1, "defaults"),
                want("/mnt/g", 0, "defaults"),
                want("/mnt/h", 0, "defaults"),
                want("/mnt/i", 0, "defaults"),
                want("/mnt/k\\\\l", 0, "defaults"),
            ]
        );
        // Up to 258 the same lines are glibc's: every one read, `\\` one backslash.
        let glibc = entries(text.as_bytes(), 258);
        assert_eq!(glibc.len(), 10);
        assert_eq!(glibc[9].dir, "/mnt/k\\l");
        assert_eq!(glibc[7].passno, 0, "4294967296 in a C int");
    }

    /// libmount (util-linux `tab_parse.c`, `mangle.c`) ends a field at a space or a tab
    /// only: a no-break space, NEL, U+2028 or an ideographic space is part of it, like a
    /// carriage return inside a line (one before the `\n` is dropped). The numbers are
    /// read as written, by `strtol()`: not unescaped, C's white space before them skipped.
    #[test]
    fn libmount_fields_end_at_space_and_tab_only() {
        let text = "/dev/sda /mnt/a\u{a0}b ext4 defaults 0 2\n\
                    /dev/sdb\u{3000}/mnt/c ext4 defaults\n\
                    \u{85}/dev/sdc /mnt/d\u{2028} ext4\r\n\
                    \t /dev/sdd /mnt/e\rx ext4 defaults \x0b0 \x0c1\n\
                    /dev/sde /mnt/f ext4 defaults 0 \\0601\n\
                    /dev/sdf /mnt/g ext4 defaults 0 1\r";
        let got: Vec<(String, String, String, i64)> = entries(text.as_bytes(), 262)
            .into_iter()
            .map(|e| (e.fsname, e.dir, e.fstype, e.passno))
            .collect();
        let want = |s: &str, d: &str, t: &str, p: i64| (s.into(), d.into(), t.into(), p);
        assert_eq!(
            got,
            vec![
                want("/dev/sda", "/mnt/a\u{a0}b", "ext4", 2),
                want("/dev/sdb\u{3000}/mnt/c", "ext4", "defaults", 0),
                want("\u{85}/dev/sdc", "/mnt/d\u{2028}", "ext4", 0),
                want("/dev/sdd", "/mnt/e\rx", "ext4", 1),
                want("/dev/sdf", "/mnt/g", "ext4", 1),
            ]
        );
        // glibc's getmntent() (up to 258) splits at space and tab too.
        let glibc = entries(text.as_bytes(), 258);
        assert_eq!(glibc[0].dir, "/mnt/a\u{a0}b");
        assert_eq!(glibc[1].fsname, "/dev/sdb\u{3000}/mnt/c");
    }

    #[test]
    fn numbers_are_read_into_a_c_int() {
        assert_eq!(c_int("4294967296"), Some(0));
        assert_eq!(c_int("99999999999"), Some(1_215_752_191));
        assert_eq!(c_int("-1"), Some(-1));
        assert_eq!(c_int("+2"), Some(2));
        assert_eq!(c_int("99999999999999999999"), Some(-1));
        assert_eq!(c_int("1x"), None);
        assert_eq!(c_int("-"), None);
        assert_eq!(c_int(""), None);
    }

    #[test]
    fn octal_escapes_are_decoded_from_259() {
        assert_eq!(unescape_octal("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(unescape_octal("/x\\0"), "/x\\0");
        // Out of a byte's range: no overflow, the low eight bits.
        assert_eq!(unescape_octal("/x\\777y"), "/x\u{fffd}y");
        assert_eq!(unescape_octal("/x\\101"), "/xA");
    }
}
