//! `systemd-fstab-generator` outside the initrd: mount, automount and swap units from
//! `/etc/fstab`, their links into `local-fs.target`/`remote-fs.target`/`swap.target`, and
//! `local-fs.target.wants/systemd-remount-fs.service`.
//!
//! Shapes checked against the generator binaries of Debian 12 (252), 13 (257.13) and sid
//! (262.1) run on the same fstab (docs/semantics.md, "fstab notes"); the rules of each
//! entry follow `src/fstab-generator/fstab-generator.c` (`parse_fstab`, `add_mount`,
//! `add_swap`) and `src/shared/generator.c` of v252–v256.

use super::fs_hooks;
use super::mntent::{self, MntEnt};
use super::path_names::{
    PathNameError, is_device_path, mangle_with_mount_suffix, path_escape, path_simplify,
    path_startswith, specifier_escape, unit_name_from_path,
};
use super::tab::{self, filter_out, has_option, yes_no_option};
use super::{Ctx, Dir, Out, Source, UnitText, options};
use crate::tree::ImagePath;
use crate::unit::fs::{fstype_is_network, mount_point_ignore, mount_point_is_api, tag_to_device};
use crate::unit::name;
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("fstab-generator");

const QUOTA: &[&str] = &[
    "usrquota",
    "grpquota",
    "quota",
    "usrjquota",
    "grpjquota",
    "prjquota",
];

/// The program's name, as the head of every file it writes says.
pub(super) const PROGRAM: &str = "systemd-fstab-generator";

fn header(t: &mut UnitText, src: &Source) {
    tab::header(t, PROGRAM, src);
    t.line("[Unit]", src);
    t.line(
        "Documentation=man:fstab(5) man:systemd-fstab-generator(8)",
        src,
    );
    t.line("SourcePath=/etc/fstab", src);
}

/// `fstab_filter_options(opts, name, …, &values)`: every value of `name=`, in order.
fn values<'a>(opts: &'a str, key: &str) -> Vec<&'a str> {
    options(opts)
        .into_iter()
        .filter(|(n, _)| *n == key)
        .filter_map(|(_, v)| v)
        .collect()
}

/// The flags `parse_fstab()` reads from an entry's options (`fstab_options_to_flags()`
/// from 254): the last of `noauto`/`auto` and of `nofail`/`fail` wins.
struct Flags {
    noauto: bool,
    nofail: bool,
    automount: bool,
}

impl Flags {
    fn of(opts: &str, is_swap: bool) -> Flags {
        let o = Some(opts);
        Flags {
            noauto: yes_no_option(o, "noauto", "auto"),
            nofail: yes_no_option(o, "nofail", "fail"),
            automount: !is_swap
                && has_option(o, &["comment=systemd.automount", "x-systemd.automount"]),
        }
    }
}

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let fstab_off = ctx
        .cmdline_words()
        .iter()
        .any(|(k, val)| *k == "fstab" && matches!(*val, Some("0" | "no" | "false" | "off")));
    if fstab_off {
        return;
    }
    let fstab = ImagePath::new("/etc/fstab");
    let whole = Source {
        generator: GENERATOR,
        input: Some(fstab.clone()),
        line: None,
    };
    // Every version 252–262: remount the root as fstab says.
    out.link(
        Dir::Normal,
        "local-fs.target.wants/systemd-remount-fs.service",
        &format!("{}/systemd-remount-fs.service", ctx.vendor_dir()),
        &whole,
    );
    let Some((_, content)) = ctx.read("/etc/fstab") else {
        return;
    };
    // Debian's systemd before 256 also treats /run/lock as an API file system.
    let debian_run_lock =
        ctx.rules.version < 256 && crate::unit::load::image_facts(ctx.tree).debian_family();
    for e in mntent::entries(content.as_bytes(), ctx.rules.version) {
        let src = Source {
            generator: GENERATOR,
            input: Some(fstab.clone()),
            line: Some(e.line),
        };
        let what = tag_to_device(&e.fsname).unwrap_or_else(|| e.fsname.clone());
        if e.fstype == "swap" {
            add_swap(ctx, out, &e, &what, &src);
        } else {
            add_mount(ctx, out, &e, &what, debian_run_lock, &src);
        }
    }
}

/// `add_swap()`: `<what>.swap`, linked into `swap.target` (`remote-fs.target` for `_netdev`
/// from 261) unless `noauto`.
fn add_swap(ctx: &Ctx, out: &mut Out, e: &MntEnt, what: &str, src: &Source) {
    let v = ctx.rules.version;
    let flags = Flags::of(&e.opts, true);
    let unit = match unit_name_from_path(what, ".swap", v) {
        Ok(u) => u,
        Err(err) => return refuse(out, src, what, err),
    };
    if out.has(Dir::Normal, &unit) {
        return out.warn(src, format!("duplicate entry for {unit}, ignoring"));
    }
    let mut t = UnitText::new();
    header(&mut t, src);
    blockdev(&mut t, what, src);
    t.line("", src);
    t.line("[Swap]", src);
    t.line(format!("What={}", specifier_escape(what)), src);
    if !e.opts.is_empty() && e.opts != "defaults" {
        t.line(format!("Options={}", specifier_escape(&e.opts)), src);
    }
    out.unit(Dir::Normal, &unit, t);
    if has_option(Some(&e.opts), &["x-systemd.makefs"]) {
        out.skipped("x-systemd.makefs on swap (systemd-mkswap@) is not modelled");
    }
    if !flags.noauto {
        let netdev = has_option(Some(&e.opts), &["_netdev"]);
        let target = if v >= 261 && netdev {
            "remote-fs.target"
        } else {
            "swap.target"
        };
        let kind = if flags.nofail { "wants" } else { "requires" };
        out.link(
            Dir::Normal,
            &format!("{target}.{kind}/{unit}"),
            &format!("../{unit}"),
            src,
        );
    }
}

/// An entry systemd fails on (`log_error_errno()`, the next entry is read): warned about.
fn refuse(out: &mut Out, src: &Source, path: &str, err: PathNameError) {
    out.warn(src, format!("{}, entry ignored", name_error(path, err)));
}

/// Why no unit name can be made of `path`.
fn name_error(path: &str, err: PathNameError) -> String {
    match err {
        PathNameError::TooLong => format!(
            "the unit name of {path:?} is over 255 bytes (systemd hashes such names from 251)"
        ),
        PathNameError::Invalid => format!("cannot make a unit name of {path:?}"),
    }
}

/// The mount point as `parse_fstab()` hands it to `add_mount()`: `None` when it is not a
/// path (no `/`). A relative path is resolved against the generator's working directory,
/// `/` at boot; symlinks are followed inside the image.
fn mount_point(ctx: &Ctx, dir: &str) -> Option<ImagePath> {
    if !dir.contains('/') {
        return None;
    }
    let simplified = path_simplify(dir);
    let where_ = ImagePath::new(&simplified);
    // A component too long to be a path is kept as it is (systemd's chase fails and it
    // goes on with the path as written; the unit name then refuses it).
    if simplified.split('/').any(|c| c.len() > 255) {
        return Some(where_);
    }
    Some(match crate::tree::stat(ctx.tree, &where_) {
        Ok((p, Some(_))) => p,
        _ => where_,
    })
}

/// `add_mount()` for one fstab entry.
fn add_mount(
    ctx: &Ctx,
    out: &mut Out,
    e: &MntEnt,
    what: &str,
    debian_run_lock: bool,
    src: &Source,
) {
    let v = ctx.rules.version;
    if e.fstype == "autofs" {
        return;
    }
    let Some(where_) = mount_point(ctx, &e.dir) else {
        return out.warn(
            src,
            format!("mount point {:?} is not a valid path, ignoring", e.dir),
        );
    };
    let where_s = where_.as_str();
    if mount_point_is_api(where_s, v, debian_run_lock) || mount_point_ignore(where_s, v) {
        return;
    }
    let mut flags = Flags::of(&e.opts, false);
    let mut opts = e.opts.clone();
    let mut wanted_by = values(&e.opts, "x-systemd.wanted-by");
    let mut required_by = values(&e.opts, "x-systemd.required-by");
    // The root (and /usr from 256) is mandatory: noauto, nofail, automount and
    // wanted-by/required-by are ignored (256+ also drops them from Options=).
    let mandatory = where_.is_root() || (v >= 256 && where_s == "/usr");
    if mandatory {
        if v >= 256 && (flags.noauto || flags.nofail || flags.automount) {
            opts = filter_out(Some(&opts), &["noauto", "nofail", "x-systemd.automount"])
                .unwrap_or_default();
        }
        flags.noauto = false;
        flags.nofail = false;
        flags.automount = false;
        wanted_by.clear();
        required_by.clear();
    }
    let unit = match unit_name_from_path(where_s, ".mount", v) {
        Ok(u) => u,
        Err(err) => return refuse(out, src, where_s, err),
    };
    if out.has(Dir::Normal, &unit) {
        return out.warn(src, format!("duplicate entry for {unit}, ignoring"));
    }
    let fstype = e.fstype.as_str();
    let typed = !fstype.is_empty() && fstype != "auto";
    // `bg` NFS mounts are made `fg` ones that may fail (unless automounted).
    let nfs_bg = matches!(fstype, "nfs" | "nfs4")
        && !flags.automount
        && yes_no_option(Some(&opts), "bg", "fg");
    if nfs_bg {
        opts = format!("x-systemd.mount-timeout=infinity,retry=10000,nofail,{opts},fg");
        flags.nofail = true;
    }
    let network = has_option(Some(&e.opts), &["_netdev"]) || fstype_is_network(fstype);
    let own_targets = !wanted_by.is_empty() || !required_by.is_empty();
    // 256+ (PR #30284): x-systemd.wanted-by=/required-by= replace the target.
    let target = (!(own_targets && v >= 256)).then_some(if network {
        "remote-fs.target"
    } else {
        "local-fs.target"
    });
    let mut t = UnitText::new();
    header(&mut t, src);
    if target.is_none() {
        t.line("DefaultDependencies=no", src);
        t.line("Conflicts=umount.target", src);
        t.line("Before=umount.target", src);
    }
    // `write_extra_dependencies()`; a name systemd cannot make ends the entry there, with
    // the unit file as far as it was written.
    if let Err((bad, err)) = extra_dependencies(&mut t, &opts, v, src) {
        out.unit(Dir::Normal, &unit, t);
        return out.warn(
            src,
            format!("{}, {unit} left without [Mount]", name_error(&bad, err)),
        );
    }
    if let Some(target) = target
        && !flags.nofail
    {
        t.line(format!("Before={target}"), src);
    }
    if e.passno != 0 {
        fsck(ctx, out, &mut t, what, where_s, fstype, src);
    }
    blockdev(&mut t, what, src);
    t.line("", src);
    t.line("[Mount]", src);
    t.line(format!("What={}", specifier_escape(what)), src);
    t.line(format!("Where={}", specifier_escape(where_s)), src);
    if typed {
        t.line(format!("Type={}", specifier_escape(fstype)), src);
    }
    netdev_device(out, what, where_s, &opts, v, src);
    let filtered = filter_out(
        Some(&opts),
        &["comment=systemd.device-timeout", "x-systemd.device-timeout"],
    );
    if let Some(o) = filtered.filter(|o| o != "defaults") {
        t.line(format!("Options={}", specifier_escape(&o)), src);
    }
    out.unit(Dir::Normal, &unit, t);
    if let Err(err) = hooks(
        ctx,
        out,
        &opts,
        (what, where_s, fstype),
        (&unit, target),
        src,
    ) {
        // The mount unit stays, the entry's links are not made.
        return out.warn(src, err);
    }
    if let Err(err) = quota(ctx, out, &opts, (&unit, target), (&where_, fstype), src) {
        return out.warn(src, err);
    }
    // Its own name: a hashed one differs from the mount's by more than the suffix.
    let automount = if flags.automount {
        match unit_name_from_path(where_s, ".automount", v) {
            Ok(n) => Some(n),
            Err(err) => return refuse(out, src, where_s, err),
        }
    } else {
        None
    };
    if let Some(am) = &automount {
        let mut a = UnitText::new();
        tab::header(&mut a, PROGRAM, src);
        a.line("[Unit]", src);
        a.line("SourcePath=/etc/fstab", src);
        a.line(
            "Documentation=man:fstab(5) man:systemd-fstab-generator(8)",
            src,
        );
        a.line("", src);
        a.line("[Automount]", src);
        a.line(format!("Where={}", specifier_escape(where_s)), src);
        out.unit(Dir::Normal, am, a);
    }
    let linked = automount.as_deref().unwrap_or(&unit);
    let link = |out: &mut Out, t: &str, kind: &str| {
        out.link(
            Dir::Normal,
            &format!("{t}.{kind}/{linked}"),
            &format!("../{linked}"),
            src,
        );
    };
    let kind = if flags.nofail { "wants" } else { "requires" };
    match target {
        // Up to 255 the automount goes into the target whatever wanted-by= says; noauto
        // has no effect with an automount.
        Some(target) if automount.is_some() => link(out, target, kind),
        Some(target) if !flags.noauto && !own_targets => link(out, target, kind),
        _ => {
            for t in wanted_by.iter().filter(|t| name::is_valid(t)) {
                link(out, t, "wants");
            }
            for t in required_by.iter().filter(|t| name::is_valid(t)) {
                link(out, t, "requires");
            }
        }
    }
}

/// `x-systemd.makefs`, `x-systemd.growfs` and `x-systemd.validatefs` (258+);
/// `x-systemd.pcrfs`, which depends on a measured boot, is listed as not emulated.
fn hooks(
    ctx: &Ctx,
    out: &mut Out,
    opts: &str,
    (what, where_, fstype): (&str, &str, &str),
    (unit, target): (&str, Option<&str>),
    src: &Source,
) -> Result<(), String> {
    let v = ctx.rules.version;
    let o = Some(opts);
    let (makefs, growfs) = (
        has_option(o, &["x-systemd.makefs"]),
        has_option(o, &["x-systemd.growfs"]),
    );
    if v >= 253 && has_option(o, &["x-systemd.pcrfs"]) {
        out.skipped("x-systemd.pcrfs (it depends on a measured boot) is not modelled");
    }
    if makefs {
        fs_hooks::makefs(ctx, out, (what, fstype, unit), src)?;
    }
    if growfs {
        fs_hooks::growfs(ctx, out, (where_, unit, target), src)?;
    }
    if v >= 258 && has_option(o, &["x-systemd.validatefs"]) {
        fs_hooks::validatefs(ctx, out, (where_, unit, target), src)?;
    }
    Ok(())
}

/// `x-systemd.after=`, `requires=` (Requires+After), `wants=` (Wants+After, 257+),
/// `before=`, `requires-mounts-for=`, `wants-mounts-for=` (256+): each setting on one line
/// with its names space-separated, as systemd writes them.
fn extra_dependencies(
    t: &mut UnitText,
    opts: &str,
    v: u32,
    src: &Source,
) -> Result<(), (String, PathNameError)> {
    let mut by_name: Vec<(&str, &[&str])> = vec![
        ("x-systemd.after", &["After"]),
        ("x-systemd.requires", &["Requires", "After"]),
    ];
    if v >= 257 {
        by_name.push(("x-systemd.wants", &["Wants", "After"]));
    }
    by_name.push(("x-systemd.before", &["Before"]));
    for (opt, settings) in by_name {
        let names = values(opts, opt);
        if names.is_empty() {
            continue;
        }
        let mut units = Vec::new();
        for n in names {
            units.push(mangle_with_mount_suffix(n, v).map_err(|e| (n.to_string(), e))?);
        }
        for s in settings {
            t.line(format!("{s}={}", units.join(" ")), src);
        }
    }
    let mut mounts_for = vec![("x-systemd.requires-mounts-for", "RequiresMountsFor")];
    if v >= 256 {
        mounts_for.push(("x-systemd.wants-mounts-for", "WantsMountsFor"));
    }
    for (opt, setting) in mounts_for {
        let paths = values(opts, opt);
        if !paths.is_empty() {
            let escaped: Vec<String> = paths.iter().map(|p| specifier_escape(p)).collect();
            t.line(format!("{setting}={}", escaped.join(" ")), src);
        }
    }
    Ok(())
}

/// `generator_write_fsck_deps()`: a device checked when the image has `fsck` and (for a
/// type other than `auto`) `fsck.<type>`; the root through `systemd-fsck-root.service`, `/usr`
/// with `Wants=`, anything else with `Requires=` on `systemd-fsck@<device>.service`.
fn fsck(
    ctx: &Ctx,
    out: &mut Out,
    t: &mut UnitText,
    what: &str,
    where_: &str,
    fstype: &str,
    src: &Source,
) {
    if !is_device_path(what) || !ctx.find_executable("fsck") {
        return;
    }
    if !fstype.is_empty() && fstype != "auto" && !ctx.find_executable(&format!("fsck.{fstype}")) {
        return;
    }
    if where_ == "/" {
        out.link(
            Dir::Normal,
            "local-fs.target.wants/systemd-fsck-root.service",
            &format!("{}/systemd-fsck-root.service", ctx.vendor_dir()),
            src,
        );
        return;
    }
    let Ok(instance) = path_escape(what) else {
        return;
    };
    let f = format!("systemd-fsck@{instance}.service");
    if !name::is_valid(&f) {
        return;
    }
    let dep = if where_ == "/usr" {
        "Wants"
    } else {
        "Requires"
    };
    t.line(format!("{dep}={f}"), src);
    t.line(format!("After={f}"), src);
}

/// `generator_write_device_deps()`: the device of a `_netdev` mount waits for the network
/// (not for the OS's own mounts, `fstab_is_extrinsic()`).
fn netdev_device(out: &mut Out, what: &str, where_: &str, opts: &str, v: u32, src: &Source) {
    let extrinsic = ["/", "/usr", "/etc"].contains(&where_)
        || ["/run/initramfs", "/proc", "/sys", "/dev"]
            .iter()
            .any(|p| path_startswith(where_, p))
        || has_option(Some(opts), &["x-initrd.mount"]);
    if extrinsic || !has_option(Some(opts), &["_netdev"]) || !is_device_path(what) {
        return;
    }
    let Ok(dev) = unit_name_from_path(what, ".device", v) else {
        return;
    };
    let mut d = UnitText::new();
    tab::header(&mut d, PROGRAM, src);
    d.line("[Unit]", src);
    d.line("After=network-online.target network.target", src);
    d.line("Wants=network-online.target", src);
    out.unit(
        Dir::Normal,
        &format!("{dev}.d/50-netdev-dependencies.conf"),
        d,
    );
}

/// The file system types whose quota needs `quotacheck`/`quotaon` (`fstype_needs_quota()`;
/// the generator ignores the options on any other type, `auto` and `none` included).
const NEEDS_QUOTA: &[&str] = &["ext2", "ext3", "ext4", "reiserfs", "jfs", "f2fs"];

/// Quota checks hang off the mount (256+; PID 1 added them before): the shipped
/// `systemd-quotacheck@`/`quotaon@` instances wanted by the mount and ordered before its
/// target by drop-ins, or for `/` the `-root` services in `local-fs.target.wants/` (257.13's
/// and 262.1's binaries).
fn quota(
    ctx: &Ctx,
    out: &mut Out,
    opts: &str,
    (unit, target): (&str, Option<&str>),
    (where_, fstype): (&ImagePath, &str),
    src: &Source,
) -> Result<(), fs_hooks::HookError> {
    if ctx.rules.version < 256 || !has_option(Some(opts), QUOTA) || !NEEDS_QUOTA.contains(&fstype) {
        return Ok(());
    }
    if where_.is_root() {
        for s in ["systemd-quotacheck-root.service", "quotaon-root.service"] {
            out.link(
                Dir::Normal,
                &format!("local-fs.target.wants/{s}"),
                &format!("{}/{s}", ctx.vendor_dir()),
                src,
            );
        }
        return Ok(());
    }
    let inst = name::escape(where_.as_str().trim_matches('/'));
    for tmpl in ["systemd-quotacheck", "quotaon"] {
        fs_hooks::shipped(
            ctx,
            out,
            (
                &format!("{tmpl}@{inst}.service"),
                &format!("{tmpl}@.service"),
            ),
            (unit, target),
            src,
        )?;
    }
    Ok(())
}

/// `After=blockdev@<device>.target` for a `/dev/` device
/// (`generator_write_blockdev_dependency`), bind mounts included (252's, 257.13's and
/// 262.1's binaries).
fn blockdev(t: &mut UnitText, what: &str, src: &Source) {
    if !path_startswith(what, "/dev/") {
        return;
    }
    let Ok(escaped) = path_escape(what) else {
        return;
    };
    let b = format!("blockdev@{escaped}.target");
    if name::is_valid(&b) {
        t.line(format!("After={b}"), src);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn options_values_in_order() {
        assert_eq!(
            super::values("x-systemd.after=a,b,x-systemd.after=c", "x-systemd.after"),
            vec!["a", "c"]
        );
    }
}
