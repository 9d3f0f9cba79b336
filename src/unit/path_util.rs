//! systemd's path helpers and the unit names it makes of paths (`src/basic/path-util.c`,
//! `src/basic/unit-name.c`): `path_simplify()`, `path_startswith()`, `is_device_path()`,
//! `unit_name_path_escape()`, `unit_name_from_path()` with the reason it fails, and
//! `unit_name_mangle_with_suffix()`. One copy for the loader (`Where=`, `What=`,
//! `RequiresMountsFor=`), the generators (fstab, crypttab and the other tab files) and the
//! names users type (`/home` is `home.mount`).

use super::name::{self, UNIT_NAME_MAX};

/// Longest path component (`NAME_MAX`).
const NAME_MAX: usize = 255;
/// `PATH_MAX`, counted with the NUL.
const PATH_MAX: usize = 4096;

/// Why a path has no unit name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathNameError {
    /// systemd refuses the path (`-EINVAL`: a `..` component, a component over 255 bytes,
    /// 4,096 bytes or more, empty).
    Invalid,
    /// The name would exceed 255 bytes and systemd is older than 251, which refuses it
    /// (`-ENAMETOOLONG`) where 251+ hashes it ([`name::hash_long`]).
    TooLong,
}

/// `path_simplify()`: `//` and `.` components and trailing slashes dropped (a leading `/`
/// kept; `..` kept as it is).
pub fn path_simplify(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() && !path.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// `path_startswith()`: whether `path`'s components begin with `prefix`'s.
pub fn path_startswith(path: &str, prefix: &str) -> bool {
    if path.starts_with('/') != prefix.starts_with('/') {
        return false;
    }
    let mut p = path.split('/').filter(|c| !c.is_empty());
    prefix
        .split('/')
        .filter(|c| !c.is_empty())
        .all(|c| p.next() == Some(c))
}

/// `is_device_path()`: `/dev` or `/sys`, or under one of them.
pub fn is_device_path(path: &str) -> bool {
    path_startswith(path, "/dev/") || path_startswith(path, "/sys/")
}

/// `unit_name_path_escape()`: the path simplified, `/` → `-`, refused unless normalised and
/// valid (`path_is_normalized()`), escaped.
pub fn path_escape(path: &str) -> Result<String, PathNameError> {
    let p = path_simplify(path);
    if p.is_empty() {
        return Err(PathNameError::Invalid);
    }
    if p == "/" {
        return Ok("-".to_string());
    }
    let valid = p.len() < PATH_MAX
        && p != "."
        && p.split('/')
            .all(|c| c.len() <= NAME_MAX && c != ".." && c != ".");
    if !valid {
        return Err(PathNameError::Invalid);
    }
    Ok(name::escape(p.trim_matches('/')))
}

/// `unit_name_from_path()` of systemd `version`: [`path_escape`] with `suffix` appended, a
/// name over 255 bytes hashed from 251 (refused before): `/var/lib` → `var-lib.mount`, `/` →
/// `-.mount`.
pub fn unit_name_from_path(
    path: &str,
    suffix: &str,
    version: u32,
) -> Result<String, PathNameError> {
    let stem = path_escape(path)?;
    let mut unit = format!("{stem}{suffix}");
    if unit.len() > UNIT_NAME_MAX {
        if version < 251 {
            return Err(PathNameError::TooLong);
        }
        unit = name::hash_long(&unit).ok_or(PathNameError::Invalid)?;
    }
    if name::is_valid(&unit) {
        Ok(unit)
    } else {
        Err(PathNameError::Invalid)
    }
}

/// `unit_name_mangle_with_suffix()` without globs: a valid unit name stays; a device path
/// (`/dev/`, `/sys/`) becomes its `.device` and another absolute path its `.mount` (when
/// systemd can name it); anything else has `/` turned into `-` and characters outside
/// `[A-Za-z0-9:_.\\@-]` escaped as `\xNN`, and `suffix` appended unless it ends in a unit
/// type.
pub fn mangle_with_suffix(n: &str, suffix: &str, version: u32) -> Result<String, PathNameError> {
    if n.is_empty() {
        return Err(PathNameError::Invalid);
    }
    if name::is_valid(n) {
        return Ok(n.to_string());
    }
    for (applies, path_suffix) in [
        (is_device_path(n), ".device"),
        (n.starts_with('/'), ".mount"),
    ] {
        if applies {
            match unit_name_from_path(n, path_suffix, version) {
                Err(PathNameError::Invalid) => {}
                other => return other,
            }
        }
    }
    name::mangle_escaped(n, suffix).ok_or(PathNameError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_simplify_and_name() {
        assert_eq!(path_simplify("//mnt//./e/f/"), "/mnt/e/f");
        assert_eq!(path_simplify("a/./b/"), "a/b");
        assert_eq!(path_simplify("/"), "/");
        assert_eq!(
            unit_name_from_path("/", ".mount", 252),
            Ok("-.mount".into())
        );
        assert_eq!(
            unit_name_from_path("/mnt/a b", ".mount", 252),
            Ok("mnt-a\\x20b.mount".into())
        );
        assert_eq!(
            unit_name_from_path("/var/lib/", ".mount", 252),
            Ok("var-lib.mount".into())
        );
        assert_eq!(
            unit_name_from_path("/var//./lib", ".mount", 252),
            Ok("var-lib.mount".into())
        );
        assert_eq!(
            unit_name_from_path("/dev/disk/by-uuid/ab", ".device", 252),
            Ok("dev-disk-by\\x2duuid-ab.device".into())
        );
        assert_eq!(
            unit_name_from_path("/.dot", ".mount", 252),
            Ok("\\x2edot.mount".into())
        );
        assert_eq!(
            unit_name_from_path("/a/../b", ".mount", 252),
            Err(PathNameError::Invalid)
        );
        let long_component = format!("/mnt/{}", "a".repeat(256));
        assert_eq!(
            unit_name_from_path(&long_component, ".mount", 252),
            Err(PathNameError::Invalid)
        );
        let too_long = format!("/{}", vec!["p".repeat(200); 21].join("/"));
        assert!(too_long.len() >= PATH_MAX);
        assert_eq!(
            unit_name_from_path(&too_long, ".mount", 262),
            Err(PathNameError::Invalid)
        );
        let long_name = format!("/mnt/{}", vec!["b".repeat(50); 6].join("/"));
        assert_eq!(
            unit_name_from_path(&long_name, ".mount", 250),
            Err(PathNameError::TooLong)
        );
        let hashed = unit_name_from_path(&long_name, ".mount", 251).unwrap();
        assert_eq!(hashed.len(), 255);
        assert!(
            hashed.ends_with(".mount") && hashed.contains('_'),
            "{hashed}"
        );
        assert!(path_startswith("/sys/fs/cgroup", "/sys/fs/cgroup/"));
        assert!(!path_startswith("/run/hostx", "/run/host"));
        assert!(is_device_path("//dev//sda"));
        assert!(is_device_path("/dev"));
        assert!(!is_device_path("/devices"));
    }

    /// What the fstab generators of 252 and 262.1 named the mount of a 310-byte path.
    #[test]
    fn long_names_are_hashed_from_251() {
        let c = "c".repeat(100);
        let path = format!("/mnt/{c}/{c}/{c}");
        let want = format!("mnt-{c}-{c}-{}_3590c1c6aa2b0984.mount", &c[..26]);
        assert_eq!(want.len(), 255);
        assert_eq!(unit_name_from_path(&path, ".mount", 251), Ok(want.clone()));
        assert_eq!(unit_name_from_path(&path, ".mount", 262), Ok(want));
        assert_eq!(
            unit_name_from_path(&path, ".mount", 250),
            Err(PathNameError::TooLong)
        );
        assert_eq!(name::hash_long("no-suffix"), None);
        // A name of 255 bytes is not hashed.
        let fits = format!("/{}", "d".repeat(249));
        assert_eq!(
            unit_name_from_path(&fits, ".mount", 262),
            Ok(format!("{}.mount", "d".repeat(249)))
        );
    }

    #[test]
    fn names_are_mangled_with_a_suffix() {
        let m = |n: &str| mangle_with_suffix(n, ".service", 262);
        assert_eq!(m("ssh"), Ok("ssh.service".into()));
        assert_eq!(m("foo.mount"), Ok("foo.mount".into()));
        assert_eq!(m("/home"), Ok("home.mount".into()));
        assert_eq!(m("/dev/sda"), Ok("dev-sda.device".into()));
        assert_eq!(m("/dev"), Ok("dev.device".into()));
        // A path systemd cannot name is escaped as any other word.
        assert_eq!(m("/a/../b"), Ok("-a-..-b.service".into()));
        assert_eq!(m(""), Err(PathNameError::Invalid));
    }
}
