//! JSON reports: `unitdiff.graph.v1` and `unitdiff.diff.v1`. The wire structs live here,
//! apart from the core types, so the schema only changes on purpose (docs/json.md).

use crate::diff::{FileChangeKind, GraphDiff, InstallChange};
use crate::graph::{DepGraph, EdgeKey};
use crate::unit::{Layer, LoadState, Origin, Provenance, Sym, Unit};
use serde::Serialize;
use std::collections::BTreeMap;

mod pretty;
mod tree;

use pretty::put;
pub use pretty::to_vec as pretty_bytes;
pub use tree::SortedTree;

pub const GRAPH_SCHEMA: &str = "unitdiff.graph.v1";
pub const DIFF_SCHEMA: &str = "unitdiff.diff.v1";
pub const CHECK_SCHEMA: &str = "unitdiff.check.v1";

#[derive(Serialize)]
struct Source<'a> {
    line: Option<u32>,
    path: &'a str,
}

// The wire structs' fields are in the order of their JSON names: the whole documents are
// `Value`s (objects with sorted keys), and the streamed writers serialise these structs
// directly, which must give the same bytes.
#[derive(Serialize)]
struct Also<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    generator: Option<&'static str>,
    how: &'static str,
    layer: Option<Layer>,
    origin: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'static str>,
    source: Option<Source<'a>>,
}

/// `E`: one edge with its (first) provenance; further provenances under `also`.
#[derive(Serialize)]
struct WireEdge<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also: Vec<Also<'a>>,
    /// In a diff: `files` or `systemd-upgrade`.
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<crate::diff::Cause>,
    from: &'a str,
    /// The generator that wrote the unit or link (`source` is then its input file).
    #[serde(skip_serializing_if = "Option::is_none")]
    generator: Option<&'static str>,
    how: &'static str,
    kind: &'static str,
    layer: Option<Layer>,
    origin: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'static str>,
    source: Option<Source<'a>>,
    to: &'a str,
    /// With `cause: systemd-upgrade`: the two systemd versions whose rules differ here.
    #[serde(skip_serializing_if = "Option::is_none")]
    upgrade: Option<WireUpgrade>,
    /// What the rule means, for edges a rule made.
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'static str>,
}

#[derive(Serialize)]
struct WireUpgrade {
    new: String,
    old: String,
}

fn source(p: &Provenance) -> Option<Source<'_>> {
    p.path.as_ref().map(|path| Source {
        path: path.as_str(),
        line: p.line,
    })
}

fn also(p: &Provenance) -> Also<'_> {
    Also {
        origin: p.origin,
        how: p.how.as_str(),
        source: source(p),
        layer: p.layer,
        rule: p.rule.map(|r| r.as_str()),
        generator: p.generator.map(|g| g.as_str()),
    }
}

fn wire_edge<'a>(
    from: &'a str,
    kind: crate::unit::DepKind,
    to: &'a str,
    provs: impl IntoIterator<Item = &'a Provenance>,
) -> WireEdge<'a> {
    let mut provs = provs.into_iter();
    let first = provs.next().expect("an edge has a provenance");
    WireEdge {
        from,
        kind: kind.as_str(),
        to,
        origin: first.origin,
        how: first.how.as_str(),
        source: source(first),
        layer: first.layer,
        rule: first.rule.map(|r| r.as_str()),
        generator: first.generator.map(|g| g.as_str()),
        why: first.rule.map(|r| r.description()),
        cause: None,
        upgrade: None,
        also: provs.map(also).collect(),
    }
}

#[derive(Serialize)]
struct WireUnit<'a> {
    aliases: Vec<&'a str>,
    dropins: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enablement: Option<WireEnablement<'a>>,
    fragment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fragment_target: Option<&'a str>,
    install: BTreeMap<&'a str, Vec<&'a str>>,
    layer: Option<Layer>,
    name: &'a str,
    state: LoadState,
    #[serde(rename = "type")]
    unit_type: &'static str,
}

#[derive(Serialize)]
struct WireEnablement<'a> {
    preset: Option<WirePreset<'a>>,
    preset_enabled_but_not_linked: bool,
    state: &'static str,
}

/// [`crate::unit::enablement::Preset`] on the wire.
#[derive(Serialize)]
struct WirePreset<'a> {
    action: &'a str,
    line: Option<u32>,
    path: Option<&'a str>,
}

fn wire_unit<'a>(u: &'a Unit, g: &'a DepGraph) -> WireUnit<'a> {
    let mut install: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &u.install {
        install
            .entry(s.key.as_str())
            .or_default()
            .extend(s.value.split_whitespace());
    }
    WireUnit {
        name: &u.id,
        unit_type: u.unit_type.as_str(),
        state: u.state,
        fragment: u.fragment.as_ref().map(|f| f.path.as_str()),
        fragment_target: u
            .fragment
            .as_ref()
            .and_then(|f| f.target.as_ref())
            .map(|t| t.as_str()),
        layer: u.fragment.as_ref().map(|f| f.layer),
        dropins: u.dropins.iter().map(|d| d.path.as_str()).collect(),
        aliases: u.aliases.iter().map(Sym::as_str).collect(),
        install,
        enablement: g.set.enablement.get(&u.id).map(|e| WireEnablement {
            state: e.state.as_str(),
            preset: e.preset.as_ref().map(|p| WirePreset {
                action: p.action.as_str(),
                line: p.line,
                path: p.path.as_ref().map(|x| x.as_str()),
            }),
            preset_enabled_but_not_linked: e.preset_enabled_but_not_linked(),
        }),
    }
}

#[derive(Serialize)]
struct WireSearchDir<'a> {
    path: &'a str,
    physical: &'a str,
    layer: Layer,
}

#[derive(Serialize)]
struct WireGraph<'a> {
    schema: &'static str,
    root: &'a str,
    /// `system` or `user`: whose units (the system manager's, or a user manager's).
    scope: crate::unit::Scope,
    systemd: String,
    systemd_source: &'a str,
    search_path: Vec<WireSearchDir<'a>>,
    units: Vec<WireUnit<'a>>,
    templates: Vec<WireUnit<'a>>,
    edges: Vec<WireEdge<'a>>,
    warnings: Vec<String>,
    /// The generators emulated and not emulated; absent with `--no-generators`.
    #[serde(skip_serializing_if = "Option::is_none")]
    generators: Option<&'a crate::unit::generators::Report>,
    /// Layered images: the layers files came from (docs/json.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<WireInput<'a>>,
}

/// The image layers behind the files of a layered image.
#[derive(Serialize)]
struct WireInput<'a> {
    /// Every layer some unit file, drop-in or link came from, by index.
    layers: Vec<&'a crate::tree::mem::ImageLayer>,
    /// In-image path → layer index.
    files: BTreeMap<&'a str, usize>,
}

fn wire_input(g: &DepGraph) -> Option<WireInput<'_>> {
    if g.image_layers.is_empty() {
        return None;
    }
    let mut layers: Vec<_> = g.image_layers.values().collect();
    layers.sort();
    layers.dedup();
    Some(WireInput {
        layers,
        files: g
            .image_layers
            .iter()
            .map(|(p, l)| (p.as_str(), l.index))
            .collect(),
    })
}

fn edges_of<'a>(
    edges: impl Iterator<Item = (&'a EdgeKey, &'a crate::graph::Provenances)>,
) -> impl Iterator<Item = WireEdge<'a>> {
    edges.map(|(k, p)| wire_edge(&k.0, k.1, &k.2, p))
}

/// The `unitdiff.graph.v1` document without its units, templates and edges (empty lists).
fn graph_head(g: &DepGraph) -> WireGraph<'_> {
    WireGraph {
        schema: GRAPH_SCHEMA,
        root: &g.root,
        scope: g.set.scope,
        systemd: g.set.rules.to_string(),
        systemd_source: &g.rules_how,
        search_path: g
            .set
            .search_dirs
            .iter()
            .map(|d| WireSearchDir {
                path: d.declared.as_str(),
                physical: d.physical.as_str(),
                layer: d.layer,
            })
            .collect(),
        units: Vec::new(),
        templates: Vec::new(),
        edges: Vec::new(),
        warnings: g.set.warnings.iter().map(|w| w.to_string()).collect(),
        generators: g.generators.as_ref(),
        input: wire_input(g),
    }
}

/// The `unitdiff.graph.v1` document for one image.
pub fn graph(g: &DepGraph) -> serde_json::Value {
    let mut doc = graph_head(g);
    doc.units = g.set.units.values().map(|u| wire_unit(u, g)).collect();
    doc.templates = g.set.templates.values().map(|u| wire_unit(u, g)).collect();
    doc.edges = edges_of(g.edges.iter()).collect();
    serde_json::to_value(doc).expect("serialisable")
}

/// [`graph`], written pretty-printed and made safe for a terminal (as
/// `escape::json(to_string_pretty(graph(g)))` followed by a newline, byte for byte), one
/// unit or edge at a time: the document of a 100k-unit image (~500 MB of text, several GB
/// as a `Value`) is never whole in memory, and no unit or edge becomes a `Value`.
pub fn write_graph(g: &DepGraph, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let head = serde_json::to_value(graph_head(g)).expect("serialisable");
    let serde_json::Value::Object(top) = head else {
        unreachable!("a struct serialises as an object")
    };
    write_streamed(
        w,
        &top,
        &mut [
            ("units", &mut |l: &mut List| {
                g.set
                    .units
                    .values()
                    .try_for_each(|u| l.item(&wire_unit(u, g)))
            }),
            ("templates", &mut |l: &mut List| {
                g.set
                    .templates
                    .values()
                    .try_for_each(|u| l.item(&wire_unit(u, g)))
            }),
            ("edges", &mut |l: &mut List| {
                edges_of(g.edges.iter()).try_for_each(|e| l.item(&e))
            }),
        ],
    )?;
    w.write_all(b"\n")
}

/// The items of one streamed list, written one at a time by [`write_streamed`].
struct List<'w> {
    w: &'w mut dyn std::io::Write,
    first: bool,
}

impl List<'_> {
    fn item<T: Serialize>(&mut self, v: &T) -> std::io::Result<()> {
        self.w
            .write_all(if self.first { b"[\n    " } else { b",\n    " })?;
        self.first = false;
        put(self.w, v, 2)
    }
}

/// A list written by its closure, item by item ([`List::item`]).
type Streamed<'a> = (&'a str, &'a mut dyn FnMut(&mut List) -> std::io::Result<()>);

/// Write the object `top` as `serde_json::to_string_pretty` would (then `escape::json`),
/// except that each key of `streamed` (an empty list in `top`) gets the items its closure
/// writes, each serialised on its own.
fn write_streamed(
    w: &mut dyn std::io::Write,
    top: &serde_json::Map<String, serde_json::Value>,
    streamed: &mut [Streamed],
) -> std::io::Result<()> {
    if top.is_empty() {
        return w.write_all(b"{}");
    }
    w.write_all(b"{\n")?;
    for (i, (k, v)) in top.iter().enumerate() {
        if i > 0 {
            w.write_all(b",\n")?;
        }
        w.write_all(b"  ")?;
        put(w, k.as_str(), 0)?;
        w.write_all(b": ")?;
        match streamed.iter_mut().find(|(name, _)| name == k) {
            Some((_, items)) => {
                let mut list = List {
                    w: &mut *w,
                    first: true,
                };
                items(&mut list)?;
                let first = list.first;
                w.write_all(if first { b"[]" } else { b"\n  ]" })?;
            }
            None => put(w, v, 1)?,
        }
    }
    w.write_all(b"\n}")
}

#[derive(Serialize)]
struct Side<'a> {
    root: &'a str,
    systemd: String,
    systemd_source: &'a str,
    /// The generators emulated and not emulated on this side (absent with
    /// `--no-generators`).
    #[serde(skip_serializing_if = "Option::is_none")]
    generators: Option<&'a crate::unit::generators::Report>,
}

#[derive(Serialize)]
struct WireInstall<'a> {
    unit: &'a str,
    key: &'a str,
    value: &'a str,
    source: Source<'a>,
    layer: Layer,
    /// The live edge this becomes once the unit is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    when_enabled: Option<WireKey>,
}

#[derive(Serialize)]
struct WireKey {
    from: String,
    kind: &'static str,
    to: String,
}

fn wire_install(i: &InstallChange) -> WireInstall<'_> {
    WireInstall {
        unit: &i.unit,
        key: &i.key,
        value: &i.value,
        source: Source {
            path: i.path.as_str(),
            line: Some(i.line),
        },
        layer: i.layer,
        when_enabled: i.edge_when_enabled().map(|(from, kind, to)| WireKey {
            from,
            kind: kind.as_str(),
            to,
        }),
    }
}

#[derive(Serialize)]
struct WireFile<'a> {
    path: &'a str,
    change: FileChangeKind,
    layer: Layer,
}

#[derive(Serialize)]
struct WireSetting<'a> {
    section: &'a str,
    key: &'a str,
    removed: &'a [String],
    added: &'a [String],
}

#[derive(Serialize)]
struct WireState {
    old: LoadState,
    new: LoadState,
}

#[derive(Serialize)]
struct WireChanged<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<WireState>,
    files: Vec<WireFile<'a>>,
    settings: Vec<WireSetting<'a>>,
    aliases_added: &'a [String],
    aliases_removed: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    enablement: Option<WireState2>,
}

#[derive(Serialize)]
struct WireState2 {
    old: &'static str,
    new: &'static str,
}

#[derive(Serialize)]
struct WireUnits<'a> {
    added: Vec<&'a str>,
    removed: Vec<&'a str>,
    /// Of `added`/`removed`, those only the systemd upgrade's rules bring or drop.
    added_by_systemd_upgrade: Vec<&'a str>,
    removed_by_systemd_upgrade: Vec<&'a str>,
    changed: Vec<WireChanged<'a>>,
}

#[derive(Serialize)]
struct WireMove<'a> {
    from: &'a str,
    kind: &'static str,
    to: &'a str,
    old: Vec<Also<'a>>,
    new: Vec<Also<'a>>,
}

#[derive(Serialize)]
struct WireEdges<'a> {
    added: Vec<WireEdge<'a>>,
    removed: Vec<WireEdge<'a>>,
    moved: Vec<WireMove<'a>>,
}

#[derive(Serialize)]
struct WireInstallChanges<'a> {
    added: Vec<WireInstall<'a>>,
    removed: Vec<WireInstall<'a>>,
}

#[derive(Serialize)]
struct WireDiff<'a> {
    schema: &'static str,
    /// `system` or `user`: whose units both sides are (the system manager's, or a user
    /// manager's).
    scope: crate::unit::Scope,
    old: Side<'a>,
    new: Side<'a>,
    units: WireUnits<'a>,
    edges: WireEdges<'a>,
    install: WireInstallChanges<'a>,
}

fn change_edge<'a>(d: &GraphDiff, e: &'a crate::diff::EdgeChange) -> WireEdge<'a> {
    let mut w = wire_edge(&e.from, e.kind, &e.to, &e.provenance);
    w.cause = Some(e.cause);
    if e.cause == crate::diff::Cause::SystemdUpgrade {
        w.upgrade = Some(WireUpgrade {
            old: d.old_rules.to_string(),
            new: d.new_rules.to_string(),
        });
    }
    w
}

/// The `unitdiff.diff.v1` document.
pub fn diff(d: &GraphDiff, old: &DepGraph, new: &DepGraph) -> serde_json::Value {
    let doc = WireDiff {
        schema: DIFF_SCHEMA,
        scope: d.scope,
        old: Side {
            root: &d.old_root,
            systemd: old.set.rules.to_string(),
            systemd_source: &old.rules_how,
            generators: old.generators.as_ref(),
        },
        new: Side {
            root: &d.new_root,
            systemd: new.set.rules.to_string(),
            systemd_source: &new.rules_how,
            generators: new.generators.as_ref(),
        },
        units: WireUnits {
            added: d.units_added.iter().map(|u| u.name.as_str()).collect(),
            removed: d.units_removed.iter().map(|u| u.name.as_str()).collect(),
            added_by_systemd_upgrade: d
                .units_added
                .iter()
                .filter(|u| u.cause == crate::diff::Cause::SystemdUpgrade)
                .map(|u| u.name.as_str())
                .collect(),
            removed_by_systemd_upgrade: d
                .units_removed
                .iter()
                .filter(|u| u.cause == crate::diff::Cause::SystemdUpgrade)
                .map(|u| u.name.as_str())
                .collect(),
            changed: d
                .units_changed
                .iter()
                .map(|c| WireChanged {
                    name: &c.name,
                    state: c.state.map(|s| WireState {
                        old: s.old,
                        new: s.new,
                    }),
                    files: c
                        .files
                        .iter()
                        .map(|f| WireFile {
                            path: f.path.as_str(),
                            change: f.change,
                            layer: f.layer,
                        })
                        .collect(),
                    settings: c
                        .settings
                        .iter()
                        .map(|s| WireSetting {
                            section: &s.section,
                            key: &s.key,
                            removed: &s.removed,
                            added: &s.added,
                        })
                        .collect(),
                    aliases_added: &c.aliases_added,
                    aliases_removed: &c.aliases_removed,
                    enablement: c.enablement.map(|e| WireState2 {
                        old: e.old.as_str(),
                        new: e.new.as_str(),
                    }),
                })
                .collect(),
        },
        edges: WireEdges {
            added: d.edges_added.iter().map(|e| change_edge(d, e)).collect(),
            removed: d.edges_removed.iter().map(|e| change_edge(d, e)).collect(),
            moved: d
                .edges_moved
                .iter()
                .map(|m| WireMove {
                    from: &m.from,
                    kind: m.kind.as_str(),
                    to: &m.to,
                    old: m.old.iter().map(also).collect(),
                    new: m.new.iter().map(also).collect(),
                })
                .collect(),
        },
        install: WireInstallChanges {
            added: d.install_added.iter().map(wire_install).collect(),
            removed: d.install_removed.iter().map(wire_install).collect(),
        },
    };
    serde_json::to_value(doc).expect("serialisable")
}

/// The `findings` array of a `unitdiff.diff.v1` document (ranked; no policy, so every
/// finding's status is `new`).
pub fn findings(r: &crate::findings::CheckResult) -> serde_json::Value {
    serde_json::to_value(&r.findings).expect("serialisable")
}

/// The `unitdiff.check.v1` document: the verdict, the counts and every finding with its
/// status.
pub fn check(r: &crate::findings::CheckResult) -> serde_json::Value {
    #[derive(Serialize)]
    struct WireCheck<'a> {
        schema: &'static str,
        #[serde(flatten)]
        result: &'a crate::findings::CheckResult,
    }
    serde_json::to_value(WireCheck {
        schema: CHECK_SCHEMA,
        result: r,
    })
    .expect("serialisable")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The whole document as a `Value`, printed as the other JSON reports are.
    fn whole(g: &crate::graph::DepGraph) -> Vec<u8> {
        let s = serde_json::to_string_pretty(&super::graph(g)).unwrap();
        let mut b = crate::report::escape::json(&s).into_owned().into_bytes();
        b.push(b'\n');
        b
    }

    fn streamed(g: &crate::graph::DepGraph) -> Vec<u8> {
        let mut b = Vec::new();
        super::write_graph(g, &mut b).unwrap();
        b
    }

    #[test]
    fn the_streamed_graph_is_the_whole_document_byte_for_byte() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/coreos-1010");
        let g = crate::open(&root, None).unwrap();
        assert!(!g.edges.is_empty());
        assert_eq!(
            String::from_utf8(streamed(&g)),
            String::from_utf8(whole(&g))
        );
    }

    #[test]
    fn the_streamed_graph_escapes_what_the_whole_document_escapes() {
        // Drop-in paths (the unit's list and the edges' sources) with DEL, a C1 control, a
        // bidi override and a C0 control: serde_json escapes the last, escape::json the
        // others. (A unit name with them is not a unit name: systemd ignores it.)
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, content: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        };
        let odd = "x\u{7f}\u{9b}\u{202e}\u{1b}y";
        write(
            "usr/lib/systemd/system/a.service",
            "[Unit]\nWants=b.service\n[Install]\nWantedBy=multi-user.target\n",
        );
        write(
            &format!("etc/systemd/system/a.service.d/10-{odd}.conf"),
            "[Unit]\nAfter=b.service\n",
        );
        write(
            "usr/lib/systemd/system/b.service",
            "[Unit]\nRequires=z.service\n",
        );
        let g = crate::open(dir.path(), None).unwrap();
        let (s, w) = (streamed(&g), whole(&g));
        let w_text = String::from_utf8_lossy(&w);
        for esc in ["\\u007f", "\\u009b", "\\u202e", "\\u001b"] {
            assert!(w_text.contains(esc), "{esc} not in the document");
        }
        assert_eq!(String::from_utf8(s), String::from_utf8(w));
    }
}
