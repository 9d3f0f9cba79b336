//! Tiny archives that ask the tar reader for unbounded work or memory (docs/inputs.md,
//! "Limits"):
//!
//! - a symlink maze: 40 chained symlinks whose targets walk 800 directories down and back
//!   up, and entries below the first of them. Every entry's parent resolved the whole maze
//!   again (~0.17 s an entry in a release build: a 9 KB tar.gz hung). Now a symlink's
//!   directory is remembered, and the components walked following symlinks have a budget
//!   (`MAX_LINK_STEPS`) that a maze re-resolved after every change of a symlink exhausts.
//! - a maze of long targets: 40 chained symlinks whose targets are 4 KB of `/`, leading
//!   nowhere (so nothing is remembered), and entries below the first: a step or two a hop
//!   but 4 KB of work (a 1.4 MB tar.gz of 200,000 entries ran over 2 minutes in a release
//!   build). Now the bytes of targets walked have a budget too (`MAX_LINK_BYTES`).
//! - a path bomb: entries `x{i}/a/a/…(2,000 levels)/f`, each a 4 KB name creating 2,000
//!   directories (~300 bytes each in memory): 52 KB of tar.gz took 1.2 GB. Now the tree's
//!   metadata has a byte budget (`MAX_TREE_BYTES`).
//! - a snapshot of deep paths: each directory is an entry with a ~4 KB name, and the snapshot
//!   was built whole in memory (then copied) before compression: an abort at 2.3 GB. Now it
//!   is streamed, one zstd frame at a time.
//!
//! The CLI runs have a hang guard (`support/bounded.rs`), not a clock; memory is counted
//! by this test binary's allocator, per thread.

#[path = "support/bounded.rs"]
mod bounded;
#[path = "support/heap.rs"]
mod heap;

use heap::peak_of;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use unitdiff::tree::mem::{Entry, MAX_LINK_BYTES, MAX_LINK_STEPS, MAX_TREE_BYTES, MemTree};
use unitdiff::tree::{ImagePath, Tree};

/// A run this slow is a hang (debug builds on a loaded 2-core machine are slow).
const HANG: Duration = Duration::from_secs(300);

// ---- archives ----

enum E<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

fn tar_of(entries: impl IntoIterator<Item = E<'static>>) -> Vec<u8> {
    tar_owned(entries.into_iter().map(|e| match e {
        E::Dir(p) => (
            p.to_string(),
            tar::EntryType::Directory,
            Vec::new(),
            String::new(),
        ),
        E::File(p, d) => (
            p.to_string(),
            tar::EntryType::Regular,
            d.to_vec(),
            String::new(),
        ),
        E::Link(p, t) => (
            p.to_string(),
            tar::EntryType::Symlink,
            Vec::new(),
            t.to_string(),
        ),
        E::Hard(p, t) => (
            p.to_string(),
            tar::EntryType::Link,
            Vec::new(),
            t.to_string(),
        ),
    }))
}

/// A tar of (name, type, data, link target), GNU long names as needed.
fn tar_owned(
    entries: impl IntoIterator<Item = (String, tar::EntryType, Vec<u8>, String)>,
) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, ty, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(ty);
        h.set_size(data.len() as u64);
        h.set_mode(if ty == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        if link.is_empty() {
            b.append_data(&mut h, &name, &data[..]).unwrap();
        } else {
            b.append_link(&mut h, &name, &link).unwrap();
        }
    }
    b.into_inner().unwrap()
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(raw).unwrap();
    enc.finish().unwrap()
}

const UNIT: &str = "usr/lib/systemd/system/a.service";
const UNIT_TEXT: &[u8] = b"[Service]\nExecStart=/bin/true\n";

/// The maze of the attack: `d/…` `depth` deep, `l0 -> d/…/../…/l1`, …, `l{hops} -> d`.
fn maze(depth: usize, hops: usize) -> Vec<(String, tar::EntryType, Vec<u8>, String)> {
    let mut v = vec![
        (
            UNIT.to_string(),
            tar::EntryType::Regular,
            UNIT_TEXT.to_vec(),
            String::new(),
        ),
        (
            vec!["d"; depth].join("/") + "/",
            tar::EntryType::Directory,
            Vec::new(),
            String::new(),
        ),
    ];
    for i in 0..hops {
        v.push((
            format!("l{i}"),
            tar::EntryType::Symlink,
            Vec::new(),
            format!("{}{}l{}", "d/".repeat(depth), "../".repeat(depth), i + 1),
        ));
    }
    v.push((
        format!("l{hops}"),
        tar::EntryType::Symlink,
        Vec::new(),
        "d".to_string(),
    ));
    v
}

fn file(name: String) -> (String, tar::EntryType, Vec<u8>, String) {
    (name, tar::EntryType::Regular, Vec::new(), String::new())
}

/// Run unitdiff with `args` (the hang guard on); exit code and stderr (stdout is checked
/// to be empty on failure).
fn run(args: &[&std::ffi::OsStr], what: &str) -> (Option<i32>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_unitdiff"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let o = bounded::wait(child, HANG, what);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.code == Some(0), !o.stdout.is_empty(), "{what}: {err}");
    (o.code, err)
}

fn graph(path: &Path) -> (Option<i32>, String) {
    run(
        &[
            "graph".as_ref(),
            path.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        "graph",
    )
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

// ---- finding 1: symlink mazes ----

/// The attack's archive (9 KB gzipped): 1,000 entries below the maze's first symlink. Each
/// one resolved 40 hops × 1,600 components again, each component a lookup from the root.
/// Now the maze is walked once and its directory remembered.
#[test]
fn entries_below_a_symlink_maze_resolve_it_once() {
    let mut entries = maze(800, 39);
    entries.extend((0..1000).map(|i| file(format!("l0/f{i}"))));
    // And hard links through it: the same walk.
    entries.extend((0..100).map(|i| {
        (
            format!("h{i}"),
            tar::EntryType::Link,
            Vec::new(),
            format!("l0/f{i}"),
        )
    }));
    let gz = gzip(&tar_owned(entries));
    let t = tempfile::tempdir().unwrap();
    let p = write_tmp(t.path(), "maze.tar.gz", &gz);
    let (code, err) = graph(&p);
    assert_eq!(code, Some(0), "{err}");

    // The work, counted: one walk of the maze (40 symlinks of ~1,600 components each).
    let mut tree = MemTree::new("maze");
    let raw = std::fs::read(&p).unwrap();
    let (dec, _) = unitdiff::tree::archive::decompress(&raw[..], 1 << 30).unwrap();
    unitdiff::tree::archive::read_tar(dec, &mut tree, unitdiff::tree::archive::Mode::Rootfs)
        .unwrap();
    assert!(
        tree.link_steps() < 100_000,
        "{} steps following symlinks",
        tree.link_steps()
    );
    // Where the entries went: into the maze's end, d.
    assert_eq!(
        tree.read_dir(&ImagePath::new("/d")).unwrap().len(),
        1001,
        "d holds the next level and the 1,000 files"
    );
    assert_eq!(
        tree.lstat(&ImagePath::new("/h99")).unwrap(),
        Some(unitdiff::tree::NodeKind::File)
    );
}

/// The same maze, but a symlink is replaced before every entry, so nothing remembered may
/// be trusted and each entry walks the maze again: past `MAX_LINK_STEPS` the input is
/// refused (exit 2, one line naming the entry) instead of taking hours.
#[test]
fn a_maze_walked_again_and_again_is_refused() {
    let mut entries = maze(800, 39);
    let per_walk = 40 * 1601;
    let n = (MAX_LINK_STEPS as usize / per_walk) * 3 / 2;
    for i in 0..n {
        entries.push((
            "z".to_string(),
            tar::EntryType::Symlink,
            Vec::new(),
            format!("z{}", i % 2),
        ));
        entries.push(file(format!("l0/f{i}")));
    }
    let gz = gzip(&tar_owned(entries));
    let t = tempfile::tempdir().unwrap();
    let p = write_tmp(t.path(), "maze2.tar.gz", &gz);
    let (code, err) = graph(&p);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("maze2.tar.gz"), "{err}");
    assert!(err.contains("at /l0/f"), "{err}");
    assert!(err.contains("symlink maze"), "{err}");
}

/// The maze of long targets, with 1,000 entries below it: each entry
/// walked 40 targets of 4 KB again. Refused (exit 2, one line naming the entry) once
/// `MAX_LINK_BYTES` of targets are walked, with only ~33,000 steps spent.
#[test]
fn a_maze_of_long_targets_is_refused_by_its_bytes() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(UNIT_TEXT.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, UNIT, UNIT_TEXT).unwrap();
    for i in 0..=40 {
        // The Builder would normalise `////…` away: a GNU long link record, written as is.
        let target = format!("{}l{}", "/".repeat(4000), i + 1);
        let mut k = tar::Header::new_gnu();
        k.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
        k.set_entry_type(tar::EntryType::GNULongLink);
        k.set_size(target.len() as u64 + 1);
        k.set_mode(0o644);
        k.set_cksum();
        b.append(&k, [target.as_bytes(), b"\0"].concat().as_slice())
            .unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_path(format!("l{i}")).unwrap();
        h.set_link_name_literal(&target.as_bytes()[..100]).unwrap();
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }
    for i in 0..1000 {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("l0/f{i}"), &[][..]).unwrap();
    }
    let gz = gzip(&b.into_inner().unwrap());
    let t = tempfile::tempdir().unwrap();
    let p = write_tmp(t.path(), "long-maze.tar.gz", &gz);
    let (code, err) = graph(&p);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("long-maze.tar.gz"), "{err}");
    assert!(err.contains("at /l0/f"), "{err}");
    assert!(err.contains("MiB of symlink targets"), "{err}");
    assert!(err.contains("symlink maze"), "{err}");

    // In process: stopped by the bytes, far below the steps.
    let mut tree = MemTree::new("long maze");
    let r = unitdiff::tree::archive::read_tar(
        &tar_owned_again(&p)[..],
        &mut tree,
        unitdiff::tree::archive::Mode::Rootfs,
    );
    assert!(r.is_err());
    assert!(tree.link_bytes() > MAX_LINK_BYTES);
    assert!(
        tree.link_steps() < MAX_LINK_STEPS / 100,
        "{}",
        tree.link_steps()
    );
}

/// The tar inside the tar.gz at `p`.
fn tar_owned_again(p: &Path) -> Vec<u8> {
    let raw = std::fs::read(p).unwrap();
    let (mut dec, _) = unitdiff::tree::archive::decompress(&raw[..], 1 << 30).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut dec, &mut out).unwrap();
    out
}

/// Real images' symlinks (`/lib -> usr/lib`, `/bin -> usr/bin`, an absolute one, one with
/// `..`) still lead entries, hard links and whiteouts inside the image, where containerd
/// puts them (GNU `tar -x` too for `lib -> usr/lib`; it fails the entries below the
/// absolute and `..` ones, which it creates last).
#[test]
fn ordinary_symlinked_parents_still_work() {
    let raw = tar_of([
        E::Dir("usr/lib/systemd/system/"),
        E::Link("lib", "usr/lib"),
        E::Link("etc/alt", "/usr/lib/systemd"),
        E::File("lib/systemd/system/a.service", UNIT_TEXT),
        E::File("etc/alt/system/b.service", UNIT_TEXT),
        E::Hard("usr/c.service", "lib/systemd/system/a.service"),
        E::Link("usr/x", "../lib/systemd/.."),
        E::File("usr/x/y.service", UNIT_TEXT),
    ]);
    let mut tree = MemTree::new("t");
    unitdiff::tree::archive::read_tar(&raw[..], &mut tree, unitdiff::tree::archive::Mode::Layer)
        .unwrap();
    let ls = |t: &MemTree, p: &str| -> Vec<String> {
        t.read_dir(&ImagePath::new(p))
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect()
    };
    assert_eq!(
        ls(&tree, "/usr/lib/systemd/system"),
        ["a.service", "b.service"]
    );
    assert_eq!(ls(&tree, "/usr/lib"), ["systemd", "y.service"]);
    assert_eq!(
        tree.read_file(&ImagePath::new("/usr/c.service"), 100)
            .unwrap(),
        UNIT_TEXT
    );
    assert!(tree.warnings.is_empty(), "{:?}", tree.warnings);
    // A whiteout through the symlink, in an upper layer.
    let upper = tar_of([E::File("lib/systemd/system/.wh.a.service", b"")]);
    unitdiff::tree::archive::read_tar(&upper[..], &mut tree, unitdiff::tree::archive::Mode::Layer)
        .unwrap();
    assert_eq!(ls(&tree, "/usr/lib/systemd/system"), ["b.service"]);
    // Replacing the symlink redirects later entries (nothing stale remembered).
    let upper = tar_of([
        E::Dir("opt/"),
        E::Link("lib", "opt"),
        E::File("lib/z.service", UNIT_TEXT),
    ]);
    unitdiff::tree::archive::read_tar(&upper[..], &mut tree, unitdiff::tree::archive::Mode::Layer)
        .unwrap();
    assert_eq!(ls(&tree, "/opt"), ["z.service"]);
    assert!(tree.link_steps() < 100, "{}", tree.link_steps());
}

// ---- finding 2: path bombs ----

/// 400 entries of 2,000 nested directories each (a 4 KB name apiece: 2 MB of tar, a few
/// KB gzipped) ask for 800,000 directories: past `MAX_TREE_BYTES` the input is refused
/// with exit 2 and one line, instead of growing by ~300 bytes a directory (the attack's
/// 52 KB took 1.2 GB).
#[test]
fn a_path_bomb_is_refused_by_the_tree_budget() {
    let deep = "a/".repeat(2000);
    let mut entries = vec![file(UNIT.to_string())];
    entries[0].2 = UNIT_TEXT.to_vec();
    entries.extend((0..400).map(|i| file(format!("x{i}/{deep}f"))));
    let gz = gzip(&tar_owned(entries));
    assert!(gz.len() < 64 * 1024, "{}", gz.len());
    let t = tempfile::tempdir().unwrap();
    let p = write_tmp(t.path(), "deep.tar.gz", &gz);
    let (code, err) = graph(&p);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("deep.tar.gz"), "{err}");
    assert!(err.contains("at /x"), "{err}");
    assert!(err.contains("MiB"), "{err}");
    assert!(!err.contains("corrupt"), "{err}");

    // In process: the heap the tree held when it refused stays near its budget.
    let raw = std::fs::read(&p).unwrap();
    let (r, peak) = peak_of(|| {
        let mut tree = MemTree::new("deep");
        let (dec, _) = unitdiff::tree::archive::decompress(&raw[..], 1 << 30).unwrap();
        let r = unitdiff::tree::archive::read_tar(
            dec,
            &mut tree,
            unitdiff::tree::archive::Mode::Rootfs,
        );
        (r.map(|_| ()), tree.tree_bytes())
    });
    let (r, bytes) = r;
    assert!(r.is_err());
    assert!(bytes <= MAX_TREE_BYTES, "{bytes}");
    assert!(
        (peak as u64) < MAX_TREE_BYTES * 5 / 4,
        "peak heap {} MB",
        peak >> 20
    );
}

// ---- finding 3: snapshots of deep trees ----

/// A tree of 4,000 directories at the bottom of a 2,000-level chain: its snapshot is
/// ~20 MB of tar (each directory an entry with a 4 KB name). It used to be built whole in
/// memory and copied before compression; now it is streamed, a frame at a time.
#[test]
fn a_snapshot_streams() {
    let mut tree = MemTree::new("deep");
    let deep = "/a".repeat(2000);
    tree.insert(
        &ImagePath::new(UNIT),
        Entry::File {
            size: UNIT_TEXT.len() as u64,
            data: Some(UNIT_TEXT.into()),
        },
    )
    .unwrap();
    for i in 0..4000 {
        tree.insert(&ImagePath::new(&format!("{deep}/d{i}")), Entry::Dir)
            .unwrap();
    }
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("deep.snap");
    let (r, peak) = peak_of(|| {
        let f = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
        unitdiff::tree::snapshot::write(&tree, "deep (test)", f)
    });
    r.unwrap();
    assert!(peak < 16 << 20, "peak heap {} MB", peak >> 20);
    // It loads, with every directory.
    let (code, err) = graph(&out);
    assert_eq!(code, Some(0), "{err}");
    let opened = unitdiff::open_input(&out, &Default::default()).unwrap();
    let d = ImagePath::new(&deep);
    assert_eq!(opened.tree.read_dir(&d).unwrap().len(), 4000);
}
