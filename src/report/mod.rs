//! Outputs. Every format reads the core's models ([`crate::graph::DepGraph`],
//! [`crate::diff::GraphDiff`]) and writes to a `Write`; nothing here reads files.

pub mod answers;
pub mod check;
pub mod ci;
pub mod dot;
pub mod escape;
pub mod excerpt;
pub mod findings;
pub mod github;
pub mod gitlab;
pub mod glyphs;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod overview;
pub mod picture;
pub mod render;
pub mod sarif;
pub mod stat;
pub mod text;
pub mod unified;

use crate::unit::{Provenance, Scope};

/// What every human-readable format appends to a root's name to say whose units it shows:
/// nothing for the system manager's (the default), ` (user manager)` for a user manager's
/// (`--user`). The JSON documents have a `scope` field instead.
pub fn scope_note(scope: Scope) -> &'static str {
    match scope {
        Scope::System => "",
        Scope::User => " (user manager)",
    }
}

/// `path:line` or `path`, or `(rule NAME)` for edges no file wrote.
pub fn source_label(p: &Provenance) -> String {
    let mut rule = p.rule.map(|r| format!(" (rule {r})")).unwrap_or_default();
    if let Some(g) = p.generator {
        rule = format!(" (by {g}){rule}");
    }
    match (&p.path, p.line) {
        (Some(path), Some(line)) => format!("{}:{line}{rule}", escape::field(path.as_str())),
        (Some(path), None) => format!("{}{rule}", escape::field(path.as_str())),
        (None, _) => match p.rule {
            Some(r) => format!("(rule {r})"),
            None => "(unknown)".to_string(),
        },
    }
}
