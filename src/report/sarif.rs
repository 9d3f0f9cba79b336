//! SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps): one run, the rule registry
//! as the driver's rules, a result per finding.
//!
//! - Locations are in-image paths relative to `OLDROOT` or `NEWROOT` (`uriBaseId`), which
//!   `run.originalUriBaseIds` maps to the image roots as given on the command line; removed
//!   things point into OLD. Policy and baseline entries point at their file (relative to
//!   the working directory). A finding no file wrote points at its unit's fragment, line 1
//!   (see [`super::ci`]), and says so in the message.
//! - `partialFingerprints` carry the finding's fingerprint (stable across moved lines and
//!   renamed files) as `unitdiff/v1` and as `primaryLocationLineHash`, which GitHub's upload
//!   would otherwise try to compute from a file that is not in the repository.
//! - A witness (the chain that makes a finding matter, or a cycle) is a `codeFlow`.
//! - Allowed and baselined findings carry `suppressions` (kind `external`, status
//!   `accepted`, the reason), so code scanning shows them as dismissed, not hidden.
//!
//! Hand-written serde structs, as cargo-deny does: serde-sarif generates ~10,000 lines from
//! the schema at build time for the ~20 properties used here. The tests validate the output
//! against the official schema.

use super::check::CheckInput;
use super::ci::{self, Location};
use crate::findings::{Checked, Level, RULES, Side, Status};
use serde::Serialize;
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    automation_details: Id,
    original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    results: Vec<SarifResult>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Id {
    id: String,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

fn text(s: impl Into<String>) -> Text {
    Text { text: s.into() }
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: Properties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    message: Text,
    thread_flows: Vec<ThreadFlow>,
}

#[derive(Serialize)]
struct ThreadFlow {
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
struct ThreadFlowLocation {
    location: SarifLocation,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<SarifLocation>,
}

#[derive(Serialize)]
struct Properties {
    unitdiff: PropertyBag,
}

#[derive(Serialize)]
struct PropertyBag {
    fingerprint: String,
    status: &'static str,
    cause: crate::diff::Cause,
    units: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Info => "note",
    }
}

/// `new-hard-dependency` → `NewHardDependency` (SARIF's `name`, a readable identifier).
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Percent-encode a path for a URI reference (RFC 3986): unreserved characters and `/`
/// stay, every other byte becomes `%XX`.
fn uri_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A root directory as given (`fixtures/coreos-899`, `/srv/img`) as a base URI: absolute
/// paths become `file://` URIs; relative ones stay relative to `%SRCROOT%`, the working
/// directory (the checkout, in CI).
fn root_uri(root: &str, what: &str) -> ArtifactLocation {
    let mut p = uri_path(root.trim_end_matches('/'));
    p.push('/');
    let absolute = root.starts_with('/');
    ArtifactLocation {
        uri: if absolute { format!("file://{p}") } else { p },
        uri_base_id: (!absolute).then_some("%SRCROOT%"),
        description: Some(text(what)),
    }
}

fn sarif_location(loc: &Location, unit: &str, message: Option<String>) -> SarifLocation {
    let (uri, base) = match loc.side {
        Side::Old => (uri_path(&loc.relative()), Some("OLDROOT")),
        Side::New => (uri_path(&loc.relative()), Some("NEWROOT")),
        Side::Policy => (uri_path(&loc.path), None),
    };
    SarifLocation {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri,
                uri_base_id: base,
                description: None,
            },
            region: Region {
                start_line: loc.line,
            },
        },
        logical_locations: if unit.is_empty() {
            Vec::new()
        } else {
            vec![LogicalLocation {
                name: unit.to_string(),
                kind: "module",
            }]
        },
        message: message.map(text),
    }
}

fn result(c: &Checked, input: &CheckInput) -> SarifResult {
    let f = &c.finding;
    let loc = ci::location(f, input);
    let mut message = f.message.clone();
    if !loc.exact && loc.side != Side::Policy {
        message.push_str(if loc.path.is_empty() {
            " (no unit file: the location is the image's root)"
        } else {
            " (no line wrote this: the location is the unit's file)"
        });
    }
    if let Some(n) = &f.condition {
        message.push_str(&format!(" Note: {n}."));
    }
    let code_flows = if f.witness.is_empty() {
        Vec::new()
    } else {
        let steps = f
            .witness
            .iter()
            .map(|h| {
                let site = h
                    .provenance
                    .first()
                    .map(|p| crate::findings::Site::of(Side::New, p));
                let hop_loc = match site.as_ref().and_then(|s| s.path.clone()) {
                    Some(path) => Location {
                        side: Side::New,
                        path,
                        line: site.as_ref().and_then(|s| s.line).unwrap_or(1).max(1),
                        exact: true,
                    },
                    None => loc.clone(),
                };
                ThreadFlowLocation {
                    location: sarif_location(
                        &hop_loc,
                        &h.from,
                        Some(format!("{} {} {}", h.from, h.kind, h.to)),
                    ),
                }
            })
            .collect();
        vec![CodeFlow {
            message: text(ci::witness_line(f).unwrap_or_default()),
            thread_flows: vec![ThreadFlow { locations: steps }],
        }]
    };
    let suppressions = match &c.status {
        Status::New => Vec::new(),
        Status::Allowed {
            policy,
            line,
            reason,
            ..
        } => vec![Suppression {
            kind: "external",
            status: "accepted",
            justification: reason.clone(),
            location: Some(sarif_location(
                &Location {
                    side: Side::Policy,
                    path: policy.clone(),
                    line: (*line).max(1),
                    exact: true,
                },
                "",
                None,
            )),
        }],
        Status::Baselined {
            baseline,
            first_seen,
            ..
        } => vec![Suppression {
            kind: "external",
            status: "accepted",
            justification: format!("in the baseline {baseline} since {first_seen}"),
            location: None,
        }],
    };
    let mut fp = BTreeMap::new();
    fp.insert("unitdiff/v1", f.fingerprint.clone());
    fp.insert("primaryLocationLineHash", f.fingerprint.clone());
    SarifResult {
        rule_id: f.rule.as_str(),
        rule_index: RULES.iter().position(|r| r.id == f.rule).unwrap_or(0),
        level: level(f.level),
        message: text(message),
        locations: vec![sarif_location(&loc, f.unit(), None)],
        partial_fingerprints: fp,
        code_flows,
        suppressions,
        properties: Properties {
            unitdiff: PropertyBag {
                fingerprint: f.fingerprint.clone(),
                status: c.status.as_str(),
                cause: f.cause,
                units: f.units.clone(),
                condition: f.condition.clone(),
            },
        },
    }
}

/// The SARIF log of a check, serialized.
pub fn sarif(input: &CheckInput) -> String {
    let r = input.result;
    let rules = RULES
        .iter()
        .map(|info| Rule {
            id: info.id.as_str(),
            name: pascal(info.id.as_str()),
            short_description: text(info.summary),
            full_description: text(format!("{} {}", info.summary, info.why)),
            help: Help {
                text: format!(
                    "{}\n\nExample:\n{}\n\nHow to accept it: {}\n\nMore: unitdiff explain {}",
                    info.why,
                    info.example,
                    info.allow,
                    info.id.as_str()
                ),
                markdown: format!(
                    "{}\n\n**Example**\n\n```\n{}\n```\n\n**How to accept it:** {}\n\nMore: `unitdiff explain {}`",
                    info.why,
                    info.example,
                    info.allow,
                    info.id.as_str()
                ),
            },
            default_configuration: Configuration {
                level: level(info.level),
            },
        })
        .collect();
    let mut bases = BTreeMap::new();
    bases.insert(
        "OLDROOT",
        root_uri(
            &r.old_root,
            &format!(
                "The old image's root directory{}",
                super::scope_note(r.scope)
            ),
        ),
    );
    bases.insert(
        "NEWROOT",
        root_uri(
            &r.new_root,
            &format!(
                "The new image's root directory{}",
                super::scope_note(r.scope)
            ),
        ),
    );
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "unitdiff",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            automation_details: Id {
                id: "unitdiff/check/".to_string(),
            },
            original_uri_base_ids: bases,
            results: r.findings.iter().map(|c| result(c, input)).collect(),
            column_kind: "unicodeCodePoints",
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).expect("serialisable");
    s.push('\n');
    s
}
