//! Generators emulated offline (`src/unit/generators/`), on `fixtures/generators`: an image
//! whose `/etc/fstab`, init scripts, `/etc/rc.local` and sshd make systemd's generators
//! write units at boot. The expected units and links are those the generator binaries of
//! Debian 13 (257.13) and sid (262.1) wrote for the same files (run in a chroot of those
//! releases); `needs_systemd_generators` below checks the fstab generator of this machine
//! against our emulation.

use std::path::Path;
use std::process::Command;
use unitdiff::graph::DepGraph;
use unitdiff::unit::{DepKind, Layer, Rules};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/generators");

fn load_opts(v: u32, cmdline: &str, off: bool) -> DepGraph {
    let opts = unitdiff::InputOptions {
        kernel_cmdline: cmdline.to_string(),
        no_generators: off,
        ..Default::default()
    };
    unitdiff::open_input_with(Path::new(FIXTURE), Some(Rules::new(v, 0)), &[], &opts).unwrap()
}

fn load(v: u32) -> DepGraph {
    load_opts(v, "", false)
}

fn has(g: &DepGraph, from: &str, kind: DepKind, to: &str) -> bool {
    g.edges.contains_key(&(from.into(), kind, to.into()))
}

/// The first provenance of an edge: (path, line, layer, generator).
fn prov(
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
        p.generator,
    )
}

#[test]
fn fstab_entries_become_mounts_swaps_and_links_with_their_line() {
    let g = load(257);
    // One fstab line → the unit, its link, and the edges of both, all with that line.
    assert_eq!(
        prov(&g, "local-fs.target", DepKind::Requires, "boot.mount"),
        (
            "/etc/fstab".into(),
            Some(3),
            Some(Layer::Generator),
            Some("fstab-generator")
        )
    );
    assert_eq!(
        prov(&g, "boot.mount", DepKind::Before, "local-fs.target"),
        (
            "/etc/fstab".into(),
            Some(3),
            Some(Layer::Generator),
            Some("fstab-generator")
        )
    );
    // Every boot: remount-fs, whatever fstab holds.
    let (path, line, layer, generator) = prov(
        &g,
        "local-fs.target",
        DepKind::Wants,
        "systemd-remount-fs.service",
    );
    assert_eq!(
        (path.as_str(), line, layer, generator),
        (
            "/etc/fstab",
            None,
            Some(Layer::Generator),
            Some("fstab-generator")
        )
    );
    // The root gets a fragment, so paths require it.
    assert!(has(&g, "boot.mount", DepKind::Requires, "-.mount"));
    // nofail: wanted, not ordered before the target; x-systemd.after=.
    assert!(has(&g, "local-fs.target", DepKind::Wants, "srv-data.mount"));
    assert!(!has(
        &g,
        "srv-data.mount",
        DepKind::Before,
        "local-fs.target"
    ));
    assert!(has(&g, "srv-data.mount", DepKind::After, "foo.service"));
    // Network file systems and _netdev go to remote-fs.target; _netdev devices wait.
    assert!(has(
        &g,
        "remote-fs.target",
        DepKind::Requires,
        "mnt-nfs.mount"
    ));
    assert!(has(
        &g,
        "remote-fs.target",
        DepKind::Requires,
        "mnt-net.mount"
    ));
    assert!(has(
        &g,
        "dev-sdb1.device",
        DepKind::Wants,
        "network-online.target"
    ));
    // noauto: the unit exists, nothing pulls it in.
    assert!(g.set.units.contains_key("mnt-auto.mount"));
    assert!(!has(
        &g,
        "local-fs.target",
        DepKind::Requires,
        "mnt-auto.mount"
    ));
    // x-systemd.automount: the automount is linked instead.
    assert!(has(
        &g,
        "local-fs.target",
        DepKind::Requires,
        "mnt-am.automount"
    ));
    assert!(!has(
        &g,
        "local-fs.target",
        DepKind::Requires,
        "mnt-am.mount"
    ));
    // Swap, and API file systems skipped.
    assert!(has(&g, "swap.target", DepKind::Requires, "dev-sda3.swap"));
    assert_eq!(
        prov(&g, "swap.target", DepKind::Requires, "dev-sda3.swap").1,
        Some(7)
    );
    assert!(!g.set.units.contains_key("proc.mount"));
    // x-systemd.wanted-by= and requires=.
    assert!(has(&g, "multi-user.target", DepKind::Wants, "mnt-q.mount"));
    assert!(has(&g, "mnt-q.mount", DepKind::Requires, "bar.service"));
    // The generated unit says so in `systemctl is-enabled` terms.
    assert_eq!(g.set.enablement["boot.mount"].state.as_str(), "generated");
}

/// Version-dependent shapes of the fstab generator (252 vs 257, checked on Debian's).
#[test]
fn fstab_generator_per_version() {
    // 256+: wanted-by= drops the default ordering; quota checks hang off the mount.
    let g257 = load(257);
    assert!(!has(
        &g257,
        "mnt-q.mount",
        DepKind::Before,
        "local-fs.target"
    ));
    assert!(has(
        &g257,
        "mnt-q.mount",
        DepKind::Conflicts,
        "umount.target"
    ));
    assert!(has(
        &g257,
        "mnt-q.mount",
        DepKind::Wants,
        "systemd-quotacheck@mnt-q.service"
    ));
    let g252 = load(252);
    assert!(has(
        &g252,
        "mnt-q.mount",
        DepKind::Before,
        "local-fs.target"
    ));
    assert!(!has(
        &g252,
        "mnt-q.mount",
        DepKind::Wants,
        "systemd-quotacheck@mnt-q.service"
    ));
}

#[test]
fn ssh_generator_from_256_when_sshd_is_installed() {
    let g = load(257);
    assert_eq!(
        prov(
            &g,
            "sockets.target",
            DepKind::Wants,
            "sshd-unix-local.socket"
        ),
        (
            "/usr/sbin/sshd".into(),
            None,
            Some(Layer::Generator),
            Some("ssh-generator")
        )
    );
    // Its per-connection template is the image's sshd@.service.
    assert!(
        g.set.templates["sshd@.service"]
            .aliases
            .contains("sshd-unix-local@.service")
    );
    assert!(!load(255).set.units.contains_key("sshd-unix-local.socket"));
    let off = load_opts(257, "systemd.ssh_auto=no", false);
    assert!(!off.set.units.contains_key("sshd-unix-local.socket"));
}

#[test]
fn sysv_scripts_without_native_units_until_259() {
    let g = load(257);
    assert!(has(
        &g,
        "multi-user.target",
        DepKind::Wants,
        "legacy.service"
    ));
    assert_eq!(
        prov(&g, "multi-user.target", DepKind::Wants, "legacy.service"),
        (
            "/etc/rc2.d/S01legacy".into(),
            None,
            Some(Layer::Generator),
            Some("sysv-generator")
        )
    );
    assert_eq!(
        prov(&g, "legacy.service", DepKind::After, "remote-fs.target"),
        (
            "/etc/init.d/legacy".into(),
            Some(4),
            Some(Layer::Generator),
            Some("sysv-generator")
        )
    );
    assert!(has(&g, "legacy.service", DepKind::Before, "late.service"));
    assert!(has(&g, "legacy.service", DepKind::After, "other.service"));
    assert!(has(
        &g,
        "legacy.service",
        DepKind::Wants,
        "network-online.target"
    ));
    // No DefaultDependencies= line: default dependencies apply.
    assert!(has(
        &g,
        "legacy.service",
        DepKind::Requires,
        "sysinit.target"
    ));
    // Provides: an alias.
    assert_eq!(
        g.set.names.get("legacy-alias.service").map(String::as_str),
        Some("legacy.service")
    );
    // A script with a native unit generates nothing.
    assert_eq!(
        g.set.units["native.service"]
            .fragment
            .as_ref()
            .unwrap()
            .layer,
        Layer::Vendor
    );
    // SysV support and rc.local are gone in 260.
    let g260 = load(260);
    assert!(!g260.set.units.contains_key("legacy.service"));
    assert!(!has(
        &g260,
        "multi-user.target",
        DepKind::Wants,
        "rc-local.service"
    ));
}

#[test]
fn rc_local_until_259() {
    let g = load(257);
    assert_eq!(
        prov(&g, "multi-user.target", DepKind::Wants, "rc-local.service"),
        (
            "/etc/rc.local".into(),
            None,
            Some(Layer::Generator),
            Some("rc-local-generator")
        )
    );
}

#[test]
fn getty_follows_the_kernel_command_line() {
    let serial = |g: &DepGraph| {
        has(
            g,
            "getty.target",
            DepKind::Wants,
            "serial-getty@ttyS0.service",
        )
    };
    assert!(!serial(&load(257)));
    assert!(serial(&load_opts(257, "quiet console=ttyS0,115200", false)));
    assert!(!serial(&load_opts(257, "console=tty0", false)));
    assert!(!serial(&load_opts(
        257,
        "console=ttyS0 systemd.getty_auto=0",
        false
    )));
}

#[test]
fn system_update_makes_it_the_default_target() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&sys).unwrap();
    std::fs::create_dir_all(dir.path().join("usr/lib/systemd/system-generators")).unwrap();
    std::fs::write(
        dir.path()
            .join("usr/lib/systemd/system-generators/systemd-system-update-generator"),
        "#!/bin/sh\n",
    )
    .unwrap();
    std::fs::write(sys.join("system-update.target"), "[Unit]\n").unwrap();
    std::fs::write(sys.join("multi-user.target"), "[Unit]\n").unwrap();
    std::os::unix::fs::symlink("multi-user.target", sys.join("default.target")).unwrap();
    let open = || {
        unitdiff::open_input_with(
            dir.path(),
            Some(Rules::new(257, 0)),
            &[],
            &Default::default(),
        )
        .unwrap()
    };
    assert_eq!(
        open().set.names["default.target"],
        "multi-user.target".to_string()
    );
    std::fs::write(dir.path().join("system-update"), "").unwrap();
    assert_eq!(
        open().set.names["default.target"],
        "system-update.target".to_string()
    );
}

#[test]
fn generators_not_emulated_are_reported_once() {
    let g = load(257);
    let r = g.generators.as_ref().unwrap();
    let listed: Vec<&str> = r.not_emulated.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(
        listed,
        [
            "/usr/lib/systemd/system-generators/postgresql-generator",
            "/usr/lib/systemd/system-generators/systemd-gpt-auto-generator",
        ]
    );
    // A masked generator (link to /dev/null) runs neither at boot nor here.
    assert!(!r.emulated.contains(&"systemd-run-generator"));
    assert!(r.emulated.contains(&"systemd-fstab-generator"));
    let warnings: Vec<&str> = g
        .set
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .filter(|m| m.contains("generators not emulated"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("postgresql-generator"));
}

#[test]
fn no_generators_loads_the_files_alone() {
    let g = load_opts(257, "console=ttyS0", true);
    assert!(g.generators.is_none());
    assert!(!g.set.units.contains_key("boot.mount"));
    assert!(
        g.edges
            .values()
            .flatten()
            .all(|p| p.layer != Some(Layer::Generator) && p.generator.is_none())
    );
    assert!(
        !g.set
            .warnings
            .iter()
            .any(|w| w.message.contains("generators not emulated"))
    );
}

#[test]
fn the_json_names_the_generators() {
    let bin = env!("CARGO_BIN_EXE_unitdiff");
    let o = Command::new(bin)
        .args([
            "graph",
            FIXTURE,
            "--systemd-version",
            "257",
            "--format",
            "json",
        ])
        .args(["--kernel-cmdline", "console=ttyS0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["generators"]["kernel_cmdline"], "console=ttyS0");
    assert_eq!(
        j["generators"]["not_emulated"][0]["path"],
        "/usr/lib/systemd/system-generators/postgresql-generator"
    );
    let e = j["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "local-fs.target" && e["to"] == "boot.mount")
        .unwrap();
    assert_eq!(e["generator"], "fstab-generator");
    assert_eq!(e["layer"], "generator");
    assert_eq!(e["source"]["path"], "/etc/fstab");
    assert_eq!(e["source"]["line"], 3);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr.matches("generators not emulated").count(),
        1,
        "{stderr}"
    );
    let o = Command::new(bin)
        .args(["graph", FIXTURE, "--format", "json", "--no-generators"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j.get("generators").is_none());
    // A diff says it per side.
    let o = Command::new(bin)
        .args(["-q", "diff", FIXTURE, FIXTURE, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for side in ["old", "new"] {
        assert!(
            j[side]["generators"]["emulated"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == "systemd-fstab-generator"),
            "{side}: {j}"
        );
    }
}

/// This machine's own `systemd-fstab-generator` (systemd 252 on Debian 12), run on the
/// fixture's fstab (`SYSTEMD_FSTAB`), writes the units and links we emulate.
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_fstab_agrees_with_the_real_generator() {
    let bin = [
        "/usr/lib/systemd/system-generators",
        "/lib/systemd/system-generators",
    ]
    .iter()
    .map(|d| Path::new(d).join("systemd-fstab-generator"))
    .find(|p| p.exists())
    .expect("systemd-fstab-generator is installed");
    let out = tempfile::tempdir().unwrap();
    let dirs = ["normal", "early", "late"].map(|d| out.path().join(d));
    for d in &dirs {
        std::fs::create_dir(d).unwrap();
    }
    let st = Command::new(&bin)
        .args(&dirs)
        .env("SYSTEMD_FSTAB", Path::new(FIXTURE).join("etc/fstab"))
        .env("SYSTEMD_PROC_CMDLINE", "")
        .env("SYSTEMD_IN_INITRD", "0")
        .status()
        .unwrap();
    assert!(st.success());
    // What the real generator wrote: every file and link name.
    let mut real = Vec::new();
    for e in walkdir::WalkDir::new(&dirs[0]).min_depth(1) {
        let e = e.unwrap();
        if !e.file_type().is_dir() {
            let rel = e.path().strip_prefix(&dirs[0]).unwrap();
            real.push(rel.to_string_lossy().into_owned());
        }
    }
    real.sort();
    // What we emulate for the same version.
    let tree = unitdiff::tree::dir::DirTree::open(Path::new(FIXTURE)).unwrap();
    let generated =
        unitdiff::unit::generators::run(&tree, &Rules::new(252, 0), &Default::default());
    let mut ours = generated.written_by("fstab-generator");
    // Inside a container the real generator skips swap entries (it says so); a booted
    // image is not in one.
    if !real.iter().any(|r| r.ends_with(".swap")) {
        ours.retain(|r| !r.contains("dev-sda3.swap"));
    }
    assert_eq!(ours, real);
    // And the edges: load the fixture with the real generator's output laid over it.
    let g = load(252);
    for (from, kind, to) in [
        ("local-fs.target", DepKind::Requires, "boot.mount"),
        ("local-fs.target", DepKind::Wants, "srv-data.mount"),
        ("remote-fs.target", DepKind::Requires, "mnt-nfs.mount"),
        ("multi-user.target", DepKind::Wants, "mnt-q.mount"),
    ] {
        let link = dirs[0].join(format!(
            "{from}.{}/{to}",
            if kind == DepKind::Wants {
                "wants"
            } else {
                "requires"
            }
        ));
        assert!(link.symlink_metadata().is_ok(), "{link:?}");
        assert!(has(&g, from, kind, to), "{from} {kind:?} {to}");
    }
}

/// This machine's own `systemd-sysv-generator` (252), pointed at the fixture's init
/// scripts and runlevel links, writes the legacy service we emulate, with the same
/// ordering lines.
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_sysv_agrees_with_the_real_generator() {
    let bin = [
        "/usr/lib/systemd/system-generators",
        "/lib/systemd/system-generators",
    ]
    .iter()
    .map(|d| Path::new(d).join("systemd-sysv-generator"))
    .find(|p| p.exists())
    .expect("systemd-sysv-generator is installed");
    let out = tempfile::tempdir().unwrap();
    let dirs = ["normal", "early", "late"].map(|d| out.path().join(d));
    for d in &dirs {
        std::fs::create_dir(d).unwrap();
    }
    let st = Command::new(&bin)
        .args(&dirs)
        .env(
            "SYSTEMD_SYSVINIT_PATH",
            Path::new(FIXTURE).join("etc/init.d"),
        )
        .env("SYSTEMD_SYSVRCND_PATH", Path::new(FIXTURE).join("etc"))
        .status()
        .unwrap();
    assert!(st.success());
    let late = &dirs[2];
    let mut real = Vec::new();
    for e in walkdir::WalkDir::new(late).min_depth(1) {
        let e = e.unwrap();
        let rel = e
            .path()
            .strip_prefix(late)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !e.file_type().is_dir() && rel.contains("legacy") {
            real.push(rel);
        }
    }
    real.sort();
    let tree = unitdiff::tree::dir::DirTree::open(Path::new(FIXTURE)).unwrap();
    let generated =
        unitdiff::unit::generators::run(&tree, &Rules::new(252, 0), &Default::default());
    let ours = generated.written_by("sysv-generator");
    assert_eq!(ours, real);
    // The dependency lines of the unit, as sets.
    let deps = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter(|l| {
                ["Before=", "After=", "Wants="]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let real_text = std::fs::read_to_string(late.join("legacy.service")).unwrap();
    let ours_text = String::from_utf8(
        unitdiff::tree::Tree::read_file(
            &generated.tree,
            &unitdiff::tree::ImagePath::new("/run/systemd/generator.late/legacy.service"),
            1 << 20,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(deps(&ours_text), deps(&real_text));
}
