//! A picture small enough to draw: the neighbourhoods of the most important changes, taken
//! in order until a size limit (Mermaid's `maxTextSize` and `maxEdges`, or a readability
//! budget) is reached, with what was left out. Markdown draws this instead of the whole
//! change, which on a distribution upgrade has hundreds of edges.

use super::picture::{PEdge, Picture, Status};
use crate::diff::GraphDiff;
use crate::unit::{DepKind, How};
use std::collections::{BTreeMap, BTreeSet};

/// Mermaid's default `maxTextSize` (characters of diagram text).
pub const MERMAID_MAX_TEXT: usize = 50_000;
/// Mermaid's default `maxEdges`: it refuses a diagram with more edges.
pub const MERMAID_MAX_EDGES: usize = 500;

/// One thing worth drawing, with the units and edges that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// How the report names it when it is left out, e.g. `a.service Requires b.service`.
    pub label: String,
    pub units: Vec<String>,
    pub edges: Vec<(String, DepKind, String)>,
}

/// How large the drawn picture may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most characters of diagram text (as the drawing function writes it).
    pub max_text: usize,
    /// Most edges as the drawing function counts them (after merging parallel edges).
    pub max_edges: usize,
    /// Most context edges drawn around each unit of a seed.
    pub per_unit: usize,
}

impl Default for Limits {
    /// A readable diagram, well inside Mermaid's limits.
    fn default() -> Self {
        Limits {
            max_text: 20_000,
            max_edges: 150,
            per_unit: 6,
        }
    }
}

/// The drawn part and what was left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Excerpt {
    pub picture: Picture,
    /// Whether the whole picture fitted (nothing left out).
    pub whole: bool,
    /// Seeds drawn, in order.
    pub drawn: Vec<String>,
    /// Seeds that did not fit, in order.
    pub left_out: Vec<String>,
    /// Nodes and edges of the whole picture not drawn.
    pub nodes_left_out: usize,
    pub edges_left_out: usize,
}

/// The changes of a diff worth drawing, most important first: new hard dependencies some
/// file wrote, lost ones, load-state changes, units that appeared or went away, then every
/// other edge change (written ones first) and changed unit.
pub fn diff_seeds(d: &GraphDiff) -> Vec<Seed> {
    let edge = |e: &crate::diff::EdgeChange, sign: &str| Seed {
        label: format!("{sign}{} {} {}", e.from, e.kind, e.to),
        units: vec![e.from.clone(), e.to.clone()],
        edges: vec![(e.from.clone(), e.kind, e.to.clone())],
    };
    let unit = |name: &str, what: String| Seed {
        label: format!("{name} ({what})"),
        units: vec![name.to_string()],
        edges: Vec::new(),
    };
    // Edges some file wrote come before the ones systemd adds by itself (default
    // dependencies of a new unit, slices).
    let written = |e: &&crate::diff::EdgeChange| e.provenance.iter().any(|p| p.how != How::Rule);
    let hard = |e: &&crate::diff::EdgeChange| e.kind.is_hard();
    let mut seeds = Vec::new();
    seeds.extend(
        d.edges_added
            .iter()
            .filter(|e| hard(e) && written(e))
            .map(|e| edge(e, "+ ")),
    );
    seeds.extend(
        d.edges_removed
            .iter()
            .filter(|e| hard(e) && written(e))
            .map(|e| edge(e, "- ")),
    );
    for c in &d.units_changed {
        if let Some(s) = c.state {
            seeds.push(unit(
                &c.name,
                format!("{} -> {}", s.old.as_str(), s.new.as_str()),
            ));
        }
    }
    seeds.extend(d.units_added.iter().map(|u| unit(&u.name, "added".into())));
    seeds.extend(
        d.units_removed
            .iter()
            .map(|u| unit(&u.name, "removed".into())),
    );
    for w in [true, false] {
        seeds.extend(
            d.edges_added
                .iter()
                .filter(|e| written(e) == w && !(w && hard(e)))
                .map(|e| edge(e, "+ ")),
        );
        seeds.extend(
            d.edges_removed
                .iter()
                .filter(|e| written(e) == w && !(w && hard(e)))
                .map(|e| edge(e, "- ")),
        );
    }
    seeds.extend(d.edges_moved.iter().map(|m| Seed {
        label: format!("~ {} {} {}", m.from, m.kind, m.to),
        units: vec![m.from.clone(), m.to.clone()],
        edges: vec![(m.from.clone(), m.kind, m.to.clone())],
    }));
    for c in &d.units_changed {
        if c.state.is_none() {
            seeds.push(unit(&c.name, "changed".into()));
        }
    }
    seeds
}

/// Seeds for a picture of one graph: the focus units if any, else every unit, the most
/// connected first.
pub fn graph_seeds(p: &Picture, focus: &[String]) -> Vec<Seed> {
    let unit = |name: &str| Seed {
        label: name.to_string(),
        units: vec![name.to_string()],
        edges: Vec::new(),
    };
    if !focus.is_empty() {
        return focus.iter().map(|f| unit(f)).collect();
    }
    let mut degree: BTreeMap<&str, usize> = p.nodes.iter().map(|n| (n.name.as_str(), 0)).collect();
    for e in &p.edges {
        *degree.entry(&e.from).or_default() += 1;
        *degree.entry(&e.to).or_default() += 1;
    }
    let mut order: Vec<(&str, usize)> = degree.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    order.into_iter().map(|(n, _)| unit(n)).collect()
}

/// Rank of a context edge: changes first, then hard dependencies, then the rest.
fn edge_rank(e: &PEdge) -> (bool, bool) {
    (e.status == Status::Unchanged, !e.kind.is_hard())
}

/// Take seeds' neighbourhoods from `full` in order while `draw(picture)` (returning the
/// diagram text and its edge count) stays within `limits`. If the whole picture fits, it is
/// drawn whole. Units with edges not drawn get a note saying how many.
pub fn excerpt(
    full: &Picture,
    seeds: &[Seed],
    limits: Limits,
    draw: impl Fn(&Picture) -> (String, usize),
) -> Excerpt {
    let fits = |p: &Picture| {
        let (text, edges) = draw(p);
        text.len() <= limits.max_text && edges <= limits.max_edges
    };
    if fits(full) {
        return Excerpt {
            picture: full.clone(),
            whole: true,
            drawn: seeds.iter().map(|s| s.label.clone()).collect(),
            ..Default::default()
        };
    }
    let node_index: BTreeMap<&str, usize> = full
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let edge_index: BTreeMap<(&str, DepKind, &str), usize> = full
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| ((e.from.as_str(), e.kind, e.to.as_str()), i))
        .collect();
    let mut incident: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in full.edges.iter().enumerate() {
        incident.entry(&e.from).or_default().push(i);
        if e.to != e.from {
            incident.entry(&e.to).or_default().push(i);
        }
    }
    for list in incident.values_mut() {
        list.sort_by_key(|&i| (edge_rank(&full.edges[i]), i));
    }

    let mut nodes: BTreeSet<usize> = BTreeSet::new();
    let mut edges: BTreeSet<usize> = BTreeSet::new();
    let mut out = Excerpt::default();
    let mut misses = 0;
    for seed in seeds {
        // After many seeds in a row that do not fit, the picture is full.
        if misses >= 32 {
            out.left_out.push(seed.label.clone());
            continue;
        }
        let (mut n2, mut e2) = (nodes.clone(), edges.clone());
        for (f, k, t) in &seed.edges {
            if let Some(&i) = edge_index.get(&(f.as_str(), *k, t.as_str())) {
                e2.insert(i);
            }
        }
        for u in &seed.units {
            if let Some(&i) = node_index.get(u.as_str()) {
                n2.insert(i);
            }
            for &i in incident
                .get(u.as_str())
                .into_iter()
                .flatten()
                .take(limits.per_unit)
            {
                e2.insert(i);
            }
        }
        for &i in &e2 {
            let e = &full.edges[i];
            n2.extend(node_index.get(e.from.as_str()));
            n2.extend(node_index.get(e.to.as_str()));
        }
        let in_picture = seed
            .units
            .iter()
            .any(|u| node_index.contains_key(u.as_str()))
            || seed
                .edges
                .iter()
                .any(|(f, k, t)| edge_index.contains_key(&(f.as_str(), *k, t.as_str())));
        if !in_picture {
            // Outside the selection (--focus, --kinds): not part of this picture at all.
            continue;
        }
        if e2.len() == edges.len() && n2.len() == nodes.len() {
            out.drawn.push(seed.label.clone());
            continue;
        }
        if fits(&assemble(full, &n2, &e2, &incident)) {
            (nodes, edges) = (n2, e2);
            out.drawn.push(seed.label.clone());
            misses = 0;
        } else {
            out.left_out.push(seed.label.clone());
            misses += 1;
        }
    }
    out.picture = assemble(full, &nodes, &edges, &incident);
    out.nodes_left_out = full.nodes.len() - nodes.len();
    out.edges_left_out = full.edges.len() - edges.len();
    out
}

fn assemble(
    full: &Picture,
    nodes: &BTreeSet<usize>,
    edges: &BTreeSet<usize>,
    incident: &BTreeMap<&str, Vec<usize>>,
) -> Picture {
    // Edges drawn per unit, counted over the drawn edges only (a hub's degree can be large).
    let mut drawn: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in edges {
        let e = &full.edges[i];
        *drawn.entry(&e.from).or_default() += 1;
        if e.to != e.from {
            *drawn.entry(&e.to).or_default() += 1;
        }
    }
    Picture {
        nodes: nodes
            .iter()
            .map(|&i| {
                let mut n = full.nodes[i].clone();
                let degree = incident.get(n.name.as_str()).map_or(0, Vec::len);
                let hidden = degree - drawn.get(n.name.as_str()).copied().unwrap_or(0);
                if hidden > 0 {
                    n.notes.push(format!("+{hidden} more edges"));
                }
                n
            })
            .collect(),
        edges: edges.iter().map(|&i| full.edges[i].clone()).collect(),
        cut: full.cut.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::picture::PNode;

    fn star(n: usize) -> Picture {
        let mut nodes = vec![PNode {
            name: "hub.target".into(),
            unit_type: None,
            status: Status::Unchanged,
            notes: vec![],
            group: None,
            summary: None,
        }];
        let mut edges = Vec::new();
        for i in 0..n {
            let name = format!("u{i:03}.service");
            nodes.push(PNode {
                name: name.clone(),
                unit_type: None,
                status: Status::Added,
                notes: vec![],
                group: None,
                summary: None,
            });
            edges.push(PEdge {
                from: "hub.target".into(),
                kind: if i % 2 == 0 {
                    DepKind::Wants
                } else {
                    DepKind::Requires
                },
                to: name,
                status: Status::Added,
                upgrade: false,
            });
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Picture {
            nodes,
            edges,
            cut: None,
        }
    }

    fn draw(p: &Picture) -> (String, usize) {
        let text: String = p
            .edges
            .iter()
            .map(|e| format!("{} {} {}\n", e.from, e.kind, e.to))
            .collect();
        (text, p.edges.len())
    }

    fn seeds(p: &Picture) -> Vec<Seed> {
        p.edges
            .iter()
            .map(|e| Seed {
                label: e.to.clone(),
                units: vec![e.to.clone()],
                edges: vec![(e.from.clone(), e.kind, e.to.clone())],
            })
            .collect()
    }

    #[test]
    fn a_picture_within_the_limits_is_drawn_whole() {
        let p = star(10);
        let x = excerpt(&p, &seeds(&p), Limits::default(), draw);
        assert!(x.whole);
        assert_eq!(x.picture, p);
        assert!(x.left_out.is_empty());
    }

    #[test]
    fn a_large_picture_keeps_the_first_seeds_and_says_what_is_left_out() {
        let p = star(400);
        let limits = Limits {
            max_text: 100_000,
            max_edges: 50,
            per_unit: 6,
        };
        let x = excerpt(&p, &seeds(&p), limits, draw);
        assert!(!x.whole);
        assert_eq!(x.picture.edges.len(), 50);
        assert_eq!(x.drawn.len(), 50);
        assert_eq!(x.drawn[0], "u000.service");
        assert_eq!(x.left_out.len(), 350);
        assert_eq!(x.edges_left_out, 350);
        assert_eq!(x.nodes_left_out, 350);
        // The hub says how many of its edges are not drawn.
        let hub = x
            .picture
            .nodes
            .iter()
            .find(|n| n.name == "hub.target")
            .unwrap();
        assert_eq!(hub.notes, vec!["+350 more edges".to_string()]);
        // The text limit is honoured too.
        let limits = Limits {
            max_text: 1_000,
            max_edges: 1_000,
            per_unit: 6,
        };
        let x = excerpt(&p, &seeds(&p), limits, draw);
        assert!(draw(&x.picture).0.len() <= 1_000);
        assert!(!x.picture.edges.is_empty());
    }
}
