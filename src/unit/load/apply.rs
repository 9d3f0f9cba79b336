//! Applying a unit file or drop-in to a unit: each assignment turned into a setting or a dependency edge with its provenance; `.wants/`, `.requires/`, `.upholds/` directories.

use super::*;

impl<'t> Loader<'t> {
    pub(super) fn add_edge(
        &mut self,
        from: &str,
        kind: DepKind,
        to: String,
        provenance: Provenance,
    ) {
        if self.raw_edges.len() >= budget::MAX_EDGES {
            self.spent.edges_cut += 1;
            return;
        }
        let to = self.syms.take(to);
        // A name already loaded stays loaded: queueing it again would find it there.
        if !self.names.contains_key(to.as_str()) {
            self.queue.push_back(to.clone());
        }
        self.raw_edges.push(Edge {
            from: self.syms.get(from),
            kind,
            to,
            provenance,
        });
    }

    /// `.wants/`, `.requires/`, `.upholds/` directories.
    pub(super) fn dependency_dirs(
        &mut self,
        id: &str,
        aliases: &BTreeSet<Sym>,
        unit_type: UnitType,
    ) {
        let mut kinds = vec![
            (".wants", DepKind::Wants, How::WantsDir),
            (".requires", DepKind::Requires, How::RequiresDir),
        ];
        if self.rules.upholds_dirs() {
            kinds.push((".upholds", DepKind::Upholds, How::UpholdsDir));
        }
        let strict = self.rules.strict_dependency_dirs();
        for (suffix, kind, how) in kinds {
            let dirs = self.candidate_dirs(id, aliases, unit_type, suffix);
            let mut seen = BTreeSet::new();
            let mut entries = Vec::new();
            for (dir, i) in dirs {
                // A type-level directory (`service.wants/`) applies to every unit of its
                // type: it has a share like a file.
                if !self.spent.may_apply(&dir, self.raw_edges.len()) {
                    continue;
                }
                let listing = self.list_dir(&dir);
                for (name, nk) in listing.as_deref().unwrap_or_default() {
                    if name.starts_with('.') {
                        continue;
                    }
                    if !self.spent.take(&dir, 1) {
                        break;
                    }
                    if strict && !seen.insert(name.clone()) {
                        continue;
                    }
                    entries.push((dir.join(name), name.clone(), *nk, i));
                }
            }
            if strict {
                entries.sort_by(|a, b| a.1.cmp(&b.1));
            }
            for (path, name, nk, i) in entries {
                let layer = self.dirs[i].layer;
                if strict {
                    if matches!(self.read_file_kind(&path, nk), Some(true)) {
                        continue; // masked
                    }
                    if nk != NodeKind::Symlink {
                        self.warn(Some(&path), None, "not a symlink, ignoring");
                        continue;
                    }
                }
                let Some(un) = UnitName::parse(&name) else {
                    self.warn(Some(&path), None, "not a valid unit name, ignoring");
                    continue;
                };
                let target = if un.kind() == NameKind::Template {
                    deps::resolve_template(&name, id)
                } else {
                    name.clone()
                };
                if self.rules.wants_links_load_units() {
                    // The link's path goes along with the name: a unit it creates that no
                    // search directory has is loaded from it (`manager_load_unit_prepare`).
                    self.load_hints
                        .entry(target.clone())
                        .or_insert_with(|| (path.clone(), i));
                }
                let provenance = Provenance {
                    origin: Origin::File,
                    how,
                    path: Some(path),
                    line: None,
                    layer: Some(layer),
                    rule: None,
                    generator: None,
                };
                self.add_edge(id, kind, target, provenance);
            }
        }
    }

    /// Whether a dependency-directory entry is a mask (`/dev/null` link or empty file).
    pub(super) fn read_file_kind(&self, path: &ImagePath, nk: NodeKind) -> Option<bool> {
        match nk {
            NodeKind::File => Some(self.tree.is_empty_file(path).unwrap_or(false)),
            NodeKind::Symlink => {
                let raw = self.tree.read_link(path).ok()?;
                if raw == "/dev/null" {
                    return Some(true);
                }
                match self.stat_link_empty(path, raw) {
                    Ok((p, k)) => Some(
                        p.as_str() == "/dev/null"
                            || matches!(
                                k,
                                Some((NodeKind::CharDevice, _) | (NodeKind::File, true))
                            ),
                    ),
                    Err(_) => Some(false),
                }
            }
            _ => Some(false),
        }
    }

    pub(super) fn sections(unit_type: UnitType) -> Vec<&'static str> {
        let mut s = vec!["Unit", "Install"];
        if let Some(t) = unit_type.section() {
            s.push(t);
        }
        s
    }

    /// Parse a file and apply it to unit `id`. Returns false on a fatal parse error.
    pub(super) fn apply_file(
        &mut self,
        unit: &mut Unit,
        ctx: FileCtx,
        content: &[u8],
        st: &mut Applied,
        template: bool,
    ) -> bool {
        let key = (ctx.path.clone(), unit.unit_type);
        let parsed = match self.parses.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = Rc::new(syntax::parse(
                    content,
                    &Self::sections(unit.unit_type),
                    &self.rules,
                ));
                // Kept for the next unit only if one can read it again: a drop-in or an
                // include (shared by type, prefix or template), or a fragment another unit
                // reads ([`fragment_read_again`]). Keeping every parse held a second copy of
                // every setting until the load ended (~100 MB in a 100k-unit image).
                if ctx.how != How::Fragment || fragment_read_again(&unit.id) {
                    self.parses.insert(key, p.clone());
                }
                p
            }
        };
        if !self.spent.may_apply(ctx.path, self.raw_edges.len()) {
            // Past the file's share: not applied to this unit (warned once, with counts).
            return parsed.fatal.is_none();
        }
        for w in &parsed.warnings {
            self.warn(Some(ctx.path), Some(w.line), w.message.clone());
        }
        // Each `.include` is read in its place, between the assignments around it.
        let mut next = 0;
        for inc in &parsed.includes {
            for a in &parsed.assignments[next..inc.at] {
                self.apply_assignment(unit, &ctx, a, st, template);
            }
            next = inc.at;
            if !self.include(unit, &ctx, inc, st, template) {
                return false;
            }
        }
        for a in &parsed.assignments[next..] {
            self.apply_assignment(unit, &ctx, a, st, template);
        }
        if let Some(f) = &parsed.fatal {
            self.warn(
                Some(ctx.path),
                Some(f.line),
                format!("fatal: {}", f.message),
            );
            return false;
        }
        true
    }

    /// Read the file of an `.include` line (systemd before 246, `conf-parser.c
    /// parse_line`) and apply it to the unit. Returns false when that is fatal for the
    /// unit: systemd fails the whole fragment when the file cannot be read, except when it
    /// does not exist (ignored).
    fn include(
        &mut self,
        unit: &mut Unit,
        ctx: &FileCtx,
        inc: &syntax::Include,
        st: &mut Applied,
        template: bool,
    ) -> bool {
        let line = Some(inc.line);
        let allowed = match ctx.how {
            How::Fragment => true,
            How::Include => self.rules.nested_include(),
            _ => false,
        };
        if !allowed {
            self.warn(Some(ctx.path), line, ".include not allowed here, ignoring");
            return true;
        }
        if self.rules.include_first_word() {
            self.warn(
                Some(ctx.path),
                line,
                ".include is deprecated (systemd 239+ warns; removed in 246); use a drop-in",
            );
        }
        if ctx.depth >= budget::MAX_INCLUDE_DEPTH || self.includes_left == 0 {
            self.warn(
                Some(ctx.path),
                line,
                format!(
                    ".include nested more than {} deep or more than {} in one fragment (a \
                     cycle?): the unit is not loaded",
                    budget::MAX_INCLUDE_DEPTH,
                    budget::MAX_INCLUDES_PER_FRAGMENT
                ),
            );
            return false;
        }
        self.includes_left -= 1;
        if !self.spent.take(ctx.path, budget::INCLUDE_COST) {
            self.warn(
                Some(ctx.path),
                line,
                ".include not read: this file's share of the work budget is spent",
            );
            return true;
        }
        // `file_in_same_dir()`: an absolute path as it is (inside the image), a relative
        // one from the including file's directory.
        let path = if inc.path.starts_with('/') {
            ImagePath::new(&inc.path)
        } else {
            ImagePath::new(&format!("{}/{}", ctx.dir, inc.path))
        };
        let shown = abbreviate(&inc.path).into_owned();
        // `config_parse()` returns 0 for a file that does not exist (ENOENT).
        match self.stat(&path) {
            Err(ResolveError::Missing(_)) | Ok((_, None)) => {
                self.warn(
                    Some(ctx.path),
                    line,
                    format!(".include {shown}: no such file, ignored"),
                );
                return true;
            }
            _ => {}
        }
        match self.read_file(&path, None) {
            FileRead::Content(content, target) => {
                let base = target.as_ref().unwrap_or(&path);
                // The layer of the search directory the file is in (a vendor unit read by
                // an admin's fragment is vendor content); outside the search path, the
                // including file's.
                let real = self
                    .resolve_no_follow(base)
                    .unwrap_or_else(|_| base.clone());
                let layer = self
                    .dirs
                    .iter()
                    .find(|d| real.starts_with(&d.physical))
                    .map_or(ctx.layer, |d| d.layer);
                // A nested `.include` is relative to the path as written, not to where a
                // symlink leads: `config_parse(fn)` keeps `fn` as its file name (236–245).
                let sub = FileCtx {
                    path: &path,
                    layer,
                    how: How::Include,
                    dir: path.parent().unwrap_or_else(ImagePath::root),
                    depth: ctx.depth + 1,
                };
                self.apply_file(unit, sub, &content, st, template)
            }
            // An empty file or `/dev/null` reads as nothing.
            FileRead::Masked => true,
            FileRead::Failed(msg) => {
                self.warn(
                    Some(ctx.path),
                    line,
                    format!(".include {shown}: {msg}; the unit is not loaded"),
                );
                false
            }
        }
    }

    pub(super) fn setting(&mut self, ctx: &FileCtx, a: &Assignment) -> Setting {
        Setting {
            section: self.syms.get(&a.section),
            key: self.syms.get(&a.key),
            value: self.syms.get(&a.value),
            path: ctx.path.clone(),
            line: a.line,
            layer: ctx.layer,
        }
    }

    pub(super) fn apply_assignment(
        &mut self,
        unit: &mut Unit,
        ctx: &FileCtx,
        a: &Assignment,
        st: &mut Applied,
        template: bool,
    ) {
        let prov = |origin| Provenance {
            origin,
            how: ctx.how,
            path: Some(ctx.path.clone()),
            line: Some(a.line),
            layer: Some(ctx.layer),
            rule: None,
            generator: None,
        };
        let id = unit.id.clone();
        let utype = unit.unit_type;
        if a.section == "Install" {
            match a.key.as_str() {
                "WantedBy" | "RequiredBy" | "UpheldBy" | "Alias" | "Also" | "DefaultInstance" => {
                    unit.install.push(self.setting(ctx, a))
                }
                k if k.starts_with("X-") => {}
                k => self.warn(
                    Some(ctx.path),
                    Some(a.line),
                    format!("unknown key '{k}' in [Install], ignoring"),
                ),
            }
            return;
        }
        if unit.settings.len() >= budget::MAX_SETTINGS_PER_UNIT {
            // Warned once per file (warnings are de-duplicated; the unit is not named, so
            // the instances of one template share it).
            self.warn(
                Some(ctx.path),
                None,
                format!(
                    "more than {} settings for one unit; the rest of this file is ignored",
                    budget::MAX_SETTINGS_PER_UNIT
                ),
            );
            return;
        }
        if self.spent.take(ctx.path, 1) && self.spent.setting(a.value.len()) {
            unit.settings.push(self.setting(ctx, a));
        }
        if template {
            return;
        }
        if a.section == "Unit" {
            // A value this version does not know is ignored, keeping the earlier one.
            if a.key == "SuccessAction"
                && (a.value.is_empty() || self.rules.emergency_action_known(&a.value))
            {
                st.success_action = !a.value.is_empty() && a.value != "none";
            }
            let Some(kind) = deps::unit_directive(&a.key, &self.rules) else {
                return;
            };
            if matches!(kind, DepKind::OnFailure)
                && self.rules.drops_onfailure_on_slice_device()
                && !deps::can_fail(utype)
            {
                self.warn(
                    Some(ctx.path),
                    Some(a.line),
                    format!("{} units cannot fail, OnFailure= ignored", utype),
                );
                return;
            }
            for (i, word) in deps::split_words(&a.value).into_iter().enumerate() {
                let over = self.raw_edges.len() >= budget::MAX_EDGES;
                if over || !self.spent.take(ctx.path, 1) {
                    // Out of budget: count what is cut without expanding it (past the
                    // file's share, its own warning says so).
                    if over {
                        self.spent.edges_cut += deps::split_words(&a.value).len() - i;
                    }
                    break;
                }
                let Some(target) = self.dependency_target(&id, &word, ctx.path, a.line) else {
                    continue;
                };
                if kind == DepKind::Before
                    && self.rules.drops_before_device()
                    && UnitName::parse(&target).is_some_and(|t| t.unit_type == UnitType::Device)
                {
                    continue;
                }
                self.add_edge(&id, kind, target, prov(Origin::File));
            }
            return;
        }
        match (utype, a.key.as_str()) {
            (
                UnitType::Service
                | UnitType::Socket
                | UnitType::Mount
                | UnitType::Swap
                | UnitType::Scope
                | UnitType::Slice,
                "Slice",
            ) => {
                if a.value.is_empty() {
                    return;
                }
                let Some(target) = self.dependency_target(&id, &a.value, ctx.path, a.line) else {
                    return;
                };
                if !target.ends_with(".slice") {
                    self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        format!("Slice= must name a slice, ignoring {target}"),
                    );
                    return;
                }
                // Every Slice= value is loaded; only one becomes the unit's slice. A slice
                // cannot be put in another (its parent comes from its name): systemd loads the
                // named slice and ignores the setting (checked against 252's --test).
                let t = self.syms.get(&target);
                self.queue.push_back(t);
                if utype == UnitType::Slice {
                    self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        format!("a slice's parent comes from its name, ignoring Slice={target}"),
                    );
                    return;
                }
                if st.slice.is_none() || self.rules.slice_last_wins() {
                    st.slice = Some((target, prov(Origin::SliceProperty)));
                }
            }
            (UnitType::Service, "Sockets") => {
                for word in deps::split_words(&a.value) {
                    let Some(target) = self.dependency_target(&id, &word, ctx.path, a.line) else {
                        continue;
                    };
                    if !target.ends_with(".socket") {
                        self.warn(
                            Some(ctx.path),
                            Some(a.line),
                            format!("Sockets= must name sockets, ignoring {target}"),
                        );
                        continue;
                    }
                    self.add_edge(&id, DepKind::After, target.clone(), prov(Origin::File));
                    self.add_edge(&id, DepKind::Wants, target.clone(), prov(Origin::File));
                    self.add_edge(&id, DepKind::TriggeredBy, target, prov(Origin::File));
                }
            }
            (UnitType::Socket, "Service") => {
                if a.value.is_empty() {
                    return;
                }
                match self.dependency_target(&id, &a.value, ctx.path, a.line) {
                    Some(t) if t.ends_with(".service") => {
                        st.socket_service = Some((t, prov(Origin::Implicit)))
                    }
                    Some(t) => self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        format!("Service= must name a service, ignoring {t}"),
                    ),
                    None => {}
                }
            }
            (UnitType::Timer | UnitType::Path, "Unit") => {
                if a.value.is_empty() {
                    return;
                }
                let Some(target) = self.dependency_target(&id, &a.value, ctx.path, a.line) else {
                    return;
                };
                if UnitName::parse(&target).is_some_and(|t| t.unit_type == utype) {
                    self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        format!("Unit= cannot be of type {utype}, ignoring"),
                    );
                    return;
                }
                if st.trigger_set {
                    self.warn(
                        Some(ctx.path),
                        Some(a.line),
                        "multiple units to trigger specified, ignoring",
                    );
                    return;
                }
                if target == id {
                    return;
                }
                st.trigger_set = true;
                self.add_edge(&id, DepKind::Before, target.clone(), prov(Origin::File));
                self.add_edge(&id, DepKind::Triggers, target, prov(Origin::File));
            }
            (UnitType::Socket, k) if k.starts_with("Listen") => {
                if a.value.is_empty() {
                    st.listeners.clear();
                } else {
                    st.listeners.push((k.to_string(), a.value.to_string()));
                }
            }
            (UnitType::Socket, "Accept") => st.accept = parse_bool(&a.value).unwrap_or(st.accept),
            (UnitType::Service, "ExecStart") => {
                st.exec_start = if a.value.is_empty() {
                    0
                } else {
                    st.exec_start + 1
                }
            }
            (UnitType::Service, "ExecStop") => {
                st.exec_stop = if a.value.is_empty() {
                    0
                } else {
                    st.exec_stop + 1
                }
            }
            // A value this version does not know is ignored (logged by systemd).
            (UnitType::Service, "Type") if self.rules.service_type_known(&a.value) => {
                st.service_type = Some(a.value.clone())
            }
            (UnitType::Service, "BusName") => st.bus_name = !a.value.is_empty(),
            (UnitType::Service, "RemainAfterExit") => {
                st.remain_after_exit = parse_bool(&a.value).unwrap_or(false)
            }
            (UnitType::Timer, k) if k.starts_with("On") => {
                st.timer_triggers = if a.value.is_empty() {
                    0
                } else {
                    st.timer_triggers + 1
                }
            }
            (
                UnitType::Path,
                "PathExists" | "PathExistsGlob" | "PathChanged" | "PathModified"
                | "DirectoryNotEmpty",
            ) => {
                st.path_triggers = if a.value.is_empty() {
                    0
                } else {
                    st.path_triggers + 1
                }
            }
            _ => {}
        }
    }

    /// One word of a dependency value → the unit name it refers to, or `None` (warned).
    pub(super) fn dependency_target(
        &mut self,
        id: &str,
        word: &str,
        path: &ImagePath,
        line: u32,
    ) -> Option<String> {
        let expanded = match deps::expand_specifiers_with(word, id, &self.rules, &self.facts) {
            Ok(e) => e,
            Err(e) => {
                self.warn(
                    Some(path),
                    Some(line),
                    format!("failed to resolve '{}': {e}, ignoring", abbreviate(word)),
                );
                return None;
            }
        };
        let Some(target) = UnitName::parse(&expanded) else {
            self.warn(
                Some(path),
                Some(line),
                format!(
                    "'{}' is not a valid unit name, ignoring",
                    abbreviate(&expanded)
                ),
            );
            return None;
        };
        // v250+: a template depending on itself through an instance specifier
        // (`foo@.service: Wants=foo@%i-1.service`) is dropped silently; without the guard
        // every instance would create a longer one (systemd#17602).
        let owner = UnitName::parse(id);
        if self.rules.version >= 250
            && owner.is_some_and(|o| {
                o.instance.is_some()
                    && target.instance.is_some()
                    && o.prefix == target.prefix
                    && o.unit_type == target.unit_type
            })
            && ["%i", "%I", "%n", "%N", "%j", "%J"]
                .iter()
                .any(|s| word.contains(s))
        {
            return None;
        }
        Some(deps::resolve_template(&expanded, id))
    }
}
