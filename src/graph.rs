//! One image's dependency graph: the loaded [`UnitSet`] plus an index over its edges.
//! Edges are keyed by `(from, kind, to)` — systemd stores one dependency per key and
//! merges origins — and each key keeps every provenance that produced it.

use crate::tree::{ImagePath, Tree, mem::ImageLayer};
use crate::unit::{DepKind, Provenance, Sym, UnitSet};
use std::collections::{BTreeMap, HashMap};

/// The identity of an edge: same from, kind and to = same edge.
pub type EdgeKey = (Sym, DepKind, Sym);

/// Unit name → index. foldhash rather than std's SipHash (6 % of the CPU of a 10k diff was
/// SipHash): seeded per process, so an image cannot choose colliding names in advance.
type NameIndex = HashMap<Sym, u32, foldhash::fast::RandomState>;

/// The provenances of one edge key, first = the one systemd saw first: a view of the
/// consecutive entries of that key in an [`EdgeMap`] (almost every key has exactly one).
#[repr(transparent)]
pub struct Provenances([(EdgeKey, Provenance)]);

impl Provenances {
    fn of(run: &[(EdgeKey, Provenance)]) -> &Provenances {
        // SAFETY: `Provenances` is a `repr(transparent)` wrapper of exactly this slice
        // type, so the two references have the same layout and metadata (std's
        // `Path`/`OsStr` pattern).
        unsafe { &*(run as *const [(EdgeKey, Provenance)] as *const Provenances) }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Provenance> + DoubleEndedIterator + Clone {
        self.0.iter().map(|(_, p)| p)
    }

    pub fn to_vec(&self) -> Vec<Provenance> {
        self.iter().cloned().collect()
    }
}

impl std::ops::Index<usize> for Provenances {
    type Output = Provenance;
    fn index(&self, i: usize) -> &Provenance {
        &self.0[i].1
    }
}

impl<'a> IntoIterator for &'a Provenances {
    type Item = &'a Provenance;
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (EdgeKey, Provenance)>,
        fn(&'a (EdgeKey, Provenance)) -> &'a Provenance,
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(_, p)| p)
    }
}

impl std::fmt::Debug for Provenances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Provenances {
    fn eq(&self, other: &Provenances) -> bool {
        self.iter().eq(other.iter())
    }
}

/// Every edge key of a graph with its provenances, sorted by key: one sorted list of
/// `(key, provenance)` pairs, a key's provenances consecutive. It is the loader's edge
/// list itself (turned into pairs in place), so that building it copies no edge and no
/// search tree sits beside it; lookups are binary searches.
#[derive(Default)]
pub struct EdgeMap {
    list: Vec<(EdgeKey, Provenance)>,
    /// The number of distinct keys.
    keys: usize,
}

impl EdgeMap {
    /// From pairs sorted by key (a key's provenances consecutive, in their order).
    fn from_sorted(list: Vec<(EdgeKey, Provenance)>) -> Self {
        debug_assert!(list.is_sorted_by(|a, b| a.0 <= b.0));
        let keys = list.chunk_by(same_key).count();
        EdgeMap { list, keys }
    }

    /// The number of edge keys.
    pub fn len(&self) -> usize {
        self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }

    /// The number of provenances (of all keys).
    pub fn provenance_count(&self) -> usize {
        self.list.len()
    }

    /// Every key with its provenances, sorted by key.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.list.chunk_by(same_key))
    }

    pub fn keys(&self) -> impl Iterator<Item = &EdgeKey> + Clone {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Provenances> + Clone {
        self.iter().map(|(_, p)| p)
    }

    /// The entries of `key`, consecutive, from the first pair not below it.
    fn run(&self, key: &EdgeKey) -> &[(EdgeKey, Provenance)] {
        let start = self.list.partition_point(|(k, _)| k < key);
        let rest = &self.list[start..];
        let n = rest.iter().take_while(|(k, _)| k == key).count();
        &rest[..n]
    }

    pub fn get(&self, key: &EdgeKey) -> Option<&Provenances> {
        self.get_key_value(key).map(|(_, p)| p)
    }

    pub fn get_key_value(&self, key: &EdgeKey) -> Option<(&EdgeKey, &Provenances)> {
        let run = self.run(key);
        let (k, _) = run.first()?;
        Some((k, Provenances::of(run)))
    }

    pub fn contains_key(&self, key: &EdgeKey) -> bool {
        !self.run(key).is_empty()
    }
}

impl std::ops::Index<&EdgeKey> for EdgeMap {
    type Output = Provenances;
    fn index(&self, key: &EdgeKey) -> &Provenances {
        self.get(key).expect("no such edge key")
    }
}

impl std::fmt::Debug for EdgeMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a EdgeMap {
    type Item = (&'a EdgeKey, &'a Provenances);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// [`EdgeMap::iter`]: each key once, with its provenances.
#[derive(Clone)]
pub struct Iter<'a>(std::slice::ChunkBy<'a, Pair, SameKey>);

type Pair = (EdgeKey, Provenance);
type SameKey = fn(&Pair, &Pair) -> bool;

fn same_key(a: &Pair, b: &Pair) -> bool {
    a.0 == b.0
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a EdgeKey, &'a Provenances);
    fn next(&mut self) -> Option<Self::Item> {
        let run = self.0.next()?;
        Some((&run[0].0, Provenances::of(run)))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let run = self.0.next_back()?;
        Some((&run[0].0, Provenances::of(run)))
    }
}

/// A loaded image and its graph.
#[derive(Debug)]
pub struct DepGraph {
    /// What the user named as the root (for reports).
    pub root: String,
    /// The loaded units (its `edges` list is empty: they moved into [`DepGraph::edges`]).
    pub set: UnitSet,
    /// How the systemd version (`set.rules`) was chosen.
    pub rules_how: String,
    /// The generators emulated and not emulated (`None`: emulation was off).
    pub generators: Option<crate::unit::generators::Report>,
    /// Every edge key with its provenances (first = the one systemd saw first).
    pub edges: EdgeMap,
    /// For layered images: the layer each unit file, drop-in and link came from.
    pub image_layers: BTreeMap<ImagePath, ImageLayer>,
    /// Unit names by index (sorted, as `set.units`), and back.
    names: Vec<Sym>,
    index: NameIndex,
    /// Every edge key reaching a unit from a unit, as the position of its first entry in
    /// `edges`' list, grouped by target unit (one list, not a list per unit): the edges
    /// reaching unit `i` are at `incoming[incoming_at[i]..incoming_at[i + 1]]`.
    incoming: Vec<u32>,
    incoming_at: Vec<u32>,
    /// Per unit index: where its edges are in `edges`' list (start, end), found once while
    /// the graph is built instead of by two binary searches over every edge per question.
    outgoing: Vec<(u32, u32)>,
    /// Per entry of `edges`' list: the index of its key's target unit (`NOT_A_UNIT` for a
    /// target that is no unit), looked up once while the graph is built.
    targets: Vec<u32>,
}

/// In [`DepGraph`]'s `targets`: the edge's target is not a (loaded or not-found) unit.
const NOT_A_UNIT: u32 = u32::MAX;

impl DepGraph {
    /// Index `set`'s edges by key. The edges move into [`DepGraph::edges`] (the set's list
    /// is left empty): one copy of every edge, not two.
    pub fn new(root: impl Into<String>, mut set: UnitSet) -> Self {
        let mut list = std::mem::take(&mut set.edges);
        // The loader hands its edges over sorted; sort here only if someone did not.
        if !list.is_sorted_by(|a, b| (&a.from, a.kind, &a.to) <= (&b.from, b.kind, &b.to)) {
            list.sort_by(|a, b| (&a.from, a.kind, &a.to).cmp(&(&b.from, b.kind, &b.to)));
        }
        // An `Edge` and a `(key, provenance)` pair have the same size: std collects this
        // in place, in the loader's buffer (no second copy of the largest thing a graph
        // holds).
        let mut list: Vec<(EdgeKey, Provenance)> = list
            .into_iter()
            .map(|e| ((e.from, e.kind, e.to), e.provenance))
            .collect();
        for run in list.chunk_by_mut(same_key) {
            // Files before rules; within files, fragment before drop-ins before links.
            if run.len() > 1 {
                run.sort_by(|(_, a), (_, b)| {
                    (a.how, &a.path, a.line).cmp(&(b.how, &b.path, b.line))
                });
            }
        }
        let edges = EdgeMap::from_sorted(list);
        let names: Vec<Sym> = set.units.keys().cloned().collect();
        let mut index: NameIndex =
            HashMap::with_capacity_and_hasher(names.len(), Default::default());
        index.extend(names.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)));
        // Edges reaching each unit, counted here and placed below.
        let mut incoming_at: Vec<u32> = vec![0; names.len() + 1];
        let mut outgoing: Vec<(u32, u32)> = vec![(0, 0); names.len()];
        let mut targets: Vec<u32> = Vec::with_capacity(edges.list.len());
        // Keys come sorted by source: look each source up once.
        let mut from: Option<(&str, Option<u32>)> = None;
        let mut at = 0;
        for run in edges.list.chunk_by(same_key) {
            let key = &run[0].0;
            let a = match from {
                Some((f, a)) if f == key.0 => a,
                _ => {
                    let a = index.get(key.0.as_str()).copied();
                    from = Some((&key.0, a));
                    if let Some(a) = a {
                        outgoing[a as usize].0 = at as u32;
                    }
                    a
                }
            };
            at += run.len();
            if let Some(a) = a {
                outgoing[a as usize].1 = at as u32;
            }
            let b = index.get(key.2.as_str()).copied();
            targets.extend(std::iter::repeat_n(b.unwrap_or(NOT_A_UNIT), run.len()));
            if let (Some(_), Some(b)) = (a, b) {
                incoming_at[b as usize + 1] += 1;
            }
        }
        for i in 1..incoming_at.len() {
            incoming_at[i] += incoming_at[i - 1];
        }
        let mut incoming: Vec<u32> = vec![0; incoming_at[names.len()] as usize];
        let mut placed: Vec<u32> = incoming_at[..names.len()].to_vec();
        for &(start, end) in &outgoing {
            let mut at = start as usize;
            for run in edges.list[start as usize..end as usize].chunk_by(same_key) {
                let b = targets[at];
                if b != NOT_A_UNIT {
                    incoming[placed[b as usize] as usize] = at as u32;
                    placed[b as usize] += 1;
                }
                at += run.len();
            }
        }
        DepGraph {
            root: root.into(),
            set,
            rules_how: String::new(),
            generators: None,
            edges,
            image_layers: BTreeMap::new(),
            names,
            index,
            incoming,
            incoming_at,
            outgoing,
            targets,
        }
    }

    /// The index of a (loaded, not template) unit: its rank among `set.units`' names.
    pub fn id(&self, unit: &str) -> Option<u32> {
        self.index.get(unit).copied()
    }

    /// The unit of index `id` (see [`DepGraph::id`]).
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// Record the image layer of every file behind a unit or an edge (layered images only).
    pub fn attach_image_layers(&mut self, tree: &dyn Tree) {
        let mut paths: Vec<&ImagePath> = Vec::new();
        for u in self.set.units.values().chain(self.set.templates.values()) {
            for f in u.fragment.iter().chain(&u.dropins) {
                paths.push(&f.path);
                paths.extend(&f.target);
            }
        }
        paths.extend(
            self.edges
                .values()
                .flat_map(|p| p.iter())
                .filter_map(|p| p.path.as_ref()),
        );
        let mut out = BTreeMap::new();
        for p in paths {
            if out.contains_key(p) {
                continue;
            }
            let phys = crate::tree::resolve(tree, p, false).unwrap_or_else(|_| p.clone());
            if let Some(l) = tree.image_layer(&phys) {
                out.insert(p.clone(), l);
            }
        }
        self.image_layers = out;
    }

    /// "image layer 2 sha256:…: RUN …" for a file of a layered image, printable as is
    /// (control characters replaced, long history lines cut).
    pub fn layer_note(&self, path: &ImagePath) -> Option<String> {
        let l = self.image_layers.get(path)?;
        let mut s = format!("image layer {} {}", l.index, l.digest);
        if let Some(c) = &l.created_by {
            let c: String = c
                .chars()
                .take(200)
                .map(|ch| if ch.is_control() { '?' } else { ch })
                .collect();
            s.push_str(": ");
            s.push_str(&c);
        }
        Some(s)
    }

    /// Edges leaving `unit` (to units), sorted by kind and target.
    pub fn edges_from(&self, unit: &str) -> Vec<&EdgeKey> {
        let Some(&n) = self.index.get(unit) else {
            return Vec::new();
        };
        self.edges_from_id(n).map(|(k, _, _)| k).collect()
    }

    /// Edges leaving the unit of index `id` (to units), sorted by kind and target, each with
    /// its provenances and its target's index.
    pub fn edges_from_id(&self, id: u32) -> impl Iterator<Item = (&EdgeKey, &Provenances, u32)> {
        let (start, end) = (
            self.outgoing[id as usize].0 as usize,
            self.outgoing[id as usize].1 as usize,
        );
        self.edges.list[start..end]
            .chunk_by(same_key)
            .scan(start, |at, run| {
                let target = self.targets[*at];
                *at += run.len();
                Some((&run[0].0, Provenances::of(run), target))
            })
            .filter(|(_, _, t)| *t != NOT_A_UNIT)
    }

    /// Edges reaching `unit` (from units), sorted.
    pub fn edges_to(&self, unit: &str) -> Vec<&EdgeKey> {
        let Some(&n) = self.index.get(unit) else {
            return Vec::new();
        };
        let (start, end) = (
            self.incoming_at[n as usize] as usize,
            self.incoming_at[n as usize + 1] as usize,
        );
        // Placed in list order (by source unit, then kind and target), so already sorted.
        let out: Vec<&EdgeKey> = self.incoming[start..end]
            .iter()
            .map(|&at| &self.edges.list[at as usize].0)
            .collect();
        debug_assert!(out.is_sorted());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::{Edge, How, Origin};

    fn prov(line: u32) -> Provenance {
        Provenance {
            origin: Origin::File,
            how: How::Fragment,
            path: None,
            line: Some(line),
            layer: None,
            rule: None,
            generator: None,
        }
    }

    /// The units of vendor services with these `[Unit]` sections, loaded as systemd 257.
    fn services(units: &[(&str, &str)]) -> crate::unit::UnitSet {
        use crate::tree::mem::{Entry, MemTree};
        let mut t = MemTree::new("t");
        for (name, unit) in units {
            let body = format!("{unit}[Service]\nExecStart=/bin/true\n");
            let entry = Entry::File {
                size: body.len() as u64,
                data: Some(body.into_bytes().into()),
            };
            let path = format!("/usr/lib/systemd/system/{name}");
            t.insert(&ImagePath::new(&path), entry).unwrap();
        }
        crate::unit::load(&t, crate::unit::Rules::new(257, 13))
    }

    #[test]
    fn an_edge_is_a_pair_in_size() {
        // `DepGraph::new` turns the loader's list into pairs in its own buffer.
        assert_eq!(
            std::mem::size_of::<Edge>(),
            std::mem::size_of::<(EdgeKey, Provenance)>()
        );
        assert_eq!(
            std::mem::align_of::<Edge>(),
            std::mem::align_of::<(EdgeKey, Provenance)>()
        );
    }

    #[test]
    fn the_map_groups_a_keys_provenances() {
        let k = |a: &str, kind, b: &str| -> EdgeKey { (a.into(), kind, b.into()) };
        let list = vec![
            (k("a", DepKind::Wants, "b"), prov(1)),
            (k("a", DepKind::Wants, "c"), prov(2)),
            (k("a", DepKind::Wants, "c"), prov(3)),
            (k("b", DepKind::After, "a"), prov(4)),
            (k("c", DepKind::Wants, "a"), prov(5)),
        ];
        let m = EdgeMap::from_sorted(list);
        assert_eq!(m.len(), 4);
        assert_eq!(m.provenance_count(), 5);
        let lines = |p: &Provenances| p.iter().map(|p| p.line.unwrap()).collect::<Vec<_>>();
        assert_eq!(lines(&m[&k("a", DepKind::Wants, "c")]), [2, 3]);
        assert_eq!(lines(&m[&k("c", DepKind::Wants, "a")]), [5]);
        assert!(m.get(&k("a", DepKind::Wants, "d")).is_none());
        assert!(!m.contains_key(&k("b", DepKind::Wants, "a")));
        assert!(m.contains_key(&k("b", DepKind::After, "a")));
        let all: Vec<(String, usize)> = m.iter().map(|(k, p)| (k.2.to_string(), p.len())).collect();
        assert_eq!(
            all,
            [
                ("b".into(), 1),
                ("c".into(), 2),
                ("a".into(), 1),
                ("a".into(), 1)
            ]
        );
        assert_eq!(m.iter().next_back().map(|(k, _)| k.0.as_str()), Some("c"));
    }

    #[test]
    fn edges_to_a_unit_are_every_unit_edge_naming_it() {
        let set = services(&[
            ("a.service", "[Unit]\nWants=c.service\nAfter=c.service\n"),
            ("b.service", "[Unit]\nRequires=c.service\nWants=a.service\n"),
            ("c.service", "[Unit]\nBefore=b.service\n"),
        ]);
        let g = DepGraph::new("t", set);
        let to = |u: &str| -> Vec<(String, DepKind)> {
            g.edges_to(u)
                .into_iter()
                .filter(|k| k.0.ends_with(".service"))
                .map(|k| (k.0.to_string(), k.1))
                .collect()
        };
        // Each edge key once, sorted by source and kind.
        assert_eq!(
            to("c.service"),
            [
                ("a.service".into(), DepKind::Wants),
                ("a.service".into(), DepKind::After),
                ("b.service".into(), DepKind::Requires),
            ]
        );
        assert_eq!(to("a.service"), [("b.service".into(), DepKind::Wants)]);
        assert_eq!(to("b.service"), [("c.service".into(), DepKind::Before)]);
        // Every key `edges_to` gives is a key `edges_from` of its source gives.
        for u in ["a.service", "b.service", "c.service"] {
            for k in g.edges_to(u) {
                assert!(g.edges_from(&k.0).contains(&k), "{k:?}");
            }
        }
        assert!(g.edges_to("nonexistent.service").is_empty());
    }

    /// Edges from a name that is no unit (a template) and to one (a name nothing loads)
    /// stay in the edge map but in neither index; a unit nothing leaves from is still
    /// reached.
    #[test]
    fn edges_of_names_that_are_no_units_are_in_neither_index() {
        let mut set = services(&[
            ("a.service", "[Unit]\nWants=b.service c.service\n"),
            ("b.service", "[Unit]\nAfter=c.service\n"),
            ("c.service", "[Unit]\n"),
        ]);
        let edge = |from: &str, kind, to: &str| Edge {
            from: from.into(),
            kind,
            to: to.into(),
            provenance: prov(9),
        };
        // Unsorted on purpose: `DepGraph::new` sorts what the loader did not.
        set.edges
            .push(edge("x@.service", DepKind::Wants, "b.service"));
        set.edges
            .push(edge("a.service", DepKind::Requires, "gone.service"));
        set.edges
            .push(edge("0-first.service", DepKind::Before, "c.service"));
        let g = DepGraph::new("t", set);
        assert!(g.id("x@.service").is_none() && g.id("gone.service").is_none());
        // In the map...
        for k in [
            ("x@.service".into(), DepKind::Wants, "b.service".into()),
            ("a.service".into(), DepKind::Requires, "gone.service".into()),
            (
                "0-first.service".into(),
                DepKind::Before,
                "c.service".into(),
            ),
        ] {
            assert!(g.edges.contains_key(&k), "{k:?}");
        }
        // ... but not in the indices.
        let from = |u: &str| -> Vec<String> {
            g.edges_from(u)
                .iter()
                .map(|k| format!("{} {}", k.1.as_str(), k.2))
                .collect()
        };
        let to = |u: &str| -> Vec<String> {
            g.edges_to(u)
                .iter()
                .map(|k| format!("{} {}", k.0, k.1.as_str()))
                .collect()
        };
        assert!(from("a.service").iter().all(|e| !e.contains("gone")));
        assert!(from("a.service").contains(&"Wants c.service".to_string()));
        assert!(to("b.service").iter().all(|e| !e.contains("x@")));
        assert!(to("b.service").contains(&"a.service Wants".to_string()));
        assert!(to("c.service").iter().all(|e| !e.contains("0-first")));
        // c.service has no edge of its own (beyond the implicit ones to non-services) and is
        // reached from both others.
        assert!(from("c.service").iter().all(|e| !e.ends_with(".service")));
        assert!(to("c.service").contains(&"a.service Wants".to_string()));
        assert!(to("c.service").contains(&"b.service After".to_string()));
        // Each index is exactly the unit-to-unit part of the map, sorted.
        for u in ["a.service", "b.service", "c.service"] {
            let want: Vec<&EdgeKey> = g
                .edges
                .keys()
                .filter(|k| k.2 == u && g.id(&k.0).is_some())
                .collect();
            assert_eq!(g.edges_to(u), want, "{u}");
            let want: Vec<&EdgeKey> = g
                .edges
                .keys()
                .filter(|k| k.0 == u && g.id(&k.2).is_some())
                .collect();
            assert_eq!(g.edges_from(u), want, "{u}");
        }
    }
}
