//! Raw filesystem images (ext2/3/4, squashfs, EROFS) and GPT disk images, read with
//! pure-Rust readers without mounting anything, into a [`MemTree`].
//!
//! Each reader walks the whole directory tree once (metadata of every entry; contents only
//! of the files the loader reads), depth at most [`MAX_DEPTH`], entries bounded as in
//! [`super::mem`]. A directory reached twice (a cycle or a directory hard link, which only
//! a corrupt image has) is an error: ext2/3/4 tells it by inode number, EROFS by the
//! ancestors' inodes. A filesystem image may be a byte range of a larger file (a GPT
//! partition): its magic is looked for, and every read of its reader made, inside that
//! range only, never in the rest of the disk.

use super::ImagePath;
use super::mem::{self, Entry, MemTree};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// Deepest directory nesting walked (a corrupt image may loop).
pub const MAX_DEPTH: usize = 128;
/// The inode of an ext2/3/4 root directory.
const EXT_ROOT_INODE: u32 = 2;

/// A filesystem format, told by its superblock magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsKind {
    Ext,
    Squashfs,
    Erofs,
    Btrfs,
}

impl FsKind {
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Ext => "ext2/3/4",
            FsKind::Squashfs => "squashfs",
            FsKind::Erofs => "EROFS",
            FsKind::Btrfs => "btrfs",
        }
    }
}

fn read_at(f: &File, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    match f.read_at(&mut buf, offset) {
        Ok(n) => buf.truncate(n),
        Err(_) => buf.clear(),
    }
    buf
}

/// The filesystem in the `size` bytes at `offset` in `f`, if its magic is known (and lies
/// inside them).
pub fn sniff(f: &File, offset: u64, size: u64) -> Option<FsKind> {
    let magic = |at: u64, m: &[u8]| {
        at.saturating_add(m.len() as u64) <= size
            && read_at(f, offset.saturating_add(at), m.len()) == m
    };
    if magic(0, b"hsqs") {
        return Some(FsKind::Squashfs);
    }
    if magic(1080, &[0x53, 0xef]) {
        return Some(FsKind::Ext);
    }
    if magic(1024, &[0xe2, 0xe1, 0xf5, 0xe0]) {
        return Some(FsKind::Erofs);
    }
    if magic(0x10040, b"_BHRfS_M") {
        return Some(FsKind::Btrfs);
    }
    None
}

/// Whether `f` holds a GPT partition table (`EFI PART` at 512 or 4096).
pub fn is_gpt(f: &File) -> bool {
    read_at(f, 512, 8) == b"EFI PART" || read_at(f, 4096, 8) == b"EFI PART"
}

/// Read the filesystem of kind `kind` in the `size` bytes at `offset` in `path` (the whole
/// file, or a partition of a disk) into `tree`. Nothing outside those bytes is read: a
/// filesystem that needs more is a corrupt image.
pub fn read_fs(
    path: &Path,
    offset: u64,
    size: u64,
    kind: FsKind,
    tree: &mut MemTree,
) -> io::Result<()> {
    let range = Range {
        file: File::open(path)?,
        offset,
        size,
    };
    match kind {
        FsKind::Ext => read_ext(range, tree),
        FsKind::Squashfs => read_squashfs(range, tree),
        FsKind::Erofs => read_erofs(range, tree),
        FsKind::Btrfs => Err(io::Error::other(
            "btrfs images are not supported yet; mount it read-only (or extract it) and pass the directory",
        )),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt {what} image: {e}"),
    )
}

/// The `size` bytes at `offset` in `file`: a filesystem image, or one partition of a disk.
/// The readers see only them: ext2/3/4 and squashfs read through [`Range::read_exact_at`]
/// and [`Range::read_at`], which never read outside them; EROFS maps exactly them.
struct Range {
    file: File,
    offset: u64,
    size: u64,
}

impl Range {
    /// Fill `dst` from `at` bytes into the range; an error if that runs past its end.
    fn read_exact_at(&self, dst: &mut [u8], at: u64) -> io::Result<()> {
        if at
            .checked_add(dst.len() as u64)
            .is_none_or(|end| end > self.size)
        {
            return Err(past_end(at, dst.len(), self.size));
        }
        self.file.read_exact_at(dst, self.offset.saturating_add(at))
    }

    /// Read up to `dst.len()` bytes from `at` bytes into the range (0 at or past its end).
    fn read_at(&self, dst: &mut [u8], at: u64) -> io::Result<usize> {
        let left = self.size.saturating_sub(at);
        let n = dst.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(0);
        }
        self.file
            .read_at(&mut dst[..n], self.offset.saturating_add(at))
    }
}

fn past_end(at: u64, len: usize, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!(
            "a read of {len} bytes at byte {at} runs past the {size} bytes of the filesystem \
             (the image, or its partition)"
        ),
    )
}

/// `Ext4Read` over a [`Range`].
impl ext4_view::Ext4Read for Range {
    fn read(
        &mut self,
        start: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        self.read_exact_at(dst, start).map_err(|e| Box::new(e) as _)
    }
}

/// A [`Range`] as a stream (for backhand): positions are from the range's start, and it
/// ends at the range's end.
struct RangeReader {
    range: Range,
    pos: u64,
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.range.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for RangeReader {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let pos = match to {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => self.range.size.checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

fn keep(path: &ImagePath, size: u64, read: impl FnOnce() -> io::Result<Vec<u8>>) -> Entry {
    let data = if mem::wanted(path.as_str(), size) {
        read().ok().map(Arc::from)
    } else {
        None
    };
    Entry::File { size, data }
}

/// Give the files the walk did not keep and the loader reads ([`MemTree::unkept_reads`]:
/// a unit linked to a file of another name) the contents `read` finds at their input path.
fn fill_unkept(
    tree: &mut MemTree,
    need: &BTreeMap<ImagePath, Vec<ImagePath>>,
    src: &ImagePath,
    read: impl FnOnce() -> io::Result<Vec<u8>>,
) -> io::Result<()> {
    let Some(to) = need.get(src) else {
        return Ok(());
    };
    match read() {
        Ok(data) if data.len() as u64 <= super::MAX_FILE_SIZE => {
            let data: Arc<[u8]> = Arc::from(data);
            for p in to {
                tree.fill(p, data.clone())?;
            }
        }
        Ok(_) => {}
        Err(e) => tree.warn(format!("{src}: {e}; contents not read")),
    }
    Ok(())
}

fn read_ext(range: Range, tree: &mut MemTree) -> io::Result<()> {
    let fs = ext4_view::Ext4::load(Box::new(range)).map_err(|e| corrupt("ext2/3/4", e))?;
    let mut stack: Vec<(ext4_view::PathBuf, ImagePath, usize)> =
        vec![(ext4_view::PathBuf::new("/"), ImagePath::root(), 0)];
    // Each directory's inode and where it was met first. ext2/3/4 has no directory hard
    // links, so a directory inode met twice is a corrupt (or hostile) image; walking it as a
    // tree would list it again under every name, exponentially.
    let mut dirs: HashMap<u32, ImagePath> = HashMap::from([(EXT_ROOT_INODE, ImagePath::root())]);
    while let Some((dir, ipath, depth)) = stack.pop() {
        if depth >= MAX_DEPTH {
            tree.warn(format!("{ipath}: nested too deeply; not read further"));
            continue;
        }
        let rd = match fs.read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                tree.warn(format!("{ipath}: cannot list directory: {e}"));
                continue;
            }
        };
        for ent in rd {
            let ent = ent.map_err(|e| corrupt("ext2/3/4", e))?;
            let raw = ent.file_name();
            let name = match raw.as_str() {
                Ok(name) => name.to_string(),
                // Not UTF-8: kept under its lossy name only as a drop-in (as
                // `archive::sanitise` does); read by its entry's own path.
                Err(_) if AsRef::<[u8]>::as_ref(&raw).ends_with(b".conf") => {
                    String::from_utf8_lossy(raw.as_ref()).into_owned()
                }
                Err(_) => continue,
            };
            if name == "." || name == ".." {
                continue;
            }
            let child = ipath.join(&name);
            let epath = ent.path();
            let ft = match ent.file_type() {
                Ok(ft) => ft,
                Err(e) => {
                    tree.warn(format!("{child}: {e}; skipped"));
                    continue;
                }
            };
            let entry = if ft.is_dir() {
                if let Some(first) = dirs.get(&ent.inode()) {
                    return Err(corrupt(
                        "ext2/3/4",
                        if child.starts_with(first) {
                            format!("directory cycle: {child} is {first} again")
                        } else {
                            format!("directory hard link: {child} is {first} again")
                        },
                    ));
                }
                dirs.insert(ent.inode(), child.clone());
                stack.push((epath, child.clone(), depth + 1));
                Entry::Dir
            } else if ft.is_symlink() {
                match fs.read_link(&epath) {
                    Ok(t) => match t.to_str() {
                        Ok(t) if t.len() <= mem::MAX_PATH => Entry::Symlink(t.to_string()),
                        _ => continue,
                    },
                    Err(e) => {
                        tree.warn(format!("{child}: {e}; skipped"));
                        continue;
                    }
                }
            } else if ft.is_regular_file() {
                let size = ent.metadata().map(|m| m.len()).unwrap_or(0);
                keep(&child, size, || {
                    fs.read(&epath).map_err(|e| corrupt("ext2/3/4", e))
                })
            } else if ft.is_char_dev() {
                Entry::CharDevice
            } else {
                Entry::Special
            };
            tree.insert(&child, entry)?;
        }
    }
    let need = tree.unkept_reads();
    for src in need.keys() {
        fill_unkept(tree, &need, src, || {
            fs.read(src.as_str()).map_err(|e| corrupt("ext2/3/4", e))
        })?;
    }
    Ok(())
}

fn read_squashfs(range: Range, tree: &mut MemTree) -> io::Result<()> {
    use backhand::InnerNode;
    let r = BufReader::new(RangeReader { range, pos: 0 });
    let fs = backhand::FilesystemReader::from_reader_with_offset(r, 0)
        .map_err(|e| corrupt("squashfs", e))?;
    for node in fs.files() {
        let p = std::os::unix::ffi::OsStrExt::as_bytes(node.fullpath.as_os_str());
        let Ok(Some(ipath)) = super::archive::sanitise(p) else {
            continue;
        };
        if ipath.components().count() > MAX_DEPTH {
            continue;
        }
        let entry = match &node.inner {
            InnerNode::Dir(_) => Entry::Dir,
            InnerNode::File(f) => {
                let size = f.file_len() as u64;
                keep(&ipath, size, || {
                    let mut buf = Vec::new();
                    fs.file(f)
                        .reader()
                        .take(size)
                        .read_to_end(&mut buf)
                        .map(|_| buf)
                })
            }
            InnerNode::Symlink(s) => match s.link.to_str() {
                Some(t) if t.len() <= mem::MAX_PATH => Entry::Symlink(t.to_string()),
                _ => continue,
            },
            InnerNode::CharacterDevice(_) => Entry::CharDevice,
            _ => Entry::Special,
        };
        tree.insert(&ipath, entry)?;
    }
    let need = tree.unkept_reads();
    if need.is_empty() {
        return Ok(());
    }
    for node in fs.files() {
        let (InnerNode::File(f), Some(p)) = (&node.inner, node.fullpath.to_str()) else {
            continue;
        };
        let Ok(Some(ipath)) = super::archive::sanitise(p.as_bytes()) else {
            continue;
        };
        let size = (f.file_len() as u64).min(super::MAX_FILE_SIZE + 1);
        fill_unkept(tree, &need, &ipath, || {
            let mut buf = Vec::new();
            fs.file(f)
                .reader()
                .take(size)
                .read_to_end(&mut buf)
                .map(|_| buf)
        })?;
    }
    Ok(())
}

/// An EROFS image seen through a read-only memory map: the bytes `start..end` of it.
struct MapAt {
    map: memmap2::Mmap,
    start: usize,
    end: usize,
}

impl MapAt {
    fn data(&self) -> &[u8] {
        self.map.get(self.start..self.end).unwrap_or(&[])
    }
}

impl erofs_rs::backend::Image for MapAt {
    fn get<R: std::ops::RangeBounds<u64>>(&self, range: R) -> Option<&[u8]> {
        use std::ops::Bound::*;
        let data = self.data();
        let start = match range.start_bound() {
            Included(&s) => s,
            Excluded(&s) => s.checked_add(1)?,
            Unbounded => 0,
        };
        let end = match range.end_bound() {
            Included(&e) => e.checked_add(1)?,
            Excluded(&e) => e,
            Unbounded => data.len() as u64,
        };
        data.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
    }

    fn len(&self) -> u64 {
        self.data().len() as u64
    }
}

/// Every entry of an EROFS image (at most [`MAX_DEPTH`] deep) with its path in the tree;
/// entries whose names cannot be one are skipped.
fn erofs_walk<I: erofs_rs::backend::Image>(
    fs: &erofs_rs::EroFS<I>,
) -> io::Result<impl Iterator<Item = io::Result<(ImagePath, erofs_rs::WalkDirEntry)>> + '_> {
    let walk = fs
        .walk_dir("/")
        .map_err(|e| corrupt("EROFS", e))?
        .max_depth(MAX_DEPTH);
    Ok(walk.filter_map(|ent| match ent {
        Err(e) => Some(Err(corrupt("EROFS", e))),
        Ok(ent) => match super::archive::sanitise(ent.dir_entry.path().as_bytes()) {
            Ok(Some(ipath)) => Some(Ok((ipath, ent))),
            _ => None,
        },
    }))
}

fn read_erofs(range: Range, tree: &mut MemTree) -> io::Result<()> {
    // SAFETY: the map is read-only and private; the image file is the user's input. A
    // file truncated while we read it would fault, which the caller accepts for images.
    let map = unsafe { memmap2::Mmap::map(&range.file)? };
    let start = usize::try_from(range.offset).map_err(io::Error::other)?;
    let end = range
        .offset
        .checked_add(range.size)
        .and_then(|e| usize::try_from(e).ok())
        .ok_or_else(|| io::Error::other("partition past the addressable range"))?;
    let image = MapAt { map, start, end };
    let fs = erofs_rs::EroFS::new(image).map_err(|e| corrupt("EROFS", e))?;
    for ent in erofs_walk(&fs)? {
        let (ipath, ent) = ent?;
        let inode = &ent.inode;
        let entry = if inode.is_dir() {
            Entry::Dir
        } else if inode.is_symlink() {
            match fs.read_link_inode(*inode) {
                Ok(t) => match std::str::from_utf8(t.as_bytes()) {
                    Ok(t) if t.len() <= mem::MAX_PATH => Entry::Symlink(t.to_string()),
                    _ => continue,
                },
                Err(e) => {
                    tree.warn(format!("{ipath}: {e}; skipped"));
                    continue;
                }
            }
        } else if inode.is_file() {
            let size = inode.data_size();
            keep(&ipath, size, || {
                let mut buf = Vec::new();
                fs.open_inode_file(*inode)
                    .map_err(|e| corrupt("EROFS", e))?
                    .take(size)
                    .read_to_end(&mut buf)?;
                Ok(buf)
            })
        } else if ent.dir_entry.file_type() == erofs_rs::types::DirentFileType::CharacterDevice {
            Entry::CharDevice
        } else {
            Entry::Special
        };
        tree.insert(&ipath, entry)?;
    }
    let need = tree.unkept_reads();
    if need.is_empty() {
        return Ok(());
    }
    for ent in erofs_walk(&fs)? {
        let (ipath, ent) = ent?;
        let inode = &ent.inode;
        if !inode.is_file() {
            continue;
        }
        let size = inode.data_size().min(super::MAX_FILE_SIZE + 1);
        fill_unkept(tree, &need, &ipath, || {
            let mut buf = Vec::new();
            fs.open_inode_file(*inode)
                .map_err(|e| corrupt("EROFS", e))?
                .take(size)
                .read_to_end(&mut buf)?;
            Ok(buf)
        })?;
    }
    Ok(())
}

/// A partition of a GPT disk.
#[derive(Clone, Debug)]
pub struct Partition {
    /// 1-based, as `/dev/sdaN` numbers it.
    pub number: u32,
    pub label: String,
    pub offset: u64,
    /// Bytes, as the table says (the last LBA included; cut at the end of the image): 0
    /// for an entry that ends before it starts or starts past the end of the image. Its
    /// filesystem is read within these bytes only.
    pub size: u64,
    pub fs: Option<FsKind>,
}

impl Partition {
    /// Whether the byte ranges of `self` and `other` meet.
    pub fn overlaps(&self, other: &Partition) -> bool {
        self.offset < other.offset.saturating_add(other.size)
            && other.offset < self.offset.saturating_add(self.size)
    }
}

/// Most partition entries a GPT header may declare (the UEFI minimum is 128; partitioning
/// tools allow a few thousand). gptman allocates what the header declares before reading.
const MAX_GPT_ENTRIES: u32 = 4096;

/// Check what gptman trusts in a GPT header before it reads one: the number of partition
/// entries (it allocates for all of them) and their size (it supports only 128 bytes and
/// asserts it). Headers are looked for at LBA 1 of 512- and 4096-byte sectors, as gptman
/// does.
fn check_gpt_header(f: &File) -> io::Result<()> {
    for sector in [512u64, 4096] {
        let mut h = [0u8; 92];
        if f.read_exact_at(&mut h, sector).is_err() || &h[..8] != b"EFI PART" {
            continue;
        }
        let word = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
        let (entries, entry_size) = (word(80), word(84));
        if entries > MAX_GPT_ENTRIES {
            return Err(corrupt(
                "GPT disk",
                format!(
                    "the header declares {entries} partition entries (at most {MAX_GPT_ENTRIES} read)"
                ),
            ));
        }
        if entry_size != 128 {
            return Err(corrupt(
                "GPT disk",
                format!("partition entries of {entry_size} bytes are not supported (128)"),
            ));
        }
    }
    Ok(())
}

/// The used partitions of the GPT disk image `path`.
pub fn partitions(path: &Path) -> io::Result<Vec<Partition>> {
    let mut f = File::open(path)?;
    check_gpt_header(&f)?;
    let gpt = gptman::GPT::find_from(&mut f).map_err(|e| corrupt("GPT disk", e))?;
    let len = f.metadata()?.len();
    let mut out = Vec::new();
    for (n, p) in gpt.iter() {
        if !p.is_used() {
            continue;
        }
        let offset = p.starting_lba.saturating_mul(gpt.sector_size).min(len);
        let end = p
            .ending_lba
            .saturating_add(1)
            .saturating_mul(gpt.sector_size)
            .min(len);
        let size = end.saturating_sub(offset);
        out.push(Partition {
            number: n,
            label: p.partition_name.as_str().to_string(),
            offset,
            size,
            fs: if size == 0 {
                None
            } else {
                sniff(&f, offset, size)
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GPT header at LBA 1 (512-byte sectors) declaring `entries` entries of
    /// `entry_size` bytes; nothing else of the disk is valid.
    fn disk(entries: u32, entry_size: u32) -> tempfile::NamedTempFile {
        let mut d = vec![0u8; 64 * 1024];
        d[512..520].copy_from_slice(b"EFI PART");
        d[512 + 80..512 + 84].copy_from_slice(&entries.to_le_bytes());
        d[512 + 84..512 + 88].copy_from_slice(&entry_size.to_le_bytes());
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), d).unwrap();
        f
    }

    /// A filesystem inside a larger file (a partition) is seen through its own bytes only:
    /// its magic must lie inside them, and every reader stops at their end.
    #[test]
    fn a_range_is_read_within_its_bytes() {
        use erofs_rs::backend::Image;
        use std::io::Seek;
        let mut d = vec![0u8; 16 * 1024];
        d[4096..4100].copy_from_slice(b"hsqs");
        d[8192 + 1080..8192 + 1082].copy_from_slice(&[0x53, 0xef]);
        d[8192 + 4096..].fill(b'x');
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &d).unwrap();
        let file = f.reopen().unwrap();
        assert_eq!(sniff(&file, 4096, 4), Some(FsKind::Squashfs));
        assert_eq!(sniff(&file, 4096, 3), None);
        assert_eq!(sniff(&file, 8192, 1082), Some(FsKind::Ext));
        assert_eq!(sniff(&file, 8192, 1081), None);
        assert_eq!(sniff(&file, 8192, 0), None);

        let range = Range {
            file: f.reopen().unwrap(),
            offset: 8192,
            size: 4096,
        };
        let mut buf = [0u8; 16];
        range.read_exact_at(&mut buf, 4080).unwrap();
        let err = range.read_exact_at(&mut buf, 4081).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(range.read_exact_at(&mut buf, u64::MAX).is_err());
        // As a stream: it ends at the range's end, whatever follows in the file.
        let mut r = RangeReader { range, pos: 0 };
        r.seek(io::SeekFrom::End(-10)).unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, [0u8; 10]);
        assert_eq!(r.seek(io::SeekFrom::Start(1 << 40)).unwrap(), 1 << 40);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(r.seek(io::SeekFrom::Current(-(1 << 41))).is_err());
        // The EROFS map likewise.
        // SAFETY: a private read-only map of the test's own file, not changed meanwhile.
        let map = unsafe { memmap2::Mmap::map(&file).unwrap() };
        let m = MapAt {
            map,
            start: 8192,
            end: 8192 + 4096,
        };
        assert_eq!(m.len(), 4096);
        assert!(m.get(4000..4096).is_some());
        assert!(m.get(4000..4097).is_none());
        assert!(m.get(4096..).is_some_and(|b| b.is_empty()));
    }

    /// gptman allocates what a header declares and asserts 128-byte entries: an attack
    /// round's headers made it abort (4,294,967,295 entries) or panic (256-byte entries).
    #[test]
    fn gpt_headers_are_checked_before_gptman_reads_them() {
        for (entries, size, want) in [
            (u32::MAX, 128, "declares 4294967295 partition entries"),
            (50_000_000, 128, "declares 50000000 partition entries"),
            (128, 256, "entries of 256 bytes are not supported"),
        ] {
            let f = disk(entries, size);
            let err = partitions(f.path()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert!(err.to_string().contains(want), "{err}");
        }
        // A plausible header passes the check and is gptman's to judge (its CRC is wrong).
        let err = partitions(disk(128, 128).path()).unwrap_err();
        assert!(!err.to_string().contains("declares"), "{err}");
    }
}
