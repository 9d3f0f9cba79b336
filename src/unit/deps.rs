//! Dependency kinds, the directives that create them, and specifier expansion in their values.

use super::name::{UnitName, UnitType};
use super::version::Rules;
use serde::Serialize;
use std::fmt;

/// A dependency type, named as systemd's `--test` dump names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum DepKind {
    Requires,
    Requisite,
    Wants,
    BindsTo,
    PartOf,
    Upholds,
    Conflicts,
    Before,
    After,
    OnFailure,
    OnSuccess,
    PropagatesReloadTo,
    ReloadPropagatedFrom,
    PropagatesStopTo,
    StopPropagatedFrom,
    JoinsNamespaceOf,
    /// systemd < 228 only.
    RequiresOverridable,
    /// systemd < 228 only.
    RequisiteOverridable,
    Triggers,
    TriggeredBy,
    InSlice,
}

impl DepKind {
    pub const ALL: [DepKind; 21] = [
        DepKind::Requires,
        DepKind::Requisite,
        DepKind::Wants,
        DepKind::BindsTo,
        DepKind::PartOf,
        DepKind::Upholds,
        DepKind::Conflicts,
        DepKind::Before,
        DepKind::After,
        DepKind::OnFailure,
        DepKind::OnSuccess,
        DepKind::PropagatesReloadTo,
        DepKind::ReloadPropagatedFrom,
        DepKind::PropagatesStopTo,
        DepKind::StopPropagatedFrom,
        DepKind::JoinsNamespaceOf,
        DepKind::RequiresOverridable,
        DepKind::RequisiteOverridable,
        DepKind::Triggers,
        DepKind::TriggeredBy,
        DepKind::InSlice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DepKind::Requires => "Requires",
            DepKind::Requisite => "Requisite",
            DepKind::Wants => "Wants",
            DepKind::BindsTo => "BindsTo",
            DepKind::PartOf => "PartOf",
            DepKind::Upholds => "Upholds",
            DepKind::Conflicts => "Conflicts",
            DepKind::Before => "Before",
            DepKind::After => "After",
            DepKind::OnFailure => "OnFailure",
            DepKind::OnSuccess => "OnSuccess",
            DepKind::PropagatesReloadTo => "PropagatesReloadTo",
            DepKind::ReloadPropagatedFrom => "ReloadPropagatedFrom",
            DepKind::PropagatesStopTo => "PropagatesStopTo",
            DepKind::StopPropagatedFrom => "StopPropagatedFrom",
            DepKind::JoinsNamespaceOf => "JoinsNamespaceOf",
            DepKind::RequiresOverridable => "RequiresOverridable",
            DepKind::RequisiteOverridable => "RequisiteOverridable",
            DepKind::Triggers => "Triggers",
            DepKind::TriggeredBy => "TriggeredBy",
            DepKind::InSlice => "InSlice",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Kinds by which a start job pulls the other unit into the transaction (and by which
    /// a target is auto-ordered after it).
    pub fn pulls_in(self) -> bool {
        matches!(
            self,
            DepKind::Requires
                | DepKind::Requisite
                | DepKind::Wants
                | DepKind::BindsTo
                | DepKind::Upholds
                | DepKind::RequiresOverridable
                | DepKind::RequisiteOverridable
        )
    }

    /// Kinds that pull the other unit into a start transaction or make it required.
    pub fn is_hard(self) -> bool {
        matches!(
            self,
            DepKind::Requires
                | DepKind::Requisite
                | DepKind::BindsTo
                | DepKind::RequiresOverridable
                | DepKind::RequisiteOverridable
        )
    }
}

impl fmt::Display for DepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The edge kinds a `[Unit]` directive adds, or `None` if the key is not a plain dependency
/// directive for these rules.
pub fn unit_directive(key: &str, rules: &Rules) -> Option<DepKind> {
    Some(match key {
        "Requires" => DepKind::Requires,
        "Requisite" => DepKind::Requisite,
        "Wants" => DepKind::Wants,
        "BindsTo" | "BindTo" => DepKind::BindsTo,
        "PartOf" => DepKind::PartOf,
        "Upholds" if rules.v249_directives() => DepKind::Upholds,
        "Conflicts" => DepKind::Conflicts,
        "Before" => DepKind::Before,
        "After" => DepKind::After,
        "OnFailure" => DepKind::OnFailure,
        "OnSuccess" if rules.v249_directives() => DepKind::OnSuccess,
        "PropagatesReloadTo" | "PropagateReloadTo" => DepKind::PropagatesReloadTo,
        "ReloadPropagatedFrom" | "PropagateReloadFrom" => DepKind::ReloadPropagatedFrom,
        "PropagatesStopTo" if rules.v249_directives() => DepKind::PropagatesStopTo,
        "StopPropagatedFrom" if rules.v249_directives() => DepKind::StopPropagatedFrom,
        "JoinsNamespaceOf" => DepKind::JoinsNamespaceOf,
        "RequiresOverridable" if rules.overridable_types() => DepKind::RequiresOverridable,
        "RequisiteOverridable" if rules.overridable_types() => DepKind::RequisiteOverridable,
        "RequiresOverridable" => DepKind::Requires,
        "RequisiteOverridable" => DepKind::Requisite,
        _ => return None,
    })
}

/// Split a dependency value into words the way `config_parse_unit_deps` does
/// (`extract_first_word(…, NULL, EXTRACT_RETAIN_ESCAPE)`): on systemd's ASCII `WHITESPACE`
/// only ([`super::words`]), no unquoting, backslash escapes kept literally (and they protect
/// the next character).
pub fn split_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            cur.push(c);
            if let Some(n) = chars.next() {
                cur.push(n);
            }
        } else if super::words::is_space(c) {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Why a word of a dependency value was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecifierError {
    /// systemd refuses this specifier in dependency values.
    NotAllowed(char),
    /// Allowed, but its value depends on the running machine.
    HostDependent(char),
    /// The expansion grew past [`super::budget::MAX_EXPANDED_BYTES`].
    TooLong,
}

impl fmt::Display for SpecifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecifierError::NotAllowed(c) => write!(f, "specifier %{c} is not allowed here"),
            SpecifierError::HostDependent(c) => {
                write!(f, "specifier %{c} depends on the running machine")
            }
            SpecifierError::TooLong => write!(
                f,
                "expands to more than {} bytes (work budget)",
                super::budget::MAX_EXPANDED_BYTES
            ),
        }
    }
}

/// What an image says about the machine it will boot as, for the specifiers that depend on
/// it (`%H`, `%m`, `%o`, …). Whatever the image does not pin down stays unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// `/etc/hostname`.
    pub hostname: Option<String>,
    /// `/etc/machine-id`, when set (not empty, not `uninitialized`).
    pub machine_id: Option<String>,
    /// `os-release` fields, when the image has the file.
    pub os_release: Option<std::collections::BTreeMap<String, String>>,
}

impl ImageFacts {
    /// Whether `os-release` names Debian or a distribution derived from it (`ID=debian`, or
    /// `debian` among the words of `ID_LIKE=`): its systemd carries Debian's patches.
    pub fn debian_family(&self) -> bool {
        self.os_release.as_ref().is_some_and(|m| {
            m.get("ID").is_some_and(|id| id == "debian")
                || m.get("ID_LIKE")
                    .is_some_and(|l| super::words::split(l).any(|w| w == "debian"))
        })
    }

    fn value(&self, c: char) -> Option<String> {
        let os = |k: &str| {
            self.os_release
                .as_ref()
                .map(|m| m.get(k).cloned().unwrap_or_default())
        };
        match c {
            'H' => self.hostname.clone(),
            'l' => self
                .hostname
                .as_ref()
                .map(|h| h.split('.').next().unwrap_or("").to_string()),
            'm' => self.machine_id.clone(),
            'o' => os("ID"),
            'w' => os("VERSION_ID"),
            'B' => os("BUILD_ID"),
            'W' => os("VARIANT_ID"),
            'A' => os("IMAGE_VERSION"),
            'M' => os("IMAGE_ID"),
            _ => None,
        }
    }
}

/// Expand specifiers in a dependency value word for unit `id` (`unit_name_printf`); the
/// machine-dependent ones are errors (see [`expand_specifiers_with`]).
pub fn expand_specifiers(word: &str, id: &str, rules: &Rules) -> Result<String, SpecifierError> {
    expand_specifiers_with(word, id, rules, &ImageFacts::default())
}

/// Expand specifiers, taking the machine-dependent ones from what the image pins down.
pub fn expand_specifiers_with(
    word: &str,
    id: &str,
    rules: &Rules,
    facts: &ImageFacts,
) -> Result<String, SpecifierError> {
    if !word.contains('%') {
        return Ok(word.to_string());
    }
    let name = UnitName::parse(id);
    let prefix = name.map(|n| n.prefix).unwrap_or(id);
    let instance = name.and_then(|n| n.instance).unwrap_or("");
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(s) = chars.next() else {
            return Err(SpecifierError::NotAllowed('%'));
        };
        if s == '%' {
            out.push('%');
            continue;
        }
        if !rules.specifier_allowed(s) {
            return Err(SpecifierError::NotAllowed(s));
        }
        match s {
            'n' => out.push_str(id),
            'N' => out.push_str(name.map(|n| n.stem()).unwrap_or(id)),
            'p' => out.push_str(prefix),
            'i' => out.push_str(instance),
            'j' => out.push_str(prefix.rsplit('-').next().unwrap_or(prefix)),
            'u' | 'g' => out.push_str("root"),
            'U' | 'G' => out.push('0'),
            other => match facts.value(other) {
                Some(v) => out.push_str(&v),
                None => return Err(SpecifierError::HostDependent(other)),
            },
        }
        if out.len() > super::budget::MAX_EXPANDED_BYTES {
            return Err(SpecifierError::TooLong);
        }
    }
    Ok(out)
}

/// Fill in a template name the way `resolve_template` does: with the owning unit's instance,
/// or, for a unit without one, with its prefix.
pub fn resolve_template(target: &str, owner: &str) -> String {
    match UnitName::parse(target) {
        Some(t) if t.instance == Some("") => {
            let owner = UnitName::parse(owner);
            let instance = match owner {
                Some(o) if o.instance.is_some_and(|i| !i.is_empty()) => o.instance.unwrap_or(""),
                Some(o) => o.prefix,
                None => "",
            };
            t.with_instance(instance)
        }
        _ => target.to_string(),
    }
}

/// Whether a unit of this type can fail (`OnFailure=` is refused otherwise, v245+).
pub fn can_fail(t: UnitType) -> bool {
    !matches!(t, UnitType::Slice | UnitType::Device)
}

/// Whether a setting is a dependency directive (its effect is reported as edges, so a
/// property diff leaves it out).
pub fn is_dependency_setting(section: &str, key: &str) -> bool {
    match section {
        "Unit" => {
            unit_directive(key, &Rules::new(225, 0)).is_some()
                || unit_directive(key, &Rules::default()).is_some()
        }
        "Service" => matches!(key, "Slice" | "Sockets"),
        "Socket" => matches!(key, "Slice" | "Service"),
        "Mount" | "Swap" | "Scope" => key == "Slice",
        "Timer" | "Path" => key == "Unit",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Rules {
        Rules::new(252, 0)
    }

    #[test]
    fn words() {
        assert_eq!(
            split_words(" a.service  b.service\tc "),
            ["a.service", "b.service", "c"]
        );
        assert_eq!(split_words("\"q.service\""), ["\"q.service\""]);
        assert_eq!(
            split_words("c1.service,c2.service"),
            ["c1.service,c2.service"]
        );
        assert_eq!(
            split_words("esc\\x2dname.service"),
            ["esc\\x2dname.service"]
        );
        assert!(split_words("").is_empty());
        // Unicode's other spaces are part of the word (systemd's WHITESPACE is ASCII).
        for c in ['\u{a0}', '\u{85}', '\u{2028}', '\u{3000}'] {
            let v = format!("b.service{c}c.service");
            assert_eq!(split_words(&v), [v.as_str()], "{c:?}");
        }
    }

    #[test]
    fn specifiers() {
        let id = "getty@tty1.service";
        assert_eq!(
            expand_specifiers("x-%i.service", id, &r()).unwrap(),
            "x-tty1.service"
        );
        assert_eq!(expand_specifiers("%n", id, &r()).unwrap(), id);
        assert_eq!(
            expand_specifiers("%N.socket", id, &r()).unwrap(),
            "getty@tty1.socket"
        );
        assert_eq!(
            expand_specifiers("%p.target", id, &r()).unwrap(),
            "getty.target"
        );
        assert_eq!(
            expand_specifiers("%j.target", "a-b-c@x.service", &r()).unwrap(),
            "c.target"
        );
        assert_eq!(expand_specifiers("100%%", id, &r()).unwrap(), "100%");
        for s in ["%I", "%P", "%J", "%f"] {
            assert_eq!(
                expand_specifiers(s, id, &r()),
                Err(SpecifierError::NotAllowed(s.chars().nth(1).unwrap()))
            );
        }
        assert_eq!(
            expand_specifiers("s-i-%i.service", "plain.service", &r()).unwrap(),
            "s-i-.service"
        );
        assert_eq!(
            expand_specifiers("%H.service", id, &r()),
            Err(SpecifierError::HostDependent('H'))
        );
        // %j arrived in v241.
        assert!(expand_specifiers("%j", id, &Rules::new(225, 0)).is_err());
    }

    #[test]
    fn machine_specifiers_from_the_image() {
        let facts = ImageFacts {
            hostname: Some("node1.example.com".into()),
            machine_id: None,
            os_release: Some(
                [("ID".to_string(), "debian".to_string())]
                    .into_iter()
                    .collect(),
            ),
        };
        let e = |w: &str| expand_specifiers_with(w, "a.service", &r(), &facts);
        assert_eq!(e("%H.service").unwrap(), "node1.example.com.service");
        assert_eq!(e("%l.service").unwrap(), "node1.service");
        assert_eq!(e("os-%o.target").unwrap(), "os-debian.target");
        // Unset os-release fields are empty, as in systemd.
        assert_eq!(e("b%B.target").unwrap(), "b.target");
        // Not pinned down by the image: unknown.
        assert_eq!(e("%m.service"), Err(SpecifierError::HostDependent('m')));
        assert_eq!(e("%b.service"), Err(SpecifierError::HostDependent('b')));
    }

    #[test]
    fn templates() {
        assert_eq!(
            resolve_template("tmpl@.service", "plain.service"),
            "tmpl@plain.service"
        );
        assert_eq!(
            resolve_template("bar@.service", "tgt@x.target"),
            "bar@x.service"
        );
        assert_eq!(resolve_template("a.service", "b.service"), "a.service");
    }
}
