//! The search path scanned once into the name map: symlinks classified as alias, linked unit file or mask; paths resolved inside the image.

use super::*;

impl<'t> Loader<'t> {
    /// Symlinks an administrator (`/etc`) or the runtime (`/run`) made: entries of
    /// `.wants/`, `.requires/`, `.upholds/` directories and alias symlinks, by name, with
    /// whether the link is in `/run`. This is what `systemctl is-enabled` looks at.
    pub(super) fn config_links(&mut self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for i in 0..self.dirs.len() {
            let layer = self.dirs[i].layer;
            if !matches!(layer, Layer::Admin | Layer::Runtime) {
                continue;
            }
            let runtime = layer == Layer::Runtime;
            let mut entries: Vec<(Sym, NodeKind)> = self.listings[i]
                .iter()
                .map(|(n, k)| (n.clone(), *k))
                .collect();
            // In the directory's order (the listing is a hash map).
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (name, kind) in entries {
                if [".wants", ".requires", ".upholds"]
                    .iter()
                    .any(|s| name.ends_with(s))
                {
                    if let Some(dir) = self.subdir(i, &name) {
                        for (entry, _) in self.list_dir(&dir).as_deref().unwrap_or_default() {
                            out.push((entry.clone(), runtime));
                        }
                    }
                } else if kind == NodeKind::Symlink
                    && matches!(self.ids.get(name.as_str()), Some(IdEntry::Alias(_)))
                    && self.names.contains_key(name.as_str())
                {
                    let first = self.listings[..i]
                        .iter()
                        .all(|l| !l.contains_key(name.as_str()));
                    if first {
                        out.push((name.to_string(), runtime));
                    }
                }
            }
        }
        out
    }

    /// Build the name map: first entry per valid unit name across the search path.
    pub(super) fn scan(&mut self) {
        for i in 0..self.dirs.len() {
            let dir = self.dirs[i].physical.clone();
            let entries = match self.tree.read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    self.warn(Some(&dir), None, format!("cannot list directory: {e}"));
                    Vec::new()
                }
            };
            // One shared copy of each name: the name map, the units and the edges take it.
            let entries: Vec<(Sym, NodeKind)> = entries
                .into_iter()
                .map(|(n, k)| (self.syms.take(n), k))
                .collect();
            self.listings.push(entries.iter().cloned().collect());
            // Index `NAME.d`, `NAME.wants`, … by NAME, so looking for a unit's directories
            // costs no string building when there are none.
            let mut index: HashMap<String, Vec<&'static str>> = HashMap::default();
            for (name, kind) in &entries {
                if !matches!(kind, NodeKind::Dir | NodeKind::Symlink) {
                    continue;
                }
                for suffix in DIR_SUFFIXES {
                    if let Some(stem) = name.strip_suffix(suffix) {
                        index.entry(stem.to_string()).or_default().push(suffix);
                    }
                }
            }
            self.stems.extend(index.keys().cloned());
            self.subdir_index.push(index);
            for (name, kind) in entries {
                if name.starts_with('.') || self.ids.contains_key(name.as_str()) {
                    continue;
                }
                if !matches!(kind, NodeKind::File | NodeKind::Symlink) {
                    continue;
                }
                let Some(un) = UnitName::parse(&name) else {
                    continue;
                };
                let path = dir.join(&name);
                if kind == NodeKind::Symlink {
                    match self.classify_symlink(&path, &un) {
                        Ok(Some(entry)) => {
                            self.ids
                                .insert(name, entry.unwrap_or(IdEntry::Path { path, dir: i }));
                        }
                        Ok(None) => {}
                        Err(msg) => self.warn(Some(&path), None, msg),
                    }
                } else {
                    self.ids.insert(name, IdEntry::Path { path, dir: i });
                }
            }
        }
        let keys: Vec<Sym> = self.ids.keys().cloned().collect();
        for key in keys {
            if let Ok((frag, _)) = self.resolve_name(&key) {
                self.reverse.entry(frag).or_default().push(key);
            }
        }
        for v in self.reverse.values_mut() {
            v.sort();
        }
    }

    /// Classify a symlink in a search directory. `Ok(Some(Some(alias)))`: an alias;
    /// `Ok(Some(None))`: a linked unit file or mask (the entry is the link itself);
    /// `Ok(None)`: skipped as if absent (invalid or self alias).
    #[allow(clippy::option_option)]
    pub(super) fn classify_symlink(
        &self,
        link: &ImagePath,
        un: &UnitName,
    ) -> Result<Option<Option<IdEntry>>, String> {
        let raw = self
            .tree
            .read_link(link)
            .map_err(|e| format!("cannot read symlink: {e}"))?;
        if raw == "/dev/null" {
            return Ok(Some(None));
        }
        let abs = if raw.starts_with('/') {
            ImagePath::new(&raw)
        } else {
            ImagePath::new(&format!(
                "{}/{}",
                link.parent().unwrap_or_else(ImagePath::root),
                raw
            ))
        };
        let resolved = match self.resolve_no_follow(&abs) {
            Ok(p) => p,
            // A target whose directories do not exist in the image (typically a host path):
            // systemd keeps the link as a linked unit file and fails to open it later, so the
            // unit is not-found and lower files stay hidden. Classify it by its lexical path.
            Err(ResolveError::Missing(_)) | Err(ResolveError::NotADirectory(_)) => abs,
            Err(e) => return Err(format!("symlink to {raw}: {e}")),
        };
        let in_search_path = self
            .dirs
            .iter()
            .any(|d| resolved.starts_with(&d.physical) && resolved != d.physical);
        if !in_search_path {
            return Ok(Some(None));
        }
        let dst = resolved.file_name().to_string();
        if dst == un.name {
            return Ok(None);
        }
        match validate_alias(un, &dst) {
            Ok(()) => Ok(Some(Some(IdEntry::Alias(dst)))),
            Err(why) => Err(format!("invalid alias symlink to {dst} ({why}), ignoring")),
        }
    }

    /// The physical path of a directory, cached: most lookups share a few directories.
    pub(super) fn resolve_dir(&self, dir: &ImagePath) -> Result<ImagePath, ResolveError> {
        if let Some(r) = self.resolved_dirs.borrow().get(dir) {
            return r.clone();
        }
        let r = tree::resolve(self.tree, dir, true);
        self.resolved_dirs
            .borrow_mut()
            .insert(dir.clone(), r.clone());
        r
    }

    /// `tree::resolve(path, false)` through the directory cache.
    pub(super) fn resolve_no_follow(&self, path: &ImagePath) -> Result<ImagePath, ResolveError> {
        match path.parent() {
            None => Ok(ImagePath::root()),
            Some(parent) => Ok(self.resolve_dir(&parent)?.join(path.file_name())),
        }
    }

    /// `tree::stat` through the directory cache: resolve the parent (cached), then follow
    /// the final component. Targets whose `..` could cross a symlink take the slow path.
    pub(super) fn stat(
        &self,
        path: &ImagePath,
    ) -> Result<(ImagePath, Option<NodeKind>), ResolveError> {
        self.follow(path, None, false)
            .map(|(p, k)| (p, k.map(|(k, _)| k)))
    }

    /// [`Self::stat`] of `path`, a symlink whose target `link` was read already, also
    /// saying whether a regular file it leads to is empty (one look at it).
    pub(super) fn stat_link_empty(
        &self,
        path: &ImagePath,
        link: String,
    ) -> Result<(ImagePath, Option<(NodeKind, bool)>), ResolveError> {
        self.follow(path, Some(link), true)
    }

    /// [`Self::stat`]'s walk. `link`: the target of `path` (a symlink), already read;
    /// `empty`: also say whether a regular file found is empty.
    pub(super) fn follow(
        &self,
        path: &ImagePath,
        mut link: Option<String>,
        empty: bool,
    ) -> Result<(ImagePath, Option<(NodeKind, bool)>), ResolveError> {
        let mut p = path.clone();
        for _ in 0..=tree::MAX_SYMLINK_HOPS {
            let phys = self.resolve_no_follow(&p)?;
            let io = |e: std::io::Error| ResolveError::Io(phys.clone(), e.to_string());
            let target = match link.take() {
                Some(t) => t,
                None => {
                    let kind = if empty {
                        self.tree.lstat_empty(&phys)
                    } else {
                        self.tree.lstat(&phys).map(|k| k.map(|k| (k, false)))
                    }
                    .map_err(io)?;
                    if kind.is_none_or(|(k, _)| k != NodeKind::Symlink) {
                        return Ok((phys, kind));
                    }
                    self.tree.read_link(&phys).map_err(io)?
                }
            };
            // Lexical `..` is only right while it climbs out of a physical directory.
            let parts: Vec<&str> = target
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            let leading = parts.iter().take_while(|c| **c == "..").count();
            if target.starts_with('/') && parts.contains(&"..") || parts[leading..].contains(&"..")
            {
                let (p, kind) = tree::stat(self.tree, path)?;
                let empty = empty
                    && kind == Some(NodeKind::File)
                    && self.tree.is_empty_file(&p).unwrap_or(false);
                return Ok((p, kind.map(|k| (k, empty))));
            }
            p = if target.starts_with('/') {
                ImagePath::new(&target)
            } else {
                ImagePath::new(&format!(
                    "{}/{target}",
                    phys.parent().unwrap_or_else(ImagePath::root)
                ))
            };
        }
        Err(ResolveError::Loop(path.clone()))
    }

    /// Follow aliases by name; the fragment path and the final name.
    pub(super) fn resolve_name(&self, name: &str) -> Result<(ImagePath, String), bool> {
        let mut cur = name.to_string();
        for _ in 0..=MAX_ALIAS_HOPS {
            match self.ids.get(cur.as_str()) {
                None => return Err(false),
                Some(IdEntry::Path { path, .. }) => return Ok((path.clone(), cur)),
                Some(IdEntry::Alias(t)) => cur = t.clone(),
            }
        }
        Err(true)
    }

    pub(super) fn dir_of(&self, name: &str) -> Option<usize> {
        match self.ids.get(name) {
            Some(IdEntry::Path { dir, .. }) => Some(*dir),
            _ => None,
        }
    }
}
