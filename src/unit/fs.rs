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
}
