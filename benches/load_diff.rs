//! Load two root filesystems and diff them, the whole job of `unitdiff diff` minus output.
//!
//! `cargo bench` (or `cargo bench -- OLD NEW` for other roots). Pairs measured by default:
//! the CoreOS fixtures, and this machine's own root against itself (only its systemd search
//! directories are read). Prints min and median over the runs.
//!
//! Each run also times what `unitdiff check` adds on top of `diff`'s work (load, diff,
//! answers): computing the findings and judging them (no policy), printed as a share of
//! the diff's time (the target is under 10 %).

use std::path::Path;

// The same allocator as the binary, so the bench measures what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

struct Measured {
    min: Duration,
    median: Duration,
    /// `diff`'s work: load, diff and the answers.
    diff_median: Duration,
    /// What `check` adds: findings and the verdict.
    check_median: Duration,
    units: usize,
    edges: usize,
    findings: usize,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(old: &Path, new: &Path, runs: usize) -> Measured {
    let mut times = Vec::with_capacity(runs);
    let mut diffs = Vec::with_capacity(runs);
    let mut checks = Vec::with_capacity(runs);
    let mut sizes = (0, 0, 0);
    for _ in 0..runs {
        let start = Instant::now();
        // What `unitdiff diff` does: detect each side's systemd, load both (in parallel),
        // reload NEW with OLD's rules if they differ, diff.
        let c = unitdiff::compare(old, new, None, None).expect("roots load");
        times.push(start.elapsed());
        let answers = unitdiff::query::diff_answers(&c.old, &c.new, &c.diff);
        let answered = Instant::now();
        diffs.push(answered - start);
        let found = unitdiff::findings::compute(&c.diff, &answers, &c.old, &c.new);
        let result = unitdiff::findings::check::check(
            found,
            None,
            None,
            unitdiff::findings::date::Date::from_days(0),
            unitdiff::findings::FailOn::Error,
            (&c.diff.old_root, &c.diff.new_root),
        );
        checks.push(answered.elapsed());
        sizes = (
            c.old.set.units.len() + c.new.set.units.len(),
            c.old.edges.len() + c.new.edges.len(),
            result.findings.len(),
        );
        std::hint::black_box((c.diff, answers, result));
    }
    times.sort();
    Measured {
        min: times[0],
        median: times[runs / 2],
        diff_median: median(diffs),
        check_median: median(checks),
        units: sizes.0,
        edges: sizes.1,
        findings: sizes.2,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let pairs: Vec<(String, String)> = if args.len() >= 2 {
        vec![(args[0].clone(), args[1].clone())]
    } else {
        let fx = |p: &str| format!("{}/fixtures/{p}", env!("CARGO_MANIFEST_DIR"));
        vec![
            (fx("coreos-899"), fx("coreos-1010")),
            ("/".to_string(), "/".to_string()),
            (fx("systemd-upgrade/old"), fx("systemd-upgrade/new")),
        ]
    };
    for (old, new) in pairs {
        let m = measure(Path::new(&old), Path::new(&new), 50);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "load+diff {old} -> {new}: {} units, {} edges: min {:.2} ms, median {:.2} ms",
            m.units,
            m.edges,
            ms(m.min),
            ms(m.median)
        );
        println!(
            "  diff (load+diff+answers) median {:.2} ms; check adds findings+verdict ({} findings) median {:.3} ms = {:.1} %",
            ms(m.diff_median),
            m.findings,
            ms(m.check_median),
            100.0 * m.check_median.as_secs_f64() / m.diff_median.as_secs_f64()
        );
    }
}
