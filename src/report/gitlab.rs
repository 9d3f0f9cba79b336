//! GitLab Code Quality (a subset of the Code Climate format): a JSON array with an entry per
//! finding: `description`, `check_name` (the rule), `fingerprint` (unique in the report),
//! `severity`, `location.path` and `location.lines.begin`.
//!
//! Severities: error → `critical`, warn → `major`, info → `info`. Accepted findings (allowed
//! or baselined) stay in the report as `info`, their description saying how they were
//! accepted. The fingerprint is the finding's own (stable across moved lines and renamed
//! files); should two findings share one, the later ones get a fingerprint derived from it
//! and their position among the duplicates, so each is unique.

use super::check::CheckInput;
use super::ci;
use super::escape;
use crate::findings::{Level, Status};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

fn severity(l: Level) -> &'static str {
    match l {
        Level::Error => "critical",
        Level::Warn => "major",
        Level::Info => "info",
    }
}

fn derived(fp: &str, n: usize) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(fp.as_bytes());
    h.update([0u8]);
    h.update(n.to_string().as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Code Quality report of a check, serialized.
pub fn gitlab(input: &CheckInput) -> String {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let issues: Vec<Issue> = input
        .result
        .findings
        .iter()
        .map(|c| {
            let f = &c.finding;
            let loc = ci::location(f, input);
            let mut description = escape::field(&f.message).into_owned();
            if input.result.scope.is_user() {
                description = format!("[user manager] {description}");
            }
            if let Some(note) = ci::status_note(c) {
                description = format!("[{}] {description}", escape::field(&note));
            }
            let n = seen.entry(f.fingerprint.clone()).or_default();
            let fingerprint = if *n == 0 {
                f.fingerprint.clone()
            } else {
                derived(&f.fingerprint, *n)
            };
            *n += 1;
            Issue {
                kind: "issue",
                description,
                check_name: f.rule.as_str(),
                fingerprint,
                severity: if c.status == Status::New {
                    severity(f.level)
                } else {
                    "info"
                },
                location: Location {
                    path: escape::field(&loc.from_cwd(input)).into_owned(),
                    lines: Lines { begin: loc.line },
                },
            }
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).expect("serialisable");
    s.push('\n');
    s
}
