//! Graphviz DOT for a [`Picture`], built with graphviz-rust's model.
//!
//! Encoding (systemd's own `dot` uses red for Conflicts and green for After, so colour does
//! not mean added/removed here): change status by line style and weight with a
//! colour-blind-safe (Okabe–Ito) palette — added: bold solid blue; removed: dashed orange;
//! moved: dotted purple; unchanged: thin grey. The dependency kind is the edge label and its
//! arrowhead; the node shape says the unit type; changed units say how under their name.
//! Every picture carries a legend. graphviz-rust's printer escapes nothing, so [`quote`]
//! does (unit names contain `\x2d`).

use super::picture::{PEdge, PNode, Picture, Status};
use crate::unit::{DepKind, UnitType};
use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Subgraph, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

pub const ADDED: &str = "#0072B2";
pub const REMOVED: &str = "#E69F00";
pub const MOVED: &str = "#CC79A7";
pub const UNCHANGED: &str = "#999999";

/// A DOT quoted string with `\` and `"` escaped, line breaks as `\n` and other control
/// characters shown as text ([`super::escape::dot`]).
pub fn quote(s: &str) -> Id {
    Id::Escaped(format!("\"{}\"", super::escape::dot(s, true)))
}

fn attr(k: &str, v: &str) -> Attribute {
    Attribute(Id::Plain(k.to_string()), quote(v))
}

fn shape(t: Option<UnitType>) -> (&'static str, &'static str) {
    match t {
        Some(UnitType::Service) => ("box", "rounded"),
        Some(UnitType::Socket) => ("hexagon", ""),
        Some(UnitType::Target) => ("ellipse", ""),
        Some(UnitType::Timer) => ("note", ""),
        Some(UnitType::Path) => ("parallelogram", ""),
        Some(UnitType::Mount) | Some(UnitType::Automount) => ("folder", ""),
        Some(UnitType::Swap) | Some(UnitType::Device) => ("cylinder", ""),
        Some(UnitType::Slice) => ("component", ""),
        Some(UnitType::Scope) => ("octagon", ""),
        None => ("box", ""),
    }
}

fn arrowhead(k: DepKind) -> &'static str {
    match k {
        DepKind::Wants | DepKind::Upholds => "empty",
        DepKind::BindsTo => "diamond",
        DepKind::PartOf => "odiamond",
        DepKind::Conflicts => "tee",
        DepKind::Before | DepKind::After => "vee",
        DepKind::OnFailure | DepKind::OnSuccess => "dot",
        DepKind::InSlice => "odot",
        DepKind::Triggers | DepKind::TriggeredBy => "box",
        _ => "normal",
    }
}

fn node(n: &PNode) -> Stmt {
    let (shape, base_style) = shape(n.unit_type);
    let mut label = n.name.clone();
    for note in &n.notes {
        label.push_str(&format!("\n({note})"));
    }
    let (color, fill, style, pen) = match n.status {
        Status::Added => (ADDED, "#DCEBF7", "filled,bold", "2.5"),
        Status::Removed => (REMOVED, "#FCEFD6", "filled,dashed", "2"),
        Status::Changed => (MOVED, "#F5E3EE", "filled,bold", "2"),
        Status::Unchanged => (UNCHANGED, "#FFFFFF", "filled", "1"),
    };
    let style = if base_style.is_empty() {
        style.to_string()
    } else {
        format!("{base_style},{style}")
    };
    Stmt::Node(Node::new(
        NodeId(quote(&n.name), None),
        vec![
            attr("label", &label),
            attr("shape", shape),
            attr("style", &style),
            attr("color", color),
            attr("fillcolor", fill),
            attr("penwidth", pen),
        ],
    ))
}

fn edge_style(status: Status) -> (&'static str, &'static str, &'static str) {
    match status {
        Status::Added => (ADDED, "bold", "2.5"),
        Status::Removed => (REMOVED, "dashed", "2"),
        Status::Changed => (MOVED, "dotted", "2"),
        Status::Unchanged => (UNCHANGED, "solid", "1"),
    }
}

fn edge(from: &str, to: &str, label: &str, kind: DepKind, status: Status) -> Stmt {
    let (color, style, pen) = edge_style(status);
    Stmt::Edge(Edge {
        ty: EdgeTy::Pair(
            Vertex::N(NodeId(quote(from), None)),
            Vertex::N(NodeId(quote(to), None)),
        ),
        attributes: vec![
            attr("label", label),
            attr("color", color),
            attr(
                "fontcolor",
                if status == Status::Unchanged {
                    "#666666"
                } else {
                    color
                },
            ),
            attr("style", style),
            attr("penwidth", pen),
            attr("arrowhead", arrowhead(kind)),
        ],
    })
}

fn pedge(e: &PEdge) -> Stmt {
    let mut label = e.kind.as_str().to_string();
    match e.status {
        Status::Added => label = format!("+ {label}"),
        Status::Removed => label = format!("- {label}"),
        Status::Changed => label = format!("~ {label}"),
        Status::Unchanged => {}
    }
    if e.upgrade {
        label.push_str("\n(systemd upgrade)");
    }
    edge(&e.from, &e.to, &label, e.kind, e.status)
}

fn legend() -> Stmt {
    let mut stmts = vec![
        Stmt::Attribute(attr("label", "Legend")),
        Stmt::Attribute(attr("fontsize", "12")),
        Stmt::Attribute(attr("color", "#BBBBBB")),
    ];
    let n = |id: &str, label: &str, status: Status, shape: Option<UnitType>| {
        node(&PNode {
            name: id.to_string(),
            unit_type: shape,
            status,
            notes: Vec::new(),
            group: None,
            summary: None,
        })
        .relabel(label)
    };
    for (id, label, status, t) in [
        (
            "legend:added",
            "added unit",
            Status::Added,
            UnitType::Service,
        ),
        (
            "legend:removed",
            "removed unit",
            Status::Removed,
            UnitType::Service,
        ),
        (
            "legend:changed",
            "changed unit",
            Status::Changed,
            UnitType::Service,
        ),
        ("legend:a", "service", Status::Unchanged, UnitType::Service),
        ("legend:b", "target", Status::Unchanged, UnitType::Target),
        ("legend:c", "socket", Status::Unchanged, UnitType::Socket),
    ] {
        stmts.push(n(id, label, status, Some(t)));
    }
    stmts.push(edge(
        "legend:a",
        "legend:b",
        "+ added edge (kind)",
        DepKind::Requires,
        Status::Added,
    ));
    stmts.push(edge(
        "legend:a",
        "legend:c",
        "- removed edge",
        DepKind::Wants,
        Status::Removed,
    ));
    stmts.push(edge(
        "legend:b",
        "legend:c",
        "unchanged",
        DepKind::After,
        Status::Unchanged,
    ));
    Stmt::Subgraph(Subgraph {
        id: Id::Plain("cluster_legend".to_string()),
        stmts,
    })
}

trait Relabel {
    fn relabel(self, label: &str) -> Stmt;
}

impl Relabel for Stmt {
    fn relabel(self, label: &str) -> Stmt {
        match self {
            Stmt::Node(mut n) => {
                n.attributes.retain(|a| a.0 != Id::Plain("label".into()));
                n.attributes.insert(0, attr("label", label));
                Stmt::Node(n)
            }
            s => s,
        }
    }
}

/// Graph, node and edge defaults every picture shares (left to right, DejaVu Sans), with
/// the title when there is one.
fn header(title: Option<&str>) -> Vec<Stmt> {
    let mut graph = vec![attr("rankdir", "LR")];
    if let Some(t) = title {
        graph.extend([attr("label", t), attr("labelloc", "t")]);
    }
    graph.push(attr("fontname", "DejaVu Sans"));
    vec![
        Stmt::GAttribute(GraphAttributes::Graph(graph)),
        Stmt::GAttribute(GraphAttributes::Node(vec![
            attr("fontname", "DejaVu Sans"),
            attr("fontsize", "11"),
        ])),
        Stmt::GAttribute(GraphAttributes::Edge(vec![
            attr("fontname", "DejaVu Sans"),
            attr("fontsize", "9"),
        ])),
    ]
}

/// A summary node: `+ 23 units`, grey and dashed.
fn summary_node(n: &PNode, count: usize) -> Stmt {
    let label = if count == 1 {
        "+ 1 unit".to_string()
    } else {
        format!("+ {count} units")
    };
    Stmt::Node(Node::new(
        NodeId(quote(&n.name), None),
        vec![
            attr("label", &label),
            attr("shape", "box"),
            attr("style", "rounded,dashed"),
            attr("color", UNCHANGED),
            attr("fontcolor", "#666666"),
        ],
    ))
}

/// The line from a unit to the summary of its neighbours not drawn.
fn summary_edge(e: &PEdge) -> Stmt {
    Stmt::Edge(Edge {
        ty: EdgeTy::Pair(
            Vertex::N(NodeId(quote(&e.from), None)),
            Vertex::N(NodeId(quote(&e.to), None)),
        ),
        attributes: vec![
            attr("color", UNCHANGED),
            attr("style", "dotted"),
            attr("arrowhead", "none"),
        ],
    })
}

fn any_node(n: &PNode) -> Stmt {
    match n.summary {
        Some(count) => summary_node(n, count),
        None => node(n),
    }
}

/// The DOT graph of a picture: ungrouped units, then one framed cluster per group, then
/// the legend.
pub fn graph(p: &Picture, title: &str) -> Graph {
    graph_with(p, title, true)
}

/// The picture without its legend (for a page that shows [`legend_graph`] once).
pub fn graph_without_legend(p: &Picture, title: &str) -> Graph {
    graph_with(p, title, false)
}

/// The legend alone, as a picture of its own.
pub fn legend_graph() -> Graph {
    let mut stmts = header(None);
    stmts.push(legend());
    Graph::DiGraph {
        id: quote("unitdiff-legend"),
        strict: false,
        stmts,
    }
}

fn graph_with(p: &Picture, title: &str, with_legend: bool) -> Graph {
    use std::collections::{BTreeMap, BTreeSet};
    let mut stmts = header(Some(title));
    // Boxes first, then the other units: Graphviz stacks disconnected parts of a
    // left-to-right picture bottom-up in input order, so the units of the findings (and the
    // legend, last) come out on top.
    let mut groups: BTreeMap<&str, Vec<&PNode>> = BTreeMap::new();
    let mut loose = Vec::new();
    for n in &p.nodes {
        match &n.group {
            Some(g) => groups.entry(g).or_default().push(n),
            None => loose.push(any_node(n)),
        }
    }
    for (i, (g, members)) in groups.into_iter().enumerate() {
        let mut sub = vec![
            Stmt::Attribute(attr("label", g)),
            Stmt::Attribute(attr("color", "#BBBBBB")),
            Stmt::Attribute(attr("style", "rounded")),
            Stmt::Attribute(attr("fontcolor", "#444444")),
        ];
        sub.extend(members.into_iter().map(any_node));
        stmts.push(Stmt::Subgraph(Subgraph {
            id: Id::Plain(format!("cluster_g{i}")),
            stmts: sub,
        }));
    }
    stmts.extend(loose);
    let summaries: BTreeSet<&str> = p
        .nodes
        .iter()
        .filter(|n| n.summary.is_some())
        .map(|n| n.name.as_str())
        .collect();
    stmts.extend(p.edges.iter().map(|e| {
        if summaries.contains(e.from.as_str()) || summaries.contains(e.to.as_str()) {
            summary_edge(e)
        } else {
            pedge(e)
        }
    }));
    if with_legend {
        stmts.push(legend());
    }
    Graph::DiGraph {
        id: quote("unitdiff"),
        strict: false,
        stmts,
    }
}

/// DOT text, newline-terminated.
pub fn print(g: &Graph) -> String {
    let mut s = g.print(&mut PrinterContext::default());
    s.push('\n');
    s
}

/// The parent → child pairs of a dependency tree, with the kind of each.
fn tree_edges(
    n: &crate::query::TreeNode,
    out: &mut std::collections::BTreeSet<(String, String, String)>,
) {
    // An explicit stack: trees are as deep as an image's chains.
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        for c in &n.children {
            let kind = c.via.as_ref().map(|h| h.kind.as_str()).unwrap_or("");
            out.insert((n.unit.clone(), kind.to_string(), c.unit.clone()));
            if !c.repeated {
                stack.push(c);
            }
        }
    }
}

/// OLD's and NEW's dependency trees side by side (two clusters), branches only NEW has
/// drawn as added, branches only OLD had as removed.
pub fn deps_graph(
    old: &crate::query::TreeNode,
    new: &crate::query::TreeNode,
    titles: (&str, &str),
) -> Graph {
    use std::collections::BTreeSet;
    let (mut oe, mut ne) = (BTreeSet::new(), BTreeSet::new());
    tree_edges(old, &mut oe);
    tree_edges(new, &mut ne);
    let mut stmts = header(None);
    for (side, edges, other, title, status) in [
        ("old", &oe, &ne, titles.0, Status::Removed),
        ("new", &ne, &oe, titles.1, Status::Added),
    ] {
        let mut sub = vec![
            Stmt::Attribute(attr("label", title)),
            Stmt::Attribute(attr("color", "#BBBBBB")),
        ];
        let mut units: BTreeSet<&str> = BTreeSet::from([if side == "old" {
            old.unit.as_str()
        } else {
            new.unit.as_str()
        }]);
        let other_units: BTreeSet<&str> = other
            .iter()
            .flat_map(|e| [e.0.as_str(), e.2.as_str()])
            .collect();
        for e in edges.iter() {
            units.insert(&e.0);
            units.insert(&e.2);
        }
        for u in &units {
            let st = if other_units.contains(u) || *u == old.unit {
                Status::Unchanged
            } else {
                status
            };
            let id = format!("{side}:{u}");
            sub.push(
                node(&PNode {
                    name: id,
                    unit_type: crate::unit::UnitName::parse(u).map(|n| n.unit_type),
                    status: st,
                    notes: Vec::new(),
                    group: None,
                    summary: None,
                })
                .relabel(u),
            );
        }
        for (from, kind, to) in edges.iter() {
            let st = if other.contains(&(from.clone(), kind.clone(), to.clone())) {
                Status::Unchanged
            } else {
                status
            };
            let k = crate::unit::DepKind::from_name(kind).unwrap_or(crate::unit::DepKind::Requires);
            let label = match st {
                Status::Added => format!("+ {kind}"),
                Status::Removed => format!("- {kind}"),
                _ => kind.clone(),
            };
            sub.push(edge(
                &format!("{side}:{from}"),
                &format!("{side}:{to}"),
                &label,
                k,
                st,
            ));
        }
        stmts.push(Stmt::Subgraph(Subgraph {
            id: Id::Plain(format!("cluster_{side}")),
            stmts: sub,
        }));
    }
    stmts.push(legend());
    Graph::DiGraph {
        id: quote("unitdiff-deps"),
        strict: false,
        stmts,
    }
}
