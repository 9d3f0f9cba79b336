//! `systemd-integritysetup-generator`: a `systemd-integritysetup@<name>.service` for every
//! volume of `/etc/integritytab`, required by `integritysetup.target` and by
//! `dev-mapper-<name>.device`. From 258 (seen in 262.1) `_netdev`, `nofail` and `noauto` are
//! honoured as in crypttab (`remote-integritysetup.target`).
//!
//! Read from 252.39's and 257.13's `integritysetup-generator.c`; checked against the
//! binaries of Debian 12 (252), 13 (257.13) and sid (262.1) (`tests/generators.rs`).

use super::tab::{self, has_option, udev_node, yes_no_option};
use super::{Ctx, Dir, Out, Source, UnitText};
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("integritysetup-generator");
const PROGRAM: &str = "systemd-integritysetup-generator";

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    tab::each_entry(
        ctx,
        "/etc/integritytab",
        GENERATOR,
        2..=4,
        |f, path, src| {
            let key = f.get(2).copied().filter(|v| *v != "-");
            let opts = f.get(3).copied().filter(|v| *v != "-");
            let device = udev_node(f[1]);
            create_disk(ctx, out, f[0], &device, key, opts, path.as_str(), src)
        },
    );
}

/// Whether `parse_integrity_options()` accepts the options (an unknown option is ignored
/// with a warning; a bad value of a known one fails the volume and ends the generator).
fn options_valid(opts: &str) -> bool {
    opts.split(',').all(|w| {
        if let Some(v) = w.strip_prefix("journal-watermark=") {
            v.strip_suffix('%')
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|p| p <= 100)
        } else if let Some(v) = w.strip_prefix("journal-commit-time=") {
            let d = v.bytes().take_while(|c| c.is_ascii_digit()).count();
            d > 0
        } else if let Some(v) = w.strip_prefix("integrity-algorithm=") {
            matches!(
                v,
                "crc32" | "crc32c" | "xxhash64" | "sha1" | "sha256" | "hmac-sha256"
            )
        } else {
            true
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn create_disk(
    ctx: &Ctx,
    out: &mut Out,
    name: &str,
    device: &str,
    key_file: Option<&str>,
    opts: Option<&str>,
    source: &str,
    src: &Source,
) -> bool {
    let Some(n) = tab::instance("systemd-integritysetup", name, ".service") else {
        return false;
    };
    let e = crate::unit::name::escape(name);
    let Some(dd) = tab::device_unit(out, device, ".device", ctx.rules.version) else {
        return false;
    };
    if out.has(Dir::Normal, &n) {
        return false;
    }
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, src);
    // A relative key file or bad options: the file stays with its header line only.
    if key_file.is_some_and(|k| !k.starts_with('/')) || opts.is_some_and(|o| !options_valid(o)) {
        out.unit(Dir::Normal, &n, t);
        return false;
    }
    let v258 = ctx.rules.blockdev_generators_v258();
    let (netdev, nofail, noauto) = if v258 {
        (
            has_option(opts, &["_netdev"]),
            yes_no_option(opts, "nofail", "fail"),
            yes_no_option(opts, "noauto", "auto"),
        )
    } else {
        (false, false, false)
    };
    let target = if netdev {
        "remote-integritysetup.target"
    } else {
        "integritysetup.target"
    };
    t.line("[Unit]", src);
    t.line("Description=Integrity Setup for %I", src);
    t.line(
        "Documentation=man:integritytab(5) man:systemd-integritysetup-generator(8) man:systemd-integritysetup@.service(8)",
        src,
    );
    t.line(format!("SourcePath={source}"), src);
    t.line("DefaultDependencies=no", src);
    t.line("IgnoreOnIsolate=true", src);
    t.line(
        if v258 {
            "After=integritysetup-pre.target systemd-udevd-kernel.socket systemd-udevd.service"
        } else {
            "After=integritysetup-pre.target systemd-udevd-kernel.socket"
        },
        src,
    );
    t.line("Before=blockdev@dev-mapper-%i.target", src);
    t.line("Wants=blockdev@dev-mapper-%i.target", src);
    t.line("Conflicts=umount.target", src);
    if !v258 {
        t.line("Before=integritysetup.target", src);
    }
    t.line(format!("BindsTo={dd}"), src);
    t.line(format!("After={dd}"), src);
    t.line("Before=umount.target", src);
    if netdev {
        t.line("After=remote-fs-pre.target", src);
    }
    if v258 && !nofail {
        t.line(format!("Before={target}"), src);
    }
    let esc = tab::spec_escape;
    tab::oneshot_service(&mut t, Some(ctx.rules.version), src);
    t.line(
        format!(
            "ExecStart=/usr/lib/systemd/systemd-integritysetup attach '{}' '{device}' '{}' '{}'",
            esc(name),
            key_file.map(esc).unwrap_or_else(|| "-".into()),
            opts.unwrap_or("-")
        ),
        src,
    );
    t.line(
        format!(
            "ExecStop=/usr/lib/systemd/systemd-integritysetup detach '{}'",
            esc(name)
        ),
        src,
    );
    out.unit(Dir::Normal, &n, t);
    tab::link_setup_service(out, &n, target, &e, (noauto, nofail), src);
    true
}
