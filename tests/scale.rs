//! Images shaped to make an algorithm blow up (issue "hostile images II", the algorithmic
//! part): deep chains, long continuation lines, many settings, many drop-ins, names with
//! many dashes. Each test checks the *answer* at a size where a quadratic or recursive
//! algorithm would crash or never finish; how long it takes is for `scripts/bench.sh`.
//! The failure-set shortcut (only units upstream of a changed stop edge are walked) is
//! checked against the plain definition on random graphs.

use assert_cmd::Command;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tempfile::TempDir;
use unitdiff::query;
use unitdiff::unit::budget::{MAX_FAILURE_WALK_STEPS, MAX_WITNESS_HOPS};

const VENDOR: &str = "usr/lib/systemd/system";

/// An image root with `/usr/lib/systemd/system/` and `/etc/systemd/system/`.
fn image() -> TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join(VENDOR)).unwrap();
    std::fs::create_dir_all(d.path().join("etc/systemd/system")).unwrap();
    d
}

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn service(extra: &str) -> String {
    format!("[Unit]\n{extra}\n[Service]\nExecStart=/bin/true\n")
}

/// `c0.service KIND= c1.service KIND= … c{n-1}.service`.
fn chain(root: &Path, n: usize, kind: &str) {
    for i in 0..n {
        let dep = if i + 1 < n {
            format!("{kind}=c{}.service", i + 1)
        } else {
            String::new()
        };
        write(root, &format!("{VENDOR}/c{i}.service"), service(&dep));
    }
}

fn unitdiff(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("unitdiff")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn deps_all_text_of_a_2k_chain_from_the_command_line() {
    let n = 2_000;
    let img = image();
    chain(img.path(), n, "Requires");
    let root = img.path().to_str().unwrap();
    let o = unitdiff(&["-q", "deps", root, "c0.service", "--all"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    // c0 and the 1,999 below it, plus the implicit dependencies of the last one.
    let last = text
        .lines()
        .position(|l| l.ends_with(&format!("c{}.service", n - 1)))
        .expect("the end of the chain is drawn");
    assert_eq!(last, n - 1, "one line per level");
}

/// The answers of a diff where both sides have an `n`-unit Requires= chain and NEW's last
/// unit gains `Requires=extra.service`.
fn chain_gains_a_dependency_at_its_end(n: usize) -> query::DiffAnswers {
    let (old, new) = (image(), image());
    for img in [&old, &new] {
        chain(img.path(), n, "Requires");
        write(img.path(), &format!("{VENDOR}/extra.service"), service(""));
    }
    write(
        new.path(),
        &format!("{VENDOR}/c{}.service", n - 1),
        service("Requires=extra.service"),
    );
    let c = unitdiff::compare(old.path(), new.path(), None, None).unwrap();
    query::diff_answers(&c.old, &c.new, &c.diff)
}

/// A 1,000-unit Requires= chain where NEW adds one line at the bottom: every unit of the
/// chain can now be stopped by the new unit, each with its path as witness, shortened to
/// the budget's first hops (whole paths would be quadratic in the chain's length).
#[test]
fn failure_witnesses_on_a_1000_chain_plus_one_line() {
    let n = 1_000;
    let a = chain_gains_a_dependency_at_its_end(n);
    assert_eq!(a.failure_witnesses.len(), 1);
    assert_eq!(a.failure_witnesses[0].edge.to, "extra.service");
    let changes: BTreeMap<&str, &query::FailureSetChange> = a
        .failure_set_changes
        .iter()
        .map(|c| (c.unit.as_str(), c))
        .collect();
    for i in 0..n {
        let ch = changes[format!("c{i}.service").as_str()];
        assert!(ch.removed.is_empty());
        let members: Vec<&str> = ch.added.keys().map(String::as_str).collect();
        assert_eq!(members, ["extra.service"], "c{i}");
        let w = &ch.added["extra.service"];
        assert_eq!(
            w.len(),
            (n - i).min(MAX_WITNESS_HOPS),
            "c{i}: the witness walks down the chain"
        );
        assert_eq!(w[0].from, format!("c{i}.service"));
        for (k, h) in w.iter().enumerate() {
            let next = if i + k + 1 == n {
                "extra.service".to_string()
            } else {
                format!("c{}.service", i + k + 1)
            };
            assert_eq!(h.to, next, "c{i}: hop {k}");
        }
    }
    // Nothing else changed (extra.service itself and the implicit units did not).
    assert_eq!(changes.len(), n);
    // Every witness longer than the budget's was shortened, and the report says so.
    let shortened = n - MAX_WITNESS_HOPS;
    assert_eq!(
        a.warnings,
        [format!(
            "failure witnesses: {shortened} shortened to their first {MAX_WITNESS_HOPS} hops"
        )]
    );
}

/// A chain long enough that comparing every unit's failure set on both sides would take
/// more walk steps than the budget allows: the units past the budget are not compared, the
/// warning counts them, and nothing else is cut.
#[test]
fn failure_sets_past_the_walk_budget_are_counted_not_walked() {
    // Comparing c_i walks the n - i units below it on each side: n * n steps in all.
    let n = ((MAX_FAILURE_WALK_STEPS as f64).sqrt() * 1.25) as usize;
    let a = chain_gains_a_dependency_at_its_end(n);
    let compared = a.failure_set_changes.len();
    assert!(compared > 0 && compared < n, "{compared} of {n} compared");
    let cut = a
        .warnings
        .iter()
        .find(|w| w.starts_with("failure sets: "))
        .unwrap_or_else(|| panic!("no walk-budget warning in {:?}", a.warnings));
    let skipped: usize = cut["failure sets: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(compared + skipped, n, "{cut}");
    assert!(
        cut.contains("0 new hard dependency target(s) not followed"),
        "{cut}"
    );
    // The new edge itself is still explained.
    assert_eq!(a.failure_witnesses.len(), 1);
}

/// A small deterministic random generator for the graphs below.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A random image: `n` services with random stop-propagating and other dependencies.
fn random_image(root: &Path, n: usize, r: &mut Rng, skip: usize) {
    let kinds = [
        "Requires",
        "Requisite",
        "BindsTo",
        "PartOf",
        "PropagatesStopTo",
        "StopPropagatedFrom",
        "Wants",
        "After",
    ];
    for i in 0..n {
        if i == skip {
            continue; // a unit only the other side has
        }
        let mut lines = Vec::new();
        for _ in 0..r.below(4) {
            lines.push(format!(
                "{}=r{}.service",
                kinds[r.below(kinds.len())],
                r.below(n + 5)
            ));
        }
        write(
            root,
            &format!("{VENDOR}/r{i}.service"),
            service(&lines.join("\n")),
        );
    }
}

/// What `diff_answers` must find: every unit both sides have, compared the plain way.
fn reference(
    old: &unitdiff::graph::DepGraph,
    new: &unitdiff::graph::DepGraph,
) -> Vec<query::FailureSetChange> {
    let mut out = Vec::new();
    for u in new
        .set
        .units
        .keys()
        .filter(|u| old.set.units.contains_key(*u))
    {
        let (o, n) = (
            query::failure_members(old, u),
            query::failure_members(new, u),
        );
        if o == n {
            continue;
        }
        let added: BTreeMap<String, query::Witness> = query::failure_set(new, u)
            .into_iter()
            .filter(|(k, _)| !o.contains(k))
            .collect();
        let removed: Vec<String> = o.difference(&n).cloned().collect();
        out.push(query::FailureSetChange {
            unit: u.to_string(),
            added,
            removed,
        });
    }
    out
}

#[test]
fn failure_set_changes_agree_with_walking_every_unit() {
    let mut r = Rng(7);
    for round in 0..6 {
        let n = 60 + 20 * round;
        let (old, new) = (image(), image());
        // Same seed for both sides, then NEW drawn again for a few units: small changes.
        let seed = r.below(1 << 30) as u64;
        random_image(old.path(), n, &mut Rng(seed), n + 1);
        random_image(new.path(), n, &mut Rng(seed), r.below(n));
        let mut r2 = Rng(seed ^ 0xabcdef);
        for _ in 0..1 + round {
            let i = r2.below(n);
            let k = r2.below(n);
            write(
                new.path(),
                &format!("{VENDOR}/r{i}.service"),
                service(&format!(
                    "Requires=r{k}.service\nPartOf=r{}.service",
                    r2.below(n)
                )),
            );
        }
        let c = unitdiff::compare(old.path(), new.path(), None, None).unwrap();
        let a = query::diff_answers(&c.old, &c.new, &c.diff);
        let want = reference(&c.old, &c.new);
        assert!(
            !want.is_empty(),
            "round {round}: the change changes something"
        );
        assert_eq!(a.failure_set_changes, want, "round {round}");
        // And the witness of each new hard edge is the target's own failure set.
        for w in &a.failure_witnesses {
            // The hop reads from the victim to the culprit, PropagatesStopTo included.
            assert_eq!(
                w.through,
                query::failure_set(&c.new, &w.edge.to),
                "round {round}"
            );
        }
    }
}

#[test]
fn an_800k_continuation_line_is_one_assignment() {
    let words = 100_000;
    let mut f = String::from("[Service]\nEnvironment=");
    for i in 0..words {
        f.push_str(&format!("V{i}=1 \\\n"));
    }
    f.push_str("END=1\nExecStart=/bin/true\n");
    assert!(f.len() > 800_000);
    let p = unitdiff::unit::syntax::parse(
        f.as_bytes(),
        &["Unit", "Service", "Install"],
        &unitdiff::unit::Rules::new(252, 0),
    );
    assert!(p.fatal.is_none(), "{:?}", p.fatal);
    assert_eq!(p.assignments.len(), 2);
    let env = &p.assignments[0];
    assert_eq!(env.key, "Environment");
    assert_eq!(env.value.split_whitespace().count(), words + 1);
    assert!(env.value.ends_with("END=1"));
    assert_eq!(p.assignments[1].key, "ExecStart");
}

#[test]
fn forty_thousand_settings_compare_as_a_multiset() {
    let n = 40_000;
    let (old, new) = (image(), image());
    let body = |changed: Option<usize>| {
        let mut s = String::from("[Unit]\nDescription=many\n[Service]\nExecStart=/bin/true\n");
        for i in 0..n {
            let v = if Some(i) == changed { 2 } else { 1 };
            // Every value twice: the comparison must count, not just test membership.
            s.push_str(&format!("Environment=V{i}={v}\nEnvironment=V{i}=1\n"));
        }
        s
    };
    write(old.path(), &format!("{VENDOR}/many.service"), body(None));
    write(
        new.path(),
        &format!("{VENDOR}/many.service"),
        body(Some(n / 2)),
    );
    let c = unitdiff::compare(old.path(), new.path(), None, None).unwrap();
    let u = c
        .diff
        .units_changed
        .iter()
        .find(|u| u.name == "many.service")
        .expect("many.service changed");
    assert_eq!(u.settings.len(), 1);
    let s = &u.settings[0];
    assert_eq!(s.key, "Environment");
    assert_eq!(s.removed, [format!("V{}=1", n / 2)]);
    assert_eq!(s.added, [format!("V{}=2", n / 2)]);
}

#[test]
fn thousands_of_drop_ins_in_patches_and_markdown() {
    let n = 3_000;
    let (old, new) = (image(), image());
    for (img, v) in [(&old, "old"), (&new, "new")] {
        write(img.path(), &format!("{VENDOR}/many.service"), service(""));
        for i in 0..n {
            write(
                img.path(),
                &format!("etc/systemd/system/many.service.d/{i:05}.conf"),
                format!("[Service]\nEnvironment=D{i}={v}\n"),
            );
        }
    }
    let (o, nw) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    let p = unitdiff(&["-q", "diff", o, nw, "-p"]);
    let text = String::from_utf8(p.stdout).unwrap();
    assert_eq!(text.matches("diff --unitdiff ").count(), n);
    assert!(text.contains("+Environment=D2999=new"));
    // No cut: every patch must be found and written.
    let m = unitdiff(&[
        "-q",
        "diff",
        o,
        nw,
        "--format",
        "markdown",
        "--max-chars",
        "0",
    ]);
    let md = String::from_utf8(m.stdout).unwrap();
    assert_eq!(md.matches("<details>").count(), n, "one patch per drop-in");
    assert!(md.contains("+Environment=D0=new"));
}

#[test]
fn prefix_drop_ins_of_a_117_dash_template_reach_every_instance() {
    let img = image();
    let stem = vec!["a"; 118].join("-"); // 117 dashes
    let template = format!("{stem}@.service");
    assert!(template.len() < 250);
    write(img.path(), &format!("{VENDOR}/{template}"), service(""));
    // A drop-in for every unit whose name starts with "a-" (`a-.service.d`), and one for
    // the template's prefix one dash up.
    let up = format!("{}-.service", vec!["a"; 117].join("-"));
    write(
        img.path(),
        "etc/systemd/system/a-.service.d/10-top.conf",
        "[Unit]\nAfter=top.service\n",
    );
    write(
        img.path(),
        &format!("etc/systemd/system/{up}.d/20-up.conf"),
        "[Unit]\nAfter=up.service\n",
    );
    let instances = 1_000;
    let mut wants = String::from("[Unit]\n");
    for i in 0..instances {
        wants.push_str(&format!("Wants={stem}@{i}.service\n"));
    }
    write(img.path(), &format!("{VENDOR}/all.target"), wants);
    let g = unitdiff::open(img.path(), None).unwrap();
    for i in 0..instances {
        let name = format!("{stem}@{i}.service");
        let u = g
            .set
            .units
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name}"));
        let dropins: Vec<&str> = u.dropins.iter().map(|d| d.path.file_name()).collect();
        assert_eq!(dropins, ["10-top.conf", "20-up.conf"], "{i}");
        let after: BTreeSet<&str> = g
            .edges_from(&name)
            .into_iter()
            .filter(|k| k.1 == unitdiff::unit::DepKind::After)
            .map(|k| k.2.as_str())
            .collect();
        assert!(
            after.contains("top.service") && after.contains("up.service"),
            "{i}"
        );
    }
}
