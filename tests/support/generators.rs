//! Helpers of the generator tests (`tests/generators.rs`, `tests/generators_fstab.rs`):
//! the fixture image, loading it for a systemd version, and running a generator of this
//! machine and our emulation of it side by side.
#![allow(dead_code)] // each test binary includes the support code but uses only part of it

use std::path::Path;
use std::process::Command;
use unitdiff::graph::DepGraph;
use unitdiff::unit::{DepKind, Layer, Rules};

pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/generators");

pub fn load_opts(v: u32, cmdline: &str, off: bool) -> DepGraph {
    let opts = unitdiff::InputOptions {
        kernel_cmdline: cmdline.to_string(),
        no_generators: off,
        ..Default::default()
    };
    unitdiff::open_input_with(Path::new(FIXTURE), Some(Rules::new(v, 0)), &[], &opts).unwrap()
}

pub fn load(v: u32) -> DepGraph {
    load_opts(v, "", false)
}

pub fn has(g: &DepGraph, from: &str, kind: DepKind, to: &str) -> bool {
    g.edges.contains_key(&(from.into(), kind, to.into()))
}

/// The first provenance of an edge: (path, line, layer, generator).
pub fn prov(
    g: &DepGraph,
    from: &str,
    kind: DepKind,
    to: &str,
) -> (String, Option<u32>, Option<Layer>, Option<&'static str>) {
    let p = &g.edges[&(from.into(), kind, to.into())][0];
    (
        p.path.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        p.line,
        p.layer,
        p.generator.map(|g| g.as_str()),
    )
}

/// Where this machine's generator binaries are (Debian 12: `/lib/systemd/system-generators`).
/// `UNITDIFF_REAL_GENERATORS=DIR` points the comparisons at another release's binaries (e.g.
/// wrappers running Debian 13's or sid's with their own libraries), and
/// `UNITDIFF_REAL_GENERATORS_VERSION=N` says which systemd they are (docs/semantics.md,
/// "Generators").
pub fn real_generator(name: &str) -> std::path::PathBuf {
    if let Ok(d) = std::env::var("UNITDIFF_REAL_GENERATORS") {
        return Path::new(&d).join(format!("systemd-{name}-generator"));
    }
    host_generator(name)
}

/// This machine's own generator binary `name` (`fstab`), whatever
/// `UNITDIFF_REAL_GENERATORS` says.
pub fn host_generator(name: &str) -> std::path::PathBuf {
    [
        "/usr/lib/systemd/system-generators",
        "/lib/systemd/system-generators",
    ]
    .iter()
    .map(|d| Path::new(d).join(format!("systemd-{name}-generator")))
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("systemd-{name}-generator is installed"))
}

/// The systemd version of the real generators compared with (252, this machine's).
pub fn real_version() -> u32 {
    std::env::var("UNITDIFF_REAL_GENERATORS_VERSION")
        .map(|v| v.parse().expect("a systemd version"))
        .unwrap_or(252)
}

/// What a generator wrote: `dir/relative path` → the dependency lines of a file (sorted),
/// or `link` for a symlink (only its name matters to the manager). `rename` rewrites a
/// string in names and lines (a temporary directory the real generator was pointed at).
pub type Written = std::collections::BTreeMap<String, Vec<String>>;

pub fn dependency_lines(text: &str, rename: &dyn Fn(&str) -> String) -> Vec<String> {
    const KEYS: [&str; 12] = [
        "After=",
        "Before=",
        "Wants=",
        "Requires=",
        "Requisite=",
        "BindsTo=",
        "PartOf=",
        "Conflicts=",
        "RequiresMountsFor=",
        "WantsMountsFor=",
        "OnFailure=",
        "Upholds=",
    ];
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| KEYS.iter().any(|k| l.starts_with(k)))
        .map(rename)
        .collect();
    v.sort();
    v
}

/// The three directories a generator writes to (normal, early, late), made in `out`.
pub fn generator_dirs(out: &Path) -> [std::path::PathBuf; 3] {
    let dirs = ["normal", "early", "late"].map(|d| out.join(d));
    for d in &dirs {
        std::fs::create_dir(d).unwrap();
    }
    dirs
}

/// Run this machine's generator `name` with `env` into a temporary directory.
pub fn run_real(name: &str, env: &[(&str, String)], rename: &dyn Fn(&str) -> String) -> Written {
    let out = tempfile::tempdir().unwrap();
    let dirs = generator_dirs(out.path());
    let mut cmd = Command::new(real_generator(name));
    // At boot generators run in `/` (a relative fstab mount point is resolved there).
    cmd.current_dir("/")
        .args(&dirs)
        .env("SYSTEMD_IN_INITRD", "0")
        .env("SYSTEMD_PROC_CMDLINE", "")
        .env("SYSTEMD_LOG_LEVEL", "crit");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let st = cmd.status().unwrap();
    // A generator that fails part-way (as 252's do on some entries) still leaves its files.
    assert!(st.code().is_some(), "{name}: {st:?}");
    let mut w = Written::new();
    for e in walkdir::WalkDir::new(out.path()).min_depth(2) {
        let e = e.unwrap();
        if e.file_type().is_dir() {
            continue;
        }
        let rel = e.path().strip_prefix(out.path()).unwrap().to_string_lossy();
        let v = if e.path_is_symlink() {
            vec!["link".to_string()]
        } else {
            dependency_lines(&std::fs::read_to_string(e.path()).unwrap(), rename)
        };
        w.insert(rename(&rel), v);
    }
    w
}

/// An image (a temporary directory) with `files` (relative path → content) and the binary
/// of generator `name` (`fstab`), which is what makes us emulate it.
pub fn image_with(name: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let img = tempfile::tempdir().unwrap();
    let gdir = img.path().join("usr/lib/systemd/system-generators");
    std::fs::create_dir_all(&gdir).unwrap();
    std::fs::write(
        gdir.join(format!("systemd-{name}-generator")),
        "#!/bin/sh\n",
    )
    .unwrap();
    for (p, c) in files {
        let p = img.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    }
    img
}

/// What unitdiff's emulation of systemd `version` writes for an image with `files`
/// (relative path → content) and the generator's binary in it.
pub fn run_ours(name: &str, version: u32, files: &[(&str, &str)], cmdline: &str) -> Written {
    let img = image_with(name, files);
    let tree = unitdiff::tree::dir::DirTree::open(img.path()).unwrap();
    let opts = unitdiff::unit::generators::Options {
        kernel_cmdline: cmdline.to_string(),
    };
    let g = unitdiff::unit::generators::run(&tree, &Rules::new(version, 0), &opts);
    let mut w = Written::new();
    for (dir, sub) in [
        ("normal", "/run/systemd/generator"),
        ("early", "/run/systemd/generator.early"),
        ("late", "/run/systemd/generator.late"),
    ] {
        for rel in g.written_by(&format!("{name}-generator")) {
            let p = unitdiff::tree::ImagePath::new(sub).join(&rel);
            match unitdiff::tree::Tree::lstat(&g.tree, &p) {
                Ok(Some(unitdiff::tree::NodeKind::Symlink)) => {
                    w.insert(format!("{dir}/{rel}"), vec!["link".to_string()]);
                }
                Ok(Some(unitdiff::tree::NodeKind::File)) => {
                    let text = unitdiff::tree::Tree::read_file(&g.tree, &p, 1 << 20).unwrap();
                    let text = String::from_utf8(text).unwrap();
                    w.insert(
                        format!("{dir}/{rel}"),
                        dependency_lines(&text, &|s| s.into()),
                    );
                }
                _ => {}
            }
        }
    }
    w
}

/// Compare two outputs entry by entry, so a failure names the first file that differs.
pub fn assert_same(ours: &Written, real: &Written) {
    let names = |w: &Written| w.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(ours), names(real), "files and links");
    for (k, v) in real {
        assert_eq!(&ours[k], v, "{k}");
    }
}
