//! Implicit dependencies of mount and swap units: the device behind `What=`, the mount points above `Where=`, local or remote file system targets, and what fstab options change.

use super::*;

impl Loader<'_> {
    /// `swap_add_extras` (checked against 252's and 262's `systemd --test`).
    pub(super) fn swap_dependencies(&mut self, u: &Unit, dd: bool, info: &mut PostInfo) {
        let id = u.id.clone();
        let v = self.rules.version;
        if let Some(what) = last(u, "Swap", "What") {
            // 256+: LABEL=/UUID=/PARTUUID=/PARTLABEL= name a /dev/disk/by-… link.
            let path = match tag_to_device(&what.value).filter(|_| v >= 256) {
                Some(dev) => dev,
                None => what.value.to_string(),
            };
            if path.starts_with('/') {
                info.mounts_for.push((
                    path.clone(),
                    from_setting(Origin::Implicit, rule_name!("mount-parent"), what),
                ));
            }
            if path.starts_with("/dev/") {
                if let Ok(d) = path_util::unit_name_from_path(&path, ".device", self.rules.version)
                {
                    let p = from_setting(Origin::File, rule_name!("mount-device"), what);
                    // A user manager only wants devices (`unit_add_node_dependency`);
                    // before 233 a system manager bound a unit from a file to its device.
                    let kind = if self.scope.is_user() {
                        DepKind::Wants
                    } else if v < 233 {
                        DepKind::BindsTo
                    } else {
                        DepKind::Requires
                    };
                    self.add2(&id, kind, DepKind::After, &d, p.clone());
                    let b = format!(
                        "blockdev@{}.target",
                        name::escape(path.trim_start_matches('/'))
                    );
                    if v >= 245 && name::is_valid(&b) {
                        self.add(&id, DepKind::After, &b, p);
                    }
                }
            } else if path.starts_with('/') {
                // A swap file needs the root file system writable.
                let p = from_setting(Origin::File, rule_name!("swap-file"), what);
                self.add(&id, DepKind::After, "systemd-remount-fs.service", p);
            }
        }
        // A user manager leaves swaps alone (`swap_add_default_dependencies`).
        if dd && !self.scope.is_user() {
            let r = rule(Origin::Default, rule_name!("swap-default"));
            let netdev = v >= 261 && options(u, "Swap").iter().any(|o| o == "_netdev");
            if netdev {
                // 261+: a swap on a network device is ordered like a network mount.
                self.network_ordering(&id, true, &r);
            } else {
                self.add(&id, DepKind::Before, "swap.target", r.clone());
            }
            self.add2(&id, DepKind::Before, DepKind::Conflicts, "umount.target", r);
        }
    }

    /// The ordering of a unit on the network (a network mount, or a swap on a network device):
    /// after remote-fs-pre.target and network.target, wanting network-online.target, and
    /// before remote-fs.target when `before_remote_fs`.
    fn network_ordering(&mut self, id: &str, before_remote_fs: bool, r: &Provenance) {
        self.add(id, DepKind::After, "remote-fs-pre.target", r.clone());
        if before_remote_fs {
            self.add(id, DepKind::Before, "remote-fs.target", r.clone());
        }
        self.add(id, DepKind::After, "network.target", r.clone());
        self.add2(
            id,
            DepKind::Wants,
            DepKind::After,
            "network-online.target",
            r.clone(),
        );
    }

    pub(super) fn mount_dependencies(&mut self, u: &Unit, dd: bool, info: &mut PostInfo) {
        let id = u.id.clone();
        let v = self.rules.version;
        let where_ = mount_point(u);
        let options = options(u, "Mount");
        let fstype = last(u, "Mount", "Type")
            .map(|s| s.value.clone())
            .unwrap_or_default();
        let bind = options.iter().any(|o| o == "bind" || o == "rbind") || fstype == "bind";
        let network = fstype_is_network(&fstype) || options.iter().any(|o| o == "_netdev");
        // `nofail` and `fail`: the last of the two counts.
        let nofail = options
            .iter()
            .rev()
            .find(|o| *o == "nofail" || *o == "fail")
            .is_some_and(|o| o == "nofail");
        let loop_ = options.iter().any(|o| o == "loop");
        if let Some(w) = &where_
            && let Some(parent) = std::path::Path::new(w).parent().and_then(|p| p.to_str())
            && w != "/"
        {
            let s = last(u, "Mount", "Where").cloned();
            let p = s.as_ref().map_or_else(
                || rule(Origin::Implicit, rule_name!("mount-parent")),
                |s| from_setting(Origin::Implicit, rule_name!("mount-parent"), s),
            );
            info.mounts_for.push((parent.to_string(), p));
        }
        if let Some(what) = last(u, "Mount", "What") {
            let p = from_setting(Origin::Implicit, rule_name!("mount-parent"), what);
            // 256+: LABEL=/UUID=/PARTUUID=/PARTLABEL= name a /dev/disk/by-… link.
            let mut what = what.clone();
            if v >= 256
                && let Some(dev) = tag_to_device(&what.value)
            {
                what.value = dev.into();
            }
            let what = &what;
            if what.value.starts_with("/dev/")
                && !bind
                && where_.as_deref() != Some("/")
                && !matches!(what.value.as_str(), "/dev/root" | "/dev/nfs")
            {
                if let Ok(d) =
                    path_util::unit_name_from_path(&what.value, ".device", self.rules.version)
                {
                    // A mount from a unit file marks its own edges `mount-file`.
                    let dp = from_setting(Origin::MountFile, rule_name!("mount-device"), what);
                    let kind = if self.scope.is_user() {
                        // A user manager only wants devices (`unit_add_node_dependency`).
                        DepKind::Wants
                    } else if v < 233 || options.iter().any(|o| o == "x-systemd.device-bound") {
                        // Before 233 a mount from a file was always bound to its device;
                        // from 233 only with `x-systemd.device-bound`.
                        DepKind::BindsTo
                    } else {
                        DepKind::Requires
                    };
                    self.add2(&id, kind, DepKind::After, &d, dp.clone());
                    // With BindsTo= the stop already propagates.
                    if v >= 249 && kind == DepKind::Requires {
                        self.add(&id, DepKind::StopPropagatedFrom, &d, dp.clone());
                    }
                    if v >= 245 {
                        let b = format!(
                            "blockdev@{}.target",
                            name::escape(what.value.trim_start_matches('/'))
                        );
                        if name::is_valid(&b) {
                            self.add(&id, DepKind::After, &b, dp);
                        }
                    }
                }
            } else if what.value.starts_with('/') && (bind || loop_ || !network) {
                info.mounts_for.push((what.value.to_string(), p));
            }
        }
        // Before 256 PID 1 hooks up quota checks for a local, non-bind mount with a quota
        // option (exactly `usrquota`, `grpquota`, `quota`, `usrjquota` or `grpjquota`;
        // systemd 252 checked, no file system type needed); from 256 the fstab generator.
        // A user manager never does.
        if v < 256
            && !self.scope.is_user()
            && !network
            && !bind
            && options.iter().any(|o| {
                matches!(
                    o.as_str(),
                    "usrquota" | "grpquota" | "quota" | "usrjquota" | "grpjquota"
                )
            })
            && let Some(opts) = last(u, "Mount", "Options")
        {
            let p = from_setting(Origin::File, rule_name!("mount-quota"), opts);
            for svc in ["systemd-quotacheck.service", "quotaon.service"] {
                self.add2(&id, DepKind::Before, DepKind::Wants, svc, p.clone());
            }
        }
        // A user manager leaves every mount alone (`mount_is_extrinsic`).
        let extrinsic = self.scope.is_user()
            || where_
                .as_deref()
                .is_some_and(|w| mount_is_extrinsic(w, &options, v));
        if dd && !extrinsic {
            let r = rule(Origin::MountFile, rule_name!("mount-default"));
            if network {
                self.network_ordering(&id, v >= 240 && (!nofail || v < 241), &r);
            } else {
                self.add(&id, DepKind::After, "local-fs-pre.target", r.clone());
                if v >= 240 && (!nofail || v < 241) {
                    self.add(&id, DepKind::Before, "local-fs.target", r.clone());
                }
            }
            self.add2(
                &id,
                DepKind::Before,
                DepKind::Conflicts,
                "umount.target",
                r.clone(),
            );
            if fstype == "tmpfs" {
                self.add(&id, DepKind::After, "swap.target", r);
            }
        }
    }
}
