//! Human-readable reports: one image's graph, and the difference between two.

use super::escape::field;
use super::source_label;
use crate::diff::{Cause, FileChangeKind, GraphDiff};
use crate::graph::DepGraph;
use crate::unit::{DepKind, How, Provenance};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

fn layer_label(p: &Provenance) -> &'static str {
    p.layer.map(|l| l.as_str()).unwrap_or(p.origin.as_str())
}

/// One edge line: `  + Requires  flanneld.service  /etc/…/40-flannel.conf:2  admin`.
fn edge_line(
    out: &mut String,
    mark: char,
    kind: DepKind,
    to: &str,
    p: &Provenance,
    widths: (usize, usize),
) {
    let _ = writeln!(
        out,
        "  {mark} {:kw$}  {:tw$}  {}  {}",
        kind.as_str(),
        to,
        source_label(p),
        layer_label(p),
        kw = widths.0,
        tw = widths.1
    );
}

/// Edge changes of one cause, grouped by the unit they leave.
fn edge_section(out: &mut String, d: &GraphDiff, cause: Cause, heading: &str) {
    enum Line<'a> {
        Added(&'a crate::diff::EdgeChange),
        Removed(&'a crate::diff::EdgeChange),
        Moved(&'a crate::diff::EdgeMove),
    }
    // The edges systemd's rules give a unit that appears or disappears come and go with
    // it: listing them would bury the edges someone wrote. JSON keeps them all.
    let whole: std::collections::BTreeSet<&str> = d
        .units_added
        .iter()
        .chain(d.units_removed.iter())
        .map(|u| u.name.as_str())
        .collect();
    let implied = |e: &&crate::diff::EdgeChange| {
        whole.contains(e.from.as_str()) && e.provenance.iter().all(|p| p.how == How::Rule)
    };
    let hidden = d
        .edges_removed
        .iter()
        .chain(d.edges_added.iter())
        .filter(|e| e.cause == cause)
        .filter(implied)
        .count();
    let mut by_unit: BTreeMap<&str, Vec<(DepKind, &str, u8, Line)>> = BTreeMap::new();
    for e in d
        .edges_removed
        .iter()
        .filter(|e| e.cause == cause && !implied(e))
    {
        by_unit
            .entry(&e.from)
            .or_default()
            .push((e.kind, &e.to, 0, Line::Removed(e)));
    }
    for e in d
        .edges_added
        .iter()
        .filter(|e| e.cause == cause && !implied(e))
    {
        by_unit
            .entry(&e.from)
            .or_default()
            .push((e.kind, &e.to, 1, Line::Added(e)));
    }
    if cause == Cause::Files {
        for m in &d.edges_moved {
            by_unit
                .entry(&m.from)
                .or_default()
                .push((m.kind, &m.to, 2, Line::Moved(m)));
        }
    }
    if by_unit.is_empty() && hidden == 0 {
        return;
    }
    let _ = writeln!(out, "\n{heading}");
    if hidden > 0 {
        let _ = writeln!(
            out,
            "({hidden} edges systemd's rules give to units added or removed are not listed; --format json has them)"
        );
    }
    for (unit, mut lines) in by_unit {
        lines.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        let kw = lines.iter().map(|l| l.0.as_str().len()).max().unwrap_or(0);
        let tw = lines.iter().map(|l| l.1.len()).max().unwrap_or(0);
        let _ = writeln!(out, "{unit}");
        for (kind, to, _, line) in lines {
            match line {
                Line::Added(e) => edge_line(out, '+', kind, to, &e.provenance[0], (kw, tw)),
                Line::Removed(e) => edge_line(out, '-', kind, to, &e.provenance[0], (kw, tw)),
                Line::Moved(m) => {
                    edge_line(out, '~', kind, to, &m.new[0], (kw, tw));
                    let _ = writeln!(
                        out,
                        "      (was {}  {})",
                        source_label(&m.old[0]),
                        layer_label(&m.old[0])
                    );
                }
            }
        }
    }
}

/// Write the diff report; `summary` (the findings' summary) follows the header.
pub fn diff(d: &GraphDiff, summary: &str, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    if d.is_empty() {
        let note = super::scope_note(d.scope);
        let _ = writeln!(
            out,
            "No changes between {}{note} and {}{note}.",
            d.old_root, d.new_root
        );
        return w.write_all(out.as_bytes());
    }
    let note = super::scope_note(d.scope);
    let _ = writeln!(
        out,
        "--- {}  (systemd {}){note}\n+++ {}  (systemd {}){note}",
        d.old_root, d.old_rules, d.new_root, d.new_rules
    );
    if !summary.is_empty() {
        out.push('\n');
        out.push_str(summary);
    }
    edge_section(&mut out, d, Cause::Files, "Dependency changes:");
    let heading = format!(
        "Dependency changes from the systemd upgrade ({} -> {}), same unit files:",
        d.old_rules, d.new_rules
    );
    edge_section(&mut out, d, Cause::SystemdUpgrade, &heading);
    let upgrade_units: Vec<(char, &crate::diff::UnitPresence)> = d
        .units_removed
        .iter()
        .map(|u| ('-', u))
        .chain(d.units_added.iter().map(|u| ('+', u)))
        .filter(|(_, u)| u.cause == Cause::SystemdUpgrade)
        .collect();
    if !upgrade_units.is_empty() {
        let _ = writeln!(out, "units loaded because of the upgrade's rules:");
        for (mark, u) in upgrade_units {
            let _ = writeln!(out, "  {mark} {} ({})", u.name, u.state.as_str());
        }
    }

    if !d.install_added.is_empty() || !d.install_removed.is_empty() {
        let _ = writeln!(
            out,
            "\n[Install] changes (take effect when the unit is enabled):"
        );
        let mut by_unit: BTreeMap<&str, Vec<(char, &crate::diff::InstallChange)>> = BTreeMap::new();
        for i in &d.install_removed {
            by_unit.entry(&i.unit).or_default().push(('-', i));
        }
        for i in &d.install_added {
            by_unit.entry(&i.unit).or_default().push(('+', i));
        }
        for (unit, items) in by_unit {
            let _ = writeln!(out, "{unit}");
            for (mark, i) in items {
                let _ = write!(
                    out,
                    "  {mark} [Install] {}={}  {}:{}  {}",
                    i.key, i.value, i.path, i.line, i.layer
                );
                match i.edge_when_enabled() {
                    Some((from, kind, to)) => {
                        let _ = writeln!(out, "  (when enabled: {from} {kind} {to})");
                    }
                    None => {
                        let _ = writeln!(out);
                    }
                }
            }
        }
    }

    let file_units = d
        .units_added
        .iter()
        .chain(d.units_removed.iter())
        .any(|u| u.cause == Cause::Files);
    if file_units || !d.units_changed.is_empty() {
        let _ = writeln!(out, "\nUnits:");
        for u in d.units_removed.iter().filter(|u| u.cause == Cause::Files) {
            let t = if u.template { ", template" } else { "" };
            let _ = writeln!(out, "  - {} ({}{t})", u.name, u.state.as_str());
        }
        for u in d.units_added.iter().filter(|u| u.cause == Cause::Files) {
            let t = if u.template { ", template" } else { "" };
            let _ = writeln!(out, "  + {} ({}{t})", u.name, u.state.as_str());
        }
        for c in &d.units_changed {
            let _ = writeln!(out, "  ~ {}", c.name);
            if let Some(s) = c.state {
                let _ = writeln!(out, "      state: {} -> {}", s.old.as_str(), s.new.as_str());
            }
            if let Some(e) = c.enablement {
                let _ = writeln!(
                    out,
                    "      enablement: {} -> {}",
                    e.old.as_str(),
                    e.new.as_str()
                );
            }
            for f in &c.files {
                let verb = match f.change {
                    FileChangeKind::Added => "added",
                    FileChangeKind::Removed => "removed",
                    FileChangeKind::Modified => "modified",
                };
                let _ = writeln!(out, "      {verb} {} ({})", field(f.path.as_str()), f.layer);
            }
            for a in &c.aliases_added {
                let _ = writeln!(out, "      + alias {a}");
            }
            for a in &c.aliases_removed {
                let _ = writeln!(out, "      - alias {a}");
            }
            for s in &c.settings {
                for v in &s.removed {
                    let _ = writeln!(out, "      - [{}] {}={}", s.section, s.key, v);
                }
                for v in &s.added {
                    let _ = writeln!(out, "      + [{}] {}={}", s.section, s.key, v);
                }
            }
        }
    }
    w.write_all(out.as_bytes())
}

/// Write one image's graph.
pub fn graph(g: &DepGraph, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "root: {}{}\nrules: systemd {} ({})",
        field(&g.root),
        super::scope_note(g.set.scope),
        g.set.rules,
        field(&g.rules_how)
    );
    let _ = writeln!(out, "search path:");
    for d in &g.set.search_dirs {
        if d.declared == d.physical {
            let _ = writeln!(out, "  {}  {}", d.declared, d.layer);
        } else {
            let _ = writeln!(out, "  {} -> {}  {}", d.declared, d.physical, d.layer);
        }
    }
    for (name, u) in &g.set.units {
        let _ = writeln!(out);
        match &u.fragment {
            Some(f) => {
                let _ = writeln!(
                    out,
                    "{name}  {}  {} ({})",
                    u.state.as_str(),
                    f.path,
                    f.layer
                );
            }
            None => {
                let _ = writeln!(out, "{name}  {}", u.state.as_str());
            }
        }
        for a in &u.aliases {
            let _ = writeln!(out, "  alias    {a}");
        }
        if let Some(e) = g.set.enablement.get(name) {
            let preset = match &e.preset {
                Some(p) => match (&p.path, p.line) {
                    (Some(path), Some(line)) => {
                        format!("  (preset: {} at {path}:{line})", p.action)
                    }
                    _ => format!("  (preset: {}, no preset line matches)", p.action),
                },
                None => String::new(),
            };
            let note = if e.preset_enabled_but_not_linked() {
                "  preset-enabled but not linked"
            } else {
                ""
            };
            let _ = writeln!(out, "  enabled  {}{preset}{note}", e.state.as_str());
        }
        for d in &u.dropins {
            let mask = if d.masked { " masked" } else { "" };
            let _ = writeln!(
                out,
                "  drop-in  {} ({}){mask}",
                field(d.path.as_str()),
                d.layer
            );
        }
        let edges = g.edges_from(name);
        let rules: std::collections::BTreeSet<&str> = edges
            .iter()
            .flat_map(|k| {
                g.edges[*k]
                    .iter()
                    .filter_map(|p| p.rule.map(|r| r.as_str()))
            })
            .collect();
        if !rules.is_empty() {
            let list: Vec<&str> = rules.into_iter().collect();
            let _ = writeln!(
                out,
                "  rules    systemd {}: {}",
                g.set.rules,
                list.join(", ")
            );
        }
        let kw = edges.iter().map(|e| e.1.as_str().len()).max().unwrap_or(0);
        let tw = edges.iter().map(|e| e.2.len()).max().unwrap_or(0);
        for key in edges {
            for p in &g.edges[key] {
                let _ = writeln!(
                    out,
                    "  {:kw$}  {:tw$}  {}  {}",
                    key.1.as_str(),
                    key.2,
                    source_label(p),
                    layer_label(p)
                );
            }
        }
        for s in &u.install {
            let _ = writeln!(
                out,
                "  [Install] {}={}  {}:{}  {}",
                s.key, s.value, s.path, s.line, s.layer
            );
        }
    }
    if !g.set.templates.is_empty() {
        let _ = writeln!(out, "\ntemplates:");
        for (name, u) in &g.set.templates {
            let path = u
                .fragment
                .as_ref()
                .map(|f| f.path.to_string())
                .unwrap_or_default();
            let _ = writeln!(out, "  {name}  {}  {path}", u.state.as_str());
        }
    }
    w.write_all(out.as_bytes())
}

/// Add terminal styles to a plain report (diff marks, headings, patch hunks). The caller's
/// `anstream` writer strips them again when colour is off, so plain text stays the one
/// source of truth.
pub fn colorize(text: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let bold = Style::new().bold();
    let added = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let removed = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let moved = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let hunk = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        let style = if line.starts_with("--- ")
            || line.starts_with("+++ ")
            || line.starts_with("diff --unitdiff")
        {
            Some(bold)
        } else if line.starts_with("@@") {
            Some(hunk)
        } else if line.starts_with('+') || body.starts_with("+ ") {
            Some(added)
        } else if line.starts_with('-') || body.starts_with("- ") {
            Some(removed)
        } else if body.starts_with("~ ") {
            Some(moved)
        } else if !line.starts_with(' ') && !line.trim().is_empty() {
            Some(bold)
        } else {
            None
        };
        match style {
            Some(s) => {
                let (content, nl) = match line.strip_suffix('\n') {
                    Some(c) => (c, "\n"),
                    None => (line, ""),
                };
                let _ = write!(out, "{}{content}{}{nl}", s.render(), s.render_reset());
            }
            None => out.push_str(line),
        }
    }
    out
}
