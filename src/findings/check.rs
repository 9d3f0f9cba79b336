//! The gate: findings judged against a policy and a baseline. [`CheckResult`] is the one
//! model every `check` report format reads (and `diff` reads it too, without a policy).

use super::baseline::Baseline;
use super::date::Date;
use super::policy::Policy;
use super::{Finding, Level, RuleId, Side, Site, fingerprint};
use crate::diff::Cause;
use serde::Serialize;
use std::collections::BTreeMap;

/// `--fail-on`: the lowest level that fails the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warn,
    Info,
    Never,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warn => "warn",
            FailOn::Info => "info",
            FailOn::Never => "never",
        }
    }

    pub fn fails(self, l: Level) -> bool {
        match self {
            FailOn::Error => l <= Level::Error,
            FailOn::Warn => l <= Level::Warn,
            FailOn::Info => true,
            FailOn::Never => false,
        }
    }
}

/// What became of a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    /// Counts for the gate.
    New,
    /// Accepted by an `[[allow]]` entry of the policy.
    Allowed {
        policy: String,
        line: u32,
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<Date>,
    },
    /// Accepted by the baseline.
    Baselined {
        baseline: String,
        first_seen: Date,
        age_days: i64,
    },
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Allowed { .. } => "allowed",
            Status::Baselined { .. } => "baselined",
        }
    }
}

/// A finding and its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub finding: Finding,
    #[serde(flatten)]
    pub status: Status,
}

/// Findings per status at one level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LevelCounts {
    pub new: usize,
    pub allowed: usize,
    pub baselined: usize,
}

impl LevelCounts {
    pub fn total(&self) -> usize {
        self.new + self.allowed + self.baselined
    }
}

/// The result of a check: every finding (ranked, accepted ones included and marked), the
/// counts, and the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub old_root: String,
    pub new_root: String,
    /// Whose units both images' were (the system manager's or a user manager's); set by
    /// the caller, which knows the diff.
    pub scope: crate::unit::Scope,
    pub findings: Vec<Checked>,
    pub counts: BTreeMap<Level, LevelCounts>,
    /// Findings dropped because the policy turned their rule off (per rule).
    pub off: BTreeMap<RuleId, usize>,
    pub fail_on: FailOn,
    /// The gate failed: a new finding at or above `fail_on`.
    pub failed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    pub today: Date,
}

impl CheckResult {
    pub fn count(&self, l: Level) -> LevelCounts {
        self.counts.get(&l).copied().unwrap_or_default()
    }

    /// The findings that count for the gate.
    pub fn new_findings(&self) -> impl Iterator<Item = &Checked> {
        self.findings.iter().filter(|c| c.status == Status::New)
    }
}

fn meta_finding(rule: RuleId, key: &str, site: Site, message: String) -> Finding {
    Finding {
        rule,
        level: rule.info().level,
        units: Vec::new(),
        edge: None,
        kind: String::new(),
        target: key.to_string(),
        old: None,
        new: Some(site),
        cause: Cause::Files,
        message,
        witness: Vec::new(),
        fingerprint: fingerprint(rule, "", "", key),
        condition: None,
        in_boot: false,
        impact: 0,
    }
}

/// Judge `findings` (as [`super::compute`] made them) against a policy and a baseline.
pub fn check(
    findings: Vec<Finding>,
    policy: Option<&Policy>,
    baseline: Option<&Baseline>,
    today: Date,
    fail_on: FailOn,
    roots: (&str, &str),
) -> CheckResult {
    let level = |rule: RuleId, unit: &str| match policy {
        Some(p) => p.level(rule, unit),
        None => Some(rule.info().level),
    };
    let allows = policy.map(|p| p.allow.as_slice()).unwrap_or(&[]);
    let mut allow_used = vec![false; allows.len()];
    let mut baseline_used: BTreeMap<&str, bool> = baseline
        .map(|b| b.entries.keys().map(|k| (k.as_str(), false)).collect())
        .unwrap_or_default();
    let mut off: BTreeMap<RuleId, usize> = BTreeMap::new();
    let mut out: Vec<Checked> = Vec::with_capacity(findings.len());
    for mut f in findings {
        let Some(l) = level(f.rule, f.unit()) else {
            *off.entry(f.rule).or_default() += 1;
            continue;
        };
        f.level = l;
        let mut status = Status::New;
        for (i, a) in allows.iter().enumerate() {
            if !a.matches(&f) {
                continue;
            }
            allow_used[i] = true;
            if !a.expired(today) && status == Status::New {
                status = Status::Allowed {
                    policy: policy.map(|p| p.path.clone()).unwrap_or_default(),
                    line: a.line,
                    reason: a.reason.clone(),
                    expires: a.expires,
                };
            }
        }
        if status == Status::New
            && let Some(b) = baseline
            && let Some(e) = b.entries.get(&f.fingerprint)
        {
            baseline_used.insert(e.fingerprint.as_str(), true);
            status = Status::Baselined {
                baseline: b.path.clone(),
                first_seen: e.first_seen,
                age_days: today.days() - e.first_seen.days(),
            };
        }
        out.push(Checked { finding: f, status });
    }
    if let Some(p) = policy {
        for (a, used) in allows.iter().zip(&allow_used) {
            let site = Site {
                side: Side::Policy,
                path: Some(p.path.clone()),
                line: Some(a.line),
                layer: None,
                rule: None,
            };
            let (rule, message) = if a.expired(today) {
                (
                    RuleId::PolicyEntryExpired,
                    format!(
                        "[[allow]] at {}:{} ({}) expired on {}; it no longer allows anything",
                        p.path,
                        a.line,
                        a.describe(),
                        a.expires.map(|d| d.to_string()).unwrap_or_default()
                    ),
                )
            } else if !used {
                (
                    RuleId::PolicyEntryUnused,
                    format!(
                        "[[allow]] at {}:{} ({}) matched no finding",
                        p.path,
                        a.line,
                        a.describe()
                    ),
                )
            } else {
                continue;
            };
            let Some(l) = level(rule, "") else {
                *off.entry(rule).or_default() += 1;
                continue;
            };
            let mut f = meta_finding(rule, &a.describe(), site, message);
            f.level = l;
            out.push(Checked {
                finding: f,
                status: Status::New,
            });
        }
    }
    if let Some(b) = baseline {
        for (fp, used) in &baseline_used {
            if *used {
                continue;
            }
            let e = &b.entries[*fp];
            let site = Site {
                side: Side::Policy,
                path: Some(b.path.clone()),
                line: Some(e.line),
                layer: None,
                rule: None,
            };
            let rule = RuleId::BaselineEntryStale;
            let Some(l) = level(rule, "") else {
                *off.entry(rule).or_default() += 1;
                continue;
            };
            let mut f = meta_finding(
                rule,
                fp,
                site,
                format!(
                    "baseline entry {fp} ({} {}, first seen {}) matches no finding",
                    e.rule, e.unit, e.first_seen
                ),
            );
            f.level = l;
            out.push(Checked {
                finding: f,
                status: Status::New,
            });
        }
    }
    out.sort_by(|a, b| super::cmp_rank(&a.finding, &b.finding));
    let mut counts: BTreeMap<Level, LevelCounts> = Level::ALL
        .iter()
        .map(|l| (*l, LevelCounts::default()))
        .collect();
    for c in &out {
        let e = counts.entry(c.finding.level).or_default();
        match c.status {
            Status::New => e.new += 1,
            Status::Allowed { .. } => e.allowed += 1,
            Status::Baselined { .. } => e.baselined += 1,
        }
    }
    let failed = out
        .iter()
        .any(|c| c.status == Status::New && fail_on.fails(c.finding.level));
    CheckResult {
        old_root: roots.0.to_string(),
        new_root: roots.1.to_string(),
        scope: crate::unit::Scope::System,
        findings: out,
        counts,
        off,
        fail_on,
        failed,
        policy: policy.map(|p| p.path.clone()),
        baseline: baseline.map(|b| b.path.clone()),
        today,
    }
}
