//! Fragment lookup of systemd before 243 (v225–v242 `load-fragment.c`: `load_from_path`,
//! `open_follow`, `merge_by_names`, `unit_load_fragment`; docs/semantics.md "systemd
//! before 243"). A name is looked up in each search directory in turn; the first entry that
//! leads to a file wins. Its symlinks are followed by path (at most 8 names), every valid
//! unit name met on the way becomes a name of the unit, and the last one — the file's own
//! — its id: a linked unit file is named after its target. Before 240 a unit that no search
//! directory has is loaded from the target of the `.wants/`/`.requires/` link that named it
//! (the "suggested" fragment path of `manager_load_unit_prepare`).

use super::*;

/// `FOLLOW_MAX` of `open_follow`: names looked at along one chain of symlinks.
const FOLLOW_MAX: usize = 8;

/// Where a chain of symlinks ends.
pub(super) struct Chain {
    /// The valid unit names met, in order (the first is the entry's own).
    names: Vec<String>,
    /// The file it leads to (physical), or the last link when that points at `/dev/null`.
    path: ImagePath,
}

impl<'t> Loader<'t> {
    /// [`Self::find_fragment`] before 243: the unit's id, fragment and names.
    #[allow(clippy::type_complexity)]
    pub(super) fn find_fragment_by_path(
        &mut self,
        name: &str,
    ) -> (String, Option<(ImagePath, usize)>, BTreeSet<String>) {
        let un = UnitName::parse(name).expect("only valid names are loaded");
        let instance = un.instance.filter(|i| !i.is_empty());
        let mut found = self.lookup_by_path(name);
        // A stub has no other names yet; next the path suggested by a `.wants/` link (before
        // 240: `process_deps`/`add_dependency_consumer` pass the link's path along).
        if found.is_none()
            && self.rules.wants_links_load_units()
            && let Some((hint, dir)) = self.load_hints.get(name).cloned()
        {
            found = self.follow_or_warn(&hint).map(|c| (c, dir));
        }
        if found.is_none()
            && let Some(t) = un.template().filter(|_| instance.is_some())
        {
            found = self.lookup_by_path(&t);
        }
        let mut names = BTreeSet::from([name.to_string()]);
        let Some((chain, dir)) = found else {
            return (name.to_string(), None, names);
        };
        let mut id = name.to_string();
        for n in &chain.names {
            // `unit_merge_by_name`/`unit_add_name`: a template name takes the unit's
            // instance. A name of another type, or a plain name for an instance (or the
            // reverse), cannot join: the merge fails, `load_from_path` returns the error
            // and the unit is not found (no alias validation before 243).
            let Some(u) = UnitName::parse(n) else {
                continue;
            };
            let full = match (u.kind(), instance) {
                _ if u.unit_type != un.unit_type => None,
                (NameKind::Template, Some(i)) => Some(u.with_instance(i)),
                (NameKind::Instance, Some(_)) | (NameKind::Plain, None) => Some(n.clone()),
                _ => None,
            };
            let Some(full) = full else {
                self.warn(
                    None,
                    None,
                    format!(
                        "{name}: its symlinks lead to {}, a name it cannot take (systemd \
                         before 243 fails to merge them): not loaded",
                        abbreviate(n)
                    ),
                );
                return (name.to_string(), None, BTreeSet::from([name.to_string()]));
            };
            names.insert(full.clone());
            // `unit_choose_id()` with the last name of the chain.
            id = full;
        }
        (id, Some((chain.path, dir)), names)
    }

    /// `load_from_path()` with a bare name: the first search directory whose entry by that
    /// name leads to a file (a dangling one is `ENOENT`: the next directory is tried).
    fn lookup_by_path(&mut self, name: &str) -> Option<(Chain, usize)> {
        for i in 0..self.dirs.len() {
            if !matches!(
                self.listings[i].get(name),
                Some(NodeKind::File | NodeKind::Symlink)
            ) {
                continue;
            }
            let start = self.dirs[i].physical.join(name);
            match self.follow_by_path(&start) {
                Ok(Some(c)) => return Some((c, i)),
                Ok(None) => {}
                // Any other error ends the lookup: the unit is not found.
                Err(msg) => {
                    self.warn(Some(&start), None, format!("unit file not loaded: {msg}"));
                    return None;
                }
            }
        }
        None
    }

    fn follow_or_warn(&mut self, start: &ImagePath) -> Option<Chain> {
        match self.follow_by_path(start) {
            Ok(c) => c,
            Err(msg) => {
                self.warn(Some(start), None, format!("unit file not loaded: {msg}"));
                None
            }
        }
    }

    /// `open_follow()`: follow `start`'s symlinks by path, inside the image, collecting the
    /// valid unit names on the way. `Ok(None)`: it leads nowhere (`ENOENT`).
    fn follow_by_path(&self, start: &ImagePath) -> Result<Option<Chain>, String> {
        let mut p = start.clone();
        let mut names: Vec<String> = Vec::new();
        for _ in 0..FOLLOW_MAX {
            let base = p.file_name();
            if UnitName::parse(base).is_some() && !names.iter().any(|n| n == base) {
                names.push(base.to_string());
            }
            let phys = match self.resolve_no_follow(&p) {
                Ok(x) => x,
                Err(ResolveError::Missing(_)) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            match self.tree.lstat(&phys) {
                Ok(None) => return Ok(None),
                Ok(Some(NodeKind::Symlink)) => {
                    let raw = self
                        .tree
                        .read_link(&phys)
                        .map_err(|e| format!("cannot read symlink: {e}"))?;
                    // A mask, whether or not the image has a `/dev`.
                    if raw == "/dev/null" {
                        return Ok(Some(Chain { names, path: phys }));
                    }
                    // `readlink_and_make_absolute()`: relative to the link's directory.
                    p = if raw.starts_with('/') {
                        ImagePath::new(&raw)
                    } else {
                        ImagePath::new(&format!(
                            "{}/{raw}",
                            p.parent().unwrap_or_else(ImagePath::root)
                        ))
                    };
                }
                Ok(Some(_)) => return Ok(Some(Chain { names, path: phys })),
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("too many levels of symbolic links".to_string())
    }

    /// Names that joined the already loaded unit `id` (before 243 an alias is known only
    /// once something loads it: `merge_by_names` then merges the new unit into `id`). For
    /// every type but services, v225–v242 `unit_load_fragment_and_dropin` reads the
    /// drop-ins and `.wants/`/`.requires/` directories again with every name
    /// (`unit_load_dropin(unit_follow_merge(u))`); `service_load` does not (the merged unit
    /// is not `UNIT_LOADED`), so a service alias met late brings nothing.
    pub(super) fn late_aliases(&mut self, id: &str) {
        let Some(mut unit) = self.units.remove(id) else {
            return;
        };
        let reads = matches!(unit.state, LoadState::Loaded | LoadState::Masked);
        if unit.unit_type != UnitType::Service && reads {
            let aliases = unit.aliases.clone();
            let applied: HashSet<ImagePath> = unit.dropins.iter().map(|d| d.path.clone()).collect();
            let dropins = self.dropins(id, &aliases, unit.unit_type);
            let mut st = Applied::default();
            self.apply_dropins(&mut unit, &dropins, |p| applied.contains(p), &mut st, false);
            super::build::trim(&mut unit);
            unit.dropins = dropins;
            self.digest_files(&mut unit);
            // Edges from the unit's own directories come again, identical, and are
            // de-duplicated with the rest.
            self.dependency_dirs(id, &aliases, unit.unit_type);
        }
        self.units.insert(self.syms.get(id), unit);
    }
}
