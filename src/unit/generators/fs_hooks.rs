//! The services `systemd-fstab-generator` hooks up to a mount (`src/shared/generator.c`
//! of v252–v256): `x-systemd.makefs` (`generator_hook_up_mkfs()`) and `x-systemd.growfs`
//! (`generator_hook_up_growfs()`: a generated unit in 252, the shipped template with an
//! ordering drop-in on the target from 253). Later versions are not modelled.

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
    t.line("DefaultDependencies=no", src);
    t.line("BindsTo=%i.device", src);
    t.line("Conflicts=shutdown.target", src);
    t.line("After=%i.device", src);
    t.line(
        format!("Before=shutdown.target systemd-fsck@%i.service {where_unit}"),
        src,
    );
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
        let template = if root {
            unit.clone()
        } else {
            "systemd-growfs@.service".to_string()
        };
        out.link(
            Dir::Normal,
            &format!("{where_unit}.wants/{unit}"),
            &format!("{}/{template}", ctx.vendor_dir()),
            src,
        );
        return Ok(());
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
