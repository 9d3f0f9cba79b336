//! Preset files that ask for unbounded work or memory (docs/limits.md):
//!
//! - complex patterns: `enable q{i}[!a][!a]…(30 times).service`, 29,000 lines in a file
//!   under the 4 MiB limit. Every pattern of every `*.preset` file was compiled into one
//!   globset with no budget: ~480 MB per such file, and ten of them (858 KB as tar.gz)
//!   aborted on allocation. systemd matches them with `fnmatch(3)`, one after the other; so
//!   do we now, without compiling anything: a file costs its bytes.
//! - slow patterns: `*aaa…b` lines against a long unit name, each match thousands of
//!   steps. Matching has a budget (`MAX_PRESET_MATCH_STEPS`); past it the presets left are
//!   not decided, and a warning says so.
//!
//! Memory is counted by this test binary's allocator, per thread (`support/heap.rs`), not
//! timed.

#[path = "support/heap.rs"]
mod heap;

use heap::peak_of;
use std::path::Path;
use unitdiff::unit::Rules;
use unitdiff::unit::budget::MAX_PRESET_MATCH_STEPS;
use unitdiff::unit::fnmatch::fnmatch;

const SYS: &str = "usr/lib/systemd/system/";
const PRESETS: &str = "usr/lib/systemd/system-preset/";

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// A service wanted by `multi-user.target` once enabled, so it has a preset.
fn installable(root: &Path, name: &str) {
    write(
        root,
        &format!("{SYS}{name}"),
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
    );
}

#[test]
fn complex_preset_patterns_cost_their_bytes() {
    let d = tempfile::tempdir().unwrap();
    installable(d.path(), "b.service");
    installable(d.path(), &format!("q28999{}.service", "b".repeat(30)));
    let text: String = (0..29_000)
        .map(|i| format!("enable q{i}{}.service\n", "[!a]".repeat(30)))
        .collect();
    assert!(text.len() < 4 << 20, "{} bytes", text.len());
    write(d.path(), &format!("{PRESETS}00-x.preset"), &text);
    let (g, peak) = peak_of(|| unitdiff::load_dir(d.path(), Rules::new(252, 0)).unwrap());
    // The file's bytes a few times over (read, decoded, kept), not hundreds of MB.
    assert!(peak < 32 << 20, "peak heap {} MB", peak >> 20);
    let preset = |name: &str| {
        let p = g.set.enablement[name].preset.as_ref().unwrap();
        (p.action.as_str(), p.line)
    };
    assert_eq!(preset("b.service"), ("enable", None));
    let q = format!("q28999{}.service", "b".repeat(30));
    assert_eq!(preset(&q), ("enable", Some(29_000)));
    assert!(
        !g.set.warnings.iter().any(|w| w.message.contains("preset")),
        "{:?}",
        g.set.warnings
    );
}

#[test]
fn slow_preset_patterns_stop_at_the_budget() {
    let d = tempfile::tempdir().unwrap();
    let long = format!("{}.service", "a".repeat(240));
    installable(d.path(), &long);
    installable(d.path(), "b.service");
    // Each line against the long name: the `*` retried at each of its ~240 bytes, the
    // 100 `a`s compared each time.
    let line = |i: usize| format!("*{}b{i}", "a".repeat(100));
    let mut left = u64::MAX;
    assert_eq!(
        fnmatch(line(0).as_bytes(), long.as_bytes(), &mut left),
        Ok(false)
    );
    let cost = u64::MAX - left;
    assert!(cost > 10_000, "{cost}");
    let lines = (MAX_PRESET_MATCH_STEPS / cost) as usize + 100;
    let text: String = (0..lines)
        .map(|i| format!("disable {}\n", line(i)))
        .collect();
    write(d.path(), &format!("{PRESETS}00-x.preset"), &text);
    let g = unitdiff::load_dir(d.path(), Rules::new(252, 0)).unwrap();
    assert!(g.set.enablement[long.as_str()].preset.is_none());
    // Units after it in name order are not decided either.
    assert!(g.set.enablement["b.service"].preset.is_none());
    let cut: Vec<&str> = g
        .set
        .warnings
        .iter()
        .filter(|w| {
            w.message
                .starts_with("work budget: matching preset patterns")
        })
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(cut.len(), 1, "{:?}", g.set.warnings);
    assert!(
        cut[0].ends_with("the presets of 2 units were not decided"),
        "{}",
        cut[0]
    );
}
