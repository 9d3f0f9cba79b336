//! Text for the answers of [`crate::query`]: dependency trees (alone and OLD vs NEW),
//! dependency paths, failure witnesses, the boot set and problems, and `cat`.

use super::source_label;
use crate::graph::DepGraph;
use crate::query::{DiffAnswers, FailureSetChange, Hop, TreeNode};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// `Requires /etc/…/40-flannel.conf:2 admin` (or `ConsistsOf` for an inverse PartOf).
pub fn hop_label(h: &Hop) -> String {
    let kind = match (h.inverse, h.kind.as_str()) {
        (true, "PartOf") => "ConsistsOf (PartOf from the other side)".to_string(),
        (true, k) => format!("{k} (from the other side)"),
        (false, k) => k.to_string(),
    };
    match h.provenance.first() {
        Some(p) => {
            let layer = p.layer.map(|l| l.as_str()).unwrap_or(p.origin.as_str());
            format!("{kind}  {}  {layer}", source_label(p))
        }
        None => kind,
    }
}

/// Draw `children` (of a node drawn with `prefix`) like systemctl, depth first with an
/// explicit stack (trees are as deep as an image's chains). `line` writes one node's line.
fn draw<'a, N>(
    out: &mut String,
    children: Vec<&'a N>,
    kids: &dyn Fn(&'a N) -> Vec<&'a N>,
    line: &dyn Fn(&mut String, &'a N),
) {
    // Frames: the prefix of a level and its children still to draw (reversed).
    let mut stack: Vec<(String, Vec<&'a N>)> = vec![(String::new(), rev(children))];
    while let Some((prefix, pending)) = stack.last_mut() {
        let Some(n) = pending.pop() else {
            stack.pop();
            continue;
        };
        let last = pending.is_empty();
        let prefix = prefix.clone();
        let branch = if last { "└─" } else { "├─" };
        let start = out.len();
        line(out, n);
        // `line` wrote "M NAME…"; put the tree drawing between the mark and the name.
        out.insert_str(
            start + out[start..].chars().next().map_or(0, char::len_utf8) + 1,
            &format!("{}{branch}", drawn(&prefix)),
        );
        let c = kids(n);
        if !c.is_empty() {
            stack.push((
                format!("{prefix}{}", if last { "  " } else { "│ " }),
                rev(c),
            ));
        }
    }
}

/// Levels of a tree drawn in full; deeper lines show how deep they are and the last
/// [`DRAWN_TAIL`] levels. A real tree is about 15 deep; an image's chain of 2,000 units
/// would otherwise draw ~4 bytes a level on every line (gigabytes for 200,000 lines).
const MAX_DRAWN_LEVELS: usize = 100;
const DRAWN_TAIL: usize = 16;

/// A line's prefix (two characters a level) as drawn: whole up to [`MAX_DRAWN_LEVELS`],
/// then `[N levels] ` and its last levels.
fn drawn(prefix: &str) -> std::borrow::Cow<'_, str> {
    let levels = prefix.chars().count() / 2;
    if levels <= MAX_DRAWN_LEVELS {
        return prefix.into();
    }
    let tail: String = {
        let mut t: Vec<char> = prefix.chars().rev().take(2 * DRAWN_TAIL).collect();
        t.reverse();
        t.into_iter().collect()
    };
    format!("[{} levels] {tail}", levels - DRAWN_TAIL).into()
}

fn rev<T>(mut v: Vec<T>) -> Vec<T> {
    v.reverse();
    v
}

/// A dependency tree drawn like `systemctl list-dependencies` (with the provenance of each
/// line when `why`).
pub fn tree(root: &TreeNode, why: bool) -> String {
    let mut out = format!("  {}\n", root.unit);
    draw(
        &mut out,
        root.children.iter().collect(),
        &|n: &TreeNode| n.children.iter().collect(),
        &|out: &mut String, n: &TreeNode| {
            let name = if n.repeated {
                format!("{} ...", n.unit)
            } else {
                n.unit.clone()
            };
            let _ = write!(out, "  {name}");
            if why && let Some(h) = &n.via {
                let _ = write!(out, "  [{}]", hop_label(h));
            }
            out.push('\n');
        },
    );
    out
}

/// A tree node marked as in OLD only, NEW only, or both; `changed`: it or something under
/// it is marked.
#[derive(Clone, Debug)]
struct Merged<'a> {
    node: &'a TreeNode,
    mark: char,
    changed: bool,
    children: Vec<usize>,
}

/// OLD's and NEW's trees merged into a flat arena (index 0 is the root), without recursion.
fn merge<'a>(old: &'a TreeNode, new: &'a TreeNode) -> Vec<Merged<'a>> {
    let mut arena = vec![Merged {
        node: new,
        mark: ' ',
        changed: false,
        children: Vec::new(),
    }];
    let mut stack: Vec<(usize, Option<&TreeNode>, Option<&TreeNode>)> =
        vec![(0, Some(old), Some(new))];
    while let Some((i, old, new)) = stack.pop() {
        let mark = arena[i].mark;
        let mut names: Vec<&str> = Vec::new();
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let by_name =
            |t: Option<&'a TreeNode>| -> std::collections::HashMap<&'a str, &'a TreeNode> {
                let mut m = std::collections::HashMap::new();
                for c in t.map(|n| n.children.as_slice()).unwrap_or(&[]) {
                    m.entry(c.unit.as_str()).or_insert(c);
                }
                m
            };
        let (om, nm) = (by_name(old), by_name(new));
        for c in new
            .map(|n| n.children.as_slice())
            .unwrap_or(&[])
            .iter()
            .chain(old.map(|n| n.children.as_slice()).unwrap_or(&[]))
        {
            if seen.insert(c.unit.as_str()) {
                names.push(&c.unit);
            }
        }
        for n in names {
            let (o, nn) = (om.get(n).copied(), nm.get(n).copied());
            // Inside an added or removed branch everything shares the mark.
            let m = match (mark, o, nn) {
                (' ', Some(_), Some(_)) => ' ',
                (' ', None, Some(_)) => '+',
                (' ', _, _) => '-',
                (m, _, _) => m,
            };
            let j = arena.len();
            arena.push(Merged {
                node: nn.or(o).expect("one side"),
                mark: m,
                changed: m != ' ',
                children: Vec::new(),
            });
            arena[i].children.push(j);
            stack.push((j, o, nn));
        }
    }
    // Children come after their parents: one backwards pass marks the changed branches.
    for i in (0..arena.len()).rev() {
        if arena[i].changed {
            continue;
        }
        let changed = arena[i].children.iter().any(|c| arena[*c].changed);
        arena[i].changed = changed;
    }
    arena
}

/// Which children to show: systemctl expands targets (or everything with --all); changed
/// branches, and the way down to them, are always shown.
fn shown<'m, 'a>(arena: &'m [Merged<'a>], m: &'m Merged<'a>, all: bool) -> Vec<&'m Merged<'a>> {
    let target = crate::unit::UnitName::parse(&m.node.unit)
        .is_some_and(|n| n.unit_type == crate::unit::UnitType::Target);
    let every = all || target || m.mark != ' ';
    m.children
        .iter()
        .map(|c| &arena[*c])
        .filter(|c| every || c.changed)
        .collect()
}

/// OLD's and NEW's trees merged: `+` branches only NEW has, `-` branches only OLD had,
/// each changed line with its provenance. Give fully expanded trees (`deps(.., all:
/// true)`): `all` then decides what is shown, as systemctl would, except that changed
/// branches are always shown in full.
pub fn tree_diff(old: &TreeNode, new: &TreeNode, why: bool, all: bool) -> String {
    let arena = merge(old, new);
    let root = &arena[0];
    let mut out = format!("  {}\n", root.node.unit);
    let first: Vec<&Merged> = root.children.iter().map(|c| &arena[*c]).collect();
    draw(
        &mut out,
        first,
        &|m: &Merged| shown(&arena, m, all),
        &|out: &mut String, m: &Merged| {
            let name = if m.node.repeated {
                format!("{} ...", m.node.unit)
            } else {
                m.node.unit.clone()
            };
            let _ = write!(out, "{} {name}", m.mark);
            if (why || m.mark != ' ')
                && let Some(h) = &m.node.via
            {
                let _ = write!(out, "  [{}]", hop_label(h));
            }
            out.push('\n');
        },
    );
    out
}

/// Dependency paths, one block each.
pub fn paths(from: &str, to: &str, paths: &[Vec<Hop>]) -> String {
    let mut out = String::new();
    if paths.is_empty() {
        let _ = writeln!(out, "No dependency path from {from} to {to}.");
        return out;
    }
    let _ = writeln!(
        out,
        "{} dependency path(s) from {from} to {to}, shortest first:",
        paths.len()
    );
    for (i, p) in paths.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n{}. {}",
            i + 1,
            std::iter::once(from)
                .chain(p.iter().map(|h| h.to.as_str()))
                .collect::<Vec<_>>()
                .join(" -> ")
        );
        for h in p {
            // The edge as stored (and written in its file); a hop walked against it says
            // which way it went.
            let (a, b) = if h.inverse {
                (&h.to, &h.from)
            } else {
                (&h.from, &h.to)
            };
            let walked = match (h.inverse, h.kind.as_str()) {
                (false, _) => String::new(),
                (true, "PartOf") => format!(" ({} ConsistsOf {})", h.from, h.to),
                (true, k) => format!(" ({} from the other side of {k})", h.from),
            };
            let _ = writeln!(
                out,
                "   {a} {} {b}{walked}   {}",
                h.kind,
                hop_label(h).split_once("  ").map(|x| x.1).unwrap_or("")
            );
        }
    }
    out
}

/// `Requires via /etc/…/40-flannel.conf:2, admin`.
pub fn hop_phrase(h: &Hop) -> String {
    let mut parts = hop_label(h)
        .splitn(3, "  ")
        .map(str::to_string)
        .collect::<Vec<_>>();
    match parts.len() {
        3 => format!(
            "{} via {}, {}",
            parts.remove(0),
            parts.remove(0),
            parts.remove(0)
        ),
        _ => parts.join(" "),
    }
}

fn chain(w: &[Hop]) -> String {
    w.iter()
        .map(|h| format!("{} ({})", h.to, hop_phrase(h)))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// The sections a diff report gains from the answers.
pub fn diff_answers(a: &DiffAnswers) -> String {
    let mut out = String::new();
    if !a.failure_witnesses.is_empty() {
        let _ = writeln!(out, "\nWhat can now stop units from starting:");
        let changes: BTreeMap<&str, &FailureSetChange> = a
            .failure_set_changes
            .iter()
            .map(|c| (c.unit.as_str(), c))
            .collect();
        for w in &a.failure_witnesses {
            let (victim, culprit) = (&w.edge.from, &w.edge.to);
            let verb = if w.edge.kind.is_hard() {
                "does not start"
            } else {
                "is stopped"
            };
            let _ = writeln!(
                out,
                "  if {culprit} fails, {victim} {verb} ({})",
                hop_phrase(&w.edge)
            );
            // Of what the culprit itself needs, what is new for the victim.
            let new_for_victim = changes.get(victim.as_str());
            for (unit, witness) in &w.through {
                if new_for_victim.is_some_and(|c| c.added.contains_key(unit)) {
                    let _ = writeln!(out, "    {culprit} itself needs {unit}: {}", chain(witness));
                }
            }
        }
    }
    if !a.failure_set_changes.is_empty() {
        let _ = writeln!(
            out,
            "\nUnits whose start now depends on more (or fewer) units:"
        );
        for c in &a.failure_set_changes {
            if !c.added.is_empty() {
                let _ = writeln!(
                    out,
                    "  {}: + {}",
                    c.unit,
                    c.added.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            if !c.removed.is_empty() {
                let _ = writeln!(out, "  {}: - {}", c.unit, c.removed.join(", "));
            }
        }
    }
    let _ = writeln!(out, "\nBoot ({}):", a.boot_target);
    if a.boot_added.is_empty() && a.boot_removed.is_empty() {
        let _ = writeln!(out, "  no unit newly started or no longer started");
    }
    {
        for u in &a.boot_added {
            let _ = writeln!(out, "  + {u}  (now started at boot)");
        }
        for u in &a.boot_removed {
            let _ = writeln!(out, "  - {u}  (no longer started at boot)");
        }
    }
    if !a.new_cycles.is_empty()
        || !a.new_broken.is_empty()
        || !a.resolved_cycles.is_empty()
        || !a.fixed_broken.is_empty()
    {
        let _ = writeln!(out, "\nProblems:");
        for c in &a.new_cycles {
            let _ = writeln!(
                out,
                "  new ordering cycle: {}",
                c.hops
                    .iter()
                    .map(|h| h.from.as_str())
                    .chain(c.hops.first().map(|h| h.from.as_str()))
                    .collect::<Vec<_>>()
                    .join(" after ")
            );
            for h in &c.hops {
                let _ = writeln!(out, "    {} after {}   [{}]", h.from, h.to, hop_label(h));
            }
        }
        for c in &a.resolved_cycles {
            let _ = writeln!(
                out,
                "  ordering cycle gone: {}",
                c.hops
                    .iter()
                    .map(|h| h.from.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for (h, state) in &a.new_broken {
            let _ = writeln!(
                out,
                "  new: {}={}, but {} is {} in NEW   [{}]",
                h.kind,
                h.to,
                h.to,
                state.as_str(),
                hop_label(h)
            );
        }
        for (h, state) in &a.fixed_broken {
            let _ = writeln!(
                out,
                "  fixed: {} {}={} ({} in OLD)",
                h.from,
                h.kind,
                h.to,
                state.as_str()
            );
        }
    }
    out
}

/// `systemctl cat`, offline: the fragment and drop-ins in the order systemd applies them.
pub fn cat(g: &DepGraph, unit: &str) -> Option<String> {
    let id = g.set.canonical(unit);
    let u = g
        .set
        .units
        .get(id.as_str())
        .or_else(|| g.set.templates.get(id.as_str()))?;
    let mut out = String::new();
    for (i, f) in u.fragment.iter().chain(u.dropins.iter()).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let what = if f.masked { ", masked" } else { "" };
        let target = f
            .target
            .as_ref()
            .map(|t| format!(" -> {}", super::escape::field(&t.to_string())))
            .unwrap_or_default();
        let image = g
            .layer_note(&f.path)
            .map(|n| format!(", {}", super::escape::field(&n)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "# {}{target}  ({}{what}{image})",
            super::escape::field(f.path.as_str()),
            f.layer
        );
        if let Some(c) = &f.content {
            let text = match c.bytes() {
                Some(b) => String::from_utf8_lossy(b),
                None => super::unified::NOT_KEPT.into(),
            };
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    if u.fragment.is_none() {
        let _ = writeln!(out, "# {id}: {} (no unit file)", u.state.as_str());
    }
    Some(out)
}
