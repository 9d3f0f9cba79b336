//! The overview of a diff too large to draw whole: the top findings and their witnesses,
//! units grouped by the target that pulls them in at boot, unchanged neighbours collapsed
//! into summary nodes (`+ 23 units`), units whose files changed without a dependency change
//! left out (the text report lists them). Also the list of top findings that `--split` and
//! the HTML report draw one picture each for.

use super::picture::Key;
use super::picture::{
    PEdge, PNode, Picture, Status, changed_edges, is_written, unit_status_of, unit_statuses,
    unit_type,
};
use crate::diff::GraphDiff;
use crate::findings::{Checked, Finding, Level, RuleId};
use crate::graph::DepGraph;
use crate::query::{DiffAnswers, Hop};
use crate::unit::{DepKind, UnitType};
use std::collections::{BTreeMap, BTreeSet};

/// Above this many units a whole-diff picture is no longer readable at 100 % on one screen
/// width (docs/rendering.md), and svg/png draw the overview instead.
pub const READABLE_UNITS: usize = 60;

/// Witness members drawn per failure finding (the rest are in the text and JSON).
const WITNESS_MEMBERS: usize = 3;

/// Findings the overview draws with their witnesses (the rest are in the text report, and
/// `--split` draws one picture each).
pub const DRAWN_FINDINGS: usize = 12;

/// Most findings given a picture each (`--split`, the HTML report).
pub const TOP_FINDINGS: usize = 40;

/// One finding of the findings model worth its own picture.
#[derive(Clone, Debug)]
pub struct TopFinding<'a> {
    /// A short file-name-safe id (`01-new-hard-dependency-docker.service`).
    pub slug: String,
    pub checked: &'a Checked,
    /// The units to focus its picture on: the finding's units, then its witness's.
    pub units: Vec<String>,
}

impl TopFinding<'_> {
    pub fn finding(&self) -> &Finding {
        &self.checked.finding
    }

    /// One line: `error new-hard-dependency: docker.service now Requires …`.
    pub fn title(&self) -> String {
        let f = self.finding();
        format!("{} {}: {}", f.level, f.rule, f.message)
    }
}

fn slug(i: usize, rule: &str, unit: &str) -> String {
    let clean: String = unit
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{:02}-{rule}-{clean}", i + 1)
}

/// The units a finding's picture is focused on: its own, then its witness's, in order.
pub fn focus_units(f: &Finding) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let hops = f.witness.iter().flat_map(|h| [&h.from, &h.to]);
    for u in f.units.iter().chain(hops) {
        if !units.contains(u) {
            units.push(u.clone());
        }
    }
    units
}

/// The findings that get a picture each: the ranked findings of the check (most important
/// first, accepted ones included), at most `max`, leaving out those about no unit (policy
/// and baseline entries).
pub fn top_findings(findings: &[Checked], max: usize) -> Vec<TopFinding<'_>> {
    findings
        .iter()
        .filter(|c| !c.finding.units.is_empty())
        .take(max)
        .enumerate()
        .map(|(i, c)| TopFinding {
            slug: slug(i, c.finding.rule.as_str(), c.finding.unit()),
            checked: c,
            units: focus_units(&c.finding),
        })
        .collect()
}

/// The dependency edge a finding is about, when it is one.
fn finding_edge(f: &Finding) -> Option<Key> {
    let e = f.edge.as_ref()?;
    let kind = DepKind::ALL.into_iter().find(|k| k.as_str() == e.kind)?;
    Some((e.from.clone(), kind, e.to.clone()))
}

/// Whether the overview draws a finding with its witness: errors and warnings about a
/// dependency or with a witness. Boot-set findings are drawn as the boxes of the targets
/// that pull the units in; findings about a unit alone (removed, enablement, `[Install]`)
/// are in the text report.
fn drawn(f: &Finding) -> bool {
    f.level != Level::Info
        && !matches!(f.rule, RuleId::BootUnitAdded | RuleId::BootUnitDropped)
        && (finding_edge(f).is_some() || !f.witness.is_empty())
}

/// The nearest target above `unit` in a boot tree (`unit` itself when it is a target), or
/// None outside the tree. Memoised, so a whole tree costs one walk.
fn puller(
    tree: &BTreeMap<String, Option<Hop>>,
    unit: &str,
    memo: &mut BTreeMap<String, Option<String>>,
) -> Option<String> {
    let mut path = Vec::new();
    let mut cur = unit.to_string();
    let found = loop {
        if let Some(m) = memo.get(&cur) {
            break m.clone();
        }
        if is_target(&cur) {
            break Some(cur.clone());
        }
        match tree.get(&cur) {
            // A BFS tree has no loops; the bound is for safety only.
            Some(Some(h)) if path.len() <= tree.len() => {
                path.push(cur.clone());
                cur = h.from.clone();
            }
            _ => break None,
        }
    };
    for p in path {
        memo.insert(p, found.clone());
    }
    memo.insert(cur, found.clone());
    found
}

fn is_target(name: &str) -> bool {
    unit_type(name) == Some(UnitType::Target)
}

/// The stored edge behind a hop.
fn key_of(h: &Hop) -> Key {
    if h.inverse {
        (h.to.clone(), h.kind, h.from.clone())
    } else {
        (h.from.clone(), h.kind, h.to.clone())
    }
}

/// The overview and what it left out.
#[derive(Clone, Debug)]
pub struct Overview {
    pub picture: Picture,
    /// Units of the whole-diff picture.
    pub total_units: usize,
    /// Units whose files changed with no dependency change, not drawn.
    pub files_only: usize,
    /// Dependency changes not drawn (they are in the text report).
    pub edges_left_out: usize,
    /// Unchanged units summarised as `+ N units`.
    pub summarised: usize,
    /// Errors and warnings drawn with their witnesses.
    pub findings_drawn: usize,
    /// Errors and warnings (other than boot-set changes) not drawn.
    pub findings_left_out: usize,
}

impl Overview {
    /// The note for standard error.
    pub fn note(&self) -> String {
        format!(
            "this diff has {} units to draw, too many to read in one picture: drawing an \
             overview of its top {} findings and the boot-set changes ({} units). Left out: {} \
             more errors and warnings and {} dependency changes (in the text report), {} units \
             whose files changed without a dependency change, {} unchanged neighbours (shown \
             as \"+ N units\"). Draw everything with --all, one unit with --focus UNIT, or one \
             picture per finding with --split DIR.",
            self.total_units,
            self.findings_drawn,
            self.picture
                .nodes
                .iter()
                .filter(|n| n.summary.is_none())
                .count(),
            self.findings_left_out,
            self.edges_left_out,
            self.files_only,
            self.summarised
        )
    }
}

struct Builder<'a> {
    new: &'a DepGraph,
    old: &'a DepGraph,
    changed: BTreeMap<Key, (Status, bool)>,
    status: BTreeMap<String, (Status, Vec<String>)>,
    nodes: BTreeMap<String, (Status, Vec<String>)>,
    edges: BTreeMap<Key, (Status, bool)>,
    /// Units named by a finding (they get summaries of their neighbours).
    witnesses: BTreeSet<String>,
}

impl Builder<'_> {
    fn unit(&mut self, name: &str, extra: Option<&str>) {
        let e = self.nodes.entry(name.to_string()).or_insert_with(|| {
            unit_status_of(
                &self.status,
                name,
                self.new
                    .set
                    .units
                    .get(name)
                    .or_else(|| self.old.set.units.get(name)),
            )
        });
        if let Some(x) = extra
            && !e
                .1
                .iter()
                .any(|n| n == x || n.ends_with(&format!("-> {x}")))
        {
            e.1.push(x.to_string());
        }
    }

    fn hop(&mut self, h: &Hop) {
        self.unit(&h.from, None);
        self.unit(&h.to, None);
        let k = key_of(h);
        let st = self
            .changed
            .get(&k)
            .copied()
            .unwrap_or((Status::Unchanged, false));
        self.edges.insert(k, st);
    }

    fn witness(&mut self, h: &Hop) {
        self.hop(h);
        self.witnesses.insert(h.from.clone());
        self.witnesses.insert(h.to.clone());
    }
}

/// Build the overview of a diff from its ranked findings (`findings`, as the check made
/// them): the first [`DRAWN_FINDINGS`] errors and warnings about a dependency with their
/// witnesses, and the boot-set changes in the boxes of the targets that pull them in.
pub fn overview(
    d: &GraphDiff,
    old: &DepGraph,
    new: &DepGraph,
    a: &DiffAnswers,
    findings: &[Checked],
    total_units: usize,
) -> Overview {
    let mut b = Builder {
        new,
        old,
        changed: changed_edges(d),
        status: unit_statuses(d),
        nodes: BTreeMap::new(),
        edges: BTreeMap::new(),
        witnesses: BTreeSet::new(),
    };
    let candidates: Vec<&Finding> = findings
        .iter()
        .map(|c| &c.finding)
        .filter(|f| drawn(f))
        .collect();
    let findings_drawn = candidates.len().min(DRAWN_FINDINGS);
    for f in candidates.iter().take(DRAWN_FINDINGS) {
        if let Some((from, kind, to)) = finding_edge(f) {
            b.witness(&Hop {
                from,
                kind,
                to,
                inverse: false,
                provenance: Vec::new(),
            });
            // A dependency on a unit that is not there: say what it is.
            if matches!(
                f.rule,
                RuleId::HardDependencyOnMissing | RuleId::HardDependencyOnMasked
            ) && let Some(e) = &f.edge
            {
                let state = new
                    .set
                    .units
                    .get(e.to.as_str())
                    .map_or("not-found", |u| u.state.as_str());
                b.unit(&e.to, Some(state));
            }
        }
        // The witness: its first hop (the changed edge), then what stands behind it where
        // that changed too (the rest is unchanged context: the focused pictures show it).
        for (i, h) in f.witness.iter().enumerate() {
            let whole = i == 0 || f.rule == RuleId::NewOrderingCycle;
            if whole || (i <= WITNESS_MEMBERS && b.changed.contains_key(&key_of(h))) {
                b.witness(h);
            }
        }
    }
    let findings_left_out = findings
        .iter()
        .filter(|c| c.finding.level != Level::Info)
        .filter(|c| {
            !matches!(
                c.finding.rule,
                RuleId::BootUnitAdded | RuleId::BootUnitDropped
            )
        })
        .count()
        - findings_drawn;
    // Boot-set changes: each unit in the box of the target that pulls it in, with the hop
    // that pulls it in unless that is the target itself (the box says so).
    let (nb, _) = crate::query::boot_set(new, &a.boot_target);
    let (ob, _) = crate::query::boot_set(old, &a.boot_target);
    let (mut nmemo, mut omemo) = (BTreeMap::new(), BTreeMap::new());
    let mut group: BTreeMap<String, String> = BTreeMap::new();
    for (units, tree, memo, note) in [
        (&a.boot_added, &nb, &mut nmemo, "now at boot"),
        (&a.boot_removed, &ob, &mut omemo, "no longer at boot"),
    ] {
        for u in units {
            b.unit(u, Some(note));
            // A finding's units stay out of the boxes: the boxes then have no edges to the
            // rest and stack in one column, which keeps the picture one screen wide.
            if b.witnesses.contains(u) {
                continue;
            }
            if let Some(t) = puller(tree, u, memo) {
                group.insert(u.clone(), t.clone());
                if let Some(Some(h)) = tree.get(u)
                    && h.from != t
                {
                    b.hop(h);
                    if !b.witnesses.contains(&h.from) {
                        group.entry(h.from.clone()).or_insert_with(|| t.clone());
                    }
                }
            }
        }
    }
    // The dependency changes among the findings' units (not among the boxed units: a box
    // says who pulls them in, and their own orderings are in the text report).
    let drawn: BTreeSet<String> = b.nodes.keys().cloned().collect();
    for (k, st) in &b.changed {
        if b.witnesses.contains(&k.0) && b.witnesses.contains(&k.2) {
            b.edges.insert(k.clone(), *st);
        }
    }
    let edges_left_out = b
        .changed
        .keys()
        .filter(|k| !b.edges.contains_key(*k))
        .count();
    // Summaries: the unchanged neighbours of each witness, and the rest of each box.
    let mut summaries: Vec<(String, usize, Option<String>)> = Vec::new();
    let mut summarised = 0;
    for w in &b.witnesses {
        let mut hidden = BTreeSet::new();
        for g in [new, old] {
            for k in g.edges_from(w).into_iter().chain(g.edges_to(w)) {
                if !is_written(&g.edges[k]) {
                    continue;
                }
                let other = if k.0 == *w { &k.2 } else { &k.0 };
                if !drawn.contains(other.as_str()) {
                    hidden.insert(other.to_string());
                }
            }
        }
        if !hidden.is_empty() {
            summarised += hidden.len();
            summaries.push((w.clone(), hidden.len(), group.get(w).cloned()));
        }
    }
    let mut box_sizes: BTreeMap<String, usize> = BTreeMap::new();
    for u in nb.keys() {
        if !drawn.contains(u)
            && let Some(t) = puller(&nb, u, &mut nmemo)
        {
            *box_sizes.entry(t).or_default() += 1;
        }
    }
    let boxes: BTreeSet<String> = group.values().cloned().collect();
    let mut nodes: Vec<PNode> = b
        .nodes
        .into_iter()
        .map(|(name, (status, notes))| PNode {
            unit_type: unit_type(&name),
            group: group.get(&name).cloned(),
            name,
            status,
            notes,
            summary: None,
        })
        .collect();
    let mut edges: Vec<PEdge> = b
        .edges
        .into_iter()
        .map(|((from, kind, to), (status, upgrade))| PEdge {
            from,
            kind,
            to,
            status,
            upgrade,
        })
        .collect();
    for (i, (unit, count, grp)) in summaries.into_iter().enumerate() {
        let id = format!("summary:{i}");
        nodes.push(PNode {
            name: id.clone(),
            unit_type: None,
            status: Status::Unchanged,
            notes: Vec::new(),
            group: grp,
            summary: Some(count),
        });
        edges.push(PEdge {
            from: unit,
            kind: crate::unit::DepKind::Wants,
            to: id,
            status: Status::Unchanged,
            upgrade: false,
        });
    }
    for (i, t) in boxes.iter().enumerate() {
        if let Some(&count) = box_sizes.get(t) {
            summarised += count;
            nodes.push(PNode {
                name: format!("summary:box{i}"),
                unit_type: None,
                status: Status::Unchanged,
                notes: Vec::new(),
                group: Some(t.clone()),
                summary: Some(count),
            });
        }
    }
    let files_only = d
        .units_changed
        .iter()
        .filter(|c| !drawn.contains(&c.name))
        .count();
    Overview {
        picture: Picture {
            nodes,
            edges,
            cut: None,
        },
        total_units,
        files_only,
        edges_left_out,
        summarised,
        findings_drawn,
        findings_left_out,
    }
}
