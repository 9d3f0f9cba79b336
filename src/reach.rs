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
        // it, then the PropagatesStopTo edges reaching it; two passes over the edges (count,
        // then place) build the list in one allocation, with no per-unit lists beside it.
        let stops = || {
            (0..n as u32)
                .flat_map(|a| g.edges_from_id(a).map(move |e| (a, e)))
                .filter_map(|(a, (key, provs, b))| {
                    if stop_forward(key.1) {
                        Some((a, b, key, provs, false))
                    } else if key.1 == DepKind::PropagatesStopTo {
                        Some((b, a, key, provs, true))
                    } else {
                        None
                    }
                })
        };
        // Per unit: how many forward and how many inverse steps it has.
        let mut fwd = vec![0u32; n];
        let mut bwd = vec![0u32; n];
        for (at, _, _, _, inverse) in stops() {
            if inverse {
                bwd[at as usize] += 1;
            } else {
                fwd[at as usize] += 1;
            }
        }
        let mut off = Vec::with_capacity(n + 1);
        off.push(0u32);
        for u in 0..n {
            off.push(off[u] + fwd[u] + bwd[u]);
        }
        // Where each unit's next forward and next inverse step go.
        for u in 0..n {
            bwd[u] = off[u] + fwd[u];
            fwd[u] = off[u];
        }
        let mut steps: Vec<Option<Step>> = vec![None; off[n] as usize];
        for (at, to, key, provenance, inverse) in stops() {
            let slot = if inverse { &mut bwd } else { &mut fwd };
            steps[slot[at as usize] as usize] = Some(Step {
                to,
                key,
                provenance,
                inverse,
            });
            slot[at as usize] += 1;
        }
        drop((fwd, bwd));
        let steps: Vec<Step> = steps
            .into_iter()
            .map(|s| s.expect("every slot filled"))
            .collect();
        let mut indeg = vec![0u32; n + 1];
        for s in &steps {
            indeg[s.to as usize + 1] += 1;
        }
        for i in 0..n {
            indeg[i + 1] += indeg[i];
        }
        let rev_off = indeg.clone();
        let mut fill = indeg;
        let mut rev = vec![0u32; steps.len()];
        for u in 0..n {
            for s in &steps[off[u] as usize..off[u + 1] as usize] {
                rev[fill[s.to as usize] as usize] = u as u32;
                fill[s.to as usize] += 1;
            }
        }
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

/// One hop of the "starts after" relation: the unit numbered `to` (in the set the index was
/// built over), over the stored edge `key` (an After edge, or a Before edge walked against
/// it if `inverse`).
pub type AfterHop<'g> = (u32, &'g EdgeKey, bool);

/// The "starts after" relation among a set of units numbered `0..n` (`query::ordering_cycles`'
/// units): each unit's hops consecutive, in the order of the stored edges (the units in
/// number order, each one's edges in key order). Built in two passes over the edges (count,
/// then place) into one list; petgraph's algorithms walk it in place ([`petgraph::visit`]),
/// so no copy of the relation is made for them.
pub struct AfterIndex<'g> {
    off: Vec<u32>,
    hops: Vec<Option<AfterHop<'g>>>,
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
                    (u != OUTSIDE && v != OUTSIDE && u != v).then_some((u, (v, k, inverse)))
                })
        };
        let n = ids.len();
        let mut next = vec![0u32; n + 1];
        for (u, _) in hops() {
            next[u as usize + 1] += 1;
        }
        for u in 0..n {
            next[u + 1] += next[u];
        }
        let off = next.clone();
        let mut list = vec![None; off[n] as usize];
        for (u, hop) in hops() {
            list[next[u as usize] as usize] = Some(hop);
            next[u as usize] += 1;
        }
        AfterIndex { off, hops: list }
    }

    /// The number of units.
    pub fn len(&self) -> usize {
        self.off.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hops of unit `u`, in edge order.
    pub fn hops(&self, u: u32) -> impl Iterator<Item = AfterHop<'g>> + '_ {
        self.hops[self.off[u as usize] as usize..self.off[u as usize + 1] as usize]
            .iter()
            .map(|h| h.expect("every slot filled"))
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
    type Neighbors = std::iter::Map<
        std::slice::Iter<'a, Option<AfterHop<'g>>>,
        fn(&Option<AfterHop<'g>>) -> u32,
    >;
    fn neighbors(self, u: u32) -> Self::Neighbors {
        self.hops[self.off[u as usize] as usize..self.off[u as usize + 1] as usize]
            .iter()
            .map(|h| h.expect("every slot filled").0)
    }
}
