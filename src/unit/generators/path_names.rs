//! systemd's unit names for paths as `systemd-fstab-generator` makes them
//! (`src/basic/unit-name.c`, `src/basic/path-util.c` of v252–v256): `unit_name_from_path()`
//! with the reason it fails, and `unit_name_mangle_with_suffix()` for the names of
//! `x-systemd.after=`/`before=`/`requires=`/`wants=`.

use crate::unit::name;

/// Longest unit name, `UNIT_NAME_MAX` (256) less the NUL.
const UNIT_NAME_MAX: usize = 255;
/// Longest path component (`NAME_MAX`).
const NAME_MAX: usize = 255;
/// `PATH_MAX`, counted with the NUL.
const PATH_MAX: usize = 4096;

/// Why a path has no unit name we can model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathNameError {
    /// systemd refuses the path (`-EINVAL`: a `..` component, a component over 255 bytes,
    /// 4,096 bytes or more, empty).
    Invalid,
    /// The name would exceed 255 bytes and systemd is older than 251, which refuses it
    /// (`-ENAMETOOLONG`) where 251+ hashes it ([`name::hash_long`]).
    TooLong,
}

/// `path_simplify()`: `//` and `.` components and trailing slashes dropped (a leading `/`
/// kept; `..` kept as it is).
pub(crate) fn path_simplify(path: &str) -> String {
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
pub(crate) fn path_startswith(path: &str, prefix: &str) -> bool {
    if path.starts_with('/') != prefix.starts_with('/') {
        return false;
    }
    let mut p = path.split('/').filter(|c| !c.is_empty());
    prefix
        .split('/')
        .filter(|c| !c.is_empty())
        .all(|c| p.next() == Some(c))
}

/// `is_device_path()`: under `/dev/` or `/sys/`.
pub(crate) fn is_device_path(path: &str) -> bool {
    path_startswith(path, "/dev/") || path_startswith(path, "/sys/")
}

/// `unit_name_path_escape()`: the path simplified, `/` → `-`, refused unless normalised and
/// valid (`path_is_normalized()`), escaped.
pub(crate) fn path_escape(path: &str) -> Result<String, PathNameError> {
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
/// name over 255 bytes hashed from 251 (refused before).
pub(crate) fn unit_name_from_path(
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

/// Unit types a name may end with (`unit_type_from_string()`).
/// `unit_name_mangle_with_suffix(name, …, 0, ".mount")`: a valid unit name stays; a device
/// path (`/dev/`, `/sys/`) becomes its `.device`, another absolute path its `.mount`;
/// anything else has `/` turned into `-` and characters outside `[A-Za-z0-9:_.\\@-]`
/// escaped as `\xNN`, and `.mount` appended unless it ends in a unit type.
pub(crate) fn mangle_with_mount_suffix(n: &str, version: u32) -> Result<String, PathNameError> {
    if n.is_empty() {
        return Err(PathNameError::Invalid);
    }
    if name::is_valid(n) {
        return Ok(n.to_string());
    }
    for (applies, suffix) in [
        (is_device_path(n), ".device"),
        (n.starts_with('/'), ".mount"),
    ] {
        if applies {
            match unit_name_from_path(n, suffix, version) {
                Err(PathNameError::Invalid) => {}
                other => return other,
            }
        }
    }
    name::mangle_escaped(n, ".mount").ok_or(PathNameError::Invalid)
}

/// `specifier_escape()`: `%` doubled.
pub(crate) fn specifier_escape(s: &str) -> String {
    s.replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_simplify_and_name() {
        assert_eq!(path_simplify("//mnt//./e/f/"), "/mnt/e/f");
        assert_eq!(path_simplify("a/./b/"), "a/b");
        assert_eq!(
            unit_name_from_path("/", ".mount", 252),
            Ok("-.mount".into())
        );
        assert_eq!(
            unit_name_from_path("/mnt/a b", ".mount", 252),
            Ok("mnt-a\\x20b.mount".into())
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
    }

    /// What Debian 12's generator wrote for `x-systemd.after=`/`requires=` values.
    #[test]
    fn dependencies_are_mangled() {
        let m = |n: &str| mangle_with_mount_suffix(n, 252);
        assert_eq!(m("foo"), Ok("foo.mount".into()));
        assert_eq!(m("foo.service"), Ok("foo.service".into()));
        assert_eq!(m("a b"), Ok("a\\x20b.mount".into()));
        assert_eq!(m("/srv/y"), Ok("srv-y.mount".into()));
        assert_eq!(m("/sys/devices/x"), Ok("sys-devices-x.device".into()));
        assert_eq!(m("/dev/sdz"), Ok("dev-sdz.device".into()));
        assert_eq!(m(""), Err(PathNameError::Invalid));
        assert_eq!(m(&"x".repeat(300)), Err(PathNameError::Invalid));
    }
}
