//! The policy file (`unitdiff.toml`): per-rule levels, per-unit overrides and `[[allow]]`
//! entries that accept findings by structure. Parsed from text (the caller reads the file);
//! every error names the file, line and column.
//!
//! ```toml
//! schema = "unitdiff.policy.v1"
//!
//! [rules]
//! ordering-changed = "off"        # error, warn, info or off
//!
//! [[override]]                    # later entries win
//! unit = "flatcar-*.service"      # a glob
//! rule = "unit-removed"           # optional: every rule when absent
//! level = "info"
//!
//! [[allow]]
//! rule = "new-hard-dependency"    # `rule` or `fingerprint` is required
//! unit = "docker.service"         # globs for unit and target
//! kind = "Requires"
//! target = "flanneld.service"
//! reason = "flannel provides docker's network (OPS-123)"   # required
//! expires = 2027-06-30            # optional TOML date
//! ```

use super::date::Date;
use super::rules::RuleId;
use super::{Finding, Level};
use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub const POLICY_SCHEMA: &str = "unitdiff.policy.v1";

/// A policy (or baseline) file that cannot be used: `path:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct FileError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line as u32, col as u32)
}

pub(crate) fn error_at(path: &str, text: &str, offset: usize, message: String) -> FileError {
    let (line, column) = line_col(text, offset);
    FileError {
        path: path.to_string(),
        line,
        column,
        message,
    }
}

pub(crate) fn toml_error(path: &str, text: &str, e: &toml::de::Error) -> FileError {
    let offset = e.span().map(|s| s.start).unwrap_or(0);
    // The message alone: toml's Display repeats the source line.
    error_at(path, text, offset, e.message().trim().replace('\n', " "))
}

/// A `YYYY-MM-DD` TOML date (not a date-time, not a string).
pub(crate) fn toml_date(
    path: &str,
    text: &str,
    v: &Spanned<toml::value::Datetime>,
) -> Result<Date, FileError> {
    let bad = || {
        error_at(
            path,
            text,
            v.span().start,
            "expected a date such as 2027-06-30".to_string(),
        )
    };
    let dt = v.get_ref();
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => {
            Date::from_ymd(i64::from(d.year), u32::from(d.month), u32::from(d.day)).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    schema: Option<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<String>>,
    #[serde(default, rename = "override")]
    overrides: Vec<Spanned<RawOverride>>,
    #[serde(default)]
    allow: Vec<Spanned<RawAllow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    unit: Spanned<String>,
    rule: Option<Spanned<String>>,
    level: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    rule: Option<Spanned<String>>,
    unit: Option<Spanned<String>>,
    kind: Option<String>,
    target: Option<Spanned<String>>,
    fingerprint: Option<String>,
    reason: Option<String>,
    expires: Option<Spanned<toml::value::Datetime>>,
}

/// A unit-name glob, with its text.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub text: String,
    matcher: GlobMatcher,
}

impl Pattern {
    pub fn is_match(&self, s: &str) -> bool {
        self.matcher.is_match(s)
    }
}

/// A per-unit level override.
#[derive(Clone, Debug)]
pub struct Override {
    pub unit: Pattern,
    pub rule: Option<RuleId>,
    /// `None`: off.
    pub level: Option<Level>,
    pub line: u32,
}

/// One `[[allow]]` entry.
#[derive(Clone, Debug)]
pub struct Allow {
    /// The line of its `[[allow]]` header.
    pub line: u32,
    pub rule: Option<RuleId>,
    pub unit: Option<Pattern>,
    pub kind: Option<String>,
    pub target: Option<Pattern>,
    pub fingerprint: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
}

impl Allow {
    /// Whether the entry describes this finding (ignoring expiry).
    pub fn matches(&self, f: &Finding) -> bool {
        self.rule.is_none_or(|r| r == f.rule)
            && self.unit.as_ref().is_none_or(|p| p.is_match(f.unit()))
            && self
                .kind
                .as_ref()
                .is_none_or(|k| k.eq_ignore_ascii_case(&f.kind))
            && self.target.as_ref().is_none_or(|p| p.is_match(&f.target))
            && self
                .fingerprint
                .as_ref()
                .is_none_or(|x| *x == f.fingerprint)
    }

    pub fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| e < today)
    }

    /// What the entry matches, for messages and the fingerprint of policy findings.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.rule {
            parts.push(format!("rule={r}"));
        }
        if let Some(u) = &self.unit {
            parts.push(format!("unit={}", u.text));
        }
        if let Some(k) = &self.kind {
            parts.push(format!("kind={k}"));
        }
        if let Some(t) = &self.target {
            parts.push(format!("target={}", t.text));
        }
        if let Some(f) = &self.fingerprint {
            parts.push(format!("fingerprint={f}"));
        }
        parts.join(" ")
    }
}

/// A parsed policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// The file it came from, as the user named it.
    pub path: String,
    /// Per-rule levels; `None` turns the rule off.
    pub levels: BTreeMap<RuleId, Option<Level>>,
    pub overrides: Vec<Override>,
    pub allow: Vec<Allow>,
}

fn level_setting(path: &str, text: &str, v: &Spanned<String>) -> Result<Option<Level>, FileError> {
    match v.get_ref().as_str() {
        "off" => Ok(None),
        s => Level::parse(s).map(Some).ok_or_else(|| {
            error_at(
                path,
                text,
                v.span().start,
                format!("unknown level {s:?} (error, warn, info or off)"),
            )
        }),
    }
}

fn rule_id(path: &str, text: &str, v: &Spanned<String>) -> Result<RuleId, FileError> {
    RuleId::parse(v.get_ref()).ok_or_else(|| {
        error_at(
            path,
            text,
            v.span().start,
            format!(
                "unknown rule {:?} (see `unitdiff rules`)",
                v.get_ref().as_str()
            ),
        )
    })
}

fn pattern(path: &str, text: &str, v: &Spanned<String>) -> Result<Pattern, FileError> {
    Glob::new(v.get_ref())
        .map(|g| Pattern {
            text: v.get_ref().clone(),
            matcher: g.compile_matcher(),
        })
        .map_err(|e| error_at(path, text, v.span().start, format!("bad glob: {e}")))
}

impl Policy {
    /// Parse a policy file's text; `path` is used in errors and findings.
    pub fn parse(path: &str, text: &str) -> Result<Policy, FileError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        match &raw.schema {
            None => {
                return Err(error_at(
                    path,
                    text,
                    0,
                    format!("missing `schema = \"{POLICY_SCHEMA}\"`"),
                ));
            }
            Some(s) if s.get_ref() != POLICY_SCHEMA => {
                return Err(error_at(
                    path,
                    text,
                    s.span().start,
                    format!(
                        "unsupported schema {:?} (expected {POLICY_SCHEMA:?})",
                        s.get_ref()
                    ),
                ));
            }
            Some(_) => {}
        }
        let mut p = Policy {
            path: path.to_string(),
            ..Default::default()
        };
        for (name, level) in &raw.rules {
            let id = RuleId::parse(name).ok_or_else(|| {
                error_at(
                    path,
                    text,
                    level.span().start,
                    format!("unknown rule {name:?} (see `unitdiff rules`)"),
                )
            })?;
            p.levels.insert(id, level_setting(path, text, level)?);
        }
        for o in &raw.overrides {
            let line = line_col(text, o.span().start).0;
            let r = o.get_ref();
            p.overrides.push(Override {
                unit: pattern(path, text, &r.unit)?,
                rule: r
                    .rule
                    .as_ref()
                    .map(|x| rule_id(path, text, x))
                    .transpose()?,
                level: level_setting(path, text, &r.level)?,
                line,
            });
        }
        for a in &raw.allow {
            let at = a.span().start;
            let line = line_col(text, at).0;
            let r = a.get_ref();
            let reason = match r.reason.as_deref().map(str::trim) {
                Some(s) if !s.is_empty() => s.to_string(),
                _ => {
                    return Err(error_at(
                        path,
                        text,
                        at,
                        "[[allow]] entry without a `reason` (say why this change is accepted)"
                            .to_string(),
                    ));
                }
            };
            if r.rule.is_none() && r.fingerprint.is_none() {
                return Err(error_at(
                    path,
                    text,
                    at,
                    "[[allow]] entry needs a `rule` or a `fingerprint`".to_string(),
                ));
            }
            p.allow.push(Allow {
                line,
                rule: r
                    .rule
                    .as_ref()
                    .map(|x| rule_id(path, text, x))
                    .transpose()?,
                unit: r
                    .unit
                    .as_ref()
                    .map(|x| pattern(path, text, x))
                    .transpose()?,
                kind: r.kind.clone(),
                target: r
                    .target
                    .as_ref()
                    .map(|x| pattern(path, text, x))
                    .transpose()?,
                fingerprint: r.fingerprint.as_ref().map(|f| f.to_ascii_lowercase()),
                reason,
                expires: r
                    .expires
                    .as_ref()
                    .map(|d| toml_date(path, text, d))
                    .transpose()?,
            });
        }
        Ok(p)
    }

    /// The level of a finding under this policy: the rule's level, then the last matching
    /// per-unit override. `None`: off.
    pub fn level(&self, rule: RuleId, unit: &str) -> Option<Level> {
        let mut level = self
            .levels
            .get(&rule)
            .copied()
            .unwrap_or(Some(rule.info().level));
        for o in &self.overrides {
            if o.rule.is_none_or(|r| r == rule) && o.unit.is_match(unit) {
                level = o.level;
            }
        }
        level
    }
}

/// A ready-to-paste `[[allow]]` entry for a finding (TOML-quoted values).
pub fn allow_snippet(f: &Finding) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::from("[[allow]]\n");
    out.push_str(&format!("rule = {}\n", q(f.rule.as_str())));
    if !f.unit().is_empty() {
        out.push_str(&format!("unit = {}\n", q(f.unit())));
    }
    if !f.kind.is_empty() {
        out.push_str(&format!("kind = {}\n", q(&f.kind)));
    }
    if !f.target.is_empty() {
        out.push_str(&format!("target = {}\n", q(&f.target)));
    }
    out.push_str("reason = \"\"  # why this change is accepted\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> FileError {
        Policy::parse("p.toml", text).expect_err("must fail")
    }

    #[test]
    fn parses_levels_overrides_and_allows() {
        let p = Policy::parse(
            "p.toml",
            "schema = \"unitdiff.policy.v1\"\n[rules]\nordering-changed = \"off\"\nunit-added = \"error\"\n\n[[override]]\nunit = \"a*.service\"\nlevel = \"info\"\n\n[[allow]]\nrule = \"new-hard-dependency\"\nunit = \"docker.service\"\nreason = \"ok\"\nexpires = 2027-01-02\n",
        )
        .expect("valid");
        assert_eq!(p.level(RuleId::OrderingChanged, "x.service"), None);
        assert_eq!(p.level(RuleId::UnitAdded, "x.service"), Some(Level::Error));
        assert_eq!(p.level(RuleId::UnitAdded, "ab.service"), Some(Level::Info));
        assert_eq!(
            p.level(RuleId::NewHardDependency, "x.service"),
            Some(Level::Error)
        );
        assert_eq!(p.allow.len(), 1);
        assert_eq!(p.allow[0].line, 10);
        assert_eq!(
            p.allow[0].expires.map(|d| d.to_string()).as_deref(),
            Some("2027-01-02")
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = err("schema = \"unitdiff.policy.v1\"\n\n[[allow]]\nrule = \"unit-added\"\n");
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(e.message.contains("reason"), "{e}");
        let e = err("schema = \"unitdiff.policy.v1\"\n[rules]\nunit-added = \"loud\"\n");
        assert_eq!((e.line, e.column), (3, 14), "{e}");
        let e = err("schema = \"unitdiff.policy.v1\"\n[rules\n");
        assert_eq!(e.line, 2, "{e}");
        let e =
            err("schema = \"unitdiff.policy.v1\"\n[[allow]]\nrule = \"nope\"\nreason = \"x\"\n");
        assert_eq!((e.line, e.column), (3, 8), "{e}");
        let e = err("schema = \"unitdiff.policy.v1\"\nbogus = 1\n");
        assert_eq!(e.line, 2, "{e}");
        let e = err("[rules]\n");
        assert!(e.message.contains("schema"), "{e}");
        let e = err(
            "schema = \"unitdiff.policy.v1\"\n[[allow]]\nrule = \"unit-added\"\nreason = \"x\"\nexpires = \"2027-01-01\"\n",
        );
        assert_eq!(e.line, 5, "{e}");
        assert_eq!(
            e.to_string(),
            format!("p.toml:{}:{}: {}", e.line, e.column, e.message)
        );
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
