//! One image's dependency graph: the loaded [`UnitSet`] plus an index over its edges.
//! Edges are keyed by `(from, kind, to)` — systemd stores one dependency per key and
//! merges origins — and each key keeps every provenance that produced it.

use crate::tree::{ImagePath, Tree, mem::ImageLayer};
use crate::unit::{DepKind, Edge, Provenance, Sym, UnitSet};
use smallvec::{SmallVec, smallvec};
use std::collections::{BTreeMap, HashMap};

/// The identity of an edge: same from, kind and to = same edge.
pub type EdgeKey = (Sym, DepKind, Sym);

/// The provenances of one edge key. Almost every key has exactly one, so it is kept inline
/// (`smallvec`): a `Vec` would cost a separate heap block per edge (1.5 M at 100k units).
pub type Provenances = SmallVec<[Provenance; 1]>;

/// Unit name → index. foldhash rather than std's SipHash (6 % of the CPU of a 10k diff was
/// SipHash): seeded per process, so an image cannot choose colliding names in advance.
type NameIndex = HashMap<Sym, u32, foldhash::fast::RandomState>;

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
    pub edges: BTreeMap<EdgeKey, Provenances>,
    /// For layered images: the layer each unit file, drop-in and link came from.
    pub image_layers: BTreeMap<ImagePath, ImageLayer>,
    /// Unit names by index (sorted, as `set.units`), and back.
    names: Vec<Sym>,
    index: NameIndex,
    /// Per unit index: the (source index, kind) of every edge reaching it, so that
    /// `edges_to` finds the keys in `edges` without a second copy of each.
    incoming: Vec<Vec<(u32, DepKind)>>,
}

impl DepGraph {
    /// Index `set`'s edges by key. The edges move into [`DepGraph::edges`] (the set's list
    /// is left empty): one copy of every edge, not two.
    pub fn new(root: impl Into<String>, mut set: UnitSet) -> Self {
        let mut list = std::mem::take(&mut set.edges);
        // The loader hands its edges over sorted; sort here only if someone did not.
        if !list.is_sorted_by(|a, b| (&a.from, a.kind, &a.to) <= (&b.from, b.kind, &b.to)) {
            list.sort_by(|a, b| (&a.from, a.kind, &a.to).cmp(&(&b.from, b.kind, &b.to)));
        }
        // Sorted: the provenances of one key are consecutive, and the map is built in bulk
        // from the sorted keys (no search per edge).
        let mut grouped: Vec<(EdgeKey, Provenances)> = Vec::with_capacity(list.len());
        for Edge {
            from,
            kind,
            to,
            provenance,
        } in list
        {
            match grouped.last_mut() {
                Some((k, provs)) if k.0 == from && k.1 == kind && k.2 == to => {
                    provs.push(provenance)
                }
                _ => grouped.push(((from, kind, to), smallvec![provenance])),
            }
        }
        for (_, provs) in &mut grouped {
            // Files before rules; within files, fragment before drop-ins before links.
            if provs.len() > 1 {
                provs.sort_by(|a, b| (a.how, &a.path, a.line).cmp(&(b.how, &b.path, b.line)));
            }
        }
        let edges: BTreeMap<EdgeKey, Provenances> = grouped.into_iter().collect();
        let names: Vec<Sym> = set.units.keys().map(Sym::from).collect();
        let mut index: NameIndex =
            HashMap::with_capacity_and_hasher(names.len(), Default::default());
        index.extend(names.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)));
        let mut incoming: Vec<Vec<(u32, DepKind)>> = vec![Vec::new(); names.len()];
        // Keys come sorted by source: look each source up once.
        let mut from: Option<(&str, Option<u32>)> = None;
        for key in edges.keys() {
            let a = match from {
                Some((f, a)) if f == key.0 => a,
                _ => {
                    let a = index.get(key.0.as_str()).copied();
                    from = Some((&key.0, a));
                    a
                }
            };
            let (Some(a), Some(&b)) = (a, index.get(key.2.as_str())) else {
                continue;
            };
            incoming[b as usize].push((a, key.1));
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
                .flatten()
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
        if !self.index.contains_key(unit) {
            return Vec::new();
        }
        // The first key of `unit`: the smallest kind, the empty target.
        let start = (Sym::from(unit), DepKind::ALL[0], Sym::default());
        self.edges
            .range(start..)
            .map(|(k, _)| k)
            .take_while(|k| k.0 == unit)
            .filter(|k| self.index.contains_key(k.2.as_str()))
            .collect()
    }

    /// Edges reaching `unit` (from units), sorted.
    pub fn edges_to(&self, unit: &str) -> Vec<&EdgeKey> {
        let Some(&n) = self.index.get(unit) else {
            return Vec::new();
        };
        let mut out: Vec<&EdgeKey> = self.incoming[n as usize]
            .iter()
            .filter_map(|(from, kind)| {
                let key = (
                    self.names[*from as usize].clone(),
                    *kind,
                    self.names[n as usize].clone(),
                );
                self.edges.get_key_value(&key).map(|(k, _)| k)
            })
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::unit::DepKind;

    #[test]
    fn the_first_kind_sorts_first() {
        // `edges_from` starts its range at `DepKind::ALL[0]`.
        let mut all = DepKind::ALL.to_vec();
        all.sort();
        assert_eq!(all[0], DepKind::ALL[0]);
    }
}
