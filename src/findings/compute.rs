//! Findings from a diff and its answers: one pass over each list of the
//! [`GraphDiff`] and the [`DiffAnswers`], so the cost is linear in the diff's size (plus
//! one look-up per finding into the graphs for condition notes and fragment layers).

use super::rules::RuleId;
use super::{Finding, FindingEdge, Side, Site, fingerprint, rank};
use crate::diff::{Cause, EdgeChange, FileChangeKind, GraphDiff};
use crate::graph::DepGraph;
use crate::query::{DiffAnswers, Hop};
use crate::unit::{DepKind, Layer, LoadState, Provenance, Unit};
use std::collections::{BTreeMap, BTreeSet};

fn is_local_override(l: Option<Layer>) -> bool {
    matches!(l, Some(Layer::Admin | Layer::Runtime))
}

/// The first provenance that comes from /etc or /run, if any.
fn admin_prov(provs: &[Provenance]) -> Option<&Provenance> {
    provs.iter().find(|p| is_local_override(p.layer))
}

fn is_ordering(k: DepKind) -> bool {
    matches!(k, DepKind::After | DepKind::Before)
}

/// A unit that only starts under a condition most boots fail: `ConditionFirstBoot=yes`,
/// `ConditionNeedsUpdate=` (not negated), `ConditionSecurity=measured-uki`. An empty
/// assignment resets the conditions before it, as in systemd.
fn condition_note(u: &Unit) -> Option<String> {
    let mut found: BTreeMap<&str, &str> = BTreeMap::new();
    for s in u.settings.iter().filter(|s| s.section == "Unit") {
        let key = s.key.as_str();
        if !matches!(
            key,
            "ConditionFirstBoot" | "ConditionNeedsUpdate" | "ConditionSecurity"
        ) {
            continue;
        }
        let v = s.value.trim();
        if v.is_empty() {
            found.remove(key);
            continue;
        }
        // `|` (triggering) still requires the condition on most boots when alone.
        let v = v.trim_start_matches('|');
        let rare = match key {
            "ConditionFirstBoot" => matches!(v, "yes" | "true" | "1" | "on"),
            "ConditionNeedsUpdate" => !v.starts_with('!'),
            _ => v == "measured-uki",
        };
        if rare {
            found.insert(key, s.value.as_str());
        }
    }
    if found.is_empty() {
        return None;
    }
    let list: Vec<String> = found.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Some(format!(
        "starts only under {}, which most boots do not meet",
        list.join(", ")
    ))
}

fn unit_of<'a>(g: &'a DepGraph, name: &str) -> Option<&'a Unit> {
    g.set.units.get(name).or_else(|| g.set.templates.get(name))
}

/// For a mount unit: `tmpfs on /tmp` from its settings (the last What=/Type=/Where=).
fn mount_detail(u: &Unit) -> Option<String> {
    let last = |key: &str| {
        u.settings
            .iter()
            .rev()
            .find(|s| s.section == "Mount" && s.key == key)
            .map(|s| s.value.as_str())
    };
    let what = last("Type").or(last("What"))?;
    let place = last("Where")
        .map(|w| format!(" on {w}"))
        .unwrap_or_default();
    Some(format!("{what}{place}"))
}

struct Builder<'a> {
    old: &'a DepGraph,
    new: &'a DepGraph,
    a: &'a DiffAnswers,
    out: Vec<Finding>,
    conditions: BTreeMap<String, Option<String>>,
}

struct Draft {
    rule: RuleId,
    units: Vec<String>,
    edge: Option<FindingEdge>,
    old: Option<Site>,
    new: Option<Site>,
    cause: Cause,
    message: String,
    witness: Vec<Hop>,
    impact: usize,
    /// Fingerprint parts after rule and unit: kind and target.
    key: (String, String),
}

impl Draft {
    fn new(rule: RuleId, unit: &str, message: String) -> Draft {
        Draft {
            rule,
            units: vec![unit.to_string()],
            edge: None,
            old: None,
            new: None,
            cause: Cause::Files,
            message,
            witness: Vec::new(),
            impact: 0,
            key: (String::new(), String::new()),
        }
    }

    fn edge(mut self, from: &str, kind: &str, to: &str) -> Draft {
        self.edge = Some(FindingEdge {
            from: from.to_string(),
            kind: kind.to_string(),
            to: to.to_string(),
        });
        if to != from && !self.units.iter().any(|u| u == to) {
            self.units.push(to.to_string());
        }
        self.key = (kind.to_string(), to.to_string());
        self
    }

    fn key(mut self, kind: &str, target: &str) -> Draft {
        self.key = (kind.to_string(), target.to_string());
        self
    }

    fn cause(mut self, c: Cause) -> Draft {
        self.cause = c;
        self
    }

    fn old_site(mut self, s: Option<Site>) -> Draft {
        self.old = s;
        self
    }

    fn new_site(mut self, s: Option<Site>) -> Draft {
        self.new = s;
        self
    }
}

impl Builder<'_> {
    fn push(&mut self, d: Draft) {
        let unit = d.units[0].clone();
        let condition = match self.conditions.get(&unit) {
            Some(c) => c.clone(),
            None => {
                let c = unit_of(self.new, &unit)
                    .or_else(|| unit_of(self.old, &unit))
                    .and_then(condition_note);
                self.conditions.insert(unit.clone(), c.clone());
                c
            }
        };
        let in_boot = self.a.boot_new.contains(&unit) || self.a.boot_old.contains(&unit);
        self.out.push(Finding {
            rule: d.rule,
            level: d.rule.info().level,
            fingerprint: fingerprint(d.rule, &unit, &d.key.0, &d.key.1),
            units: d.units,
            edge: d.edge,
            kind: d.key.0,
            target: d.key.1,
            old: d.old,
            new: d.new,
            cause: d.cause,
            message: d.message,
            witness: d.witness,
            condition,
            in_boot,
            impact: d.impact,
        });
    }
}

fn edge_verb(added: bool) -> &'static str {
    if added { "added" } else { "removed" }
}

/// Compute every finding of a diff, ranked (see [`super::rank`]), with default levels.
pub fn compute(d: &GraphDiff, a: &DiffAnswers, old: &DepGraph, new: &DepGraph) -> Vec<Finding> {
    let mut b = Builder {
        old,
        new,
        a,
        out: Vec::new(),
        conditions: BTreeMap::new(),
    };
    let witnesses: BTreeMap<(&str, DepKind, &str), &crate::query::FailureWitness> = a
        .failure_witnesses
        .iter()
        .map(|w| {
            // PropagatesStopTo witnesses are stored as inverse hops; key by the edge.
            let (f, t) = if w.edge.inverse {
                (w.edge.to.as_str(), w.edge.from.as_str())
            } else {
                (w.edge.from.as_str(), w.edge.to.as_str())
            };
            ((f, w.edge.kind, t), w)
        })
        .collect();
    let growth: BTreeMap<&str, &crate::query::FailureSetChange> = a
        .failure_set_changes
        .iter()
        .map(|c| (c.unit.as_str(), c))
        .collect();
    // Units with an edge-level admin override (no file-level one is added for them).
    let mut admin_units: BTreeSet<String> = BTreeSet::new();
    // What a unit's new hard dependencies explain of its failure-set growth.
    let mut explained: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    // Per target: the first added edge that pulls it in (where a boot-unit-added comes from).
    let mut pulled_by: BTreeMap<&str, &EdgeChange> = BTreeMap::new();

    for (added, e) in d
        .edges_added
        .iter()
        .map(|e| (true, e))
        .chain(d.edges_removed.iter().map(|e| (false, e)))
    {
        // Edges of units that appear or disappear come and go with them (unit-added,
        // unit-removed).
        let (this, other) = if added { (old, new) } else { (new, old) };
        if !this.set.units.contains_key(e.from.as_str())
            || !other.set.units.contains_key(e.from.as_str())
        {
            continue;
        }
        let kind = e.kind.as_str();
        let side = if added { Side::New } else { Side::Old };
        let site = e.provenance.first().map(|p| Site::of(side, p));
        let place = |dr: Draft| {
            if added {
                dr.new_site(site.clone())
            } else {
                dr.old_site(site.clone())
            }
        };
        if added && e.kind.pulls_in() {
            pulled_by.entry(e.to.as_str()).or_insert(e);
        }
        let verb = edge_verb(added);
        // systemd's own slice membership (Requires= on the unit's slice) cannot fail in
        // practice: slices always load and start. Reported, but as a weak change.
        let slice_rule = e.to.ends_with(".slice")
            && e.provenance.iter().all(|p| p.how == crate::unit::How::Rule);
        let hard = e.kind.is_hard() && !slice_rule;
        let draft = if hard && added {
            let w = witnesses.get(&(e.from.as_str(), e.kind, e.to.as_str()));
            // Of what the target needs, what is new for the source.
            let fresh: Vec<&str> = growth
                .get(e.from.as_str())
                .map(|c| {
                    c.added
                        .keys()
                        .map(String::as_str)
                        .filter(|k| *k != e.to && w.is_some_and(|w| w.through.contains_key(*k)))
                        .collect()
                })
                .unwrap_or_default();
            let needs = match fresh.len() {
                0 => String::new(),
                n => format!(" (or one of the {n} more unit(s) it needs)"),
            };
            let mut dr = Draft::new(
                RuleId::NewHardDependency,
                &e.from,
                format!(
                    "{} now {kind} {}: if {}{needs} fails, {} does not start",
                    e.from, e.to, e.to, e.from
                ),
            );
            if let Some(w) = w {
                dr.witness = vec![w.edge.clone()];
            }
            let set = explained.entry(e.from.as_str()).or_default();
            set.insert(e.to.as_str());
            set.extend(fresh.iter().copied());
            dr.impact = fresh.len() + 1;
            dr
        } else if hard {
            if !new.set.units.contains_key(e.to.as_str()) {
                continue; // the target's removal is its own finding
            }
            Draft::new(
                RuleId::HardDependencyRemoved,
                &e.from,
                format!(
                    "{} no longer {kind} {}: it may start without it",
                    e.from, e.to
                ),
            )
        } else if is_ordering(e.kind) {
            Draft::new(
                RuleId::OrderingChanged,
                &e.from,
                format!("{} {kind} {} {verb}", e.from, e.to),
            )
        } else {
            Draft::new(
                RuleId::WeakDependencyChanged,
                &e.from,
                format!("{} {kind} {} {verb}", e.from, e.to),
            )
        };
        b.push(place(draft.edge(&e.from, kind, &e.to).cause(e.cause)));
        if let Some(p) = admin_prov(&e.provenance) {
            admin_units.insert(e.from.clone());
            let site = Some(Site::of(side, p));
            let dr = Draft::new(
                RuleId::AdminOverride,
                &e.from,
                format!(
                    "{} {kind} {} {verb} by {} ({})",
                    e.from,
                    e.to,
                    p.path.as_ref().map(|p| p.as_str()).unwrap_or("?"),
                    p.layer.map(|l| l.as_str()).unwrap_or("?")
                ),
            )
            .edge(&e.from, kind, &e.to)
            .cause(e.cause);
            b.push(if added {
                dr.new_site(site)
            } else {
                dr.old_site(site)
            });
        }
    }

    for m in &d.edges_moved {
        let kind = m.kind.as_str();
        let (os, ns) = (
            m.old.first().map(|p| Site::of(Side::Old, p)),
            m.new.first().map(|p| Site::of(Side::New, p)),
        );
        let label = |s: &Option<Site>| s.as_ref().map(Site::label).unwrap_or_default();
        b.push(
            Draft::new(
                RuleId::ProvenanceMoved,
                &m.from,
                format!(
                    "{} {kind} {} now comes from {} (was {})",
                    m.from,
                    m.to,
                    label(&ns),
                    label(&os)
                ),
            )
            .edge(&m.from, kind, &m.to)
            .old_site(os.clone())
            .new_site(ns.clone()),
        );
        let (oa, na) = (admin_prov(&m.old), admin_prov(&m.new));
        if oa.is_some() != na.is_some() {
            admin_units.insert(m.from.clone());
            let what = if na.is_some() {
                "now set by a local override"
            } else {
                "no longer set by a local override"
            };
            b.push(
                Draft::new(
                    RuleId::AdminOverride,
                    &m.from,
                    format!("{} {kind} {} {what}", m.from, m.to),
                )
                .edge(&m.from, kind, &m.to)
                .old_site(oa.map(|p| Site::of(Side::Old, p)).or(os))
                .new_site(na.map(|p| Site::of(Side::New, p)).or(ns)),
            );
        }
    }

    for (added, i) in d
        .install_added
        .iter()
        .map(|i| (true, i))
        .chain(d.install_removed.iter().map(|i| (false, i)))
    {
        let side = if added { Side::New } else { Side::Old };
        let site = Some(Site {
            side,
            path: Some(i.path.to_string()),
            line: Some(i.line),
            layer: Some(i.layer),
            rule: None,
        });
        let verb = edge_verb(added);
        let when = i
            .edge_when_enabled()
            .map(|(f, k, t)| format!(" (when enabled: {f} {k} {t})"))
            .unwrap_or_default();
        let mk = |rule, msg: String| {
            let dr = Draft::new(rule, &i.unit, msg).key(&i.key, &i.value);
            if added {
                dr.new_site(site.clone())
            } else {
                dr.old_site(site.clone())
            }
        };
        b.push(mk(
            RuleId::InstallChanged,
            format!("{} [Install] {}={} {verb}{when}", i.unit, i.key, i.value),
        ));
        if is_local_override(Some(i.layer)) {
            admin_units.insert(i.unit.clone());
            b.push(mk(
                RuleId::AdminOverride,
                format!(
                    "{} [Install] {}={} {verb} by {} ({})",
                    i.unit, i.key, i.value, i.path, i.layer
                ),
            ));
        }
    }

    for (added, u) in d
        .units_added
        .iter()
        .map(|u| (true, u))
        .chain(d.units_removed.iter().map(|u| (false, u)))
    {
        // A name only referred to (not-found) is not a unit someone shipped.
        if u.state == LoadState::NotFound {
            continue;
        }
        let g = if added { new } else { old };
        let side = if added { Side::New } else { Side::Old };
        let frag = unit_of(g, &u.name).and_then(|x| x.fragment.as_ref());
        let site = frag.map(|f| Site {
            side,
            path: Some(f.path.to_string()),
            line: None,
            layer: Some(f.layer),
            rule: None,
        });
        let t = if u.template { " (template)" } else { "" };
        let (rule, msg) = if added {
            (RuleId::UnitAdded, format!("{}{t} added", u.name))
        } else {
            (RuleId::UnitRemoved, format!("{}{t} removed", u.name))
        };
        let dr = Draft::new(rule, &u.name, msg).cause(u.cause);
        b.push(if added {
            dr.new_site(site.clone())
        } else {
            dr.old_site(site.clone())
        });
        if let Some(f) = frag.filter(|f| is_local_override(Some(f.layer))) {
            admin_units.insert(u.name.clone());
            let verb = edge_verb(added);
            let dr = Draft::new(
                RuleId::AdminOverride,
                &u.name,
                format!("{} {verb} by {} ({})", u.name, f.path, f.layer),
            )
            .key("unit", verb);
            b.push(if added {
                dr.new_site(site)
            } else {
                dr.old_site(site)
            });
        }
    }

    for c in &d.units_changed {
        if let Some(s) = c.state
            && s.old == LoadState::Loaded
        {
            b.push(
                Draft::new(
                    RuleId::UnitLoadDegraded,
                    &c.name,
                    format!(
                        "{} no longer loads: {} -> {}",
                        c.name,
                        s.old.as_str(),
                        s.new.as_str()
                    ),
                )
                .key("state", s.new.as_str()),
            );
        }
        if let Some(e) = c.enablement {
            b.push(
                Draft::new(
                    RuleId::EnablementChanged,
                    &c.name,
                    format!(
                        "{} enablement {} -> {}",
                        c.name,
                        e.old.as_str(),
                        e.new.as_str()
                    ),
                )
                .key("enablement", ""),
            );
        }
        for (added, alias) in c
            .aliases_added
            .iter()
            .map(|x| (true, x))
            .chain(c.aliases_removed.iter().map(|x| (false, x)))
        {
            b.push(
                Draft::new(
                    RuleId::AliasChanged,
                    &c.name,
                    format!("{} alias {alias} {}", c.name, edge_verb(added)),
                )
                .key("alias", alias),
            );
        }
        for s in &c.settings {
            let kind = format!("[{}] {}", s.section, s.key);
            b.push(
                Draft::new(
                    RuleId::SettingChanged,
                    &c.name,
                    format!(
                        "{} {kind} changed (-{} +{} values)",
                        c.name,
                        s.removed.len(),
                        s.added.len()
                    ),
                )
                .key(&kind, ""),
            );
        }
        if !admin_units.contains(&c.name)
            && let Some(f) = c.files.iter().find(|f| is_local_override(Some(f.layer)))
        {
            let n = c
                .files
                .iter()
                .filter(|f| is_local_override(Some(f.layer)))
                .count();
            let verb = match f.change {
                FileChangeKind::Added => "added",
                FileChangeKind::Removed => "removed",
                FileChangeKind::Modified => "modified",
            };
            let more = if n > 1 {
                format!(" and {} more local file(s)", n - 1)
            } else {
                String::new()
            };
            let side = if f.change == FileChangeKind::Removed {
                Side::Old
            } else {
                Side::New
            };
            let site = Some(Site {
                side,
                path: Some(f.path.to_string()),
                line: None,
                layer: Some(f.layer),
                rule: None,
            });
            let dr = Draft::new(
                RuleId::AdminOverride,
                &c.name,
                format!("{}: {} {verb} ({}){more}", c.name, f.path, f.layer.as_str()),
            )
            .key("files", "");
            b.push(if side == Side::Old {
                dr.old_site(site)
            } else {
                dr.new_site(site)
            });
        }
    }

    for c in &a.new_cycles {
        let units: Vec<String> = c.units().into_iter().collect();
        let chain: Vec<&str> = c
            .hops
            .iter()
            .map(|h| h.from.as_str())
            .chain(c.hops.first().map(|h| h.from.as_str()))
            .collect();
        let mut dr = Draft::new(
            RuleId::NewOrderingCycle,
            &units[0],
            format!("ordering cycle at boot: {}", chain.join(" after ")),
        )
        .key("cycle", &units.join(" "))
        .new_site(
            c.hops
                .iter()
                .find_map(|h| h.provenance.first())
                .map(|p| Site::of(Side::New, p)),
        );
        dr.units = units;
        dr.witness = c.hops.clone();
        b.push(dr);
    }

    for u in &a.boot_removed {
        let detail = unit_of(old, u).and_then(mount_detail);
        let what = detail.map(|d| format!(" ({d})")).unwrap_or_default();
        b.push(Draft::new(
            RuleId::BootUnitDropped,
            u,
            format!("{u}{what} is no longer started by {}", a.boot_target),
        ));
    }
    for u in &a.boot_added {
        let detail = unit_of(new, u).and_then(mount_detail);
        let what = detail.map(|d| format!(" ({d})")).unwrap_or_default();
        let mut dr = Draft::new(
            RuleId::BootUnitAdded,
            u,
            format!("{u}{what} is now started by {}", a.boot_target),
        );
        if let Some(e) = pulled_by.get(u.as_str()) {
            dr = dr.new_site(e.provenance.first().map(|p| Site::of(Side::New, p)));
            dr.witness = vec![Hop {
                from: e.from.clone(),
                kind: e.kind,
                to: e.to.clone(),
                inverse: false,
                provenance: e.provenance.clone(),
            }];
        }
        b.push(dr);
    }

    for (h, state) in &a.new_broken {
        let rule = if *state == LoadState::Masked {
            RuleId::HardDependencyOnMasked
        } else {
            RuleId::HardDependencyOnMissing
        };
        let mut dr = Draft::new(
            rule,
            &h.from,
            format!(
                "{} {} {}, which is {} in NEW: {} cannot start",
                h.from,
                h.kind,
                h.to,
                state.as_str(),
                h.from
            ),
        )
        .edge(&h.from, h.kind.as_str(), &h.to)
        .new_site(h.provenance.first().map(|p| Site::of(Side::New, p)));
        dr.witness = vec![h.clone()];
        b.push(dr);
    }

    for c in &a.failure_set_changes {
        if c.added.is_empty() {
            continue;
        }
        // Slices always load and start: a slice joining the set is no new risk.
        let own = explained.get(c.unit.as_str());
        let names: Vec<&str> = c
            .added
            .keys()
            .map(String::as_str)
            .filter(|k| !k.ends_with(".slice"))
            .filter(|k| !own.is_some_and(|own| own.contains(k)))
            .collect();
        if names.is_empty() {
            continue;
        }
        let shown = names.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        let more = if names.len() > 5 {
            format!(" and {} more", names.len() - 5)
        } else {
            String::new()
        };
        // The longest witness shows how far the new failure reaches.
        let witness = names
            .iter()
            .filter_map(|k| c.added.get(*k))
            .max_by_key(|w| w.len())
            .cloned()
            .unwrap_or_default();
        let mut dr = Draft::new(
            RuleId::FailureSetGrew,
            &c.unit,
            format!(
                "{} now also fails to start when any of {} more unit(s) fails: {shown}{more}",
                c.unit,
                names.len()
            ),
        )
        .new_site(
            witness
                .first()
                .and_then(|h| h.provenance.first())
                .map(|p| Site::of(Side::New, p)),
        );
        dr.witness = witness;
        dr.impact = names.len();
        b.push(dr);
    }

    let mut out = b.out;
    rank(&mut out);
    out
}
