//! Text for findings: the summary every text report leads with (counts per level, the top
//! findings with their witness and provenance), and `check`'s full list, each finding with
//! a ready-to-paste `[[allow]]` entry.

use super::answers::hop_phrase;
use crate::findings::policy::allow_snippet;
use crate::findings::{CheckResult, Checked, Level, Status};
use std::fmt::Write as _;

/// How many findings the summary shows.
pub const TOP: usize = 8;

fn counts_line(r: &CheckResult) -> String {
    let mut parts = Vec::new();
    let (mut allowed, mut baselined) = (0, 0);
    for l in Level::ALL {
        let c = r.count(l);
        parts.push(format!("{} {l}", c.total()));
        allowed += c.allowed;
        baselined += c.baselined;
    }
    let mut s = format!("Findings: {}", parts.join(", "));
    if allowed + baselined > 0 {
        let _ = write!(
            s,
            " ({allowed} allowed by the policy, {baselined} in the baseline)"
        );
    }
    s
}

fn status_tag(c: &Checked) -> String {
    match &c.status {
        Status::New => String::new(),
        Status::Allowed { policy, line, .. } => format!("  [allowed: {policy}:{line}]"),
        Status::Baselined {
            first_seen,
            age_days,
            ..
        } => format!("  [baselined {first_seen}, {age_days} days ago]"),
    }
}

/// A finding's witness as one line: `docker.service -> flanneld.service (Requires via …)`.
fn witness_line(c: &Checked) -> Option<String> {
    let w = &c.finding.witness;
    let first = w.first()?;
    let mut s = first.from.clone();
    for h in w {
        let _ = write!(s, " -> {} ({})", h.to, hop_phrase(h));
    }
    Some(s)
}

fn site_lines(out: &mut String, c: &Checked, indent: &str) {
    let f = &c.finding;
    match (&f.old, &f.new) {
        (Some(o), Some(n)) => {
            let _ = writeln!(out, "{indent}was: {}", o.label());
            let _ = writeln!(out, "{indent}now: {}", n.label());
        }
        (Some(o), None) => {
            let _ = writeln!(out, "{indent}was: {}", o.label());
        }
        (None, Some(n)) => {
            let _ = writeln!(out, "{indent}at: {}", n.label());
        }
        (None, None) => {}
    }
}

/// The summary: counts per level, the verdict when given, and the top findings.
pub fn summary(r: &CheckResult, verdict: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", counts_line(r));
    if verdict {
        let fail_on = r.fail_on.as_str();
        let v = if r.failed { "FAILED" } else { "passed" };
        let _ = writeln!(out, "Gate {v} (--fail-on {fail_on}).");
    }
    if r.findings.is_empty() {
        return out;
    }
    let shown: Vec<&Checked> = r.findings.iter().take(TOP).collect();
    let _ = writeln!(out, "\nTop findings:");
    for c in &shown {
        let f = &c.finding;
        let _ = writeln!(
            out,
            "{:5}  {}  {}{}",
            f.level.as_str(),
            f.rule,
            f.message,
            status_tag(c)
        );
        site_lines(&mut out, c, "       ");
        if let Some(w) = witness_line(c) {
            let _ = writeln!(out, "       witness: {w}");
        }
        if let Some(n) = &f.condition {
            let _ = writeln!(out, "       note: {n}");
        }
    }
    if r.findings.len() > shown.len() {
        let _ = writeln!(
            out,
            "({} more findings{})",
            r.findings.len() - shown.len(),
            if verdict {
                " below"
            } else {
                "; `unitdiff check` lists them all"
            }
        );
    }
    out
}

/// `check`'s text report: the summary, then every finding with its status and an
/// `[[allow]]` entry to paste into the policy file.
pub fn check(r: &CheckResult) -> String {
    let note = super::scope_note(r.scope);
    let mut out = format!("--- {}{note}\n+++ {}{note}\n\n", r.old_root, r.new_root);
    out.push_str(&summary(r, true));
    if let Some(p) = &r.policy {
        let _ = writeln!(out, "Policy: {p}");
    }
    if let Some(b) = &r.baseline {
        let _ = writeln!(out, "Baseline: {b}");
    }
    if !r.off.is_empty() {
        let list: Vec<String> = r.off.iter().map(|(k, n)| format!("{k} ({n})")).collect();
        let _ = writeln!(out, "Turned off by the policy: {}", list.join(", "));
    }
    if r.findings.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nAll findings:");
    for c in &r.findings {
        let f = &c.finding;
        let _ = writeln!(
            out,
            "\n{} {}  {}{}",
            f.level.as_str(),
            f.rule,
            f.message,
            status_tag(c)
        );
        site_lines(&mut out, c, "    ");
        for h in &f.witness {
            let _ = writeln!(
                out,
                "    witness: {} -> {} ({})",
                h.from,
                h.to,
                hop_phrase(h)
            );
        }
        if let Some(n) = &f.condition {
            let _ = writeln!(out, "    note: {n}");
        }
        let _ = writeln!(out, "    fingerprint: {}", f.fingerprint);
        match &c.status {
            Status::Allowed {
                reason, expires, ..
            } => {
                let until = expires.map(|d| format!(" (until {d})")).unwrap_or_default();
                let _ = writeln!(out, "    allowed because: {reason}{until}");
            }
            Status::Baselined { .. } => {}
            Status::New => {
                if f.unit().is_empty() {
                    let _ = writeln!(out, "    see: unitdiff explain {}", f.rule);
                } else {
                    let _ = writeln!(
                        out,
                        "    to allow it, add to the policy (see `unitdiff explain {}`):",
                        f.rule
                    );
                    for l in allow_snippet(f).lines() {
                        let _ = writeln!(out, "      {l}");
                    }
                }
            }
        }
    }
    out
}
