//! File-system facts systemd's mount logic and the fstab generator share
//! (`fstype_is_network`, `fstab_node_to_udev_node`).

/// systemd's `fstype_is_network` (unchanged 252–262): the `@network` file-system set plus
/// davfs, glusterfs, lustre and sshfs, after a `fuse.` prefix is stripped. `9p` and
/// `virtiofs` are local to systemd (checked with 262's `systemd --test`).
const NETWORK_FS: &[&str] = &[
    "afs",
    "ceph",
    "cifs",
    "gfs",
    "gfs2",
    "ncp",
    "ncpfs",
    "nfs",
    "nfs4",
    "ocfs2",
    "orangefs",
    "pvfs2",
    "smb3",
    "smbfs",
    "davfs",
    "glusterfs",
    "lustre",
    "sshfs",
];

pub fn fstype_is_network(fstype: &str) -> bool {
    let t = fstype.strip_prefix("fuse.").unwrap_or(fstype);
    NETWORK_FS.contains(&t)
}

/// `fstab_node_to_udev_node` (256+ for `What=` of unit files): `LABEL=`, `UUID=`,
/// `PARTUUID=`, `PARTLABEL=` become `/dev/disk/by-…/<value>`, the value encoded the way udev
/// names its links (bytes outside `0-9A-Za-z#+-.:=@_` and non-ASCII as `\xNN`).
pub fn tag_to_device(what: &str) -> Option<String> {
    let (tag, value) = what.split_once('=')?;
    let dir = match tag {
        "LABEL" => "by-label",
        "UUID" => "by-uuid",
        "PARTUUID" => "by-partuuid",
        "PARTLABEL" => "by-partlabel",
        _ => return None,
    };
    let value = value.trim_matches('"');
    let mut enc = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"#+-.:=@_".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("\\x{b:02x}"));
        }
    }
    Some(format!("/dev/disk/{dir}/{enc}"))
}

/// systemd's `mount_point_is_api` (`mount_table` of `mount-setup.c`, v225–262): file
/// systems the manager mounts itself. A mount unit for one is refused (`bad-setting`).
/// `/sys/fs/bpf` is in the table from v238. Debian's systemd before 256~rc3-3 carried a
/// patch that adds `/run/lock` (a 5 MiB tmpfs; `debian/changelog`: "Drop out-of-tree
/// /run/lock patch"), so `run-lock.mount` is refused there: `debian_run_lock`.
/// Left out: `/sys/fs/kdbus` (225–230, only when built with kdbus, which was off by default).
pub fn mount_point_is_api(path: &str, version: u32, debian_run_lock: bool) -> bool {
    const TABLE: &[&str] = &[
        "/proc",
        "/sys",
        "/dev",
        "/sys/kernel/security",
        "/sys/fs/smackfs",
        "/dev/shm",
        "/dev/pts",
        "/run",
        "/sys/fs/cgroup",
        "/sys/fs/pstore",
        "/sys/firmware/efi/efivars",
    ];
    TABLE.contains(&path)
        || (version >= 238 && path == "/sys/fs/bpf")
        || (debian_run_lock && path == "/run/lock")
        || path.starts_with("/sys/fs/cgroup/")
}

/// systemd's `mount_point_ignore`: API file systems other software mounts (SELinux,
/// container bind mounts); `/proc/sys/kernel/random/boot_id` and everything under
/// `/run/host` from v247.
pub fn mount_point_ignore(path: &str, version: u32) -> bool {
    matches!(
        path,
        "/sys/fs/selinux" | "/proc/sys" | "/dev/console" | "/proc/kmsg"
    ) || (version >= 247
        && (path == "/proc/sys/kernel/random/boot_id"
            || path == "/run/host"
            || path.starts_with("/run/host/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_types_and_tags() {
        assert!(fstype_is_network("nfs4"));
        assert!(fstype_is_network("fuse.sshfs"));
        assert!(!fstype_is_network("9p"));
        assert_eq!(
            tag_to_device("UUID=12-ab").as_deref(),
            Some("/dev/disk/by-uuid/12-ab")
        );
        assert_eq!(
            tag_to_device("LABEL=my disk").as_deref(),
            Some("/dev/disk/by-label/my\\x20disk")
        );
        assert_eq!(tag_to_device("/dev/sda1"), None);
    }

    #[test]
    fn api_and_ignored_mount_points() {
        assert!(mount_point_is_api("/sys/fs/cgroup/unified", 225, false));
        assert!(!mount_point_is_api("/sys/fs/bpf", 237, false));
        assert!(mount_point_is_api("/sys/fs/bpf", 238, false));
        assert!(!mount_point_is_api("/run/lock", 252, false));
        assert!(mount_point_is_api("/run/lock", 252, true));
        assert!(!mount_point_is_api("/sys/kernel/debug", 262, false));
        assert!(mount_point_ignore("/run/host/incoming", 252));
        assert!(!mount_point_ignore("/run/host/incoming", 246));
        assert!(!mount_point_ignore("/run/hostname", 262));
    }
}
