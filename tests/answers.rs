//! Answers, not just edges: offline list-dependencies (alone and OLD vs NEW), dependency
//! paths, what can stop a unit, the boot set, ordering cycles and broken hard dependencies,
//! and `cat` — on the CoreOS story and on fixtures made for each.

mod support;

use assert_cmd::Command;
use std::collections::BTreeSet;

const OLD: &str = "fixtures/coreos-899";
const NEW: &str = "fixtures/coreos-1010";

fn unitdiff(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// The comparison the CoreOS user made by hand: flanneld.service (and what it requires) is
/// new under docker.service, with the drop-in line that added it.
#[test]
fn deps_side_by_side_shows_flanneld_as_new() {
    let o = unitdiff(&["deps", OLD, NEW, "docker.service", "--color", "never"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("+ ") && l.contains("─flanneld.service"))
        .unwrap_or_else(|| panic!("no added flanneld branch:\n{text}"));
    assert!(
        lines[i].contains("Requires via")
            || lines[i].contains(
                "[Requires  /etc/systemd/system/docker.service.d/40-flannel.conf:2  admin]"
            ),
        "{}",
        lines[i]
    );
    // Its own requirement comes with it, also marked new.
    assert!(
        lines[i + 1].starts_with("+ ") && lines[i + 1].contains("early-docker.service"),
        "{text}"
    );
    // Unchanged branches are unmarked.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  ") && l.contains("─docker.socket")),
        "{text}"
    );
}

#[test]
fn deps_tree_like_systemctl() {
    let o = unitdiff(&["deps", NEW, "docker.service", "--color", "never"]);
    let text = stdout(&o);
    // Non-targets before targets, each sorted; targets expanded, services not (no --all).
    let names: Vec<String> = text
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("  ├─") || l.starts_with("  └─"))
        .map(|l| l[l.find('─').unwrap() + '─'.len_utf8()..].to_string())
        .collect();
    assert_eq!(
        names,
        [
            "docker.socket",
            "flanneld.service",
            "system.slice",
            "basic.target",
            "early-docker.target"
        ],
        "{text}"
    );
    // --all expands services too: flanneld.service's own requirement shows under it.
    let all = stdout(&unitdiff(&[
        "deps",
        NEW,
        "docker.service",
        "--all",
        "--color",
        "never",
    ]));
    let lines: Vec<&str> = all.lines().collect();
    let f = lines
        .iter()
        .position(|l| l.ends_with("─flanneld.service"))
        .expect("flanneld line");
    assert!(
        lines[f + 1].ends_with("─early-docker.service") && lines[f + 1].starts_with("  │ "),
        "{all}"
    );
}

#[test]
fn why_docker_needs_early_docker() {
    let o = unitdiff(&["why", NEW, "docker.service", "early-docker.service"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let first = text.lines().find(|l| l.starts_with("1. ")).expect("a path");
    assert_eq!(
        first,
        "1. docker.service -> flanneld.service -> early-docker.service"
    );
    assert!(text.contains("docker.service Requires flanneld.service   /etc/systemd/system/docker.service.d/40-flannel.conf:2  admin"), "{text}");
    assert!(text.contains("flanneld.service Requires early-docker.service   /usr/lib64/systemd/system/flanneld.service:"), "{text}");
    // In 899 no such path exists: exit 1.
    let o = unitdiff(&["why", OLD, "docker.service", "early-docker.service"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn diff_carries_the_failure_witness_and_boot_set() {
    let o = unitdiff(&["diff", OLD, NEW, "--color", "never"]);
    let text = stdout(&o);
    assert!(
        text.contains("if flanneld.service fails, docker.service does not start (Requires via /etc/systemd/system/docker.service.d/40-flannel.conf:2, admin)"),
        "{text}"
    );
    assert!(text.contains("flanneld.service itself needs early-docker.service: early-docker.service (Requires via /usr/lib64/systemd/system/flanneld.service:"), "{text}");
    assert!(text.contains("docker.service: + "), "{text}");
    let d = json(&unitdiff(&["diff", OLD, NEW, "--format", "json"]));
    let w = &d["answers"]["failure_witnesses"][0];
    assert_eq!(w["edge"]["from"], "docker.service");
    assert_eq!(w["edge"]["to"], "flanneld.service");
    assert!(w["through"]["early-docker.service"].is_array());
    let change = d["answers"]["failure_set_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unit"] == "docker.service")
        .unwrap();
    let added: BTreeSet<&str> = change["added"]
        .as_object()
        .unwrap()
        .keys()
        .map(|s| s.as_str())
        .collect();
    assert!(
        added.contains("flanneld.service")
            && added.contains("early-docker.service")
            && added.contains("early-docker.socket"),
        "{added:?}"
    );
    // Boot set: docker.service is not started at boot in either release (socket-activated),
    // so the new edge does not change the boot set; the difference is reported (empty).
    assert!(d["answers"]["boot_added"].is_array());
}

#[test]
fn new_ordering_cycle_and_broken_requires_are_reported_as_new() {
    let o = unitdiff(&[
        "diff",
        "fixtures/cycle/old",
        "fixtures/cycle/new",
        "--color",
        "never",
    ]);
    let text = stdout(&o);
    assert!(
        text.contains(
            "new ordering cycle: a.service after b.service after c.service after a.service"
        ),
        "{text}"
    );
    assert!(text.contains("c.service after a.service   [After  /etc/systemd/system/c.service.d/50-order.conf:2  admin]"), "{text}");
    assert!(
        text.contains("new: Requires=data.mount, but data.mount is not-found in NEW"),
        "{text}"
    );
    let d = json(&unitdiff(&[
        "diff",
        "fixtures/cycle/old",
        "fixtures/cycle/new",
        "--format",
        "json",
    ]));
    assert_eq!(d["answers"]["new_cycles"].as_array().unwrap().len(), 1);
    assert_eq!(d["answers"]["resolved_cycles"], serde_json::json!([]));
    // OLD has no cycle: the same fixture against itself reports none.
    let same = json(&unitdiff(&[
        "diff",
        "fixtures/cycle/new",
        "fixtures/cycle/new",
        "--format",
        "json",
    ]));
    assert_eq!(same["answers"]["new_cycles"], serde_json::json!([]));
}

#[test]
fn cat_shows_fragment_then_dropins() {
    let o = unitdiff(&["cat", NEW, "docker.service"]);
    let text = stdout(&o);
    let frag = text
        .find("# /usr/lib64/systemd/system/docker.service  (vendor)")
        .expect("fragment header");
    let dropin = text
        .find("# /etc/systemd/system/docker.service.d/40-flannel.conf  (admin)")
        .expect("drop-in header");
    assert!(frag < dropin);
    assert!(text.contains("Requires=flanneld.service"));
}

/// Our list-dependencies closure against systemd's own graph (the `--test` dump): the units
/// under multi-user.target (all levels, --all) are those systemd reaches over Requires,
/// Requisite, Wants, BindsTo, Upholds and ConsistsOf.
#[test]
#[ignore = "needs systemd 252 at /lib/systemd/systemd, and setpriv"]
fn deps_closure_matches_systemd_on_this_machines_tree() {
    let tmp = tempfile::tempdir().unwrap();
    support::host::copy_host_tree(tmp.path());
    let root = tmp.path();
    let g = unitdiff::load_dir(root, unitdiff::unit::Rules::default()).unwrap();
    let want: Vec<String> = g.set.units.keys().map(|k| k.to_string()).collect();
    let dirs = unitdiff::unit::paths::declared_search_path(&unitdiff::unit::Rules::default());
    let opts = support::oracle::OracleOptions {
        add_stubs: false,
        ..Default::default()
    };
    let run = support::oracle::run_systemd_test_with(root, &dirs, &want, &opts).unwrap();
    for start in ["multi-user.target", "sysinit.target", "getty.target"] {
        let tree = unitdiff::query::deps(&g, start, unitdiff::query::Direction::Forward, true);
        let mut ours = BTreeSet::new();
        fn collect(n: &unitdiff::query::TreeNode, out: &mut BTreeSet<String>) {
            out.insert(n.unit.clone());
            for c in &n.children {
                collect(c, out);
            }
        }
        collect(&tree, &mut ours);
        let mut theirs = BTreeSet::from([start.to_string()]);
        let mut queue = vec![start.to_string()];
        while let Some(u) = queue.pop() {
            let Some(unit) = run.unit(&u) else { continue };
            let mut next: Vec<String> = unit
                .deps
                .iter()
                .filter(|d| {
                    matches!(
                        d.kind.as_str(),
                        "Requires" | "Requisite" | "Wants" | "BindsTo" | "Upholds"
                    )
                })
                .map(|d| d.target.clone())
                .collect();
            // ConsistsOf: units that are PartOf u.
            next.extend(
                run.units
                    .values()
                    .filter(|o| o.has_dep("PartOf", &u))
                    .map(|o| o.name.clone()),
            );
            for n in next {
                if theirs.insert(n.clone()) {
                    queue.push(n);
                }
            }
        }
        assert_eq!(ours, theirs, "{start}");
    }
}

/// The boot set against the start transaction systemd itself builds (`--test` prints its
/// jobs): the units with a start job are the units we say a boot to default.target starts,
/// but for units that are always active (the perpetual slices, which get no job).
#[test]
#[ignore = "needs systemd 252 at /lib/systemd/systemd, and setpriv"]
fn boot_set_matches_systemds_transaction() {
    let host = tempfile::tempdir().unwrap();
    support::host::copy_host_tree(host.path());
    let host_root = host.path().to_str().unwrap().to_string();
    for fixture in [
        "fixtures/coreos-1010",
        "fixtures/coreos-899",
        "fixtures/systemd-upgrade/new",
        &host_root,
    ] {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture);
        let g = unitdiff::load_dir(&root, unitdiff::unit::Rules::default()).unwrap();
        let dirs = unitdiff::unit::paths::declared_search_path(&unitdiff::unit::Rules::default());
        let opts = support::oracle::OracleOptions {
            add_stubs: false,
            ..Default::default()
        };
        let run = support::oracle::run_systemd_test_with(
            &root,
            &dirs,
            &["default.target".to_string()],
            &opts,
        )
        .unwrap();
        let jobs: BTreeSet<String> = run
            .raw
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Action: "))
            .filter_map(|a| a.strip_suffix(" -> start"))
            .filter(|u| *u != support::oracle::ORACLE_TARGET)
            .map(str::to_string)
            .collect();
        let (set, _missing) = unitdiff::query::boot_set(&g, "default.target");
        let ours: BTreeSet<String> = set
            .keys()
            .filter(|u| {
                !matches!(
                    u.as_str(),
                    "-.slice" | "system.slice" | "-.mount" | "init.scope"
                )
            })
            .cloned()
            .collect();
        assert!(!jobs.is_empty(), "{fixture}: no jobs in\n{}", run.raw);
        assert_eq!(ours, jobs, "{fixture}");
    }
}

/// `deps OLD NEW UNIT --format dot`: the two trees side by side, flanneld.service added.
#[test]
fn deps_picture_side_by_side() {
    let o = unitdiff(&[
        "deps",
        OLD,
        NEW,
        "docker.service",
        "--all",
        "--format",
        "dot",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dot = stdout(&o);
    graphviz_rust::parse(&dot).expect("parses");
    assert!(dot.contains("cluster_old") && dot.contains("cluster_new"));
    let line = dot
        .lines()
        .find(|l| l.contains("\"new:docker.service\" -> \"new:flanneld.service\""))
        .expect("added edge in NEW");
    assert!(
        line.contains("+ Requires") && line.contains("#0072B2"),
        "{line}"
    );
    assert!(
        !dot.contains("\"old:flanneld.service\""),
        "flanneld is not in OLD's tree"
    );
}

/// A lattice of 10 layers of 8 units, each wanting all 8 of the next: 8^7 shortest paths
/// from the top to layer 6. The shortest paths are found however many there are (a
/// breadth-first search over all partial paths spent its budget at depth 6 and said there
/// was none); when the search for longer paths is cut, it says so.
#[test]
fn why_finds_shortest_paths_in_a_dense_lattice() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&sys).unwrap();
    let layer = |l: usize| -> String {
        (0..8)
            .map(|j| format!("n{l}x{j}.service"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let unit = |wants: String| format!("[Unit]\nWants={wants}\n[Service]\nExecStart=/bin/true\n");
    std::fs::write(sys.join("top.service"), unit(layer(0))).unwrap();
    for l in 0..10 {
        for j in 0..8 {
            let wants = if l < 9 { layer(l + 1) } else { String::new() };
            std::fs::write(sys.join(format!("n{l}x{j}.service")), unit(wants)).unwrap();
        }
    }
    let root = dir.path().to_str().unwrap();
    let o = unitdiff(&[
        "why",
        root,
        "top.service",
        "n6x0.service",
        "--format",
        "json",
        "--limit",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths = v["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 3);
    // Shortest (7 hops), in name order: through n0x0 … n5x0, then n5x1, n5x2.
    for (i, p) in paths.iter().enumerate() {
        let hops = p.as_array().unwrap();
        assert_eq!(hops.len(), 7, "{p}");
        assert_eq!(hops[0]["from"], "top.service");
        assert_eq!(hops[6]["to"], "n6x0.service");
        assert_eq!(hops[6]["from"], format!("n5x{i}.service"));
    }
    assert!(v.get("cut").is_none());
    // A unit wanting layer 0 and n6x0 itself: one shortest path (1 hop); the 8^6 longer
    // ones through the lattice are beyond the budget, and the answer says it was cut.
    std::fs::write(
        sys.join("top2.service"),
        unit(format!("{} n6x0.service", layer(0))),
    )
    .unwrap();
    let o = unitdiff(&[
        "why",
        root,
        "top2.service",
        "n6x0.service",
        "--format",
        "json",
        "--limit",
        "2",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["paths"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["paths"][0].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["cut"], true, "{v}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("stopped at its budget"));
}

/// `deps` lists a unit that is `PartOf=` the root under it (ConsistsOf); `why` finds the
/// same hop, walked against the stored PartOf, and still walks PartOf itself. An edge of the
/// unit's own to the same unit is preferred to the inverse hop.
#[test]
fn why_walks_consists_of_as_deps_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&sys).unwrap();
    let svc = |unit: &str| format!("[Unit]\n{unit}[Service]\nExecStart=/bin/true\n");
    std::fs::write(sys.join("group.target"), "[Unit]\nDescription=group\n").unwrap();
    std::fs::write(sys.join("member.service"), svc("PartOf=group.target\n")).unwrap();
    std::fs::write(sys.join("leaf.service"), svc("")).unwrap();
    std::fs::write(
        sys.join("both.service"),
        svc("PartOf=group.target\nWants=leaf.service\n"),
    )
    .unwrap();
    std::fs::write(
        sys.join("other.target"),
        "[Unit]\nWants=both.service\nPartOf=both.service\n",
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    let why = |from: &str, to: &str| -> serde_json::Value {
        let o = unitdiff(&["why", root, from, to, "--format", "json"]);
        json(&o)
    };
    let deps = stdout(&unitdiff(&[
        "deps",
        root,
        "group.target",
        "--color",
        "never",
    ]));
    assert!(deps.contains("member.service"), "{deps}");
    // group.target → member.service: one hop, ConsistsOf, i.e. member's PartOf inverted.
    let v = why("group.target", "member.service");
    let paths = v["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 1, "{v}");
    let hop = &paths[0][0];
    assert_eq!(
        (&hop["from"], &hop["kind"], &hop["to"], &hop["inverse"]),
        (
            &serde_json::json!("group.target"),
            &serde_json::json!("PartOf"),
            &serde_json::json!("member.service"),
            &serde_json::json!(true)
        ),
        "{v}"
    );
    assert!(
        hop["provenance"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("/member.service")
    );
    // The text shows the edge as stored, and the way it was walked.
    let o = unitdiff(&["why", root, "group.target", "member.service"]);
    let text = stdout(&o);
    assert!(
        text.contains("   member.service PartOf group.target (group.target ConsistsOf member.service)   /usr/lib/systemd/system/member.service:2"),
        "{text}"
    );
    // Through it, on to what the member wants.
    let v = why("group.target", "leaf.service");
    let hops: Vec<(String, bool)> = v["paths"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["to"].as_str().unwrap().to_string(), h["inverse"] == true))
        .collect();
    assert_eq!(
        hops,
        [
            ("both.service".to_string(), true),
            ("leaf.service".to_string(), false)
        ],
        "{v}"
    );
    // PartOf itself is still a hop, forward.
    let v = why("member.service", "group.target");
    assert_eq!(v["paths"][0][0]["inverse"], false, "{v}");
    assert_eq!(v["paths"][0][0]["kind"], "PartOf", "{v}");
    // other.target wants both.service and is PartOf it: the hop other → both is its own
    // Wants; the way back, both → other, is other's PartOf walked against it.
    let v = why("other.target", "both.service");
    assert_eq!(v["paths"][0][0]["kind"], "Wants", "{v}");
    assert_eq!(v["paths"][0][0]["inverse"], false, "{v}");
    let v = why("both.service", "other.target");
    assert_eq!(v["paths"][0][0]["inverse"], true, "{v}");
}

/// A chain of 300 units: the drawn tree shows lines deeper than 100 levels as
/// `[N levels]` and their last levels (not ~4 bytes a level on every line), and the JSON
/// nests compact beyond 100 levels; both keep every unit.
#[test]
fn a_deep_tree_is_drawn_in_bounded_width() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&sys).unwrap();
    for i in 0..300 {
        std::fs::write(
            sys.join(format!("c{i}.service")),
            format!(
                "[Unit]\nWants=c{}.service\n[Service]\nExecStart=/bin/true\n",
                i + 1
            ),
        )
        .unwrap();
    }
    let root = dir.path().to_str().unwrap();
    let o = unitdiff(&["deps", root, "c0.service", "--all", "--no-generators"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("  c0.service\n"));
    for i in 1..=300 {
        assert!(text.contains(&format!("─c{i}.service")), "c{i} missing");
    }
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest < 260, "{widest}");
    assert!(text.contains("[284 levels] "), "{text}");
    // Shallow lines are drawn as before.
    assert!(text.contains("\n  │ │ ├─c3.service\n") || text.contains("\n      └─c3.service\n"));
    let o = unitdiff(&[
        "deps",
        root,
        "c0.service",
        "--all",
        "--no-generators",
        "--format",
        "json",
    ]);
    let json = String::from_utf8(o.stdout).unwrap();
    // Pretty for the first ~48 units (each ~40 lines), then one compact line.
    assert!(json.lines().count() < 6_000, "{}", json.lines().count());
    // Every unit is there, nested as deep as before (serde_json reads at most 128 levels,
    // so count brackets instead).
    for i in 0..=300 {
        assert!(
            json.contains(&format!("\"unit\": \"c{i}.service\"")),
            "c{i}"
        );
    }
    let (mut depth, mut deepest) = (0i64, 0i64);
    for c in json.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    assert_eq!(depth, 0);
    assert!(deepest > 600, "{deepest}");
    // Nothing was cut.
    assert!(json.starts_with("{\n  \"root\""), "{}", &json[..80]);
}

/// A chain deeper than the tree's depth budget (2,048 levels): the units past it are
/// listed, not expanded, stderr says so, and the JSON says `"cut": true` (for one root, and
/// for the side that was cut of two).
#[test]
fn a_tree_cut_by_its_budget_says_so_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&sys).unwrap();
    for i in 0..2_100 {
        std::fs::write(
            sys.join(format!("c{i}.service")),
            format!(
                "[Unit]\nWants=c{}.service\n[Service]\nExecStart=/bin/true\n",
                i + 1
            ),
        )
        .unwrap();
    }
    let short = tempfile::tempdir().unwrap();
    let ssys = short.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&ssys).unwrap();
    std::fs::write(
        ssys.join("c0.service"),
        "[Unit]\nWants=c1.service\n[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let (deep, shallow) = (dir.path().to_str().unwrap(), short.path().to_str().unwrap());
    let args = ["c0.service", "--all", "--no-generators", "--format", "json"];
    let o = unitdiff(&[&["deps", deep][..], &args].concat());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let json = String::from_utf8(o.stdout).unwrap();
    assert!(
        json.starts_with("{\n  \"cut\": true,\n  \"root\""),
        "{}",
        &json[..80]
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("deeper than 2048 levels"));
    // Two roots: only the deep side is cut.
    let o = unitdiff(&[&["deps", shallow, deep][..], &args].concat());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let json = String::from_utf8(o.stdout).unwrap();
    assert!(
        json.starts_with("{\n  \"new\": {\n    \"cut\": true,"),
        "{}",
        &json[..80]
    );
    let old = &json[json.find("\n  \"old\": {").expect("old side")..];
    assert!(
        old.starts_with("\n  \"old\": {\n    \"root\""),
        "{}",
        &old[..60]
    );
}
