//! What a picture of a diff (or of one graph) shows: the units and edges selected from the
//! diff model, with their change status. DOT, the rendered images and Mermaid all draw this
//! one selection, so they always agree.

use crate::diff::{Cause, GraphDiff};
use crate::graph::DepGraph;
use crate::unit::{DepKind, How, LoadState, Sym, UnitType};
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Whether an element was added, removed, changed or is context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Added,
    Removed,
    Changed,
    Unchanged,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PNode {
    pub name: String,
    pub unit_type: Option<UnitType>,
    pub status: Status,
    /// Short notes shown under the name: load state, what changed.
    pub notes: Vec<String>,
    /// The box it is drawn in (overviews: the target that pulls it in).
    pub group: Option<String>,
    /// Stands for this many units not drawn (`+ 23 units`); `name` is a made-up id.
    pub summary: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PEdge {
    pub from: String,
    pub kind: DepKind,
    pub to: String,
    pub status: Status,
    /// The change comes from a systemd upgrade, not the files.
    pub upgrade: bool,
}

/// The selected subgraph, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Picture {
    pub nodes: Vec<PNode>,
    pub edges: Vec<PEdge>,
    /// What the picture budget cut, if anything (for a warning).
    pub cut: Option<String>,
}

/// What to show.
#[derive(Clone, Debug)]
pub struct Selection {
    /// Restrict to the neighbourhood of these units (canonical names or aliases).
    pub focus: Vec<String>,
    /// Hops of unchanged context around what changed (or around the focus).
    pub context: usize,
    /// Edge kinds to draw (`None`: all).
    pub kinds: Option<Vec<DepKind>>,
    /// Also draw unchanged edges systemd adds by itself (default dependencies, slices…).
    pub implicit: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            focus: Vec::new(),
            context: 1,
            kinds: None,
            implicit: false,
        }
    }
}

/// Parse `requires,wants,after` into kinds (case-insensitive).
pub fn parse_kinds(s: &str) -> Result<Vec<DepKind>, String> {
    s.split(',')
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            DepKind::ALL
                .into_iter()
                .find(|k| k.as_str().eq_ignore_ascii_case(w.trim()))
                .ok_or_else(|| format!("unknown dependency kind: {w}"))
        })
        .collect()
}

fn written(provs: &crate::graph::Provenances) -> bool {
    provs.iter().any(|p| p.how != How::Rule)
}

pub(crate) fn unit_type(name: &str) -> Option<UnitType> {
    crate::unit::UnitName::parse(name).map(|n| n.unit_type)
}

pub(crate) fn state_note(state: LoadState) -> Option<String> {
    (state != LoadState::Loaded).then(|| state.as_str().to_string())
}

/// Neighbours each unit of a finding's picture brings (see [`DiffScene::finding_picture`]).
pub const FINDING_NEIGHBOURS: usize = 24;

/// Breadth-first neighbourhood (undirected) of `seeds`, `hops` deep.
fn neighbourhood<K: Borrow<str> + Ord>(
    seeds: &BTreeSet<String>,
    adj: &BTreeMap<K, BTreeSet<K>>,
    hops: usize,
) -> BTreeSet<String> {
    walk(seeds, adj, hops, None).0
}

/// How a [`walk`] narrows: it steps only onto units `keep` accepts, and each unit brings at
/// most `most` new neighbours (those `first` accepts first, then by name).
struct Cap<'c> {
    keep: &'c dyn Fn(&str) -> bool,
    first: &'c dyn Fn(&str) -> bool,
    most: usize,
}

/// Breadth-first walk (undirected) from `seeds`, `hops` deep, narrowed by `cap` when given.
/// Returns the units reached and the units a cap left out (and nothing else reached).
fn walk<K: Borrow<str> + Ord>(
    seeds: &BTreeSet<String>,
    adj: &BTreeMap<K, BTreeSet<K>>,
    hops: usize,
    cap: Option<&Cap>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut seen: BTreeSet<String> = seeds.clone();
    let mut left_out: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, usize)> = seeds.iter().map(|s| (s.clone(), 0)).collect();
    while let Some((n, d)) = queue.pop_front() {
        if d == hops {
            continue;
        }
        let mut near: Vec<&str> = adj
            .get(n.as_str())
            .into_iter()
            .flatten()
            .map(|m| m.borrow())
            .filter(|m| !seen.contains(*m) && cap.is_none_or(|c| (c.keep)(m)))
            .collect();
        if let Some(c) = cap {
            near.sort_by_key(|m| (!(c.first)(m), *m));
            let cut = c.most.min(near.len());
            left_out.extend(near.drain(cut..).map(str::to_string));
        }
        for m in near {
            seen.insert(m.to_string());
            queue.push_back((m.to_string(), d + 1));
        }
    }
    left_out.retain(|m| !seen.contains(m));
    (seen, left_out)
}

fn canonical(name: &str, graphs: &[&DepGraph]) -> String {
    graphs
        .iter()
        .find_map(|g| g.set.names.get(name))
        .map_or_else(|| name.to_string(), Sym::to_string)
}

/// An edge of a picture: from, kind, to.
pub(crate) type Key = (String, DepKind, String);

/// Every changed edge of a diff with its status (and whether a systemd upgrade made it).
pub(crate) fn changed_edges(d: &GraphDiff) -> BTreeMap<Key, (Status, bool)> {
    let mut edges: BTreeMap<Key, (Status, bool)> = BTreeMap::new();
    for e in &d.edges_added {
        edges.insert(
            (e.from.clone(), e.kind, e.to.clone()),
            (Status::Added, e.cause == Cause::SystemdUpgrade),
        );
    }
    for e in &d.edges_removed {
        edges.insert(
            (e.from.clone(), e.kind, e.to.clone()),
            (Status::Removed, e.cause == Cause::SystemdUpgrade),
        );
    }
    for m in &d.edges_moved {
        edges.insert(
            (m.from.clone(), m.kind, m.to.clone()),
            (Status::Changed, false),
        );
    }
    edges
}

/// Every unit a diff names, with its status and the notes shown under its name.
pub(crate) fn unit_statuses(d: &GraphDiff) -> BTreeMap<String, (Status, Vec<String>)> {
    let mut status: BTreeMap<String, (Status, Vec<String>)> = BTreeMap::new();
    for u in &d.units_added {
        let mut notes = vec!["added".to_string()];
        notes.extend(state_note(u.state));
        status.insert(u.name.clone(), (Status::Added, notes));
    }
    for u in &d.units_removed {
        let mut notes = vec!["removed".to_string()];
        notes.extend(state_note(u.state));
        status.insert(u.name.clone(), (Status::Removed, notes));
    }
    for c in &d.units_changed {
        let mut notes = Vec::new();
        if let Some(s) = c.state {
            notes.push(format!("{} -> {}", s.old.as_str(), s.new.as_str()));
        }
        if let Some(e) = c.enablement {
            notes.push(format!("{} -> {}", e.old.as_str(), e.new.as_str()));
        }
        if !c.files.is_empty() || !c.settings.is_empty() {
            notes.push("files changed".to_string());
        }
        status.insert(c.name.clone(), (Status::Changed, notes));
    }
    status
}

pub(crate) fn is_written(provs: &crate::graph::Provenances) -> bool {
    written(provs)
}

/// Select the picture of a diff: what changed, plus context, restricted by the selection.
pub fn diff_picture(d: &GraphDiff, old: &DepGraph, new: &DepGraph, sel: &Selection) -> Picture {
    DiffScene::new(d, old, new, sel).picture(&sel.focus)
}

/// What every picture of one diff starts from: its edges with their status, the units'
/// statuses, the adjacency and the changed units with their context. Computed once, so that
/// the HTML report and `--split`, which draw one picture per top finding, pay for the whole
/// diff once and for each picture only its own units and edges.
pub struct DiffScene<'a> {
    old: &'a DepGraph,
    new: &'a DepGraph,
    edges: BTreeMap<Key, (Status, bool)>,
    /// Edges by the unit they start from.
    from: BTreeMap<String, Vec<Key>>,
    adj: BTreeMap<String, BTreeSet<String>>,
    status: BTreeMap<String, (Status, Vec<String>)>,
    /// The changed units and their `context` neighbourhood.
    near_changes: BTreeSet<String>,
    context: usize,
}

impl<'a> DiffScene<'a> {
    /// The scene of `d` under `sel`'s kinds, implicit-edge choice and context (its focus is
    /// given per picture).
    pub fn new(d: &GraphDiff, old: &'a DepGraph, new: &'a DepGraph, sel: &Selection) -> Self {
        let kind_ok = |k: DepKind| sel.kinds.as_ref().is_none_or(|ks| ks.contains(&k));
        // Every edge of either side with its status.
        let mut edges = changed_edges(d);
        for (k, provs) in new.edges.iter().chain(old.edges.iter()) {
            let k = (k.0.to_string(), k.1, k.2.to_string());
            if !edges.contains_key(&k) && (sel.implicit || written(provs)) {
                edges.insert(k, (Status::Unchanged, false));
            }
        }
        edges.retain(|k, _| kind_ok(k.1));
        let status = unit_statuses(d);
        let changed_nodes: BTreeSet<String> = edges
            .iter()
            .filter(|(_, (s, _))| *s != Status::Unchanged)
            .flat_map(|(k, _)| [k.0.clone(), k.2.clone()])
            .chain(status.keys().cloned())
            .collect();
        let mut adj: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut from: BTreeMap<String, Vec<Key>> = BTreeMap::new();
        for k in edges.keys() {
            adj.entry(k.0.clone()).or_default().insert(k.2.clone());
            adj.entry(k.2.clone()).or_default().insert(k.0.clone());
            from.entry(k.0.clone()).or_default().push(k.clone());
        }
        let near_changes = neighbourhood(&changed_nodes, &adj, sel.context);
        DiffScene {
            old,
            new,
            edges,
            from,
            adj,
            status,
            near_changes,
            context: sel.context,
        }
    }

    /// A finding's picture: its units and their neighbourhood near a change, as
    /// [`DiffScene::picture`], but each unit brings at most [`FINDING_NEIGHBOURS`] neighbours
    /// (changed units first, then by name), so a finding about a unit with hundreds of
    /// neighbours (sysinit.target, multi-user.target) stays readable and quick to lay out.
    /// Also returns a note for the picture's title when units were left out (not a
    /// warning: real upgrades have such hubs).
    pub fn finding_picture(&self, units: &[String]) -> (Picture, Option<String>) {
        let focus: BTreeSet<String> = units
            .iter()
            .map(|f| canonical(f, &[self.new, self.old]))
            .collect();
        let cap = Cap {
            keep: &|m| self.near_changes.contains(m),
            first: &|m| self.status.contains_key(m),
            most: FINDING_NEIGHBOURS,
        };
        let (nodes, left_out) = walk(&focus, &self.adj, self.context.max(1), Some(&cap));
        let left = left_out.len();
        let note = (left > 0).then(|| format!("{left} more nearby units not drawn"));
        (self.picture_of(nodes), note)
    }

    /// The picture around `focus` (everything near a change when `focus` is empty).
    pub fn picture(&self, focus: &[String]) -> Picture {
        let nodes = if focus.is_empty() {
            self.near_changes.clone()
        } else {
            let focus: BTreeSet<String> = focus
                .iter()
                .map(|f| canonical(f, &[self.new, self.old]))
                .collect();
            let around = neighbourhood(&focus, &self.adj, self.context.max(1));
            let mut nodes: BTreeSet<String> = around
                .into_iter()
                .filter(|n| self.near_changes.contains(n))
                .collect();
            nodes.extend(focus);
            nodes
        };
        self.picture_of(nodes)
    }

    /// The picture of `nodes` and the edges among them.
    fn picture_of(&self, nodes: BTreeSet<String>) -> Picture {
        // Only the edges among the picture's units.
        let edges: BTreeMap<Key, (Status, bool)> = nodes
            .iter()
            .filter_map(|n| self.from.get(n))
            .flatten()
            .filter(|k| nodes.contains(&k.2))
            .map(|k| (k.clone(), self.edges[k]))
            .collect();
        build(nodes, edges, |n| {
            let side = self
                .new
                .set
                .units
                .get(n)
                .or_else(|| self.old.set.units.get(n));
            unit_status_of(&self.status, n, side)
        })
    }
}

/// A unit's status and notes from [`unit_statuses`], or its load state when unchanged.
pub(crate) fn unit_status_of(
    status: &BTreeMap<String, (Status, Vec<String>)>,
    n: &str,
    side: Option<&crate::unit::Unit>,
) -> (Status, Vec<String>) {
    let (st, mut notes) = status
        .get(n)
        .cloned()
        .unwrap_or((Status::Unchanged, Vec::new()));
    if st == Status::Unchanged
        && let Some(u) = side
    {
        notes.extend(state_note(u.state));
    }
    (st, notes)
}

/// Select the picture of one graph (everything, or the neighbourhood of the focus).
pub fn graph_picture(g: &DepGraph, sel: &Selection) -> Picture {
    let kind_ok = |k: DepKind| sel.kinds.as_ref().is_none_or(|ks| ks.contains(&k));
    let edges: BTreeMap<Key, (Status, bool)> = g
        .edges
        .iter()
        .filter(|(k, p)| kind_ok(k.1) && (sel.implicit || written(p)))
        .map(|(k, _)| {
            let key = (k.0.to_string(), k.1, k.2.to_string());
            (key, (Status::Unchanged, false))
        })
        .collect();
    let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for k in edges.keys() {
        adj.entry(&k.0).or_default().insert(&k.2);
        adj.entry(&k.2).or_default().insert(&k.0);
    }
    let nodes: BTreeSet<String> = if sel.focus.is_empty() {
        edges
            .keys()
            .flat_map(|k| [k.0.clone(), k.2.clone()])
            .collect()
    } else {
        let focus: BTreeSet<String> = sel.focus.iter().map(|f| canonical(f, &[g])).collect();
        neighbourhood(&focus, &adj, sel.context)
    };
    build(nodes, edges, |n| {
        let notes = g
            .set
            .units
            .get(n)
            .and_then(|u| state_note(u.state))
            .into_iter()
            .collect();
        (Status::Unchanged, notes)
    })
}

fn build(
    mut nodes: BTreeSet<String>,
    edges: BTreeMap<Key, (Status, bool)>,
    describe: impl Fn(&str) -> (Status, Vec<String>),
) -> Picture {
    use crate::unit::budget::{MAX_PICTURE_EDGES, MAX_PICTURE_NODES};
    let (all_nodes, all_edges) = (nodes.len(), edges.len());
    if nodes.len() > MAX_PICTURE_NODES {
        // Keep what changed first, then the rest in name order.
        let (changed, same): (Vec<String>, Vec<String>) = nodes
            .into_iter()
            .partition(|n| describe(n).0 != Status::Unchanged);
        nodes = changed
            .into_iter()
            .chain(same)
            .take(MAX_PICTURE_NODES)
            .collect();
    }
    let mut edges: Vec<(Key, (Status, bool))> = edges
        .into_iter()
        .filter(|(k, _)| nodes.contains(&k.0) && nodes.contains(&k.2))
        .collect();
    let edges_over = edges.len() > MAX_PICTURE_EDGES;
    if edges_over {
        // Stable: changed edges first, each group in its sorted order.
        edges.sort_by_key(|(_, (status, _))| *status == Status::Unchanged);
        edges.truncate(MAX_PICTURE_EDGES);
        edges.sort();
    }
    // (Edges the selection leaves out are not a cut.)
    let cut = (nodes.len() < all_nodes || edges_over).then(|| {
        format!(
            "work budget: the picture shows {} of {all_nodes} units and {} of {} edges \
             (at most {MAX_PICTURE_NODES} and {MAX_PICTURE_EDGES}); use --focus to draw part",
            nodes.len(),
            edges.len(),
            all_edges
        )
    });
    let edges: Vec<PEdge> = edges
        .into_iter()
        .map(|((from, kind, to), (status, upgrade))| PEdge {
            from,
            kind,
            to,
            status,
            upgrade,
        })
        .collect();
    let nodes = nodes
        .into_iter()
        .map(|name| {
            let (status, notes) = describe(&name);
            PNode {
                unit_type: unit_type(&name),
                name,
                status,
                notes,
                group: None,
                summary: None,
            }
        })
        .collect();
    Picture { nodes, edges, cut }
}
