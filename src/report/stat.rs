//! `diff --stat` and `diff --name-only`, like git's: which units changed, and how much.

use crate::diff::GraphDiff;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What changed about one unit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UnitStat {
    /// `added`, `removed`, or `None` for a unit on both sides.
    pub presence: Option<&'static str>,
    /// Dependencies of this unit (edges from it) only NEW has.
    pub deps_added: usize,
    /// Dependencies of this unit only OLD had.
    pub deps_removed: usize,
    /// Dependencies on both sides whose file, link or rule moved.
    pub deps_moved: usize,
    /// Unit files and drop-ins added, removed or modified.
    pub files: usize,
    /// `[Install]` entries added or removed.
    pub install: usize,
}

/// Every unit the diff touches, by name (sorted): added or removed units, units whose
/// files, state, settings, aliases or enablement changed, units whose dependencies changed
/// (an edge's `from` side) and units whose `[Install]` lines changed.
pub fn per_unit(d: &GraphDiff) -> BTreeMap<&str, UnitStat> {
    let mut m: BTreeMap<&str, UnitStat> = BTreeMap::new();
    for u in &d.units_added {
        m.entry(&u.name).or_default().presence = Some("added");
    }
    for u in &d.units_removed {
        m.entry(&u.name).or_default().presence = Some("removed");
    }
    for u in &d.units_changed {
        m.entry(&u.name).or_default().files += u.files.len();
    }
    for e in &d.edges_added {
        m.entry(&e.from).or_default().deps_added += 1;
    }
    for e in &d.edges_removed {
        m.entry(&e.from).or_default().deps_removed += 1;
    }
    for e in &d.edges_moved {
        m.entry(&e.from).or_default().deps_moved += 1;
    }
    for i in d.install_added.iter().chain(&d.install_removed) {
        m.entry(&i.unit).or_default().install += 1;
    }
    m
}

/// One name a line; nothing for an empty diff.
pub fn name_only(d: &GraphDiff) -> String {
    per_unit(d).keys().fold(String::new(), |mut s, n| {
        s.push_str(n);
        s.push('\n');
        s
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// ` NAME | +A -R deps[, ~M moved][, F files][, I [Install]][ (added|removed)]` per unit,
/// then the totals; nothing for an empty diff.
pub fn stat(d: &GraphDiff) -> String {
    let units = per_unit(d);
    if units.is_empty() {
        return String::new();
    }
    // Very long names (hostile or not) do not widen every line.
    let width = units
        .keys()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    let mut out = String::new();
    let (mut added, mut removed, mut moved) = (0, 0, 0);
    for (name, s) in &units {
        let mut line = format!(
            " {name:<width$} | +{} -{} deps",
            s.deps_added, s.deps_removed
        );
        if s.deps_moved > 0 {
            let _ = write!(line, ", ~{} moved", s.deps_moved);
        }
        if s.files > 0 {
            let _ = write!(line, ", {}", plural(s.files, "file", "files"));
        }
        if s.install > 0 {
            let _ = write!(line, ", {} [Install]", s.install);
        }
        if let Some(p) = s.presence {
            let _ = write!(line, " ({p})");
        }
        out.push_str(&line);
        out.push('\n');
        added += s.deps_added;
        removed += s.deps_removed;
        moved += s.deps_moved;
    }
    let _ = write!(
        out,
        " {}{} changed, {} added (+), {removed} removed (-)",
        plural(units.len(), "unit", "units"),
        super::scope_note(d.scope),
        plural(added, "dependency", "dependencies"),
    );
    if moved > 0 {
        let _ = write!(out, ", {moved} moved (~)");
    }
    out.push('\n');
    out
}
