//! An image with a few in-memory directories laid over it: what the emulated generators
//! wrote (`/run/systemd/generator*`). Paths at or under one of the overlay's directories
//! come from the in-memory tree only (whatever the image has there is hidden, as the tmpfs
//! `/run` of a booted system hides it); their parents (`/run`, `/run/systemd`) list both;
//! everything else is the image's.

use super::mem::MemTree;
use super::{ImagePath, NodeKind, Tree};
use std::io;

pub struct Overlay<'a> {
    base: &'a dyn Tree,
    top: &'a MemTree,
    /// The directories served from `top`.
    dirs: Vec<ImagePath>,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn Tree, top: &'a MemTree, dirs: Vec<ImagePath>) -> Self {
        Overlay { base, top, dirs }
    }

    fn in_top(&self, path: &ImagePath) -> bool {
        self.dirs.iter().any(|d| path.starts_with(d))
    }

    /// A parent of an overlay directory (`/`, `/run`, `/run/systemd`).
    fn is_junction(&self, path: &ImagePath) -> bool {
        self.dirs.iter().any(|d| d.starts_with(path) && d != path)
    }
}

impl Tree for Overlay<'_> {
    fn describe(&self) -> String {
        self.base.describe()
    }

    fn lstat(&self, path: &ImagePath) -> io::Result<Option<NodeKind>> {
        if self.in_top(path) {
            return self.top.lstat(path);
        }
        if self.is_junction(path) {
            return Ok(Some(NodeKind::Dir));
        }
        self.base.lstat(path)
    }

    fn read_dir(&self, path: &ImagePath) -> io::Result<Vec<(String, NodeKind)>> {
        if self.in_top(path) {
            return self.top.read_dir(path);
        }
        if !self.is_junction(path) {
            return self.base.read_dir(path);
        }
        // The image's entries (if it has a real directory here), then ours on top.
        let mut entries = match self.base.lstat(path)? {
            Some(NodeKind::Dir) => self.base.read_dir(path)?,
            _ => Vec::new(),
        };
        for d in &self.dirs {
            let Some(rest) = d.as_str().strip_prefix(path.as_str()) else {
                continue;
            };
            let rest = rest.trim_start_matches('/');
            let Some(first) = rest.split('/').next().filter(|f| !f.is_empty()) else {
                continue;
            };
            if !d.starts_with(path) {
                continue;
            }
            entries.retain(|(n, _)| n != first);
            entries.push((first.to_string(), NodeKind::Dir));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        Ok(entries)
    }

    fn is_empty_file(&self, path: &ImagePath) -> io::Result<bool> {
        if self.in_top(path) {
            self.top.is_empty_file(path)
        } else {
            self.base.is_empty_file(path)
        }
    }

    fn lstat_empty(&self, path: &ImagePath) -> io::Result<Option<(NodeKind, bool)>> {
        if self.in_top(path) {
            return self.top.lstat_empty(path);
        }
        if self.is_junction(path) {
            return Ok(Some((NodeKind::Dir, false)));
        }
        self.base.lstat_empty(path)
    }

    fn read_link(&self, path: &ImagePath) -> io::Result<String> {
        if self.in_top(path) {
            self.top.read_link(path)
        } else {
            self.base.read_link(path)
        }
    }

    fn read_file(&self, path: &ImagePath, limit: u64) -> io::Result<Vec<u8>> {
        if self.in_top(path) {
            self.top.read_file(path, limit)
        } else {
            self.base.read_file(path, limit)
        }
    }

    fn image_layer(&self, path: &ImagePath) -> Option<super::mem::ImageLayer> {
        if self.in_top(path) {
            None
        } else {
            self.base.image_layer(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::mem::Entry;

    #[test]
    fn generated_directories_hide_and_join_the_image() {
        let mut base = MemTree::new("base");
        base.insert(&ImagePath::new("/run/systemd/system/a.service"), file())
            .unwrap();
        base.insert(
            &ImagePath::new("/run/systemd/generator/old.service"),
            file(),
        )
        .unwrap();
        let mut top = MemTree::new("top");
        top.insert(
            &ImagePath::new("/run/systemd/generator/new.service"),
            file(),
        )
        .unwrap();
        let o = Overlay::new(&base, &top, vec![ImagePath::new("/run/systemd/generator")]);
        let names = |p: &str| -> Vec<String> {
            o.read_dir(&ImagePath::new(p))
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names("/run/systemd"), ["generator", "system"]);
        assert_eq!(names("/run/systemd/generator"), ["new.service"]);
        assert_eq!(names("/run/systemd/system"), ["a.service"]);
        assert_eq!(names("/"), ["run"]);
        // A junction the image lacks still exists.
        let empty = MemTree::new("empty");
        let o = Overlay::new(&empty, &top, vec![ImagePath::new("/run/systemd/generator")]);
        assert_eq!(
            o.lstat(&ImagePath::new("/run")).unwrap(),
            Some(NodeKind::Dir)
        );
        assert_eq!(
            crate::tree::stat(&o, &ImagePath::new("/run/systemd/generator/new.service"))
                .unwrap()
                .1,
            Some(NodeKind::File)
        );
    }

    fn file() -> Entry {
        Entry::File {
            size: 1,
            data: Some(b"x".to_vec().into()),
        }
    }
}
