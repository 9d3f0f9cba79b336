//! A tree that changes under us: while unitdiff reads an image, another thread swaps the
//! image's unit directory with a symlink to a directory *outside* the root, hundreds of
//! times a second (`renameat2(RENAME_EXCHANGE)`, atomic). Whatever moment each read lands
//! on, unitdiff must never print content from outside the root: it may see the directory,
//! or see a symlink (re-rooted inside the image, where the target does not exist), or get an
//! error, but never the outside file.

use rustix::fs::{RenameFlags, renameat_with};
use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const LEAK: &str = "OUTSIDE-THE-ROOT";
const RUNS: usize = 300;

#[test]
fn directory_symlink_swap_never_reads_outside_the_root() {
    let outside = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let out_dir = outside.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&out_dir).unwrap();
    let in_dir = root.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&in_dir).unwrap();
    for (dir, desc) in [(&out_dir, LEAK), (&in_dir, "inside")] {
        // Enough files that the loader spends time between looking and reading.
        for i in 0..50 {
            std::fs::write(
                dir.join(format!("u{i}.service")),
                format!("[Unit]\nDescription={desc} {i}\nWants=foo.service\n"),
            )
            .unwrap();
        }
        std::fs::write(
            dir.join("foo.service"),
            format!("[Unit]\nDescription={desc}\n[Service]\nExecStart=/bin/true\n"),
        )
        .unwrap();
    }
    // The swap partner: a symlink to the outside directory, by absolute host path.
    let evil = root.path().join("usr/lib/systemd/evil");
    symlink(&out_dir, &evil).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        let (a, b) = (in_dir.clone(), evil.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                renameat_with(
                    rustix::fs::CWD,
                    &a,
                    rustix::fs::CWD,
                    &b,
                    RenameFlags::EXCHANGE,
                )
                .expect("renameat2(RENAME_EXCHANGE)");
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let bin = assert_cmd::cargo::cargo_bin("unitdiff");
    let r = root.path().to_str().unwrap();
    let mut leaks = Vec::new();
    let mut saw_inside = 0;
    for i in 0..RUNS {
        let args: &[&str] = match i % 3 {
            0 => &["cat", r, "foo.service"],
            1 => &["graph", r, "--format", "json"],
            _ => &["cat", r, "u7.service"],
        };
        let out = Command::new(&bin)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "run {i} {args:?}: {:?}\n{stderr}",
            out.status
        );
        if stdout.contains(LEAK) || stderr.contains(LEAK) {
            leaks.push(format!("run {i} {args:?}:\n{stdout}"));
        }
        if stdout.contains("inside") {
            saw_inside += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let swaps = swaps.load(Ordering::Relaxed);
    assert!(
        leaks.is_empty(),
        "{} of {RUNS} runs printed content from outside the root ({swaps} swaps):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    // The test exercised something: the swapper ran during the runs, and some runs read
    // the real directory.
    assert!(swaps > RUNS, "only {swaps} swaps");
    assert!(saw_inside > 0, "no run read the image at all");
    println!("{RUNS} runs, {swaps} swaps, {saw_inside} runs read inside content, 0 leaks");
}
