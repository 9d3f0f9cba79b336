//! The rules of systemd 253–262 that change edges (docs/semantics.md, per-version table),
//! each on `fixtures/rules/versions` loaded before and after the version that brought it.
//! The 262 expectations were checked against Debian sid's own systemd 262.1 (`systemd
//! --test` in a chroot, every edge of every unit of the fixture identical), the 257 ones
//! against Debian 13's 257.13, the 252 ones against Debian 12's 252.

use std::path::Path;
use unitdiff::graph::DepGraph;
use unitdiff::unit::{DepKind, LoadState, Origin, Rules};

fn load(v: u32) -> DepGraph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/versions");
    unitdiff::load_dir(&root, Rules::new(v, 0)).unwrap()
}

fn has(g: &DepGraph, from: &str, kind: DepKind, to: &str) -> bool {
    g.edges.contains_key(&(from.into(), kind, to.into()))
}

fn origin(g: &DepGraph, from: &str, kind: DepKind, to: &str) -> Origin {
    g.edges[&(from.into(), kind, to.into())][0].origin
}

/// 256: `LogNamespace=` also requires `systemd-journald-sync@NS.service` (not only from 257).
#[test]
fn log_namespace_sync_service_from_256() {
    let sync = "systemd-journald-sync@foo.service";
    assert!(!has(&load(255), "ns.service", DepKind::Requires, sync));
    assert!(has(&load(256), "ns.service", DepKind::Requires, sync));
    assert!(has(&load(262), "ns.service", DepKind::After, sync));
    // The sockets are there in every version.
    assert!(has(
        &load(255),
        "ns.service",
        DepKind::Requires,
        "systemd-journald@foo.socket"
    ));
}

/// 256: `What=LABEL=…`/`UUID=…` of a mount or swap unit names a `/dev/disk/by-…` link, so
/// the unit gets the device edges of a `/dev/` path.
#[test]
fn what_tags_name_devices_from_256() {
    let dev = "dev-disk-by\\x2duuid-1234\\x2dabcd.device";
    let g255 = load(255);
    assert!(!has(&g255, "data.mount", DepKind::Requires, dev));
    let g256 = load(256);
    assert!(has(&g256, "data.mount", DepKind::Requires, dev));
    assert!(has(&g256, "data.mount", DepKind::StopPropagatedFrom, dev));
    assert!(has(
        &g256,
        "data.mount",
        DepKind::After,
        "blockdev@dev-disk-by\\x2duuid-1234\\x2dabcd.target"
    ));
    assert_eq!(
        origin(&g256, "data.mount", DepKind::Requires, dev),
        Origin::MountFile
    );
    let swap = "dev-disk-by\\x2dlabel-sw.swap";
    let label = "dev-disk-by\\x2dlabel-sw.device";
    assert!(!has(&g255, swap, DepKind::Requires, label));
    assert!(has(&g256, swap, DepKind::Requires, label));
}

/// 261: a swap with `_netdev` is ordered like a network mount and leaves swap.target.
#[test]
fn netdev_swaps_are_remote_from_261() {
    let g260 = load(260);
    assert!(has(&g260, "dev-sdb2.swap", DepKind::Before, "swap.target"));
    assert!(!has(
        &g260,
        "dev-sdb2.swap",
        DepKind::Before,
        "remote-fs.target"
    ));
    let g261 = load(261);
    assert!(!has(&g261, "dev-sdb2.swap", DepKind::Before, "swap.target"));
    for (kind, to) in [
        (DepKind::Before, "remote-fs.target"),
        (DepKind::After, "remote-fs-pre.target"),
        (DepKind::After, "network.target"),
        (DepKind::Wants, "network-online.target"),
        (DepKind::Before, "umount.target"),
        (DepKind::Conflicts, "umount.target"),
    ] {
        assert!(has(&g261, "dev-sdb2.swap", kind, to), "{kind:?} {to}");
    }
    // The device edges are the file's, as systemd marks them.
    assert_eq!(
        origin(&g261, "dev-sdb2.swap", DepKind::Requires, "dev-sdb2.device"),
        Origin::File
    );
    assert!(has(
        &g261,
        "dev-sdb2.swap",
        DepKind::After,
        "blockdev@dev-sdb2.target"
    ));
    // A swap file needs a writable root (every version).
    assert!(has(
        &load(252),
        "swapfile.swap",
        DepKind::After,
        "systemd-remount-fs.service"
    ));
}

/// 254: mounts under /run/nextroot are extrinsic: no default dependencies, root slice.
#[test]
fn run_nextroot_is_extrinsic_from_254() {
    let m = "run-nextroot-x.mount";
    let g253 = load(253);
    assert!(has(&g253, m, DepKind::Before, "remote-fs.target"));
    assert!(has(&g253, m, DepKind::InSlice, "system.slice"));
    let g254 = load(254);
    assert!(!has(&g254, m, DepKind::Before, "remote-fs.target"));
    assert!(!has(&g254, m, DepKind::Conflicts, "umount.target"));
    assert!(has(&g254, m, DepKind::InSlice, "-.slice"));
}

/// Network file systems are systemd's `fstype_is_network` (every version): lustre and
/// `fuse.sshfs` are remote, 9p is local.
#[test]
fn network_file_systems_are_systemds() {
    let g = load(252);
    assert!(has(&g, "lus.mount", DepKind::Before, "remote-fs.target"));
    assert!(has(&g, "ssh.mount", DepKind::Before, "remote-fs.target"));
    assert!(has(&g, "nine.mount", DepKind::Before, "local-fs.target"));
    assert!(!has(
        &g,
        "nine.mount",
        DepKind::Wants,
        "network-online.target"
    ));
}

/// `ManagedOOM…=kill` pulls in systemd-oomd only with default dependencies.
#[test]
fn oomd_needs_default_dependencies() {
    let g = load(252);
    assert!(!has(
        &g,
        "oomd-nodefault.service",
        DepKind::Wants,
        "systemd-oomd.service"
    ));
}

/// Specifiers in paths are expanded before the mounts are looked up: `%t` in a socket path,
/// quoted `%S` in `RequiresMountsFor=`.
#[test]
fn specifiers_in_paths_reach_the_mounts() {
    for v in [252, 257, 262] {
        let g = load(v);
        assert!(
            has(&g, "podman.socket", DepKind::Requires, "run-podman.mount"),
            "{v}"
        );
        assert_eq!(
            origin(&g, "podman.socket", DepKind::After, "run-podman.mount"),
            Origin::Path
        );
        assert!(
            has(&g, "mountsfor.service", DepKind::Requires, "var.mount"),
            "{v}"
        );
    }
}

/// 253: `Type=notify-reload`. Before, systemd ignores the value ("Failed to parse service
/// type"), so a service with `BusName=` is `Type=dbus` and requires `dbus.socket` (systemd
/// 252 on this fixture: `Requires=`/`After=dbus.socket`; 257: neither). Debian 13's
/// systemd-logind.service is one: its `Requires=dbus.socket` goes away with the upgrade.
#[test]
fn notify_reload_type_from_253() {
    let (g252, g253) = (load(252), load(253));
    for kind in [DepKind::Requires, DepKind::After] {
        assert!(has(&g252, "notify-reload.service", kind, "dbus.socket"));
        assert!(!has(&g253, "notify-reload.service", kind, "dbus.socket"));
    }
}

/// `SuccessAction=soft-reboot-force` (254, with soft reboots): systemd 252 ignores the value
/// ("Failed to parse SuccessAction="), so a service with nothing else to run is refused
/// (bad-setting, no slice edges); 257 loads it. Debian 13's systemd-soft-reboot.service is
/// one: loaded by 257, refused by 252 reading the same file.
#[test]
fn soft_reboot_success_action_from_254() {
    let unit = "soft-reboot-action.service";
    let g253 = load(253);
    assert_eq!(g253.set.units[unit].state, LoadState::BadSetting);
    assert!(!has(&g253, unit, DepKind::Requires, "system.slice"));
    let g254 = load(254);
    assert_eq!(g254.set.units[unit].state, LoadState::Loaded);
    assert!(has(&g254, unit, DepKind::Requires, "system.slice"));
}

/// Debian 12's systemd (252) names its vendor units `/lib/systemd/system/…` (its search path
/// has `/lib/systemd/system` first, and `/lib` links to `usr/lib`); Debian 13's (257) has no
/// `/lib/systemd/system` and names the same files `/usr/lib/systemd/system/…`. A diff
/// matches files by where they are: nothing moved, only what the files change.
#[test]
fn declared_vendor_directory_names_files_and_the_diff_matches_them() {
    let trees = tempfile::tempdir().unwrap();
    for (side, body) in [
        (
            "old",
            "[Unit]\nWants=b.service\n[Service]\nExecStart=/bin/a\n",
        ),
        (
            "new",
            "[Unit]\nWants=b.service c.service\n[Service]\nExecStart=/bin/a\n",
        ),
    ] {
        let root = trees.path().join(side);
        let units = root.join("usr/lib/systemd/system");
        std::fs::create_dir_all(&units).unwrap();
        std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
        std::fs::write(units.join("a.service"), body).unwrap();
        let d = units.join("a.service.d");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("x.conf"), "[Unit]\nAfter=b.service\n").unwrap();
    }
    let old = unitdiff::load_dir(&trees.path().join("old"), Rules::new(252, 0)).unwrap();
    let new = unitdiff::load_dir(&trees.path().join("new"), Rules::new(257, 0)).unwrap();
    let path = |g: &DepGraph| {
        let u = &g.set.units["a.service"];
        (
            u.fragment.as_ref().unwrap().path.to_string(),
            u.dropins[0].path.to_string(),
        )
    };
    assert_eq!(
        path(&old),
        (
            "/lib/systemd/system/a.service".to_string(),
            "/lib/systemd/system/a.service.d/x.conf".to_string()
        )
    );
    assert_eq!(path(&new).0, "/usr/lib/systemd/system/a.service");
    let d = unitdiff::diff::diff(&old, &new, None);
    assert!(d.edges_moved.is_empty(), "{:?}", d.edges_moved);
    assert_eq!(d.edges_added.len(), 1, "{:?}", d.edges_added);
    let a = d
        .units_changed
        .iter()
        .find(|u| u.name == "a.service")
        .expect("a.service changed");
    let files: Vec<(String, String)> = a
        .files
        .iter()
        .map(|f| (f.path.to_string(), format!("{:?}", f.change)))
        .collect();
    assert_eq!(
        files,
        [(
            "/usr/lib/systemd/system/a.service".to_string(),
            "Modified".to_string()
        )]
    );
    // Its patch compares the two releases' texts of that file: one line changed.
    let patches = unitdiff::report::unified::patches(&d, &old, &new);
    let text = &patches
        .iter()
        .find(|p| p.unit == "a.service")
        .expect("a patch")
        .text;
    let changed: Vec<&str> = text
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        ["-Wants=b.service", "+Wants=b.service c.service"],
        "{text}"
    );
}
