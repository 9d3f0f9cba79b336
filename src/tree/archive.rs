//! Tar archives, plain or compressed, streamed into a [`MemTree`] without touching the disk.
//!
//! The compression is recognised from the first bytes (gzip `1f 8b`, zstd `28 b5 2f fd`,
//! xz `fd 37 7a 58 5a 00`, bzip2 `BZh`), never from the file name. Entries are read once,
//! in order, with the `tar` crate (PAX headers, GNU long names); only the contents of files
//! the loader reads ([`super::mem::wanted`]) are kept. Entry names are made safe: leading
//! `/` and `./` are stripped, names with a `..` component are skipped with a warning.
//! Image layers additionally honour whiteouts (`.wh.NAME`) and opaque directories
//! (`.wh..wh..opq`) as the OCI image-spec says: they apply to lower layers only, before
//! the layer's own entries, whatever their order in the tar.
//!
//! Limits per input (all stated in docs/inputs.md): decompressed bytes at most
//! max(1 GiB, 250 × the compressed size), capped at [`MAX_DECOMPRESSED_CAP`], one
//! [`Allowance`] for all the layers of an image together; entries,
//! kept bytes and path lengths as in [`super::mem`].

use super::ImagePath;
use super::mem::{self, Entry, MemTree};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

/// Hard cap on decompressed bytes read from one input.
pub const MAX_DECOMPRESSED_CAP: u64 = 64 * 1024 * 1024 * 1024;
/// Smallest decompression allowance (small archives may compress very well).
pub const MIN_DECOMPRESSED: u64 = 1024 * 1024 * 1024;
/// Allowed decompressed bytes per compressed byte above the minimum.
pub const MAX_RATIO: u64 = 250;
/// Memory an xz stream may use for its dictionary (xz -9 needs 64 MiB).
const XZ_MEM_LIMIT_KB: u32 = 256 * 1024;
/// Largest zstd window accepted (zstd --long=27 uses 128 MiB).
const ZSTD_MAX_WINDOW: u64 = 128 * 1024 * 1024;

/// The allowance of decompressed bytes for an input of `compressed` bytes.
pub fn decompressed_limit(compressed: u64) -> u64 {
    compressed
        .saturating_mul(MAX_RATIO)
        .clamp(MIN_DECOMPRESSED, MAX_DECOMPRESSED_CAP)
}

/// A compression format, told by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// An allowance of decompressed bytes for one input, shared by every stream read from it
/// (the layers of a container image draw on one allowance, so an image cannot multiply it by
/// listing a layer many times).
#[derive(Debug)]
pub struct Allowance {
    limit: std::cell::Cell<u64>,
    used: std::cell::Cell<u64>,
    /// How the limit is described in the error (`""`, or ` in all layers together`).
    scope: &'static str,
}

impl Allowance {
    /// An allowance of `limit` bytes for a single stream.
    pub fn new(limit: u64) -> Self {
        Allowance {
            limit: std::cell::Cell::new(limit),
            used: std::cell::Cell::new(0),
            scope: "",
        }
    }

    /// An allowance of `limit` bytes shared by several streams (the layers of an image).
    pub fn shared(limit: u64) -> Self {
        Allowance {
            scope: " in all layers together",
            ..Allowance::new(limit)
        }
    }

    /// Raise the limit to `limit` (never lowers it).
    pub fn raise_to(&self, limit: u64) {
        self.limit.set(self.limit.get().max(limit));
    }

    /// Decompressed bytes read so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    pub fn limit(&self) -> u64 {
        self.limit.get()
    }

    fn take(&self, n: u64) -> io::Result<()> {
        let used = self.used.get().saturating_add(n);
        if used > self.limit.get() {
            return Err(io::Error::other(format!(
                "more than {} bytes after decompression{}; refusing to read further (a compression bomb?)",
                self.limit.get(),
                self.scope
            )));
        }
        self.used.set(used);
        Ok(())
    }
}

/// Stops with an error once the allowance is used up.
struct Limited<R, A> {
    inner: R,
    allowance: A,
}

impl<R: Read, A: std::borrow::Borrow<Allowance>> Read for Limited<R, A> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.allowance.borrow().take(n as u64)?;
        Ok(n)
    }
}

/// zstd streams made of several frames (pzstd, concatenated files) decode frame after frame.
struct ZstdFrames<R: BufRead> {
    dec: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

fn zstd_frame<R: BufRead>(
    r: R,
) -> io::Result<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>> {
    ruzstd::decoding::StreamingDecoder::new_with_max_window_size(r, ZSTD_MAX_WINDOW)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(dec) = self.dec.as_mut() else {
                return Ok(0);
            };
            let n = dec.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let mut inner = self.dec.take().map(|d| d.into_inner()).expect("decoder");
            if inner.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.dec = Some(zstd_frame(inner)?);
        }
    }
}

/// Wrap `r` in the decompressor its first bytes call for, with the decompressed-size
/// limit. Returns the reader and the compression found.
pub fn decompress<'a, R: Read + 'a>(
    r: R,
    limit: u64,
) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let (inner, c) = decompressor(r)?;
    Ok((
        Box::new(Limited {
            inner,
            allowance: Allowance::new(limit),
        }),
        c,
    ))
}

/// [`decompress`], drawing on an allowance shared with other streams of the same input.
pub fn decompress_within<'a, R: Read + 'a>(
    r: R,
    allowance: &'a Allowance,
) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let (inner, c) = decompressor(r)?;
    Ok((Box::new(Limited { inner, allowance }), c))
}

fn decompressor<'a, R: Read + 'a>(r: R) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let mut br = BufReader::with_capacity(256 * 1024, r);
    let c = Compression::sniff(br.fill_buf()?);
    let inner: Box<dyn Read + 'a> = match c {
        Compression::None => Box::new(br),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(br)),
        Compression::Zstd => Box::new(ZstdFrames {
            dec: Some(zstd_frame(br)?),
        }),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            br,
            true,
            XZ_MEM_LIMIT_KB,
        )),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(br)),
    };
    Ok((inner, c))
}

/// An entry name made safe, or why it was refused. A name that is not UTF-8 is refused
/// (no unit name is), unless only its last component is not and ends in `.conf`: systemd
/// applies a drop-in whatever its name, so it is kept under its lossy name (U+FFFD for
/// each bad byte).
pub fn sanitise(raw: &[u8]) -> Result<Option<ImagePath>, String> {
    let lossy;
    let s = match std::str::from_utf8(raw) {
        Ok(s) => s,
        Err(_) => {
            let dir = raw.iter().rposition(|&b| b == b'/').unwrap_or(0);
            if !raw.ends_with(b".conf") || std::str::from_utf8(&raw[..dir]).is_err() {
                return Err("name is not UTF-8".to_string());
            }
            lossy = String::from_utf8_lossy(raw).into_owned();
            &lossy
        }
    };
    if s.len() > mem::MAX_PATH {
        return Err("name too long".to_string());
    }
    if s.contains('\0') {
        return Err("name contains NUL".to_string());
    }
    if super::components(s).any(|c| c == "..") {
        return Err("name has a `..` component".to_string());
    }
    let p = ImagePath::new(s);
    Ok((!p.is_root()).then_some(p))
}

/// How a tar stream is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A plain root filesystem archive: every entry is a file of the image.
    Rootfs,
    /// An image layer: whiteouts and opaque markers delete from the layers below.
    Layer,
}

/// What a whiteout marker asks for.
enum Marker {
    Whiteout(ImagePath),
    Opaque(ImagePath),
}

const OPAQUE: &str = ".wh..wh..opq";

/// The `UNITDIFF.*` PAX records of a snapshot entry: stored size, layer.
fn snapshot_records<R: Read>(
    e: &mut tar::Entry<'_, R>,
) -> io::Result<(Option<u64>, Option<usize>)> {
    let (mut size, mut layer) = (None, None);
    if let Some(exts) = e.pax_extensions()? {
        for x in exts {
            let x = x?;
            let v = std::str::from_utf8(x.value_bytes()).ok();
            match x.key() {
                Ok(super::snapshot::PAX_SIZE) => size = v.and_then(|v| v.parse().ok()),
                Ok(super::snapshot::PAX_LAYER) => layer = v.and_then(|v| v.parse().ok()),
                _ => {}
            }
        }
    }
    Ok((size, layer))
}

/// Whether the entries a layer holds back (`held` bytes of them, up to `path`) still fit
/// in the tree's memory budget beside what it has.
fn room_for(tree: &MemTree, held: u64, path: &ImagePath) -> io::Result<()> {
    tree.check_room(held).map_err(|e| {
        let shown: String = path.as_str().chars().take(200).collect();
        io::Error::new(e.kind(), format!("at {shown}: {e}"))
    })
}

/// Read one tar stream (already decompressed) into `tree`. Per-entry problems become
/// warnings in `tree`; a broken or truncated archive is an error. A snapshot (first entry
/// `.unitdiff-snapshot.json`) is recognised and its metadata returned.
pub fn read_tar(
    r: impl Read,
    tree: &mut MemTree,
    mode: Mode,
) -> io::Result<Option<super::snapshot::Meta>> {
    let mut ar = tar::Archive::new(r);
    let mut pending: Vec<(ImagePath, Entry)> = Vec::new();
    let mut markers: Vec<Marker> = Vec::new();
    let mut held = 0u64;
    let mut held_data = 0u64;
    let mut count = 0usize;
    let mut snapshot = None;
    for e in ar.entries()? {
        let mut e = e?;
        count += 1;
        if count > mem::MAX_ENTRIES {
            return Err(io::Error::new(
                io::ErrorKind::QuotaExceeded,
                format!("more than {} entries in one archive", mem::MAX_ENTRIES),
            ));
        }
        let (stored_size, layer) = if snapshot.is_some() {
            snapshot_records(&mut e)?
        } else {
            (None, None)
        };
        let raw = e.path_bytes().into_owned();
        if count == 1 && mode == Mode::Rootfs && raw == super::snapshot::META_NAME.as_bytes() {
            let mut buf = Vec::new();
            (&mut e).take(1024 * 1024).read_to_end(&mut buf)?;
            let meta = super::snapshot::parse_meta(&buf)?;
            tree.set_layers(meta.layers.clone());
            snapshot = Some(meta);
            continue;
        }
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let path = match sanitise(&raw) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(why) => {
                tree.warn(format!(
                    "entry {:?}: {why}; skipped",
                    shown.chars().take(200).collect::<String>()
                ));
                continue;
            }
        };
        let ty = e.header().entry_type();
        let name = path.file_name();
        if mode == Mode::Layer && name.starts_with(".wh.") {
            let parent = path.parent().unwrap_or_else(ImagePath::root);
            if !ty.is_file() {
                tree.warn(format!(
                    "{path}: whiteout marker that is not a regular file; skipped"
                ));
            } else if name == OPAQUE {
                held += mem::ENTRY_BYTES + path.as_str().len() as u64;
                room_for(tree, held, &path)?;
                markers.push(Marker::Opaque(parent));
            } else if name.starts_with(".wh..wh.") {
                // Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not part of the image.
            } else {
                let target = &name[4..];
                if target.is_empty() || target == "." || target == ".." {
                    tree.warn(format!("{path}: invalid whiteout name; skipped"));
                } else {
                    held += mem::ENTRY_BYTES + path.as_str().len() as u64;
                    room_for(tree, held, &path)?;
                    markers.push(Marker::Whiteout(parent.join(target)));
                }
            }
            continue;
        }
        let entry = match ty {
            tar::EntryType::Directory => Entry::Dir,
            t if (t.is_file() || t == tar::EntryType::GNUSparse) && stored_size.is_some() => {
                Entry::File {
                    size: stored_size.unwrap_or(0),
                    data: None,
                }
            }
            t if t.is_file() || t == tar::EntryType::GNUSparse => {
                let size = e.size();
                // A snapshot holds contents only of the files the loader reads (whatever
                // their names: a linked unit's target), so it keeps all it holds.
                let data = if (snapshot.is_some() && size <= super::MAX_FILE_SIZE)
                    || mem::wanted(path.as_str(), size)
                {
                    let mut buf = Vec::with_capacity(size as usize);
                    (&mut e).take(size).read_to_end(&mut buf)?;
                    Some(Arc::from(buf))
                } else {
                    None
                };
                Entry::File { size, data }
            }
            tar::EntryType::Symlink => {
                let t = e.link_name_bytes().unwrap_or_default();
                match std::str::from_utf8(&t) {
                    Ok(t) if !t.is_empty() && t.len() <= mem::MAX_PATH && !t.contains('\0') => {
                        Entry::Symlink(t.to_string())
                    }
                    _ => {
                        tree.warn(format!("{path}: symlink target unusable; skipped"));
                        continue;
                    }
                }
            }
            tar::EntryType::Link => {
                let t = e.link_name_bytes().unwrap_or_default();
                match sanitise(&t) {
                    Ok(Some(t)) => Entry::HardLink(t),
                    Ok(None) | Err(_) => {
                        tree.warn(format!(
                            "{path}: hard link pointing outside the archive; skipped"
                        ));
                        continue;
                    }
                }
            }
            tar::EntryType::Char => Entry::CharDevice,
            tar::EntryType::Block | tar::EntryType::Fifo => Entry::Special,
            other => {
                tree.warn(format!("{path}: tar entry type {other:?} ignored"));
                continue;
            }
        };
        match mode {
            Mode::Rootfs => {
                tree.insert(&path, entry)?;
                if let Some(l) = layer {
                    tree.set_layer(&path, l);
                }
            }
            Mode::Layer => {
                // Held until the layer's whiteouts are applied: counted against the tree's
                // memory budgets meanwhile (its metadata, and the contents it keeps).
                let (target, data) = match &entry {
                    Entry::Symlink(t) => (t.len() as u64, 0),
                    Entry::File { data: Some(d), .. } => (0, d.len() as u64),
                    _ => (0, 0),
                };
                held += mem::ENTRY_BYTES + path.as_str().len() as u64 + target;
                room_for(tree, held, &path)?;
                held_data += data;
                if tree.kept_bytes() + held_data > mem::MAX_KEPT_BYTES {
                    return Err(io::Error::new(
                        io::ErrorKind::QuotaExceeded,
                        format!(
                            "at {path}: more than {} bytes of unit files and related files",
                            mem::MAX_KEPT_BYTES
                        ),
                    ));
                }
                pending.push((path, entry))
            }
        }
    }
    // Opaque markers and whiteouts affect only the layers below: apply them first.
    for m in &markers {
        if let Marker::Opaque(p) = m {
            tree.clear_dir(p)?;
        }
    }
    for m in &markers {
        if let Marker::Whiteout(p) = m {
            tree.remove(p)?;
        }
    }
    for (p, e) in pending {
        tree.insert(&p, e)?;
    }
    Ok(snapshot)
}

/// The second pass over a root filesystem archive: read the contents [`MemTree::unkept_reads`]
/// asked for (input path → the tree's paths to fill) from the same archive, read again.
/// The last entry of a path wins, as in the first pass.
pub fn fill_from_tar(
    r: impl Read,
    tree: &mut MemTree,
    need: &BTreeMap<ImagePath, Vec<ImagePath>>,
) -> io::Result<()> {
    let mut ar = tar::Archive::new(r);
    for e in ar.entries()? {
        let mut e = e?;
        let ty = e.header().entry_type();
        if !(ty.is_file() || ty == tar::EntryType::GNUSparse) {
            continue;
        }
        let Ok(Some(path)) = sanitise(&e.path_bytes()) else {
            continue;
        };
        let Some(to) = need.get(&path) else {
            continue;
        };
        let size = e.size();
        if size > super::MAX_FILE_SIZE {
            continue;
        }
        let mut buf = Vec::with_capacity(size as usize);
        (&mut e).take(size).read_to_end(&mut buf)?;
        let data: Arc<[u8]> = Arc::from(buf);
        for p in to {
            tree.fill(p, data.clone())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Tree;

    /// A layer's entries wait for its whiteouts with their contents: those count against
    /// the kept-contents budget while they wait, so five 64 MiB manager binaries in one
    /// layer are refused (exit 2) instead of held (an attack round's 22 MB image of 62 of
    /// them aborted on an allocation).
    #[test]
    fn contents_a_layer_holds_are_budgeted() {
        const SIZE: u64 = 64 * 1024 * 1024;
        let mut parts: Vec<Box<dyn Read>> = Vec::new();
        for i in 0..5 {
            let mut h = tar::Header::new_gnu();
            h.set_path(format!("x{i}/systemd/systemd")).unwrap();
            h.set_size(SIZE);
            h.set_mode(0o755);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            parts.push(Box::new(io::Cursor::new(h.as_bytes().to_vec())));
            parts.push(Box::new(io::repeat(0).take(SIZE)));
        }
        parts.push(Box::new(io::Cursor::new(vec![0u8; 1024])));
        let stream = parts
            .into_iter()
            .reduce(|a, b| Box::new(a.chain(b)))
            .unwrap();
        let mut tree = MemTree::new("layer");
        let err = read_tar(stream, &mut tree, Mode::Layer).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::QuotaExceeded, "{err}");
        assert!(err.to_string().contains("/x4/systemd/systemd"), "{err}");
        // The same entries in a root filesystem archive are refused by the tree itself.
        let mut tree = MemTree::new("rootfs");
        let mut one = tar::Header::new_gnu();
        one.set_path("x0/systemd/systemd").unwrap();
        one.set_size(SIZE);
        one.set_entry_type(tar::EntryType::Regular);
        one.set_cksum();
        let stream = io::Cursor::new(one.as_bytes().to_vec())
            .chain(io::repeat(0).take(SIZE))
            .chain(io::Cursor::new(vec![0u8; 1024]));
        assert!(read_tar(stream, &mut tree, Mode::Rootfs).unwrap().is_none());
        assert_eq!(tree.kept_bytes(), SIZE);
    }

    #[test]
    fn sniffs_and_sanitises() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::sniff(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::sniff(b"usr/"), Compression::None);
        assert_eq!(sanitise(b"./etc/x").unwrap().unwrap().as_str(), "/etc/x");
        assert_eq!(sanitise(b"/etc/x").unwrap().unwrap().as_str(), "/etc/x");
        assert!(sanitise(b"../../x").is_err());
        assert!(sanitise(b"a/../../x").is_err());
        assert_eq!(sanitise(b"./").unwrap(), None);
        assert_eq!(decompressed_limit(10), MIN_DECOMPRESSED);
        assert_eq!(decompressed_limit(u64::MAX), MAX_DECOMPRESSED_CAP);
    }

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, ty, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*ty);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if !link.is_empty() {
                h.set_link_name(link).unwrap();
            }
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_layers_only() {
        use tar::EntryType::*;
        let mut t = MemTree::new("t");
        let lower = tar_of(&[
            ("etc/systemd/system/a.service", Regular, b"[Unit]\n", ""),
            ("etc/systemd/system/b.service", Regular, b"[Unit]\n", ""),
            ("usr/lib/systemd/system/c.service", Regular, b"[Unit]\n", ""),
            ("usr/lib/systemd/system/d.service", Regular, b"[Unit]\n", ""),
        ]);
        read_tar(&lower[..], &mut t, Mode::Layer).unwrap();
        // Upper: the marker comes after the layer's own file, and still only hides the
        // lower ones; `.wh.x` next to a new `x/…` in the same layer keeps the new one.
        let upper = tar_of(&[
            ("usr/lib/systemd/system/e.service", Regular, b"[Unit]\n", ""),
            ("usr/lib/systemd/system/.wh..wh..opq", Regular, b"", ""),
            ("etc/systemd/system/.wh.a.service", Regular, b"", ""),
            ("etc/systemd/system/b.service/x.conf", Regular, b"", ""),
            ("etc/systemd/system/.wh.b.service", Regular, b"", ""),
            ("etc/.wh.", Regular, b"", ""),
            ("etc/.wh.dir", Directory, b"", ""),
        ]);
        read_tar(&upper[..], &mut t, Mode::Layer).unwrap();
        let ls = |p: &str| -> Vec<String> {
            t.read_dir(&ImagePath::new(p))
                .unwrap()
                .into_iter()
                .map(|e| e.0)
                .collect()
        };
        assert_eq!(ls("/usr/lib/systemd/system"), ["e.service"]);
        assert_eq!(ls("/etc/systemd/system"), ["b.service"]);
        assert_eq!(ls("/etc/systemd/system/b.service"), ["x.conf"]);
        assert_eq!(ls("/etc"), ["systemd"]);
        assert_eq!(t.warnings.len(), 2, "{:?}", t.warnings);
    }

    #[test]
    fn hostile_names_and_links_are_skipped() {
        use tar::EntryType::*;
        let mut t = MemTree::new("t");
        let mut raw = tar_of(&[
            ("etc/ok.service", Regular, b"[Unit]\n", ""),
            ("etc/hl.service", Link, b"", "etc/ok.service"),
            ("etc/out.service", Link, b"", "../../etc/passwd"),
            ("etc/fifo", Fifo, b"", ""),
            ("etc/null", Char, b"", ""),
            ("etc/dup.service", Regular, b"one", ""),
            ("etc/dup.service", Regular, b"two", ""),
        ]);
        // `../../x` cannot be written with the Builder's checks: patch the name in place.
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(Regular);
        h.set_size(0);
        h.as_old_mut().name[..7].copy_from_slice(b"../../x");
        h.set_cksum();
        let end = raw.len() - 1024;
        raw.splice(end..end, h.as_bytes().iter().copied());
        read_tar(&raw[..], &mut t, Mode::Rootfs).unwrap();
        let f = |p: &str| t.read_file(&ImagePath::new(p), 100);
        assert_eq!(f("/etc/hl.service").unwrap(), b"[Unit]\n");
        assert!(
            t.lstat(&ImagePath::new("/etc/out.service"))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            t.lstat(&ImagePath::new("/etc/fifo")).unwrap(),
            Some(crate::tree::NodeKind::Special)
        );
        assert_eq!(f("/etc/dup.service").unwrap(), b"two");
        assert!(t.lstat(&ImagePath::new("/x")).unwrap().is_none());
        assert_eq!(t.warnings.len(), 2, "{:?}", t.warnings);
    }

    /// A hard link to a symlink is that symlink again (GNU tar -x links the same inode, a
    /// symlink): a mask hard-linked under a second name masks that unit too. Hard links to
    /// a directory or to nothing stay refused.
    #[test]
    fn a_hard_link_to_a_symlink_is_the_same_symlink() {
        use tar::EntryType::*;
        let mut t = MemTree::new("t");
        let raw = tar_of(&[
            ("etc/systemd/system/", Directory, b"", ""),
            ("etc/systemd/system/foo.service", Symlink, b"", "/dev/null"),
            (
                "etc/systemd/system/bar.service",
                Link,
                b"",
                "etc/systemd/system/foo.service",
            ),
            ("etc/a.service", Regular, b"[Unit]\n", ""),
            ("etc/b.service", Link, b"", "etc/a.service"),
            ("etc/dir.service", Link, b"", "etc/systemd"),
            ("etc/none.service", Link, b"", "etc/missing.service"),
        ]);
        read_tar(&raw[..], &mut t, Mode::Rootfs).unwrap();
        let p = |s: &str| ImagePath::new(s);
        assert_eq!(
            t.lstat(&p("/etc/systemd/system/bar.service")).unwrap(),
            Some(crate::tree::NodeKind::Symlink),
            "{:?}",
            t.warnings
        );
        assert_eq!(
            t.read_link(&p("/etc/systemd/system/bar.service")).unwrap(),
            "/dev/null"
        );
        assert_eq!(t.read_file(&p("/etc/b.service"), 100).unwrap(), b"[Unit]\n");
        assert!(t.lstat(&p("/etc/dir.service")).unwrap().is_none());
        assert!(t.lstat(&p("/etc/none.service")).unwrap().is_none());
        assert_eq!(t.warnings.len(), 2, "{:?}", t.warnings);
        // In an image layer too (its entries wait for the layer's whiteouts).
        let mut t = MemTree::new("layer");
        read_tar(&raw[..], &mut t, Mode::Layer).unwrap();
        assert_eq!(
            t.read_link(&p("/etc/systemd/system/bar.service")).unwrap(),
            "/dev/null"
        );
    }

    #[test]
    fn truncated_archives_are_errors() {
        let raw = tar_of(&[("etc/a.service", tar::EntryType::Regular, &[b'x'; 2000], "")]);
        let mut t = MemTree::new("t");
        assert!(read_tar(&raw[..700], &mut t, Mode::Rootfs).is_err());
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        // 8 MiB of zeros in a gzip stream, read with a 1 MiB allowance.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..8 {
            std::io::Write::write_all(&mut enc, &zeros).unwrap();
        }
        let gz = enc.finish().unwrap();
        let (mut r, c) = decompress(&gz[..], 1024 * 1024).unwrap();
        assert_eq!(c, Compression::Gzip);
        let err = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert!(err.to_string().contains("compression bomb"), "{err}");
    }

    #[test]
    fn streams_of_one_input_share_its_allowance() {
        // Two 600 KiB streams on a 1 MiB allowance: the first is read, the second stops.
        let gz = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut enc, &vec![0u8; 600 * 1024]).unwrap();
            enc.finish().unwrap()
        };
        let a = Allowance::shared(1024 * 1024);
        let (mut r, _) = decompress_within(&gz[..], &a).unwrap();
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert_eq!(a.used(), 600 * 1024);
        let (mut r, _) = decompress_within(&gz[..], &a).unwrap();
        let err = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert!(err.to_string().contains("in all layers together"), "{err}");
        assert!(a.used() <= a.limit());
    }
}
