//! What a ROOT argument names, and opening it.
//!
//! Detection looks at the bytes, never the file name: a directory (an OCI image layout
//! when it holds `oci-layout`/`index.json`, an extracted `docker save` when it holds
//! `manifest.json` and no `etc`/`usr`), a filesystem image (superblock magic), a GPT disk,
//! or a tar stream (plain or compressed), which may be an OCI archive, a `docker save`
//! archive or a snapshot. A prefix (`dir:`, `tar:`, `oci:`, `oci-archive:`,
//! `docker-archive:`, `snapshot:`) overrides detection.

use super::archive::{self, Compression, Mode};
use super::dir::DirTree;
use super::fsimage::{self, FsKind};
use super::mem::MemTree;
use super::oci::{self, Select, Store};
use super::{ImagePath, NodeKind, Tree};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Choices for inputs that hold more than one root.
#[derive(Clone, Debug, Default)]
pub struct InputOptions {
    /// `os/arch[/variant]` of the image to read from a multi-platform index.
    pub platform: Option<String>,
    /// Ref name (tag) of the image to read from an archive holding several.
    pub image_ref: Option<String>,
    /// GPT partition to read: its number (from 1) or its label.
    pub partition: Option<String>,
    /// How the image would boot: do not emulate its generators (`--no-generators`).
    pub no_generators: bool,
    /// How the image would boot: the kernel command line its generators would see
    /// (`--kernel-cmdline`, empty by default).
    pub kernel_cmdline: String,
    /// Whose units to load: the system manager's (default) or a user manager's (`--user`).
    pub scope: crate::unit::Scope,
    /// Keep only the SHA-256 of each unit file, not its bytes ([`crate::unit::Content`]):
    /// for reports that print no file (`cat`, `diff -p`, Markdown and HTML print them).
    pub contents_as_digests: bool,
}

/// An opened input.
pub struct Opened {
    pub tree: Box<dyn Tree + Send + Sync>,
    /// What it is, for the report header; `None` for a plain directory.
    pub description: Option<String>,
    /// Entries skipped while reading it.
    pub warnings: Vec<String>,
    /// The in-memory form, for snapshots (`None` for a plain directory).
    pub mem: Option<std::sync::Arc<MemTree>>,
}

/// An explicit input kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Forced {
    Dir,
    Tar,
    Oci,
    OciArchive,
    DockerArchive,
    Snapshot,
}

const PREFIXES: [(&str, Forced); 6] = [
    ("dir:", Forced::Dir),
    ("tar:", Forced::Tar),
    ("oci:", Forced::Oci),
    ("oci-archive:", Forced::OciArchive),
    ("docker-archive:", Forced::DockerArchive),
    ("snapshot:", Forced::Snapshot),
];

fn split_prefix(spec: &Path) -> (Option<Forced>, PathBuf) {
    if let Some(s) = spec.to_str() {
        for (p, f) in PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                return (Some(f), PathBuf::from(rest));
            }
        }
    }
    (None, spec.to_path_buf())
}

fn mem_opened(tree: MemTree, description: String) -> Opened {
    let mut tree = tree;
    tree.set_describe(description.clone());
    let warnings = std::mem::take(&mut tree.warnings);
    let arc = std::sync::Arc::new(tree);
    Opened {
        tree: Box::new(ArcTree(arc.clone())),
        description: Some(description),
        warnings,
        mem: Some(arc),
    }
}

/// A shared in-memory tree.
struct ArcTree(std::sync::Arc<MemTree>);

impl Tree for ArcTree {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn lstat(&self, p: &ImagePath) -> io::Result<Option<NodeKind>> {
        self.0.lstat(p)
    }
    fn read_dir(&self, p: &ImagePath) -> io::Result<Vec<(String, NodeKind)>> {
        self.0.read_dir(p)
    }
    fn is_empty_file(&self, p: &ImagePath) -> io::Result<bool> {
        self.0.is_empty_file(p)
    }
    fn read_link(&self, p: &ImagePath) -> io::Result<String> {
        self.0.read_link(p)
    }
    fn read_file(&self, p: &ImagePath, limit: u64) -> io::Result<Vec<u8>> {
        self.0.read_file(p, limit)
    }
    fn image_layer(&self, p: &ImagePath) -> Option<super::mem::ImageLayer> {
        self.0.image_layer(p)
    }
}

fn msg(e: io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::UnexpectedEof => format!("truncated input ({e})"),
        _ => e.to_string(),
    }
}

/// Open the ROOT argument `spec`.
pub fn open(spec: &Path, opts: &InputOptions) -> Result<Opened, String> {
    let (forced, path) = split_prefix(spec);
    let meta = std::fs::metadata(&path).map_err(msg)?;
    let sel = Select {
        platform: opts.platform.clone(),
        reference: opts.image_ref.clone(),
    };
    if meta.is_dir() {
        let is_image = path.join("oci-layout").is_file()
            || path.join("index.json").is_file()
            || (path.join("manifest.json").is_file()
                && !path.join("etc").exists()
                && !path.join("usr").exists());
        let as_image = match forced {
            Some(Forced::Dir) => false,
            Some(Forced::Oci | Forced::DockerArchive) => true,
            None => is_image,
            Some(_) => return Err("is a directory, not an archive file".to_string()),
        };
        if !as_image {
            let t = DirTree::open(&path).map_err(msg)?;
            return Ok(Opened {
                tree: Box::new(t),
                description: None,
                warnings: Vec::new(),
                mem: None,
            });
        }
        let store = Store::Dir(path.clone());
        let t = oci::read(&store, &sel, "the image layout").map_err(msg)?;
        let d = t.describe();
        return Ok(mem_opened(t, d));
    }
    if !meta.is_file() {
        return Err("not a directory or a regular file".to_string());
    }
    let file = File::open(&path).map_err(msg)?;
    let mut head = [0u8; 8];
    let n = file.take(8).read(&mut head).map_err(msg)?;
    let head = &head[..n];
    let file = File::open(&path).map_err(msg)?;
    if forced.is_none() {
        if let Some(kind) = fsimage::sniff(&file, 0, meta.len()) {
            let mut t = MemTree::new("");
            fsimage::read_fs(&path, 0, meta.len(), kind, &mut t).map_err(msg)?;
            return Ok(mem_opened(t, format!("{} image", kind.name())));
        }
        if fsimage::is_gpt(&file) {
            return open_gpt(&path, opts);
        }
    }
    let compression = Compression::sniff(head);
    let plain_tar = compression == Compression::None && is_tar(&file);
    if forced.is_none() && compression == Compression::None && !plain_tar {
        return Err(
            "not a directory, tar archive (plain, gzip, zstd, xz, bzip2), container image, \
             ext2/3/4, squashfs, EROFS or GPT disk image, or snapshot"
                .to_string(),
        );
    }
    if compression == Compression::None
        && matches!(
            forced,
            None | Some(Forced::OciArchive) | Some(Forced::DockerArchive)
        )
        && let Ok(store) = Store::tar(&path)
        && (forced.is_some() || oci::kind_of(&store).is_some())
    {
        let t = oci::read(&store, &sel, "the archive").map_err(msg)?;
        let d = t.describe();
        return Ok(mem_opened(t, d));
    }
    if matches!(
        forced,
        Some(Forced::Oci | Forced::OciArchive | Forced::DockerArchive)
    ) {
        return Err(format!(
            "a {} container image archive: decompress it first (the blobs are read in place)",
            compression.name()
        ));
    }
    let limit = archive::decompressed_limit(meta.len());
    let (dec, c) = archive::decompress(file, limit).map_err(msg)?;
    let mut t = MemTree::new("");
    let snap = archive::read_tar(dec, &mut t, Mode::Rootfs).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("truncated or corrupt archive ({e})"),
        // A budget of the in-memory tree: the archive may be well formed.
        io::ErrorKind::QuotaExceeded => e.to_string(),
        _ => format!("corrupt archive: {e}"),
    })?;
    if forced == Some(Forced::Snapshot) && snap.is_none() {
        return Err("not a unitdiff snapshot (no .unitdiff-snapshot.json first)".to_string());
    }
    if let Some(m) = snap {
        return Ok(mem_opened(
            t,
            format!(
                "snapshot of {}, {}, {}",
                m.source,
                m.tool,
                m.digest.get(..19).unwrap_or(&m.digest)
            ),
        ));
    }
    let at_root = |n: &str| t.lstat(&ImagePath::new(n)).ok().flatten();
    if forced.is_none()
        && (at_root("/oci-layout").is_some() || at_root("/manifest.json").is_some())
        && at_root("/etc").is_none()
        && at_root("/usr").is_none()
    {
        return Err(format!(
            "a {} container image archive: decompress it first (the blobs are read in place)",
            c.name()
        ));
    }
    // Files the loader reads that the archive's names did not say to keep (a unit linked
    // to a file of another name, a unit hard-linked to one): a second pass reads them.
    let need = t.unkept_reads();
    if !need.is_empty() {
        let file = File::open(&path).map_err(msg)?;
        let (dec, _) = archive::decompress(file, limit).map_err(msg)?;
        archive::fill_from_tar(dec, &mut t, &need).map_err(|e| match e.kind() {
            io::ErrorKind::QuotaExceeded => e.to_string(),
            _ => format!("corrupt archive (read a second time): {e}"),
        })?;
    }
    Ok(mem_opened(t, format!("tar archive, {}", c.name())))
}

/// `ustar` magic at 257, or an old-style header whose checksum is right.
fn is_tar(f: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let mut block = [0u8; 512];
    if f.read_exact_at(&mut block, 0).is_err() {
        return false;
    }
    if &block[257..262] == b"ustar" {
        return true;
    }
    let h = tar::Header::from_byte_slice(&block);
    h.cksum().is_ok_and(|c| {
        let sum: u32 = block
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    b as u32
                }
            })
            .sum();
        c == sum && block[0] != 0
    })
}

fn has_units(t: &MemTree) -> bool {
    [
        "/etc/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system",
    ]
    .iter()
    .any(|d| super::stat(t, &ImagePath::new(d)).is_ok_and(|(_, k)| k == Some(NodeKind::Dir)))
}

/// Most partitions of a GPT disk read while looking for the one holding the unit
/// directories (a disk has a root, maybe `/usr`, `/home`, `/var`, an A/B pair: a handful).
pub const MAX_PROBED_PARTITIONS: usize = 8;
/// Most partitions named in an error's listing.
const MAX_LISTED_PARTITIONS: usize = 16;

/// The partition `--partition want` names: the one numbered `want` when there is one
/// (numbers from 1 in table order, as `/dev/sdaN`, sfdisk and systemd-dissect give them);
/// otherwise the one labelled `want`, which must be the only one so labelled. With it, when
/// a number chose, the first partition whose label is that number, which it hides.
fn choose_partition<'a>(
    parts: &'a [fsimage::Partition],
    want: &str,
) -> Result<(&'a fsimage::Partition, Option<&'a fsimage::Partition>), String> {
    let labelled: Vec<&fsimage::Partition> = parts.iter().filter(|p| p.label == want).collect();
    if let Some(p) = parts.iter().find(|p| p.number.to_string() == want) {
        let hidden = labelled.into_iter().find(|q| q.number != p.number);
        return Ok((p, hidden));
    }
    match labelled[..] {
        [] => Err(format!("no partition numbered or labelled {want:?}")),
        [p] => Ok((p, None)),
        [..] => Err(format!(
            "{} partitions are labelled {want:?} ({}): choose one by its number",
            labelled.len(),
            labelled
                .iter()
                .take(MAX_LISTED_PARTITIONS)
                .map(|p| p.number.to_string())
                .collect::<Vec<_>>()
                .join(", ")
                + if labelled.len() > MAX_LISTED_PARTITIONS {
                    ", …"
                } else {
                    ""
                }
        )),
    }
}

fn open_gpt(path: &Path, opts: &InputOptions) -> Result<Opened, String> {
    let parts = fsimage::partitions(path).map_err(msg)?;
    let mut listing = parts
        .iter()
        .take(MAX_LISTED_PARTITIONS)
        .map(|p| {
            let fs = match p.fs {
                Some(k) => k.name(),
                None if p.size == 0 => "empty",
                None => "unknown filesystem",
            };
            format!("{} {:?} ({fs})", p.number, p.label)
        })
        .collect::<Vec<_>>()
        .join("; ");
    if parts.len() > MAX_LISTED_PARTITIONS {
        listing += &format!("; and {} more", parts.len() - MAX_LISTED_PARTITIONS);
    }
    let describe = |p: &fsimage::Partition, how: &str| {
        format!(
            "GPT disk, partition {} {:?} ({}{how})",
            p.number,
            p.label,
            p.fs.map_or("?", FsKind::name)
        )
    };
    if let Some(want) = &opts.partition {
        let (p, hidden) = choose_partition(&parts, want)
            .map_err(|why| format!("{why}; partitions: {listing}"))?;
        if p.size == 0 {
            return Err(format!(
                "partition {} has no bytes in the image (its table entry ends before it \
                 starts, or starts past the end of the image); partitions: {listing}",
                p.number
            ));
        }
        let kind = p.fs.ok_or_else(|| {
            format!(
                "partition {} has no filesystem unitdiff reads; partitions: {listing}",
                p.number
            )
        })?;
        let mut t = MemTree::new("");
        fsimage::read_fs(path, p.offset, p.size, kind, &mut t).map_err(msg)?;
        if let Some(h) = hidden {
            t.warn(format!(
                "--partition {want}: partition number {want} read; partition {} is labelled \
                 {want:?} (choose it with --partition {})",
                h.number, h.number
            ));
        }
        return Ok(mem_opened(t, describe(p, "")));
    }
    // Looking through the partitions is one input's work: a partition of no bytes (which
    // `partitions` gives no filesystem) is not read, nor one whose bytes overlap one
    // already read; at most MAX_PROBED_PARTITIONS are read, and all of them share one
    // budget of entries. Each is read within its own bytes only.
    let mut tried: Vec<&fsimage::Partition> = Vec::new();
    let mut entries_left = super::mem::MAX_ENTRIES;
    let mut overlapping = 0;
    for p in &parts {
        let Some(kind) = p.fs.filter(|k| *k != FsKind::Btrfs && p.size > 0) else {
            continue;
        };
        if tried.iter().any(|q| q.overlaps(p)) {
            overlapping += 1;
            continue;
        }
        if tried.len() == MAX_PROBED_PARTITIONS {
            return Err(format!(
                "more than {MAX_PROBED_PARTITIONS} partitions to look through for the unit \
                 directories; choose one with --partition: {listing}"
            ));
        }
        tried.push(p);
        let mut t = MemTree::with_entry_limit("", entries_left);
        match fsimage::read_fs(path, p.offset, p.size, kind, &mut t) {
            Ok(()) if has_units(&t) => {
                return Ok(mem_opened(
                    t,
                    describe(p, ", the partition holding the unit directories"),
                ));
            }
            Ok(()) => {}
            Err(e) if t.is_full_error(&e) => {
                return Err(format!(
                    "the partitions looked through for the unit directories hold more than {} \
                     entries together (partition {} {:?} is past it); choose one with \
                     --partition: {listing}",
                    super::mem::MAX_ENTRIES,
                    p.number,
                    p.label
                ));
            }
            // A partition that cannot be read is not the one.
            Err(_) => {}
        }
        entries_left = entries_left.saturating_sub(t.entries());
    }
    let skipped = match overlapping {
        0 => String::new(),
        1 => " (1 partition overlapping one already read was not read)".to_string(),
        n => format!(" ({n} partitions overlapping one already read were not read)"),
    };
    Err(format!(
        "no partition holds systemd unit directories{skipped}; choose one with --partition: \
         {listing}"
    ))
}
