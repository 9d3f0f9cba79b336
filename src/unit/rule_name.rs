//! The names a provenance carries besides its path: the systemd rule behind an edge that no
//! line wrote by itself (`service-default`) and the generator that wrote a unit or link
//! (`fstab-generator`). Each is one byte, an index into a sorted table of the names (so it
//! orders as its name does), instead of a 16-byte `&'static str`: a 100k-unit image has
//! ~1.5 M edge provenances. A name not in its table does not compile ([`rule_name!`],
//! [`GeneratorName::named`] in a `const`).

use serde::{Serialize, Serializer};
use std::fmt;

/// Every rule name with what it means, sorted by name.
const RULES: [(&str, &str); 37] = [
    (
        "automount-default",
        "default dependencies of an automount (DefaultDependencies=yes)",
    ),
    (
        "automount-triggers-mount",
        "an automount triggers the mount of the same name",
    ),
    (
        "default-slice",
        "units with processes are placed in system.slice (instances in system-PREFIX.slice)",
    ),
    (
        "exec-directories",
        "State/Cache/LogsDirectory= need a writable /var",
    ),
    (
        "exec-journal",
        "output to the journal orders the unit after systemd-journald.socket",
    ),
    (
        "exec-log-namespace",
        "LogNamespace= uses that namespace's journald sockets",
    ),
    (
        "exec-paths",
        "WorkingDirectory=/RootDirectory=/RootImage=/…Directory= need their mounts",
    ),
    (
        "exec-private-tmp",
        "PrivateTmp= needs /tmp and /var/tmp and tmpfiles set-up",
    ),
    ("exec-root-image", "RootImage= waits for udev"),
    (
        "mount-default",
        "default dependencies of a mount (DefaultDependencies=yes)",
    ),
    ("mount-device", "a mount of a device needs that device"),
    (
        "mount-parent",
        "a mount needs the mount of its parent directory and of What=",
    ),
    (
        "mount-quota",
        "a mount with quota options is checked and has quota turned on (before 256)",
    ),
    (
        "mounts-for",
        "a unit is ordered after (and requires) the mount units of its paths",
    ),
    (
        "path-default",
        "default dependencies of a path unit (DefaultDependencies=yes)",
    ),
    (
        "path-paths",
        "a path unit needs the mounts of the paths it watches",
    ),
    (
        "path-triggers-same-name-service",
        "a path unit triggers the service of the same name",
    ),
    (
        "scope-default",
        "default dependencies of a scope (DefaultDependencies=yes)",
    ),
    ("service-dbus", "a Type=dbus service needs the D-Bus socket"),
    (
        "service-default",
        "default dependencies of a service (DefaultDependencies=yes)",
    ),
    ("service-oomd", "ManagedOOM…=kill needs systemd-oomd"),
    (
        "slice-default",
        "default dependencies of a slice (DefaultDependencies=yes)",
    ),
    (
        "slice-membership",
        "a unit is ordered after and requires its slice",
    ),
    (
        "slice-parent",
        "a slice is part of its parent slice (a-b.slice in a.slice)",
    ),
    (
        "socket-bind-device",
        "BindToDevice= binds the socket to the network device",
    ),
    (
        "socket-default",
        "default dependencies of a socket (DefaultDependencies=yes)",
    ),
    (
        "socket-paths",
        "a socket needs the mounts of its file-system paths",
    ),
    (
        "socket-triggers-same-name-service",
        "a socket triggers the service of the same name",
    ),
    ("socket-triggers-service", "a socket triggers its Service="),
    (
        "swap-default",
        "default dependencies of a swap unit (DefaultDependencies=yes)",
    ),
    (
        "swap-file",
        "a swap file needs the root file system remounted writable",
    ),
    (
        "target-auto-order",
        "a target is ordered after the units it pulls in",
    ),
    (
        "target-default",
        "default dependencies of a target (DefaultDependencies=yes)",
    ),
    (
        "timer-calendar",
        "a calendar timer is ordered after the clock is set",
    ),
    (
        "timer-default",
        "default dependencies of a timer (DefaultDependencies=yes)",
    ),
    (
        "timer-persistent",
        "Persistent= stores its stamp in /var/lib/systemd/timers",
    ),
    (
        "timer-triggers-same-name-service",
        "a timer triggers the service of the same name",
    ),
];

/// The names of [`RULES`], for [`index`].
const RULE_NAMES: [&str; RULES.len()] = names_of(&RULES);

const fn names_of<const N: usize>(table: &[(&'static str, &'static str); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = table[i].0;
        i += 1;
    }
    out
}

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
        RuleName(index(&RULE_NAMES, name))
    }

    pub fn as_str(self) -> &'static str {
        RULES[self.0 as usize].0
    }

    /// What the rule is, in one line (the JSON's `why`).
    pub fn description(self) -> &'static str {
        RULES[self.0 as usize].1
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
        assert!(RULE_NAMES.is_sorted_by(|a, b| a < b));
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
        for (name, what) in RULES {
            assert!(what.len() > 20, "{name}");
            assert_eq!(RuleName::named(name).description(), what);
        }
    }
}
