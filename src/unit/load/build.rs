//! Building one unit: fragment, aliases, drop-ins and dependency directories merged, load state decided, and the type-specific extras (sockets, timers, paths, mounts).

use super::implicit::last;
use super::*;
use crate::unit::fs::{mount_point_ignore, mount_point_is_api, tag_to_device};
use crate::unit::path_util;
use crate::unit::rule_name::{RuleName, rule_name};

impl<'t> Loader<'t> {
    /// Load one unit (and queue what it references).
    pub(super) fn load_unit(&mut self, name: &str) {
        if self.names.contains_key(name) {
            return;
        }
        // Whatever an image says, loading stays bounded (real systems have a few thousand).
        if self.units.len() >= MAX_UNITS {
            self.spent.units_cut += 1;
            return;
        }
        let Some(un) = UnitName::parse(name) else {
            return;
        };
        if un.kind() == NameKind::Template {
            return;
        }
        if un.instance.is_some() && !self.spent.instance(un.with_instance("")) {
            return;
        }
        let (mut id, frag, names) = self.find_fragment(name);
        let by_path = self.rules.follows_symlinks_by_path();
        if by_path && let Some(other) = names.iter().find_map(|n| self.names.get(n.as_str())) {
            // Before 243 (`merge_by_names`): a name of the chain that a loaded unit has
            // already merges this one into it, whichever file the chain led to.
            id = other.to_string();
        }
        let sid = self.syms.get(&id);
        if let Some(unit) = self.units.get_mut(id.as_str()) {
            let mut late = false;
            for n in &names {
                if by_path && self.names.contains_key(n.as_str()) {
                    continue;
                }
                let n_sym = self.syms.get(n);
                if *n != id {
                    late |= unit.aliases.insert(n_sym.clone());
                }
                self.names.insert(n_sym, sid.clone());
            }
            let many = unit.aliases.len() > budget::MAX_LATE_ALIAS_READS;
            if by_path && late && many {
                self.warn(
                    None,
                    None,
                    format!(
                        "{id}: more than {} aliases met late; the directories of the others are                          not read",
                        budget::MAX_LATE_ALIAS_READS
                    ),
                );
            } else if by_path && late {
                self.late_aliases(&id);
            }
            return;
        }
        for n in &names {
            self.names.insert(self.syms.get(n), sid.clone());
        }
        let unit = self.build_unit(&id, frag, names, false);
        self.units.insert(sid, Box::new(unit));
    }

    /// Read the fragment and drop-ins of a unit or template and apply them.
    pub(super) fn build_unit(
        &mut self,
        id: &str,
        frag: Option<(ImagePath, usize)>,
        names: BTreeSet<String>,
        template: bool,
    ) -> Unit {
        let mut unit = self.read_unit(id, frag, names, template);
        trim(&mut unit);
        self.digest_files(&mut unit);
        unit
    }

    /// With [`Loader::digests`], a built unit's files keep only their SHA-256 (a unit is
    /// applied from files read afresh or from the read cache, never from its own `UnitFile`s).
    /// A copy shared by several units (a type-level drop-in, a template's fragment) is
    /// hashed once: hashing it again for each of 200,000 units would cost its size each time,
    /// past any budget.
    pub(super) fn digest_files(&mut self, unit: &mut Unit) {
        if !self.digests {
            return;
        }
        let hash = |bytes: &[u8]| {
            #[cfg(test)]
            tests::HASHED.with(|h| h.set(h.get() + bytes.len()));
            crate::unit::model::sha256(bytes)
        };
        for f in unit.fragment.iter_mut().chain(&mut unit.dropins) {
            let Some(Content::Bytes(bytes)) = &f.content else {
                continue;
            };
            let digest = if Arc::strong_count(bytes) == 1 {
                hash(bytes)
            } else {
                // Keyed by the shared copy itself, which the map keeps alive (so no other
                // copy can take its address) until `drop_indices`.
                let key = bytes.as_ptr() as usize;
                self.digested
                    .entry(key)
                    .or_insert_with(|| (bytes.clone(), hash(bytes)))
                    .1
            };
            f.content = Some(Content::Sha256(digest));
        }
    }

    fn read_unit(
        &mut self,
        id: &str,
        frag: Option<(ImagePath, usize)>,
        names: BTreeSet<String>,
        template: bool,
    ) -> Unit {
        let unit_type = UnitName::parse(id)
            .map(|u| u.unit_type)
            .unwrap_or(UnitType::Service);
        let aliases: BTreeSet<Sym> = names
            .into_iter()
            .filter(|n| n != id)
            .map(|n| self.syms.take(n))
            .collect();
        let perpetual = self.scope.is_perpetual(id);
        let mut unit = Unit {
            id: self.syms.get(id),
            unit_type,
            state: LoadState::NotFound,
            fragment: None,
            dropins: Vec::new(),
            aliases,
            install: Vec::new(),
            settings: Vec::new(),
        };
        let mut st = Applied::default();
        let mut fragment_ok = true;
        match frag {
            Some((path, dir)) if unit_type != UnitType::Scope || perpetual => {
                let layer = self.dirs[dir].layer;
                // The listing says what the entry is only for a file of that directory
                // (before 243 the fragment is where the symlinks lead).
                let known = (path.parent().as_ref() == Some(&self.dirs[dir].physical))
                    .then(|| self.listings[dir].get(path.file_name()).copied())
                    .flatten();
                let read = if fragment_read_again(id) {
                    self.read_file(&path, known)
                } else {
                    self.read_file_once(&path, known)
                };
                match read {
                    FileRead::Masked => {
                        unit.state = if perpetual {
                            LoadState::Loaded
                        } else {
                            LoadState::Masked
                        };
                        unit.fragment = Some(UnitFile {
                            path,
                            target: None,
                            layer,
                            masked: true,
                            content: None,
                        });
                    }
                    FileRead::Content(content, target) => {
                        unit.state = LoadState::Loaded;
                        // `.include` is relative to the fragment's path: the file reached
                        // through the symlinks before 243 (`open_follow`), the name-map path
                        // (the link itself for a linked unit file) from 243.
                        let base = match &target {
                            Some(t) if self.rules.version < 243 => t,
                            _ => &path,
                        };
                        let ctx = FileCtx {
                            path: &path,
                            layer,
                            how: How::Fragment,
                            dir: base.parent().unwrap_or_else(ImagePath::root),
                            depth: 0,
                        };
                        self.includes_left = budget::MAX_INCLUDES_PER_FRAGMENT;
                        fragment_ok = self.apply_file(&mut unit, ctx, &content, &mut st, template);
                        if !fragment_ok {
                            unit.state = LoadState::Error;
                        }
                        unit.fragment = Some(UnitFile {
                            path,
                            target,
                            layer,
                            masked: false,
                            content: Some(Content::Bytes(content)),
                        });
                    }
                    FileRead::Failed(msg) => {
                        self.warn(Some(&path), None, format!("unit file not loaded: {msg}"));
                        unit.fragment = None;
                    }
                }
            }
            _ => {}
        }
        if unit.fragment.is_none() && (unit_type.fragment_optional() || perpetual) {
            unit.state = LoadState::Loaded;
        }
        let reads_dropins = match unit.state {
            LoadState::Loaded => true,
            LoadState::Masked => {
                self.rules.masked_units_load_dropins()
                    || (self.rules.version < 244 && unit_type != UnitType::Service)
            }
            _ => false,
        };
        if !reads_dropins || !fragment_ok {
            return unit;
        }
        let aliases = unit.aliases.clone();
        let dropins = self.dropins(id, &aliases, unit_type);
        self.apply_dropins(&mut unit, &dropins, |_| false, &mut st, template);
        unit.dropins = dropins;
        if template {
            return unit;
        }
        self.dependency_dirs(id, &aliases, unit_type);
        let explicit_slice = st.slice.is_some();
        if let Some((slice, prov)) = st.slice.take() {
            self.add_edge(id, DepKind::InSlice, slice, prov);
        }
        if unit.state == LoadState::Loaded {
            if let Some(why) = self.context_refusal(&unit) {
                // Refused before the type's extras: no implicit, default, exec or slice
                // edges; a socket still triggers its service.
                self.refuse(&mut unit, LoadState::BadSetting, &why);
                if unit.unit_type == UnitType::Socket {
                    self.type_extras(&mut unit, &mut st);
                }
                return unit;
            }
            self.implicit_at_load(&unit, explicit_slice);
            self.type_extras(&mut unit, &mut st);
        }
        unit
    }

    /// Apply `dropins` to `unit` in order, but those `skip` names (already applied).
    pub(super) fn apply_dropins(
        &mut self,
        unit: &mut Unit,
        dropins: &[UnitFile],
        skip: impl Fn(&ImagePath) -> bool,
        st: &mut Applied,
        template: bool,
    ) {
        for d in dropins.iter().filter(|d| !skip(&d.path)) {
            // Drop-ins are applied as read, before any digest replaces their bytes.
            debug_assert!(
                !matches!(d.content, Some(Content::Sha256(_))),
                "{} applied from its digest",
                d.path
            );
            if let Some(content) = d.content.as_ref().and_then(Content::bytes) {
                let ctx = FileCtx {
                    path: &d.path,
                    layer: d.layer,
                    how: How::DropIn,
                    dir: d.path.parent().unwrap_or_else(ImagePath::root),
                    depth: 0,
                };
                self.apply_file(unit, ctx, content, st, template);
            }
        }
    }

    /// Type-specific edges systemd adds while loading (triggers), and the checks that turn
    /// a unit into `bad-setting`.
    pub(super) fn type_extras(&mut self, unit: &mut Unit, st: &mut Applied) {
        let id = unit.id.clone();
        let stem = UnitName::parse(&id)
            .map(|u| u.stem().to_string())
            .unwrap_or_default();
        let rule = |r: RuleName| Provenance {
            origin: Origin::Implicit,
            how: How::Rule,
            path: None,
            line: None,
            layer: None,
            rule: Some(r),
            generator: None,
        };
        match unit.unit_type {
            UnitType::Socket => {
                let non_accept = !st.accept
                    || st
                        .listeners
                        .iter()
                        .any(|(l, _)| l != "ListenStream" && l != "ListenSequentialPacket");
                let refusal = (unit.state == LoadState::Loaded)
                    .then(|| self.socket_refusal(unit, st))
                    .flatten();
                if non_accept {
                    let (svc, prov) = match st.socket_service.take() {
                        Some((s, mut p)) => {
                            p.rule = Some(rule_name!("socket-triggers-service"));
                            (s, p)
                        }
                        None => (
                            format!("{stem}.service"),
                            rule(rule_name!("socket-triggers-same-name-service")),
                        ),
                    };
                    self.add_edge(&id, DepKind::Before, svc.clone(), prov.clone());
                    self.add_edge(&id, DepKind::Triggers, svc, prov);
                }
                if let Some(why) = refusal {
                    self.refuse(unit, LoadState::BadSetting, &why);
                }
            }
            UnitType::Timer | UnitType::Path => {
                if !st.trigger_set {
                    let r = if unit.unit_type == UnitType::Timer {
                        rule_name!("timer-triggers-same-name-service")
                    } else {
                        rule_name!("path-triggers-same-name-service")
                    };
                    let svc = format!("{stem}.service");
                    self.add_edge(&id, DepKind::Before, svc.clone(), rule(r));
                    self.add_edge(&id, DepKind::Triggers, svc, rule(r));
                }
                let n = if unit.unit_type == UnitType::Timer {
                    st.timer_triggers
                } else {
                    st.path_triggers
                };
                if n == 0 {
                    unit.state = LoadState::BadSetting;
                    self.warn(
                        None,
                        None,
                        format!(
                            "{id}: {} has no trigger setting, bad-setting",
                            unit.unit_type
                        ),
                    );
                }
            }
            UnitType::Service => {
                let ty = st.service_type.clone().unwrap_or_else(|| {
                    if st.bus_name {
                        "dbus".into()
                    } else if st.exec_start > 0 {
                        "simple".into()
                    } else {
                        "oneshot".into()
                    }
                });
                let why = if st.exec_start == 0 && st.exec_stop == 0 && !st.success_action {
                    Some("service has no ExecStart=, ExecStop= or SuccessAction=")
                } else if ty != "oneshot" && st.exec_start == 0 {
                    Some("service has no ExecStart=, only allowed for Type=oneshot")
                } else if ty != "oneshot" && st.exec_start > 1 {
                    Some("service has more than one ExecStart=, only allowed for Type=oneshot")
                } else if st.exec_start == 0 && !st.success_action && !st.remain_after_exit {
                    Some(
                        "service has no ExecStart= and no SuccessAction= and not RemainAfterExit=yes",
                    )
                } else if ty == "dbus" && !st.bus_name {
                    Some("Type=dbus without BusName=")
                } else if pam_kill_mode(unit, "Service")
                    .is_some_and(|k| !matches!(k, "control-group" | "mixed"))
                {
                    Some("service has PAM enabled, kill mode must be control-group or mixed")
                } else if ty == "oneshot" {
                    oneshot_refusal(unit, self.rules.version)
                } else {
                    None
                };
                if let Some(why) = why {
                    unit.state = LoadState::BadSetting;
                    let path = unit.fragment.as_ref().map(|f| f.path.clone());
                    self.warn(path.as_ref(), None, format!("{why}, bad-setting"));
                }
            }
            UnitType::Mount => {
                if let Some(why) = self.mount_refusal(unit) {
                    self.refuse(unit, LoadState::BadSetting, &why);
                }
            }
            UnitType::Automount => {
                if let Some((state, why)) = self.automount_refusal(unit) {
                    self.refuse(unit, state, &why);
                }
            }
            UnitType::Swap => {
                if let Some((state, why)) = self.swap_refusal(unit) {
                    self.refuse(unit, state, &why);
                }
            }
            _ => {}
        }
    }

    /// `unit_verify_contexts` (257; 253–256 not checked, 252 has none of it): why systemd
    /// refuses a unit with an execution context before adding its type's extras (checked
    /// against 257.13's `systemd --test`). PAM with a kill mode other than `control-group`
    /// or `mixed`; `DynamicUser=` with `WorkingDirectory=~`, or in a user manager;
    /// `PrivatePIDs=` outside a service. Not modelled: `WorkingDirectory=` below `/proc`,
    /// `/sys` or `/dev` with a mount namespace.
    fn context_refusal(&self, unit: &Unit) -> Option<String> {
        if self.rules.version < 257 {
            return None;
        }
        let section = match unit.unit_type {
            UnitType::Service => "Service",
            UnitType::Socket => "Socket",
            UnitType::Mount => "Mount",
            UnitType::Swap => "Swap",
            _ => return None,
        };
        let last = |key: &str| last(unit, section, key).map(|s| s.value.as_str());
        let yes = |key: &str| last(key).and_then(super::parse_bool).unwrap_or(false);
        if yes("DynamicUser") {
            if self.scope.is_user() {
                return Some("DynamicUser= in a user manager".into());
            }
            if last("WorkingDirectory").is_some_and(|w| w.trim_start_matches('-') == "~") {
                return Some("WorkingDirectory=~ with DynamicUser=yes".into());
            }
        }
        if unit.unit_type != UnitType::Service && yes("PrivatePIDs") {
            return Some("PrivatePIDs= outside a service".into());
        }
        if pam_kill_mode(unit, section).is_some_and(|k| !matches!(k, "control-group" | "mixed")) {
            return Some("unit has PAM enabled, kill mode must be control-group or mixed".into());
        }
        None
    }

    /// Leave `unit` in `state` (systemd refused it while loading), with a warning at its
    /// fragment.
    fn refuse(&mut self, unit: &mut Unit, state: LoadState, why: &str) {
        unit.state = state;
        let path = unit.fragment.as_ref().map(|f| f.path.clone());
        let msg = format!("{}: {why}, {}", unit.id, state.as_str());
        self.warn(path.as_ref(), None, msg);
    }

    /// `mount_verify`: why systemd refuses a mount unit that loaded from a file (v225–262).
    fn mount_refusal(&self, unit: &Unit) -> Option<String> {
        let last = |key: &str| {
            unit.settings
                .iter()
                .rev()
                .find(|s| s.section == "Mount" && s.key == key)
                .map(|s| s.value.as_str())
        };
        let perpetual = self.scope.is_perpetual(&unit.id);
        // `Where=` as systemd keeps it (absolute, simplified); unset, it comes from the name.
        let where_ = super::implicit::mount_point(unit)?;
        // Specifiers in Where= are not expanded here: its checks are skipped, the others
        // still apply.
        let unexpanded = last("Where").is_some_and(|w| w.contains('%'));
        if last("Where").is_some_and(|w| w.starts_with('/')) && !unexpanded {
            let named = path_util::unit_name_from_path(&where_, ".mount", self.rules.version).ok();
            if named
                .as_ref()
                .is_none_or(|n| *n != unit.id && !unit.aliases.contains(n.as_str()))
            {
                return Some("Where= setting doesn't match unit name".into());
            }
        }
        let v = self.rules.version;
        let debian_run_lock = v < 256 && self.facts.debian_family();
        if !unexpanded
            && (mount_point_is_api(&where_, v, debian_run_lock) || mount_point_ignore(&where_, v))
        {
            return Some(format!(
                "cannot create mount unit for API file system {where_}"
            ));
        }
        if !perpetual && last("What").is_none_or(str::is_empty) {
            return Some("What= setting is missing".into());
        }
        pam_refusal(unit, "Mount", self.rules.version)
    }

    /// `automount_verify`: why systemd refuses an automount unit (checked against 252's and
    /// 257's `systemd --test`): `Where=` (simplified) must name the unit and must not be `/`.
    /// Without `Where=` the mount point comes from the name.
    fn automount_refusal(&self, unit: &Unit) -> Option<(LoadState, String)> {
        let where_ = last(unit, "Automount", "Where")
            .filter(|s| s.value.starts_with('/') && !s.value.contains('%'))?;
        let path = path_util::path_simplify(&where_.value);
        if path == "/" {
            return Some((
                LoadState::BadSetting,
                "an automount cannot be for the root directory".into(),
            ));
        }
        match path_util::unit_name_from_path(&path, ".automount", self.rules.version) {
            Err(_) => Some((
                LoadState::Error,
                format!("Where={} names no automount unit", where_.value),
            )),
            Ok(n) if n != *unit.id && !unit.aliases.contains(n.as_str()) => Some((
                LoadState::BadSetting,
                "Where= setting doesn't match unit name".into(),
            )),
            Ok(_) => None,
        }
    }

    /// `swap_verify`: why systemd refuses a swap unit that loaded from a file, and the state
    /// it leaves (checked against 252's `systemd --test`): `What=` must name the unit (as
    /// `unit_name_from_path` names it; `error` when it names nothing), and PAM wants the
    /// control group kill mode. Without `What=` the device comes from the name.
    fn swap_refusal(&self, unit: &Unit) -> Option<(LoadState, String)> {
        let v = self.rules.version;
        let what = last(unit, "Swap", "What").filter(|s| !s.value.contains('%'));
        if let Some(what) = what {
            // 256+: LABEL=/UUID=/PARTUUID=/PARTLABEL= name a /dev/disk/by-… link.
            let path = match tag_to_device(&what.value).filter(|_| v >= 256) {
                Some(dev) => dev,
                None => what.value.to_string(),
            };
            match path_util::unit_name_from_path(&path, ".swap", v) {
                Err(_) => {
                    return Some((
                        LoadState::Error,
                        format!("What={} names no swap unit", what.value),
                    ));
                }
                Ok(n) if n != *unit.id && !unit.aliases.contains(n.as_str()) => {
                    return Some((
                        LoadState::BadSetting,
                        format!("What={} does not match the unit name ({n})", what.value),
                    ));
                }
                Ok(_) => {}
            }
        }
        pam_refusal(unit, "Swap", self.rules.version).map(|why| (LoadState::BadSetting, why))
    }

    /// `socket_verify`: why systemd refuses a socket unit that loaded from a file (v225–262),
    /// in systemd's order.
    fn socket_refusal(&self, unit: &Unit, st: &Applied) -> Option<String> {
        if st.listeners.is_empty() {
            return Some("socket has no Listen setting".into());
        }
        if st.accept {
            let non_accepting = st
                .listeners
                .iter()
                .any(|(l, _)| l != "ListenStream" && l != "ListenSequentialPacket");
            if non_accepting {
                return Some("Accept=yes, but the sockets are non-accepting".into());
            }
            // `MaxConnections=` as systemd parses it (a value it cannot parse is ignored).
            let max_connections = unit
                .settings
                .iter()
                .rev()
                .filter(|s| s.section == "Socket" && s.key == "MaxConnections")
                .find_map(|s| s.value.parse::<u32>().ok());
            if max_connections == Some(0) {
                return Some("Accept=yes with MaxConnections=0".into());
            }
            if st.socket_service.is_some() {
                return Some("Accept=yes with an explicit Service=".into());
            }
        }
        if let Some(why) = pam_refusal(unit, "Socket", self.rules.version) {
            return Some(why);
        }
        // `Symlinks=` needs exactly one listener in the file system to point to
        // (`socket_find_symlink_target`): a FIFO, or a stream, datagram or sequential-packet
        // socket with a path.
        let mut symlinks = 0;
        for s in unit
            .settings
            .iter()
            .filter(|s| s.section == "Socket" && s.key == "Symlinks")
        {
            if s.value.is_empty() {
                symlinks = 0;
            } else {
                symlinks += crate::unit::words::split(&s.value).count();
            }
        }
        if symlinks > 0 {
            let in_file_system = st
                .listeners
                .iter()
                .filter(|(key, value)| match key.as_str() {
                    "ListenFIFO" => true,
                    "ListenStream" | "ListenDatagram" | "ListenSequentialPacket" => self
                        .path_printf(&unit.id, value)
                        .is_some_and(|v| v.starts_with('/')),
                    _ => false,
                })
                .count();
            if in_file_system != 1 {
                return Some(format!(
                    "Symlinks= set, but {in_file_system} listeners are in the file system, not one"
                ));
            }
        }
        None
    }
}

/// `service_verify` for `Type=oneshot` (checked against 252's and 257's `systemd --test`):
/// no `Restart=always`/`on-success`; no `RestartForceExitStatus=` before 256; no
/// `ExitType=cgroup` (250+, the setting's first version).
fn oneshot_refusal(unit: &Unit, version: u32) -> Option<&'static str> {
    let service = || unit.settings.iter().filter(|s| s.section == "Service");
    // The last value systemd can parse wins.
    let restart = service()
        .filter(|s| s.key == "Restart")
        .map(|s| s.value.as_str())
        .rfind(|v| {
            matches!(
                *v,
                "no" | "on-success"
                    | "on-failure"
                    | "on-abnormal"
                    | "on-watchdog"
                    | "on-abort"
                    | "always"
            )
        });
    if matches!(restart, Some("always" | "on-success")) {
        return Some("Type=oneshot with Restart=always or on-success");
    }
    // A list: an empty assignment clears it, so it is set when the last assignment is not
    // empty.
    let force = service()
        .rfind(|s| s.key == "RestartForceExitStatus")
        .is_some_and(|s| !s.value.is_empty());
    if force && version < 256 {
        return Some("Type=oneshot with RestartForceExitStatus=");
    }
    let exit_type = service()
        .filter(|s| s.key == "ExitType")
        .map(|s| s.value.as_str())
        .rfind(|v| matches!(*v, "main" | "cgroup"));
    if version >= 250 && exit_type == Some("cgroup") {
        return Some("Type=oneshot with ExitType=cgroup");
    }
    None
}

/// systemd refuses a mount or socket unit with `PAMName=` and a kill mode other than
/// `control-group`.
fn pam_refusal(unit: &Unit, section: &str, version: u32) -> Option<String> {
    if version >= 257 {
        // `unit_verify_contexts` decides, earlier ([`Loader::context_refusal`]).
        return None;
    }
    pam_kill_mode(unit, section)
        .filter(|k| *k != "control-group")
        .map(|_| "unit has PAM enabled, kill mode must be control-group".into())
}

/// With `PAMName=` set (last assignment not empty), the `KillMode=` in effect in `section`
/// (a value systemd cannot parse is ignored, the previous one stays; unset, the default
/// `control-group`).
fn pam_kill_mode<'u>(unit: &'u Unit, section: &str) -> Option<&'u str> {
    last(unit, section, "PAMName")?;
    let kill_mode = unit
        .settings
        .iter()
        .rev()
        .filter(|s| s.section == section && s.key == "KillMode")
        .map(|s| s.value.as_str())
        .find(|k| matches!(*k, "control-group" | "process" | "mixed" | "none"));
    Some(kill_mode.unwrap_or("control-group"))
}

/// A unit's settings lists grew by doubling, and the graph keeps them for the rest of the
/// run: trimmed as soon as the unit is applied, the spare room is there for the next units
/// (trimmed at the end of the load, every unit's was held until then).
pub(super) fn trim(unit: &mut Unit) {
    unit.settings.shrink_to_fit();
    unit.install.shrink_to_fit();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::mem::{Entry, MemTree};
    use std::cell::Cell;

    thread_local! {
        /// Bytes this thread's loads hashed for digests.
        pub(super) static HASHED: Cell<usize> = const { Cell::new(0) };
    }

    fn file(t: &mut MemTree, path: &str, body: Vec<u8>) {
        let entry = Entry::File {
            size: body.len() as u64,
            data: Some(body.into()),
        };
        t.insert(&ImagePath::new(path), entry).unwrap();
    }

    /// A drop-in every service reads is hashed once, not once per service: an image of
    /// 300 services and one 256 KB `service.d/` drop-in hashes ~256 KB, not 75 MB.
    #[test]
    fn a_shared_file_is_hashed_once() {
        let mut t = MemTree::new("t");
        let mut big = b"[Unit]\nDescription=x\n".to_vec();
        big.resize(256 * 1024, b'#');
        file(&mut t, "/etc/systemd/system/service.d/big.conf", big);
        for i in 0..300 {
            file(
                &mut t,
                &format!("/usr/lib/systemd/system/s{i}.service"),
                b"[Service]\nExecStart=/bin/true\n".to_vec(),
            );
        }
        HASHED.with(|h| h.set(0));
        let set = load_in(&t, Rules::new(257, 13), &[], false, Scope::System, true);
        let hashed = HASHED.with(Cell::get);
        let digests = set
            .units
            .values()
            .filter(|u| {
                u.dropins
                    .iter()
                    .any(|d| matches!(d.content, Some(Content::Sha256(_))))
            })
            .count();
        assert!(digests >= 300, "{digests} units with the drop-in's digest");
        assert!(hashed < 512 * 1024, "{hashed} bytes hashed");
        // And every one of them is the same digest as the bytes.
        let want = Content::Bytes(
            t.read_file(
                &ImagePath::new("/etc/systemd/system/service.d/big.conf"),
                1 << 20,
            )
            .unwrap()
            .into(),
        );
        let s0 = &set.units["s0.service"];
        assert_eq!(s0.dropins[0].content.as_ref(), Some(&want));
    }
}
