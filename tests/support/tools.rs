//! The system tools some tests need (systemd, systemctl, Graphviz, cmark-gfm, util-linux).
//!
//! Tests that use one are marked `#[ignore = "needs …"]`, so `cargo test` on a machine with
//! only Rust passes and lists them as ignored; `.ci/run` installs the tools and runs them with
//! `cargo test -- --include-ignored`. Run that way, a missing tool or a wrong systemd version
//! is a failure with a message saying what to install, never a silent skip.
#![allow(dead_code)] // each test binary includes the support code but uses only part of it

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The systemd version whose behaviour the oracle tests pin (Debian 12 ships 252).
pub const SYSTEMD_VERSION: u32 = 252;

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `tool` on `PATH`, or a panic naming the package to install.
#[track_caller]
pub fn require(tool: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
        .unwrap_or_else(|| {
            panic!("this test needs `{tool}` on PATH: install {package} (.ci/run does)")
        })
}

/// The major version from `BIN --version` ("systemd 252 (252.38-1~deb12u1)").
pub fn systemd_version_of(bin: &Path) -> Result<u32, String> {
    let o = Command::new(bin)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {} --version: {e}", bin.display()))?;
    let out = String::from_utf8_lossy(&o.stdout);
    let first = out.lines().next().unwrap_or("");
    first
        .strip_prefix("systemd ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{} --version printed {first:?}", bin.display()))
}

/// Fails unless `bin` is systemd [`SYSTEMD_VERSION`]: the oracle tests compare against that
/// version's behaviour, and another version's differences would be reported as our bugs.
pub fn check_systemd_version(bin: &Path) -> Result<(), String> {
    if !is_executable(bin) {
        return Err(format!(
            "this test needs systemd {SYSTEMD_VERSION} at {}: install systemd (Debian 12) \
             (.ci/run does)",
            bin.display()
        ));
    }
    match systemd_version_of(bin)? {
        v if v == SYSTEMD_VERSION => Ok(()),
        v => Err(format!(
            "this test needs systemd {SYSTEMD_VERSION} (Debian 12), {} is systemd {v}",
            bin.display()
        )),
    }
}

/// `systemctl` on PATH, of systemd [`SYSTEMD_VERSION`].
#[track_caller]
pub fn require_systemctl() -> PathBuf {
    let p = require("systemctl", "systemd");
    check_systemd_version(&p).unwrap_or_else(|e| panic!("{e}"));
    p
}

/// This machine's own systemd unit tree (`/usr/lib/systemd/system`, from the systemd package),
/// for the tests that compare a real distribution's tree.
#[track_caller]
pub fn require_host_tree() {
    let dir = Path::new("/usr/lib/systemd/system");
    let units = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    assert!(
        units >= 50,
        "this test needs this machine's systemd unit tree in {} ({units} entries): install \
         systemd (.ci/run does)",
        dir.display()
    );
}
