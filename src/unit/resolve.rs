//! Unit names as the user types them, resolved the way `systemctl` does: `ssh` is
//! `ssh.service`, `/dev/sda` is `dev-sda.device`, `/home` is `home.mount`, aliases lead to
//! their unit, globs (`systemd-*`) match every known name. A name the image does not know is
//! an error that names the closest units, never an empty answer.
//!
//! [`mangle`] follows systemd's `unit_name_mangle_with_suffix()` (src/basic/unit-name.c):
//! a valid name is kept; an absolute path becomes a `.device` (under `/dev` or `/sys`) or
//! `.mount` name; otherwise characters a unit name cannot hold are `\xNN`-escaped and
//! `.service` is appended when the name has no known type suffix (so `foo.bar` becomes
//! `foo.bar.service`, `foo@x` becomes `foo@x.service`). Globs keep their suffix as typed.

use super::load::UnitSet;
use super::name::{self, NameKind, UnitName, UnitType};
use super::path_util;
use super::version::NEWEST_KNOWN;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A name the user gave that no image knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownUnit {
    /// As typed.
    pub asked: String,
    /// What systemctl would look up (`None`: not a valid unit name at all).
    pub mangled: Option<String>,
    /// The closest known names, best first (at most [`MAX_SUGGESTIONS`]).
    pub suggestions: Vec<String>,
    /// Set when the name is a template, which has no dependencies of its own.
    pub template: bool,
}

/// Most names an [`UnknownUnit`] suggests.
pub const MAX_SUGGESTIONS: usize = 3;

impl fmt::Display for UnknownUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mangled {
            None => write!(f, "{:?} is not a valid unit name", self.asked)?,
            Some(m) if self.template => write!(
                f,
                "{m} is a template; name an instance of it (e.g. {})",
                UnitName::parse(m).map_or_else(|| m.clone(), |u| u.with_instance("NAME"))
            )?,
            Some(m) if is_glob(m) => write!(f, "no unit matches {m}")?,
            Some(m) if *m != self.asked => write!(f, "no unit {m} (from {:?})", self.asked)?,
            Some(m) => write!(f, "no unit {m}")?,
        }
        if !self.suggestions.is_empty() {
            write!(f, "; did you mean {}?", self.suggestions.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownUnit {}

/// Whether `s` is a glob pattern (`*`, `?` or `[`), as systemd's `string_is_glob()`.
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The unit name `systemctl` makes of `name` (see the module docs); `None` if it cannot make
/// a valid one. With `glob`, a glob pattern is kept as it is.
pub fn mangle(name: &str, glob: bool) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    if name::is_valid(name) {
        return Some(name.to_string());
    }
    if glob
        && is_glob(name)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@*?[]!^".contains(&b))
    {
        return Some(name.to_string());
    }
    path_util::mangle_with_suffix(name, ".service", NEWEST_KNOWN).ok()
}

/// What a name resolves to in one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A unit of the graph, by its canonical name (aliases followed).
    Unit(String),
    /// A template (`getty@.service`): it has files but no dependencies of its own.
    Template(String),
}

impl Resolved {
    pub fn name(&self) -> &str {
        match self {
            Resolved::Unit(n) | Resolved::Template(n) => n,
        }
    }
}

/// Resolve one unit name (no globs) in `set`.
pub fn resolve(set: &UnitSet, asked: &str) -> Result<Resolved, UnknownUnit> {
    resolve_in(&[set], asked).map(|(r, _)| r)
}

/// Resolve one unit name (no globs) in the first of `sets` that knows it; also says which.
pub fn resolve_in(sets: &[&UnitSet], asked: &str) -> Result<(Resolved, usize), UnknownUnit> {
    let Some(m) = mangle(asked, false) else {
        return Err(unknown(sets, asked, None));
    };
    for (i, set) in sets.iter().enumerate() {
        if let Some(id) = set.names.get(m.as_str()) {
            return Ok((Resolved::Unit(id.to_string()), i));
        }
    }
    for (i, set) in sets.iter().enumerate() {
        if let Some(t) = template_of(set, &m) {
            return Ok((Resolved::Template(t), i));
        }
    }
    Err(unknown(sets, asked, Some(m)))
}

/// The template `name` is, or is an alias of, in `set`.
fn template_of(set: &UnitSet, name: &str) -> Option<String> {
    if set.templates.contains_key(name) {
        return Some(name.to_string());
    }
    set.templates
        .iter()
        .find(|(_, t)| t.aliases.contains(name))
        .map(|(n, _)| n.to_string())
}

/// A unit to ask the loader for (see [`crate::unit::load_with`]): an instance of a template,
/// which the loader only knows when something references it (`systemctl` loads it on demand).
pub fn instance_to_load(asked: &str) -> Option<String> {
    let m = mangle(asked, false)?;
    (UnitName::parse(&m)?.kind() == NameKind::Instance).then_some(m)
}

/// Resolve a name or glob (`--focus`) against every one of `sets`: the canonical names of
/// every unit it names in any of them, sorted. Templates are not units of a graph.
pub fn resolve_pattern(sets: &[&UnitSet], asked: &str) -> Result<Vec<String>, UnknownUnit> {
    let Some(m) = mangle(asked, true) else {
        return Err(unknown(sets, asked, None));
    };
    if !is_glob(&m) {
        return match resolve_in(sets, asked) {
            Ok((Resolved::Unit(n), _)) => Ok(vec![n]),
            Ok((Resolved::Template(t), _)) => Err(UnknownUnit {
                asked: asked.to_string(),
                mangled: Some(t),
                suggestions: Vec::new(),
                template: true,
            }),
            Err(e) => Err(e),
        };
    }
    let matcher = globset::GlobBuilder::new(&m)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|_| unknown(sets, asked, None))?;
    let mut out = BTreeSet::new();
    for set in sets {
        for (n, id) in &set.names {
            if matcher.is_match(n.as_str()) {
                out.insert(id.to_string());
            }
        }
    }
    if out.is_empty() {
        return Err(unknown(sets, asked, Some(m)));
    }
    Ok(out.into_iter().collect())
}

fn unknown(sets: &[&UnitSet], asked: &str, mangled: Option<String>) -> UnknownUnit {
    let key = mangled.clone().unwrap_or_else(|| asked.to_string());
    UnknownUnit {
        asked: asked.to_string(),
        suggestions: suggest(sets, &key),
        mangled,
        template: false,
    }
}

/// The stem of a name: without its type suffix (and glob stars).
fn stem(n: &str) -> &str {
    match n.rsplit_once('.') {
        Some((s, t)) if UnitType::from_suffix(t).is_some() => s,
        _ => n,
    }
}

/// The known names closest to `key`: the same name with another type first
/// (`docker.socket` for `docker.service`), then names containing the stem, then names that
/// are spelled alike (Jaro-Winkler similarity of at least 0.85).
fn suggest(sets: &[&UnitSet], key: &str) -> Vec<String> {
    let want = stem(key).trim_matches(['*', '?']).to_lowercase();
    if want.is_empty() {
        return Vec::new();
    }
    let mut scored: BTreeMap<String, f64> = BTreeMap::new();
    let names = sets
        .iter()
        .flat_map(|s| s.names.keys().chain(s.templates.keys()));
    for n in names {
        let s = stem(n).to_lowercase();
        let score = if s == want {
            3.0
        } else if want.len() >= 3 && s.contains(&want) {
            2.0 - (s.len() - want.len()) as f64 / 1000.0
        } else {
            let sim = strsim::jaro_winkler(&want, &s);
            if sim < 0.85 {
                continue;
            }
            sim
        };
        let e = scored.entry(n.to_string()).or_insert(score);
        *e = e.max(score);
    }
    let mut v: Vec<(String, f64)> = scored.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter()
        .map(|(n, _)| n)
        .filter(|n| n != key)
        .take(MAX_SUGGESTIONS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangles_like_systemctl() {
        let m = |s| mangle(s, false);
        assert_eq!(m("ssh").as_deref(), Some("ssh.service"));
        assert_eq!(m("ssh.service").as_deref(), Some("ssh.service"));
        assert_eq!(m("dev-sda.device").as_deref(), Some("dev-sda.device"));
        assert_eq!(m("foo@x").as_deref(), Some("foo@x.service"));
        assert_eq!(m("foo@").as_deref(), Some("foo@.service"));
        assert_eq!(m("foo.bar").as_deref(), Some("foo.bar.service"));
        assert_eq!(m("multi-user.target").as_deref(), Some("multi-user.target"));
        assert_eq!(m("/dev/sda").as_deref(), Some("dev-sda.device"));
        assert_eq!(m("/home/").as_deref(), Some("home.mount"));
        assert_eq!(m("/").as_deref(), Some("-.mount"));
        assert_eq!(m("a b").as_deref(), Some("a\\x20b.service"));
        assert_eq!(m(""), None);
        // A glob is only kept where globs are allowed.
        assert_eq!(mangle("systemd-*", true).as_deref(), Some("systemd-*"));
        assert_eq!(m("systemd-*").as_deref(), Some("systemd-\\x2a.service"));
    }

    #[test]
    fn instances_to_load() {
        assert_eq!(
            instance_to_load("getty@tty5").as_deref(),
            Some("getty@tty5.service")
        );
        assert_eq!(instance_to_load("getty@"), None);
        assert_eq!(instance_to_load("ssh"), None);
    }
}
