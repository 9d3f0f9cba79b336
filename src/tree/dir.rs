//! An extracted root filesystem on the host, seen as a [`Tree`].
//!
//! Only physical in-image paths reach this module (see [`super::resolve`]): no component of
//! them is a symlink. This module makes that true *at the moment of reading* as well, so a
//! tree that changes under us (a live container rootfs, a directory swapped for a symlink to
//! `/` mid-run) can never lead a read outside the root:
//!
//! - the root is opened once, as a directory descriptor, when the tree is opened;
//! - every path is opened relative to that descriptor with `openat2(RESOLVE_BENEATH |
//!   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)` (Linux 5.6+), which fails instead of
//!   following any symlink or leaving the root; where the kernel (or a seccomp filter)
//!   refuses `openat2`, each component is opened in turn with `openat(O_NOFOLLOW |
//!   O_DIRECTORY)` from the previous one;
//! - a final component is examined with `fstatat(AT_SYMLINK_NOFOLLOW)` and `readlinkat`
//!   relative to its opened parent; the last few parents opened are kept (the loader works
//!   directory by directory), so a file costs one `fstatat` or `openat` beside its reads
//!   instead of a fresh walk from the root each time. A kept descriptor was opened beneath
//!   the root without following any symlink; if the directory is moved afterwards, what is
//!   read through it is still that directory's own entries, never a symlink's target;
//! - a file is first opened with `O_PATH | O_NOFOLLOW` (which never opens a device or a
//!   FIFO), checked to be a regular file, and only then re-opened for reading through that
//!   descriptor, so a FIFO or device swapped in behind our back is never opened.
//!
//! rustix gives these system calls safe, typed wrappers (it is maintained by the Bytecode
//! Alliance and already in our dependency tree through tempfile), rather than raw `libc`.

use super::{ImagePath, NodeKind, Tree};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A directory on the host holding an extracted OS root.
#[derive(Debug)]
pub struct DirTree {
    root: PathBuf,
    fd: OwnedFd,
    /// Whether `openat2` works here (cleared on the first `ENOSYS`/`EPERM`).
    openat2: AtomicBool,
    /// The parent directories [`DirTree::parent`] opened last (physical path, `O_PATH`
    /// descriptor), most recent last, at most [`KEPT_DIRS`].
    last_dirs: Mutex<Vec<(ImagePath, Arc<OwnedFd>)>>,
    /// Entries listed under a lossy name (a drop-in whose name is not UTF-8): that name's
    /// path → the entry's own bytes, to open it by.
    raw_names: Mutex<std::collections::HashMap<ImagePath, Vec<u8>>>,
}

/// How many parent directories are kept open. The loader goes back and forth between a few
/// directories (a `.wants/` link and the unit directory its target is in): one kept
/// descriptor was reopened for most lookups.
const KEPT_DIRS: usize = 8;

impl DirTree {
    /// Open `root`, which must be an existing directory (a symlink to one is fine: the user
    /// named it, the image did not).
    pub fn open(root: &Path) -> io::Result<Self> {
        let fd = rustix::fs::open(
            root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::NOTDIR => {
                io::Error::new(io::ErrorKind::NotADirectory, "not a directory")
            }
            e => io::Error::from(e),
        })?;
        Ok(DirTree {
            root: root.to_path_buf(),
            fd,
            openat2: AtomicBool::new(true),
            last_dirs: Mutex::new(Vec::with_capacity(KEPT_DIRS)),
            raw_names: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Open the physical path `rel` (relative to the root, `""` for the root itself) with
    /// `flags`, following no symlink anywhere and never leaving the root.
    fn open_beneath(&self, rel: &str, flags: OFlags) -> io::Result<OwnedFd> {
        let mut flags = flags | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        if !flags.contains(OFlags::PATH) {
            // (openat2 refuses flags that mean nothing with O_PATH.)
            flags |= OFlags::NOCTTY;
        }
        let rel = if rel.is_empty() { "." } else { rel };
        if self.openat2.load(Ordering::Relaxed) {
            let how =
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            match rustix::fs::openat2(&self.fd, rel, flags, Mode::empty(), how) {
                Err(rustix::io::Errno::NOSYS) | Err(rustix::io::Errno::PERM) => {
                    self.openat2.store(false, Ordering::Relaxed);
                }
                // The kernel retries internally; a persistent EAGAIN means heavy renaming.
                r => return r.map_err(io::Error::from),
            }
        }
        self.open_by_components(rel, flags)
    }

    /// The fallback: one `openat(O_NOFOLLOW)` per component from the root descriptor.
    fn open_by_components(&self, rel: &str, flags: OFlags) -> io::Result<OwnedFd> {
        let comps: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
        let dir_flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut cur: Option<OwnedFd> = None;
        for (i, c) in comps.iter().enumerate() {
            if *c == ".." {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "`..` in a physical path",
                ));
            }
            let last = i + 1 == comps.len();
            let f = if last { flags } else { dir_flags };
            let parent = cur.as_ref().map_or(self.fd.as_fd(), |f| f.as_fd());
            cur = Some(rustix::fs::openat(parent, *c, f, Mode::empty())?);
        }
        match cur {
            Some(fd) => Ok(fd),
            None => Ok(rustix::fs::openat(&self.fd, ".", flags, Mode::empty())?),
        }
    }

    /// The opened parent directory of `path` and its final component's name. The last one
    /// is kept: consecutive lookups in one directory open it once.
    fn parent<'p>(&self, path: &'p ImagePath) -> io::Result<(Arc<OwnedFd>, &'p str)> {
        let s = path.as_str();
        let cut = s.rfind('/').unwrap_or(0);
        let dir = if cut == 0 { "/" } else { &s[..cut] };
        let name = &s[cut + 1..];
        let mut kept = self.last_dirs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = kept.iter().rposition(|(p, _)| p.as_str() == dir) {
            let fd = kept[i].1.clone();
            let last = kept.len() - 1;
            kept.swap(i, last);
            return Ok((fd, name));
        }
        let parent = ImagePath::new(dir);
        let fd = Arc::new(self.open_beneath(parent.relative(), OFlags::PATH | OFlags::DIRECTORY)?);
        if kept.len() == KEPT_DIRS {
            kept.remove(0);
        }
        kept.push((parent, fd.clone()));
        Ok((fd, name))
    }

    fn lstat_raw(&self, path: &ImagePath) -> io::Result<rustix::fs::Stat> {
        if path.is_root() {
            return Ok(rustix::fs::fstat(&self.fd)?);
        }
        let (dir, name) = self.parent(path)?;
        let name = self.raw_name(path, name);
        Ok(rustix::fs::statat(&dir, &*name, AtFlags::SYMLINK_NOFOLLOW)?)
    }

    /// The bytes to open the final component `name` of `path` by: its own, or those of an
    /// entry [`Tree::read_dir`] listed under a lossy name.
    fn raw_name<'n>(&self, path: &ImagePath, name: &'n str) -> std::borrow::Cow<'n, [u8]> {
        if name.contains('\u{fffd}') {
            let raw = self.raw_names.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(b) = raw.get(path) {
                return std::borrow::Cow::Owned(b.clone());
            }
        }
        std::borrow::Cow::Borrowed(name.as_bytes())
    }
}

fn kind_of(ft: FileType) -> NodeKind {
    match ft {
        FileType::Symlink => NodeKind::Symlink,
        FileType::Directory => NodeKind::Dir,
        FileType::RegularFile => NodeKind::File,
        FileType::CharacterDevice => NodeKind::CharDevice,
        _ => NodeKind::Special,
    }
}

fn mode_kind(st: &rustix::fs::Stat) -> NodeKind {
    kind_of(FileType::from_raw_mode(st.st_mode))
}

fn is_absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

impl Tree for DirTree {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn lstat(&self, path: &ImagePath) -> io::Result<Option<NodeKind>> {
        Ok(self.lstat_empty(path)?.map(|(kind, _)| kind))
    }

    fn read_dir(&self, path: &ImagePath) -> io::Result<Vec<(String, NodeKind)>> {
        let fd = self.open_beneath(path.relative(), OFlags::RDONLY | OFlags::DIRECTORY)?;
        let mut dir = rustix::fs::Dir::read_from(&fd)?;
        let mut out = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let lossy;
            let name = match std::str::from_utf8(name) {
                Ok(name) => name,
                // Not UTF-8: no valid unit name. A drop-in may have any name ending in
                // `.conf`, and systemd applies it: listed under its lossy name (U+FFFD for
                // each bad byte) and opened by its own bytes.
                Err(_) if name.ends_with(b".conf") => {
                    lossy = String::from_utf8_lossy(name).into_owned();
                    self.raw_names
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(path.join(&lossy), name.to_vec());
                    &lossy
                }
                Err(_) => continue,
            };
            // The entry's type is enough (no stat per entry) unless the file system does
            // not record it.
            let kind = match entry.file_type() {
                FileType::Unknown => {
                    let raw = entry.file_name().to_bytes();
                    match rustix::fs::statat(&fd, raw, AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => mode_kind(&st),
                        // Gone since it was listed.
                        Err(rustix::io::Errno::NOENT) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                ft => kind_of(ft),
            };
            out.push((name.to_string(), kind));
        }
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn is_empty_file(&self, path: &ImagePath) -> io::Result<bool> {
        let st = self.lstat_raw(path)?;
        Ok(mode_kind(&st) == NodeKind::File && st.st_size == 0)
    }

    fn lstat_empty(&self, path: &ImagePath) -> io::Result<Option<(NodeKind, bool)>> {
        match self.lstat_raw(path) {
            Ok(st) => {
                let kind = mode_kind(&st);
                Ok(Some((kind, kind == NodeKind::File && st.st_size == 0)))
            }
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read_link(&self, path: &ImagePath) -> io::Result<String> {
        let (dir, name) = self.parent(path)?;
        let name = self.raw_name(path, name);
        let target = rustix::fs::readlinkat(&dir, &*name, Vec::new())?;
        target
            .into_string()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "symlink target is not UTF-8"))
    }

    fn read_file(&self, path: &ImagePath, limit: u64) -> io::Result<Vec<u8>> {
        // O_PATH opens nothing: a FIFO does not block, a device is not touched. The final
        // component is opened from its (kept) parent without following it.
        let handle = if path.is_root() {
            self.open_beneath("", OFlags::PATH)?
        } else {
            let (dir, name) = self.parent(path)?;
            let name = self.raw_name(path, name);
            rustix::fs::openat(
                &*dir,
                &*name,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?
        };
        let st = rustix::fs::fstat(&handle)?;
        if mode_kind(&st) != NodeKind::File {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        if st.st_size as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file too large ({} bytes, limit {limit})", st.st_size),
            ));
        }
        let file = reopen_for_reading(&handle, &st, || {
            self.open_beneath(path.relative(), OFlags::RDONLY | OFlags::NONBLOCK)
        })?;
        let mut file = std::fs::File::from(file);
        // One read of the size fstat gave and one byte more: a regular file that returns
        // exactly its size then is at its end (no second read to find it, as `read_to_end`
        // does). A file that changed meanwhile is read on to its end.
        let size = st.st_size as usize;
        let mut buf = vec![0; size + 1];
        let n = loop {
            match file.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        buf.truncate(n);
        if n != size {
            (&mut file)
                .take(limit + 1 - n as u64)
                .read_to_end(&mut buf)?;
        }
        if buf.len() as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file too large (over {limit} bytes)"),
            ));
        }
        Ok(buf)
    }
}

/// Open the regular file behind an `O_PATH` handle for reading: through `/proc/self/fd`,
/// which re-opens exactly that inode, or (without `/proc`) by opening the path again and
/// checking it is still the same inode.
fn reopen_for_reading(
    handle: &OwnedFd,
    st: &rustix::fs::Stat,
    again: impl FnOnce() -> io::Result<OwnedFd>,
) -> io::Result<OwnedFd> {
    use rustix::fd::AsRawFd;
    let proc = format!("/proc/self/fd/{}", handle.as_raw_fd());
    let fd = match rustix::fs::open(
        proc.as_str(),
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    ) {
        // The magic link is the handle's own inode: nothing to check again.
        Ok(fd) => return Ok(fd),
        Err(rustix::io::Errno::NOENT) | Err(rustix::io::Errno::ACCESS) => again()?,
        Err(e) => return Err(e.into()),
    };
    let now = rustix::fs::fstat(&fd)?;
    if now.st_ino != st.st_ino || now.st_dev != st.st_dev || mode_kind(&now) != NodeKind::File {
        return Err(io::Error::other("file replaced while it was read"));
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, DirTree) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("a/b/f"), "x").unwrap();
        symlink("/", d.path().join("a/up")).unwrap();
        let t = DirTree::open(d.path()).unwrap();
        (d, t)
    }

    #[test]
    fn reads_physical_paths() {
        let (_d, t) = tree();
        assert_eq!(t.lstat(&ImagePath::root()).unwrap(), Some(NodeKind::Dir));
        assert_eq!(
            t.lstat(&ImagePath::new("/a/b/f")).unwrap(),
            Some(NodeKind::File)
        );
        assert_eq!(
            t.lstat(&ImagePath::new("/a/up")).unwrap(),
            Some(NodeKind::Symlink)
        );
        assert_eq!(t.lstat(&ImagePath::new("/a/nope")).unwrap(), None);
        assert_eq!(t.lstat(&ImagePath::new("/a/b/f/g")).unwrap(), None);
        assert_eq!(t.read_file(&ImagePath::new("/a/b/f"), 10).unwrap(), b"x");
        assert_eq!(t.read_link(&ImagePath::new("/a/up")).unwrap(), "/");
        let names: Vec<String> = t
            .read_dir(&ImagePath::new("/a"))
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(names, ["b", "up"]);
    }

    #[test]
    fn never_follows_a_symlink_in_a_path() {
        let (_d, t) = tree();
        // `/a/up` is a symlink to the host's `/`: nothing below it may be reached, by
        // either way of opening.
        for use_openat2 in [true, false] {
            t.openat2.store(use_openat2, Ordering::Relaxed);
            assert!(
                t.read_file(&ImagePath::new("/a/up/etc/hostname"), 1 << 20)
                    .is_err()
            );
            assert!(t.read_dir(&ImagePath::new("/a/up/etc")).is_err());
            assert!(t.read_dir(&ImagePath::new("/a/up")).is_err());
            assert!(t.read_file(&ImagePath::new("/a/up"), 1 << 20).is_err());
            // Absent or an error, never the host's /etc.
            assert!(!matches!(
                t.lstat(&ImagePath::new("/a/up/etc")),
                Ok(Some(_))
            ));
            assert!(t.read_file(&ImagePath::new("/a/b/f"), 10).is_ok());
        }
    }
}
