//! Enablement (semantics doc §9): whether `systemctl is-enabled` would call a unit enabled,
//! disabled, static, masked…, and what the image's presets say of it. PID 1 never reads any
//! of this; it only sees the symlinks, which are edges already. This is for reports.

pub use super::model::{Enablement, EnablementState, Preset, PresetAction};
use super::model::{LoadState, Unit, UnitSet};
use super::name::UnitName;
use super::scope::Scope;
use super::sym::Sym;
use super::version::Rules;
use crate::tree::{self, ImagePath, NodeKind, Tree};
use std::collections::{BTreeMap, BTreeSet};

struct PresetRule {
    action: PresetAction,
    instances: Vec<String>,
    path: ImagePath,
    line: u32,
}

/// Preset lines in order, and one matcher for all their patterns (index = line order).
struct Presets {
    rules: Vec<PresetRule>,
    set: globset::GlobSet,
}

fn preset_dirs(rules: &Rules, scope: Scope) -> Vec<&'static str> {
    if scope == Scope::User {
        // `CONF_PATHS_USR("systemd/user-preset")`: no /lib.
        return vec![
            "/etc/systemd/user-preset",
            "/run/systemd/user-preset",
            "/usr/local/lib/systemd/user-preset",
            "/usr/lib/systemd/user-preset",
        ];
    }
    let mut d = vec!["/etc/systemd/system-preset"];
    if rules.version >= 238 {
        d.push("/run/systemd/system-preset");
    }
    d.extend([
        "/usr/local/lib/systemd/system-preset",
        "/usr/lib/systemd/system-preset",
        "/lib/systemd/system-preset",
    ]);
    d
}

/// Read the preset files: first file name wins across directories, then by file name.
fn read_presets(tree: &dyn Tree, rules: &Rules, scope: Scope) -> Presets {
    let mut files: BTreeMap<String, ImagePath> = BTreeMap::new();
    let mut seen_dirs = BTreeSet::new();
    for dir in preset_dirs(rules, scope) {
        let Ok((real, Some(NodeKind::Dir))) = tree::stat(tree, &ImagePath::new(dir)) else {
            continue;
        };
        if !seen_dirs.insert(real.clone()) {
            continue;
        }
        for (name, _) in tree.read_dir(&real).unwrap_or_default() {
            if name.ends_with(".preset") && !name.starts_with('.') {
                files
                    .entry(name.clone())
                    .or_insert_with(|| real.join(&name));
            }
        }
    }
    let mut out = Vec::new();
    let mut builder = globset::GlobSetBuilder::new();
    for path in files.into_values() {
        let Ok((real, Some(NodeKind::File))) = tree::stat(tree, &path) else {
            continue;
        };
        let Ok(bytes) = tree.read_file(&real, tree::MAX_FILE_SIZE) else {
            continue;
        };
        for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
                continue;
            }
            let mut words = l.split_whitespace();
            let action = words.next().unwrap_or("");
            let action = match action {
                "enable" => PresetAction::Enable,
                "disable" => PresetAction::Disable,
                "ignore" if rules.version >= 254 => PresetAction::Ignore,
                _ => continue,
            };
            let Some(pattern) = words.next() else {
                continue;
            };
            let Ok(glob) = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(false)
                .build()
            else {
                continue;
            };
            builder.add(glob);
            out.push(PresetRule {
                action,
                instances: words.map(str::to_string).collect(),
                path: path.clone(),
                line: i as u32 + 1,
            });
        }
    }
    let set = builder
        .build()
        .unwrap_or_else(|_| globset::GlobSet::empty());
    Presets { rules: out, set }
}

fn preset_for(name: &str, presets: &Presets) -> Preset {
    // Indices come back in line order: the first match wins.
    for i in presets.set.matches(name) {
        let r = &presets.rules[i];
        {
            // `enable tmpl@.service a b` enables those instances only.
            if !r.instances.is_empty() && r.action == PresetAction::Enable {
                continue;
            }
            return Preset {
                action: r.action,
                path: Some(r.path.clone()),
                line: Some(r.line),
            };
        }
    }
    Preset {
        action: PresetAction::Enable,
        path: None,
        line: None,
    }
}

/// Compute every unit's and template's enablement.
/// `config_links`: names of the symlinks in `/etc` and `/run` (dependency-directory
/// entries and aliases), with whether the link is in `/run`.
pub fn compute(
    tree: &dyn Tree,
    set: &UnitSet,
    config_links: &[(String, bool)],
) -> BTreeMap<Sym, Enablement> {
    let presets = read_presets(tree, &set.rules, set.scope);
    // Names linked from .wants/.requires/.upholds directories in /etc or /run (links the
    // vendor ships in /usr do not make a unit "enabled", as `systemctl is-enabled` sees it),
    // with whether only /run did.
    let mut linked: BTreeMap<String, bool> = BTreeMap::new();
    for (name, runtime) in config_links {
        // Links go by name; an alias's link counts for the unit it names.
        let mut names = vec![set.canonical(name)];
        // An instance link enables its template too.
        if let Some(t) = UnitName::parse(name).and_then(|n| n.template()) {
            names.push(set.canonical(&t));
        }
        for n in names {
            let entry = linked.entry(n).or_insert(true);
            *entry &= *runtime;
        }
    }
    let mut out = BTreeMap::new();
    // Only units with a unit file have an enablement (`systemctl is-enabled` knows no
    // others).
    for u in set.units.values().chain(set.templates.values()) {
        if u.fragment.is_some() {
            out.insert(u.id.clone(), one(u, &linked, &presets));
        }
    }
    out
}

fn one(u: &Unit, linked: &BTreeMap<String, bool>, presets: &Presets) -> Enablement {
    let has_rules = u.install.iter().any(|s| {
        matches!(
            s.key.as_str(),
            "WantedBy" | "RequiredBy" | "UpheldBy" | "Alias"
        )
    });
    let has_also = u.install.iter().any(|s| s.key == "Also");
    let preset = (has_rules || has_also).then(|| preset_for(&u.id, presets));
    let frag = u.fragment.as_ref();
    let runtime = frag.is_some_and(|f| f.layer == super::Layer::Runtime);
    let state = if frag.is_some_and(|f| f.layer == super::Layer::Generator) {
        EnablementState::Generated
    } else if u.state == LoadState::Masked {
        if runtime {
            EnablementState::MaskedRuntime
        } else {
            EnablementState::Masked
        }
    } else if let Some(&only_runtime) = linked.get(u.id.as_str()) {
        if only_runtime {
            EnablementState::EnabledRuntime
        } else {
            EnablementState::Enabled
        }
    } else if frag.is_some_and(|f| f.target.is_some() && f.layer == super::Layer::Admin) {
        EnablementState::Linked
    } else if UnitName::parse(&u.id).is_some_and(|n| n.instance.is_some_and(|i| !i.is_empty())) {
        // An instance nothing in /etc or /run links: `systemctl is-enabled` says static.
        EnablementState::Static
    } else if has_rules {
        EnablementState::Disabled
    } else if has_also {
        EnablementState::Indirect
    } else {
        EnablementState::Static
    };
    Enablement { state, preset }
}
