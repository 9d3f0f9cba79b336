//! Reading unit files and finding what applies to a unit: its fragment, the drop-in directories of its name chain (name, prefixes, type, template), and their files.

use super::*;

impl<'t> Loader<'t> {
    /// Pick the fragment for `name`: its canonical id, fragment (path and search dir index)
    /// and every name the unit answers to.
    #[allow(clippy::type_complexity)]
    pub(super) fn find_fragment(
        &mut self,
        name: &str,
    ) -> (String, Option<(ImagePath, usize)>, BTreeSet<String>) {
        if self.rules.follows_symlinks_by_path() {
            return self.find_fragment_by_path(name);
        }
        let un = UnitName::parse(name).expect("only valid names are loaded");
        let instance = un.instance.filter(|i| !i.is_empty());
        let mut names = BTreeSet::from([name.to_string()]);
        let mut found = self.resolve_name(name);
        if matches!(found, Err(false))
            && let Some(t) = un.template().filter(|_| instance.is_some())
        {
            found = self.resolve_name(&t);
        }
        let (frag, final_name) = match found {
            Ok(f) => f,
            Err(looped) => {
                if looped {
                    self.warn(None, None, format!("{name}: too many levels of aliases"));
                }
                return (name.to_string(), None, names);
            }
        };
        let id = match (UnitName::parse(&final_name), instance) {
            (Some(f), Some(i)) if f.kind() == NameKind::Template => f.with_instance(i),
            _ => final_name.clone(),
        };
        for alias in self.reverse.get(&frag).into_iter().flatten() {
            let Some(a) = UnitName::parse(alias) else {
                continue;
            };
            match (a.kind(), instance) {
                (NameKind::Plain, None) => {
                    names.insert(alias.to_string());
                }
                (NameKind::Template, Some(i)) => {
                    names.insert(a.with_instance(i));
                }
                (NameKind::Instance, Some(i)) if a.instance == Some(i) => {
                    names.insert(alias.to_string());
                }
                _ => {}
            }
        }
        names.insert(id.clone());
        let dir = self.dir_of(&final_name).unwrap_or(0);
        (id, Some((frag, dir)), names)
    }

    /// Read a unit file or drop-in at `path` (which may be a symlink), never following it
    /// out of the image and never opening anything but a regular file. `known` is the
    /// entry's kind from a listing of its (physical) directory, which saves the lookups.
    pub(super) fn read_file(&self, path: &ImagePath, known: Option<NodeKind>) -> FileRead {
        if let Some(r) = self.reads.borrow().get(path) {
            return r.clone();
        }
        let r = self.read_file_uncached(path, known);
        self.reads.borrow_mut().insert(path.clone(), r.clone());
        r
    }

    /// [`Self::read_file`] for a file no other unit reads: from the cache if it is there,
    /// not added to it.
    pub(super) fn read_file_once(&self, path: &ImagePath, known: Option<NodeKind>) -> FileRead {
        if let Some(r) = self.reads.borrow().get(path) {
            return r.clone();
        }
        self.read_file_uncached(path, known)
    }

    pub(super) fn read_file_uncached(&self, path: &ImagePath, known: Option<NodeKind>) -> FileRead {
        if known == Some(NodeKind::File) {
            return self.read_regular(path, None);
        }
        // A listed symlink is one (its link is read once, here).
        let link = known == Some(NodeKind::Symlink)
            || (known.is_none() && matches!(self.tree.lstat(path), Ok(Some(NodeKind::Symlink))));
        let link = if link {
            match self.tree.read_link(path) {
                Ok(t) if t == "/dev/null" => return FileRead::Masked,
                Ok(t) => Some(t),
                Err(e) => return FileRead::Failed(format!("cannot read symlink: {e}")),
            }
        } else {
            None
        };
        let (real, kind) = match self.follow(path, link, false) {
            Ok((p, k)) => (p, k.map(|(k, _)| k)),
            Err(e) => return FileRead::Failed(e.to_string()),
        };
        let target = (real != *path).then(|| real.clone());
        match kind {
            _ if real.as_str() == "/dev/null" => FileRead::Masked,
            None => FileRead::Failed(format!("dangling symlink to {real}")),
            Some(NodeKind::CharDevice) => FileRead::Masked,
            Some(NodeKind::File) => self.read_regular(&real, target),
            Some(NodeKind::Dir) => FileRead::Failed("is a directory".to_string()),
            Some(NodeKind::Special) => {
                FileRead::Failed("not a regular file (FIFO, socket or device), not opened".into())
            }
            Some(NodeKind::Symlink) => FileRead::Failed("unresolvable symlink".to_string()),
        }
    }

    /// Read a physical regular file; an empty one is a mask.
    pub(super) fn read_regular(&self, real: &ImagePath, target: Option<ImagePath>) -> FileRead {
        let spent = self.spent.bytes_read.get();
        if spent >= budget::MAX_BYTES_READ {
            return FileRead::Failed(format!(
                "not read: over {} bytes of unit files were read from this image already",
                budget::MAX_BYTES_READ
            ));
        }
        let limit = MAX_FILE_SIZE.min(budget::MAX_BYTES_READ - spent);
        match self.tree.read_file(real, limit) {
            Ok(b) if b.is_empty() => FileRead::Masked,
            Ok(b) => {
                self.spent.bytes_read.set(spent + b.len() as u64);
                FileRead::Content(b.into(), target)
            }
            Err(e) => FileRead::Failed(format!("cannot read: {e}")),
        }
    }

    /// Entries of a physical directory, cached.
    pub(super) fn list_dir(&mut self, dir: &ImagePath) -> Option<Listing> {
        if let Some(c) = self.dir_cache.get(dir) {
            return c.clone();
        }
        let r = match self.tree.read_dir(dir) {
            Ok(e) => Some(e.into()),
            Err(e) => {
                self.warn(Some(dir), None, format!("cannot list directory: {e}"));
                None
            }
        };
        self.dir_cache.insert(dir.clone(), r.clone());
        r
    }

    /// If search directory `i` has a directory (or a symlink to one) named `name`, its
    /// physical path.
    pub(super) fn subdir(&mut self, i: usize, name: &str) -> Option<ImagePath> {
        let kind = *self.listings.get(i)?.get(name)?;
        let path = self.dirs[i].physical.join(name);
        match kind {
            NodeKind::Dir => Some(path),
            NodeKind::Symlink => match self.stat(&path) {
                Ok((p, Some(NodeKind::Dir))) => Some(p),
                Ok(_) => None,
                Err(e) => {
                    self.warn(Some(&path), None, e.to_string());
                    None
                }
            },
            _ => None,
        }
    }

    /// The next name `unit_file_find_dirs` recurses into for `name`'s dash prefix
    /// (`foo-bar@x.service` → `foo-@x.service`, `foo-bar@.service` → `foo-.service`).
    pub(super) fn prefix_name(&self, un: &UnitName) -> Option<String> {
        if !self.rules.prefix_dropins() {
            return None;
        }
        let mut prefix = un.prefix;
        let mut chopped = false;
        loop {
            let dash = prefix.rfind('-')?;
            if dash == 0 {
                return None;
            }
            if dash + 1 != prefix.len() || chopped {
                prefix = &prefix[..dash + 1];
                break;
            }
            prefix = &prefix[..dash];
            chopped = true;
        }
        // A template's prefixes are plain names (`foo-bar@.service` → `foo-.service`); an
        // instance keeps its instance (`foo-bar@x.service` → `foo-@x.service`).
        let built = match un.instance {
            Some(inst) if !inst.is_empty() => format!("{prefix}@{inst}.{}", un.unit_type),
            _ => format!("{prefix}.{}", un.unit_type),
        };
        UnitName::parse(&built).is_some().then_some(built)
    }

    /// The names `unit_file_find_dirs` looks up for `name`, in its order (the name, its
    /// template's chain, then its dash prefix's chain), keeping only names that some search
    /// directory has a `NAME.d`/`.wants`/… for, each once (a directory seen again adds
    /// nothing: drop-ins and links are taken by first file name). The same in every search
    /// directory, so it is computed once per name, iteratively, with templates' and plain
    /// names' chains shared: systemd's recursion visits O(dashes²) names per instance.
    pub(super) fn name_chain(&mut self, name: &str) -> Rc<[String]> {
        if let Some(c) = self.chains.get(name) {
            return c.clone();
        }
        if let Some((n, c)) = &self.last_chain
            && n == name
        {
            return c.clone();
        }
        let mut out: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::default();
        let mut cur = Some(name.to_string());
        while let Some(n) = cur.take() {
            let Some(un) = UnitName::parse(&n) else {
                break;
            };
            let template = (un.kind() == NameKind::Instance)
                .then(|| un.template())
                .flatten();
            let next = self.prefix_name(&un);
            if self.stems.contains(&n) && seen.insert(n.clone()) {
                out.push(n.clone());
            }
            if let Some(t) = template {
                // A template's chain has no instances in it: no deeper than this.
                for m in self.name_chain(&t).iter() {
                    if seen.insert(m.clone()) {
                        out.push(m.clone());
                    }
                }
            }
            cur = next;
        }
        let c: Rc<[String]> = out.into();
        // Kept for names asked again and again: templates (every instance asks) and the few
        // names that have directories. Most chains are empty and asked for by one unit; a
        // copy of every unit name here held ~30 MB at 100k units.
        if !c.is_empty() || UnitName::parse(name).is_some_and(|u| u.kind() == NameKind::Template) {
            self.chains.insert(name.to_string(), c.clone());
        } else {
            self.last_chain = Some((name.to_string(), c.clone()));
        }
        c
    }

    /// Every candidate directory for `id` with `suffix`, in systemd's precedence order:
    /// for each name (the unit's, then its aliases'), every search directory with that
    /// name's chain; then the type-level directories.
    pub(super) fn candidate_dirs(
        &mut self,
        id: &str,
        aliases: &BTreeSet<Sym>,
        unit_type: UnitType,
        suffix: &str,
    ) -> Vec<(ImagePath, usize)> {
        let mut out = Vec::new();
        for name in std::iter::once(id).chain(aliases.iter().map(Sym::as_str).filter(|a| *a != id))
        {
            let chain = self.name_chain(name);
            for i in 0..self.dirs.len() {
                for n in chain.iter() {
                    let present = self.subdir_index[i]
                        .get(n.as_str())
                        .is_some_and(|s| s.contains(&suffix));
                    if present && let Some(p) = self.subdir(i, &format!("{n}{suffix}")) {
                        out.push((p, i));
                    }
                }
            }
        }
        if self.rules.type_dropins() {
            out.extend(self.type_dirs(unit_type, suffix).iter().cloned());
        }
        out
    }

    /// The type-level directories (`service.d/`, `service.wants/`…) of every search
    /// directory, in precedence order: the same for every unit of the type, found once.
    fn type_dirs(&mut self, unit_type: UnitType, suffix: &str) -> Rc<[(ImagePath, usize)]> {
        let key = format!("{unit_type}{suffix}");
        if let Some(d) = self.type_dirs.get(&key) {
            return d.clone();
        }
        let mut out = Vec::new();
        for i in 0..self.dirs.len() {
            if let Some(p) = self.subdir(i, &key) {
                out.push((p, i));
            }
        }
        let out: Rc<[(ImagePath, usize)]> = out.into();
        self.type_dirs.insert(key, out.clone());
        out
    }

    /// Drop-in files for a unit: winners by file name, sorted by file name (masks and
    /// unreadable entries included: they set nothing but hide lower same-named ones).
    pub(super) fn dropins(
        &mut self,
        id: &str,
        aliases: &BTreeSet<Sym>,
        unit_type: UnitType,
    ) -> Vec<UnitFile> {
        let dirs = self.candidate_dirs(id, aliases, unit_type, ".d");
        let mut winners: BTreeMap<String, UnitFile> = BTreeMap::new();
        for (dir, i) in dirs {
            let listing = self.list_dir(&dir);
            for (name, kind) in listing.as_deref().unwrap_or_default() {
                let kind = *kind;
                if name.starts_with('.') || !name.ends_with(".conf") || winners.contains_key(name) {
                    continue;
                }
                // Before 239 the listing kept only files and symlinks (by entry type).
                if !self.rules.dropin_dirs_take_name()
                    && !matches!(kind, NodeKind::File | NodeKind::Symlink)
                {
                    continue;
                }
                let path = dir.join(name);
                let layer = self.dirs[i].layer;
                let file = match self.read_file(&path, Some(kind)) {
                    FileRead::Masked => UnitFile {
                        path,
                        target: None,
                        layer,
                        masked: true,
                        content: None,
                    },
                    FileRead::Content(c, target) => UnitFile {
                        path,
                        target,
                        layer,
                        masked: false,
                        content: Some(Content::Bytes(c)),
                    },
                    // systemd lists the name without opening it: an entry it cannot read
                    // (dangling link, directory, unreadable file) is a drop-in that sets
                    // nothing and still hides same-named ones of lower-priority directories.
                    FileRead::Failed(msg) => {
                        self.warn(
                            Some(&path),
                            None,
                            format!(
                                "drop-in not read: {msg}; it still hides drop-ins named \
                                 {name} in lower-priority directories"
                            ),
                        );
                        UnitFile {
                            path,
                            target: None,
                            layer,
                            masked: false,
                            content: None,
                        }
                    }
                };
                winners.insert(name.clone(), file);
            }
        }
        winners.into_values().collect()
    }
}
