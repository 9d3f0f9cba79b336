//! Generators emulated offline (`src/unit/generators/`), on `fixtures/generators`: an image
//! whose `/etc/fstab`, init scripts, `/etc/rc.local` and sshd make systemd's generators
//! write units at boot. The expected units and links are those the generator binaries of
//! Debian 13 (257.13) and sid (262.1) wrote for the same files (run in a chroot of those
//! releases); the `needs_systemd_generators` tests check this machine's generators against
//! our emulation; the fstab generator's own tests are in `generators_fstab.rs`.

mod support;

use std::path::Path;
use std::process::Command;
use support::generators::*;
use unitdiff::graph::DepGraph;
use unitdiff::unit::{DepKind, Layer, Rules};

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
        g.set.names.get("legacy-alias.service").map(|n| n.as_str()),
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

/// crypttab, veritytab, integritytab and clonetab volumes: each generated unit, link and
/// edge names its tab file and line; the shapes change with the version.
#[test]
fn block_device_tabs_become_setup_services_with_their_line() {
    let g = load(257);
    let crypt = |line| {
        (
            "/etc/crypttab".to_string(),
            Some(line),
            Some(Layer::Generator),
            Some("cryptsetup-generator"),
        )
    };
    let data = "systemd-cryptsetup@data.service";
    assert_eq!(
        prov(&g, "cryptsetup.target", DepKind::Requires, data),
        crypt(2)
    );
    assert_eq!(
        prov(
            &g,
            data,
            DepKind::BindsTo,
            "dev-disk-by\\x2duuid-1234\\x2dabcd.device"
        ),
        crypt(2)
    );
    // `dev-mapper-data.device.requires/` is written too (the comparisons with the real
    // generators below check every link); it makes an edge only once something loads the
    // device unit, as in systemd.
    // %i in the generated unit expands to the volume.
    assert!(has(
        &g,
        data,
        DepKind::Wants,
        "blockdev@dev-mapper-data.target"
    ));
    // nofail: wanted, not ordered; the key file's mount is wanted only (257).
    let home = "systemd-cryptsetup@home.service";
    assert!(has(&g, "cryptsetup.target", DepKind::Wants, home));
    assert!(!has(&g, home, DepKind::Before, "cryptsetup.target"));
    // A nofail volume's key device is wanted from 256, required before.
    let kdev = "systemd-cryptsetup@kdev.service";
    assert!(has(&g, kdev, DepKind::Wants, "dev-sdz.device"));
    assert!(!has(&g, kdev, DepKind::Requires, "dev-sdz.device"));
    assert!(has(&load(252), kdev, DepKind::Requires, "dev-sdz.device"));
    // _netdev: remote-cryptsetup.target.
    assert!(has(
        &g,
        "remote-cryptsetup.target",
        DepKind::Requires,
        "systemd-cryptsetup@net.service"
    ));
    // A key on its own device: a mount unit for it, with its line.
    assert_eq!(
        prov(
            &g,
            "systemd-cryptsetup@kd.service",
            DepKind::After,
            "run-systemd-cryptsetup-keydev\\x2dkd.mount"
        ),
        crypt(7)
    );
    // The names root and usr are taken as attached in the initrd from 255.
    let root = "systemd-cryptsetup@root.service";
    assert!(!has(&g, root, DepKind::Conflicts, "umount.target"));
    assert!(has(&load(252), root, DepKind::Conflicts, "umount.target"));
    // Loop images: modprobe@loop (257), tmpfiles-setup-dev (252).
    let img = "systemd-cryptsetup@img.service";
    assert!(has(&g, img, DepKind::Wants, "modprobe@loop.service"));
    assert!(has(
        &load(252),
        img,
        DepKind::Requires,
        "systemd-tmpfiles-setup-dev.service"
    ));
    // veritytab, integritytab, clonetab.
    assert_eq!(
        prov(
            &g,
            "veritysetup.target",
            DepKind::Requires,
            "systemd-veritysetup@vroot.service"
        ),
        (
            "/etc/veritytab".into(),
            Some(1),
            Some(Layer::Generator),
            Some("veritysetup-generator")
        )
    );
    assert_eq!(
        prov(
            &g,
            "integritysetup.target",
            DepKind::Requires,
            "systemd-integritysetup@i1.service"
        )
        .1,
        Some(2)
    );
    // _netdev in integritytab counts from 258.
    let n1 = "systemd-integritysetup@n1.service";
    assert!(has(&g, "integritysetup.target", DepKind::Requires, n1));
    let g262 = load(262);
    assert!(has(
        &g262,
        "remote-integritysetup.target",
        DepKind::Requires,
        n1
    ));
    assert!(has(&g262, n1, DepKind::After, "systemd-udevd.service"));
    // A relative key file ends the integritytab: i5 after it is not set up.
    assert!(
        !g.set
            .units
            .contains_key("systemd-integritysetup@i5.service")
    );
    assert_eq!(
        prov(
            &g262,
            "systemd-clonesetup@c1.service",
            DepKind::BindsTo,
            "dev-sdc1.device"
        )
        .1,
        Some(1)
    );
    // Entries the clonesetup generator refuses (a tag, `..`, a path outside /dev).
    for c in ["c2", "c3", "c4", "c5", "c7"] {
        assert!(
            !g262
                .set
                .units
                .contains_key(format!("systemd-clonesetup@{c}.service").as_str())
        );
    }
    assert!(has(
        &g262,
        "clonesetup.target",
        DepKind::Requires,
        "systemd-clonesetup@c9.service"
    ));
    // A sixth field is not read (`sscanf` with five conversions, upstream's
    // `add_clone_devices`): c10 is set up with its options.
    assert!(has(
        &g262,
        "clonesetup.target",
        DepKind::Requires,
        "systemd-clonesetup@c10.service"
    ));
    assert_eq!(
        prov(
            &g262,
            "systemd-clonesetup@c10.service",
            DepKind::BindsTo,
            "dev-sdc10.device"
        )
        .1,
        Some(10)
    );
}

/// Hostile tab files: control characters and `..` in names stay inside the unit name's
/// escaping, nothing is written outside the generator directories, a device path too long
/// for a unit name is listed as not emulated, and a file of many entries stops at the
/// generated-file cap with one warning.
#[test]
fn hostile_tab_files_stay_bounded_and_inside() {
    let long = format!("/dev/{}", "a".repeat(300));
    let crypttab = format!(
        "a\u{1b}b /dev/sda1 none\n../../etc/evil /dev/sdb none\nx {long} none\n\
         k /dev/sdc1 /k:/dev/../x keyfile-timeout=1s\n{} /dev/sdd none\n",
        "n".repeat(400)
    );
    let img = tempfile::tempdir().unwrap();
    let gdir = img.path().join("usr/lib/systemd/system-generators");
    std::fs::create_dir_all(&gdir).unwrap();
    std::fs::create_dir_all(img.path().join("etc")).unwrap();
    std::fs::write(gdir.join("systemd-cryptsetup-generator"), "#!/bin/sh\n").unwrap();
    std::fs::write(img.path().join("etc/crypttab"), &crypttab).unwrap();
    let tree = unitdiff::tree::dir::DirTree::open(img.path()).unwrap();
    let g = unitdiff::unit::generators::run(&tree, &Rules::new(257, 0), &Default::default());
    let written = g.written_by("cryptsetup-generator");
    assert!(written.contains(&"systemd-cryptsetup@a\\x1bb.service".to_string()));
    assert!(written.contains(&"systemd-cryptsetup@\\x2e.-..-etc-evil.service".to_string()));
    assert!(
        written
            .iter()
            .all(|w| !w.contains("..-x") && !w.starts_with('/'))
    );
    assert!(written.iter().all(|w| !w.contains('\u{1b}')));
    assert!(
        g.report
            .not_emulated
            .iter()
            .any(|n| n.reason.contains("too long for a unit name"))
    );
    // The volume with the long device is not set up; the next line still is (257).
    assert!(
        written
            .iter()
            .any(|w| w.contains("systemd-cryptsetup@k.service"))
    );
    // Many entries: the cap, one warning.
    let many: String = (0..30_000)
        .map(|i| format!("v{i} /dev/sd{i} none\n"))
        .collect();
    std::fs::write(img.path().join("etc/crypttab"), many).unwrap();
    let tree = unitdiff::tree::dir::DirTree::open(img.path()).unwrap();
    let g = unitdiff::unit::generators::run(&tree, &Rules::new(257, 0), &Default::default());
    assert_eq!(
        g.warnings
            .iter()
            .filter(|w| w.contains("generated files"))
            .count(),
        1
    );
    assert!(g.written_by("cryptsetup-generator").len() <= 20_000);
}

/// The command-line generators: each edge names `/proc/cmdline` and the word's position.
#[test]
fn debug_and_run_follow_the_kernel_command_line() {
    let g = load_opts(
        257,
        "quiet systemd.wants=foo.service systemd.mask=postgresql.service 3 \
         rd.systemd.wants=no.service systemd.debug_shell=ttyS1",
        false,
    );
    assert_eq!(
        prov(&g, "multi-user.target", DepKind::Wants, "foo.service"),
        (
            "/proc/cmdline".into(),
            Some(2),
            Some(Layer::Generator),
            Some("debug-generator")
        )
    );
    assert!(has(
        &g,
        "multi-user.target",
        DepKind::Wants,
        "debug-shell.service"
    ));
    assert!(!has(&g, "multi-user.target", DepKind::Wants, "no.service"));
    assert_eq!(g.set.units["postgresql.service"].state.as_str(), "masked");
    assert!(!has(&g, "default.target", DepKind::Wants, "foo.service"));
    // systemd.break= from 258.
    let b = |v| {
        has(
            &load_opts(v, "systemd.break=pre-basic", false),
            "graphical.target",
            DepKind::Wants,
            "breakpoint-pre-basic.service",
        )
    };
    assert!(b(262) && !b(257));
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

/// This machine's own `systemd-sysv-generator` (252), pointed at the fixture's init
/// scripts and runlevel links, writes the legacy service we emulate, with the same
/// ordering lines.
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_sysv_agrees_with_the_real_generator() {
    let bin = host_generator("sysv");
    let out = tempfile::tempdir().unwrap();
    let dirs = generator_dirs(out.path());
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

/// This machine's `systemd-cryptsetup-generator` (252) on the fixture's crypttab (every
/// option that changes a dependency: key files, key and header devices, `nofail`,
/// `_netdev`, `noauto`, `x-initrd.attach`, `swap`, `tmp`, `keyfile-timeout=`,
/// `x-systemd.device-timeout=`, loop-backed images) writes the files and links we emulate
/// for 252, with the same dependency lines.
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_cryptsetup_agrees_with_the_real_generator() {
    let crypttab = Path::new(FIXTURE).join("etc/crypttab");
    let rt = tempfile::tempdir().unwrap();
    let runtime = rt.path().join("c");
    let prefix = unitdiff::unit::name::escape(runtime.to_str().unwrap().trim_start_matches('/'));
    let rename = |s: &str| {
        s.replace(&prefix, "run-systemd-cryptsetup")
            .replace(runtime.to_str().unwrap(), "/run/systemd/cryptsetup")
    };
    for cmdline in [
        "",
        "luks.crypttab=no luks.uuid=1234-abcd",
        "luks=no",
        "luks.uuid=luks-1234-abcd rd.luks.uuid=ffff",
        "luks.crypttab=0 luks.name=0123456789abcdef0123456789abcdef=vol \
         luks.key=0123456789abcdef0123456789abcdef=/k.bin:/dev/sdk \
         luks.options=0123456789abcdef0123456789abcdef=nofail,header=/h:/dev/sdj \
         luks.uuid=fedcba98-7654-3210-fedc-ba9876543210 luks.options=discard luks.key=/dflt \
         luks.data=fedcba98-7654-3210-fedc-ba9876543210=LABEL=d",
    ] {
        let real = run_real(
            "cryptsetup",
            &[
                ("SYSTEMD_CRYPTTAB", crypttab.to_str().unwrap().to_string()),
                ("RUNTIME_DIRECTORY", runtime.to_str().unwrap().to_string()),
                ("SYSTEMD_PROC_CMDLINE", cmdline.to_string()),
            ],
            &rename,
        );
        let content = std::fs::read_to_string(&crypttab).unwrap();
        let ours = run_ours(
            "cryptsetup",
            real_version(),
            &[("etc/crypttab", &content)],
            cmdline,
        );
        assert_same(&ours, &real);
        if cmdline.is_empty() {
            assert!(real.len() > 30, "{real:?}");
        }
    }
}

/// A tab-file generator of this machine (or `UNITDIFF_REAL_GENERATORS`) against our
/// emulation for the same version, on the fixture's file and each command line.
fn compare_tab_generator(name: &str, env: &str, file: &str, cmdlines: &[&str]) {
    let path = Path::new(FIXTURE).join(file);
    let content = std::fs::read_to_string(&path).unwrap();
    for cmdline in cmdlines {
        let real = run_real(
            name,
            &[
                (env, path.to_str().unwrap().to_string()),
                ("SYSTEMD_PROC_CMDLINE", cmdline.to_string()),
            ],
            &|s| s.into(),
        );
        let ours = run_ours(name, real_version(), &[(file, &content)], cmdline);
        assert_same(&ours, &real);
        assert!(!real.is_empty() || cmdline.contains("=no"), "{cmdline}");
    }
}

/// `systemd-veritysetup-generator`: veritytab volumes (devices, loop images, `nofail`,
/// `_netdev`, `noauto`, `x-initrd.attach`, the name `usr`, a bad line) and the root and
/// `/usr` volumes of `roothash=`/`usrhash=`/`systemd.verity_*=`.
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_veritysetup_agrees_with_the_real_generator() {
    let hash = "00112233445566778899aabbccddeeff".repeat(2);
    compare_tab_generator(
        "veritysetup",
        "SYSTEMD_VERITYTAB",
        "etc/veritytab",
        &[
            "",
            &format!("roothash={hash}"),
            &format!(
                "usrhash={hash}ffeeddccbbaa99887766554433221100 systemd.verity_usr_data=/dev/vda3"
            ),
            "roothash=abc usrhash=00",
            "systemd.verity=no roothash=00",
            "veritytab=no systemd.verity_root_data=/dev/sda systemd.verity_root_hash=UUID=7 \
             roothash=1234",
        ],
    );
}

/// `systemd-integritysetup-generator`: integritytab volumes with key files, options and
/// `_netdev`/`nofail`/`noauto` (honoured from 258).
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_integritysetup_agrees_with_the_real_generator() {
    compare_tab_generator(
        "integritysetup",
        "SYSTEMD_INTEGRITYTAB",
        "etc/integritytab",
        &[""],
    );
}

/// `systemd-debug-generator` and `systemd-run-generator` of this machine (or
/// `UNITDIFF_REAL_GENERATORS`) against our emulation, on kernel command lines that use every
/// word they read (quoting, `rd.` words, runlevels, a name to mangle, a bad one that ends
/// the parsing).
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_debug_and_run_agree_with_the_real_generators() {
    let cases: [(&str, &[&str]); 2] = [
        (
            "debug",
            &[
                "systemd.mask=foo.service systemd.mask=bar systemd.wants=baz.service \
                 systemd.debug_shell=ttyS1 systemd.unit=rescue.target rd.systemd.mask=rdx.service \
                 3 systemd.break=pre-udev,pre-mount \"systemd.wants=sp ace.service\"",
                "systemd.wants=../x.service systemd.mask=a/b.service systemd.mask=/dev/sda1 \
                 systemd.mask=foo@.service",
                "systemd.unit=foo systemd.wants=x",
                "systemd.debug_shell",
                "systemd.debug-shell=0 systemd.default_debug_tty=tty3 systemd.debug_shell=1",
                "systemd.debug_shell=/dev/ttyS0 emergency systemd.wants=a.service",
                "systemd.wants=a.service systemd.mask= systemd.wants=b.service",
            ],
        ),
        (
            "run",
            &[
                "systemd.run=\"echo hello\" systemd.run=/bin/true systemd.run_failure_action=none",
                "systemd.run_success_action=reboot",
                "systemd.run_failure_action=poweroff",
                "rd.systemd.run=/bin/false",
            ],
        ),
    ];
    for (name, cmdlines) in cases {
        for cmdline in cmdlines {
            let real = run_real(
                name,
                &[("SYSTEMD_PROC_CMDLINE", cmdline.to_string())],
                &|s| s.into(),
            );
            let ours = run_ours(name, real_version(), &[], cmdline);
            assert_same(&ours, &real);
            // Only these two make nothing: a failure action without a command, and a
            // command for the initrd.
            let nothing = cmdline.starts_with("rd.")
                || !cmdline.contains("systemd.run") && name == "run"
                || *cmdline == "systemd.run_failure_action=poweroff";
            assert_eq!(real.is_empty(), nothing, "{name}: {cmdline}");
        }
    }
}

/// Words a hostile tab file or command line is made of.
const HOSTILE: &[&str] = &[
    "/dev/sda1",
    "UUID=1234-ab",
    "LABEL=\"a b\"",
    "/dev/../../etc/x",
    "../../x",
    "a/b",
    "%n%i%%",
    "\u{1b}[2J",
    "none",
    "-",
    "/k.bin:/dev/sdz",
    "nofail,_netdev,noauto,header=/h:UUID=9,keyfile-timeout=1s,tmp,swap",
    "x-initrd.attach,x-systemd.device-timeout=0",
    "root",
    "usr",
    "\\",
    "'\"",
    "luks.uuid=1234-ab",
    "luks.name=0123456789abcdef0123456789abcdef=x/y",
    "systemd.mask=../../x",
    "systemd.wants=a\u{7f}b",
    "systemd.unit=../evil",
    "systemd.run=\"rm -rf /\"",
    "roothash=00112233445566778899aabbccddeeff",
    "systemd.break=pre-udev,pre-basic",
    "systemd.debug_shell=/dev/../x",
    "/mnt/a\\777b\\040",
    "x-systemd.after=,x-systemd.automount,noauto,auto,x-systemd.wanted-by=../x",
    "x-systemd.requires=/dev/../x,x-systemd.before=%n,x-systemd.requires-mounts-for=%%",
    "swap",
    "nfs",
    "/",
    "0 1",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..Default::default()
    })]

    /// Any tab file or command line: the emulation ends, writes only plain names inside the
    /// generator directories, and the image still loads.
    #[test]
    fn hostile_tab_files_and_command_lines_never_escape(
        lines in proptest::collection::vec(
            proptest::collection::vec(proptest::sample::select(HOSTILE), 1..6), 0..12),
        cmdline in proptest::collection::vec(proptest::sample::select(HOSTILE), 0..8),
        version in proptest::sample::select(&[252u32, 257, 262][..]),
    ) {
        let img = tempfile::tempdir().unwrap();
        let gdir = img.path().join("usr/lib/systemd/system-generators");
        std::fs::create_dir_all(&gdir).unwrap();
        std::fs::create_dir_all(img.path().join("etc")).unwrap();
        let text: String = lines.iter().map(|l| l.join(" ") + "\n").collect();
        for g in ["cryptsetup", "veritysetup", "integritysetup", "clonesetup", "debug", "run", "fstab"] {
            std::fs::write(gdir.join(format!("systemd-{g}-generator")), "#!/bin/sh\n").unwrap();
        }
        for t in ["crypttab", "veritytab", "integritytab", "clonetab", "fstab"] {
            std::fs::write(img.path().join("etc").join(t), &text).unwrap();
        }
        let tree = unitdiff::tree::dir::DirTree::open(img.path()).unwrap();
        let opts = unitdiff::unit::generators::Options { kernel_cmdline: cmdline.join(" ") };
        let g = unitdiff::unit::generators::run(&tree, &Rules::new(version, 0), &opts);
        for name in ["cryptsetup", "veritysetup", "integritysetup", "clonesetup", "debug", "run", "fstab"] {
            for w in g.written_by(&format!("{name}-generator")) {
                proptest::prop_assert!(
                    !w.starts_with('/') && !w.split('/').any(|c| c == ".." || c.is_empty()),
                    "{name} wrote {w:?}"
                );
                proptest::prop_assert!(w.split('/').count() <= 2, "{name} wrote {w:?}");
            }
        }
        let load_opts = unitdiff::InputOptions {
            kernel_cmdline: cmdline.join(" "),
            ..Default::default()
        };
        proptest::prop_assert!(unitdiff::open_input_with(
            img.path(),
            Some(Rules::new(version, 0)),
            &[],
            &load_opts
        )
        .is_ok());
    }
}

/// A crypttab device whose unit name is over 255 bytes: hashed from 251 (the real
/// generator and ours name it alike; 252's, 257.13's and 262.1's binaries).
#[test]
#[ignore = "needs systemd's generators (/lib/systemd/system-generators, Debian 12)"]
fn needs_systemd_generators_cryptsetup_hashes_long_device_names() {
    let p = "p".repeat(120);
    let content = format!("data /dev/disk/by-path/{p}/{p}/x none luks\n");
    let dir = tempfile::tempdir().unwrap();
    let crypttab = dir.path().join("crypttab");
    std::fs::write(&crypttab, &content).unwrap();
    let runtime = dir.path().join("c");
    let prefix = unitdiff::unit::name::escape(runtime.to_str().unwrap().trim_start_matches('/'));
    let rename = |s: &str| {
        s.replace(&prefix, "run-systemd-cryptsetup")
            .replace(runtime.to_str().unwrap(), "/run/systemd/cryptsetup")
    };
    let real = run_real(
        "cryptsetup",
        &[
            ("SYSTEMD_CRYPTTAB", crypttab.to_str().unwrap().to_string()),
            ("RUNTIME_DIRECTORY", runtime.to_str().unwrap().to_string()),
            ("SYSTEMD_PROC_CMDLINE", String::new()),
        ],
        &rename,
    );
    let ours = run_ours(
        "cryptsetup",
        real_version(),
        &[("etc/crypttab", &content)],
        "",
    );
    assert_same(&ours, &real);
    let hashed = real
        .values()
        .flatten()
        .any(|l| l.starts_with("BindsTo=") && l.contains("_") && l.ends_with(".device"));
    assert!(hashed, "{real:?}");
}
