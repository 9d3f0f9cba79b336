//! `systemd-veritysetup-generator`: a `systemd-veritysetup@<name>.service` for every volume
//! of `/etc/veritytab`, linked into `veritysetup.target` (`remote-veritysetup.target` with
//! `_netdev`) and required by `dev-mapper-<name>.device`; and `systemd-veritysetup@root`/`@usr`
//! from `roothash=`/`usrhash=` and `systemd.verity_{root,usr}_{data,hash}=` on the kernel
//! command line (data and hash partitions found by the root hash's first and last 128 bits
//! as GPT partition UUIDs, as at boot).
//!
//! Read from 252.39's and 257.13's `veritysetup-generator.c`; checked against the binaries of
//! Debian 12 (252), 13 (257.13) and sid (262.1) (docs/semantics.md, `tests/generators.rs`).

use super::tab::{self, has_option, udev_node, yes_no_option};
use super::{Ctx, Dir, Out, Source, UnitText};
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("veritysetup-generator");
const PROGRAM: &str = "systemd-veritysetup-generator";

/// What the command line says of one special volume (`root` or `usr`).
#[derive(Default)]
struct Special {
    hash: Option<String>,
    data: Option<String>,
    hash_dev: Option<String>,
    options: Option<String>,
    /// The position of the last word that set any of it (provenance).
    pos: u32,
}

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let old = ctx.rules.version < 253;
    let eq = |k: &str, name: &str| {
        if old { tab::key_eq(k, name) } else { k == name }
    };
    let (mut enabled, mut read_tab) = (true, true);
    let (mut root, mut usr) = (Special::default(), Special::default());
    for w in ctx.cmdline_items() {
        let k = w.key.as_str();
        let v = w.value.clone();
        if eq(k, "systemd.verity") {
            if let Some(b) = v.as_deref().map_or(Some(true), tab::parse_boolean) {
                enabled = b;
            }
            continue;
        }
        if k == "veritytab" {
            if let Some(b) = v.as_deref().map_or(Some(true), tab::parse_boolean) {
                read_tab = b;
            }
            continue;
        }
        let Some(v) = v else { continue };
        let (sp, field) = if eq(k, "roothash") {
            (&mut root, 0)
        } else if tab::key_eq(k, "systemd.verity_root_data") {
            (&mut root, 1)
        } else if tab::key_eq(k, "systemd.verity_root_hash") {
            (&mut root, 2)
        } else if tab::key_eq(k, "systemd.verity_root_options") {
            (&mut root, 3)
        } else if eq(k, "usrhash") {
            (&mut usr, 0)
        } else if tab::key_eq(k, "systemd.verity_usr_data") {
            (&mut usr, 1)
        } else if tab::key_eq(k, "systemd.verity_usr_hash") {
            (&mut usr, 2)
        } else if tab::key_eq(k, "systemd.verity_usr_options") {
            (&mut usr, 3)
        } else {
            continue;
        };
        let slot = match field {
            0 => &mut sp.hash,
            1 => &mut sp.data,
            2 => &mut sp.hash_dev,
            _ => &mut sp.options,
        };
        *slot = Some(v);
        sp.pos = w.pos;
    }
    if !enabled {
        return;
    }
    if read_tab
        && tab::each_entry(ctx, "/etc/veritytab", GENERATOR, 4..=5, |f, path, src| {
            veritytab_device(ctx, out, f, path.as_str(), src)
        }) != tab::TabEnd::Done
    {
        return;
    }
    if !determine_devices(&mut root) || !determine_devices(&mut usr) {
        return;
    }
    for (name, sp) in [("root", &root), ("usr", &usr)] {
        if !special_device(ctx, out, name, sp) {
            return;
        }
    }
}

/// 128 bits as a UUID string (`SD_ID128_TO_UUID_STRING`).
fn uuid_string(b: &[u8]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `determine_device()`: the data and hash partitions from the root hash when not given;
/// false when the hash is not hex (the generator stops).
fn determine_devices(sp: &mut Special) -> bool {
    let Some(hash) = &sp.hash else {
        return true;
    };
    if sp.data.is_some() && sp.hash_dev.is_some() {
        return true;
    }
    if hash.len() % 2 != 0 || !hash.bytes().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    let bytes: Vec<u8> = (0..hash.len() / 2)
        .map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect();
    if bytes.len() < 16 {
        return true;
    }
    if sp.data.is_none() {
        sp.data = Some(format!(
            "/dev/disk/by-partuuid/{}",
            uuid_string(&bytes[..16])
        ));
    }
    if sp.hash_dev.is_none() {
        let tail = &bytes[bytes.len() - 16..];
        sp.hash_dev = Some(format!("/dev/disk/by-partuuid/{}", uuid_string(tail)));
    }
    true
}

/// `generator_write_veritysetup_unit_section()` (257+).
fn unit_section(ctx: &Ctx, t: &mut UnitText, source: &str, src: &Source) {
    t.line("[Unit]", src);
    t.line("Description=Integrity Protection Setup for %I", src);
    t.line(
        "Documentation=man:veritytab(5) man:systemd-veritysetup-generator(8) man:systemd-veritysetup@.service(8)",
        src,
    );
    t.line(format!("SourcePath={source}"), src);
    t.line("DefaultDependencies=no", src);
    t.line("IgnoreOnIsolate=true", src);
    t.line(
        if ctx.rules.blockdev_generators_v258() {
            "After=veritysetup-pre.target systemd-udevd-kernel.socket systemd-udevd.service"
        } else {
            "After=veritysetup-pre.target systemd-udevd-kernel.socket"
        },
        src,
    );
    t.line("Before=blockdev@dev-mapper-%i.target", src);
    t.line("Wants=blockdev@dev-mapper-%i.target", src);
}

fn service_section(
    t: &mut UnitText,
    name: &str,
    data: &str,
    hash_dev: &str,
    hash: &str,
    options: Option<&str>,
    src: &Source,
) {
    let e = tab::spec_escape;
    tab::oneshot_service(t, None, src);
    t.line(
        format!(
            "ExecStart=/usr/lib/systemd/systemd-veritysetup attach '{}' '{}' '{}' '{}' '{}'",
            e(name),
            e(data),
            e(hash_dev),
            e(hash),
            options.map(e).unwrap_or_default()
        ),
        src,
    );
    t.line(
        format!(
            "ExecStop=/usr/lib/systemd/systemd-veritysetup detach '{}'",
            e(name)
        ),
        src,
    );
}

/// `create_device()`/`create_special_device()`: `systemd-veritysetup@root.service` (or
/// `@usr`) from the command line. False on failure (incomplete, or the unit exists).
fn special_device(ctx: &Ctx, out: &mut Out, name: &str, sp: &Special) -> bool {
    let (Some(hash), Some(data), Some(hash_dev)) = (&sp.hash, &sp.data, &sp.hash_dev) else {
        return sp.hash.is_none() && sp.data.is_none() && sp.hash_dev.is_none();
    };
    let src = ctx.cmdline_source(GENERATOR, sp.pos);
    let (u, v) = (udev_node(data), udev_node(hash_dev));
    let (Some(d), Some(e)) = (
        tab::device_unit(out, &u, ".device", ctx.rules.version),
        tab::device_unit(out, &v, ".device", ctx.rules.version),
    ) else {
        return false;
    };
    let service = format!("systemd-veritysetup@{name}.service");
    if out.has(Dir::Normal, &service) {
        return false;
    }
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, &src);
    if ctx.rules.version < 253 {
        t.line("[Unit]", &src);
        t.line("Description=Verity Protection Setup for %I", &src);
        t.line("SourcePath=/proc/cmdline", &src);
        t.line("DefaultDependencies=no", &src);
        t.line("Conflicts=umount.target", &src);
        t.line(format!("BindsTo={d} {e}"), &src);
        t.line("IgnoreOnIsolate=true", &src);
        t.line(
            format!("After=veritysetup-pre.target systemd-udevd-kernel.socket {d} {e}"),
            &src,
        );
        t.line("Before=veritysetup.target umount.target", &src);
    } else {
        unit_section(ctx, &mut t, "/proc/cmdline", &src);
        t.line("Before=veritysetup.target", &src);
        t.line(format!("BindsTo={d} {e}"), &src);
        t.line(format!("After={d} {e}"), &src);
    }
    service_section(&mut t, name, &u, &v, hash, sp.options.as_deref(), &src);
    out.unit(Dir::Normal, &service, t);
    out.link(
        Dir::Normal,
        &format!("veritysetup.target.requires/{service}"),
        &format!("../{service}"),
        &src,
    );
    true
}

/// `create_disk()`/`create_veritytab_device()`: one veritytab volume. False on failure (the
/// generator then stops).
fn veritytab_device(ctx: &Ctx, out: &mut Out, f: &[&str], source: &str, src: &Source) -> bool {
    let (name, data, hash_dev, hash) = (f[0], f[1], f[2], f[3]);
    let opts = f.get(4).copied();
    let v255 = ctx.rules.blockdev_generators_v255();
    let noauto = yes_no_option(opts, "noauto", "auto");
    let nofail = yes_no_option(opts, "nofail", "fail");
    let netdev = has_option(opts, &["_netdev"]);
    let Some(n) = tab::instance("systemd-veritysetup", name, ".service") else {
        return false;
    };
    let e = crate::unit::name::escape(name);
    let (du, hu) = (udev_node(data), udev_node(hash_dev));
    let (Some(dd), Some(hd)) = (
        tab::device_unit(out, &du, ".device", ctx.rules.version),
        tab::device_unit(out, &hu, ".device", ctx.rules.version),
    ) else {
        return false;
    };
    if out.has(Dir::Normal, &n) {
        return false;
    }
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, src);
    unit_section(ctx, &mut t, source, src);
    if netdev {
        t.line("After=remote-fs-pre.target", src);
    }
    let in_initrd =
        has_option(opts, &["x-initrd.attach"]) || (v255 && matches!(name, "root" | "usr"));
    if !in_initrd {
        t.line("Conflicts=umount.target", src);
        if v255 {
            t.line("Before=umount.target", src);
        }
    }
    let target = if netdev {
        "remote-veritysetup.target"
    } else {
        "veritysetup.target"
    };
    if !nofail {
        t.line(format!("Before={target}"), src);
    }
    let mut need_loop = false;
    for (path, unit) in [(&du, &dd), (&hu, &hd)] {
        if path.starts_with("/dev/") {
            t.line(format!("BindsTo={unit}"), src);
            t.line(format!("After={unit}"), src);
            if !v255 {
                t.line("Before=umount.target", src);
            }
        } else {
            t.line(format!("RequiresMountsFor={}", tab::spec_escape(path)), src);
            if v255 {
                need_loop = true;
            } else {
                t.line("Requires=systemd-tmpfiles-setup-dev.service", src);
                t.line("After=systemd-tmpfiles-setup-dev.service", src);
            }
        }
    }
    if need_loop {
        t.line("Wants=modprobe@loop.service", src);
        t.line("After=modprobe@loop.service", src);
    }
    service_section(&mut t, name, &du, &hu, hash, opts, src);
    out.unit(Dir::Normal, &n, t);
    tab::link_setup_service(out, &n, target, &e, (noauto, nofail), src);
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_hash_names_the_partitions() {
        let mut sp = super::Special {
            hash: Some(
                "00112233445566778899aabbccddeeff".repeat(2) + "ffeeddccbbaa99887766554433221100",
            ),
            ..Default::default()
        };
        assert!(super::determine_devices(&mut sp));
        assert_eq!(
            sp.data.as_deref(),
            Some("/dev/disk/by-partuuid/00112233-4455-6677-8899-aabbccddeeff")
        );
        assert_eq!(
            sp.hash_dev.as_deref(),
            Some("/dev/disk/by-partuuid/ffeeddcc-bbaa-9988-7766-554433221100")
        );
        let mut odd = super::Special {
            hash: Some("abc".into()),
            ..Default::default()
        };
        assert!(!super::determine_devices(&mut odd));
    }
}
