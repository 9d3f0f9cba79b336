//! `fnmatch(pattern, name, FNM_NOESCAPE)` as glibc's does it in the C locale: how systemd
//! matches a preset line's pattern against a unit name (`install.c` `query_presets()`, one
//! line after the other, the first match wins).
//!
//! Nothing is compiled: the pattern is read while it is matched, and after a mismatch only
//! the last `*` takes one more byte (every other element matches exactly one byte, so that
//! finds every match a full backtracking search finds). One match costs at most about
//! (name length + 1) × pattern length steps, and no memory; the caller counts the steps
//! against its budget.
//!
//! The rules (glibc's `posix/fnmatch_loop.c`, checked against this machine's `fnmatch(3)`
//! by the tests below): `*` matches any bytes, `/` and a leading `.` included (systemd
//! passes neither `FNM_PATHNAME` nor `FNM_PERIOD`); `?` one byte; `\` is an ordinary byte
//! (`FNM_NOESCAPE`). A bracket matches one byte: `!` or `^` first negates it; its first
//! member may be `]`; `a-z` is a range (by byte value); `[:alpha:]` and the other eleven
//! classes of the C locale; `[=c=]` and `[.c.]` are the byte `c`. A bracket that does not
//! close is a literal `[`. Also as glibc does: an unknown class name, a class name longer
//! than 256 bytes, a collating symbol that is not one byte or does not close, or a range
//! up to the end of the pattern, fails the bracket (and a `[=`, `[.` or `[:` that does
//! not close after the member that matched fails it too). A pattern ends at a NUL byte, as
//! a C string does. (systemd's `systemctl` may run in another locale; for the names it
//! matches, valid unit names, which are ASCII, only `[=c=]`, `[.c.]` and ranges could
//! differ there.)

/// glibc's `CHAR_CLASS_MAX_LENGTH`.
const CLASS_MAX: usize = 256;

/// The steps allowed for a match ran out before it was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfSteps;

/// One step of work from `steps`, the steps left.
fn step(steps: &mut u64) -> Result<(), OutOfSteps> {
    *steps = steps.checked_sub(1).ok_or(OutOfSteps)?;
    Ok(())
}

/// Whether `name` matches `pattern`, in at most `steps` steps (what is left of them stays
/// in `steps`).
pub fn fnmatch(pattern: &[u8], name: &[u8], steps: &mut u64) -> Result<bool, OutOfSteps> {
    let p = match pattern.iter().position(|&b| b == 0) {
        Some(end) => &pattern[..end],
        None => pattern,
    };
    let (mut pi, mut ni) = (0, 0);
    // After a `*`: the pattern after it, and the name position it was last tried at.
    let mut retry: Option<(usize, usize)> = None;
    loop {
        step(steps)?;
        match p.get(pi) {
            None if ni == name.len() => return Ok(true),
            None => {}
            Some(b'*') => {
                while p.get(pi) == Some(&b'*') {
                    pi += 1;
                }
                if pi == p.len() {
                    return Ok(true);
                }
                retry = Some((pi, ni));
                continue;
            }
            Some(&c) => {
                if let Some(&n) = name.get(ni) {
                    let next = match c {
                        b'?' => Some(pi + 1),
                        b'[' => bracket(p, pi + 1, n, steps)?,
                        _ => (c == n).then_some(pi + 1),
                    };
                    if let Some(next) = next {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
            }
        }
        match retry {
            Some((rp, rn)) if rn < name.len() => {
                retry = Some((rp, rn + 1));
                pi = rp;
                ni = rn + 1;
            }
            _ => return Ok(false),
        }
    }
}

/// A byte glibc reads as part of a class name: `a` to `y` (its test is `c < 'a' || c >= 'z'`;
/// no class name has a `z`).
fn class_name_byte(c: u8) -> bool {
    (b'a'..=b'y').contains(&c)
}

/// The C locale's class `name`, if it is one.
fn class(name: &[u8]) -> Option<fn(u8) -> bool> {
    Some(match name {
        b"alnum" => |b: u8| b.is_ascii_alphanumeric(),
        b"alpha" => |b: u8| b.is_ascii_alphabetic(),
        b"blank" => |b: u8| b == b' ' || b == b'\t',
        b"cntrl" => |b: u8| b.is_ascii_control(),
        b"digit" => |b: u8| b.is_ascii_digit(),
        b"graph" => |b: u8| b.is_ascii_graphic(),
        b"lower" => |b: u8| b.is_ascii_lowercase(),
        b"print" => |b: u8| b == b' ' || b.is_ascii_graphic(),
        b"punct" => |b: u8| b.is_ascii_punctuation(),
        b"space" => |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"upper" => |b: u8| b.is_ascii_uppercase(),
        b"xdigit" => |b: u8| b.is_ascii_hexdigit(),
        _ => return None,
    })
}

/// What reading a bracket member that starts with `[:` found.
enum Member<'a> {
    /// A class `[:name:]`, ending before `end`.
    Class(&'a [u8], usize),
    /// Not a class: the `[` is an ordinary member.
    Ordinary,
    /// The bracket fails.
    Fail,
}

/// The `[:name:]` whose `:` is at `colon`.
fn class_member<'a>(p: &'a [u8], colon: usize, steps: &mut u64) -> Result<Member<'a>, OutOfSteps> {
    let at = |i: usize| p.get(i).copied().unwrap_or(0);
    let mut j = colon;
    loop {
        if j - colon == CLASS_MAX {
            return Ok(Member::Fail);
        }
        j += 1;
        step(steps)?;
        let c = at(j);
        if c == b':' && at(j + 1) == b']' {
            return Ok(Member::Class(&p[colon + 1..j], j + 2));
        }
        if !class_name_byte(c) {
            return Ok(Member::Ordinary);
        }
    }
}

/// The collating symbol `[.s.]` whose first `.` is at `dot`: its one byte and the end of
/// the symbol, or `None` (the bracket fails).
fn collating(p: &[u8], dot: usize, steps: &mut u64) -> Result<Option<(u8, usize)>, OutOfSteps> {
    let at = |i: usize| p.get(i).copied().unwrap_or(0);
    let mut j = dot;
    loop {
        j += 1;
        step(steps)?;
        let c = at(j);
        if c == b'.' && at(j + 1) == b']' {
            return Ok((j == dot + 2).then(|| (p[dot + 1], j + 2)));
        }
        if c == 0 {
            return Ok(None);
        }
    }
}

/// The bracket whose `[` is just before `start`, against the name byte `n`: where the
/// pattern goes on if it matches.
fn bracket(p: &[u8], start: usize, n: u8, steps: &mut u64) -> Result<Option<usize>, OutOfSteps> {
    let at = |i: usize| p.get(i).copied().unwrap_or(0);
    // The bracket does not close: its `[` is an ordinary byte.
    let unclosed = || Ok((n == b'[').then_some(start));
    let mut i = start;
    let negated = matches!(at(i), b'!' | b'^');
    if negated {
        i += 1;
    }
    // `c`: the member being read; `i`: the byte after it.
    let mut c = at(i);
    i += 1;
    let matched = loop {
        step(steps)?;
        let mut ordinary = false;
        if c == b'[' && at(i) == b':' {
            match class_member(p, i, steps)? {
                Member::Class(name, end) => {
                    let Some(is) = class(name) else {
                        return Ok(None);
                    };
                    if is(n) {
                        i = end;
                        break true;
                    }
                    c = at(end);
                    i = end + 1;
                }
                Member::Ordinary => ordinary = true,
                Member::Fail => return Ok(None),
            }
        } else if c == b'[' && at(i) == b'=' {
            let x = at(i + 1);
            if x != 0 && at(i + 2) == b'=' && at(i + 3) == b']' {
                if n == x {
                    i += 4;
                    break true;
                }
                c = at(i + 4);
                i += 5;
            } else {
                ordinary = true;
            }
        } else if c == 0 {
            return unclosed();
        } else {
            ordinary = true;
        }
        if ordinary {
            let low;
            if c == b'[' && at(i) == b'.' {
                let Some((sym, end)) = collating(p, i, steps)? else {
                    return Ok(None);
                };
                i = end;
                let range = at(i) == b'-' && at(i + 1) != 0;
                if !range && n == sym {
                    break true;
                }
                low = sym;
            } else {
                let range = at(i) == b'-' && at(i + 1) != 0 && at(i + 1) != b']';
                if !range && n == c {
                    break true;
                }
                low = c;
            }
            c = at(i);
            i += 1;
            if c == b'-' && at(i) != b']' {
                let mut high = at(i);
                i += 1;
                if high == b'[' && at(i) == b'.' {
                    let Some((sym, end)) = collating(p, i, steps)? else {
                        return Ok(None);
                    };
                    high = sym;
                    i = end;
                } else if high == 0 {
                    return Ok(None);
                }
                if low <= n && n <= high {
                    break true;
                }
                c = at(i);
                i += 1;
            }
        }
        if c == b']' {
            break false;
        }
    };
    if !matched {
        return Ok(negated.then_some(i));
    }
    // Skip the rest of the bracket, as glibc does.
    loop {
        step(steps)?;
        let c = at(i);
        i += 1;
        if c == 0 {
            // The bracket does not close after all.
            return unclosed();
        }
        if c == b'[' && at(i) == b':' {
            let colon = i;
            let mut j = i;
            let closed = loop {
                j += 1;
                step(steps)?;
                if j - colon == CLASS_MAX {
                    return Ok(None);
                }
                let cc = at(j);
                if cc == b':' && at(j + 1) == b']' {
                    break true;
                }
                if !class_name_byte(cc) {
                    break false;
                }
            };
            // Not a class: the `:` is read next, and what follows it, as ordinary bytes.
            i = if closed { j + 2 } else { colon };
        } else if c == b'[' && at(i) == b'=' {
            if at(i + 1) == 0 || at(i + 2) != b'=' || at(i + 3) != b']' {
                return Ok(None);
            }
            i += 4;
        } else if c == b'[' && at(i) == b'.' {
            let mut j = i;
            loop {
                j += 1;
                step(steps)?;
                let cc = at(j);
                if cc == 0 {
                    return Ok(None);
                }
                if cc == b'.' && at(j + 1) == b']' {
                    break;
                }
            }
            i = j + 2;
        } else if c == b']' {
            break;
        }
    }
    Ok((!negated).then_some(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn m(pattern: &str, name: &str) -> bool {
        let mut steps = u64::MAX;
        fnmatch(pattern.as_bytes(), name.as_bytes(), &mut steps).unwrap()
    }

    /// This machine's `fnmatch(3)` with `FNM_NOESCAPE`, in the C locale (the test never
    /// calls `setlocale()`).
    fn libc(pattern: &[u8], name: &[u8]) -> bool {
        let p = CString::new(pattern).unwrap();
        let n = CString::new(name).unwrap();
        unsafe { libc::fnmatch(p.as_ptr(), n.as_ptr(), libc::FNM_NOESCAPE) == 0 }
    }

    #[test]
    fn globs_as_systemd_presets_use_them() {
        assert!(m("*", "a.service"));
        assert!(m("*", ""));
        assert!(m("a*.service", "a.service"));
        assert!(m("a*.service", "abc.service"));
        assert!(!m("a*.service", "b.service"));
        assert!(m("a?.service", "ab.service"));
        assert!(!m("a?.service", "a.service"));
        assert!(m("x[0-9].service", "x1.service"));
        assert!(!m("x[!0-9].service", "x1.service"));
        assert!(m("x[^0-9].service", "xa.service"));
        assert!(m("[[:alpha:]]@.service", "q@.service"));
        assert!(!m("[[:digit:]]@.service", "q@.service"));
        assert!(m("[]a]", "]"));
        assert!(m("b\\x2d.service", "b\\x2d.service"));
        assert!(!m("b\\x2d.service", "bx2d.service"));
        assert!(m("a/*", "a/b/c"));
        assert!(m("*c", ".c"));
        assert!(m("a[", "a["));
        assert!(!m("a[b", "ab"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*d", "xxaxxbxxcxx"));
        assert!(!m("a.service", "a.servic"));
        assert!(m("a.service\0junk", "a.service"));
    }

    /// A small deterministic generator (xorshift), so a failure is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }
    }

    /// Random patterns made of the pieces that matter to brackets and stars, against
    /// random names: we agree with glibc's `fnmatch()` on every one.
    #[test]
    fn agrees_with_this_machines_fnmatch() {
        let pieces = [
            "a",
            "b",
            "z",
            "-",
            "]",
            "[",
            "!",
            "^",
            ":",
            "=",
            ".",
            "*",
            "?",
            "\\",
            "@",
            "A",
            "0",
            "[:alpha:]",
            "[:digit:]",
            "[:upper:]",
            "[:space:]",
            "[:punct:]",
            "[:foo:]",
            "[:",
            ":]",
            "[=a=]",
            "[=",
            "=]",
            "[.a.]",
            "[.-.]",
            "[.ab.]",
            "[.",
            ".]",
            "a-z",
            "z-a",
            "[!",
            "[^",
            "[]",
            "[a",
            "b]",
            "\u{e9}",
            "\u{ff}",
        ];
        let letters = [
            "a", "b", "z", "-", "]", "[", ":", "=", ".", "\\", "@", "A", "0", " ", "!", "\u{e9}",
        ];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut differ = Vec::new();
        for _ in 0..200_000 {
            let pattern: String = (0..rng.next() % 9).map(|_| rng.pick(&pieces)).collect();
            let name: String = (0..rng.next() % 6).map(|_| rng.pick(&letters)).collect();
            let ours = m(&pattern, &name);
            if ours != libc(pattern.as_bytes(), name.as_bytes()) && differ.len() < 20 {
                differ.push(format!("{pattern:?} {name:?}: ours {ours}"));
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    /// Long class names, stars against long names: still glibc's answers, in steps that
    /// grow with the product of the lengths, not faster; and no more steps than allowed.
    #[test]
    fn long_inputs_agree_and_stay_bounded() {
        let long_class = format!("[[:{}:]]", "a".repeat(300));
        let name = "a".repeat(255);
        let star = format!("{}b", "*a".repeat(40));
        let collating = format!("[[.{}", "a".repeat(10_000));
        for (p, n) in [
            (long_class.as_str(), "a"),
            (star.as_str(), name.as_str()),
            ("*[!a]*[!a]*[!a]x", name.as_str()),
            (collating.as_str(), "a"),
        ] {
            let bound = 4 * (n.len() as u64 + 1) * (p.len() as u64 + 1);
            let mut left = bound;
            assert_eq!(
                fnmatch(p.as_bytes(), n.as_bytes(), &mut left),
                Ok(libc(p.as_bytes(), n.as_bytes())),
                "{p}"
            );
            let took = bound - left;
            assert!(took > 0);
            // One step fewer than it took: it stops, undecided, and says so.
            let mut fewer = took - 1;
            assert_eq!(
                fnmatch(p.as_bytes(), n.as_bytes(), &mut fewer),
                Err(OutOfSteps),
                "{p}"
            );
            assert_eq!(fewer, 0);
        }
    }
}
