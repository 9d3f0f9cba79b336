//! The path helpers the generators use: [`crate::unit::path_util`]'s (one copy with the
//! loader's), `unit_name_mangle_with_suffix()` with `.mount` for the names of
//! `x-systemd.after=`/`before=`/`requires=`/`wants=`, and `specifier_escape()`.

use crate::unit::path_util::mangle_with_suffix;
pub(crate) use crate::unit::path_util::{
    PathNameError, is_device_path, path_escape, path_simplify, path_startswith, unit_name_from_path,
};

/// `unit_name_mangle_with_suffix(name, …, 0, ".mount")` ([`mangle_with_suffix`]), for the
/// names of `x-systemd.after=`/`before=`/`requires=`/`wants=`.
pub(crate) fn mangle_with_mount_suffix(n: &str, version: u32) -> Result<String, PathNameError> {
    mangle_with_suffix(n, ".mount", version)
}

/// `specifier_escape()`: `%` doubled.
pub(crate) fn specifier_escape(s: &str) -> String {
    s.replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

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
