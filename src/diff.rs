//! The difference between two dependency graphs, keyed by unit names (never by graph
//! indices). Every report format reads this one model.

use crate::graph::{DepGraph, EdgeKey, Provenances};
use crate::tree::ImagePath;
use crate::unit::deps::is_dependency_setting;
use crate::unit::enablement::EnablementState;
use crate::unit::paths::physical;
use crate::unit::{Content, DepKind, Layer, LoadState, Provenance, SearchDir, Setting, Sym, Unit};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// Why something changed: the image's files, or the rules of a different systemd version
/// applied to the same files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    Files,
    SystemdUpgrade,
}

/// An edge present on one side only; provenances point into that side's image.
#[derive(Clone, Debug, Serialize)]
pub struct EdgeChange {
    pub from: String,
    pub kind: DepKind,
    pub to: String,
    pub provenance: Vec<Provenance>,
    pub cause: Cause,
}

/// An edge present on both sides whose provenance moved (other file, link or rule).
#[derive(Clone, Debug, Serialize)]
pub struct EdgeMove {
    pub from: String,
    pub kind: DepKind,
    pub to: String,
    pub old: Vec<Provenance>,
    pub new: Vec<Provenance>,
}

/// One `[Install]` entry (one word of a `WantedBy=` and so on) present on one side only.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct InstallChange {
    pub unit: String,
    pub key: String,
    pub value: String,
    pub path: ImagePath,
    pub line: u32,
    pub layer: Layer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileChangeKind {
    Added,
    Removed,
    Modified,
}

/// A unit file or drop-in that differs.
#[derive(Clone, Debug, Serialize)]
pub struct FileChange {
    pub path: ImagePath,
    pub change: FileChangeKind,
    /// The file's layer on the side where it exists (new side for modified files).
    pub layer: Layer,
}

/// A non-dependency setting whose values differ.
#[derive(Clone, Debug, Serialize)]
pub struct SettingChange {
    pub section: String,
    pub key: String,
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

/// A unit present on both sides that changed.
#[derive(Clone, Debug, Serialize)]
pub struct UnitChange {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<StateChange>,
    pub files: Vec<FileChange>,
    pub settings: Vec<SettingChange>,
    pub aliases_added: Vec<String>,
    pub aliases_removed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enablement: Option<EnablementChange>,
}

/// `systemctl is-enabled` before and after.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EnablementChange {
    pub old: EnablementState,
    pub new: EnablementState,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct StateChange {
    pub old: LoadState,
    pub new: LoadState,
}

/// Units present on one side only (with their state there).
#[derive(Clone, Debug, Serialize)]
pub struct UnitPresence {
    pub name: String,
    pub state: LoadState,
    pub template: bool,
    pub cause: Cause,
}

/// Everything that differs between two graphs.
#[derive(Clone, Debug, Serialize)]
pub struct GraphDiff {
    pub old_root: String,
    pub new_root: String,
    pub old_rules: crate::unit::Rules,
    pub new_rules: crate::unit::Rules,
    /// Whose units both sides are (the system manager's or a user manager's).
    pub scope: crate::unit::Scope,
    pub units_added: Vec<UnitPresence>,
    pub units_removed: Vec<UnitPresence>,
    pub units_changed: Vec<UnitChange>,
    pub edges_added: Vec<EdgeChange>,
    pub edges_removed: Vec<EdgeChange>,
    pub edges_moved: Vec<EdgeMove>,
    pub install_added: Vec<InstallChange>,
    pub install_removed: Vec<InstallChange>,
}

impl InstallChange {
    /// The live edge this entry becomes when the unit is enabled (`WantedBy=X` →
    /// `X Wants unit`), if it is one.
    pub fn edge_when_enabled(&self) -> Option<(String, DepKind, String)> {
        let kind = match self.key.as_str() {
            "WantedBy" => DepKind::Wants,
            "RequiredBy" => DepKind::Requires,
            "UpheldBy" => DepKind::Upholds,
            _ => return None,
        };
        Some((self.value.clone(), kind, self.unit.clone()))
    }
}

impl GraphDiff {
    /// Whether anything about dependencies changed: edges, `[Install]`, units appearing or
    /// disappearing, load states, or aliases (`default.target` pointing elsewhere) — this
    /// decides the exit status.
    pub fn has_dependency_changes(&self) -> bool {
        !(self.edges_added.is_empty()
            && self.edges_removed.is_empty()
            && self.edges_moved.is_empty()
            && self.install_added.is_empty()
            && self.install_removed.is_empty()
            && self.units_added.is_empty()
            && self.units_removed.is_empty()
            && self.units_changed.iter().all(|u| {
                u.state.is_none() && u.aliases_added.is_empty() && u.aliases_removed.is_empty()
            }))
    }

    pub fn is_empty(&self) -> bool {
        !self.has_dependency_changes() && self.units_changed.is_empty()
    }
}

/// Where an edge comes from, ignoring line numbers (a line shifting inside the same file is
/// not a move).
fn location(
    p: &Provenance,
) -> (
    crate::unit::Origin,
    crate::unit::How,
    Option<&ImagePath>,
    Option<crate::unit::rule_name::RuleName>,
) {
    (p.origin, p.how, p.path.as_ref(), p.rule)
}

/// All units of a graph, templates included, by name.
fn all_units(g: &DepGraph) -> BTreeMap<&str, (&Unit, bool)> {
    let mut m: BTreeMap<&str, (&Unit, bool)> = g
        .set
        .units
        .iter()
        .map(|(k, u)| (k.as_str(), (u, false)))
        .collect();
    m.extend(g.set.templates.iter().map(|(k, u)| (k.as_str(), (u, true))));
    m
}

/// A unit's files by where they are (`paths::physical`: Debian 12's
/// `/lib/systemd/system/x` is Debian 13's `/usr/lib/systemd/system/x`), each with the path
/// its release names it by.
type FilesOf<'a> = BTreeMap<Cow<'a, ImagePath>, (&'a ImagePath, Option<&'a Content>, Layer)>;

fn files_of<'a>(u: &'a Unit, dirs: &[SearchDir]) -> FilesOf<'a> {
    let mut m = BTreeMap::new();
    for f in u.fragment.iter().chain(u.dropins.iter()) {
        m.insert(
            physical(dirs, &f.path),
            (&f.path, f.content.as_ref(), f.layer),
        );
    }
    m
}

fn settings_by_key(u: &Unit) -> BTreeMap<(&str, &str), Vec<&str>> {
    let mut m: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for s in &u.settings {
        if is_dependency_setting(&s.section, &s.key) {
            continue;
        }
        m.entry((s.section.as_str(), s.key.as_str()))
            .or_default()
            .push(s.value.as_str());
    }
    m
}

/// Values of `a` not matched one-for-one in `b`, in order.
fn multiset_minus<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<String> {
    let mut rest: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for v in b {
        *rest.entry(v).or_default() += 1;
    }
    let mut out = Vec::new();
    for v in a {
        match rest.get_mut(v) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(v.to_string()),
        }
    }
    out
}

fn unit_change(
    name: &str,
    old: &Unit,
    new: &Unit,
    enablement: Option<EnablementChange>,
    dirs: (&[SearchDir], &[SearchDir]),
) -> Option<UnitChange> {
    let state = (old.state != new.state).then_some(StateChange {
        old: old.state,
        new: new.state,
    });
    let (of, nf) = (files_of(old, dirs.0), files_of(new, dirs.1));
    let mut files = Vec::new();
    for (key, (path, content, layer)) in &nf {
        match of.get(key) {
            None => files.push(FileChange {
                path: (*path).clone(),
                change: FileChangeKind::Added,
                layer: *layer,
            }),
            Some((_, oc, _)) if oc != content => files.push(FileChange {
                path: (*path).clone(),
                change: FileChangeKind::Modified,
                layer: *layer,
            }),
            Some(_) => {}
        }
    }
    for (key, (path, _, layer)) in &of {
        if !nf.contains_key(key) {
            files.push(FileChange {
                path: (*path).clone(),
                change: FileChangeKind::Removed,
                layer: *layer,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let (os, ns) = (settings_by_key(old), settings_by_key(new));
    let keys: BTreeSet<&(&str, &str)> = os.keys().chain(ns.keys()).collect();
    let mut settings = Vec::new();
    for k in keys {
        let (a, b) = (
            os.get(k).cloned().unwrap_or_default(),
            ns.get(k).cloned().unwrap_or_default(),
        );
        if a != b {
            settings.push(SettingChange {
                section: k.0.to_string(),
                key: k.1.to_string(),
                removed: multiset_minus(&a, &b),
                added: multiset_minus(&b, &a),
            });
        }
    }
    let aliases_added: Vec<String> = new
        .aliases
        .difference(&old.aliases)
        .map(Sym::to_string)
        .collect();
    let aliases_removed: Vec<String> = old
        .aliases
        .difference(&new.aliases)
        .map(Sym::to_string)
        .collect();
    if state.is_none()
        && enablement.is_none()
        && files.is_empty()
        && settings.is_empty()
        && aliases_added.is_empty()
        && aliases_removed.is_empty()
    {
        return None;
    }
    Some(UnitChange {
        name: name.to_string(),
        state,
        files,
        settings,
        aliases_added,
        aliases_removed,
        enablement,
    })
}

/// An `[Install]` entry: (unit, key, one word of the value), with the setting it is in.
type InstallEntry<'g> = ((&'g str, &'g str, &'g str), &'g Setting);

/// Every `[Install]` entry of a graph, one per (unit, key, word), sorted by it; an entry
/// written twice keeps its first setting. Borrowed from the graph (an entry is made into an
/// [`InstallChange`] only when it changed), so the pass holds no copy of a side's names.
fn install_entries(g: &DepGraph) -> Vec<InstallEntry<'_>> {
    let mut v: Vec<InstallEntry<'_>> = Vec::new();
    for (name, (u, _)) in all_units(g) {
        for s in &u.install {
            for word in s.value.split_whitespace() {
                v.push(((name, s.key.as_str(), word), s));
            }
        }
    }
    // Stable: of equal keys, the first written stays first and `dedup` keeps it.
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.dedup_by(|later, first| later.0 == first.0);
    v
}

/// The entries of `a` whose key `b` does not have (both sorted by key): one merged pass.
fn install_only_in(a: &[InstallEntry<'_>], b: &[InstallEntry<'_>]) -> Vec<InstallChange> {
    let mut rest = b.iter().map(|e| e.0).peekable();
    a.iter()
        .filter(|(k, _)| {
            while rest.next_if(|o| o < k).is_some() {}
            rest.peek() != Some(k)
        })
        .map(|&((unit, key, value), s)| InstallChange {
            unit: unit.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            path: s.path.clone(),
            line: s.line,
            layer: s.layer,
        })
        .collect()
}

fn edge_change(key: &EdgeKey, provs: &Provenances, cause: Cause) -> EdgeChange {
    EdgeChange {
        from: key.0.to_string(),
        kind: key.1,
        to: key.2.to_string(),
        provenance: provs.to_vec(),
        cause,
    }
}

/// Compare two graphs. When the two sides were loaded with different systemd versions,
/// `new_as_old` is NEW's files loaded with OLD's rules: what differs between it and NEW is
/// the systemd upgrade's doing, the rest the files'.
pub fn diff(old: &DepGraph, new: &DepGraph, new_as_old: Option<&DepGraph>) -> GraphDiff {
    let (ou, nu) = (all_units(old), all_units(new));
    let dirs = (&old.set.search_dirs[..], &new.set.search_dirs[..]);
    let nao_units = new_as_old.map(all_units);
    // Present in NEW but not in OLD: the upgrade's if NEW's files under OLD's rules lack it.
    let added_cause = |present_with_old_rules: bool| match new_as_old {
        Some(_) if !present_with_old_rules => Cause::SystemdUpgrade,
        _ => Cause::Files,
    };
    // Present in OLD but not in NEW: the upgrade's if NEW's files under OLD's rules have it.
    let removed_cause = |present_with_old_rules: bool| match new_as_old {
        Some(_) if present_with_old_rules => Cause::SystemdUpgrade,
        _ => Cause::Files,
    };
    let in_nao_units = |k: &str| nao_units.as_ref().is_some_and(|m| m.contains_key(k));
    let presence = |name: &str, (u, t): (&Unit, bool), cause| UnitPresence {
        name: name.to_string(),
        state: u.state,
        template: t,
        cause,
    };
    let in_nao_edges = |k: &EdgeKey| new_as_old.is_some_and(|g| g.edges.contains_key(k));
    // The units, the edges and the [Install] entries are compared independently: the edges
    // on a second core while this one compares the units.
    let unit_part = || {
        let units_added: Vec<UnitPresence> = nu
            .iter()
            .filter(|(k, _)| !ou.contains_key(*k))
            .map(|(k, v)| presence(k, *v, added_cause(in_nao_units(k))))
            .collect();
        let units_removed = ou
            .iter()
            .filter(|(k, _)| !nu.contains_key(*k))
            .map(|(k, v)| presence(k, *v, removed_cause(in_nao_units(k))))
            .collect();
        let units_changed = nu
            .iter()
            .filter_map(|(k, (n, _))| {
                let en = match (old.set.enablement.get(*k), new.set.enablement.get(*k)) {
                    (Some(a), Some(b)) if a.state != b.state => Some(EnablementChange {
                        old: a.state,
                        new: b.state,
                    }),
                    _ => None,
                };
                ou.get(k).and_then(|(o, _)| unit_change(k, o, n, en, dirs))
            })
            .collect();
        (units_added, units_removed, units_changed)
    };

    let edge_part = || {
        // Both maps are sorted by key: one merged pass, no lookup per key.
        let mut edges_added = Vec::new();
        let mut edges_moved = Vec::new();
        let mut edges_removed = Vec::new();
        let (mut oit, mut nit) = (old.edges.iter().peekable(), new.edges.iter().peekable());
        loop {
            let order = match (oit.peek(), nit.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((ok, _)), Some((nk, _))) => ok.cmp(nk),
            };
            match order {
                std::cmp::Ordering::Less => {
                    let (k, p) = oit.next().expect("peeked");
                    edges_removed.push(edge_change(k, p, removed_cause(in_nao_edges(k))));
                }
                std::cmp::Ordering::Greater => {
                    let (key, provs) = nit.next().expect("peeked");
                    edges_added.push(edge_change(key, provs, added_cause(in_nao_edges(key))));
                }
                std::cmp::Ordering::Equal => {
                    let ((key, oprovs), (_, provs)) =
                        (oit.next().expect("peeked"), nit.next().expect("peeked"));
                    let same = if oprovs.len() == 1 && provs.len() == 1 {
                        location(&oprovs[0]) == location(&provs[0])
                    } else {
                        let a: BTreeSet<_> = oprovs.iter().map(location).collect();
                        let b: BTreeSet<_> = provs.iter().map(location).collect();
                        a == b
                    };
                    // Named differently, the same files (`/lib/systemd/system/x` in Debian 12,
                    // `/usr/lib/systemd/system/x` in 13): not moved.
                    let same = same || {
                        let at = |p: &Provenance, dirs| {
                            let path = p.path.as_ref().map(|x| physical(dirs, x).into_owned());
                            (p.origin, p.how, path, p.rule)
                        };
                        let a: BTreeSet<_> = oprovs.iter().map(|p| at(p, dirs.0)).collect();
                        let b: BTreeSet<_> = provs.iter().map(|p| at(p, dirs.1)).collect();
                        a == b
                    };
                    if !same {
                        edges_moved.push(EdgeMove {
                            from: key.0.to_string(),
                            kind: key.1,
                            to: key.2.to_string(),
                            old: oprovs.to_vec(),
                            new: provs.to_vec(),
                        });
                    }
                }
            }
        }

        (edges_added, edges_moved, edges_removed)
    };
    let install_part = || {
        let (oi, ni) = (install_entries(old), install_entries(new));
        let install_added = install_only_in(&ni, &oi);
        let install_removed = install_only_in(&oi, &ni);

        (install_added, install_removed)
    };
    let (
        (edges_added, edges_moved, edges_removed),
        (units_added, units_removed, units_changed),
        (install_added, install_removed),
    ) = std::thread::scope(|s| {
        let edges = s.spawn(edge_part);
        let units = unit_part();
        let install = install_part();
        (edges.join().expect("diff thread"), units, install)
    });
    GraphDiff {
        old_root: old.root.clone(),
        new_root: new.root.clone(),
        old_rules: old.set.rules,
        new_rules: new.set.rules,
        scope: new.set.scope,
        units_added,
        units_removed,
        units_changed,
        edges_added,
        edges_removed,
        edges_moved,
        install_added,
        install_removed,
    }
}
