//! `systemd-cryptsetup-generator`: a `systemd-cryptsetup@<name>.service` for every volume of
//! `/etc/crypttab` (and of `luks.uuid=`/`luks.name=` on the kernel command line), linked into
//! `cryptsetup.target` (`remote-cryptsetup.target` with `_netdev`) and required by its
//! `dev-mapper-<name>.device`; key and header devices (`keyfile:device`) get a mount unit and
//! an unmount service.
//!
//! Read from 252.39's and 257.13's `cryptsetup-generator.c` and `shared/generator.c`;
//! checked against the generator binaries of Debian 12 (252), 13 (257.13) and sid (262.1)
//! run on the same crypttab (docs/semantics.md, "crypttab notes"; `tests/generators.rs`).

use super::tab::{self, has_option, option_value, udev_node, yes_no_option};
use super::{Ctx, Dir, Out, Source, UnitText};
use crate::tree::ImagePath;
use crate::unit::rule_name::GeneratorName;

const GENERATOR: GeneratorName = GeneratorName::named("cryptsetup-generator");
const PROGRAM: &str = "systemd-cryptsetup-generator";
/// `$RUNTIME_DIRECTORY` of the generator at boot: where key and header devices are mounted.
const RUNTIME_DIR: &str = "/run/systemd/cryptsetup";
/// Most volumes named on the command line (`luks.uuid=`…) considered.
const MAX_CMDLINE_DEVICES: usize = 256;

/// A volume named on the kernel command line (`crypto_device`).
#[derive(Default)]
struct CmdDevice {
    uuid: String,
    keyfile: Option<String>,
    keydev: Option<String>,
    headerdev: Option<String>,
    datadev: Option<String>,
    name: Option<String>,
    options: Option<String>,
    create: bool,
    /// The word that made it (for provenance).
    pos: u32,
}

struct State {
    enabled: bool,
    read_crypttab: bool,
    allow_list: bool,
    disks: Vec<CmdDevice>,
    default_options: Option<String>,
    default_keyfile: Option<String>,
}

impl State {
    fn device(&mut self, uuid: &str, pos: u32) -> Option<&mut CmdDevice> {
        if let Some(i) = self.disks.iter().position(|d| d.uuid == uuid) {
            return Some(&mut self.disks[i]);
        }
        if self.disks.len() >= MAX_CMDLINE_DEVICES {
            return None;
        }
        self.disks.push(CmdDevice {
            uuid: uuid.to_string(),
            pos,
            ..CmdDevice::default()
        });
        self.disks.last_mut()
    }
}

/// `id128_is_valid()`: 32 hex digits, or the 36-character UUID form.
fn id128_is_valid(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        32 => b.iter().all(u8::is_ascii_hexdigit),
        36 => b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        }),
        _ => false,
    }
}

/// `sscanf(value, "%m[0-9a-fA-F-]=%ms")`: a UUID-ish prefix, `=`, a non-empty rest.
fn uuid_assignment(v: &str) -> Option<(&str, &str)> {
    let n = v
        .bytes()
        .take_while(|c| c.is_ascii_hexdigit() || *c == b'-')
        .count();
    let rest = v[n..].strip_prefix('=')?;
    let rest = rest.split_ascii_whitespace().next()?;
    (n > 0).then(|| (&v[..n], rest))
}

/// `split_locationspec()`: `file:device` when the part after the last colon is a device
/// (an absolute path, or `UUID=`…), else the whole is the file.
fn split_location(spec: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(spec) = spec else {
        return (None, None);
    };
    if let Some((file, dev)) = spec.rsplit_once(':') {
        let dev = udev_node(dev);
        if dev.starts_with('/') {
            return (Some(file.to_string()), Some(dev));
        }
    }
    (Some(spec.to_string()), None)
}

/// `filter_header_device()`: `header=file:device` → the device apart, `header=file` kept.
fn filter_header(options: &str) -> (Option<String>, Option<String>) {
    let (found, spec) = option_value(Some(options), "header");
    let rest = tab::filter_out(Some(options), &["header"]);
    if !found {
        return (None, rest);
    }
    let (file, dev) = split_location(spec);
    let header = format!("header={}", file.unwrap_or_default());
    let filtered = match rest {
        Some(r) => format!("{r},{header}"),
        None => header,
    };
    (dev, Some(filtered))
}

/// `parse_sec_fix_0()` accepts it (a number with an optional time unit, or `infinity`).
fn is_timespan(v: &str) -> bool {
    v == "infinity"
        || (!v.is_empty()
            && v.split_ascii_whitespace().all(|w| {
                let d = w
                    .bytes()
                    .take_while(|c| c.is_ascii_digit() || *c == b'.')
                    .count();
                d > 0
                    && matches!(
                        &w[d..],
                        "" | "us"
                            | "usec"
                            | "ms"
                            | "msec"
                            | "s"
                            | "sec"
                            | "second"
                            | "seconds"
                            | "m"
                            | "min"
                            | "minute"
                            | "minutes"
                            | "h"
                            | "hr"
                            | "hour"
                            | "hours"
                            | "d"
                            | "day"
                            | "days"
                            | "w"
                            | "week"
                            | "weeks"
                    )
            }))
}

pub(super) fn run(ctx: &Ctx, out: &mut Out) {
    let mut st = State {
        enabled: true,
        read_crypttab: true,
        allow_list: false,
        disks: Vec::new(),
        default_options: None,
        default_keyfile: None,
    };
    for w in ctx.cmdline_items() {
        let v = w.value.as_deref();
        match w.key.as_str() {
            "luks" => {
                if let Some(b) = v.map_or(Some(true), tab::parse_boolean) {
                    st.enabled = b;
                }
            }
            "luks.crypttab" => {
                if let Some(b) = v.map_or(Some(true), tab::parse_boolean) {
                    st.read_crypttab = b;
                }
            }
            "luks.uuid" => {
                let Some(v) = v else { continue };
                let uuid = v.strip_prefix("luks-").unwrap_or(v);
                if let Some(d) = st.device(uuid, w.pos) {
                    d.create = true;
                    st.allow_list = true;
                }
            }
            "luks.options" => {
                let Some(v) = v else { continue };
                match uuid_assignment(v) {
                    None => st.default_options = Some(v.to_string()),
                    Some((uuid, _)) if !id128_is_valid(uuid) => {}
                    Some((uuid, opts)) => {
                        let (headerdev, opts) = filter_header(opts);
                        if let Some(d) = st.device(uuid, w.pos) {
                            d.options = opts;
                            d.headerdev = headerdev;
                        }
                    }
                }
            }
            "luks.key" | "luks.data" => {
                let Some(v) = v else { continue };
                let n = v
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'-')
                    .count();
                let Some(rest) = v[n..].strip_prefix('=') else {
                    if w.key == "luks.key" {
                        st.default_keyfile = Some(v.to_string());
                    }
                    continue;
                };
                let uuid = &v[..n];
                if !id128_is_valid(uuid) {
                    continue;
                }
                let key = w.key == "luks.key";
                if let Some(d) = st.device(uuid, w.pos) {
                    if key {
                        (d.keyfile, d.keydev) = split_location(Some(rest));
                    } else {
                        d.datadev = Some(udev_node(rest));
                    }
                }
            }
            "luks.name" => {
                let Some((uuid, name)) = v.and_then(uuid_assignment) else {
                    continue;
                };
                if let Some(d) = st.device(uuid, w.pos) {
                    d.create = true;
                    d.name = Some(name.to_string());
                    st.allow_list = true;
                }
            }
            _ => {}
        }
    }
    if !st.enabled {
        return;
    }
    let continues = ctx.rules.blockdev_generators_v255();
    // A read error ends the file; the command line's volumes still follow.
    if st.read_crypttab
        && tab::each_entry(ctx, "/etc/crypttab", GENERATOR, 2..=4, |f, path, src| {
            crypttab_device(ctx, out, &mut st, f, path, src) || continues
        }) == tab::TabEnd::Stopped
    {
        return;
    }
    let default_keyfile = st.default_keyfile.clone();
    let default_options = st.default_options.clone();
    for d in st.disks.iter().filter(|d| d.create) {
        let name = d.name.clone().unwrap_or_else(|| format!("luks-{}", d.uuid));
        let device = d.datadev.clone().unwrap_or(format!("UUID={}", d.uuid));
        let src = ctx.cmdline_source(GENERATOR, d.pos);
        let ok = create_disk(
            ctx,
            out,
            &Volume {
                name: &name,
                device: &device,
                key_file: d.keyfile.as_deref().or(default_keyfile.as_deref()),
                keydev: d.keydev.as_deref(),
                headerdev: d.headerdev.as_deref(),
                options: d.options.as_deref().or(default_options.as_deref()),
                source: "/proc/cmdline",
            },
            &src,
        );
        if !ok && !continues {
            return;
        }
    }
}

/// `add_crypttab_device()`: false if the volume could not be written.
fn crypttab_device(
    ctx: &Ctx,
    out: &mut Out,
    st: &mut State,
    f: &[&str],
    path: &ImagePath,
    src: &Source,
) -> bool {
    let (name, device) = (f[0], f[1]);
    let uuid = device
        .strip_prefix("UUID=")
        .or_else(|| device.strip_prefix("/dev/disk/by-uuid/"))
        .or_else(|| name.strip_prefix("luks-"));
    let d = uuid.and_then(|u| st.disks.iter().position(|d| d.uuid == u));
    if st.allow_list && d.is_none() {
        return true;
    }
    let (key_file, keydev) = split_location(f.get(2).copied());
    let d_opts = d.and_then(|i| st.disks[i].options.clone());
    let (headerdev, options) = match (d_opts, f.get(3)) {
        (Some(o), _) => (d.and_then(|i| st.disks[i].headerdev.clone()), Some(o)),
        (None, Some(o)) => filter_header(o),
        (None, None) => (None, None),
    };
    let ok = create_disk(
        ctx,
        out,
        &Volume {
            name,
            device,
            key_file: key_file.as_deref(),
            keydev: keydev.as_deref(),
            headerdev: headerdev.as_deref(),
            options: options.as_deref(),
            source: path.as_str(),
        },
        src,
    );
    if ok && let Some(i) = d {
        st.disks[i].create = false;
    }
    ok
}

struct Volume<'a> {
    name: &'a str,
    device: &'a str,
    key_file: Option<&'a str>,
    keydev: Option<&'a str>,
    headerdev: Option<&'a str>,
    options: Option<&'a str>,
    source: &'a str,
}

/// How a key or header device is mounted.
struct MountSpec<'a> {
    /// `keydev` or `headerdev`.
    kind: &'a str,
    timeout: Option<&'a str>,
    canfail: bool,
    readonly: bool,
}

/// `generate_device_mount()` + `generate_device_umount()`: the mount unit of a key or header
/// device and the service that unmounts it; returns (mount unit, mount point, umount unit).
fn device_mount(
    ctx: &Ctx,
    out: &mut Out,
    vol: &Volume,
    device: &str,
    spec: MountSpec,
    src: &Source,
) -> Option<(String, String, String)> {
    let MountSpec {
        kind,
        timeout,
        canfail,
        readonly,
    } = spec;
    let esc = tab::cescape(vol.name);
    let where_ = format!("{RUNTIME_DIR}/{kind}-{esc}");
    let unit = tab::device_unit(out, &where_, ".mount", ctx.rules.version)?;
    if out.has(Dir::Normal, &unit) {
        return None;
    }
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, src);
    t.line("[Unit]", src);
    t.line("DefaultDependencies=no", src);
    t.line("", src);
    t.line("[Mount]", src);
    t.line(format!("What={device}"), src);
    t.line(format!("Where={where_}"), src);
    t.line(
        format!(
            "Options={}{}",
            if readonly { "ro" } else { "rw" },
            if canfail { ",nofail" } else { "" }
        ),
        src,
    );
    out.unit(Dir::Normal, &unit, t);
    if let Some(tm) = timeout.filter(|t| is_timespan(t)) {
        let dev = tab::device_unit(out, device, ".device", ctx.rules.version)?;
        device_timeout(out, &dev, 90, &format!("JobRunningTimeoutSec={tm}"), src);
    }
    let umount = format!("{kind}-{esc}-umount.service");
    if umount.contains('/') || out.has(Dir::Normal, &umount) {
        return None;
    }
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, src);
    t.line("[Unit]", src);
    t.line("DefaultDependencies=no", src);
    t.line(format!("After={unit}"), src);
    t.line("", src);
    t.line("[Service]", src);
    let umount_bin = if ctx.rules.version >= 255 {
        "/usr/bin/umount"
    } else {
        "/bin/umount"
    };
    t.line(format!("ExecStart=-{umount_bin} {where_}"), src);
    out.unit(Dir::Normal, &umount, t);
    Some((unit, where_, umount))
}

/// A `<device>.d/NN-device-timeout.conf` drop-in.
fn device_timeout(out: &mut Out, unit: &str, level: u32, setting: &str, src: &Source) {
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, src);
    t.line("[Unit]", src);
    t.line(setting, src);
    out.unit(
        Dir::Normal,
        &format!("{unit}.d/{level}-device-timeout.conf"),
        t,
    );
}

/// `print_dependencies()` of a key file or detached header; false on failure.
fn dependencies(
    ctx: &Ctx,
    out: &mut Out,
    t: &mut UnitText,
    path: &str,
    timeout: Option<&str>,
    canfail: bool,
    src: &Source,
) -> bool {
    if matches!(path, "-" | "none") {
        return true;
    }
    let rng = [
        "/dev/urandom",
        "/dev/random",
        "/dev/hw_random",
        "/dev/hwrng",
    ];
    if rng.iter().any(|r| tab::path_equal(path, r)) {
        t.line("After=systemd-random-seed.service", src);
        return true;
    }
    let node = udev_node(path);
    if node == "/dev/null" {
        return true;
    }
    if node.starts_with("/dev/") {
        let Some(unit) = tab::device_unit(out, &node, ".device", ctx.rules.version) else {
            return false;
        };
        t.line(format!("After={unit}"), src);
        if canfail {
            t.line(format!("Wants={unit}"), src);
            if let Some(tm) = timeout {
                device_timeout(out, &unit, 90, &format!("JobRunningTimeoutSec={tm}"), src);
            }
        } else {
            t.line(format!("Requires={unit}"), src);
        }
    } else {
        let kind = if canfail && ctx.rules.cryptsetup_v256() {
            "WantsMountsFor"
        } else {
            "RequiresMountsFor"
        };
        t.line(format!("{kind}={}", tab::spec_escape(path)), src);
    }
    true
}

/// `create_disk()`: the service of one volume, its links and drop-ins; false on failure
/// (what was written before the failure stays, as with the real generator's open file).
fn create_disk(ctx: &Ctx, out: &mut Out, vol: &Volume, src: &Source) -> bool {
    let rules = ctx.rules;
    let opts = vol.options;
    let noauto = yes_no_option(opts, "noauto", "auto");
    let nofail = yes_no_option(opts, "nofail", "fail");
    let swap = has_option(opts, &["swap"]);
    let netdev = has_option(opts, &["_netdev"]);
    let (can_timeout, timeout) = option_value(opts, "keyfile-timeout");
    let (detached_header, header_path) = option_value(opts, "header");
    let (tmp, tmp_fstype) = option_value(opts, "tmp");
    if tmp && swap {
        return false;
    }
    let Some(n) = tab::instance("systemd-cryptsetup", vol.name, ".service") else {
        return false;
    };
    let e = crate::unit::name::escape(vol.name);
    let u = udev_node(vol.device);
    let Some(d) = tab::device_unit(out, &u, ".device", ctx.rules.version) else {
        return false;
    };
    if out.has(Dir::Normal, &n) {
        return false;
    }
    let mut t = UnitText::new();
    tab::header(&mut t, PROGRAM, src);
    t.line("[Unit]", src);
    t.line("Description=Cryptography Setup for %I", src);
    t.line(
        "Documentation=man:crypttab(5) man:systemd-cryptsetup-generator(8) man:systemd-cryptsetup@.service(8)",
        src,
    );
    t.line(format!("SourcePath={}", vol.source), src);
    if rules.version >= 253 {
        t.line("", src);
    }
    t.line("DefaultDependencies=no", src);
    let after = if rules.blockdev_generators_v258() {
        "After=cryptsetup-pre.target systemd-udevd-kernel.socket systemd-udevd.service systemd-tpm2-setup-early.service"
    } else if rules.cryptsetup_v256() {
        "After=cryptsetup-pre.target systemd-udevd-kernel.socket systemd-tpm2-setup-early.service"
    } else {
        "After=cryptsetup-pre.target systemd-udevd-kernel.socket"
    };
    t.line(after, src);
    t.line("Before=blockdev@dev-mapper-%i.target", src);
    t.line("Wants=blockdev@dev-mapper-%i.target", src);
    t.line("IgnoreOnIsolate=true", src);
    if netdev {
        t.line("After=remote-fs-pre.target", src);
    }
    let v255 = rules.blockdev_generators_v255();
    let in_initrd =
        has_option(opts, &["x-initrd.attach"]) || (v255 && matches!(vol.name, "root" | "usr"));
    if !in_initrd {
        t.line("Conflicts=umount.target", src);
        if v255 {
            t.line("Before=umount.target", src);
        }
    }
    let mut key_file = vol.key_file.map(str::to_string);
    let mut options = opts.map(str::to_string);
    let ok = 'body: {
        if let Some(keydev) = vol.keydev {
            let Some((unit, mnt, umount)) = device_mount(
                ctx,
                out,
                vol,
                keydev,
                MountSpec {
                    kind: "keydev",
                    timeout,
                    canfail: can_timeout,
                    readonly: true,
                },
                src,
            ) else {
                break 'body false;
            };
            key_file = key_file.map(|k| format!("{mnt}/{}", k.trim_start_matches('/')));
            t.line(format!("After={unit}"), src);
            let kind = if can_timeout { "Wants" } else { "Requires" };
            t.line(format!("{kind}={unit}"), src);
            t.line(format!("Wants={umount}"), src);
            t.line(format!("Before={umount}"), src);
        }
        if let Some(headerdev) = vol.headerdev {
            let Some((unit, mnt, umount)) = device_mount(
                ctx,
                out,
                vol,
                headerdev,
                MountSpec {
                    kind: "headerdev",
                    timeout: None,
                    canfail: false,
                    readonly: false,
                },
                src,
            ) else {
                break 'body false;
            };
            let hp = format!(
                "{mnt}/{}",
                header_path.unwrap_or_default().trim_start_matches('/')
            );
            let rest = tab::filter_out(opts, &["header"]);
            options = Some(match rest {
                Some(r) => format!("{r},header={hp}"),
                None => format!("header={hp}"),
            });
            t.line(format!("After={unit}"), src);
            t.line(format!("Requires={unit}"), src);
            t.line(format!("Wants={umount}"), src);
            t.line(format!("Before={umount}"), src);
        }
        if !nofail {
            let target = if netdev {
                "remote-cryptsetup.target"
            } else {
                "cryptsetup.target"
            };
            t.line(format!("Before={target}"), src);
        }
        if let Some(k) = vol.key_file.filter(|_| vol.keydev.is_none()) {
            let canfail = can_timeout || (nofail && rules.cryptsetup_v256());
            if !dependencies(ctx, out, &mut t, k, timeout, canfail, src) {
                break 'body false;
            }
        }
        if detached_header
            && vol.headerdev.is_none()
            && let Some(h) = header_path
        {
            let canfail = nofail && rules.cryptsetup_v256();
            if !dependencies(ctx, out, &mut t, h, None, canfail, src) {
                break 'body false;
            }
        }
        if u.starts_with("/dev/") {
            t.line(format!("BindsTo={d}"), src);
            t.line(format!("After={d}"), src);
            if !v255 {
                t.line("Before=umount.target", src);
            }
        } else {
            t.line(format!("RequiresMountsFor={}", tab::spec_escape(&u)), src);
            if v255 {
                t.line("Wants=modprobe@loop.service", src);
                t.line("After=modprobe@loop.service", src);
            } else {
                t.line("Requires=systemd-tmpfiles-setup-dev.service", src);
                t.line("After=systemd-tmpfiles-setup-dev.service", src);
            }
        }
        // `generator_write_timeouts()`: x-systemd.device-timeout= on the backing device.
        let names = ["comment=systemd.device-timeout", "x-systemd.device-timeout"];
        let (_, dt) = tab::option_value_any(options.as_deref(), &names);
        if let Some(dt) = dt.filter(|v| is_timespan(v)) {
            let node = udev_node(vol.device);
            if (node.starts_with("/dev/") || node.starts_with("/sys/"))
                && let Some(dev) = tab::device_unit(out, &node, ".device", ctx.rules.version)
            {
                let mut dti = UnitText::new();
                dti.line(format!("# Automatically generated by {PROGRAM}"), src);
                dti.line(
                    format!(
                        "# from supplied options \"{}\"",
                        options.as_deref().unwrap_or("")
                    ),
                    src,
                );
                dti.line("", src);
                dti.line("[Unit]", src);
                dti.line(format!("JobRunningTimeoutSec={dt}"), src);
                out.unit(Dir::Normal, &format!("{dev}.d/50-device-timeout.conf"), dti);
            }
        }
        let filtered = tab::filter_out(options.as_deref(), &names);
        service_section(
            ctx,
            &mut t,
            vol.name,
            &u,
            key_file.as_deref(),
            filtered.as_deref(),
            src,
        );
        let makefs = if v255 {
            "/usr/lib/systemd/systemd-makefs"
        } else {
            "/lib/systemd/systemd-makefs"
        };
        let name_esc = tab::spec_escape(vol.name);
        if tmp {
            let fs = tmp_fstype.map(tab::spec_escape);
            t.line(
                format!(
                    "ExecStartPost={makefs} '{}' '/dev/mapper/{name_esc}'",
                    fs.as_deref().unwrap_or("ext4")
                ),
                src,
            );
        }
        if swap {
            t.line(
                format!("ExecStartPost={makefs} swap '/dev/mapper/{name_esc}'"),
                src,
            );
        }
        true
    };
    out.unit(Dir::Normal, &n, t);
    if !ok {
        return false;
    }
    let target = if netdev {
        "remote-cryptsetup.target"
    } else {
        "cryptsetup.target"
    };
    tab::link_setup_service(out, &n, target, &e, (noauto, nofail), src);
    let dm = format!("dev-mapper-{e}.device");
    if !noauto && !nofail {
        let v = if rules.version >= 253 {
            "infinity"
        } else {
            "0"
        };
        device_timeout(out, &dm, 40, &format!("JobTimeoutSec={v}"), src);
    }
    true
}

/// `generator_write_cryptsetup_service_section()`.
fn service_section(
    ctx: &Ctx,
    t: &mut UnitText,
    name: &str,
    what: &str,
    key_file: Option<&str>,
    options: Option<&str>,
    src: &Source,
) {
    let bin = if ctx.rules.version >= 256 {
        "/usr/bin/systemd-cryptsetup"
    } else {
        "/lib/systemd/systemd-cryptsetup"
    };
    let name = tab::spec_escape(name);
    tab::oneshot_service(t, Some(ctx.rules.version), src);
    t.line("KeyringMode=shared", src);
    t.line("OOMScoreAdjust=500", src);
    if ctx.rules.version >= 254 {
        t.line("ImportCredential=cryptsetup.*", src);
    }
    t.line(
        format!(
            "ExecStart={bin} attach '{name}' '{}' '{}' '{}'",
            tab::spec_escape(what),
            key_file.map(tab::spec_escape).unwrap_or_default(),
            options.map(tab::spec_escape).unwrap_or_default()
        ),
        src,
    );
    t.line(format!("ExecStop={bin} detach '{name}'"), src);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_specs_split_at_a_device() {
        assert_eq!(
            split_location(Some("/key.bin:LABEL=keys")),
            (
                Some("/key.bin".to_string()),
                Some("/dev/disk/by-label/keys".to_string())
            )
        );
        assert_eq!(
            split_location(Some("/a:b")),
            (Some("/a:b".to_string()), None)
        );
        assert_eq!(
            filter_header("discard,header=/h.img:UUID=9"),
            (
                Some("/dev/disk/by-uuid/9".to_string()),
                Some("discard,header=/h.img".to_string())
            )
        );
        assert!(id128_is_valid("0123456789abcdef0123456789abcdef"));
        assert!(id128_is_valid("01234567-89ab-cdef-0123-456789abcdef"));
        assert!(!id128_is_valid("1234"));
        assert_eq!(uuid_assignment("12ab=foo"), Some(("12ab", "foo")));
        assert_eq!(uuid_assignment("foo"), None);
    }
}
