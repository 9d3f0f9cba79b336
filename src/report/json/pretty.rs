//! serde_json's pretty printing, starting at any depth and escaped as
//! [`crate::report::escape::json`] escapes: what the streamed JSON documents write each unit
//! and edge with ([`super::write_graph`]).

use serde::Serialize;

/// Nesting beyond this many levels is written compact (no new lines, no indent): a
/// dependency tree 2,000 units deep would otherwise be gigabytes of indentation. Real
/// documents stay well inside it (a `deps` tree 30 units deep nests ~64 levels).
const MAX_PRETTY_LEVEL: usize = 100;

/// serde_json's `PrettyFormatter` (two spaces a level) starting `level` levels deep, with
/// the escaping of [`crate::report::escape::json`] (DEL, C1 controls and bidi characters,
/// which serde_json passes through raw, as `\u00XX`): `to_string_pretty` and then
/// `escape::json`, indented, in one pass and without a `String` of the whole.
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    fn at(level: usize) -> Pretty {
        Pretty {
            level,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        const SPACES: &[u8] = &[b' '; 64];
        let mut n = self.level * 2;
        while n > 0 {
            let k = n.min(SPACES.len());
            w.write_all(&SPACES[..k])?;
            n -= k;
        }
        Ok(())
    }
}

impl Pretty {
    /// `[` or `{`: one level deeper, nothing in it yet.
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// `]` or `}`: on its own line after what it holds, right after an empty opening.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        // Its content was written pretty: the bracket goes on its own line.
        if self.has_value && self.level < MAX_PRETTY_LEVEL {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }

    /// Before an element or a key: a comma after the previous one, a new line, the indent
    /// (only the comma beyond [`MAX_PRETTY_LEVEL`]).
    fn next<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if self.level > MAX_PRETTY_LEVEL {
            return w.write_all(if first { b"" } else { b"," });
        }
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // What the whole document gets from `escape::json` (serde_json escapes the C0
        // controls itself); it borrows the fragment when there is nothing to escape.
        w.write_all(crate::report::escape::json(fragment).as_bytes())
    }
}

/// Write `v` pretty-printed `level` levels deep (its first line unindented).
pub(super) fn put<T: Serialize + ?Sized>(
    w: &mut dyn std::io::Write,
    v: &T,
    level: usize,
) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Pretty::at(level));
    v.serialize(&mut ser).map_err(std::io::Error::from)
}

/// `v` as [`put`] writes it at the top level, then a new line: `to_string_pretty` then
/// `escape::json`, byte for byte, but compact beyond [`MAX_PRETTY_LEVEL`].
pub fn to_vec<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    put(&mut out, v, 0).expect("serialisable into memory");
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_serde_json_pretty_then_compact_when_deep() {
        let v = serde_json::json!({"a": [1, {"b": "c\u{202e}"}, []], "d": {}});
        let want = format!(
            "{}\n",
            crate::report::escape::json(&serde_json::to_string_pretty(&v).unwrap())
        );
        assert_eq!(String::from_utf8(to_vec(&v)).unwrap(), want);
        // 120 nested arrays: pretty to level 100, then compact; still the same JSON.
        let mut deep = serde_json::json!([1, 2]);
        for _ in 0..120 {
            deep = serde_json::json!([deep, 0]);
        }
        let out = String::from_utf8(to_vec(&deep)).unwrap();
        let longest = out.lines().map(str::len).max().unwrap();
        assert!(longest < 2 * MAX_PRETTY_LEVEL + 4 * 120, "{longest}");
        assert!(out.lines().count() < 3 * MAX_PRETTY_LEVEL + 10);
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, deep);
        assert!(
            out.contains("[[[") && out.contains("],0]"),
            "compact when deep"
        );
    }
}
