//! Bad input inside an image (issue point 6): unreadable, non-UTF-8, binary and huge files,
//! FIFOs, devices, symlink loops and symlinks that try to leave the image root.
//!
//! Each case builds a small root in a temporary directory (`etc/systemd/system/`,
//! `usr/lib/systemd/system/` and a normal `good.service`), runs `unitdiff graph ROOT
//! --format json` with a deadline (a blocked open of a FIFO must fail the test, not hang
//! it), and checks the JSON (unit states by name) and the warnings on stderr, which have the
//! form `unitdiff: warning: ROOT: PATH[:LINE]: message`.
//!
//! Symlinks that point out of the image aim at a canary: a unit file in *another* temporary
//! directory whose content carries the marker [`LEAK`]. The marker must never reach stdout.

#[path = "support/bounded.rs"]
mod bounded;

use serde_json::Value;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// Written only in canary files outside every image root.
const LEAK: &str = "CANARY-LEAKED";
/// A unit file that would add edges and an [Install] entry naming [`LEAK`] if it were read.
const CANARY_UNIT: &str = "[Unit]\nDescription=CANARY-LEAKED description\n\
    Wants=CANARY-LEAKED.service\nAfter=CANARY-LEAKED.service\n\
    [Service]\nExecStart=/bin/true\n[Install]\nWantedBy=CANARY-LEAKED.target\n";
/// How long one run may take before we call it a hang.
const DEADLINE: Duration = Duration::from_secs(20);

const GOOD: &str = "[Unit]\nDescription=good\nWants=other.target\n[Service]\nExecStart=/bin/true\n";

/// An image root under construction.
struct Image {
    dir: TempDir,
}

impl Image {
    /// A root with both unit directories and `/usr/lib/systemd/system/good.service`.
    fn new() -> Self {
        let img = Image {
            dir: tempfile::tempdir().unwrap(),
        };
        img.mkdir("etc/systemd/system");
        img.mkdir("usr/lib/systemd/system");
        img.write("usr/lib/systemd/system/good.service", GOOD);
        img
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn host(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn mkdir(&self, rel: &str) {
        std::fs::create_dir_all(self.host(rel)).unwrap();
    }

    fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.host(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn symlink(&self, rel: &str, target: impl AsRef<Path>) {
        let p = self.host(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }

    fn mkfifo(&self, rel: &str) {
        let p = self.host(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        assert_eq!(
            unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
            0,
            "mkfifo {rel}"
        );
    }

    /// Make a device node; `Err` says why it could not be made (no privilege).
    fn mknod(&self, rel: &str, kind: libc::mode_t, major: u32, minor: u32) -> Result<(), String> {
        let p = self.host(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        let dev = libc::makedev(major, minor);
        if unsafe { libc::mknod(c.as_ptr(), kind | 0o644, dev) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().to_string())
        }
    }
}

/// A directory outside every image holding the canary in the shapes the escapes need.
struct Canary {
    dir: TempDir,
}

impl Canary {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path();
        std::fs::write(c.join("canary.service"), CANARY_UNIT).unwrap();
        std::fs::write(c.join("canary.conf"), CANARY_UNIT).unwrap();
        // Looks like a `/usr/lib` or `/usr/lib/systemd` to a search path that leaves the root.
        std::fs::create_dir_all(c.join("systemd/system/good.service.d")).unwrap();
        std::fs::write(c.join("systemd/system/leak.service"), CANARY_UNIT).unwrap();
        std::fs::write(c.join("systemd/system/good.service"), CANARY_UNIT).unwrap();
        std::fs::write(
            c.join("systemd/system/good.service.d/canary.conf"),
            CANARY_UNIT,
        )
        .unwrap();
        Canary { dir }
    }

    /// Absolute host path of the canary directory.
    fn abs(&self) -> &Path {
        self.dir.path()
    }

    /// A relative target that climbs from `depth` directories below the image root to the
    /// host's `/` and then down to `rest` inside the canary directory: on the host it would
    /// reach the canary; inside the image `..` stops at the root.
    fn climb(&self, depth: usize, rest: &str) -> String {
        let up = "../".repeat(depth + 8);
        let from_slash = self.abs().strip_prefix("/").unwrap().to_str().unwrap();
        format!("{up}{from_slash}/{rest}")
    }
}

/// One finished run of `unitdiff graph`.
struct Run {
    root: PathBuf,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    fn unit(&self, name: &str) -> Option<Value> {
        self.json()["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .cloned()
    }

    /// The load state of `name`, `None` if the graph does not list it.
    fn state(&self, name: &str) -> Option<String> {
        self.unit(name)
            .map(|u| u["state"].as_str().unwrap().to_string())
    }

    fn has_edge(&self, from: &str, kind: &str, to: &str) -> bool {
        self.json()["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == from && e["kind"] == kind && e["to"] == to)
    }

    /// Messages of the warnings about in-image `path` (`path: msg` or `path:LINE: msg`),
    /// with the line number (if any) left at the front.
    fn warnings_about(&self, path: &str) -> Vec<String> {
        let prefix = format!("unitdiff: warning: {}: ", self.root.display());
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .filter_map(|rest| rest.strip_prefix(path))
            .filter(|rest| rest.starts_with(':'))
            .map(|rest| rest[1..].trim_start().to_string())
            .collect()
    }

    /// Assert there is a warning about `path` whose message contains `needle`.
    #[track_caller]
    fn assert_warned(&self, path: &str, needle: &str) {
        let w = self.warnings_about(path);
        assert!(
            w.iter().any(|m| m.contains(needle)),
            "expected a warning about {path} containing {needle:?}; got {w:?}\nstderr:\n{}",
            self.stderr
        );
    }

    #[track_caller]
    fn assert_state(&self, name: &str, want: &str) {
        assert_eq!(
            self.state(name).as_deref(),
            Some(want),
            "state of {name}; unit: {:?}\nstderr:\n{}",
            self.unit(name),
            self.stderr
        );
    }

    /// The run ended normally (exit 0, no error line, no panic).
    #[track_caller]
    fn assert_ok(&self) {
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        assert!(
            !self.stderr.contains("unitdiff: error"),
            "error:\n{}",
            self.stderr
        );
        assert_eq!(self.code, Some(0), "stderr:\n{}", self.stderr);
    }

    #[track_caller]
    fn assert_no_leak(&self) {
        assert!(
            !self.stdout.contains(LEAK),
            "canary content reached stdout:\n{}",
            self.stdout
        );
    }
}

/// Run `unitdiff ARGS`, killing it and failing the test if it outlives [`DEADLINE`].
/// `as_nobody` drops to uid/gid 65534 first (only possible when we are root).
fn run_with(root: &Path, args: &[&str], as_nobody: bool) -> Run {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("unitdiff"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if as_nobody {
        use std::os::unix::process::CommandExt;
        // SAFETY: only async-signal-safe libc calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        // Dropping privileges can be refused (no CAP_SETUID); the caller decides.
        Err(e) if as_nobody => {
            return Run {
                root: root.to_path_buf(),
                code: None,
                stdout: String::new(),
                stderr: format!("cannot run as nobody: {e}"),
            };
        }
        Err(e) => panic!("spawn unitdiff: {e}"),
    };
    let o = bounded::wait(child, DEADLINE, &format!("unitdiff {args:?}"));
    Run {
        root: root.to_path_buf(),
        code: o.code,
        stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `unitdiff graph ROOT --format json`.
fn graph(root: &Path) -> Run {
    run_with(
        root,
        &["graph", root.to_str().unwrap(), "--format", "json"],
        false,
    )
}

/// `unitdiff graph ROOT` (text).
fn graph_text(root: &Path) -> Run {
    run_with(root, &["graph", root.to_str().unwrap()], false)
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// 64 KiB of bytes from a fixed-seed LCG, with NULs, newlines and high bytes.
fn junk(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x5eed_1234_abcd_0001;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------------

/// A unit file and a drop-in nobody may read. As root (how CI runs) permissions do not stop
/// reads, so the plain run only has to complete; then the same image is run again as
/// `nobody`, where the reads really fail: the file is warned about and the unit not-found,
/// the drop-in is ignored with a warning and its unit still loads.
#[test]
fn unreadable_files() {
    let img = Image::new();
    img.write("usr/lib/systemd/system/secret.service", GOOD);
    img.write(
        "etc/systemd/system/good.service.d/10-secret.conf",
        "[Unit]\nWants=secret.service\n",
    );
    for f in [
        "usr/lib/systemd/system/secret.service",
        "etc/systemd/system/good.service.d/10-secret.conf",
    ] {
        std::fs::set_permissions(img.host(f), std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let r = graph(img.root());
    r.assert_ok();
    r.assert_state("good.service", "loaded");
    if !is_root() {
        r.assert_warned("/usr/lib/systemd/system/secret.service", "");
        r.assert_state("secret.service", "not-found");
        r.assert_warned("/etc/systemd/system/good.service.d/10-secret.conf", "");
        return;
    }
    // Root reads mode-000 files: everything loads.
    r.assert_state("secret.service", "loaded");

    // Now as nobody. The temporary directory is private to root: open the path up.
    std::fs::set_permissions(img.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run_with(
        img.root(),
        &["graph", img.root().to_str().unwrap(), "--format", "json"],
        true,
    );
    if r.stderr.starts_with("cannot run as nobody") {
        eprintln!(
            "could not run as nobody, skipping the unprivileged half: {}",
            r.stderr
        );
        return;
    }
    r.assert_ok();
    r.assert_state("good.service", "loaded");
    r.assert_warned("/usr/lib/systemd/system/secret.service", "ermission denied");
    r.assert_warned(
        "/etc/systemd/system/good.service.d/10-secret.conf",
        "ermission denied",
    );
    // systemd 252 --test as nobody, checked by hand: "Failed to open …: Permission
    // denied" and not-found.
    r.assert_state("secret.service", "not-found");
}

/// Invalid UTF-8 on line 3 stops parsing there (systemd ≥ 239): a warning names path and
/// line, the unit is `error`, and the dependency on line 2 is kept while line 4's is not.
#[test]
fn invalid_utf8_line() {
    let img = Image::new();
    img.write(
        "usr/lib/systemd/system/bad-utf8.service",
        b"[Unit]\nWants=before-bad.service\nDescription=caf\xe9 \xff\xfe\nAfter=after-bad.service\n[Service]\nExecStart=/bin/true\n",
    );
    let r = graph(img.root());
    r.assert_ok();
    r.assert_warned("/usr/lib/systemd/system/bad-utf8.service", "3:");
    let w = r.warnings_about("/usr/lib/systemd/system/bad-utf8.service");
    assert!(
        w.iter().any(|m| m.starts_with("3:") && m.contains("UTF-8")),
        "{w:?}"
    );
    r.assert_state("bad-utf8.service", "error");
    assert!(
        r.has_edge("bad-utf8.service", "Wants", "before-bad.service"),
        "{}",
        r.stdout
    );
    assert!(
        !r.has_edge("bad-utf8.service", "After", "after-bad.service"),
        "{}",
        r.stdout
    );
    r.assert_state("good.service", "loaded");
}

/// 64 KiB of binary junk (NULs, control and high bytes) as a unit file and as a drop-in,
/// and a file whose name is not UTF-8: no panic, a warning naming the junk file, and a
/// sensible state.
#[test]
fn binary_junk() {
    let img = Image::new();
    img.write("usr/lib/systemd/system/junk.service", junk(64 * 1024));
    img.write(
        "etc/systemd/system/good.service.d/junk.conf",
        junk(64 * 1024),
    );
    let odd = img
        .root()
        .join("usr/lib/systemd/system")
        .join(std::ffi::OsStr::from_bytes(b"odd\xff.service"));
    std::fs::write(odd, GOOD).unwrap();
    let r = graph(img.root());
    r.assert_ok();
    r.assert_warned("/usr/lib/systemd/system/junk.service", "");
    let s = r.state("junk.service").expect("junk.service is listed");
    assert!(
        ["loaded", "error", "bad-setting"].contains(&s.as_str()),
        "junk.service: {s}"
    );
    r.assert_state("good.service", "loaded");
    r.assert_warned("/etc/systemd/system/good.service.d/junk.conf", "");
    let t = graph_text(img.root());
    t.assert_ok();
}

/// Files over the 4 MiB limit are refused before they are read: a 5 MiB unit, a 5 MiB
/// drop-in and an 8 GiB sparse unit (reading it would take minutes). Each is warned about
/// as "too large"; the huge unit is not-found, its edges absent; the drop-in sets nothing.
#[test]
fn huge_files() {
    let img = Image::new();
    let mut big = b"[Unit]\nWants=huge-dep.service\n".to_vec();
    while big.len() < 5 * 1024 * 1024 {
        big.extend_from_slice(b"# padding padding padding padding padding padding padding\n");
    }
    img.write("usr/lib/systemd/system/huge.service", &big);
    img.write("etc/systemd/system/good.service.d/huge.conf", &big);
    let sparse = std::fs::File::create(img.host("usr/lib/systemd/system/sparse.service")).unwrap();
    sparse.set_len(8 << 30).unwrap();
    drop(sparse);
    let r = graph(img.root());
    r.assert_ok();
    r.assert_warned("/usr/lib/systemd/system/huge.service", "too large");
    r.assert_warned("/usr/lib/systemd/system/sparse.service", "too large");
    r.assert_warned("/etc/systemd/system/good.service.d/huge.conf", "too large");
    r.assert_state("huge.service", "not-found");
    r.assert_state("sparse.service", "not-found");
    r.assert_state("good.service", "loaded");
    assert!(!r.has_edge("huge.service", "Wants", "huge-dep.service"));
    assert!(!r.has_edge("good.service", "Wants", "huge-dep.service"));
    // Not read, but it still takes its name (as an unreadable drop-in does in systemd):
    // listed, setting nothing.
    let good = r.unit("good.service").unwrap();
    assert_eq!(
        good["dropins"],
        serde_json::json!(["/etc/systemd/system/good.service.d/huge.conf"]),
        "{good}"
    );
}

/// FIFOs are never opened, so they never block a run. A FIFO sitting in a search directory
/// is not a unit file (systemd 252 `--test` reports it not-found, checked by hand); an alias
/// to it is dangling; a linked unit file pointing at a FIFO outside the search path is
/// not-found with a warning; a FIFO drop-in sets nothing (with a warning) while the unit and
/// its other drop-ins still load. FIFOs as a `.wants` entry and as a whole `.d` directory
/// must not block either.
#[test]
fn fifos_never_block() {
    let img = Image::new();
    img.mkfifo("usr/lib/systemd/system/fifo.service");
    img.symlink(
        "etc/systemd/system/viafifo.service",
        "/usr/lib/systemd/system/fifo.service",
    );
    img.mkfifo("opt/fifo.service");
    img.symlink("etc/systemd/system/linkfifo.service", "/opt/fifo.service");
    img.write("usr/lib/systemd/system/a.service", "[Unit]\nWants=fifo.service viafifo.service linkfifo.service\n[Service]\nExecStart=/bin/true\n");
    img.mkfifo("etc/systemd/system/a.service.d/10-fifo.conf");
    img.write(
        "etc/systemd/system/a.service.d/20-ok.conf",
        "[Unit]\nAfter=ok-dep.service\n",
    );
    img.mkfifo("etc/systemd/system/good.service.wants/fifo-wanted.service");
    img.mkfifo("usr/lib/systemd/system/good.service.d");
    let r = graph(img.root());
    r.assert_ok();
    r.assert_state("a.service", "loaded");
    assert!(
        r.has_edge("a.service", "After", "ok-dep.service"),
        "later drop-in still applies"
    );
    r.assert_warned("/etc/systemd/system/a.service.d/10-fifo.conf", "");
    // Never opened, but it takes its name like any unreadable drop-in: listed, setting
    // nothing.
    let a = r.unit("a.service").unwrap();
    assert_eq!(
        a["dropins"],
        serde_json::json!([
            "/etc/systemd/system/a.service.d/10-fifo.conf",
            "/etc/systemd/system/a.service.d/20-ok.conf"
        ]),
        "{a}"
    );
    r.assert_state("linkfifo.service", "not-found");
    r.assert_warned("/etc/systemd/system/linkfifo.service", "");
    r.assert_state("fifo.service", "not-found");
    r.assert_state("viafifo.service", "not-found");
    r.assert_state("good.service", "loaded");
}

/// Device nodes are never opened. A linked unit file that resolves to a character device
/// is a mask, like a link to /dev/null; a character device sitting directly in a search
/// directory is not a unit file at all (systemd 252 `--test` reports such a `dev.service`
/// not-found, checked by hand). A link to a block device is not a mask in v252 and is not
/// opened: not-found with a warning. Needs root for mknod; without it the case is skipped
/// with a note on stderr.
#[test]
fn device_nodes() {
    let img = Image::new();
    if let Err(why) = img.mknod("usr/lib/systemd/system/dev.service", libc::S_IFCHR, 1, 3) {
        eprintln!("mknod failed ({why}); skipping device_nodes");
        return;
    }
    img.mknod("opt/chr", libc::S_IFCHR, 1, 3).unwrap();
    img.symlink("etc/systemd/system/linkdev.service", "/opt/chr");
    img.mknod("opt/blk.service", libc::S_IFBLK, 7, 0).unwrap();
    img.symlink("etc/systemd/system/linkblk.service", "/opt/blk.service");
    img.mknod(
        "etc/systemd/system/a.service.d/10-null.conf",
        libc::S_IFCHR,
        1,
        3,
    )
    .unwrap();
    img.write(
        "usr/lib/systemd/system/a.service",
        "[Unit]\nWants=dev.service linkdev.service linkblk.service\n[Service]\nExecStart=/bin/true\n",
    );
    let r = graph(img.root());
    r.assert_ok();
    r.assert_state("linkdev.service", "masked");
    r.assert_state("dev.service", "not-found");
    r.assert_state("linkblk.service", "not-found");
    r.assert_warned("/etc/systemd/system/linkblk.service", "");
    r.assert_state("a.service", "loaded");
}

/// Symlink loops end with a warning, never a hang: an alias loop (loop1 ↔ loop2), a
/// self-link, a path loop in a linked unit's target directory (opt/a ↔ opt/b), and a
/// drop-in and a `.wants` directory that link to themselves.
#[test]
fn symlink_loops() {
    let img = Image::new();
    img.symlink("etc/systemd/system/loop1.service", "loop2.service");
    img.symlink("etc/systemd/system/loop2.service", "loop1.service");
    img.symlink("etc/systemd/system/self.service", "self.service");
    img.mkdir("opt");
    img.symlink("opt/a", "b");
    img.symlink("opt/b", "a");
    img.symlink("etc/systemd/system/p.service", "/opt/a/p.service");
    img.write("usr/lib/systemd/system/x.service", GOOD);
    img.symlink("usr/lib/systemd/system/x.service.d", "x.service.d");
    img.symlink(
        "usr/lib/systemd/system/x.service.wants",
        "/usr/lib/systemd/system/x.service.wants",
    );
    img.write(
        "usr/lib/systemd/system/a.service",
        "[Unit]\nWants=loop1.service loop2.service self.service p.service x.service\n[Service]\nExecStart=/bin/true\n",
    );
    let r = graph(img.root());
    r.assert_ok();
    for u in [
        "loop1.service",
        "loop2.service",
        "self.service",
        "p.service",
    ] {
        r.assert_state(u, "not-found");
    }
    assert!(
        r.stderr.contains("loop1.service"),
        "no warning about the alias loop:\n{}",
        r.stderr
    );
    r.assert_warned("/etc/systemd/system/p.service", "");
    r.assert_state("x.service", "loaded");
    r.assert_warned("/usr/lib/systemd/system/x.service.d", "");
    r.assert_warned("/usr/lib/systemd/system/x.service.wants", "");
    r.assert_state("a.service", "loaded");
}

/// Linked unit files that point outside the root, absolutely or by climbing with `..`,
/// stay inside: the target is looked up in the image, where it does not exist, so the
/// unit is not-found, a warning names the link, and the canary is never read.
#[test]
fn unit_links_out_of_root() {
    let canary = Canary::new();
    let img = Image::new();
    img.symlink(
        "etc/systemd/system/esc1.service",
        canary.abs().join("canary.service"),
    );
    img.symlink(
        "etc/systemd/system/esc2.service",
        canary.climb(3, "canary.service"),
    );
    img.write(
        "usr/lib/systemd/system/a.service",
        "[Unit]\nWants=esc1.service esc2.service\n[Service]\nExecStart=/bin/true\n",
    );
    let r = graph(img.root());
    r.assert_ok();
    r.assert_no_leak();
    graph_text(img.root()).assert_no_leak();
    r.assert_state("esc1.service", "not-found");
    r.assert_state("esc2.service", "not-found");
    r.assert_state("a.service", "loaded");
    r.assert_warned("/etc/systemd/system/esc1.service", "");
    r.assert_warned("/etc/systemd/system/esc2.service", "");
}

/// A link out of the root stays a linked unit file even though its target's directories
/// do not exist in the image. systemd 252 resolves it with `CHASE_NONEXISTENT`, keeps it
/// in the name map, so it hides a same-named unit lower in the search path, then fails to
/// open it ("Failed to open …: No such file or directory"): the unit is not-found. Checked
/// by hand with systemd 252 `--test` (`/etc/…/foo.service -> /nonexistent/dir/foo.service`
/// over a `/usr/lib/…/foo.service` gave `foo.service` not-found).
#[test]
fn link_out_of_root_hides_lower_unit() {
    let canary = Canary::new();
    let img = Image::new();
    for u in ["esc1.service", "esc2.service", "foo.service"] {
        img.write(
            &format!("usr/lib/systemd/system/{u}"),
            "[Unit]\nWants=vendor-dep.service\n[Service]\nExecStart=/bin/true\n",
        );
    }
    img.symlink(
        "etc/systemd/system/esc1.service",
        canary.abs().join("canary.service"),
    );
    img.symlink(
        "etc/systemd/system/esc2.service",
        canary.climb(3, "canary.service"),
    );
    img.symlink(
        "etc/systemd/system/foo.service",
        "/nonexistent/dir/foo.service",
    );
    let r = graph(img.root());
    r.assert_ok();
    r.assert_no_leak();
    for u in ["esc1.service", "esc2.service", "foo.service"] {
        assert!(
            !r.has_edge(u, "Wants", "vendor-dep.service"),
            "{u} was loaded from the hidden /usr/lib file: {:?}",
            r.unit(u)
        );
        r.assert_state(u, "not-found");
        r.assert_warned(&format!("/etc/systemd/system/{u}"), "");
    }
}

/// The other half of re-rooting: an absolute target, or a relative one that climbs past
/// `/`, that names a file the *image* has, loads the image's file (not the host's).
#[test]
fn unit_links_are_rerooted_into_image() {
    let canary = Canary::new();
    let img = Image::new();
    // The image holds its own file at the canary's host path.
    let mirror = canary
        .abs()
        .strip_prefix("/")
        .unwrap()
        .join("canary.service");
    img.write(
        mirror.to_str().unwrap(),
        "[Unit]\nWants=image-copy.service\n[Service]\nExecStart=/bin/true\n",
    );
    img.symlink(
        "etc/systemd/system/esc1.service",
        canary.abs().join("canary.service"),
    );
    img.symlink(
        "etc/systemd/system/esc2.service",
        canary.climb(3, "canary.service"),
    );
    let r = graph(img.root());
    r.assert_ok();
    r.assert_no_leak();
    for u in ["esc1.service", "esc2.service"] {
        r.assert_state(u, "loaded");
        assert!(
            r.has_edge(u, "Wants", "image-copy.service"),
            "{u}: {}",
            r.stdout
        );
    }
}

/// Drop-ins and drop-in directories that point out of the root are not read (a warning
/// naming the in-image path); the unit itself still loads from the image.
#[test]
fn dropins_out_of_root() {
    let canary = Canary::new();
    let img = Image::new();
    img.symlink(
        "etc/systemd/system/good.service.d/50-abs.conf",
        canary.abs().join("canary.conf"),
    );
    img.symlink(
        "etc/systemd/system/good.service.d/51-rel.conf",
        canary.climb(4, "canary.conf"),
    );
    img.write("usr/lib/systemd/system/b.service", GOOD);
    img.symlink(
        "usr/lib/systemd/system/b.service.d",
        canary.abs().join("systemd/system/good.service.d"),
    );
    img.write("usr/lib/systemd/system/c.service", GOOD);
    img.symlink(
        "usr/lib/systemd/system/c.service.d",
        canary.climb(4, "systemd/system/good.service.d"),
    );
    let r = graph(img.root());
    r.assert_ok();
    r.assert_no_leak();
    graph_text(img.root()).assert_no_leak();
    for u in ["good.service", "b.service", "c.service"] {
        r.assert_state(u, "loaded");
    }
    // The links dangle inside the image: they set nothing but take their names, as an
    // unreadable drop-in does in systemd; the directories out of the root are not read.
    assert_eq!(
        r.unit("good.service").unwrap()["dropins"],
        serde_json::json!([
            "/etc/systemd/system/good.service.d/50-abs.conf",
            "/etc/systemd/system/good.service.d/51-rel.conf"
        ])
    );
    for u in ["b.service", "c.service"] {
        assert_eq!(r.unit(u).unwrap()["dropins"], serde_json::json!([]), "{u}");
    }
    r.assert_warned("/etc/systemd/system/good.service.d/50-abs.conf", "");
    r.assert_warned("/etc/systemd/system/good.service.d/51-rel.conf", "");
    r.assert_warned("/usr/lib/systemd/system/b.service.d", "");
    r.assert_warned("/usr/lib/systemd/system/c.service.d", "");
}

/// A `.wants/` link to the canary adds the edge by the link's *name* (systemd does, even for
/// a dangling link) but never reads the target: the wanted unit is not-found.
#[test]
fn wants_link_out_of_root() {
    let canary = Canary::new();
    let img = Image::new();
    img.symlink(
        "etc/systemd/system/good.service.wants/canary.service",
        canary.abs().join("canary.service"),
    );
    img.symlink(
        "etc/systemd/system/good.service.wants/canary2.service",
        canary.climb(4, "canary.service"),
    );
    let r = graph(img.root());
    r.assert_ok();
    r.assert_no_leak();
    for u in ["canary.service", "canary2.service"] {
        assert!(r.has_edge("good.service", "Wants", u), "{u}: {}", r.stdout);
        r.assert_state(u, "not-found");
    }
}

/// Search directories whose path leaves the root are resolved inside the image, so host
/// units are never listed or read: `usr/lib -> /host/canary`, `usr/lib/systemd ->
/// ../../..…/canary/systemd`, an `etc/systemd` link to the canary, `usr/lib -> /` (the
/// image root, holding nothing), and `usr/lib/systemd -> /usr/lib/systemd`, which on the
/// host would be the host's own unit directory but inside the image is a loop (warned).
/// A missing search directory is normal, so only the loop has to be warned about.
#[test]
fn search_dirs_out_of_root() {
    let canary = Canary::new();
    type Build<'a> = Box<dyn Fn(&Image) + 'a>;
    let cases: Vec<(&str, Build)> = vec![
        (
            "usr/lib -> absolute canary",
            Box::new(|img: &Image| img.symlink("usr/lib", canary.abs())),
        ),
        (
            "usr/lib/systemd -> climbing canary",
            Box::new(|img: &Image| img.symlink("usr/lib/systemd", canary.climb(2, "systemd"))),
        ),
        (
            "etc/systemd -> absolute canary/systemd",
            Box::new(|img: &Image| img.symlink("etc/systemd", canary.abs().join("systemd"))),
        ),
        (
            "usr/lib -> /",
            Box::new(|img: &Image| img.symlink("usr/lib", "/")),
        ),
        (
            "usr/lib/systemd -> /usr/lib/systemd",
            Box::new(|img: &Image| img.symlink("usr/lib/systemd", "/usr/lib/systemd")),
        ),
    ];
    // What the image alone gives (good.service, what it references, and the units systemd
    // adds by itself): an escaping search directory must not add anything to it.
    let names_of = |r: &Run| -> Vec<String> {
        r.json()["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_string())
            .collect()
    };
    let baseline = {
        let img = Image::new();
        img.write("usr/local/lib/systemd/system/good.service", GOOD);
        names_of(&graph(img.root()))
    };
    assert!(baseline.contains(&"good.service".to_string()));
    assert!(baseline.contains(&"other.target".to_string()));
    for (what, build) in cases {
        let dir = tempfile::tempdir().unwrap();
        let img = Image { dir };
        // The good unit lives in /usr/local/lib, which no case redirects.
        img.write("usr/local/lib/systemd/system/good.service", GOOD);
        build(&img);
        let r = graph(img.root());
        r.assert_ok();
        r.assert_no_leak();
        let names = names_of(&r);
        assert_eq!(names, baseline, "{what}: units from outside the image");
        assert_eq!(r.json()["templates"], serde_json::json!([]), "{what}");
        r.assert_state("good.service", "loaded");
        assert_eq!(
            r.unit("good.service").unwrap()["fragment"],
            "/usr/local/lib/systemd/system/good.service",
            "{what}"
        );
        assert_eq!(
            r.unit("good.service").unwrap()["dropins"],
            serde_json::json!([]),
            "{what}"
        );
        if what == "usr/lib/systemd -> /usr/lib/systemd" {
            assert!(
                r.stderr.contains("/usr/lib/systemd"),
                "{what}: loop not warned:\n{}",
                r.stderr
            );
        }
    }
}

/// The root the *user* names may be a symlink to a directory: that one is followed.
#[test]
fn root_itself_may_be_a_symlink() {
    let img = Image::new();
    let outer = tempfile::tempdir().unwrap();
    let link = outer.path().join("root-link");
    symlink(img.root(), &link).unwrap();
    let r = graph(&link);
    r.assert_ok();
    r.assert_state("good.service", "loaded");
    let d = run_with(
        &link,
        &["diff", link.to_str().unwrap(), img.root().to_str().unwrap()],
        false,
    );
    assert_eq!(d.code, Some(0), "{}{}", d.stdout, d.stderr);
}
