//! The services `systemd-fstab-generator` hooks up to a mount (`src/shared/generator.c`):
//! `x-systemd.makefs` (`generator_hook_up_mkfs()`), `x-systemd.growfs`
//! (`generator_hook_up_growfs()`: a generated unit in 252, the shipped template with an
//! ordering drop-in on the target from 253) and `x-systemd.validatefs` (258+, the same
//! shape). Checked against the binaries of 252, 257.13 and 262.1 (`tests/generators_fstab.rs`);
//! 253–256 and 258–261 follow the sources and NEWS.

use super::path_names::{is_device_path, path_escape};
use super::tab::{self, cescape};
use super::{Ctx, Dir, Out, Source, UnitText};

/// Why a hook fails: systemd logs it and the entry ends (its mount unit is written, its
/// links are not).
pub(crate) type HookError = String;

fn libexec(ctx: &Ctx) -> &'static str {
    ctx.vendor_dir().trim_end_matches("/system")
}

fn start(t: &mut UnitText, src: &Source) {
    tab::header(t, super::fstab::PROGRAM, src);
    t.line("[Unit]", src);
}

fn oneshot(t: &mut UnitText, exec: String, v: u32, src: &Source) {
    t.line("", src);
    t.line("[Service]", src);
    t.line("Type=oneshot", src);
    t.line("RemainAfterExit=yes", src);
    t.line(exec, src);
    t.line(
        if v >= 253 {
            "TimeoutSec=infinity"
        } else {
            "TimeoutSec=0"
        },
        src,
    );
}

/// `generator_hook_up_mkfs()`: `systemd-makefs@<device>.service`, required by the mount.
pub(crate) fn makefs(
    ctx: &Ctx,
    out: &mut Out,
    (what, fstype, where_unit): (&str, &str, &str),
    src: &Source,
) -> Result<(), HookError> {
    if !is_device_path(what) {
        return Err(format!(
            "cannot format something that is not a device node: {what}"
        ));
    }
    if fstype == "auto" {
        return Err(format!(
            "cannot format partition {what}, file system type is not specified"
        ));
    }
    let instance = path_escape(what).map_err(|_| format!("cannot escape {what:?}"))?;
    let unit = format!("systemd-makefs@{instance}.service");
    if out.has(Dir::Normal, &unit) {
        return Err(format!("{unit} already exists"));
    }
    let mut t = UnitText::new();
    start(&mut t, src);
    t.line("Description=Make File System on %f", src);
    t.line("Documentation=man:systemd-makefs@.service(8)", src);
    if ctx.rules.version >= 257 {
        // 257.13's binary: the shutdown lines after the others.
        t.line("", src);
        t.line("DefaultDependencies=no", src);
        t.line("BindsTo=%i.device", src);
        t.line("After=%i.device", src);
        t.line(format!("Before=systemd-fsck@%i.service {where_unit}"), src);
        t.line("Conflicts=shutdown.target", src);
        t.line("Before=shutdown.target", src);
    } else {
        t.line("DefaultDependencies=no", src);
        t.line("BindsTo=%i.device", src);
        t.line("Conflicts=shutdown.target", src);
        t.line("After=%i.device", src);
        t.line(
            format!("Before=shutdown.target systemd-fsck@%i.service {where_unit}"),
            src,
        );
    }
    let exec = format!(
        "ExecStart={}/systemd-makefs {fstype} {}",
        libexec(ctx),
        cescape(what)
    );
    oneshot(&mut t, exec, ctx.rules.version, src);
    out.unit(Dir::Normal, &unit, t);
    out.link(
        Dir::Normal,
        &format!("{where_unit}.requires/{unit}"),
        &format!("../{unit}"),
        src,
    );
    Ok(())
}

/// A shipped service (`unit`, an instance of `template` or the template itself) wanted by
/// the mount and ordered before its target by a drop-in (`50-order-<unit>.conf`), as
/// growfs is from 253, validatefs from 258 and the quota services from 256.
pub(crate) fn shipped(
    ctx: &Ctx,
    out: &mut Out,
    (unit, template): (&str, &str),
    (where_unit, target): (&str, Option<&str>),
    src: &Source,
) -> Result<(), HookError> {
    if let Some(target) = target {
        let dropin = format!("{target}.d/50-order-{unit}.conf");
        if out.has(Dir::Normal, &dropin) {
            return Err(format!("{dropin} already exists"));
        }
        let mut d = UnitText::new();
        start(&mut d, src);
        d.line(format!("After={unit}"), src);
        out.unit(Dir::Normal, &dropin, d);
    }
    out.link(
        Dir::Normal,
        &format!("{where_unit}.wants/{unit}"),
        &format!("{}/{template}", ctx.vendor_dir()),
        src,
    );
    Ok(())
}

/// `x-systemd.validatefs` (258+): `systemd-validatefs@<where>.service`, wanted by the
/// mount and ordered before its target; not for the root (262.1's binary writes none).
pub(crate) fn validatefs(
    ctx: &Ctx,
    out: &mut Out,
    (where_, where_unit, target): (&str, &str, Option<&str>),
    src: &Source,
) -> Result<(), HookError> {
    if where_ == "/" {
        return Ok(());
    }
    let instance = path_escape(where_).map_err(|_| format!("cannot escape {where_:?}"))?;
    let unit = format!("systemd-validatefs@{instance}.service");
    shipped(
        ctx,
        out,
        (&unit, "systemd-validatefs@.service"),
        (where_unit, target),
        src,
    )
}

/// `generator_hook_up_growfs()`: `systemd-growfs@<where>.service` (the root's
/// `systemd-growfs-root.service` from 253), wanted by the mount and ordered before the
/// target.
pub(crate) fn growfs(
    ctx: &Ctx,
    out: &mut Out,
    (where_, where_unit, target): (&str, &str, Option<&str>),
    src: &Source,
) -> Result<(), HookError> {
    let v = ctx.rules.version;
    let root = where_ == "/";
    let instance = path_escape(where_).map_err(|_| format!("cannot escape {where_:?}"))?;
    let unit = if root && v >= 253 {
        "systemd-growfs-root.service".to_string()
    } else {
        format!("systemd-growfs@{instance}.service")
    };
    if v >= 253 {
        let template = if root {
            unit.clone()
        } else {
            "systemd-growfs@.service".to_string()
        };
        return shipped(ctx, out, (&unit, &template), (where_unit, target), src);
    }
    if out.has(Dir::Normal, &unit) {
        return Err(format!("{unit} already exists"));
    }
    let mut t = UnitText::new();
    start(&mut t, src);
    t.line("Description=Grow File System on %f", src);
    t.line("Documentation=man:systemd-growfs@.service(8)", src);
    t.line("DefaultDependencies=no", src);
    t.line("BindsTo=%i.mount", src);
    t.line("Conflicts=shutdown.target", src);
    t.line("After=systemd-repart.service %i.mount", src);
    match target {
        Some(target) => t.line(format!("Before=shutdown.target {target}"), src),
        None => t.line("Before=shutdown.target", src),
    }
    if root {
        t.line("After=systemd-remount-fs.service", src);
    }
    let exec = format!(
        "ExecStart={}/systemd-growfs {}",
        libexec(ctx),
        cescape(where_)
    );
    oneshot(&mut t, exec, v, src);
    out.unit(Dir::Normal, &unit, t);
    out.link(
        Dir::Normal,
        &format!("{where_unit}.wants/{unit}"),
        &format!("../{unit}"),
        src,
    );
    Ok(())
}
