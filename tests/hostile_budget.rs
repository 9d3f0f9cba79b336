//! Tiny images that ask for unbounded work: every command and format must finish, within
//! the memory budget, with exit status 0, 1 or 2 and a warning saying what was cut.
//!
//! - `slices`: a 35 KB `slice.d/` drop-in naming 3,000 slices. Slices load without a unit
//!   file, so each one gets the drop-in: 9 M edges unbounded.
//! - `twins`: two ~100-byte templates instantiating each other under different prefixes
//!   (the v250 recursive-template guard does not apply): unbounded instances.
//! - `wide`: a 320 KB template with 10,000 `After=` lines, instantiated 1,000 times: 10 M
//!   edges.
//! - `hostname`: a 1 MB word of `%H` with a 64 KB `/etc/hostname` (32 GB expanded), and a
//!   word of `%o` with a 60 KB `ID=` in os-release.
//!
//! Peak memory is read from the kernel (`wait4`'s `ru_maxrss`), not timed; a run that does
//! not finish within a generous deadline fails the test as a hang.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Peak resident memory any run may reach.
const MAX_RSS_KB: i64 = 1024 * 1024;
/// Most bytes of output any run may write.
const MAX_OUTPUT: u64 = 200 * 1024 * 1024;
/// A run this slow is a hang (debug builds on a loaded 2-core machine are slow).
const HANG: Duration = Duration::from_secs(900);

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

const SYS: &str = "usr/lib/systemd/system/";

fn image(build: impl FnOnce(&Path)) -> TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join(SYS)).unwrap();
    build(d.path());
    d
}

fn slices() -> TempDir {
    image(|r| {
        write(
            r,
            &format!("{SYS}x.service"),
            "[Unit]\nWants=s1.slice\n[Service]\nExecStart=/bin/true\n",
        );
        let names: Vec<String> = (0..3000).map(|i| format!("s{i}.slice")).collect();
        write(
            r,
            "etc/systemd/system/slice.d/x.conf",
            format!("[Unit]\nWants={}\n", names.join(" ")),
        );
    })
}

fn twins() -> TempDir {
    image(|r| {
        write(
            r,
            &format!("{SYS}x.service"),
            "[Unit]\nWants=a@1.service\n[Service]\nExecStart=/bin/true\n",
        );
        for (me, other) in [("a", "b"), ("b", "a")] {
            write(
                r,
                &format!("{SYS}{me}@.service"),
                format!(
                    "[Unit]\nWants={other}@0%i.service {other}@1%i.service\n\
                     [Service]\nExecStart=/bin/true\n"
                ),
            );
        }
    })
}

fn wide() -> TempDir {
    image(|r| {
        let wants: Vec<String> = (0..1000).map(|i| format!("t@{i}.service")).collect();
        write(
            r,
            &format!("{SYS}x.service"),
            format!(
                "[Unit]\nWants={}\n[Service]\nExecStart=/bin/true\n",
                wants.join(" ")
            ),
        );
        let mut t = String::from("[Unit]\n");
        for i in 0..10_000 {
            t.push_str(&format!("After=unit-number-{i:05}.service\n"));
        }
        t.push_str("[Service]\nExecStart=/bin/true\n");
        write(r, &format!("{SYS}t@.service"), t);
    })
}

fn hostname() -> TempDir {
    image(|r| {
        write(r, "etc/hostname", format!("{}\n", "h".repeat(65536)));
        write(
            r,
            "etc/os-release",
            format!("ID={}\nVERSION_ID=1\n", "o".repeat(60_000)),
        );
        write(
            r,
            &format!("{SYS}x.service"),
            format!(
                "[Unit]\nWants={}\nAfter={}\n[Service]\nExecStart=/bin/true\n",
                "%H".repeat(500_000),
                "%o".repeat(1000)
            ),
        );
    })
}

/// 200 services and a `service.d/` drop-in naming 20,000 distinct invalid units: every
/// word is warned about, for every service.
fn floods() -> TempDir {
    image(|r| {
        for i in 0..200 {
            write(
                r,
                &format!("{SYS}s{i}.service"),
                "[Service]\nExecStart=/bin/true\n",
            );
        }
        let words: Vec<String> = (0..20_000).map(|i| format!("bad{i}")).collect();
        write(
            r,
            "etc/systemd/system/service.d/x.conf",
            format!("[Unit]\nWants={}\n", words.join(" ")),
        );
    })
}

struct Run {
    code: Option<i32>,
    max_rss_kb: i64,
    stdout_len: u64,
    stderr: String,
}

/// Run `unitdiff ARGS` with stdout to a file, and read its peak memory from the kernel.
// The child is reaped by `wait4` (which also gives its peak memory), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run(args: &[&str]) -> Run {
    let out = tempfile::tempfile().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("unitdiff"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: plain system call on our own child with valid out-pointers.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break (status, usage);
        }
        assert!(r == 0, "wait4: {}", std::io::Error::last_os_error());
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("unitdiff {args:?} did not finish (hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        max_rss_kb: usage.ru_maxrss,
        stdout_len: out.metadata().unwrap().len(),
        stderr,
    }
}

/// The load and the largest output (JSON of the whole graph), and `cat`.
fn some_commands(root: &Path, unit: &str) -> Vec<(String, Run)> {
    let r = root.to_str().unwrap();
    [vec!["graph", r, "--format", "json"], vec!["cat", r, unit]]
        .into_iter()
        .map(|a| (a.join(" "), run(&a)))
        .collect()
}

/// Every command and format on `root` (with an empty image as the other side of diffs).
fn every_command(root: &Path, unit: &str) -> Vec<(String, Run)> {
    let empty = image(|_| {});
    let (r, e) = (root.to_str().unwrap(), empty.path().to_str().unwrap());
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for f in ["text", "json", "markdown", "dot"] {
        cases.push(vec!["graph", r, "--format", f]);
        cases.push(vec!["diff", e, r, "--format", f]);
    }
    cases.push(vec!["diff", e, r, "-p"]);
    cases.push(vec!["graph", r, "--format", "svg", "--renderer", "builtin"]);
    cases.push(vec![
        "diff",
        e,
        r,
        "--format",
        "svg",
        "--renderer",
        "builtin",
    ]);
    for f in ["text", "json"] {
        cases.push(vec!["deps", r, unit, "--format", f]);
        cases.push(vec!["deps", e, r, unit, "--format", f]);
        cases.push(vec!["why", r, unit, "system.slice", "--format", f]);
    }
    cases.push(vec!["deps", e, r, unit, "--format", "dot"]);
    cases.push(vec!["cat", r, unit]);
    cases.into_iter().map(|a| (a.join(" "), run(&a))).collect()
}

/// Run everything on one hostile image; every run stays within budget, and every run that
/// loads the image warns with `warning`.
fn check(root: &Path, unit: &str, warning: &str, all: bool) {
    let runs = if all {
        every_command(root, unit)
    } else {
        some_commands(root, unit)
    };
    for (what, r) in runs {
        println!(
            "{what}: exit {:?}, {} MB peak, {} bytes out",
            r.code,
            r.max_rss_kb / 1024,
            r.stdout_len
        );
        assert!(
            matches!(r.code, Some(0..=2)),
            "{what}: exit {:?}\n{}",
            r.code,
            r.stderr
        );
        assert!(
            r.max_rss_kb < MAX_RSS_KB,
            "{what}: {} MB peak memory",
            r.max_rss_kb / 1024
        );
        assert!(
            r.stderr.contains(warning),
            "{what}: no warning {warning:?}:\n{}",
            r.stderr.chars().take(2000).collect::<String>()
        );
        // The output is bounded too (the whole graph as JSON is the largest).
        assert!(
            r.stdout_len < MAX_OUTPUT,
            "{what}: {} bytes of output",
            r.stdout_len
        );
        // Warned once, not once per unit.
        assert_eq!(r.stderr.matches(warning).count(), 1, "{what}");
    }
}

#[test]
fn slice_dropin_naming_3000_slices() {
    let img = slices();
    check(
        img.path(),
        "x.service",
        "work budget: /etc/systemd/system/slice.d/x.conf applies to 3002 units; it was applied to",
        false,
    );
}

#[test]
fn templates_instantiating_each_other() {
    let img = twins();
    check(
        img.path(),
        "x.service",
        "work budget: more than 2000 instances of a@.service",
        false,
    );
}

#[test]
fn wide_template_instantiated_1000_times() {
    let img = wide();
    check(
        img.path(),
        "x.service",
        "work budget: /usr/lib/systemd/system/t@.service applies to 1001 units; it was applied to",
        false,
    );
}

#[test]
fn megabyte_of_specifiers() {
    let img = hostname();
    // The 64 KB hostname is not a host name systemd accepts: %H is the running machine's.
    check(
        img.path(),
        "x.service",
        "depends on the running machine",
        true,
    );
    let r = run(&["graph", img.path().to_str().unwrap()]);
    assert!(
        r.stderr
            .contains("expands to more than 4096 bytes (work budget)"),
        "{}",
        r.stderr
    );
}

/// One unit of 20 `RequiresMountsFor=` paths 2,000 levels deep (80 KB): each prefix of each
/// path is a mount unit name to look up, 8 MB of names a path, so the image asks for
/// 160 MB of names (a 4 MB unit of such lines took two minutes); past the budget the paths'
/// mounts are not looked for, once warned. A mount that is a prefix of the first path is
/// still found.
#[test]
fn deep_requires_mounts_for_paths_are_bounded() {
    let deep = "/x".repeat(2_000);
    let img = image(|r| {
        let mut unit = String::from("[Unit]\n");
        for i in 0..20 {
            unit.push_str(&format!("RequiresMountsFor={deep}/{i}\n"));
        }
        unit.push_str("[Service]\nExecStart=/bin/true\n");
        write(r, "usr/lib/systemd/system/x.service", unit);
        write(
            r,
            "usr/lib/systemd/system/x-x.mount",
            "[Mount]\nWhat=/dev/sda\nWhere=/x/x\n",
        );
    });
    check(
        img.path(),
        "x.service",
        "work budget: the mounts of 12 RequiresMountsFor=-style paths were not looked for",
        false,
    );
    let r = img.path().to_str().unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("unitdiff"))
        .args(["deps", r, "x.service", "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"unit\": \"x-x.mount\""), "{text}");
}

#[test]
fn warning_flood_is_cut() {
    let img = floods();
    check(
        img.path(),
        "s1.service",
        "work budget: more than 10000 warnings;",
        false,
    );
    // The warnings kept are distinct and at most the budget (plus what the budget says).
    let r = run(&["graph", img.path().to_str().unwrap()]);
    let lines = r.stderr.lines().count();
    assert!(
        (10_000..10_020).contains(&lines),
        "{lines} lines of warnings"
    );
}

/// A 1,000-unit `Requires=` chain; NEW adds one line at its end, so every unit of the chain
/// gains a failure witness as long as the chain below it. The witnesses are shortened to the
/// budget's hops (whole ones were 491 MB of JSON and 3 GB), said once.
#[test]
fn failure_witnesses_of_a_long_chain_are_bounded() {
    let chain = |last: &str| {
        image(|r| {
            for i in 0..1000 {
                let dep = if i < 999 {
                    format!("Requires=c{}.service", i + 1)
                } else {
                    last.to_string()
                };
                write(
                    r,
                    &format!("{SYS}c{i}.service"),
                    format!("[Unit]\n{dep}\n[Service]\nExecStart=/bin/true\n"),
                );
            }
            write(
                r,
                &format!("{SYS}extra.service"),
                "[Service]\nExecStart=/bin/true\n",
            );
        })
    };
    let (old, new) = (chain(""), chain("Requires=extra.service"));
    let (o, n) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    let warning = "failure witnesses: 968 shortened to their first 32 hops";
    for args in [
        vec!["diff", o, n, "--format", "json"],
        vec!["check", o, n, "--format", "sarif"],
        vec!["diff", o, n],
    ] {
        let r = run(&args);
        let what = args.join(" ");
        println!(
            "{what}: exit {:?}, {} MB peak, {} bytes out",
            r.code,
            r.max_rss_kb / 1024,
            r.stdout_len
        );
        assert_eq!(r.code, Some(1), "{what}: {}", r.stderr);
        assert_eq!(r.stderr.matches(warning).count(), 1, "{what}: {}", r.stderr);
        assert!(
            r.max_rss_kb < MAX_RSS_KB / 2,
            "{what}: {} MB",
            r.max_rss_kb / 1024
        );
        assert!(
            r.stdout_len < 64 * 1024 * 1024,
            "{what}: {} bytes",
            r.stdout_len
        );
    }
}

/// The pictures of an HTML report share one layout clock (`--time-limit`, default 5 s): a
/// report whose time is spent still comes out, with its findings' pictures left out and
/// that said once. (Time 0: nothing can be laid out, whatever the machine's speed.)
#[test]
fn report_pictures_share_one_layout_clock() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("r.html");
    let r = run(&[
        "diff",
        "fixtures/coreos-899",
        "fixtures/coreos-1010",
        "--format",
        "html",
        "--time-limit",
        "0",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("flanneld.service"), "the report is written");
    let said = "findings' pictures left out (the pictures took the 0 s of layout time";
    assert_eq!(r.stderr.matches(said).count(), 1, "{}", r.stderr);
    assert!(!html.contains("<svg"), "no picture was drawn");
}
