//! Loader rules, one fixture each under fixtures/rules/ (each also checked against systemd
//! itself in tests/fidelity_file_edges.rs). These assert the specific fact each fixture
//! exists for, with its provenance.

use std::path::Path;
use unitdiff::graph::DepGraph;
use unitdiff::unit::{DepKind, How, Layer, LoadState, Rules};

fn load(fixture: &str) -> DepGraph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules")
        .join(fixture);
    unitdiff::load_dir(&root, Rules::default()).unwrap()
}

fn targets(g: &DepGraph, from: &str, kind: DepKind) -> Vec<String> {
    g.edges
        .keys()
        .filter(|(f, k, _)| f == from && *k == kind)
        .map(|(_, _, t)| t.to_string())
        .collect()
}

/// Like `targets`, but only edges a file or link wrote (not systemd's implicit ones).
fn written(g: &DepGraph, from: &str, kind: DepKind) -> Vec<String> {
    g.edges
        .iter()
        .filter(|((f, k, _), provs)| {
            f == from && *k == kind && provs.iter().any(|p| p.how != How::Rule)
        })
        .map(|((_, _, t), _)| t.to_string())
        .collect()
}

fn state(g: &DepGraph, name: &str) -> LoadState {
    g.set
        .units
        .get(name)
        .unwrap_or_else(|| panic!("{name} not loaded"))
        .state
}

fn fragment(g: &DepGraph, name: &str) -> String {
    g.set.units[name]
        .fragment
        .as_ref()
        .unwrap()
        .path
        .to_string()
}

#[test]
fn precedence_whole_file_override() {
    let g = load("precedence");
    // /etc beats /usr/local beats /usr/lib; files are never merged.
    assert_eq!(fragment(&g, "a.service"), "/etc/systemd/system/a.service");
    assert_eq!(
        targets(&g, "a.service", DepKind::Wants),
        ["from-etc.service"]
    );
    assert_eq!(
        fragment(&g, "b.service"),
        "/usr/local/lib/systemd/system/b.service"
    );
    assert_eq!(
        targets(&g, "b.service", DepKind::Wants),
        ["from-local.service"]
    );
    let p = &g.edges[&(
        "a.service".into(),
        DepKind::Wants,
        "from-etc.service".into(),
    )][0];
    assert_eq!(p.layer, Some(Layer::Admin));
    assert_eq!(p.line, Some(2));
}

#[test]
fn masks_by_dev_null_and_empty_file() {
    let g = load("mask");
    assert_eq!(state(&g, "m.service"), LoadState::Masked);
    assert_eq!(state(&g, "empty.service"), LoadState::Masked);
    // systemd 252 (before 257.10) still applies a masked unit's drop-ins and .wants links,
    // never its fragment.
    let wants = targets(&g, "m.service", DepKind::Wants);
    assert_eq!(wants, ["from-dropin.service", "x.service"]);
    assert!(targets(&g, "empty.service", DepKind::Wants).is_empty());
    // Masked units are still dependency targets.
    assert_eq!(
        targets(&g, "user.service", DepKind::Wants),
        ["empty.service", "m.service"]
    );
    // 257.13 and later drop them.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/mask");
    let g257 = unitdiff::load_dir(&root, Rules::new(257, 13)).unwrap();
    assert!(targets(&g257, "m.service", DepKind::Wants).is_empty());
}

#[test]
fn aliases_resolve_by_name() {
    let g = load("alias");
    // al.service -> real.service in /usr/lib, but /etc has real.service: by name, /etc wins.
    assert_eq!(
        fragment(&g, "real.service"),
        "/etc/systemd/system/real.service"
    );
    let real = &g.set.units["real.service"];
    assert_eq!(
        real.aliases.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["abs.service", "al.service", "al2.service"]
    );
    // Edges to aliases land on the canonical unit.
    let wants = targets(&g, "ref.service", DepKind::Wants);
    assert!(wants.contains(&"real.service".to_string()), "{wants:?}");
    assert!(!wants.contains(&"al.service".to_string()));
    // A dangling alias in /etc hides the /usr/lib file.
    assert_eq!(state(&g, "dang.service"), LoadState::NotFound);
    // An alias to another type is rejected: the lower file is used instead.
    assert_eq!(
        fragment(&g, "baz.service"),
        "/usr/lib/systemd/system/baz.service"
    );
    assert!(
        g.set
            .warnings
            .iter()
            .any(|w| w.message.contains("invalid alias"))
    );
    // A linked unit file keeps the link's name and path.
    assert_eq!(
        fragment(&g, "linked.service"),
        "/etc/systemd/system/linked.service"
    );
    let f = g.set.units["linked.service"].fragment.as_ref().unwrap();
    assert_eq!(
        f.target.as_ref().unwrap().as_str(),
        "/opt/app/other.service"
    );
    assert_eq!(
        targets(&g, "linked.service", DepKind::Wants),
        ["from-linked.service"]
    );
    assert!(!g.set.units.contains_key("other.service"));
}

#[test]
fn wants_and_requires_directories() {
    let g = load("wants");
    let wants = targets(&g, "multi-user.target", DepKind::Wants);
    // By link name (mismatch.service points at foo.service), dangling links count, the
    // regular file is ignored, the /etc /dev/null link masks b.service, and the template is
    // instantiated with the owning unit's prefix.
    assert_eq!(
        wants,
        [
            "a.service",
            "dangling.service",
            "foo.service",
            "mismatch.service",
            "tpl@multi-user.service",
            "tpl@x.service"
        ]
    );
    assert_eq!(
        targets(&g, "multi-user.target", DepKind::Requires),
        ["foo.service"]
    );
    assert_eq!(state(&g, "dangling.service"), LoadState::NotFound);
    let p = &g.edges[&(
        "multi-user.target".into(),
        DepKind::Wants,
        "foo.service".into(),
    )][0];
    assert_eq!(p.how, How::WantsDir);
    assert_eq!(
        p.path.as_ref().unwrap().as_str(),
        "/etc/systemd/system/multi-user.target.wants/foo.service"
    );
    assert_eq!(p.layer, Some(Layer::Admin));
    assert!(
        g.set
            .warnings
            .iter()
            .any(|w| w.message.contains("not a symlink"))
    );
    // `.upholds/` directories exist from systemd 254: ignored by 252, used by 257.
    assert!(targets(&g, "multi-user.target", DepKind::Upholds).is_empty());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/wants");
    let g257 = unitdiff::load_dir(&root, Rules::new(257, 13)).unwrap();
    assert_eq!(
        targets(&g257, "multi-user.target", DepKind::Upholds),
        ["a.service"]
    );
    let p = &g257.edges[&(
        "multi-user.target".into(),
        DepKind::Upholds,
        "a.service".into(),
    )][0];
    assert_eq!(p.how, How::UpholdsDir);
}

#[test]
fn dropin_directories_precedence_and_order() {
    let g = load("dropins");
    let u = &g.set.units["foo-bar-baz.service"];
    let names: Vec<&str> = u.dropins.iter().map(|d| d.path.as_str()).collect();
    // Global byte-wise order by file name; /etc prefix dir beats /usr/lib unit dir for
    // 20-y.conf; the longer prefix beats the shorter for 15-p.conf; the unit's own dir beats
    // the type-level dir for 10-a.conf; the /etc mask hides 30-m.conf; .hidden and non-.conf
    // files are skipped; alias directories apply.
    assert_eq!(
        names,
        [
            "/usr/lib/systemd/system/foo-bar-baz.service.d/10-a.conf",
            "/usr/lib/systemd/system/foo-bar-.service.d/15-p.conf",
            "/etc/systemd/system/foo-.service.d/20-y.conf",
            "/etc/systemd/system/foo-bar-baz.service.d/30-m.conf",
            "/usr/lib/systemd/system/service.d/50-type.conf",
            "/usr/lib/systemd/system/foo-bar-baz.service.d/60-reset.conf",
            "/etc/systemd/system/fbalias.service.d/70-alias.conf",
            "/usr/lib/systemd/system/foo-bar-baz.service.d/9-c.conf",
        ]
    );
    assert!(u.dropins[3].masked);
    let wants = targets(&g, "foo-bar-baz.service", DepKind::Wants);
    for w in [
        "from-fragment.service",
        "from-10-a.service",
        "from-prefix-15-p.service",
        "from-etc-prefix-20-y.service",
        "from-type-level.service",
        "from-empty-reset.service", // an empty Wants= does not reset
        "from-alias-dropin.service",
        "from-9-c.service",
    ] {
        assert!(wants.contains(&w.to_string()), "{w} missing from {wants:?}");
    }
    for w in [
        "from-vendor-20-y.service",
        "from-shorter-prefix-15-p.service",
        "from-type-level-10-a.service",
        "from-masked-30-m.service",
        "from-not-conf.service",
        "from-hidden.service",
        "outside-section.service",
        "from-lowercase-key.service",         // keys are case-sensitive
        "from-unit-section-wantedby.service", // no reverse keys in [Unit]
        "from-x-key.service",
    ] {
        assert!(!wants.contains(&w.to_string()), "{w} should not apply");
    }
    // Template and instance drop-in directories.
    assert!(
        targets(&g, "tpl@one.service", DepKind::Wants)
            .contains(&"from-instance-dropin.service".to_string())
    );
    assert!(
        targets(&g, "tpl@two.service", DepKind::Wants)
            .contains(&"from-template-dropin.service".to_string())
    );
    assert!(
        !targets(&g, "tpl@one.service", DepKind::Wants)
            .contains(&"from-template-dropin.service".to_string())
    );
    // Drop-in edges carry the drop-in path and line.
    let p = &g.edges[&(
        "foo-bar-baz.service".into(),
        DepKind::Wants,
        "from-etc-prefix-20-y.service".into(),
    )][0];
    assert_eq!(p.how, How::DropIn);
    assert_eq!(
        p.path.as_ref().unwrap().as_str(),
        "/etc/systemd/system/foo-.service.d/20-y.conf"
    );
    assert_eq!(p.line, Some(2));
}

#[test]
fn templates_instances_and_specifiers() {
    let g = load("templates");
    assert_eq!(
        fragment(&g, "getty@tty1.service"),
        "/usr/lib/systemd/system/getty@.service"
    );
    let after = written(&g, "getty@tty1.service", DepKind::After);
    assert_eq!(after, ["x-tty1.service"]);
    let wants = targets(&g, "getty@tty1.service", DepKind::Wants);
    assert_eq!(
        wants,
        [
            "getty-helper.service",
            "getty@tty1-stem.target",
            "getty@tty1.service-self.target"
        ]
    );
    // %I %P %J %f are refused in dependencies by systemd 252; %j (last dash component of
    // the prefix) is allowed.
    assert_eq!(
        written(&g, "getty@tty1.service", DepKind::Requires),
        ["getty-last.service"]
    );
    assert_eq!(
        targets(&g, "a-b-c@d.service", DepKind::Wants),
        ["last-c.service"]
    );
    // Template references from a plain unit take its prefix; %i is empty there.
    let plain = targets(&g, "plain.service", DepKind::Wants);
    assert!(
        plain.contains(&"tmpl@plain.service".to_string()),
        "{plain:?}"
    );
    assert!(plain.contains(&"s-i-.service".to_string()), "{plain:?}");
    // An instance file beats a masked template in a higher directory.
    assert_eq!(state(&g, "tm@x.service"), LoadState::Loaded);
    assert_eq!(state(&g, "tm@y.service"), LoadState::Masked);
    // Templates themselves are listed apart and carry no edges.
    assert!(g.set.templates.contains_key("getty@.service"));
    assert!(!g.edges.keys().any(|(f, _, _)| f == "getty@.service"));
}

#[test]
fn symlinked_search_directories_are_deduplicated() {
    let g = load("symlinked");
    // usr/lib -> lib64 and lib -> usr/lib: one physical directory, every unit once.
    let dirs: Vec<&str> = g
        .set
        .search_dirs
        .iter()
        .map(|d| d.physical.as_str())
        .collect();
    assert_eq!(dirs, ["/etc/systemd/system", "/usr/lib64/systemd/system"]);
    // systemd names a file by the first search directory that is that directory, as
    // declared: 252's /lib/systemd/system (Debian 12 reports /lib/systemd/system/… the same
    // way), 257's /usr/lib/systemd/system; up to 229 the search path was canonicalised.
    assert_eq!(fragment(&g, "a.service"), "/lib/systemd/system/a.service");
    let g257 = load_with("symlinked", Rules::new(257, 0));
    assert_eq!(
        fragment(&g257, "a.service"),
        "/usr/lib/systemd/system/a.service"
    );
    let g229 = load_with("symlinked", Rules::new(229, 0));
    assert_eq!(
        fragment(&g229, "a.service"),
        "/usr/lib64/systemd/system/a.service"
    );
    // Links through the symlinked directories are aliases.
    let a = &g.set.units["a.service"];
    assert_eq!(
        a.aliases.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["alias-abs.service"]
    );
    assert_eq!(
        g.set.units["b.service"]
            .aliases
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["alias-rel.service"]
    );
}

#[test]
fn triggers_and_slices() {
    let g = load("triggers");
    assert_eq!(targets(&g, "s.socket", DepKind::Triggers), ["s.service"]);
    assert_eq!(
        targets(&g, "other.socket", DepKind::Triggers),
        ["custom.service"]
    );
    // Accept=yes sockets trigger nothing.
    assert!(targets(&g, "acc.socket", DepKind::Triggers).is_empty());
    assert_eq!(targets(&g, "t.timer", DepKind::Triggers), ["t.service"]);
    // Unit= in timers: the first one wins.
    assert_eq!(targets(&g, "u.timer", DepKind::Triggers), ["first.service"]);
    assert_eq!(targets(&g, "p.path", DepKind::Triggers), ["pathed.service"]);
    // Slice=: the last one wins (v230+).
    assert_eq!(
        targets(&g, "start.service", DepKind::InSlice),
        ["custom.slice"]
    );
    // Sockets= in a service.
    assert_eq!(
        targets(&g, "sk.service", DepKind::TriggeredBy),
        ["other.socket", "s.socket"]
    );
}

fn load_with(fixture: &str, rules: Rules) -> DepGraph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules")
        .join(fixture);
    unitdiff::load_dir(&root, rules).unwrap()
}

/// systemd 225 (CoreOS 899/1010) has no dash-prefix (v239) or type-level (v244) drop-in
/// directories; unit, template and alias directories work.
#[test]
fn v225_dropin_directories() {
    let g = load_with("dropins", Rules::new(225, 0));
    let wants = written(&g, "foo-bar-baz.service", DepKind::Wants);
    assert!(
        wants.contains(&"from-10-a.service".to_string()),
        "{wants:?}"
    );
    assert!(
        wants.contains(&"from-vendor-20-y.service".to_string()),
        "{wants:?}"
    );
    for w in [
        "from-etc-prefix-20-y.service",
        "from-prefix-15-p.service",
        "from-type-level.service",
    ] {
        assert!(
            !wants.contains(&w.to_string()),
            "{w} applied under 225: {wants:?}"
        );
    }
}

/// Before v233, every entry of a `.wants/` directory counts: regular files too, and a
/// `/dev/null` link does not mask a lower one.
#[test]
fn v225_wants_directories_accept_everything() {
    let g = load_with("wants", Rules::new(225, 0));
    let wants = written(&g, "multi-user.target", DepKind::Wants);
    assert!(wants.contains(&"regular.service".to_string()), "{wants:?}");
    assert!(wants.contains(&"b.service".to_string()), "{wants:?}");
}

/// Before v244 a masked service loads neither drop-ins nor `.wants/` links.
#[test]
fn v225_masked_service_has_no_edges() {
    let g = load_with("mask", Rules::new(225, 0));
    assert_eq!(g.set.units["m.service"].state, LoadState::Masked);
    assert!(written(&g, "m.service", DepKind::Wants).is_empty());
}

/// Default dependencies of a service per version: 225 requires basic.target, 228+
/// requires sysinit.target and is only ordered after basic.target; 233+ targets are
/// ordered before shutdown.target.
#[test]
fn default_dependencies_per_version() {
    let rules_of = |g: &DepGraph, from: &str, kind: DepKind| -> Vec<String> {
        g.edges
            .iter()
            .filter(|((f, k, _), p)| f == from && *k == kind && p.iter().any(|p| p.rule.is_some()))
            .map(|((_, _, t), _)| t.to_string())
            .collect()
    };
    let old = load_with("precedence", Rules::new(225, 0));
    let new = load_with("precedence", Rules::new(252, 0));
    assert!(rules_of(&old, "a.service", DepKind::Requires).contains(&"basic.target".to_string()));
    assert!(
        !rules_of(&old, "a.service", DepKind::Requires).contains(&"sysinit.target".to_string())
    );
    assert!(rules_of(&new, "a.service", DepKind::Requires).contains(&"sysinit.target".to_string()));
    assert!(!rules_of(&new, "a.service", DepKind::Requires).contains(&"basic.target".to_string()));
    let p = &new.edges[&(
        "a.service".into(),
        DepKind::Requires,
        "sysinit.target".into(),
    )][0];
    assert_eq!(p.rule.map(|r| r.as_str()), Some("service-default"));
    assert_eq!(p.origin, unitdiff::unit::Origin::Default);
}

/// A template that depends on itself through its instance (`Wants=foo@%i1.service
/// foo@%i2.service`) would create ever longer instances: systemd 250+ drops such words
/// (older rules are bounded by `MAX_UNITS`).
#[test]
fn recursive_template_dependencies_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&sys).unwrap();
    std::fs::write(sys.join("all.target"), "[Unit]\nWants=foo@a.service\n").unwrap();
    std::fs::write(
        sys.join("foo@.service"),
        "[Unit]\nWants=foo@%i1.service foo@%i2.service\n[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let g = unitdiff::load_dir(dir.path(), Rules::new(252, 0)).unwrap();
    assert!(targets(&g, "foo@a.service", DepKind::Wants).is_empty());
    assert!(g.set.units.len() < 20, "{}", g.set.units.len());
}

/// `PrivateTmp=` per version (semantics doc, "The `/tmp` and `/var/tmp` rules from 258 and
/// 260"): `DynamicUser=` disconnects /tmp from 257, a disconnected /var/tmp needs /var from
/// 258, `PrivateTmp=yes` with `DefaultDependencies=no` disconnects /tmp from 260 (Debian
/// sid's systemd-hostnamed.service).
#[test]
fn private_tmp_per_version() {
    let wants = |g: &DepGraph, u: &str| targets(g, u, DepKind::Wants);
    let after = |g: &DepGraph, u: &str| targets(g, u, DepKind::After);
    let g256 = load_with("private-tmp", Rules::new(256, 0));
    assert!(wants(&g256, "dynamic.service").contains(&"tmp.mount".to_string()));
    let g257 = load_with("private-tmp", Rules::new(257, 13));
    assert!(!wants(&g257, "dynamic.service").contains(&"tmp.mount".to_string()));
    assert!(!wants(&g257, "dynamic.service").contains(&"var.mount".to_string()));
    assert!(
        !after(&g257, "dynamic.service").contains(&"systemd-tmpfiles-setup.service".to_string())
    );
    assert!(wants(&g257, "hostnamed.service").contains(&"tmp.mount".to_string()));
    let g262 = load_with("private-tmp", Rules::new(262, 1));
    assert!(wants(&g262, "dynamic.service").contains(&"var.mount".to_string()));
    assert!(!wants(&g262, "dynamic.service").contains(&"tmp.mount".to_string()));
    assert!(!wants(&g262, "hostnamed.service").contains(&"tmp.mount".to_string()));
    assert!(!after(&g262, "hostnamed.service").contains(&"tmp.mount".to_string()));
    // /var/tmp stays connected: tmpfiles set-up is still needed.
    assert!(
        after(&g262, "hostnamed.service").contains(&"systemd-tmpfiles-setup.service".to_string())
    );
    assert!(wants(&g262, "plain.service").contains(&"tmp.mount".to_string()));
}

/// A drop-in systemd cannot read (a dangling link, a directory or a link to one named
/// `*.conf`) sets nothing but still takes its name: the vendor drop-ins of the same names
/// do not apply, and systemd lists the unreadable ones as the unit's drop-ins (checked
/// against systemd 252, 257 and 262; tests/fidelity.rs compares the fixture with 252).
#[test]
fn unreadable_dropins_hide_lower_ones() {
    let g = load("unreadable-dropins");
    let wants = targets(&g, "u.service", DepKind::Wants);
    assert_eq!(wants, ["applies.service"]);
    let names: Vec<&str> = g.set.units["u.service"]
        .dropins
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "/etc/systemd/system/u.service.d/10-dangling.conf",
            "/etc/systemd/system/u.service.d/20-dir.conf",
            "/etc/systemd/system/u.service.d/30-dirlink.conf",
            "/usr/lib/systemd/system/u.service.d/40-plain.conf",
        ]
    );
}

/// Before v239 the drop-in listing kept only files and symlinks (by directory entry
/// type): a directory named `*.conf` was skipped, so the vendor drop-in of that name
/// applies; symlinks, dangling or to a directory, still took their names.
#[test]
fn v225_unreadable_dropins_directories_are_skipped() {
    let g = load_with("unreadable-dropins", Rules::new(225, 0));
    let wants = targets(&g, "u.service", DepKind::Wants);
    assert_eq!(wants, ["applies.service", "hidden-by-20-dir.service"]);
}

fn has(g: &DepGraph, from: &str, kind: DepKind, to: &str) -> bool {
    g.edges.contains_key(&(from.into(), kind, to.into()))
}

/// `Options=` of a mount is one string: the last assignment counts, an empty one clears
/// it; of `nofail`/`fail` the last counts; a `loop` mount needs the mounts of its image
/// even on a network file system type; quota options hook up quota checks (before 256).
/// Every edge checked against systemd 252 (tests/fidelity.rs) and 262 (sid chroot).
#[test]
fn mount_options_last_assignment_counts() {
    let g = load("mount-options");
    let before = |u: &str, t: &str| has(&g, u, DepKind::Before, t);
    assert!(before("multi.mount", "local-fs.target"));
    assert!(!before("multi.mount", "remote-fs.target"));
    assert!(!has(
        &g,
        "multi.mount",
        DepKind::Wants,
        "network-online.target"
    ));
    assert!(before("netlast.mount", "remote-fs.target"));
    assert!(before("cleared.mount", "local-fs.target"));
    assert!(before("failwins.mount", "local-fs.target"));
    assert!(has(&g, "loopnet.mount", DepKind::Requires, "srv.mount"));
    assert!(has(&g, "loopnet.mount", DepKind::After, "srv.mount"));
    for u in ["quota.mount", "quotanotype.mount"] {
        for s in ["systemd-quotacheck.service", "quotaon.service"] {
            assert!(has(&g, u, DepKind::Wants, s), "{u} Wants {s}");
            assert!(before(u, s), "{u} Before {s}");
        }
    }
}

/// Mount rules of older versions (docs/semantics.md; shared systemd-semantics.md §mount):
/// quota checks leave PID 1 in 256; mounts from files are ordered before
/// local-fs.target/remote-fs.target by PID 1 only from 240; before 233 a mount or swap
/// from a file is bound to its device (`BindsTo=`), from 233 only with
/// `x-systemd.device-bound`.
#[test]
fn mount_rules_by_version() {
    let q = "systemd-quotacheck.service";
    assert!(has(
        &load_with("mount-options", Rules::new(255, 0)),
        "quota.mount",
        DepKind::Wants,
        q
    ));
    assert!(!has(
        &load_with("mount-options", Rules::new(256, 0)),
        "quota.mount",
        DepKind::Wants,
        q
    ));
    let g239 = load_with("mount-options", Rules::new(239, 0));
    assert!(!has(
        &g239,
        "multi.mount",
        DepKind::Before,
        "local-fs.target"
    ));
    assert!(!has(
        &g239,
        "netlast.mount",
        DepKind::Before,
        "remote-fs.target"
    ));
    assert!(has(
        &g239,
        "multi.mount",
        DepKind::After,
        "local-fs-pre.target"
    ));
    let g240 = load_with("mount-options", Rules::new(240, 0));
    assert!(has(
        &g240,
        "multi.mount",
        DepKind::Before,
        "local-fs.target"
    ));
    let dev = "dev-sdz1.device";
    let g232 = load_with("mount-options", Rules::new(232, 0));
    assert!(has(&g232, "multi.mount", DepKind::BindsTo, dev));
    assert!(!has(&g232, "multi.mount", DepKind::Requires, dev));
    let g233 = load_with("mount-options", Rules::new(233, 0));
    assert!(has(&g233, "multi.mount", DepKind::Requires, dev));
    assert!(has(
        &g233,
        "bound.mount",
        DepKind::BindsTo,
        "dev-sdz6.device"
    ));
}

/// `mount_verify` refuses a mount unit whose `Where=` names another path, an API or ignored
/// mount point, one without `What=`, and PAM with a kill mode other than control-group. Debian's
/// systemd before 256 also treats `/run/lock` as an API file system; upstream and Debian 256+
/// load `run-lock.mount`.
#[test]
fn mount_units_systemd_refuses() {
    let g = load("mount-verify");
    for refused in [
        "run-lock.mount",
        "sys-fs-cgroup-extra.mount",
        "proc-sys.mount",
        "srv-data.mount",
        "srv-nowhat.mount",
        "srv-pam.mount",
    ] {
        assert_eq!(state(&g, refused), LoadState::BadSetting, "{refused}");
    }
    for loads in ["srv-ok.mount", "srv-implied.mount", "srv-pambad.mount"] {
        assert_eq!(state(&g, loads), LoadState::Loaded, "{loads}");
    }
    // A refused unit keeps what its file says and its slice, but not the dependencies of a
    // loaded unit on its slice and mount points (`unit_add_slice_dependencies`, …).
    assert_eq!(
        written(&g, "run-lock.mount", DepKind::After),
        ["swap.target"]
    );
    assert!(!targets(&g, "run-lock.mount", DepKind::After).contains(&"-.mount".to_string()));
    assert!(targets(&g, "run-lock.mount", DepKind::Requires).is_empty());
    // The mount point of a unit without Where= comes from its name.
    assert!(targets(&g, "srv-implied.mount", DepKind::After).contains(&"-.mount".to_string()));

    let g = load_with("mount-verify", Rules::new(256, 0));
    assert_eq!(state(&g, "run-lock.mount"), LoadState::Loaded);
    assert_eq!(
        targets(&g, "run-lock.mount", DepKind::Requires),
        ["system.slice"]
    );

    // Not Debian: upstream's table has no /run/lock.
    let tmp = tempfile::tempdir().unwrap();
    let units = tmp.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules/mount-verify/usr/lib/systemd/system/run-lock.mount");
    std::fs::copy(src, units.join("run-lock.mount")).unwrap();
    let g = unitdiff::load_dir(tmp.path(), Rules::default()).unwrap();
    assert_eq!(state(&g, "run-lock.mount"), LoadState::Loaded);
}

/// The fixture of `fidelity::rule_exec_and_socket_verify` (there against systemd itself).
#[test]
fn exec_outputs_directories_and_refused_sockets() {
    let g = load("exec-socket-verify");
    // `syslog` output goes through journald, like `journal` and `kmsg`.
    for u in ["r-syslog.service", "r-syslog2.service"] {
        assert!(
            targets(&g, u, DepKind::After).contains(&"systemd-journald.socket".to_string()),
            "{u}"
        );
    }
    // `RuntimeDirectory=foo-%i` of instance `bar` is /run/foo-bar, which has a mount unit.
    for kind in [DepKind::Requires, DepKind::After] {
        assert!(
            targets(&g, "r-rt@bar.service", kind).contains(&"run-foo\\x2dbar.mount".to_string()),
            "{kind:?}"
        );
    }
    // `socket_verify` refuses these.
    for u in [
        "r4.socket",
        "r7-acceptdgram.socket",
        "r7-acceptsvc.socket",
        "r7-pam.socket",
        "r7-nolisten.socket",
    ] {
        assert_eq!(state(&g, u), LoadState::BadSetting, "{u}");
        // A unit that did not load gets no slice.
        assert!(
            !targets(&g, u, DepKind::Requires).contains(&"system.slice".to_string()),
            "{u}"
        );
    }
    assert_eq!(state(&g, "r4.service"), LoadState::Loaded);
    // `service_verify`: PAM wants the control group or mixed kill mode.
    assert_eq!(state(&g, "r8-pam-process.service"), LoadState::BadSetting);
    assert_eq!(state(&g, "r8-pam-mixed.service"), LoadState::Loaded);
    // Type=oneshot: Restart=always/on-success, RestartForceExitStatus= (before 256) and
    // ExitType=cgroup are refused; Restart=on-failure is fine.
    for u in [
        "r9-oneshot-restart.service",
        "r9-oneshot-onsuccess.service",
        "r9-oneshot-force.service",
        "r9-oneshot-cgroup.service",
    ] {
        assert_eq!(state(&g, u), LoadState::BadSetting, "{u}");
    }
    assert_eq!(state(&g, "r9-oneshot-onfailure.service"), LoadState::Loaded);
    // An automount whose Where= names another unit.
    assert_eq!(state(&g, "srv-a1.automount"), LoadState::BadSetting);
    // A slice's Slice= is ignored, but the slice it names is loaded.
    assert_eq!(state(&g, "other.slice"), LoadState::Loaded);
    assert!(!targets(&g, "foo-bar.slice", DepKind::InSlice).contains(&"other.slice".into()));
}

/// `swap_verify` (the states checked against 252's `systemd --test`; its edges cannot be
/// compared here, where systemd sees a container and gives swaps no default dependencies):
/// `What=` must name the unit, and PAM wants the control group kill mode.
#[test]
fn swaps_systemd_refuses() {
    let g = load("swap-verify");
    assert_eq!(state(&g, "dev-sdx1.swap"), LoadState::Loaded);
    assert_eq!(state(&g, "dev-sdv1.swap"), LoadState::Loaded);
    assert_eq!(state(&g, "dev-sdz9.swap"), LoadState::BadSetting);
    assert_eq!(state(&g, "dev-sdw1.swap"), LoadState::BadSetting);
    // A refused swap gets no slice.
    assert!(!targets(&g, "dev-sdz9.swap", DepKind::Requires).contains(&"system.slice".into()));
    assert!(targets(&g, "dev-sdx1.swap", DepKind::Requires).contains(&"system.slice".into()));
}

/// `unit_verify_contexts` of 257 (checked against 257.13's `systemd --test`; 252 loads all
/// of these, `fidelity::rule_exec_and_socket_verify`): refused before the type's extras, so
/// without default, exec or slice edges; PAM accepts the mixed kill mode.
#[test]
fn contexts_systemd_257_refuses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/exec-socket-verify");
    let old = unitdiff::load_dir(&root, Rules::default()).unwrap();
    let g = unitdiff::load_dir(&root, Rules::new(257, 13)).unwrap();
    for u in [
        "r10-dyn-home.service",
        "r10-pids.socket",
        "p9p.socket",
        "srv-p9p.mount",
        "r7-pam.socket",
    ] {
        assert_eq!(state(&g, u), LoadState::BadSetting, "{u}");
        for kind in [DepKind::Requires, DepKind::After, DepKind::Before] {
            assert!(
                targets(&g, u, kind).iter().all(|t| !t.ends_with(".target")
                    && !t.ends_with(".slice")
                    && t != "systemd-journald.socket"),
                "{u} {kind:?}: {:?}",
                targets(&g, u, kind)
            );
        }
    }
    // A refused socket still triggers its service.
    assert!(targets(&g, "r7-pam.socket", DepKind::Triggers).contains(&"r7-pam.service".into()));
    for u in ["p9m.socket", "srv-p9m.mount", "r10-wd-proc-plain.service"] {
        assert_eq!(state(&g, u), LoadState::Loaded, "{u}");
    }
    // 252: the mixed kill mode is refused for sockets and mounts, after their extras; the
    // others load.
    assert_eq!(state(&old, "p9m.socket"), LoadState::BadSetting);
    assert!(targets(&old, "p9p.socket", DepKind::Before).contains(&"sockets.target".into()));
    assert_eq!(state(&old, "r10-dyn-home.service"), LoadState::Loaded);
    assert_eq!(state(&old, "r10-pids.socket"), LoadState::Loaded);
}

/// Words end at systemd's `WHITESPACE` (`" \t\n\r"`) only: a no-break space, an
/// ideographic space, NEL or U+2028 between two names makes one word, which is no valid
/// unit name (ignored and warned, like any other), and one path in `RequiresMountsFor=`.
/// Preset lines too: a verb followed by a no-break space is no verb (the line is ignored
/// and warned), and `disable` takes the rest of its line as one pattern. Each checked
/// against systemd 252 (`tests/fidelity.rs`, `tests/enablement.rs`).
#[test]
fn words_end_at_ascii_whitespace_only() {
    let g = load("whitespace");
    let mut deps: Vec<String> = [
        DepKind::Requires,
        DepKind::Wants,
        DepKind::After,
        DepKind::Before,
    ]
    .into_iter()
    .flat_map(|k| written(&g, "a.service", k))
    .collect();
    deps.sort();
    assert_eq!(deps, ["j.service", "k.service"]);
    let mounts: Vec<String> = targets(&g, "a.service", DepKind::Requires)
        .into_iter()
        .filter(|t| t.starts_with("srv"))
        .collect();
    assert_eq!(mounts, ["srv-a\\xc2\\xa0-srv-b.mount"]);
    for word in [
        "b.service\u{a0}c.service",
        "d.service\u{3000}e.service",
        "f.service\u{85}g.service",
        "h.service\u{2028}i.service",
    ] {
        let message = format!("'{word}' is not a valid unit name, ignoring");
        assert!(
            g.set.warnings.iter().any(|w| w.message == message),
            "no warning {message:?}: {:?}",
            g.set.warnings
        );
    }
    let preset = |name: &str| {
        let p = g.set.enablement[name].preset.as_ref().unwrap();
        (p.action.as_str(), p.line)
    };
    assert_eq!(preset("p1.service"), ("disable", Some(3)));
    assert_eq!(preset("p2.service"), ("disable", Some(5)));
    assert_eq!(preset("p3.service"), ("enable", Some(7)));
    assert_eq!(preset("p4.service"), ("enable", None));
    let ignored: Vec<Option<u32>> = g
        .set
        .warnings
        .iter()
        .filter(|w| w.message == "couldn't parse preset line, ignoring")
        .map(|w| w.line)
        .collect();
    assert_eq!(ignored, [Some(2), Some(8)]);
}

/// Preset patterns are `fnmatch(3)`'s with `FNM_NOESCAPE`, as systemd matches them, the
/// first matching line winning across files (file-name order, `/etc` hiding `/usr/lib`)
/// and lines: `?`, `*` (`**` is one), `[!…]` and `[^…]`, `[[:alpha:]]`, a backslash as
/// itself, braces as themselves (no `{a,b}` alternation), an unclosed `[` as itself. Each
/// decision checked against systemd 252's `systemctl list-unit-files`
/// (tests/enablement.rs).
#[test]
fn presets_match_as_fnmatch_does() {
    let g = load("presets");
    let preset = |name: &str| {
        let p = g.set.enablement[name].preset.as_ref().unwrap();
        let file = p
            .path
            .as_ref()
            .map(|f| f.as_str().rsplit('/').next().unwrap().to_string());
        (p.action.as_str(), file, p.line)
    };
    let at =
        |action: &'static str, file: &str, line: u32| (action, Some(file.to_string()), Some(line));
    assert_eq!(preset("a.service"), at("disable", "10-first.preset", 2));
    assert_eq!(preset("ab.service"), at("disable", "20-main.preset", 2));
    assert_eq!(preset("abc.service"), at("enable", "20-main.preset", 3));
    assert_eq!(preset("x1.service"), at("disable", "20-main.preset", 4));
    assert_eq!(preset("xa.service"), at("disable", "20-main.preset", 4));
    assert_eq!(preset("x2.service"), at("enable", "20-main.preset", 5));
    assert_eq!(preset("q@.service"), at("disable", "20-main.preset", 6));
    assert_eq!(
        preset("brace-a.service"),
        at("disable", "20-main.preset", 8)
    );
    assert_eq!(
        preset("brace-b.service"),
        at("disable", "20-main.preset", 8)
    );
    assert_eq!(preset("star2.service"), at("enable", "20-main.preset", 9));
    assert_eq!(preset("br.service"), at("enable", "20-main.preset", 11));
    assert_eq!(
        preset("b\\x2d.service"),
        at("disable", "20-main.preset", 12)
    );
    assert_eq!(
        preset("other2.service"),
        at("disable", "99-default.preset", 1)
    );
    assert_eq!(preset("zz.service"), at("disable", "99-default.preset", 1));
}
