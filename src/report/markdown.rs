//! Markdown release notes and pull-request comments: a summary, a section per changed unit
//! with its edge changes and provenance, collapsible unified diffs, and a Mermaid flowchart
//! of the changed subgraph (rendered natively by GitHub and GitLab).

use super::picture::{Picture, Status};
use super::source_label;
use super::unified::FilePatch;
use crate::diff::{Cause, GraphDiff};
use crate::unit::DepKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape;

fn code(s: &str) -> String {
    escape::markdown_code(s)
}

fn fenced(lang: &str, body: &str) -> String {
    escape::markdown_fenced(lang, body)
}

/// A Mermaid flowchart of a picture.
pub fn mermaid(p: &Picture) -> String {
    let mut out = String::from("flowchart LR\n");
    let ids: BTreeMap<&str, String> = p
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), format!("n{i}")))
        .collect();
    for n in &p.nodes {
        let mut label = escape::mermaid(&n.name);
        for note in &n.notes {
            label.push_str(&format!("<br/>({})", escape::mermaid(note)));
        }
        let _ = writeln!(out, "  {}[\"{}\"]", ids[n.name.as_str()], label);
        let class = match n.status {
            Status::Added => Some("added"),
            Status::Removed => Some("removed"),
            Status::Changed => Some("changed"),
            Status::Unchanged => None,
        };
        if let Some(c) = class {
            let _ = writeln!(out, "  class {} {c}", ids[n.name.as_str()]);
        }
    }
    // One Mermaid edge per (from, to, status), listing the kinds: parallel edges crowd
    // their labels. A symmetric pair (Conflicts both ways) becomes one two-headed edge.
    let mut merged: BTreeMap<(&str, &str, Status), Vec<&str>> = BTreeMap::new();
    for e in &p.edges {
        merged
            .entry((&e.from, &e.to, e.status))
            .or_default()
            .push(e.kind.as_str());
    }
    let mut both_ways = BTreeMap::new();
    for ((f, t, s), kinds) in &merged {
        if f < t && merged.get(&(*t, *f, *s)) == Some(kinds) {
            both_ways.insert((*f, *t, *s), ());
        }
    }
    let mut styles = Vec::new();
    let mut i = 0;
    for ((from, to, status), kinds) in &merged {
        if from > to && both_ways.contains_key(&(*to, *from, *status)) {
            continue;
        }
        let two = both_ways.contains_key(&(*from, *to, *status));
        let (arrow, mark) = match (status, two) {
            (Status::Added, false) => ("==>", "+ "),
            (Status::Added, true) => ("<==>", "+ "),
            (Status::Removed, false) => ("-.->", "- "),
            (Status::Removed, true) => ("<-.->", "- "),
            (Status::Changed, false) => ("-.->", "~ "),
            (Status::Changed, true) => ("<-.->", "~ "),
            (Status::Unchanged, false) => ("-->", ""),
            (Status::Unchanged, true) => ("<-->", ""),
        };
        let _ = writeln!(
            out,
            "  {} {arrow}|\"{mark}{}\"| {}",
            ids[from],
            kinds.join(", "),
            ids[to]
        );
        let style = match status {
            Status::Added => "stroke:#0072B2,stroke-width:3px",
            Status::Removed => "stroke:#E69F00,stroke-width:2px,stroke-dasharray:5 5",
            Status::Changed => "stroke:#CC79A7,stroke-width:2px,stroke-dasharray:2 2",
            Status::Unchanged => "stroke:#999999,stroke-width:1px",
        };
        styles.push(format!("  linkStyle {i} {style}"));
        i += 1;
    }
    for s in styles {
        let _ = writeln!(out, "{s}");
    }
    out.push_str("  classDef added fill:#DCEBF7,stroke:#0072B2,stroke-width:3px\n");
    out.push_str("  classDef removed fill:#FCEFD6,stroke:#E69F00,stroke-dasharray:5 5\n");
    out.push_str("  classDef changed fill:#F5E3EE,stroke:#CC79A7,stroke-width:2px\n");
    out
}

fn count_by_kind<'a>(edges: impl Iterator<Item = &'a DepKind>) -> String {
    let mut m: BTreeMap<DepKind, usize> = BTreeMap::new();
    for k in edges {
        *m.entry(*k).or_default() += 1;
    }
    if m.is_empty() {
        return "0".to_string();
    }
    m.iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Markdown report.
pub fn diff(d: &GraphDiff, picture: &Picture, patches: &[FilePatch]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# systemd dependency changes: {} → {}\n",
        code(&d.old_root),
        code(&d.new_root)
    );
    let _ = writeln!(out, "systemd {} → {}\n", d.old_rules, d.new_rules);
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| units added | {} |", d.units_added.len());
    let _ = writeln!(out, "| units removed | {} |", d.units_removed.len());
    let _ = writeln!(out, "| units changed | {} |", d.units_changed.len());
    let _ = writeln!(
        out,
        "| edges added | {} |",
        count_by_kind(d.edges_added.iter().map(|e| &e.kind))
    );
    let _ = writeln!(
        out,
        "| edges removed | {} |",
        count_by_kind(d.edges_removed.iter().map(|e| &e.kind))
    );
    let enablement = d
        .units_changed
        .iter()
        .filter(|c| c.enablement.is_some())
        .count();
    let _ = writeln!(out, "| enablement changes | {enablement} |");
    let _ = writeln!(
        out,
        "| `[Install]` changes | {} |\n",
        d.install_added.len() + d.install_removed.len()
    );

    if !picture.edges.is_empty() || !picture.nodes.is_empty() {
        let _ = writeln!(out, "{}\n", fenced("mermaid", &mermaid(picture)));
    }

    // A section per unit that changed in any way.
    let mut units: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // Marks are escaped: a bare `+`/`-` after the bullet would start a nested list.
    for (mark, list) in [("\\+", &d.edges_added), ("\\-", &d.edges_removed)] {
        for e in list {
            let p = &e.provenance[0];
            let layer = p.layer.map(|l| l.as_str()).unwrap_or(p.origin.as_str());
            let upgrade = if e.cause == Cause::SystemdUpgrade {
                " *(systemd upgrade)*"
            } else {
                ""
            };
            units.entry(&e.from).or_default().push(format!(
                "- {mark} **{}** {} — {} ({layer}){upgrade}",
                e.kind,
                code(&e.to),
                code(&source_label(p))
            ));
        }
    }
    for m in &d.edges_moved {
        units.entry(&m.from).or_default().push(format!(
            "- ~ **{}** {} moved from {} to {}",
            m.kind,
            code(&m.to),
            code(&source_label(&m.old[0])),
            code(&source_label(&m.new[0]))
        ));
    }
    for (mark, list) in [("\\+", &d.install_added), ("\\-", &d.install_removed)] {
        for i in list {
            let when = i
                .edge_when_enabled()
                .map(|(f, k, t)| format!(" — when enabled: {} {k} {}", code(&f), code(&t)))
                .unwrap_or_default();
            units.entry(&i.unit).or_default().push(format!(
                "- {mark} {} — {} ({}){when}",
                code(&format!("[Install] {}={}", i.key, i.value)),
                code(&format!("{}:{}", i.path, i.line)),
                i.layer
            ));
        }
    }
    for u in &d.units_added {
        units
            .entry(&u.name)
            .or_default()
            .push(format!("- unit added ({})", u.state.as_str()));
    }
    for u in &d.units_removed {
        units
            .entry(&u.name)
            .or_default()
            .push(format!("- unit removed ({})", u.state.as_str()));
    }
    for c in &d.units_changed {
        let lines = units.entry(&c.name).or_default();
        if let Some(s) = c.state {
            lines.push(format!(
                "- load state: {} → {}",
                s.old.as_str(),
                s.new.as_str()
            ));
        }
        if let Some(e) = c.enablement {
            lines.push(format!(
                "- enablement: {} → {}",
                e.old.as_str(),
                e.new.as_str()
            ));
        }
        for s in &c.settings {
            for v in &s.removed {
                lines.push(format!(
                    "- − {}",
                    code(&format!("[{}] {}={v}", s.section, s.key))
                ));
            }
            for v in &s.added {
                lines.push(format!(
                    "- \\+ {}",
                    code(&format!("[{}] {}={v}", s.section, s.key))
                ));
            }
        }
    }
    if !units.is_empty() {
        let _ = writeln!(out, "## Changed units\n");
    }
    for (unit, lines) in &units {
        let _ = writeln!(out, "### {}\n", code(unit));
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        out.push('\n');
        for p in patches.iter().filter(|p| p.unit == *unit) {
            let _ = writeln!(
                out,
                "<details><summary>diff of <code>{}</code></summary>\n\n{}\n\n</details>\n",
                escape::html(p.path.as_str()),
                fenced("diff", &p.text)
            );
        }
    }
    if d.is_empty() {
        let _ = writeln!(out, "No changes.");
    }
    out
}
