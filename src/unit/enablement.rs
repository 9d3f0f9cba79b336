//! Enablement (semantics doc §9): whether `systemctl is-enabled` would call a unit enabled,
//! disabled, static, masked…, and what the image's presets say of it. PID 1 never reads any
//! of this; it only sees the symlinks, which are edges already. This is for reports.

pub use super::model::{Enablement, EnablementState, Preset, PresetAction};
use super::model::{LoadState, Unit, UnitSet, Warning};
use super::name::{NameKind, UnitName};
use super::scope::Scope;
use super::sym::Sym;
use super::version::Rules;
use super::words;
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
    /// What reading them warned about.
    warnings: Vec<Warning>,
}

/// Preset lines warned about per image and scope (systemd warns about each line it cannot
/// parse); further ones are counted in one more warning.
const MAX_PRESET_WARNINGS: usize = 100;

/// The warnings reading the preset files gives, at most [`MAX_PRESET_WARNINGS`].
#[derive(Default)]
struct PresetWarnings {
    kept: Vec<Warning>,
    cut: usize,
}

impl PresetWarnings {
    fn warn(&mut self, path: &ImagePath, line: u32, message: impl Into<String>) {
        if self.kept.len() >= MAX_PRESET_WARNINGS {
            self.cut += 1;
            return;
        }
        self.kept.push(Warning {
            path: Some(path.clone()),
            line: Some(line),
            message: message.into(),
        });
    }

    fn finish(mut self) -> Vec<Warning> {
        if self.cut > 0 {
            self.kept.push(Warning {
                path: None,
                line: None,
                message: format!(
                    "{} more preset lines were ignored (only the first {MAX_PRESET_WARNINGS} \
                     are warned about)",
                    self.cut
                ),
            });
        }
        self.kept
    }
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
    let mut warnings = PresetWarnings::default();
    let mut builder = globset::GlobSetBuilder::new();
    for path in files.into_values() {
        let Ok((real, Some(NodeKind::File))) = tree::stat(tree, &path) else {
            continue;
        };
        let Ok(bytes) = tree.read_file(&real, tree::MAX_FILE_SIZE) else {
            continue;
        };
        for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            let line_no = i as u32 + 1;
            let Some(l) = parse_preset_line(line, rules) else {
                continue;
            };
            let Ok(PresetLine {
                action,
                pattern,
                instances,
            }) = l
            else {
                warnings.warn(&path, line_no, "couldn't parse preset line, ignoring");
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
                instances,
                path: path.clone(),
                line: line_no,
            });
        }
    }
    let set = builder
        .build()
        .unwrap_or_else(|_| globset::GlobSet::empty());
    Presets {
        rules: out,
        set,
        warnings: warnings.finish(),
    }
}

/// What a preset line says.
#[derive(Debug, PartialEq, Eq)]
struct PresetLine<'a> {
    action: PresetAction,
    pattern: &'a str,
    instances: Vec<String>,
}

/// One line of a preset file as `read_presets()` (`install.c`) reads it: stripped of
/// systemd's `WHITESPACE` (`strstrip()`, not Unicode's spaces); empty lines and comments
/// (`#`, `;`) are `None`; a verb is `first_word()`'s (followed by `WHITESPACE` or the
/// end). `enable` takes the first word as the pattern (`extract_first_word()`, backslashes
/// kept) and any further words as instances, which only a template may have; `disable` and
/// `ignore` (254+) take the rest of the line whole, so `disable a.service b.service` is
/// one pattern that matches no unit. `Err`: the line systemd warns about ("Couldn't parse
/// line") and ignores.
fn parse_preset_line<'a>(line: &'a str, rules: &Rules) -> Option<Result<PresetLine<'a>, ()>> {
    let l = words::strip(line);
    if l.is_empty() || l.starts_with(['#', ';']) {
        return None;
    }
    if let Some(rest) = words::first_word(l, "enable") {
        let mut w = words::split(rest);
        let Some(pattern) = w.next() else {
            return Some(Err(()));
        };
        let instances: Vec<String> = w.map(str::to_string).collect();
        if !instances.is_empty()
            && !UnitName::parse(pattern).is_some_and(|n| n.kind() == NameKind::Template)
        {
            return Some(Err(()));
        }
        return Some(Ok(PresetLine {
            action: PresetAction::Enable,
            pattern,
            instances,
        }));
    }
    let verbs: &[(&str, PresetAction)] = if rules.version >= 254 {
        &[
            ("disable", PresetAction::Disable),
            ("ignore", PresetAction::Ignore),
        ]
    } else {
        &[("disable", PresetAction::Disable)]
    };
    for (verb, action) in verbs {
        if let Some(pattern) = words::first_word(l, verb) {
            if pattern.is_empty() {
                return Some(Err(()));
            }
            return Some(Ok(PresetLine {
                action: *action,
                pattern,
                instances: Vec::new(),
            }));
        }
    }
    Some(Err(()))
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

/// Compute every unit's and template's enablement, and what reading the presets warned
/// about. `config_links`: names of the symlinks in `/etc` and `/run` (dependency-directory
/// entries and aliases), with whether the link is in `/run`.
pub fn compute(
    tree: &dyn Tree,
    set: &UnitSet,
    config_links: &[(String, bool)],
) -> (BTreeMap<Sym, Enablement>, Vec<Warning>) {
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
    (out, presets.warnings)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A line's verb, pattern and instances, or `Err` for a line systemd ignores.
    type Parsed<'a> = Option<Result<(PresetAction, &'a str, Vec<String>), ()>>;

    fn parse(line: &str, version: u32) -> Parsed<'_> {
        parse_preset_line(line, &Rules::new(version, 0))
            .map(|r| r.map(|l| (l.action, l.pattern, l.instances)))
    }

    /// As systemd 252's `read_presets()` reads them (checked with `systemctl --root
    /// list-unit-files`, tests/enablement.rs).
    #[test]
    fn preset_lines_split_at_ascii_whitespace_only() {
        use PresetAction::*;
        let none = Vec::<String>::new();
        assert_eq!(parse(" \t# c", 252), None);
        assert_eq!(parse(";c", 252), None);
        assert_eq!(parse("\r\n", 252), None);
        assert_eq!(
            parse("\tenable\ta.service \r", 252),
            Some(Ok((Enable, "a.service", none.clone())))
        );
        assert_eq!(
            parse("enable t@.service a  b", 252),
            Some(Ok((Enable, "t@.service", vec!["a".into(), "b".into()])))
        );
        // Instances only for a template.
        assert_eq!(parse("enable a.service b", 252), Some(Err(())));
        // `disable` and `ignore` take the rest of the line as one pattern.
        assert_eq!(
            parse("disable a.service  b.service", 252),
            Some(Ok((Disable, "a.service  b.service", none.clone())))
        );
        assert_eq!(
            parse("ignore a.service", 254),
            Some(Ok((Ignore, "a.service", none.clone())))
        );
        assert_eq!(parse("ignore a.service", 253), Some(Err(())));
        assert_eq!(parse("enablea.service", 252), Some(Err(())));
        assert_eq!(parse("enable", 252), Some(Err(())));
        // Unicode's spaces are no whitespace for systemd: not after the verb, not between
        // words, not around the line.
        for c in ['\u{a0}', '\u{85}', '\u{2028}', '\u{3000}'] {
            assert_eq!(
                parse(&format!("enable{c}a.service"), 252),
                Some(Err(())),
                "{c:?}"
            );
            assert_eq!(
                parse(&format!("disable{c}a.service"), 252),
                Some(Err(())),
                "{c:?}"
            );
            let l = format!("enable a.service{c}b.service");
            assert_eq!(
                parse(&l, 252),
                Some(Ok((Enable, &l["enable ".len()..], none.clone()))),
                "{c:?}"
            );
            assert_eq!(
                parse(&format!("{c}enable a.service"), 252),
                Some(Err(())),
                "{c:?}"
            );
        }
    }
}
