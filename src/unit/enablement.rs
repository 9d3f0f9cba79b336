//! Enablement (semantics doc §9): whether `systemctl is-enabled` would call a unit enabled,
//! disabled, static, masked…, and what the image's presets say of it. PID 1 never reads any
//! of this; it only sees the symlinks, which are edges already. This is for reports.

use super::budget::MAX_PRESET_MATCH_STEPS;
use super::fnmatch::fnmatch;
pub use super::model::{Enablement, EnablementState, Preset, PresetAction};
use super::model::{LoadState, Unit, UnitSet, Warning};
use super::name::{NameKind, UnitName};
use super::scope::Scope;
use super::sym::Sym;
use super::version::Rules;
use super::words;
use crate::tree::{self, ImagePath, NodeKind, Tree};
use std::collections::{BTreeMap, BTreeSet};

/// Counted per preset pattern: foldhash (seeded per process) rather than SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A preset line that can match a unit.
struct PresetRule {
    action: PresetAction,
    /// Its file, in [`Presets::files`].
    file: u32,
    line: u32,
}

/// The preset lines that can match, in systemd's order (file name, then line), matched as
/// systemd matches them: `fnmatch(pattern, name, FNM_NOESCAPE)` one after the other, the
/// first match wins ([`super::fnmatch`]). Nothing is compiled, so what they cost is their
/// bytes; matching is bounded by [`MAX_PRESET_MATCH_STEPS`].
struct Presets {
    files: Vec<ImagePath>,
    rules: Vec<PresetRule>,
    /// A pattern without `*`, `?` or `[` matches only itself: the first such line of each,
    /// by pattern (an index into `rules`).
    literal: HashMap<Box<str>, u32>,
    /// The other patterns, with their line's index into `rules`, in order.
    globs: Vec<(u32, Box<str>)>,
    /// Steps of [`fnmatch`] left for this image and scope.
    steps_left: u64,
    /// Units whose preset was not decided, the steps having run out.
    undecided: usize,
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
    let mut presets = Presets {
        files: Vec::new(),
        rules: Vec::new(),
        literal: HashMap::default(),
        globs: Vec::new(),
        steps_left: MAX_PRESET_MATCH_STEPS,
        undecided: 0,
        warnings: Vec::new(),
    };
    let mut warnings = PresetWarnings::default();
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
            // `enable tmpl@.service a b` enables those instances only: the line decides
            // nothing for the names asked about here.
            if !instances.is_empty() {
                continue;
            }
            if presets.files.last() != Some(&path) {
                presets.files.push(path.clone());
            }
            let index = presets.rules.len() as u32;
            presets.rules.push(PresetRule {
                action,
                file: presets.files.len() as u32 - 1,
                line: line_no,
            });
            // A C string ends at a NUL.
            let pattern = pattern.split('\0').next().unwrap_or_default();
            if pattern.contains(['*', '?', '[']) {
                presets.globs.push((index, pattern.into()));
            } else {
                presets.literal.entry(pattern.into()).or_insert(index);
            }
        }
    }
    presets.warnings = warnings.finish();
    presets
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

impl Presets {
    /// What the first line whose pattern matches `name` says (`enable` when none does), or
    /// `None` when the steps ran out before that was known.
    fn preset_for(&mut self, name: &str) -> Option<Preset> {
        let literal = self.literal.get(name).copied();
        let mut decided = literal;
        for (index, pattern) in &self.globs {
            if literal.is_some_and(|l| *index > l) {
                break;
            }
            match fnmatch(pattern.as_bytes(), name.as_bytes(), &mut self.steps_left) {
                Ok(false) => {}
                Ok(true) => {
                    decided = Some(*index);
                    break;
                }
                Err(_) => {
                    self.undecided += 1;
                    return None;
                }
            }
        }
        Some(match decided {
            Some(i) => {
                let r = &self.rules[i as usize];
                Preset {
                    action: r.action,
                    path: Some(self.files[r.file as usize].clone()),
                    line: Some(r.line),
                }
            }
            None => Preset {
                action: PresetAction::Enable,
                path: None,
                line: None,
            },
        })
    }

    /// The warning that says how many units' presets were not decided, if any.
    fn cut(&self) -> Option<Warning> {
        (self.undecided > 0).then(|| Warning {
            path: None,
            line: None,
            message: format!(
                "work budget: matching preset patterns took more than \
                 {MAX_PRESET_MATCH_STEPS} steps; the presets of {} units were not decided",
                self.undecided
            ),
        })
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
    let mut presets = read_presets(tree, &set.rules, set.scope);
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
            out.insert(u.id.clone(), one(u, &linked, &mut presets));
        }
    }
    let mut warnings = std::mem::take(&mut presets.warnings);
    warnings.extend(presets.cut());
    (out, warnings)
}

fn one(u: &Unit, linked: &BTreeMap<String, bool>, presets: &mut Presets) -> Enablement {
    let has_rules = u.install.iter().any(|s| {
        matches!(
            s.key.as_str(),
            "WantedBy" | "RequiredBy" | "UpheldBy" | "Alias"
        )
    });
    let has_also = u.install.iter().any(|s| s.key == "Also");
    let preset = if has_rules || has_also {
        presets.preset_for(&u.id)
    } else {
        None
    };
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

#[cfg(test)]
mod matching {
    use super::*;
    use crate::tree::mem::{Entry, MemTree};

    fn presets(files: &[(&str, String)]) -> Presets {
        let mut t = MemTree::new("t");
        for (path, text) in files {
            let body = text.clone().into_bytes();
            let entry = Entry::File {
                size: body.len() as u64,
                data: Some(body.into()),
            };
            t.insert(&ImagePath::new(path), entry).unwrap();
        }
        read_presets(&t, &Rules::new(257, 0), Scope::System)
    }

    fn decided(p: &mut Presets, name: &str) -> (PresetAction, Option<u32>) {
        let d = p.preset_for(name).unwrap();
        (d.action, d.line)
    }

    /// The first matching line wins, across files (in file-name order, the first directory
    /// of a name hiding the others) and lines; literal and glob lines interleave.
    #[test]
    fn first_match_wins() {
        use PresetAction::*;
        let mut p = presets(&[
            (
                "/usr/lib/systemd/system-preset/20-b.preset",
                "disable a.service\nenable *.service\ndisable b.service\n".into(),
            ),
            (
                "/usr/lib/systemd/system-preset/10-a.preset",
                "enable c*\ndisable c.service\nignore d?.service\n".into(),
            ),
            (
                "/etc/systemd/system-preset/20-b.preset",
                "disable x[!0-4].service\ndisable [[:upper:]]*\n".into(),
            ),
        ]);
        assert_eq!(decided(&mut p, "c.service"), (Enable, Some(1)));
        assert_eq!(decided(&mut p, "d1.service"), (Ignore, Some(3)));
        assert_eq!(decided(&mut p, "x5.service"), (Disable, Some(1)));
        assert_eq!(decided(&mut p, "x3.service"), (Enable, None));
        assert_eq!(decided(&mut p, "A.socket"), (Disable, Some(2)));
        assert_eq!(decided(&mut p, "a.service"), (Enable, None));
        // Nothing of /usr/lib's 20-b.preset is read: /etc's has its name.
        assert!(
            p.files
                .iter()
                .all(|f| !f.as_str().contains("/usr/lib/systemd/system-preset/20"))
        );
        assert_eq!(p.undecided, 0);
    }

    /// 10,000 lines of a hostile preset file cost their bytes: no automaton is built, and
    /// the patterns are kept as written (`enable q{i}[!a]…(30 times).service`, which cost
    /// ~480 MB compiled into one globset per 4 MB file).
    #[test]
    fn complex_patterns_cost_their_bytes() {
        let text: String = (0..10_000)
            .map(|i| format!("enable q{i}{}.service\n", "[!a]".repeat(30)))
            .collect();
        let mut p = presets(&[("/usr/lib/systemd/system-preset/00-x.preset", text.clone())]);
        assert_eq!(p.globs.len(), 10_000);
        assert!(p.literal.is_empty());
        let kept: usize = p.globs.iter().map(|(_, g)| g.len()).sum();
        assert!(kept < text.len(), "{kept} bytes of patterns");
        assert_eq!(decided(&mut p, "b.service"), (PresetAction::Enable, None));
        let name = format!("q9999{}.service", "b".repeat(30));
        assert_eq!(decided(&mut p, &name), (PresetAction::Enable, Some(10_000)));
    }

    /// Past its steps, a unit's preset is not decided (and later units' neither), and one
    /// warning says how many.
    #[test]
    fn matching_stops_at_its_budget() {
        let text: String = (0..100)
            .map(|i| format!("disable *a*a*a*a*a*b{i}\n"))
            .collect();
        let mut p = presets(&[("/usr/lib/systemd/system-preset/00-x.preset", text)]);
        let long = format!("{}.service", "a".repeat(200));
        p.steps_left = 10_000;
        assert_eq!(p.preset_for(&long), None);
        assert_eq!(p.steps_left, 0);
        assert_eq!(p.preset_for("b.service"), None);
        assert_eq!(p.undecided, 2);
        let w = p.cut().unwrap();
        assert!(
            w.message.contains("presets of 2 units were not decided"),
            "{}",
            w.message
        );
        // With the image's whole budget, the same long name is decided.
        p.steps_left = MAX_PRESET_MATCH_STEPS;
        assert_eq!(decided(&mut p, &long), (PresetAction::Enable, None));
    }
}
