//! The names a provenance carries besides its path: the systemd rule behind an edge that no
//! line wrote by itself (`service-default`) and the generator that wrote a unit or link
//! (`fstab-generator`). Each is one byte, an index into a sorted table of the names (so it
//! orders as its name does), instead of a 16-byte `&'static str`: a 100k-unit image has
//! ~1.5 M edge provenances. A name not in its table does not compile ([`rule_name!`],
//! [`GeneratorName::named`] in a `const`).

use serde::{Serialize, Serializer};
use std::fmt;

/// Every rule name, sorted (see `load::describe_rule` for what each means).
static RULES: [&str; 37] = [
    "automount-default",
    "automount-triggers-mount",
    "default-slice",
    "exec-directories",
    "exec-journal",
    "exec-log-namespace",
    "exec-paths",
    "exec-private-tmp",
    "exec-root-image",
    "mount-default",
    "mount-device",
    "mount-parent",
    "mount-quota",
    "mounts-for",
    "path-default",
    "path-paths",
    "path-triggers-same-name-service",
    "scope-default",
    "service-dbus",
    "service-default",
    "service-oomd",
    "slice-default",
    "slice-membership",
    "slice-parent",
    "socket-bind-device",
    "socket-default",
    "socket-paths",
    "socket-triggers-same-name-service",
    "socket-triggers-service",
    "swap-default",
    "swap-file",
    "target-auto-order",
    "target-default",
    "timer-calendar",
    "timer-default",
    "timer-persistent",
    "timer-triggers-same-name-service",
];

/// Every generator emulated, sorted.
static GENERATORS: [&str; 12] = [
    "clonesetup-generator",
    "cryptsetup-generator",
    "debug-generator",
    "fstab-generator",
    "getty-generator",
    "integritysetup-generator",
    "rc-local-generator",
    "run-generator",
    "ssh-generator",
    "system-update-generator",
    "sysv-generator",
    "veritysetup-generator",
];

/// The index of `name` in `names`; when evaluated in a `const`, an unknown name fails to
/// compile.
const fn index(names: &[&str], name: &str) -> u8 {
    let mut i = 0;
    while i < names.len() {
        if eq(names[i].as_bytes(), name.as_bytes()) {
            return i as u8;
        }
        i += 1;
    }
    panic!("not a known name")
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A rule of systemd's that made an edge (`service-default`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleName(u8);

/// The [`RuleName`] of a literal, checked when compiling.
macro_rules! rule_name {
    ($name:literal) => {
        const { $crate::unit::rule_name::RuleName::named($name) }
    };
}
pub(crate) use rule_name;

impl RuleName {
    /// The rule called `name` (use [`rule_name!`], which checks the name when compiling).
    pub const fn named(name: &str) -> RuleName {
        RuleName(index(&RULES, name))
    }

    pub fn as_str(self) -> &'static str {
        RULES[self.0 as usize]
    }
}

/// A generator of systemd's that wrote a unit or link (`fstab-generator`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GeneratorName(u8);

impl GeneratorName {
    /// The generator called `name` (in a `const`: checked when compiling).
    pub const fn named(name: &str) -> GeneratorName {
        GeneratorName(index(&GENERATORS, name))
    }

    pub fn as_str(self) -> &'static str {
        GENERATORS[self.0 as usize]
    }
}

macro_rules! as_text {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
as_text!(RuleName);
as_text!(GeneratorName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_so_names_order_as_their_text() {
        assert!(RULES.is_sorted_by(|a, b| a < b));
        assert!(GENERATORS.is_sorted_by(|a, b| a < b));
        let (a, b) = (rule_name!("exec-paths"), rule_name!("mount-parent"));
        assert!(a < b && a.as_str() < b.as_str());
        assert_eq!(a.as_str(), "exec-paths");
        assert_eq!(format!("{a} {b:?}"), "exec-paths \"mount-parent\"");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"exec-paths\"");
        let g = GeneratorName::named("fstab-generator");
        assert_eq!(g.as_str(), "fstab-generator");
        assert!(g == "fstab-generator");
        assert_eq!(size_of::<Option<RuleName>>(), 2);
    }

    #[test]
    fn every_rule_has_a_description() {
        for r in RULES {
            assert_ne!(crate::unit::load::describe_rule(r), "systemd rule", "{r}");
        }
    }
}
