//! The baseline file: findings accepted as they are, by fingerprint, with the date each was
//! first seen (so that accepted findings have an age and do not become permanent amnesty).
//!
//! ```toml
//! schema = "unitdiff.baseline.v1"
//!
//! [[finding]]
//! fingerprint = "0c5d…"
//! rule = "new-hard-dependency"    # for the reader; matching is by fingerprint
//! unit = "docker.service"
//! first_seen = 2026-11-30
//! ```

use super::date::Date;
use super::policy::{FileError, error_at, toml_date, toml_error};
use super::{Checked, Status};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use toml::Spanned;

pub const BASELINE_SCHEMA: &str = "unitdiff.baseline.v1";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    schema: Option<Spanned<String>>,
    #[serde(default)]
    finding: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    fingerprint: String,
    rule: Option<String>,
    unit: Option<String>,
    first_seen: Spanned<toml::value::Datetime>,
}

/// One accepted finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub unit: String,
    pub first_seen: Date,
    pub line: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Baseline {
    pub path: String,
    /// By fingerprint.
    pub entries: BTreeMap<String, Entry>,
}

impl Baseline {
    pub fn parse(path: &str, text: &str) -> Result<Baseline, FileError> {
        let raw: RawBaseline = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        match &raw.schema {
            Some(s) if s.get_ref() == BASELINE_SCHEMA => {}
            Some(s) => {
                return Err(error_at(
                    path,
                    text,
                    s.span().start,
                    format!(
                        "unsupported schema {:?} (expected {BASELINE_SCHEMA:?})",
                        s.get_ref()
                    ),
                ));
            }
            None => {
                return Err(error_at(
                    path,
                    text,
                    0,
                    format!("missing `schema = \"{BASELINE_SCHEMA}\"`"),
                ));
            }
        }
        let mut b = Baseline {
            path: path.to_string(),
            entries: BTreeMap::new(),
        };
        for e in &raw.finding {
            let r = e.get_ref();
            let fp = r.fingerprint.to_ascii_lowercase();
            b.entries.insert(
                fp.clone(),
                Entry {
                    fingerprint: fp,
                    rule: r.rule.clone().unwrap_or_default(),
                    unit: r.unit.clone().unwrap_or_default(),
                    first_seen: toml_date(path, text, &r.first_seen)?,
                    line: super::policy::line_col(text, e.span().start).0,
                },
            );
        }
        Ok(b)
    }
}

/// The text of a baseline holding every current finding that is not accepted by the policy
/// (new or already baselined; policy and baseline bookkeeping findings left out), each with
/// the date it was first seen: its date in `previous` when there, else `today`. Which
/// findings are written does not depend on `previous`.
pub fn write(findings: &[Checked], previous: Option<&Baseline>, today: Date) -> String {
    use super::RuleId;
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!("schema = \"{BASELINE_SCHEMA}\"\n");
    let mut seen = std::collections::BTreeSet::new();
    let mut rows: Vec<&Checked> = findings
        .iter()
        .filter(|c| !matches!(c.status, Status::Allowed { .. }))
        .filter(|c| {
            !matches!(
                c.finding.rule,
                RuleId::PolicyEntryExpired | RuleId::PolicyEntryUnused | RuleId::BaselineEntryStale
            )
        })
        .collect();
    rows.sort_by(|a, b| a.finding.fingerprint.cmp(&b.finding.fingerprint));
    for c in rows {
        let f = &c.finding;
        if !seen.insert(&f.fingerprint) {
            continue;
        }
        let first = previous
            .and_then(|p| p.entries.get(&f.fingerprint))
            .map(|e| e.first_seen)
            .unwrap_or(today);
        let _ = write!(
            out,
            "\n[[finding]]\nfingerprint = {}\nrule = {}\nunit = {}\nfirst_seen = {first}\n",
            q(&f.fingerprint),
            q(f.rule.as_str()),
            q(f.unit())
        );
    }
    out
}
