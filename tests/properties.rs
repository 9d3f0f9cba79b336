//! Properties over arbitrary input: the parser and the loader never panic on any bytes,
//! line numbers stay within the file, and a tree diffed with itself is empty.

use proptest::prelude::*;
use unitdiff::unit::Rules;
use unitdiff::unit::syntax::parse;

const SECTIONS: &[&str] = &["Unit", "Service", "Install"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes: no panic, and every assignment's line is a line of the input.
    #[test]
    fn parser_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for rules in [Rules::new(225, 0), Rules::new(252, 0), Rules::new(257, 13)] {
            let p = parse(&bytes, SECTIONS, &rules);
            let lines = bytes.iter().filter(|b| matches!(b, b'\n' | b'\r' | b'\0')).count() as u32 + 1;
            for a in &p.assignments {
                prop_assert!(a.line >= 1 && a.line <= lines, "line {} of {}", a.line, lines);
            }
        }
    }

    /// Unit-file-shaped text with continuations and comments: a key's value never contains
    /// a newline, and `[Unit]` keys stay in `[Unit]`.
    #[test]
    fn continuations_join_into_one_value(
        words in proptest::collection::vec("[a-z]{1,8}\\.service", 1..6),
        comment_every in 1usize..4,
    ) {
        let mut text = String::from("[Unit]\nWants=");
        for (i, w) in words.iter().enumerate() {
            text.push_str(w);
            if i + 1 < words.len() {
                text.push_str(" \\\n");
                if i % comment_every == 0 {
                    text.push_str("# a comment inside\n");
                }
            }
        }
        text.push('\n');
        let p = parse(text.as_bytes(), SECTIONS, &Rules::new(252, 0));
        prop_assert_eq!(p.assignments.len(), 1);
        let got: Vec<&str> = p.assignments[0].value.split_whitespace().collect();
        prop_assert_eq!(got, words.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert!(!p.assignments[0].value.contains('\n'));
    }

    /// A root with arbitrary unit file contents loads without panicking, and diffing it
    /// with itself finds nothing.
    #[test]
    fn loader_survives_any_unit_files(
        files in proptest::collection::vec(
            ("[a-c]{1,2}(@[a-b]?)?\\.(service|socket|target|timer|path|mount|slice)", proptest::collection::vec(any::<u8>(), 0..300)),
            1..8,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("usr/lib/systemd/system");
        std::fs::create_dir_all(&sys).unwrap();
        for (name, body) in &files {
            std::fs::write(sys.join(name), body).unwrap();
        }
        let c = unitdiff::compare(dir.path(), dir.path(), None, None).unwrap();
        prop_assert!(c.diff.is_empty());
    }
}
