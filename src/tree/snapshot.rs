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

/// Write a snapshot of `tree` (read from `source`) to `out`.
pub fn write(tree: &MemTree, source: &str, out: impl Write) -> io::Result<()> {
    let mut payload = tar::Builder::new(Vec::new());
    let mut err = None;
    tree.walk(|path, e| {
        if err.is_some() {
            return;
        }
        let rel = path.relative();
        let mut records = Vec::new();
        if let Some(l) = tree.layer_index(path) {
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
    if let Some(e) = err {
        return Err(e);
    }
    let payload = payload.into_inner()?;
    let meta = Meta {
        format: FORMAT.to_string(),
        version: 1,
        tool: format!("unitdiff {}", env!("CARGO_PKG_VERSION")),
        source: source.to_string(),
        digest: format!("sha256:{}", hex::encode(Sha256::digest(&payload))),
        layers: tree.image_layers().to_vec(),
    };
    let meta_json = serde_json::to_vec_pretty(&meta).map_err(io::Error::other)?;
    let mut head = tar::Builder::new(Vec::new());
    let mut h = header(tar::EntryType::Regular, meta_json.len() as u64, 0o644);
    head.append_data(&mut h, META_NAME, &meta_json[..])?;
    let mut all = head.into_inner()?;
    all.truncate(all.len() - 1024); // drop the end-of-archive blocks
    all.extend_from_slice(&payload);
    let mut enc = out;
    ruzstd::encoding::compress(
        &all[..],
        &mut enc,
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    enc.flush()
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
