//! Unit names: validity, type, template and instance (systemd's `unit-name.c` rules).

use serde::Serialize;
use std::fmt;

/// Longest valid unit name in bytes (`UNIT_NAME_MAX` is 256 including the NUL).
pub const UNIT_NAME_MAX: usize = 255;

/// The unit types, by their file-name suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitType {
    Service,
    Socket,
    Target,
    Device,
    Mount,
    Automount,
    Swap,
    Timer,
    Path,
    Slice,
    Scope,
}

impl UnitType {
    pub const ALL: [UnitType; 11] = [
        UnitType::Service,
        UnitType::Socket,
        UnitType::Target,
        UnitType::Device,
        UnitType::Mount,
        UnitType::Automount,
        UnitType::Swap,
        UnitType::Timer,
        UnitType::Path,
        UnitType::Slice,
        UnitType::Scope,
    ];

    pub fn from_suffix(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UnitType::Service => "service",
            UnitType::Socket => "socket",
            UnitType::Target => "target",
            UnitType::Device => "device",
            UnitType::Mount => "mount",
            UnitType::Automount => "automount",
            UnitType::Swap => "swap",
            UnitType::Timer => "timer",
            UnitType::Path => "path",
            UnitType::Slice => "slice",
            UnitType::Scope => "scope",
        }
    }

    /// The type-specific section of a unit file (`[Service]`, `[Socket]`, …), if any.
    pub fn section(self) -> Option<&'static str> {
        match self {
            UnitType::Service => Some("Service"),
            UnitType::Socket => Some("Socket"),
            UnitType::Mount => Some("Mount"),
            UnitType::Automount => Some("Automount"),
            UnitType::Swap => Some("Swap"),
            UnitType::Timer => Some("Timer"),
            UnitType::Path => Some("Path"),
            UnitType::Slice => Some("Slice"),
            UnitType::Scope => Some("Scope"),
            UnitType::Target | UnitType::Device => None,
        }
    }

    /// Types that load without a fragment file (systemd 252: slice and device).
    pub fn fragment_optional(self) -> bool {
        matches!(self, UnitType::Slice | UnitType::Device)
    }

    /// Types that may be aliased by a symlink (v243+ alias validation).
    pub fn can_alias(self) -> bool {
        matches!(
            self,
            UnitType::Service
                | UnitType::Socket
                | UnitType::Target
                | UnitType::Device
                | UnitType::Timer
                | UnitType::Path
        )
    }

    /// Types that may be templated.
    pub fn can_template(self) -> bool {
        matches!(
            self,
            UnitType::Service
                | UnitType::Socket
                | UnitType::Target
                | UnitType::Timer
                | UnitType::Path
        )
    }
}

impl fmt::Display for UnitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a name is plain (`foo.service`), a template (`foo@.service`) or an instance
/// (`foo@bar.service`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Plain,
    Template,
    Instance,
}

/// A parsed, valid unit name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitName<'a> {
    pub name: &'a str,
    /// Text before the `@` (or before the suffix for plain names).
    pub prefix: &'a str,
    /// `None` for plain names, `Some("")` for templates.
    pub instance: Option<&'a str>,
    pub unit_type: UnitType,
}

fn valid_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b':' | b'-' | b'_' | b'.' | b'\\')
}

impl<'a> UnitName<'a> {
    /// Parse a unit name; `None` if systemd would call it invalid.
    pub fn parse(name: &'a str) -> Option<Self> {
        if name.is_empty() || name.len() > UNIT_NAME_MAX {
            return None;
        }
        let dot = name.rfind('.')?;
        let unit_type = UnitType::from_suffix(&name[dot + 1..])?;
        let stem = &name[..dot];
        let (prefix, instance) = match stem.find('@') {
            Some(at) => (&stem[..at], Some(&stem[at + 1..])),
            None => (stem, None),
        };
        if prefix.is_empty() || !prefix.bytes().all(valid_char) {
            return None;
        }
        if let Some(i) = instance
            && !i.bytes().all(|c| valid_char(c) || c == b'@')
        {
            return None;
        }
        Some(UnitName {
            name,
            prefix,
            instance,
            unit_type,
        })
    }

    pub fn kind(&self) -> NameKind {
        match self.instance {
            None => NameKind::Plain,
            Some("") => NameKind::Template,
            Some(_) => NameKind::Instance,
        }
    }

    /// `foo@.service` for `foo@bar.service` (and for the template itself).
    pub fn template(&self) -> Option<String> {
        self.instance
            .map(|_| format!("{}@.{}", self.prefix, self.unit_type))
    }

    /// The same name with `instance` filled in (for templates and instances).
    pub fn with_instance(&self, instance: &str) -> String {
        format!("{}@{}.{}", self.prefix, instance, self.unit_type)
    }

    /// `foo-bar@x` / `foo-bar`: the name without its type suffix.
    pub fn stem(&self) -> &'a str {
        &self.name[..self.name.len() - self.unit_type.as_str().len() - 1]
    }
}

/// Whether `name` is a valid unit name of any kind.
pub fn is_valid(name: &str) -> bool {
    UnitName::parse(name).is_some()
}

/// The last step of systemd's `unit_name_mangle_with_suffix()` for a name that is neither
/// valid nor a path: `/` becomes `-`, bytes outside `[A-Za-z0-9:_.\\@-]` become `\xNN`, and
/// `suffix` (`.service`, `.mount`) is appended unless the result ends in a unit type;
/// `None` if that is still no valid name.
pub fn mangle_escaped(name: &str, suffix: &str) -> Option<String> {
    let mut s = String::with_capacity(name.len() + suffix.len() + 2);
    for b in name.bytes() {
        match b {
            b'/' => s.push('-'),
            b if b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b) => s.push(b as char),
            b => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    let typed = s
        .rsplit_once('.')
        .is_some_and(|(_, t)| UnitType::from_suffix(t).is_some());
    if !typed {
        s.push_str(suffix);
    }
    is_valid(&s).then_some(s)
}

/// Undo systemd's `\xNN` escaping (used for `%I`, `%P`, `%J`).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let Some(v) = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 4;
            continue;
        }
        if b[i] == b'-' {
            out.push(b'/');
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escape a string the way `unit_name_escape` does: `/` becomes `-`, `-`, `\` and anything
/// outside `[A-Za-z0-9:_.]` (and a leading `.`) become `\xNN`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'/' => out.push('-'),
            b'.' if i == 0 => out.push_str("\\x2e"),
            b if b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.') => {
                out.push(b as char)
            }
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// `unit_name_hash_long()` (systemd 251+, PR #22759): a name over 255 bytes cut to fit,
/// then `_`, the SipHash-2-4 of the whole name (and its NUL) under a fixed key (16 hex digits of its
/// little-endian bytes) and the type suffix, so that mounts and devices of long paths
/// still have names (`mnt-ccc…_3590c1c6aa2b0984.mount`, as 252's and 262.1's fstab
/// generators write it). `None` for a name without a unit type suffix.
pub fn hash_long(unit: &str) -> Option<String> {
    use std::hash::Hasher;
    const KEY: [u8; 16] = [
        0xec, 0xf2, 0x37, 0xfb, 0x58, 0x32, 0x4a, 0x32, 0x84, 0x9f, 0x06, 0x9b, 0x0d, 0x21, 0xeb,
        0x9a,
    ];
    let (_, suffix) = unit.rsplit_once('.')?;
    UnitType::from_suffix(suffix)?;
    let mut h = siphasher::sip::SipHasher24::new_with_key(&KEY);
    // `siphash24_string()` hashes the C string with its NUL.
    h.write(unit.as_bytes());
    h.write(&[0]);
    let hash: String = h
        .finish()
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let keep = UNIT_NAME_MAX - suffix.len() - hash.len() - 2;
    let head = unit.get(..keep)?;
    Some(format!("{head}_{hash}.{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds() {
        let n = UnitName::parse("getty@tty1.service").unwrap();
        assert_eq!(n.kind(), NameKind::Instance);
        assert_eq!(n.prefix, "getty");
        assert_eq!(n.instance, Some("tty1"));
        assert_eq!(n.template().unwrap(), "getty@.service");
        assert_eq!(n.stem(), "getty@tty1");
        assert_eq!(
            UnitName::parse("getty@.service").unwrap().kind(),
            NameKind::Template
        );
        assert_eq!(
            UnitName::parse("dbus-org.freedesktop.login1.service")
                .unwrap()
                .kind(),
            NameKind::Plain
        );
        assert_eq!(
            UnitName::parse("a@b@c.service").unwrap().instance,
            Some("b@c")
        );
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            "foo",
            "foo.Service",
            "\"q.service\"",
            "a b.service",
            "@x.service",
            ".service",
            "c1.service,c2.service",
            "#",
        ] {
            assert!(!is_valid(bad), "{bad} should be invalid");
        }
        assert!(is_valid("esc\\x2dname.service"));
        assert!(is_valid("-.slice"));
        assert!(is_valid("-.mount"));
        let long = format!("{}.service", "a".repeat(247));
        assert!(is_valid(&long));
        let too_long = format!("{}.service", "a".repeat(248));
        assert!(!is_valid(&too_long));
    }

    #[test]
    fn unescape_paths() {
        assert_eq!(unescape("dev-disk-by\\x2duuid"), "dev/disk/by-uuid");
    }
}
