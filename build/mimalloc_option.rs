//! The number of one of mimalloc's runtime options (`mi_option_e` in the `mimalloc.h` that
//! libmimalloc-sys builds), for `mi_option_set`: libmimalloc-sys's Rust constants follow an
//! older mimalloc than the one it compiles, so the number is read from the header itself.

use std::path::Path;

/// The value of the enumerator `name` of `typedef enum mi_option_e { … }` in `header`, or
/// `None` if the header has no such enum or enumerator (or numbers them in a way this does
/// not follow: an explicit value before `name`).
pub fn option_number(header: &Path, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(header).ok()?;
    let start = text.find("typedef enum mi_option_e")?;
    let body = &text[start..];
    let body = &body[body.find('{')? + 1..body.find('}')?];
    let mut n = 0;
    for line in body.lines() {
        // One enumerator per line, optionally followed by a `//` comment.
        let code = line.split("//").next().unwrap_or_default().trim();
        let code = code.trim_end_matches(',').trim();
        if code.is_empty() {
            continue;
        }
        if code.contains('=') {
            // Aliases after `_mi_option_last` (`mi_option_x = mi_option_y`) are not counted;
            // an explicit number before `name` would make the count wrong.
            return None;
        }
        if code == name {
            return Some(n);
        }
        n += 1;
    }
    None
}
