//! Integer-indexed adjacency over one [`DepGraph`] for the closures the answers need
//! (failure sets), built once in O(edges), so that a traversal costs what it visits and
//! nothing per unit of the whole graph. No recursion: every walk keeps its own queue, so an
//! image's depth never reaches the call stack.

use crate::graph::{DepGraph, EdgeKey, Provenances};
use crate::unit::DepKind;
use std::collections::VecDeque;

/// One step of a walk: to `to`, over the stored edge `key` (walked against it if `inverse`).
#[derive(Clone, Copy, Debug)]
pub struct Step<'g> {
    pub to: u32,
    pub key: &'g EdgeKey,
    pub provenance: &'g Provenances,
    pub inverse: bool,
}

/// Whether a stored edge of this kind propagates a failure or stop to its source (from the
/// source's point of view; PropagatesStopTo is walked backwards).
pub(crate) fn stop_forward(k: DepKind) -> bool {
    matches!(
        k,
        DepKind::Requires
            | DepKind::Requisite
            | DepKind::BindsTo
            | DepKind::PartOf
            | DepKind::StopPropagatedFrom
            | DepKind::RequiresOverridable
            | DepKind::RequisiteOverridable
    )
}

/// The "what can stop this unit" relation of one graph: for each unit, its steps in the
/// order `query::failure_set` takes them (stored edges from the unit sorted by key, then
/// PropagatesStopTo edges reaching it sorted by key), and the reverse relation.
pub struct StopIndex<'g> {
    /// The graph's own name index (`DepGraph::id`/`name`) numbers the units.
    g: &'g DepGraph,
    n: usize,
    off: Vec<u32>,
    steps: Vec<Step<'g>>,
    rev_off: Vec<u32>,
    rev: Vec<u32>,
}

impl<'g> StopIndex<'g> {
    pub fn new(g: &'g DepGraph) -> Self {
        let n = g.set.units.len();
        // Units in index order and each one's edges in key order: `g.edges`' order, so every
        // per-unit list comes out sorted too. A unit's steps are its stored edges that stop
        // it, then the PropagatesStopTo edges reaching it ([`grouped`]: one list, no
        // per-unit lists beside it).
        // Group 2u: unit u's forward steps, 2u + 1: its inverse ones.
        let (halves, steps) = grouped(2 * n, || {
            (0..n as u32)
                .flat_map(|a| g.edges_from_id(a).map(move |e| (a, e)))
                .filter_map(|(a, (key, provenance, b))| {
                    let (at, to, inverse) = if stop_forward(key.1) {
                        (a, b, false)
                    } else if key.1 == DepKind::PropagatesStopTo {
                        (b, a, true)
                    } else {
                        return None;
                    };
                    let step = Step {
                        to,
                        key,
                        provenance,
                        inverse,
                    };
                    Some((2 * at as usize + usize::from(inverse), step))
                })
        });
        let off: Vec<u32> = halves.into_iter().step_by(2).collect();
        // The reverse relation: for each unit, the units with a step to it, in unit order.
        let (rev_off, rev) = grouped(n, || {
            (0..n).flat_map(|u| {
                steps[off[u] as usize..off[u + 1] as usize]
                    .iter()
                    .map(move |s| (s.to as usize, u as u32))
            })
        });
        StopIndex {
            g,
            n,
            off,
            steps,
            rev_off,
            rev,
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn id(&self, name: &str) -> Option<u32> {
        self.g.id(name)
    }

    pub fn name(&self, id: u32) -> &'g str {
        self.g.name(id)
    }

    /// The steps out of `u`, in walking order.
    pub fn steps(&self, u: u32) -> &[Step<'g>] {
        &self.steps[self.off[u as usize] as usize..self.off[u as usize + 1] as usize]
    }

    /// The units with a step into `v`.
    pub fn preds(&self, v: u32) -> &[u32] {
        &self.rev[self.rev_off[v as usize] as usize..self.rev_off[v as usize + 1] as usize]
    }
}

/// Reusable state for breadth-first walks over one index: a visit stamp per unit (no
/// clearing between walks) and the step that first reached each unit.
pub struct Walker<'g> {
    stamp: Vec<u32>,
    round: u32,
    parent: Vec<Option<(u32, Step<'g>)>>,
    queue: VecDeque<u32>,
    /// The units reached by the last walk, in the order reached (the root excluded).
    pub order: Vec<u32>,
    /// Steps looked at by every walk so far (the work a budget counts).
    pub steps_seen: u64,
    /// Per unit reached: its depth, and its ancestor at depth `prefix` (itself if not deeper),
    /// so the first `prefix` steps of a long path are read without walking the whole of it.
    depth: Vec<u32>,
    prefix_end: Vec<u32>,
    prefix: u32,
}

impl<'g> Walker<'g> {
    pub fn new(n: usize) -> Self {
        Walker {
            stamp: vec![0; n],
            round: 0,
            parent: vec![None; n],
            queue: VecDeque::new(),
            order: Vec::new(),
            steps_seen: 0,
            depth: vec![0; n],
            prefix_end: vec![0; n],
            prefix: u32::MAX,
        }
    }

    /// The same, for walks whose paths are read back only up to their first `prefix` steps
    /// (see [`Walker::path_prefix`]).
    pub fn with_prefix(n: usize, prefix: usize) -> Self {
        Walker {
            prefix: u32::try_from(prefix).unwrap_or(u32::MAX),
            ..Walker::new(n)
        }
    }

    /// Walk from `root`; afterwards `order` lists what was reached and `path_to` gives the
    /// first path found to each of them (the shortest; ties go to the earlier step).
    pub fn walk(&mut self, idx: &StopIndex<'g>, root: u32) {
        self.round += 1;
        if self.round == u32::MAX {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.round = 1;
        }
        self.order.clear();
        self.queue.clear();
        self.stamp[root as usize] = self.round;
        self.parent[root as usize] = None;
        self.depth[root as usize] = 0;
        self.prefix_end[root as usize] = root;
        self.queue.push_back(root);
        while let Some(u) = self.queue.pop_front() {
            self.steps_seen += idx.steps(u).len() as u64;
            for s in idx.steps(u) {
                let v = s.to as usize;
                if self.stamp[v] == self.round {
                    continue;
                }
                self.stamp[v] = self.round;
                self.parent[v] = Some((u, *s));
                let depth = self.depth[u as usize] + 1;
                self.depth[v] = depth;
                self.prefix_end[v] = if depth <= self.prefix {
                    s.to
                } else {
                    self.prefix_end[u as usize]
                };
                self.order.push(s.to);
                self.queue.push_back(s.to);
            }
        }
    }

    /// Whether the last walk reached `v` (or started there).
    pub fn reached(&self, v: u32) -> bool {
        self.stamp[v as usize] == self.round
    }

    /// The first steps (at most the walker's `prefix`) of the last walk's path from its root
    /// to `v`, root first, and the whole path's length; costs only the steps returned.
    pub fn path_prefix(&self, v: u32) -> (Vec<(u32, Step<'g>)>, usize) {
        let len = self.depth[v as usize] as usize;
        (self.path_to(self.prefix_end[v as usize]), len)
    }

    /// The steps of the last walk's path from its root to `v`, root first (`v` reached).
    pub fn path_to(&self, v: u32) -> Vec<(u32, Step<'g>)> {
        let mut out = Vec::new();
        let mut cur = v;
        while let Some((u, s)) = self.parent[cur as usize] {
            out.push((u, s));
            cur = u;
        }
        out.reverse();
        out
    }
}

/// One hop of the "starts after" relation: (the unit started before, by its number in the
/// set the index was built over; the stored edge, an After edge or a Before edge walked
/// against it; whether it is walked against it).
pub type AfterHop<'g> = (u32, &'g EdgeKey, bool);

/// The "starts after" relation among a set of units numbered `0..n` (`query::ordering_cycles`'
/// units): each unit's hops consecutive, in the order of the stored edges (the units in
/// number order, each one's edges in key order), in one list ([`grouped`]); petgraph's
/// algorithms walk it in place ([`petgraph::visit`]), so no copy of it is made for them.
pub struct AfterIndex<'g> {
    off: Vec<u32>,
    hops: Vec<AfterHop<'g>>,
}

impl<'g> AfterIndex<'g> {
    /// Over the units `ids` (graph unit indices; `None`: not in the graph), numbered in
    /// their order; edges to units outside them, and loops, are left out.
    pub fn new(g: &'g DepGraph, ids: &[Option<u32>]) -> Self {
        const OUTSIDE: u32 = u32::MAX;
        let mut local = vec![OUTSIDE; g.set.units.len()];
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                local[*id as usize] = i as u32;
            }
        }
        // (u, hop) for "u after hop.0", in the order of the edges.
        let hops = || {
            ids.iter()
                .enumerate()
                .filter_map(|(i, id)| id.map(|id| (i as u32, id)))
                .flat_map(|(i, id)| g.edges_from_id(id).map(move |e| (i, e)))
                .filter_map(|(i, (k, _, t))| {
                    let (u, v, inverse) = match k.1 {
                        DepKind::After => (i, local[t as usize], false),
                        DepKind::Before => (local[t as usize], i, true),
                        _ => return None,
                    };
                    (u != OUTSIDE && v != OUTSIDE && u != v)
                        .then_some((u as usize, (v, k, inverse)))
                })
        };
        let (off, hops) = grouped(ids.len(), hops);
        AfterIndex { off, hops }
    }

    /// The number of units.
    pub fn len(&self) -> usize {
        self.off.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hops of unit `u`, in edge order.
    pub fn hops(&self, u: u32) -> &[AfterHop<'g>] {
        &self.hops[self.off[u as usize] as usize..self.off[u as usize + 1] as usize]
    }
}

impl petgraph::visit::GraphBase for AfterIndex<'_> {
    type NodeId = u32;
    type EdgeId = u32;
}

impl petgraph::visit::NodeIndexable for AfterIndex<'_> {
    fn node_bound(&self) -> usize {
        self.len()
    }
    fn to_index(&self, a: u32) -> usize {
        a as usize
    }
    fn from_index(&self, i: usize) -> u32 {
        i as u32
    }
}

impl petgraph::visit::IntoNodeIdentifiers for &AfterIndex<'_> {
    type NodeIdentifiers = std::ops::Range<u32>;
    fn node_identifiers(self) -> Self::NodeIdentifiers {
        0..self.len() as u32
    }
}

impl<'a, 'g> petgraph::visit::IntoNeighbors for &'a AfterIndex<'g> {
    type Neighbors = std::iter::Map<std::slice::Iter<'a, AfterHop<'g>>, fn(&AfterHop<'g>) -> u32>;
    fn neighbors(self, u: u32) -> Self::Neighbors {
        self.hops(u).iter().map(|h| h.0)
    }
}

/// Items grouped by a number in `0..groups`, each group's in the order `items` yields them:
/// `(off, list)`, group `g`'s items at `list[off[g]..off[g + 1]]`. Two passes over `items`
/// (count, then place) into one allocation, instead of a `Vec` per group and a copy.
fn grouped<T: Copy, I: Iterator<Item = (usize, T)>>(
    groups: usize,
    items: impl Fn() -> I,
) -> (Vec<u32>, Vec<T>) {
    let mut off = vec![0u32; groups + 1];
    for (g, _) in items() {
        off[g + 1] += 1;
    }
    for g in 0..groups {
        off[g + 1] += off[g];
    }
    let mut next = off.clone();
    let mut list: Vec<Option<T>> = vec![None; off[groups] as usize];
    for (g, item) in items() {
        list[next[g] as usize] = Some(item);
        next[g] += 1;
    }
    let list = list
        .into_iter()
        .map(|x| x.expect("every slot filled: the second pass yields what the first counted"))
        .collect();
    (off, list)
}
