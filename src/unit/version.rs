//! Which systemd's rules to apply. Every version-dependent decision of the loader asks a
//! [`Rules`] value, so the rules stay in one place (semantics doc, Appendix A).

use serde::Serialize;
use std::fmt;

/// A systemd release: major version and Debian-style point release (`252.38` → 252, 38).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Rules {
    pub version: u32,
    pub point: u32,
}

impl Default for Rules {
    /// systemd 252, the reference version of our semantics doc and of the test oracle.
    fn default() -> Self {
        Rules {
            version: 252,
            point: 0,
        }
    }
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.point > 0 {
            write!(f, "{}.{}", self.version, self.point)
        } else {
            write!(f, "{}", self.version)
        }
    }
}

/// The oldest systemd whose loading rules are modelled (CoreOS 899/1010 ran 225).
pub const OLDEST_KNOWN: u32 = 225;
/// The newest systemd whose loading rules are modelled (docs/semantics.md, per-version
/// table: every change of 253–262 that alters the graph; 259 changes nothing).
pub const NEWEST_KNOWN: u32 = 262;

impl Rules {
    pub fn new(version: u32, point: u32) -> Self {
        Rules { version, point }
    }

    /// Whether this version's rules are modelled ([`OLDEST_KNOWN`] to [`NEWEST_KNOWN`]).
    pub fn is_known(&self) -> bool {
        (OLDEST_KNOWN..=NEWEST_KNOWN).contains(&self.version)
    }

    /// "225 to 257": the versions whose rules are known, for messages and `--version`.
    pub fn known_range() -> String {
        format!("{OLDEST_KNOWN} to {NEWEST_KNOWN}")
    }

    /// Why loading with these rules is an approximation, if it is: a version outside the
    /// known range is loaded with the nearest known version's rules.
    pub fn caveat(&self) -> Option<String> {
        if self.version > NEWEST_KNOWN {
            Some(format!(
                "systemd {self} is newer than the newest rules known ({NEWEST_KNOWN}); \
                 loaded with systemd {NEWEST_KNOWN}'s rules (changes after \
                 {NEWEST_KNOWN} are not modelled)"
            ))
        } else if self.version < OLDEST_KNOWN {
            Some(format!(
                "systemd {self} is older than the oldest rules known ({OLDEST_KNOWN}); \
                 loaded with systemd {OLDEST_KNOWN}'s rules"
            ))
        } else {
            None
        }
    }

    /// A UTF-8 byte-order mark at the start of a file is stripped (v230+).
    pub fn strips_bom(&self) -> bool {
        self.version >= 230
    }
    /// Comment lines inside a continuation are skipped (v241+).
    pub fn skips_comments_in_continuation(&self) -> bool {
        self.version >= 241
    }
    /// An empty line ends a continuation (v243+).
    pub fn empty_line_ends_continuation(&self) -> bool {
        self.version >= 243
    }
    /// A line without `=` is fatal for the file (before v243).
    pub fn missing_equals_is_fatal(&self) -> bool {
        self.version < 243
    }
    /// Each line must be valid UTF-8 (v239+).
    pub fn checks_utf8(&self) -> bool {
        self.version >= 239
    }
    /// Longest accepted line (v235+: 1 MiB, fatal beyond); older versions split lines.
    pub fn line_limit(&self) -> Option<usize> {
        (self.version >= 235).then_some(1024 * 1024)
    }
    /// `.include FILE` on a line of a fragment reads FILE in its place (before v246; NEWS
    /// 246 "Support for the .include syntax in unit files has been removed").
    pub fn dot_include(&self) -> bool {
        self.version < 246
    }
    /// An `.include`d file may `.include` again (v236–v245: `bcde742e78` passes the
    /// caller's flags, `CONFIG_PARSE_ALLOW_INCLUDE` included, to the nested parse; before,
    /// the nested `config_parse()` got `allow_include=false`).
    pub fn nested_include(&self) -> bool {
        self.version >= 236
    }
    /// `.include` is followed by a space (before v239: `startswith(l, ".include ")`) or by
    /// any whitespace or nothing (v239+: `first_word(l, ".include")`); v239+ also warns
    /// that it is deprecated.
    pub fn include_first_word(&self) -> bool {
        self.version >= 239
    }
    /// Unit files are found by following symlinks by path from each search directory, in
    /// load order (before v243); from v243 by the name map (`unit_file_build_name_map`).
    pub fn follows_symlinks_by_path(&self) -> bool {
        self.version < 243
    }
    /// A unit no search directory has is loaded from the target of the `.wants/` or
    /// `.requires/` link that named it (before v240; NEWS 240).
    pub fn wants_links_load_units(&self) -> bool {
        self.version < 240
    }
    /// Files are named by the search directory as declared, not as resolved (v230+:
    /// `lookup_paths_reduce` keeps the first of the directories that are the same; up to
    /// 229 `path_strv_resolve_uniq` canonicalised the search path).
    pub fn names_by_declared_dir(&self) -> bool {
        self.version >= 230
    }
    /// Dash-prefix drop-in and dependency directories (v239+).
    pub fn prefix_dropins(&self) -> bool {
        self.version >= 239
    }
    /// Any entry named `*.conf` in a drop-in directory (a directory, a device, a FIFO) takes
    /// the name like a file, and so hides same-named drop-ins of lower-priority directories
    /// (v239+: the listing stopped filtering entries by type; before, only regular files and
    /// symlinks counted).
    pub fn dropin_dirs_take_name(&self) -> bool {
        self.version >= 239
    }
    /// Whether `Type=` of a service accepts `value` (an unknown one is ignored, keeping the
    /// earlier assignment): `exec` from v240, `notify-reload` from v253.
    pub fn service_type_known(&self, value: &str) -> bool {
        match value {
            "simple" | "forking" | "oneshot" | "dbus" | "notify" | "idle" => true,
            "exec" => self.version >= 240,
            "notify-reload" => self.version >= 253,
            _ => false,
        }
    }
    /// Whether `SuccessAction=` (v236+) accepts `value` (an unknown one is ignored): `exit`,
    /// `exit-force` from v240 (NEWS); `soft-reboot`, `soft-reboot-force` from v254 (with soft
    /// reboots; 252 refuses them); `kexec`, `kexec-force`, `halt`, `halt-force`,
    /// `halt-immediate` are refused by 252 and taken by 257, NEWS does not say when: 255
    /// is assumed.
    pub fn emergency_action_known(&self, value: &str) -> bool {
        let since = match value {
            "none" | "reboot" | "reboot-force" | "reboot-immediate" | "poweroff"
            | "poweroff-force" | "poweroff-immediate" => 236,
            "exit" | "exit-force" => 240,
            "soft-reboot" | "soft-reboot-force" => 254,
            "kexec" | "kexec-force" | "halt" | "halt-force" | "halt-immediate" => 255,
            _ => return false,
        };
        self.version >= since
    }
    /// The block-device generators (cryptsetup, veritysetup) add `Before=umount.target`
    /// beside `Conflicts=` whenever the volume is not attached in the initrd, and take the
    /// names `root` and `usr` as attached there (`x-initrd.attach`); a loop-backed volume
    /// waits for `modprobe@loop.service` instead of `systemd-tmpfiles-setup-dev.service`;
    /// cryptsetup goes on with the next entry after one fails (252 stops). 252 and 257.13
    /// checked; NEWS does not say when: 255 is assumed (no Debian release ships 253–256).
    pub fn blockdev_generators_v255(&self) -> bool {
        self.version >= 255
    }
    /// The cryptsetup generator orders after `systemd-tpm2-setup-early.service`, and the key
    /// file or detached header of a `nofail` (or `keyfile-timeout=`) volume becomes
    /// `WantsMountsFor=`/`Wants=` instead of `RequiresMountsFor=`/`Requires=` (v256, with
    /// `WantsMountsFor=`).
    pub fn cryptsetup_v256(&self) -> bool {
        self.version >= 256
    }
    /// The cryptsetup, veritysetup and integritysetup units order after
    /// `systemd-udevd.service` too, and integritytab honours `_netdev`, `nofail` and `noauto`
    /// (`remote-integritysetup.target`). Seen in 262.1, absent from 257.13; 258 is assumed.
    pub fn blockdev_generators_v258(&self) -> bool {
        self.version >= 258
    }
    /// `systemd.break=` of the debug generator (v258).
    pub fn debug_breakpoints(&self) -> bool {
        self.version >= 258
    }
    /// `systemd.default_debug_tty=` of the debug generator (v256, NEWS).
    pub fn default_debug_tty(&self) -> bool {
        self.version >= 256
    }
    /// Type-level `service.d/`, `target.wants/` directories (v244+).
    pub fn type_dropins(&self) -> bool {
        self.version >= 244
    }
    /// `.upholds/` directories and `Upholds=` (v254+ for directories).
    pub fn upholds_dirs(&self) -> bool {
        self.version >= 254
    }
    /// `Upholds=`, `OnSuccess=`, `PropagatesStopTo=`/`StopPropagatedFrom=` (v249+).
    pub fn v249_directives(&self) -> bool {
        self.version >= 249
    }
    /// `RequiresOverridable=`/`RequisiteOverridable=` are distinct types (before v228).
    pub fn overridable_types(&self) -> bool {
        self.version < 228
    }
    /// Masked units load drop-ins and dependency directories (v244 … v257.9).
    pub fn masked_units_load_dropins(&self) -> bool {
        self.version >= 244 && (self.version < 257 || (self.version == 257 && self.point < 10))
    }
    /// `.wants/` entries must be symlinks, may be masked, are de-duplicated by name (v233+).
    pub fn strict_dependency_dirs(&self) -> bool {
        self.version >= 233
    }
    /// `Before=` a device unit is dropped (v232+).
    pub fn drops_before_device(&self) -> bool {
        self.version >= 232
    }
    /// `OnFailure=` refused for units that cannot fail: slice, device (v245+).
    pub fn drops_onfailure_on_slice_device(&self) -> bool {
        self.version >= 245
    }
    /// `Slice=`: last assignment wins (v230+); the first one wins before.
    pub fn slice_last_wins(&self) -> bool {
        self.version >= 230
    }
    /// Unknown or disallowed specifiers drop the word (v237+); before, `%I` stays literal
    /// (which makes the name invalid, so the word is dropped too).
    pub fn specifier_allowed(&self, c: char) -> bool {
        match c {
            'n' | 'N' | 'p' | 'i' => true,
            'u' | 'U' | 'm' | 'H' | 'b' => self.version >= 235,
            'g' | 'G' => self.version >= 240,
            'j' => self.version >= 241,
            'v' | 'a' | 'o' | 'w' | 'B' | 'W' => self.version >= 246,
            'A' | 'l' | 'q' | 'M' => self.version >= 247,
            _ => false,
        }
    }
}
