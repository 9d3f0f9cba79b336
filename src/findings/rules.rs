//! The rule registry: every rule's ID, default level, what it means, why it matters, an
//! example and how to accept it. The single source of `unitdiff rules`, `unitdiff explain`
//! and docs/rules.md.

use super::Level;
use serde::Serialize;
use std::fmt::Write as _;

/// A rule's stable, kebab-case ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    NewHardDependency,
    HardDependencyOnMissing,
    HardDependencyOnMasked,
    NewOrderingCycle,
    BootUnitDropped,
    UnitLoadDegraded,
    PolicyEntryExpired,
    AdminOverride,
    FailureSetGrew,
    BootUnitAdded,
    UnitRemoved,
    HardDependencyRemoved,
    EnablementChanged,
    InstallChanged,
    AliasChanged,
    PolicyEntryUnused,
    WeakDependencyChanged,
    OrderingChanged,
    ProvenanceMoved,
    UnitAdded,
    SettingChanged,
    BaselineEntryStale,
}

/// What the registry knows about one rule.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RuleInfo {
    pub id: RuleId,
    pub level: Level,
    /// One line.
    pub summary: &'static str,
    /// Why it matters (a paragraph).
    pub why: &'static str,
    /// What a finding looks like.
    pub example: &'static str,
    /// How to accept one (beyond the `[[allow]]` snippet every finding prints).
    pub allow: &'static str,
}

use Level::{Error, Info, Warn};
use RuleId as R;

const ALLOW_EDGE: &str = "Add an `[[allow]]` entry with `rule`, `unit`, `kind` and `target` (the text report prints one under each finding), and a `reason`.";
const ALLOW_UNIT: &str = "Add an `[[allow]]` entry with `rule` and `unit` (globs allowed) and a `reason`, or lower the rule's level under `[rules]`.";

/// Every rule, in ranking order within a level.
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: R::NewHardDependency,
        level: Error,
        summary: "A unit present on both sides gained a hard dependency (Requires=, Requisite=, BindsTo=).",
        why: "A hard dependency makes the target's failure the source's failure: if the target (or anything it hard-depends on) fails to start, the source does not start either. The finding's witness is the chain that now stops the source.",
        example: "new-hard-dependency docker.service Requires flanneld.service  /etc/systemd/system/docker.service.d/40-flannel.conf:2 admin\n  if flanneld.service fails, docker.service does not start",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::HardDependencyOnMissing,
        level: Error,
        summary: "A loaded unit hard-depends on a unit that is not loaded in NEW (not-found, bad-setting, error).",
        why: "systemd cannot start a unit whose Requires=/Requisite=/BindsTo= target does not load: the start job fails with a dependency error.",
        example: "hard-dependency-on-missing app.service Requires db.service (not-found in NEW)",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::HardDependencyOnMasked,
        level: Error,
        summary: "A loaded unit hard-depends on a unit that is masked in NEW.",
        why: "A masked unit never starts, so everything that Requires= it fails to start.",
        example: "hard-dependency-on-masked app.service Requires db.service (masked in NEW)",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::NewOrderingCycle,
        level: Error,
        summary: "The boot transaction has an ordering cycle (After=/Before=) it did not have.",
        why: "systemd breaks an ordering cycle at boot by deleting a job from the transaction, so some unit of the cycle silently does not start (\"Breaking ordering cycle by deleting job\").",
        example: "new-ordering-cycle a.service after b.service after a.service",
        allow: "Add an `[[allow]]` entry with `rule` and `unit` (the cycle's first unit, sorted) or its `fingerprint`, and a `reason`.",
    },
    RuleInfo {
        id: R::BootUnitDropped,
        level: Error,
        summary: "A unit a boot to default.target started is no longer started by it.",
        why: "Something that ran on every boot stops running after the upgrade: a service, a mount, a timer.",
        example: "boot-unit-dropped ntpd.service (no longer started by default.target)",
        allow: ALLOW_UNIT,
    },
    RuleInfo {
        id: R::UnitLoadDegraded,
        level: Error,
        summary: "A unit that loaded in OLD does not load in NEW (not-found, bad-setting, error, masked).",
        why: "A unit that does not load cannot start, and every unit that needs it fails with it.",
        example: "unit-load-degraded foo.service loaded -> bad-setting",
        allow: ALLOW_UNIT,
    },
    RuleInfo {
        id: R::PolicyEntryExpired,
        level: Error,
        summary: "An `[[allow]]` entry of the policy file is past its `expires` date.",
        why: "An expired acceptance must be loud: the entry no longer allows anything, and this finding points at its line so that someone renews or removes it.",
        example: "policy-entry-expired unitdiff.toml:12 (expired 2026-01-01)",
        allow: "Renew the entry's `expires` date (with a reason) or remove the entry; this rule's level can be changed under `[rules]`.",
    },
    RuleInfo {
        id: R::AdminOverride,
        level: Warn,
        summary: "A change that comes from /etc or /run (the administrator or run time), not from the vendor tree.",
        why: "Vendor changes come with the release; an override in /etc is local configuration that the release's testing never saw, and it survives upgrades of the unit it overrides.",
        example: "admin-override docker.service Requires flanneld.service  /etc/systemd/system/docker.service.d/40-flannel.conf:2 admin",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::FailureSetGrew,
        level: Warn,
        summary: "More units can now stop a unit from starting (its failure set grew), beyond its own new hard dependencies.",
        why: "A new hard dependency deep down the graph makes every unit above it fragile: each unit listed now fails when any of the new members fails.",
        example: "failure-set-grew docker.socket (+3: early-docker.service, early-docker.socket, flanneld.service)",
        allow: ALLOW_UNIT,
    },
    RuleInfo {
        id: R::BootUnitAdded,
        level: Warn,
        summary: "A boot to default.target now starts a unit it did not start (e.g. tmp.mount making /tmp a tmpfs).",
        why: "New code runs on every boot: a service, a mount over a directory, a timer.",
        example: "boot-unit-added tmp.mount (tmpfs on /tmp; now started by default.target)",
        allow: ALLOW_UNIT,
    },
    RuleInfo {
        id: R::UnitRemoved,
        level: Warn,
        summary: "A unit with a unit file in OLD has none in NEW.",
        why: "Anything that referred to it (Wants=, a timer, an admin's drop-in) now points at nothing.",
        example: "unit-removed ntpd.service",
        allow: ALLOW_UNIT,
    },
    RuleInfo {
        id: R::HardDependencyRemoved,
        level: Warn,
        summary: "A hard dependency (Requires=, Requisite=, BindsTo=) between two units that still exist is gone.",
        why: "The source may now start without the target, or before it is ready.",
        example: "hard-dependency-removed app.service Requires db.service",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::EnablementChanged,
        level: Warn,
        summary: "`systemctl is-enabled` of a unit changed (enabled, disabled, static, masked…).",
        why: "Enablement decides whether the unit's [Install] section takes effect at boot.",
        example: "enablement-changed flanneld.service static -> disabled",
        allow: ALLOW_UNIT,
    },
    RuleInfo {
        id: R::InstallChanged,
        level: Warn,
        summary: "An [Install] entry (WantedBy=, RequiredBy=, UpheldBy=, Also=…) was added or removed.",
        why: "It changes what enabling the unit does: which target pulls it in at boot.",
        example: "install-changed flanneld.service WantedBy multi-user.target (added)",
        allow: "Add an `[[allow]]` entry with `rule`, `unit`, `kind` (the key, e.g. WantedBy) and `target` (the value), and a `reason`.",
    },
    RuleInfo {
        id: R::AliasChanged,
        level: Warn,
        summary: "A unit gained or lost an alias (e.g. default.target pointing to another target).",
        why: "Units that refer to the alias now get a different unit, or nothing.",
        example: "alias-changed graphical.target alias default.target (added)",
        allow: "Add an `[[allow]]` entry with `rule`, `unit` and `target` (the alias), and a `reason`.",
    },
    RuleInfo {
        id: R::PolicyEntryUnused,
        level: Warn,
        summary: "An `[[allow]]` entry of the policy file matched no finding.",
        why: "Stale entries would silently allow a future change nobody reviewed; remove them.",
        example: "policy-entry-unused unitdiff.toml:20",
        allow: "Remove the entry, or lower this rule's level under `[rules]`.",
    },
    RuleInfo {
        id: R::WeakDependencyChanged,
        level: Info,
        summary: "A dependency other than a hard one or an ordering was added or removed (Wants=, Upholds=, PartOf=, Conflicts=, OnFailure=…).",
        why: "Weak dependencies change what gets started alongside a unit, but a failure does not propagate through them.",
        example: "weak-dependency-changed multi-user.target Wants flanneld.service (added)",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::OrderingChanged,
        level: Info,
        summary: "An ordering dependency (After=, Before=) was added or removed.",
        why: "Ordering changes the order of start-up and shut-down, not what starts.",
        example: "ordering-changed docker.service After flanneld.service (added)",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::ProvenanceMoved,
        level: Info,
        summary: "A dependency exists on both sides but comes from another file, link or rule.",
        why: "The same edge now depends on another file: removing that file (or upgrading the package that ships it) changes the graph.",
        example: "provenance-moved foo.service Wants bar.service (was foo.service:3, now foo.service.d/x.conf:2)",
        allow: ALLOW_EDGE,
    },
    RuleInfo {
        id: R::UnitAdded,
        level: Info,
        summary: "A unit with a unit file appears in NEW.",
        why: "New units are usually inert until something pulls them in; boot-unit-added reports those that start at boot.",
        example: "unit-added flanneld.service",
        allow: ALLOW_UNIT,
    },
    RuleInfo {
        id: R::SettingChanged,
        level: Info,
        summary: "A non-dependency setting of a unit changed (ExecStart=, Environment=, User=…).",
        why: "The unit behaves differently when it runs, even if the dependency graph is the same.",
        example: "setting-changed fleet.service [Service] User",
        allow: "Add an `[[allow]]` entry with `rule`, `unit` and `kind` (`[Section] Key`), and a `reason`.",
    },
    RuleInfo {
        id: R::BaselineEntryStale,
        level: Info,
        summary: "An entry of the baseline file (--baseline) matched no finding.",
        why: "The change it accepted is gone; write the baseline again (--write-baseline) to drop it.",
        example: "baseline-entry-stale 3f2a… (new-hard-dependency docker.service, first seen 2026-01-10)",
        allow: "Write the baseline again with --write-baseline.",
    },
];

impl RuleId {
    pub fn info(self) -> &'static RuleInfo {
        RULES
            .iter()
            .find(|r| r.id == self)
            .expect("every rule is registered")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            R::NewHardDependency => "new-hard-dependency",
            R::HardDependencyOnMissing => "hard-dependency-on-missing",
            R::HardDependencyOnMasked => "hard-dependency-on-masked",
            R::NewOrderingCycle => "new-ordering-cycle",
            R::BootUnitDropped => "boot-unit-dropped",
            R::UnitLoadDegraded => "unit-load-degraded",
            R::PolicyEntryExpired => "policy-entry-expired",
            R::AdminOverride => "admin-override",
            R::FailureSetGrew => "failure-set-grew",
            R::BootUnitAdded => "boot-unit-added",
            R::UnitRemoved => "unit-removed",
            R::HardDependencyRemoved => "hard-dependency-removed",
            R::EnablementChanged => "enablement-changed",
            R::InstallChanged => "install-changed",
            R::AliasChanged => "alias-changed",
            R::PolicyEntryUnused => "policy-entry-unused",
            R::WeakDependencyChanged => "weak-dependency-changed",
            R::OrderingChanged => "ordering-changed",
            R::ProvenanceMoved => "provenance-moved",
            R::UnitAdded => "unit-added",
            R::SettingChanged => "setting-changed",
            R::BaselineEntryStale => "baseline-entry-stale",
        }
    }

    pub fn parse(s: &str) -> Option<RuleId> {
        RULES.iter().map(|r| r.id).find(|id| id.as_str() == s)
    }

    /// Position in the registry (ties in ranking).
    pub fn order(self) -> usize {
        RULES.iter().position(|r| r.id == self).expect("registered")
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `unitdiff rules`: one line per rule.
pub fn list() -> String {
    let w = RULES.iter().map(|r| r.id.as_str().len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in RULES {
        let _ = writeln!(
            out,
            "{:w$}  {:5}  {}",
            r.id.as_str(),
            r.level.as_str(),
            r.summary
        );
    }
    out
}

/// `unitdiff explain RULE`.
pub fn explain(r: &RuleInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} (default level: {})\n", r.id, r.level);
    let _ = writeln!(out, "{}\n", r.summary);
    let _ = writeln!(out, "Why it matters:\n  {}\n", r.why);
    let _ = writeln!(out, "Example:");
    for l in r.example.lines() {
        let _ = writeln!(out, "  {l}");
    }
    let _ = writeln!(out, "\nHow to allow it:\n  {}", r.allow);
    let _ = writeln!(
        out,
        "\nIn unitdiff.toml, change its level or turn it off:\n  [rules]\n  {} = \"warn\"   # error, warn, info or off",
        r.id
    );
    out
}

/// docs/rules.md.
pub fn markdown() -> String {
    let mut out = String::from(
        "# unitdiff rules\n\n<!-- Generated by `unitdiff rules --format markdown`; a test fails when this file is stale. -->\n\n\
Every finding of `unitdiff diff` and `unitdiff check` carries one of these rule IDs and a level \
(error, warn, info). `unitdiff check` fails when a finding at or above `--fail-on` (default: \
error) is neither allowed by the policy file nor in the baseline. See `unitdiff explain RULE`.\n\n\
| rule | default level | summary |\n|---|---|---|\n",
    );
    for r in RULES {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} |",
            r.id,
            r.id,
            r.level,
            r.summary.replace('|', "\\|")
        );
    }
    for r in RULES {
        let _ = writeln!(out, "\n## {}\n", r.id);
        let _ = writeln!(out, "Default level: **{}**.\n", r.level);
        let _ = writeln!(out, "{}\n", r.summary);
        let _ = writeln!(out, "**Why it matters.** {}\n", r.why);
        let _ = writeln!(out, "**Example.**\n\n```text\n{}\n```\n", r.example);
        let _ = writeln!(out, "**How to allow it.** {}", r.allow);
    }
    out
}
