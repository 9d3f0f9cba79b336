//! Findings: judged changes. Each finding has a stable rule ID, a level, the unit(s) and edge
//! it is about, where it comes from on each side, a one-line message, an optional witness
//! (the chain that makes it matter) and a fingerprint that survives moved lines and renamed
//! files. Computed once from a [`crate::diff::GraphDiff`] and its
//! [`crate::query::DiffAnswers`] ([`compute`]); a policy and a baseline turn them into a
//! [`check::CheckResult`] that every report format reads. No I/O, no formats.

pub mod baseline;
pub mod check;
mod compute;
pub mod date;
pub mod policy;
pub mod rules;

pub use check::{CheckResult, Checked, FailOn, Status};
pub use compute::compute;
pub use rules::{RULES, RuleId, RuleInfo};

use crate::diff::Cause;
use crate::query::Hop;
use crate::unit::Layer;
use serde::Serialize;

/// How much a finding matters. Ordered: `Error` < `Warn` < `Info` (errors sort first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warn,
    Info,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Error, Level::Warn, Level::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which image a site is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Old,
    New,
    /// The policy or baseline file (outside both images).
    Policy,
}

/// Where something comes from: an in-image file and line (with its layer), a systemd rule,
/// or a line of the policy file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Site {
    pub side: Side,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<Layer>,
    /// The systemd rule that made an edge no line wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

impl Site {
    pub fn of(side: Side, p: &crate::unit::Provenance) -> Site {
        Site {
            side,
            path: p.path.as_ref().map(|p| p.to_string()),
            line: p.line,
            layer: p.layer,
            rule: p.rule.map(|r| r.as_str()),
        }
    }

    /// `path:line layer`, `path layer` or `(rule NAME)`.
    pub fn label(&self) -> String {
        let mut s = match (&self.path, self.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.clone(),
            (None, _) => String::new(),
        };
        if let Some(l) = self.layer {
            s.push(' ');
            s.push_str(l.as_str());
        }
        if let Some(r) = self.rule {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&format!("(rule {r})"));
        }
        if s.is_empty() {
            s.push_str("(unknown)");
        }
        s
    }
}

/// The edge a finding is about. `kind` is a dependency kind (`Requires`), or for findings
/// that are not about a dependency, the key they are about (`WantedBy`, `[Service] User`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingEdge {
    pub from: String,
    pub kind: String,
    pub to: String,
}

/// One judged change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    pub level: Level,
    /// The unit the finding is about first, then any other unit it names.
    pub units: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<FindingEdge>,
    /// What the finding is about on the unit, for matching and the fingerprint: the
    /// dependency kind (`Requires`), the `[Install]` key, `[Section] Key`, `alias`… (empty
    /// when the unit itself is the subject).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The other end: the dependency's target, the `[Install]` value, the alias…
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Where the thing came from in OLD (removed or moved things).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Site>,
    /// Where it comes from in NEW (or the policy file's line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Site>,
    pub cause: Cause,
    /// One line.
    pub message: String,
    /// The chain that makes it matter (a failure witness, a cycle), if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub witness: Vec<Hop>,
    /// Stable identity: see [`fingerprint`].
    pub fingerprint: String,
    /// Set when the unit only starts under a condition most boots fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Ranking: the unit is started by a boot to default.target (OLD or NEW).
    pub in_boot: bool,
    /// Ranking: how many units this change can stop (failure-set size), 0 if none.
    pub impact: usize,
}

impl Finding {
    /// The finding's main unit.
    pub fn unit(&self) -> &str {
        self.units.first().map(String::as_str).unwrap_or("")
    }

    /// The most useful site: NEW's (or the policy's), else OLD's.
    pub fn site(&self) -> Option<&Site> {
        self.new.as_ref().or(self.old.as_ref())
    }

    /// Ranking key: level, then boot-set membership, then failure-set size, then rule
    /// and names.
    fn rank_key(&self) -> impl Ord + '_ {
        (
            self.level,
            !self.in_boot,
            std::cmp::Reverse(self.impact),
            self.rule.order(),
            self.unit(),
            &self.kind,
            &self.target,
            &self.fingerprint,
        )
    }
}

/// Compare two findings by rank (see [`Finding`]'s ranking key).
pub fn cmp_rank(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    a.rank_key().cmp(&b.rank_key())
}

/// Sort findings by rank.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(cmp_rank);
}

/// The fingerprint of a finding: the first 16 bytes of SHA-256 over the rule ID, the unit,
/// the kind and the target, each followed by a NUL byte, in lower-case hex (32 digits).
/// Paths, line numbers and messages are left out on purpose, so moving a line or renaming
/// a drop-in keeps the fingerprint; the rule is in, so the same edge judged by two rules
/// has two fingerprints.
pub fn fingerprint(rule: RuleId, unit: &str, kind: &str, target: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [rule.as_str(), unit, kind, target] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_separates_parts() {
        // Fixed value: the fingerprint is a documented, stable format (docs/json.md).
        let f = fingerprint(
            RuleId::NewHardDependency,
            "docker.service",
            "Requires",
            "flanneld.service",
        );
        assert_eq!(f.len(), 32);
        assert!(f.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            f,
            fingerprint(
                RuleId::NewHardDependency,
                "docker.service",
                "Requires",
                "flanneld.service"
            )
        );
        // Moving a boundary between parts changes it.
        assert_ne!(
            fingerprint(RuleId::UnitAdded, "ab", "c", ""),
            fingerprint(RuleId::UnitAdded, "a", "bc", "")
        );
        assert_ne!(
            f,
            fingerprint(
                RuleId::AdminOverride,
                "docker.service",
                "Requires",
                "flanneld.service"
            )
        );
    }

    #[test]
    fn every_rule_is_registered_once_and_parses_back() {
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "{} twice", r.id);
            assert_eq!(RuleId::parse(r.id.as_str()), Some(r.id));
            assert!(
                r.id.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
            );
        }
        assert_eq!(RuleId::parse("no-such-rule"), None);
    }
}
