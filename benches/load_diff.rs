//! Load two root filesystems and diff them, the whole job of `unitdiff diff` minus output.
//!
//! `cargo bench` (or `cargo bench -- OLD NEW` for other roots). Pairs measured by default:
//! the CoreOS fixtures, and this machine's own root against itself (only its systemd search
//! directories are read). Prints min and median over the runs.

use std::path::Path;

// The same allocator as the binary, so the bench measures what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

fn measure(old: &Path, new: &Path, runs: usize) -> (Duration, Duration, usize, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut sizes = (0, 0);
    for _ in 0..runs {
        let start = Instant::now();
        // What `unitdiff diff` does: detect each side's systemd, load both (in parallel),
        // reload NEW with OLD's rules if they differ, diff.
        let c = unitdiff::compare(old, new, None, None).expect("roots load");
        times.push(start.elapsed());
        sizes = (
            c.old.set.units.len() + c.new.set.units.len(),
            c.old.edges.len() + c.new.edges.len(),
        );
        std::hint::black_box(c.diff);
    }
    times.sort();
    (times[0], times[runs / 2], sizes.0, sizes.1)
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
        let (min, median, units, edges) = measure(Path::new(&old), Path::new(&new), 50);
        println!(
            "load+diff {old} -> {new}: {units} units, {edges} edges: min {:.2} ms, median {:.2} ms",
            min.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3
        );
    }
}
