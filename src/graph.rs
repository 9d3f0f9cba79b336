//! One image's dependency graph: the loaded [`UnitSet`] plus a petgraph index over its
//! edges. Edges are keyed by `(from, kind, to)` — systemd stores one dependency per key and
//! merges origins — and each key keeps every provenance that produced it.

use crate::tree::{ImagePath, Tree, mem::ImageLayer};
use crate::unit::{DepKind, Edge, Provenance, UnitSet};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, HashMap};

/// The identity of an edge: same from, kind and to = same edge.
pub type EdgeKey = (String, DepKind, String);

/// A loaded image and its graph.
#[derive(Debug)]
pub struct DepGraph {
    /// What the user named as the root (for reports).
    pub root: String,
    pub set: UnitSet,
    /// How the systemd version (`set.rules`) was chosen.
    pub rules_how: String,
    /// Every edge key with its provenances (first = the one systemd saw first).
    pub edges: BTreeMap<EdgeKey, Vec<Provenance>>,
    /// For layered images: the layer each unit file, drop-in and link came from.
    pub image_layers: BTreeMap<ImagePath, ImageLayer>,
    graph: DiGraph<String, EdgeKey>,
    index: HashMap<String, NodeIndex>,
}

impl DepGraph {
    pub fn new(root: impl Into<String>, set: UnitSet) -> Self {
        let mut edges: BTreeMap<EdgeKey, Vec<Provenance>> = BTreeMap::new();
        for Edge {
            from,
            kind,
            to,
            provenance,
        } in &set.edges
        {
            edges
                .entry((from.clone(), *kind, to.clone()))
                .or_default()
                .push(provenance.clone());
        }
        for provs in edges.values_mut() {
            // Files before rules; within files, fragment before drop-ins before links.
            provs.sort_by(|a, b| (a.how, &a.path, a.line).cmp(&(b.how, &b.path, b.line)));
        }
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for name in set.units.keys() {
            index.insert(name.clone(), graph.add_node(name.clone()));
        }
        for key in edges.keys() {
            let (Some(&a), Some(&b)) = (index.get(&key.0), index.get(&key.2)) else {
                continue;
            };
            graph.add_edge(a, b, key.clone());
        }
        DepGraph {
            root: root.into(),
            set,
            rules_how: String::new(),
            edges,
            image_layers: BTreeMap::new(),
            graph,
            index,
        }
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
            self.set
                .edges
                .iter()
                .filter_map(|e| e.provenance.path.as_ref()),
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

    /// Edges leaving `unit`, sorted by kind and target.
    pub fn edges_from(&self, unit: &str) -> Vec<&EdgeKey> {
        let Some(&n) = self.index.get(unit) else {
            return Vec::new();
        };
        let mut out: Vec<&EdgeKey> = self.graph.edges(n).map(|e| e.weight()).collect();
        out.sort();
        out
    }

    /// Edges reaching `unit`, sorted.
    pub fn edges_to(&self, unit: &str) -> Vec<&EdgeKey> {
        let Some(&n) = self.index.get(unit) else {
            return Vec::new();
        };
        let mut out: Vec<&EdgeKey> = self
            .graph
            .edges_directed(n, petgraph::Direction::Incoming)
            .map(|e| e.weight())
            .collect();
        out.sort();
        out
    }
}
