//! Answers over one graph, offline: systemctl's `list-dependencies`, dependency paths
//! between two units, what can stop a unit from starting, the boot transaction's units,
//! ordering cycles, and hard dependencies on missing units. Pure functions over a
//! [`DepGraph`]; reports format them.

use crate::graph::{DepGraph, EdgeKey};
use crate::reach::{AfterIndex, Step, StopIndex, Walker, stop_forward};
use crate::unit::budget::{MAX_FAILURE_WALK_STEPS, MAX_WITNESS_HOPS, MAX_WITNESS_HOPS_TOTAL};
use crate::unit::{DepKind, LoadState, Provenance, UnitName, UnitType};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// Which edges `list-dependencies` follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Requires, Requisite, Wants, BindsTo, Upholds and ConsistsOf (the inverse of PartOf).
    Forward,
    /// The inverses: RequiredBy, RequisiteOf, WantedBy, BoundBy, UpheldBy, PartOf.
    Reverse,
    /// After.
    After,
    /// Before.
    Before,
}

/// One hop of a dependency path, with the edge behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub from: String,
    /// The dependency as stored by systemd (on `edge_from`).
    pub kind: DepKind,
    pub to: String,
    /// For hops walked against an edge (ConsistsOf, reverse listings): the stored edge
    /// points the other way.
    pub inverse: bool,
    pub provenance: Vec<Provenance>,
}

/// A node of a dependency tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TreeNode {
    pub unit: String,
    /// The hop from the parent (None for the root).
    pub via: Option<Hop>,
    /// `...`: already on the path from the root (a loop), not expanded.
    pub repeated: bool,
    pub children: Vec<TreeNode>,
}

fn is_target(name: &str) -> bool {
    UnitName::parse(name).is_some_and(|n| n.unit_type == UnitType::Target)
}

/// systemctl's order: non-targets first, then by name, case-insensitively.
fn systemctl_order(a: &str, b: &str) -> std::cmp::Ordering {
    (is_target(a), a.to_lowercase()).cmp(&(is_target(b), b.to_lowercase()))
}

fn hop(g: &DepGraph, key: &EdgeKey, inverse: bool) -> Hop {
    let (from, to) = if inverse {
        (&key.2, &key.0)
    } else {
        (&key.0, &key.2)
    };
    Hop {
        from: from.to_string(),
        kind: key.1,
        to: to.to_string(),
        inverse,
        provenance: g.edges.get(key).map(|p| p.to_vec()).unwrap_or_default(),
    }
}

/// The units `unit` lists under `direction`, each with its hop.
fn listed(g: &DepGraph, unit: &str, direction: Direction) -> Vec<Hop> {
    let forward = |k: DepKind| k.pulls_in();
    let mut out: BTreeMap<String, Hop> = BTreeMap::new();
    let mut add = |h: Hop| {
        out.entry(h.to.clone()).or_insert(h);
    };
    match direction {
        Direction::Forward => {
            for k in g.edges_from(unit) {
                if forward(k.1) {
                    add(hop(g, k, false));
                }
            }
            // ConsistsOf: units that are PartOf this one.
            for k in g.edges_to(unit) {
                if k.1 == DepKind::PartOf {
                    add(hop(g, k, true));
                }
            }
        }
        Direction::Reverse => {
            for k in g.edges_to(unit) {
                if forward(k.1) {
                    add(hop(g, k, true));
                }
            }
            for k in g.edges_from(unit) {
                if k.1 == DepKind::PartOf {
                    add(hop(g, k, false));
                }
            }
        }
        Direction::After | Direction::Before => {
            let (same, other) = if direction == Direction::After {
                (DepKind::After, DepKind::Before)
            } else {
                (DepKind::Before, DepKind::After)
            };
            for k in g.edges_from(unit) {
                if k.1 == same {
                    add(hop(g, k, false));
                }
            }
            for k in g.edges_to(unit) {
                if k.1 == other {
                    add(hop(g, k, true));
                }
            }
        }
    }
    let mut v: Vec<Hop> = out.into_values().collect();
    v.sort_by(|a, b| systemctl_order(&a.to, &b.to));
    v
}

/// Most nodes a dependency tree expands (see [`deps`]).
pub const MAX_TREE_NODES: usize = 200_000;

/// Deepest level a dependency tree expands (real trees are about 15 deep). Drawn trees and
/// pretty JSON indent each line by its depth, so an image's 16,000-unit chain would
/// otherwise ask for gigabytes of indentation.
pub const MAX_TREE_DEPTH: usize = 2_048;

/// `systemctl list-dependencies UNIT`: targets are expanded recursively, other units only
/// with `all`; a unit already on the path is shown as repeated and not expanded.
pub fn deps(g: &DepGraph, unit: &str, direction: Direction, all: bool) -> TreeNode {
    deps_with_cut(g, unit, direction, all).0
}

/// [`deps`], and what the work budget cut, if anything ([`MAX_TREE_NODES`],
/// [`MAX_TREE_DEPTH`]), for a warning.
pub fn deps_with_cut(
    g: &DepGraph,
    unit: &str,
    direction: Direction,
    all: bool,
) -> (TreeNode, Option<String>) {
    let root = g.set.canonical(unit);
    // Depth-first with an explicit stack (an image's chains can be deeper than any call
    // stack): each frame is a node being filled and the hops still to visit under it.
    struct Frame {
        node: TreeNode,
        pending: std::vec::IntoIter<Hop>,
    }
    let mut on_path: std::collections::HashSet<String> = std::collections::HashSet::new();
    on_path.insert(root.clone());
    // A unit's listing is computed once: the tree repeats shared subtrees, and a target's
    // listing looks through every edge that reaches it (for ConsistsOf=), so computing it
    // per node would cost nodes x in-degree.
    let mut listings: HashMap<String, Vec<Hop>> = HashMap::new();
    let mut listed_once = |unit: &str| {
        listings
            .entry(unit.to_string())
            .or_insert_with(|| listed(g, unit, direction))
            .clone()
            .into_iter()
    };
    let mut budget = MAX_TREE_NODES;
    let (mut too_deep, mut too_many) = (0usize, false);
    let mut stack = vec![Frame {
        pending: listed_once(&root),
        node: TreeNode {
            unit: root,
            via: None,
            repeated: false,
            children: Vec::new(),
        },
    }];
    loop {
        let depth = stack.len();
        let top = stack.last_mut().expect("the root stays until the end");
        let Some(h) = top.pending.next() else {
            let done = stack.pop().expect("non-empty");
            match stack.last_mut() {
                Some(parent) => {
                    on_path.remove(&done.node.unit);
                    parent.node.children.push(done.node);
                    continue;
                }
                None => {
                    let cut = match (too_many, too_deep) {
                        (false, 0) => None,
                        (true, _) => Some(format!(
                            "work budget: the tree of {} has more than {MAX_TREE_NODES} units; \
                             the rest are listed but not expanded",
                            done.node.unit
                        )),
                        (false, n) => Some(format!(
                            "work budget: the tree of {} is deeper than {MAX_TREE_DEPTH} \
                             levels; {n} units at that depth are listed but not expanded",
                            done.node.unit
                        )),
                    };
                    return (done.node, cut);
                }
            }
        };
        // The tree repeats shared subtrees, as systemctl does; on a dense graph that grows
        // exponentially, so past the budget nodes are listed but no longer expanded.
        budget = budget.saturating_sub(1);
        let unit = h.to.clone();
        if on_path.contains(&unit) {
            top.node.children.push(TreeNode {
                unit,
                via: Some(h),
                repeated: true,
                children: Vec::new(),
            });
            continue;
        }
        let node = TreeNode {
            unit: unit.clone(),
            via: Some(h),
            repeated: false,
            children: Vec::new(),
        };
        let expands = all || is_target(&unit);
        too_many |= expands && budget == 0;
        if expands && budget > 0 && depth >= MAX_TREE_DEPTH {
            too_deep += 1;
        }
        if expands && budget > 0 && depth < MAX_TREE_DEPTH {
            on_path.insert(unit.clone());
            stack.push(Frame {
                pending: listed_once(&unit),
                node,
            });
        } else {
            top.node.children.push(node);
        }
    }
}

impl Drop for TreeNode {
    /// Children are dropped from a list, not by recursion: a tree can be as deep as an
    /// image's longest chain.
    fn drop(&mut self) {
        let mut rest = std::mem::take(&mut self.children);
        while let Some(mut n) = rest.pop() {
            rest.append(&mut n.children);
        }
    }
}

/// Every dependency path from `from` to `to` over the dependency kinds systemd acts on
/// (everything but ordering, Conflicts and slice bookkeeping, with ConsistsOf: the inverse
/// of PartOf, which systemd stores on the other unit and `deps` lists), shortest first, at most
/// `limit` paths of at most `max_hops` hops. Parallel edges between two units are one hop
/// (the strongest kind), and the search only extends paths that can still reach `to` within
/// the bound, so it stays cheap on dense graphs.
pub fn why(g: &DepGraph, from: &str, to: &str, limit: usize, max_hops: usize) -> Vec<Vec<Hop>> {
    why_paths(g, from, to, limit, max_hops).paths
}

/// [`why`]'s answer, and whether its search stopped at its budget before it had `limit`
/// paths (then longer paths may exist that it did not list; the shortest ones it always
/// lists).
#[derive(Clone, Debug, Default)]
pub struct WhyPaths {
    pub paths: Vec<Vec<Hop>>,
    pub cut: bool,
}

/// Partial paths [`why_paths`]' search for paths longer than the shortest may hold: a dense
/// graph has exponentially many.
const WHY_BUDGET: usize = 200_000;

/// [`why`], saying whether the search was cut. The shortest paths are read off the
/// distances to `to` (each unit on them has a next unit one hop closer), so they are found
/// however many there are; only longer ones are searched for, breadth-first within a budget.
pub fn why_paths(g: &DepGraph, from: &str, to: &str, limit: usize, max_hops: usize) -> WhyPaths {
    let (from, to) = (g.set.canonical(from), g.set.canonical(to));
    let follows = |k: DepKind| {
        !matches!(
            k,
            DepKind::Before | DepKind::After | DepKind::Conflicts | DepKind::InSlice
        )
    };
    // One hop per (from, to): the first kind in DepKind's order (Requires first), then
    // ConsistsOf (a PartOf walked against it, as `deps` lists it) where no edge of its own
    // leads there.
    let mut next: BTreeMap<&str, BTreeMap<&str, (&EdgeKey, bool)>> = BTreeMap::new();
    for k in g.edges.keys().filter(|k| follows(k.1)) {
        next.entry(k.0.as_str())
            .or_default()
            .entry(k.2.as_str())
            .or_insert((k, false));
    }
    for k in g.edges.keys().filter(|k| k.1 == DepKind::PartOf) {
        next.entry(k.2.as_str())
            .or_default()
            .entry(k.0.as_str())
            .or_insert((k, true));
    }
    // Distance from every unit to `to`, backwards.
    let mut back: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (u, vs) in &next {
        for v in vs.keys() {
            back.entry(v).or_default().push(u);
        }
    }
    let mut dist: BTreeMap<&str, usize> = BTreeMap::from([(to.as_str(), 0)]);
    let mut queue = VecDeque::from([to.as_str()]);
    while let Some(v) = queue.pop_front() {
        let d = dist[v];
        for u in back.get(v).into_iter().flatten() {
            if !dist.contains_key(u) {
                dist.insert(u, d + 1);
                queue.push_back(u);
            }
        }
    }
    let mut out = WhyPaths::default();
    let Some(&shortest) = dist.get(from.as_str()) else {
        return out;
    };
    if limit == 0 || from == to || shortest > max_hops {
        return out;
    }
    let to_hops = |p: &[&str]| -> Vec<Hop> {
        p.windows(2)
            .map(|w| {
                let (k, inverse) = next[w[0]][w[1]];
                hop(g, k, inverse)
            })
            .collect()
    };
    // The shortest paths, in the order a breadth-first search meets them (by the names
    // along them): depth first over the units one hop closer each time, none a dead end.
    let mut stack: Vec<Vec<&str>> = vec![vec![from.as_str()]];
    while let Some(p) = stack.pop() {
        let last = *p.last().expect("non-empty");
        if last == to {
            out.paths.push(to_hops(&p));
            if out.paths.len() >= limit {
                return out;
            }
            continue;
        }
        let closer = dist[last] - 1;
        let nexts: Vec<&str> = next
            .get(last)
            .into_iter()
            .flat_map(|m| m.keys().copied())
            .filter(|v| dist.get(v) == Some(&closer))
            .collect();
        for v in nexts.into_iter().rev() {
            let mut q = p.clone();
            q.push(v);
            stack.push(q);
        }
    }
    // Longer paths: breadth-first over simple paths, pruned by the distance bound, with a
    // budget of partial paths so that a dense graph cannot make it explode.
    let mut budget = WHY_BUDGET;
    let mut paths: VecDeque<Vec<&str>> = VecDeque::from([vec![from.as_str()]]);
    while let Some(p) = paths.pop_front() {
        let last = *p.last().expect("non-empty");
        if last == to {
            // The shortest ones are listed above.
            if p.len() - 1 > shortest {
                out.paths.push(to_hops(&p));
                if out.paths.len() >= limit {
                    break;
                }
            }
            continue;
        }
        for v in next.get(last).into_iter().flat_map(|m| m.keys()) {
            let within = dist.get(v).is_some_and(|d| p.len() + d <= max_hops);
            if within && !p.contains(v) {
                if budget == 0 {
                    out.cut = true;
                    continue;
                }
                budget -= 1;
                let mut q = p.clone();
                q.push(v);
                paths.push_back(q);
            }
        }
    }
    out
}

/// The edges along which a failure or stop reaches a unit, from that unit: its hard
/// dependencies and what it is part of, and the units that propagate their stop to it.
fn stop_sources(g: &DepGraph, u: &str) -> impl Iterator<Item = (EdgeKey, bool)> {
    let forward = g.edges_from(u).into_iter().filter(|k| stop_forward(k.1));
    let backward = g
        .edges_to(u)
        .into_iter()
        .filter(|k| k.1 == DepKind::PropagatesStopTo);
    forward
        .map(|k| (k.clone(), false))
        .chain(backward.map(|k| (k.clone(), true)))
        .collect::<Vec<_>>()
        .into_iter()
}

/// The members of [`failure_set`] only, without witnesses (cheap, for comparing).
pub fn failure_members(g: &DepGraph, unit: &str) -> BTreeSet<String> {
    let root = g.set.canonical(unit);
    let mut out = BTreeSet::new();
    let mut queue = VecDeque::from([root.clone()]);
    while let Some(u) = queue.pop_front() {
        for (k, inverse) in stop_sources(g, &u) {
            let next = String::from(if inverse { k.0 } else { k.2 });
            if next != root && out.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    out
}

/// How one unit's failure or absence reaches `unit`: the chain of hops from `unit`.
pub type Witness = Vec<Hop>;

/// The units whose failure (or absence) stops `unit` from starting, or stops it when they
/// stop: the closure over Requires, Requisite and BindsTo, PartOf (the unit stops with the
/// one it is part of), and stop propagation (PropagatesStopTo/StopPropagatedFrom). Wants
/// and Upholds do not propagate failure. Each member comes with its shortest witness.
pub fn failure_set(g: &DepGraph, unit: &str) -> BTreeMap<String, Witness> {
    let root = g.set.canonical(unit);
    // Breadth-first with the hop that first reached each unit; witnesses are read back
    // along those hops (no path is copied per unit reached).
    let mut parent: BTreeMap<String, (String, Hop)> = BTreeMap::new();
    let mut queue: VecDeque<String> = VecDeque::from([root.clone()]);
    while let Some(u) = queue.pop_front() {
        for h in stop_sources(g, &u).map(|(k, inverse)| hop(g, &k, inverse)) {
            if h.to == root || parent.contains_key(&h.to) {
                continue;
            }
            queue.push_back(h.to.clone());
            parent.insert(h.to.clone(), (u.clone(), h));
        }
    }
    parent
        .keys()
        .map(|m| {
            let mut w = Vec::new();
            let mut cur = m.as_str();
            while let Some((p, h)) = parent.get(cur) {
                w.push(h.clone());
                cur = p;
            }
            w.reverse();
            (m.clone(), w)
        })
        .collect()
}

/// [`failure_set`] over a prebuilt index, for members in `keep` only (all when `None`),
/// each witness within `budget`.
fn failure_set_in<'g>(
    idx: &StopIndex<'g>,
    walker: &mut Walker<'g>,
    root: u32,
    keep: Option<&dyn Fn(&str) -> bool>,
    budget: &mut AnswerBudget,
) -> BTreeMap<String, Witness> {
    walker.walk(idx, root);
    let members: Vec<u32> = walker
        .order
        .iter()
        .copied()
        .filter(|m| keep.is_none_or(|k| k(idx.name(*m))))
        .collect();
    members
        .into_iter()
        .map(|m| (idx.name(m).to_string(), budget.witness(walker, m)))
        .collect()
}

/// What the answers of one diff may cost (see [`crate::unit::budget`]), and what was cut.
#[derive(Default)]
struct AnswerBudget {
    /// Hops kept in witnesses so far.
    hops: usize,
    /// Witnesses shortened to [`MAX_WITNESS_HOPS`].
    shortened: usize,
    /// Witnesses left empty: the total was spent.
    dropped: usize,
    /// New hard edges whose target's failure set was not walked.
    through_skipped: usize,
    /// Units whose failure sets were not compared.
    units_skipped: usize,
}

impl AnswerBudget {
    fn walks_left(&self, ow: &Walker, nw: &Walker) -> bool {
        ow.steps_seen + nw.steps_seen < MAX_FAILURE_WALK_STEPS
    }

    /// The witness of `m` from the last walk: its first [`MAX_WITNESS_HOPS`] hops, or none
    /// once the total is spent.
    fn witness(&mut self, walker: &Walker, m: u32) -> Witness {
        if self.hops >= MAX_WITNESS_HOPS_TOTAL {
            self.dropped += 1;
            return Vec::new();
        }
        let (path, len) = walker.path_prefix(m);
        self.hops += path.len();
        if len > path.len() {
            self.shortened += 1;
        }
        path.into_iter().map(|(_, s)| step_hop(s)).collect()
    }

    /// One line per kind of cut, for the report and stderr.
    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.units_skipped + self.through_skipped > 0 {
            out.push(format!(
                "failure sets: {} unit(s) not compared and {} new hard dependency target(s) \
                 not followed (over the budget of {MAX_FAILURE_WALK_STEPS} walk steps)",
                self.units_skipped, self.through_skipped
            ));
        }
        if self.shortened > 0 {
            out.push(format!(
                "failure witnesses: {} shortened to their first {MAX_WITNESS_HOPS} hops",
                self.shortened
            ));
        }
        if self.dropped > 0 {
            out.push(format!(
                "failure witnesses: {} left out (over the budget of {MAX_WITNESS_HOPS_TOTAL} \
                 hops in total)",
                self.dropped
            ));
        }
        out
    }
}

fn step_hop(s: Step) -> Hop {
    let (from, to) = if s.inverse {
        (&s.key.2, &s.key.0)
    } else {
        (&s.key.0, &s.key.2)
    };
    Hop {
        from: from.to_string(),
        kind: s.key.1,
        to: to.to_string(),
        inverse: s.inverse,
        provenance: s.provenance.to_vec(),
    }
}

/// The units a start of `target` pulls in (the start transaction's closure over Requires,
/// Requisite, Wants, BindsTo, Upholds), each with the hop that first reached it. Units that
/// are not loaded are reported apart: systemd cannot start them.
pub fn boot_set(
    g: &DepGraph,
    target: &str,
) -> (BTreeMap<String, Option<Hop>>, BTreeMap<String, Hop>) {
    let mut set: BTreeMap<String, Option<Hop>> = BTreeMap::new();
    let mut missing: BTreeMap<String, Hop> = BTreeMap::new();
    boot_walk(g, target, |k, loaded| match k {
        None => {
            set.insert(loaded.to_string(), None);
        }
        Some(k) if loaded.is_empty() => {
            missing.insert(k.2.to_string(), hop(g, k, false));
        }
        Some(k) => {
            set.insert(k.2.to_string(), Some(hop(g, k, false)));
        }
    });
    (set, missing)
}

/// The loaded members of [`boot_set`] only, without hops (each hop copies its
/// provenances: a whole image's worth for `diff`, which needs only the names).
pub fn boot_members(g: &DepGraph, target: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    boot_walk(g, target, |k, loaded| {
        if k.is_none() || !loaded.is_empty() {
            set.insert(loaded.to_string());
        }
    });
    set
}

/// The walk behind [`boot_set`]: `reach(None, root)` first, then per unit reached
/// `reach(Some(edge), name)` for a loaded unit, `reach(Some(edge), "")` for one that is not
/// (not walked further). Each unit is reached once.
fn boot_walk<'g>(g: &'g DepGraph, target: &str, mut reach: impl FnMut(Option<&'g EdgeKey>, &str)) {
    let root = g.set.canonical(target);
    reach(None, &root);
    let Some(r) = g.id(&root) else {
        return;
    };
    // By unit index (the order of `set.units`): loaded, and reached (the root already).
    let loaded: Vec<bool> = g
        .set
        .units
        .values()
        .map(|x| x.state == LoadState::Loaded)
        .collect();
    let mut seen = vec![false; loaded.len()];
    seen[r as usize] = true;
    let mut queue: VecDeque<u32> = VecDeque::from([r]);
    while let Some(u) = queue.pop_front() {
        for (k, _, t) in g.edges_from_id(u) {
            // Requisite only checks that the unit is already active; it starts nothing.
            let starts = k.1.pulls_in()
                && !matches!(k.1, DepKind::Requisite | DepKind::RequisiteOverridable);
            if !starts || std::mem::replace(&mut seen[t as usize], true) {
                continue;
            }
            if loaded[t as usize] {
                reach(Some(k), &k.2);
                queue.push_back(t);
            } else {
                reach(Some(k), "");
            }
        }
    }
}

/// An ordering cycle: each hop says "`from` is ordered after `to`" (After, or the other's
/// Before), so the cycle reads as a chain of "must start after".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cycle {
    pub hops: Vec<Hop>,
}

impl Cycle {
    /// The units of the cycle, sorted (identity for comparing cycles).
    pub fn units(&self) -> BTreeSet<String> {
        self.hops.iter().map(|h| h.from.clone()).collect()
    }
}

/// Ordering cycles among `within` (e.g. the boot set): one readable cycle per strongly
/// connected component of the "starts after" relation.
pub fn ordering_cycles(g: &DepGraph, within: &BTreeSet<String>) -> Vec<Cycle> {
    // The units of `within`, numbered in order; hops are made only for the cycles found.
    let names: Vec<&str> = within.iter().map(String::as_str).collect();
    let ids: Vec<Option<u32>> = names.iter().map(|n| g.id(n)).collect();
    let after = AfterIndex::new(g, &ids);
    let mut cycles = Vec::new();
    let mut member = vec![false; names.len()];
    for ids in petgraph::algo::tarjan_scc(&after) {
        if ids.len() < 2 {
            continue;
        }
        for &i in &ids {
            member[i as usize] = true;
        }
        // Local ids follow the names' order: the smallest is the first name.
        let start = *ids.iter().min().expect("non-empty");
        // Shortest cycle through `start` inside the component (BFS back to start).
        let mut prev: HashMap<u32, (u32, &EdgeKey, bool)> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut closing: Option<(u32, &EdgeKey, bool)> = None;
        'bfs: while let Some(u) = queue.pop_front() {
            for &(v, k, inverse) in after.hops(u) {
                if !member[v as usize] {
                    continue;
                }
                if v == start {
                    closing = Some((u, k, inverse));
                    break 'bfs;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(v) {
                    e.insert((u, k, inverse));
                    queue.push_back(v);
                }
            }
        }
        for &i in &ids {
            member[i as usize] = false;
        }
        let Some((mut cur, k, inverse)) = closing else {
            continue;
        };
        let mut hops = vec![hop(g, k, inverse)];
        while cur != start {
            let (u, k, inverse) = prev[&cur];
            hops.push(hop(g, k, inverse));
            cur = u;
        }
        hops.reverse();
        cycles.push(Cycle { hops });
    }
    cycles.sort_by_key(|a| a.units());
    cycles
}

/// Hard dependencies (Requires, Requisite, BindsTo) on units that are not loaded
/// (not-found, masked, bad-setting, error), from loaded units.
pub fn broken_hard_deps(g: &DepGraph) -> Vec<(Hop, LoadState)> {
    // By unit index (the order of `set.units`, which is the edges' order by source).
    let states: Vec<LoadState> = g.set.units.values().map(|u| u.state).collect();
    let mut out = Vec::new();
    for (u, _) in states
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == LoadState::Loaded)
    {
        for (k, _, t) in g.edges_from_id(u as u32) {
            let state = states[t as usize];
            if k.1.is_hard() && state != LoadState::Loaded {
                out.push((hop(g, k, false), state));
            }
        }
    }
    out
}

/// A new hard edge and what it means: the edge's target can now stop its source, and so
/// can everything the target itself hard-depends on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureWitness {
    pub edge: Hop,
    /// The target's own failure set in NEW, each member with its witness from the target.
    pub through: BTreeMap<String, Witness>,
}

/// How a unit's failure set changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureSetChange {
    pub unit: String,
    pub added: BTreeMap<String, Witness>,
    pub removed: Vec<String>,
}

/// The answers a diff carries beyond edges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiffAnswers {
    /// One per new hard edge leaving a unit that exists on both sides.
    pub failure_witnesses: Vec<FailureWitness>,
    /// Every unit present on both sides whose failure set changed.
    pub failure_set_changes: Vec<FailureSetChange>,
    pub boot_target: String,
    pub boot_added: Vec<String>,
    pub boot_removed: Vec<String>,
    pub new_cycles: Vec<Cycle>,
    pub resolved_cycles: Vec<Cycle>,
    pub new_broken: Vec<(Hop, LoadState)>,
    pub fixed_broken: Vec<(Hop, LoadState)>,
    /// What the work budget cut from these answers, one line per kind of cut.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The units a boot to `boot_target` starts in OLD and in NEW (for ranking findings;
    /// not serialised: JSON carries the differences above).
    #[serde(skip)]
    pub boot_old: BTreeSet<String>,
    #[serde(skip)]
    pub boot_new: BTreeSet<String>,
}

fn stops(k: DepKind) -> bool {
    k.is_hard()
        || matches!(
            k,
            DepKind::PartOf | DepKind::StopPropagatedFrom | DepKind::PropagatesStopTo
        )
}

/// The units whose failure set may differ between the two sides, sorted: every unit with
/// different stop edges, and everything upstream of one on either side.
fn affected_by_stop_changes<'g>(oi: &StopIndex<'g>, ni: &StopIndex<'g>) -> BTreeSet<&'g str> {
    let targets = |idx: &StopIndex<'g>, u: Option<u32>| -> BTreeSet<&'g str> {
        u.map(|u| idx.steps(u).iter().map(|s| idx.name(s.to)).collect())
            .unwrap_or_default()
    };
    let mut changed: Vec<&'g str> = Vec::new();
    for u in 0..oi.len() as u32 {
        let name = oi.name(u);
        if targets(oi, Some(u)) != targets(ni, ni.id(name)) {
            changed.push(name);
        }
    }
    for u in 0..ni.len() as u32 {
        let name = ni.name(u);
        if oi.id(name).is_none() && !ni.steps(u).is_empty() {
            changed.push(name);
        }
    }
    let mut out: BTreeSet<&'g str> = BTreeSet::new();
    for idx in [oi, ni] {
        let mut seen = vec![false; idx.len()];
        let mut stack: Vec<u32> = changed.iter().filter_map(|n| idx.id(n)).collect();
        while let Some(v) = stack.pop() {
            if std::mem::replace(&mut seen[v as usize], true) {
                continue;
            }
            out.insert(idx.name(v));
            stack.extend(idx.preds(v).iter().copied().filter(|p| !seen[*p as usize]));
        }
    }
    out
}

/// What [`diff_answers`] needs of one side on its own: its stop index, boot set, ordering
/// cycles within the boot set, and hard dependencies on units that did not load.
struct Side<'g> {
    stops: StopIndex<'g>,
    boot: BTreeSet<String>,
    cycles: Vec<Cycle>,
    broken: Vec<(Hop, LoadState)>,
}

impl<'g> Side<'g> {
    fn of(g: &'g DepGraph) -> Self {
        let boot = boot_members(g, "default.target");
        Side {
            stops: StopIndex::new(g),
            cycles: ordering_cycles(g, &boot),
            broken: broken_hard_deps(g),
            boot,
        }
    }
}

/// Compute the answers for a diff of `old` → `new`.
pub fn diff_answers(old: &DepGraph, new: &DepGraph, d: &crate::diff::GraphDiff) -> DiffAnswers {
    let mut a = DiffAnswers {
        boot_target: "default.target".to_string(),
        ..Default::default()
    };
    // The two sides' own facts are independent: one on each core.
    let (os, ns) = std::thread::scope(|s| {
        let o = s.spawn(|| Side::of(old));
        let n = Side::of(new);
        (o.join().expect("answers thread"), n)
    });
    let (oi, ni) = (os.stops, ns.stops);
    let (mut ow, mut nw) = (
        Walker::with_prefix(oi.len(), MAX_WITNESS_HOPS),
        Walker::with_prefix(ni.len(), MAX_WITNESS_HOPS),
    );
    let mut budget = AnswerBudget::default();
    for e in &d.edges_added {
        if !stops(e.kind) {
            continue;
        }
        let key: EdgeKey = (e.from.as_str().into(), e.kind, e.to.as_str().into());
        // PropagatesStopTo is stored on the unit that stops the other.
        let (victim, culprit) = if e.kind == DepKind::PropagatesStopTo {
            (&e.to, &e.from)
        } else {
            (&e.from, &e.to)
        };
        // A unit that did not exist before is not "now" stopped by anything.
        if !old.set.units.contains_key(victim.as_str()) {
            continue;
        }
        let through = match ni.id(culprit) {
            _ if !budget.walks_left(&ow, &nw) => {
                budget.through_skipped += 1;
                BTreeMap::new()
            }
            Some(c) => failure_set_in(&ni, &mut nw, c, None, &mut budget),
            None => failure_set(new, culprit),
        };
        a.failure_witnesses.push(FailureWitness {
            edge: hop(new, &key, e.kind == DepKind::PropagatesStopTo),
            through,
        });
    }
    // A unit's failure set can only change if a unit it reaches (itself included) has
    // different stop edges: walk only from the units upstream of such a change, on either
    // side. (Units that appear or disappear are reported as such.)
    for u in affected_by_stop_changes(&oi, &ni) {
        if !old.set.units.contains_key(u) || !new.set.units.contains_key(u) {
            continue;
        }
        let (Some(ou), Some(nu)) = (oi.id(u), ni.id(u)) else {
            continue;
        };
        if !budget.walks_left(&ow, &nw) {
            budget.units_skipped += 1;
            continue;
        }
        ow.walk(&oi, ou);
        nw.walk(&ni, nu);
        let o: BTreeSet<&str> = ow.order.iter().map(|m| oi.name(*m)).collect();
        let n: BTreeSet<&str> = nw.order.iter().map(|m| ni.name(*m)).collect();
        if o == n {
            continue;
        }
        // Witnesses only for what is new.
        let added = failure_set_in(
            &ni,
            &mut nw,
            nu,
            Some(&|m: &str| !o.contains(m)),
            &mut budget,
        );
        let removed: Vec<String> = o.difference(&n).map(|m| m.to_string()).collect();
        if !added.is_empty() || !removed.is_empty() {
            a.failure_set_changes.push(FailureSetChange {
                unit: u.to_string(),
                added,
                removed,
            });
        }
    }
    let (ob, nb) = (os.boot, ns.boot);
    a.boot_added = nb.difference(&ob).cloned().collect();
    a.boot_removed = ob.difference(&nb).cloned().collect();
    let (oc, nc) = (os.cycles, ns.cycles);
    let ounits: BTreeSet<BTreeSet<String>> = oc.iter().map(Cycle::units).collect();
    let nunits: BTreeSet<BTreeSet<String>> = nc.iter().map(Cycle::units).collect();
    a.new_cycles = nc
        .into_iter()
        .filter(|c| !ounits.contains(&c.units()))
        .collect();
    a.resolved_cycles = oc
        .into_iter()
        .filter(|c| !nunits.contains(&c.units()))
        .collect();
    let key = |(h, s): &(Hop, LoadState)| (h.from.clone(), h.kind, h.to.clone(), *s);
    let (obk, nbk) = (os.broken, ns.broken);
    let okeys: BTreeSet<_> = obk.iter().map(key).collect();
    let nkeys: BTreeSet<_> = nbk.iter().map(key).collect();
    a.new_broken = nbk
        .into_iter()
        .filter(|x| !okeys.contains(&key(x)))
        .collect();
    a.fixed_broken = obk
        .into_iter()
        .filter(|x| !nkeys.contains(&key(x)))
        .collect();
    a.boot_old = ob.into_iter().collect();
    a.boot_new = nb.into_iter().collect();
    a.warnings = budget.warnings();
    a
}
