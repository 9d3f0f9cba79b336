//! An extracted root filesystem on the host, seen as a [`Tree`].
//!
//! Only physical in-image paths reach this module (see [`super::resolve`]), so joining them
//! to the host root never passes through a symlink of the image. Files are opened with
//! `O_NOFOLLOW | O_NONBLOCK` and checked to be regular after opening, so a FIFO or device
//! swapped in behind our back is never read and never blocks us.

use super::{ImagePath, NodeKind, Tree};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A directory on the host holding an extracted OS root.
#[derive(Debug)]
pub struct DirTree {
    root: PathBuf,
}

impl DirTree {
    /// Open `root`, which must be an existing directory (a symlink to one is fine: the user
    /// named it, the image did not).
    pub fn open(root: &Path) -> io::Result<Self> {
        let meta = fs::metadata(root)?;
        if !meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(DirTree {
            root: root.to_path_buf(),
        })
    }

    fn host(&self, path: &ImagePath) -> PathBuf {
        if path.is_root() {
            self.root.clone()
        } else {
            self.root.join(path.relative())
        }
    }
}

fn kind_of(meta: &fs::Metadata) -> NodeKind {
    let ft = meta.file_type();
    if ft.is_symlink() {
        NodeKind::Symlink
    } else if ft.is_dir() {
        NodeKind::Dir
    } else if ft.is_file() {
        NodeKind::File
    } else if ft.is_char_device() {
        NodeKind::CharDevice
    } else {
        NodeKind::Special
    }
}

impl Tree for DirTree {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn lstat(&self, path: &ImagePath) -> io::Result<Option<NodeKind>> {
        match fs::symlink_metadata(self.host(path)) {
            Ok(m) => Ok(Some(kind_of(&m))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read_dir(&self, path: &ImagePath) -> io::Result<Vec<(String, NodeKind)>> {
        let mut out = Vec::new();
        let walk = walkdir::WalkDir::new(self.host(path))
            .min_depth(1)
            .max_depth(1)
            .follow_links(false)
            .sort_by_file_name();
        for entry in walk {
            let entry = entry.map_err(io::Error::other)?;
            let Some(name) = entry.file_name().to_str() else {
                // Not UTF-8: cannot be a valid unit or drop-in name.
                continue;
            };
            // The directory entry's type is enough (no stat per entry) except to tell a
            // character device from other special files.
            let ft = entry.file_type();
            let kind = if ft.is_file() {
                NodeKind::File
            } else if ft.is_dir() {
                NodeKind::Dir
            } else if ft.is_symlink() {
                NodeKind::Symlink
            } else {
                kind_of(&entry.metadata().map_err(io::Error::other)?)
            };
            out.push((name.to_string(), kind));
        }
        Ok(out)
    }

    fn is_empty_file(&self, path: &ImagePath) -> io::Result<bool> {
        let m = fs::symlink_metadata(self.host(path))?;
        Ok(m.is_file() && m.len() == 0)
    }

    fn read_link(&self, path: &ImagePath) -> io::Result<String> {
        let target = fs::read_link(self.host(path))?;
        target
            .into_os_string()
            .into_string()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "symlink target is not UTF-8"))
    }

    fn read_file(&self, path: &ImagePath, limit: u64) -> io::Result<Vec<u8>> {
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.host(path))?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        if meta.len() > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file too large ({} bytes, limit {limit})", meta.len()),
            ));
        }
        let mut buf = Vec::with_capacity(meta.len() as usize);
        file.take(limit + 1).read_to_end(&mut buf)?;
        if buf.len() as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file too large (over {limit} bytes)"),
            ));
        }
        Ok(buf)
    }
}
