//! Snapshots: a self-contained, compressed file holding everything of an image that
//! unitdiff reads, loadable wherever a root is accepted.
//!
//! Format (docs/inputs.md): a zstd-compressed tar whose first entry is
//! `.unitdiff-snapshot.json` ([`Meta`]: format version, tool version, source, digest of the
//! rest, image layers). Then every directory, symlink and device node of the image, the
//! contents of every file the loader reads ([`super::mem::wanted`]), and the other files
//! under a `systemd` directory with their size only (a PAX record `UNITDIFF.size`, no data).
//! A PAX record `UNITDIFF.layer` keeps each entry's image layer. Old snapshots stay valid
//! as the loading rules improve: they hold files, not results.

use super::mem::{self, Entry, ImageLayer, MemTree, WalkEntry};
use super::{ImagePath, NodeKind, Tree};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::sync::Arc;

/// Name of the metadata entry (always first).
pub const META_NAME: &str = ".unitdiff-snapshot.json";
/// Format identifier in [`Meta::format`].
pub const FORMAT: &str = "unitdiff-snapshot";
/// PAX key: size of a file stored without its contents.
pub const PAX_SIZE: &str = "UNITDIFF.size";
/// PAX key: image layer (from 1) of an entry.
pub const PAX_LAYER: &str = "UNITDIFF.layer";

/// The snapshot's own description.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub format: String,
    pub version: u32,
    /// `unitdiff X.Y.Z`.
    pub tool: String,
    /// What was read: the path given and what it was.
    pub source: String,
    /// `sha256:` of the uncompressed tar entries after this one.
    pub digest: String,
    #[serde(default)]
    pub layers: Vec<ImageLayer>,
}

/// Copy any tree into memory (directories are walked through the [`Tree`] trait), keeping
/// metadata of every entry and contents of the files the loader reads.
pub fn copy_tree(src: &dyn Tree) -> io::Result<MemTree> {
    let mut out = MemTree::new(src.describe());
    let mut stack = vec![(ImagePath::root(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let entries = match src.read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                out.warn(format!("{dir}: cannot list directory: {e}"));
                continue;
            }
        };
        for (name, kind) in entries {
            let p = dir.join(&name);
            let entry = match kind {
                NodeKind::Dir if depth < super::fsimage::MAX_DEPTH => {
                    stack.push((p.clone(), depth + 1));
                    Entry::Dir
                }
                NodeKind::Dir => Entry::Dir,
                NodeKind::Symlink => match src.read_link(&p) {
                    Ok(t) => Entry::Symlink(t),
                    Err(_) => continue,
                },
                NodeKind::CharDevice => Entry::CharDevice,
                NodeKind::Special => Entry::Special,
                NodeKind::File => {
                    if src.is_empty_file(&p).unwrap_or(false) {
                        Entry::File {
                            size: 0,
                            data: Some(Arc::from(Vec::new())),
                        }
                    } else if mem::wanted(p.as_str(), 1) {
                        match src.read_file(&p, super::MAX_FILE_SIZE) {
                            Ok(b) => Entry::File {
                                size: b.len() as u64,
                                data: Some(Arc::from(b)),
                            },
                            // Too large (or unreadable): the loader will say so again.
                            Err(_) => Entry::File {
                                size: super::MAX_FILE_SIZE + 1,
                                data: None,
                            },
                        }
                    } else if p.as_str().ends_with("/systemd/systemd") {
                        match src.read_file(&p, mem::MAX_MANAGER_BINARY) {
                            Ok(b) => Entry::File {
                                size: b.len() as u64,
                                data: Some(Arc::from(b)),
                            },
                            Err(_) => Entry::File {
                                size: 1,
                                data: None,
                            },
                        }
                    } else {
                        Entry::File {
                            size: 1,
                            data: None,
                        }
                    }
                }
            };
            out.insert(&p, entry)?;
        }
    }
    // Files the loader reads under a name that did not say so (a unit linked to a file of
    // any name): found once every entry is known, then read.
    for (from, to) in out.unkept_reads() {
        if let Ok(b) = src.read_file(&from, super::MAX_FILE_SIZE) {
            let data: Arc<[u8]> = Arc::from(b);
            for p in to {
                let size = data.len() as u64;
                out.insert(
                    &p,
                    Entry::File {
                        size,
                        data: Some(data.clone()),
                    },
                )?;
            }
        }
    }
    Ok(out)
}

fn pax(records: &[(&str, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        // "LEN key=value\n", LEN counting itself.
        let body = format!(" {k}={v}\n");
        let mut len = body.len() + 1;
        while (len.to_string().len() + body.len()) != len {
            len = len.to_string().len() + body.len();
        }
        out.extend_from_slice(format!("{len}{body}").as_bytes());
    }
    out
}

fn header(ty: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(ty);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Most bytes a snapshot's tar may have before compression: the kept contents of an image
/// (at most [`mem::MAX_KEPT_BYTES`]) and the headers of its directories and symlinks fit
/// many times over; only an image of very deep paths comes near it.
pub const MAX_SNAPSHOT_BYTES: u64 = 1024 * 1024 * 1024;
/// Uncompressed bytes compressed as one zstd frame (a stream of frames is one stream to any
/// zstd reader): the memory the writer holds, whatever the size of the image.
const FRAME_BYTES: usize = 4 * 1024 * 1024;

/// Write every entry of `tree` into `b`, in the order of [`MemTree::walk`].
fn entries<W: Write>(tree: &MemTree, payload: &mut tar::Builder<W>) -> io::Result<()> {
    let mut err = None;
    tree.walk(|path, e, layer| {
        if err.is_some() {
            return;
        }
        let rel = path.relative();
        let mut records = Vec::new();
        if let Some(l) = layer {
            records.push((PAX_LAYER, l.to_string()));
        }
        let r = (|| -> io::Result<()> {
            let (mut h, data): (tar::Header, &[u8]) = match e {
                WalkEntry::Dir => (header(tar::EntryType::Directory, 0, 0o755), &[]),
                WalkEntry::File { data: Some(d), .. } => {
                    (header(tar::EntryType::Regular, d.len() as u64, 0o644), d)
                }
                WalkEntry::File { size: 0, .. } => (header(tar::EntryType::Regular, 0, 0o644), &[]),
                WalkEntry::File { size, data: None } => {
                    if !path.as_str().contains("/systemd/") {
                        return Ok(());
                    }
                    records.push((PAX_SIZE, size.to_string()));
                    (header(tar::EntryType::Regular, 0, 0o644), &[])
                }
                WalkEntry::Symlink(t) => {
                    if !records.is_empty() {
                        let x = pax(&records);
                        let mut xh = header(tar::EntryType::XHeader, x.len() as u64, 0o644);
                        payload.append_data(&mut xh, "PaxHeader", &x[..])?;
                    }
                    let mut h = header(tar::EntryType::Symlink, 0, 0o777);
                    return payload.append_link(&mut h, rel, t);
                }
                WalkEntry::CharDevice => (header(tar::EntryType::Char, 0, 0o644), &[]),
                WalkEntry::Special => (header(tar::EntryType::Fifo, 0, 0o644), &[]),
            };
            if !records.is_empty() {
                let x = pax(&records);
                let mut xh = header(tar::EntryType::XHeader, x.len() as u64, 0o644);
                payload.append_data(&mut xh, "PaxHeader", &x[..])?;
            }
            payload.append_data(&mut h, rel, data)
        })();
        if let Err(e) = r {
            err = Some(e);
        }
    });
    err.map_or(Ok(()), Err)
}

/// Hashes and counts the tar entries of the first pass; refuses past
/// [`MAX_SNAPSHOT_BYTES`].
struct Hashed {
    hash: Sha256,
    len: u64,
}

impl Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.len += buf.len() as u64;
        if self.len > MAX_SNAPSHOT_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::QuotaExceeded,
                format!(
                    "the snapshot would be more than {} MiB before compression (paths this \
                     deep or this many of them are no OS image); not written",
                    MAX_SNAPSHOT_BYTES >> 20
                ),
            ));
        }
        self.hash.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The output of the zstd encoder, which cannot report a failed write (it unwraps): the
/// first error is kept, later output dropped, and [`Frames::finish`] returns it.
struct Drain<W> {
    inner: W,
    err: Option<io::Error>,
}

impl<W: Write> Write for Drain<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.err.is_none()
            && let Err(e) = self.inner.write_all(buf)
        {
            self.err = Some(e);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Compresses what is written as zstd, [`FRAME_BYTES`] at a time, one frame each.
struct Frames<W> {
    buf: Vec<u8>,
    out: Drain<W>,
}

impl<W: Write> Frames<W> {
    fn new(out: W) -> Self {
        Frames {
            buf: Vec::with_capacity(FRAME_BYTES),
            out: Drain {
                inner: out,
                err: None,
            },
        }
    }

    fn frame(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            ruzstd::encoding::compress(
                &self.buf[..],
                &mut self.out,
                ruzstd::encoding::CompressionLevel::Fastest,
            );
            self.buf.clear();
        }
        match self.out.err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn finish(mut self) -> io::Result<()> {
        self.frame()?;
        self.out.inner.flush()
    }
}

impl<W: Write> Write for Frames<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(FRAME_BYTES - self.buf.len());
        self.buf.extend_from_slice(&buf[..n]);
        if self.buf.len() == FRAME_BYTES {
            self.frame()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Write a snapshot of `tree` (read from `source`) to `out`, streaming: the entries are
/// walked twice, once for the digest the metadata entry (first) holds, once to compress
/// them into `out`; neither pass holds more than a frame. A snapshot larger than
/// [`MAX_SNAPSHOT_BYTES`] uncompressed is refused before anything is written.
pub fn write(tree: &MemTree, source: &str, out: impl Write) -> io::Result<()> {
    let mut first = tar::Builder::new(Hashed {
        hash: Sha256::new(),
        len: 0,
    });
    entries(tree, &mut first)?;
    let digest = first.into_inner()?.hash.finalize();
    let meta = Meta {
        format: FORMAT.to_string(),
        version: 1,
        tool: format!("unitdiff {}", env!("CARGO_PKG_VERSION")),
        source: source.to_string(),
        digest: format!("sha256:{}", hex::encode(digest)),
        layers: tree.image_layers().to_vec(),
    };
    let meta_json = serde_json::to_vec_pretty(&meta).map_err(io::Error::other)?;
    let mut head = tar::Builder::new(Vec::new());
    let mut h = header(tar::EntryType::Regular, meta_json.len() as u64, 0o644);
    head.append_data(&mut h, META_NAME, &meta_json[..])?;
    let mut head = head.into_inner()?;
    head.truncate(head.len() - 1024); // drop the end-of-archive blocks
    let mut frames = Frames::new(out);
    frames.write_all(&head)?;
    let mut payload = tar::Builder::new(frames);
    entries(tree, &mut payload)?;
    payload.into_inner()?.finish()
}

/// Parse a snapshot's metadata entry.
pub fn parse_meta(bytes: &[u8]) -> io::Result<Meta> {
    let m: Meta = serde_json::from_slice(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{META_NAME}: {e}")))?;
    if m.format != FORMAT || m.version != 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{META_NAME}: format {} version {} is not one this unitdiff reads",
                m.format, m.version
            ),
        ));
    }
    Ok(m)
}
