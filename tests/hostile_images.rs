//! Hostile images whose work multiplies: a container image listing one layer many times, an
//! ext2/3/4 image whose directories loop or are hard-linked, a GPT disk whose partitions
//! all point at the same filesystem, or hold no bytes, or are shorter than the filesystem
//! they start (read within their own bytes, never on into the disk). Each is refused (exit 2, one line naming the input and
//! what is wrong) after bounded work; a hang guard turns a run that does not end into a
//! failure, and the error says how far the reading got (which layer, which partitions).

#[path = "support/bounded.rs"]
mod bounded;
#[path = "support/gpt.rs"]
mod gpt;
#[path = "support/tools.rs"]
mod tools;

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Past this a run is taken as a hang (each case ends in seconds when bounded).
const DEADLINE: Duration = Duration::from_secs(180);

/// `unitdiff -q graph ROOT --format json`, under the hang guard.
fn graph(root: &Path) -> bounded::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_unitdiff"))
        .args(["-q", "graph"])
        .arg(root)
        .args(["--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    bounded::wait(
        child,
        DEADLINE,
        &format!("unitdiff graph {}", root.display()),
    )
}

/// The run was refused with exit 2 and one line naming `root`; that line.
fn refused(o: &bounded::Output, root: &Path) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&*root.to_string_lossy()), "{err}");
    err
}

fn run(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(st.success(), "{cmd} {args:?} failed");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn sha(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// An OCI layout in `dir` with one image whose manifest lists `layer` `times` times.
fn oci_repeating(dir: &Path, layer: &[u8], times: usize) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let d = sha(b);
        std::fs::write(blobs.join(&d), b).unwrap();
        format!("sha256:{d}")
    };
    let config = serde_json::to_vec(&serde_json::json!({"os": "linux", "architecture": "amd64",
        "rootfs": {"type": "layers", "diff_ids": []}}))
    .unwrap();
    let cd = put(&config);
    let ld = put(layer);
    let layers: Vec<_> = (0..times)
        .map(|_| {
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": ld, "size": layer.len()})
        })
        .collect();
    let m = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
            "size": config.len()},
        "layers": layers}))
    .unwrap();
    let md = put(&m);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
             "size": m.len()}]}))
        .unwrap(),
    )
    .unwrap();
}

/// A gzip layer holding a unit file and `chunks` × 8 MiB of zeros in one file, made of
/// concatenated gzip members (one compressed chunk repeated), so it is small to make.
fn zeros_layer(chunks: usize) -> Vec<u8> {
    const CHUNK: usize = 8 << 20;
    let mut b = tar::Builder::new(Vec::new());
    let unit = b"[Service]\nExecStart=/bin/true\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(unit.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "usr/lib/systemd/system/a.service", &unit[..])
        .unwrap();
    let mut head = b.into_inner().unwrap();
    head.truncate(head.len() - 1024); // the end-of-archive blocks come last
    let mut h = tar::Header::new_gnu();
    h.set_path("big").unwrap();
    h.set_size((chunks * CHUNK) as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    head.extend_from_slice(h.as_bytes());
    let mut out = gzip(&head);
    let chunk = gzip(&vec![0u8; CHUNK]);
    for _ in 0..chunks {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&gzip(&[0u8; 1024]));
    out
}

#[test]
fn a_layer_listed_again_is_read_again_within_one_budget() {
    // A small layer applied twice is legal and reads as once.
    let t = tempfile::tempdir().unwrap();
    let layer = zeros_layer(1);
    oci_repeating(t.path(), &layer, 2);
    let o = graph(t.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.code, Some(0), "{err}");
    let g: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(g.to_string().contains("a.service"), "{g}");
}

#[test]
#[ignore = "decompresses 1 GiB"]
fn a_layer_listed_a_thousand_times_shares_one_decompression_budget() {
    // 700 KB of gzip, 696 MiB inside: under the limit once, 680 GiB if the limit were per
    // layer. The whole image has one budget (1 GiB here), so the second copy is refused.
    let t = tempfile::tempdir().unwrap();
    let layer = zeros_layer(87);
    assert!(layer.len() < 1 << 20, "{}", layer.len());
    oci_repeating(t.path(), &layer, 1000);
    let err = refused(&graph(t.path()), t.path());
    assert!(err.contains("layer 2 of 1000"), "{err}");
    assert!(err.contains("in all layers together"), "{err}");
    assert!(err.contains("compression bomb"), "{err}");
}

/// A small ext4 image of a tree with one unit, then `debugfs -w` commands run on it.
fn ext4_with(dir: &Path, debugfs: &[String]) -> std::path::PathBuf {
    tools::require("mkfs.ext4", "e2fsprogs");
    tools::require("debugfs", "e2fsprogs");
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("usr/lib/systemd/system")).unwrap();
    std::fs::write(
        src.join("usr/lib/systemd/system/a.service"),
        "[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let img = dir.join("r.ext4");
    let (s, i) = (src.to_str().unwrap(), img.to_str().unwrap());
    run("mkfs.ext4", &["-q", "-F", "-d", s, i, "4M"]);
    for c in debugfs {
        run("debugfs", &["-w", "-R", c, i]);
    }
    img
}

#[test]
#[ignore = "needs mkfs.ext4 and debugfs (e2fsprogs)"]
fn an_ext4_directory_cycle_is_refused() {
    // Three names for the root in the root: 3^128 paths to a walk that follows them.
    let t = tempfile::tempdir().unwrap();
    let links: Vec<String> = (1..=3).map(|i| format!("link <2> /loop{i}")).collect();
    let img = ext4_with(t.path(), &links);
    let err = refused(&graph(&img), &img);
    assert!(err.contains("corrupt ext2/3/4 image"), "{err}");
    assert!(err.contains("directory cycle: /loop"), "{err}");
    // The image is fine without them.
    let t = tempfile::tempdir().unwrap();
    let img = ext4_with(t.path(), &[]);
    let o = graph(&img);
    assert_eq!(o.code, Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
#[ignore = "needs mkfs.ext4 and debugfs (e2fsprogs)"]
fn an_ext4_directory_hard_link_is_refused() {
    // `/ulib` is `/usr/lib` again: not a cycle, but every such link doubles what is below.
    let t = tempfile::tempdir().unwrap();
    let img = ext4_with(t.path(), &["link /usr/lib /ulib".to_string()]);
    let err = refused(&graph(&img), &img);
    assert!(err.contains("directory hard link"), "{err}");
    assert!(err.contains("/usr/lib"), "{err}");
}

/// A 1 MiB ext4 filesystem with a few files and no unit directories.
fn ext4_without_units(dir: &Path) -> Vec<u8> {
    tools::require("mkfs.ext4", "e2fsprogs");
    let src = dir.join("data");
    std::fs::create_dir_all(src.join("data")).unwrap();
    for i in 0..20 {
        std::fs::write(src.join(format!("data/f{i}")), "").unwrap();
    }
    let img = dir.join("data.ext4");
    run(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-d",
            src.to_str().unwrap(),
            img.to_str().unwrap(),
            "1M",
        ],
    );
    std::fs::read(img).unwrap()
}

#[test]
#[ignore = "needs mkfs.ext4 (e2fsprogs)"]
fn gpt_partitions_over_the_same_bytes_are_read_once() {
    let t = tempfile::tempdir().unwrap();
    let fs = ext4_without_units(t.path());
    let last = 2048 + fs.len() as u64 / 512 - 1;
    let disk = t.path().join("disk.img");
    gpt::gpt_disk(&disk, &fs, &vec![(2048, last); 128]);
    let err = refused(&graph(&disk), &disk);
    assert!(
        err.contains("no partition holds systemd unit directories"),
        "{err}"
    );
    assert!(
        err.contains("127 partitions overlapping one already read were not read"),
        "{err}"
    );
    // The listing names some partitions, not all 128.
    assert!(err.contains("and 112 more"), "{err}");
}

#[test]
#[ignore = "needs mkfs.ext4 (e2fsprogs)"]
fn gpt_partitions_looked_through_are_bounded() {
    // Twelve partitions with a filesystem and no units: only so many are read.
    let t = tempfile::tempdir().unwrap();
    let fs = ext4_without_units(t.path());
    let lbas = fs.len() as u64 / 512;
    let ranges: Vec<(u64, u64)> = (0..12)
        .map(|i| (2048 + i * lbas, 2048 + (i + 1) * lbas - 1))
        .collect();
    let mut all = Vec::new();
    for _ in 0..12 {
        all.extend_from_slice(&fs);
    }
    let disk = t.path().join("disk.img");
    gpt::gpt_disk(&disk, &all, &ranges);
    let err = refused(&graph(&disk), &disk);
    assert!(
        err.contains("more than 8 partitions to look through"),
        "{err}"
    );
    assert!(err.contains("--partition"), "{err}");
    // One of them, chosen, is read (it has no units, which --allow-empty accepts).
    let o = bounded::wait(
        Command::new(env!("CARGO_BIN_EXE_unitdiff"))
            .args(["-q", "graph", "--allow-empty", "--partition", "12"])
            .arg(&disk)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        DEADLINE,
        "unitdiff graph --partition 12",
    );
    assert_eq!(o.code, Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

// ---- GPT partitions are read within their own bytes ----

const UNIT_TEXT: &[u8] = b"[Service]\nExecStart=/bin/true\n";

/// 64 KiB that do not compress (xorshift), so a filesystem holding them is larger than a
/// few sectors whatever its packing.
fn noise() -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A source directory with a unit file and [`noise`], for mkfs.*.
fn source_with_units(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("usr/lib/systemd/system")).unwrap();
    std::fs::write(src.join("usr/lib/systemd/system/a.service"), UNIT_TEXT).unwrap();
    std::fs::write(src.join("noise"), noise()).unwrap();
    src
}

/// `unitdiff -q graph [--partition N] DISK --format json`, under the hang guard.
fn graph_partition(disk: &Path, partition: Option<&str>) -> bounded::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_unitdiff"));
    cmd.args(["-q", "graph"]);
    if let Some(n) = partition {
        cmd.args(["--partition", n]);
    }
    let child = cmd
        .arg(disk)
        .args(["--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    bounded::wait(child, DEADLINE, "unitdiff graph of a GPT disk")
}

/// A disk whose partition 1 is the first 3 sectors (1.5 KiB) of a filesystem with a unit
/// file: the filesystem's reader must not read past them into the rest of the disk. Its
/// magic is inside them (it is sniffed and read), what it needs next is not: exit 2,
/// corrupt.
fn refuses_a_filesystem_longer_than_its_partition(fs: &[u8], what: &str) {
    let t = tempfile::tempdir().unwrap();
    let disk = t.path().join("disk.img");
    gpt::gpt_disk_labelled(&disk, fs, &[(2048, 2050, "short")]);
    let err = refused(&graph_partition(&disk, Some("1")), &disk);
    assert!(err.contains(&format!("corrupt {what} image")), "{err}");
    // Looked through, it is not the partition holding the units.
    let err = refused(&graph_partition(&disk, None), &disk);
    assert!(
        err.contains("no partition holds systemd unit directories"),
        "{err}"
    );
    assert!(err.contains(&format!("1 \"short\" ({what})")), "{err}");
    // The same filesystem in a partition of its size is read.
    let whole = 2048 + fs.len().div_ceil(512) as u64 - 1;
    gpt::gpt_disk_labelled(&disk, fs, &[(2048, whole, "root")]);
    let o = graph_partition(&disk, Some("1"));
    assert_eq!(o.code, Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The squashfs reader used to be given the partition's offset only, and read on into the
/// disk (its tables lie at the end of the filesystem): a 1.5 KiB partition read as the
/// whole filesystem. Tool-free: the squashfs is written by the test.
#[test]
fn a_squashfs_partition_is_read_within_its_bytes() {
    let noise = noise();
    let fs = gpt::squashfs(&[
        ("noise", &noise),
        ("usr/lib/systemd/system/a.service", UNIT_TEXT),
    ]);
    refuses_a_filesystem_longer_than_its_partition(&fs, "squashfs");
}

/// A 1 MiB ext4 (1 KiB blocks, the superblock at 1024..2048) with a unit file.
fn ext4_with_units(dir: &Path) -> Vec<u8> {
    tools::require("mkfs.ext4", "e2fsprogs");
    let src = source_with_units(dir);
    let img = dir.join("r.ext4");
    let (s, i) = (src.to_str().unwrap(), img.to_str().unwrap());
    run("mkfs.ext4", &["-q", "-F", "-b", "1024", "-d", s, i, "1M"]);
    std::fs::read(img).unwrap()
}

#[test]
#[ignore = "needs mkfs.ext4 (e2fsprogs)"]
fn an_ext4_partition_is_read_within_its_bytes() {
    let t = tempfile::tempdir().unwrap();
    refuses_a_filesystem_longer_than_its_partition(&ext4_with_units(t.path()), "ext2/3/4");
}

#[test]
#[ignore = "needs mkfs.erofs (erofs-utils)"]
fn an_erofs_partition_is_read_within_its_bytes() {
    tools::require("mkfs.erofs", "erofs-utils");
    let t = tempfile::tempdir().unwrap();
    let src = source_with_units(t.path());
    let img = t.path().join("r.erofs");
    run(
        "mkfs.erofs",
        &["--quiet", img.to_str().unwrap(), src.to_str().unwrap()],
    );
    refuses_a_filesystem_longer_than_its_partition(&std::fs::read(img).unwrap(), "EROFS");
}

/// Table entries of no bytes (the last LBA before the first) at the start of a
/// filesystem with units: they used to be sniffed and read from their start on, as if
/// unbounded (so each of 128 of them was a whole filesystem, and no two "overlapped").
/// Now they hold nothing: not read, listed as empty, refused by --partition. Entries over
/// the same non-empty bytes are read once, as before.
#[test]
fn partitions_of_no_bytes_are_not_read() {
    let t = tempfile::tempdir().unwrap();
    let fs = gpt::squashfs(&[("usr/lib/systemd/system/a.service", UNIT_TEXT)]);
    let disk = t.path().join("disk.img");
    gpt::gpt_disk(&disk, &fs, &vec![(2048, 2047); 128]);
    let err = refused(&graph_partition(&disk, None), &disk);
    assert!(
        err.contains("no partition holds systemd unit directories; choose one"),
        "{err}"
    );
    assert!(err.contains("1 \"p1\" (empty)"), "{err}");
    let err = refused(&graph_partition(&disk, Some("1")), &disk);
    assert!(
        err.contains("partition 1 has no bytes in the image"),
        "{err}"
    );
    // Duplicates of non-empty bytes (a filesystem without units): read once.
    let fs = gpt::squashfs(&[("data/f", b"x")]);
    let last = 2048 + fs.len().div_ceil(512) as u64 - 1;
    let mut ranges = vec![(2048, 2047); 64];
    ranges.extend(vec![(2048, last); 64]);
    gpt::gpt_disk(&disk, &fs, &ranges);
    let err = refused(&graph_partition(&disk, None), &disk);
    assert!(
        err.contains("(63 partitions overlapping one already read were not read)"),
        "{err}"
    );
}
