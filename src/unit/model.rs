//! The model of a loaded image: units, their files and settings, dependency edges with
//! provenance, load and enablement states. Plain data; `load` fills it, `enablement`
//! computes the `systemctl is-enabled` view, and everything downstream (graph, diff,
//! reports) reads it.

use super::deps::DepKind;
use super::name::UnitType;
use super::paths::{Layer, SearchDir};
use super::rule_name::{GeneratorName, RuleName};
use super::scope::Scope;
use super::sym::Sym;
use super::version::Rules;
use crate::tree::ImagePath;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// systemd's load state of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadState {
    Loaded,
    Masked,
    NotFound,
    BadSetting,
    Error,
}

impl LoadState {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadState::Loaded => "loaded",
            LoadState::Masked => "masked",
            LoadState::NotFound => "not-found",
            LoadState::BadSetting => "bad-setting",
            LoadState::Error => "error",
        }
    }
}

/// systemd's dependency origin mask (`UNIT_DEPENDENCY_*`), as the `--test` dump prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Written in a unit file, drop-in or dependency-directory link.
    File,
    /// Added by systemd because of the unit's type or settings.
    Implicit,
    /// Added by `DefaultDependencies=yes`.
    Default,
    /// Slice membership set through a property.
    SliceProperty,
    /// From a path (`RequiresMountsFor=` and friends).
    Path,
    /// From a mount unit's file.
    MountFile,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Implicit => "implicit",
            Origin::Default => "default",
            Origin::SliceProperty => "slice-property",
            Origin::Path => "path",
            Origin::MountFile => "mount-file",
        }
    }
}

/// How an edge came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// A directive in the unit's fragment file.
    Fragment,
    /// A directive in a drop-in `.conf` file.
    DropIn,
    /// A directive in a file the fragment reads with `.include` (before systemd 246).
    Include,
    /// A symlink in a `.wants/` directory.
    WantsDir,
    /// A symlink in a `.requires/` directory.
    RequiresDir,
    /// A symlink in an `.upholds/` directory.
    UpholdsDir,
    /// A rule of systemd's (see `Provenance::rule`).
    Rule,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Fragment => "fragment",
            How::DropIn => "drop-in",
            How::Include => "include",
            How::WantsDir => "wants-dir",
            How::RequiresDir => "requires-dir",
            How::UpholdsDir => "upholds-dir",
            How::Rule => "rule",
        }
    }
}

/// Where an edge comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Provenance {
    pub origin: Origin,
    pub how: How,
    /// The in-image file (or link) behind the edge, if any.
    pub path: Option<ImagePath>,
    /// The line of the directive, for files.
    pub line: Option<u32>,
    /// The layer of that file.
    pub layer: Option<Layer>,
    /// The systemd rule that made the edge, for edges no line wrote by itself.
    pub rule: Option<RuleName>,
    /// The generator that wrote the unit or link behind the edge (`fstab-generator`);
    /// `path` and `line` are then the generator's input (`/etc/fstab:4`).
    pub generator: Option<GeneratorName>,
}

/// One dependency: `from` has a `kind` dependency on `to` (both canonical unit names).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub from: Sym,
    pub kind: DepKind,
    pub to: Sym,
    pub provenance: Provenance,
}

/// A unit file or drop-in as systemd sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitFile {
    /// The path systemd reports (for a linked unit file: the link).
    pub path: ImagePath,
    /// Where the content really is, when `path` is a symlink.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<ImagePath>,
    pub layer: Layer,
    /// A mask (`/dev/null` link or empty file).
    pub masked: bool,
    /// What the file holds (`None` for a mask or a file that could not be read).
    #[serde(skip)]
    pub content: Option<Content>,
}

/// A unit file's bytes, or only their SHA-256 when the load was asked not to keep them
/// (`InputOptions::contents_as_digests`): a report that prints no file needs to know
/// only whether a file changed, and the bytes of 100,000 unit files are ~28 MB per image.
#[derive(Clone, Debug)]
pub enum Content {
    Bytes(Arc<[u8]>),
    Sha256([u8; 32]),
}

impl Content {
    /// The bytes, when the load kept them.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Content::Bytes(b) => Some(b),
            Content::Sha256(_) => None,
        }
    }

    /// The SHA-256 of the bytes.
    pub fn sha256(&self) -> [u8; 32] {
        match self {
            Content::Bytes(b) => sha256(b),
            Content::Sha256(d) => *d,
        }
    }

    /// Only the digest, the bytes dropped.
    pub fn to_digest(&self) -> Content {
        Content::Sha256(self.sha256())
    }
}

/// The SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Equal contents: the same bytes (compared as digests when either side kept only its
/// digest).
impl PartialEq for Content {
    fn eq(&self, other: &Content) -> bool {
        match (self, other) {
            (Content::Bytes(a), Content::Bytes(b)) => a == b,
            _ => self.sha256() == other.sha256(),
        }
    }
}

impl Eq for Content {}

/// A setting (any `Key=value` that is not a plain dependency) with its source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub section: Sym,
    pub key: Sym,
    /// Shared: instances of a template repeat its values, and images repeat words (`yes`,
    /// `oneshot`, target names).
    pub value: Sym,
    pub path: ImagePath,
    pub line: u32,
    pub layer: Layer,
}

/// A unit (or template) after loading.
#[derive(Clone, Debug, Serialize)]
pub struct Unit {
    pub id: Sym,
    pub unit_type: UnitType,
    pub state: LoadState,
    pub fragment: Option<UnitFile>,
    pub dropins: Vec<UnitFile>,
    pub aliases: BTreeSet<Sym>,
    /// `[Install]` entries (WantedBy, RequiredBy, UpheldBy, Alias, Also, DefaultInstance).
    pub install: Vec<Setting>,
    /// Every other setting, in the order systemd applies them.
    pub settings: Vec<Setting>,
}

/// A problem found while loading, tied to a path where possible.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Warning {
    pub path: Option<ImagePath>,
    pub line: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{p}:{l}: {}", self.message),
            (Some(p), None) => write!(f, "{p}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Everything loaded from one image.
#[derive(Clone, Debug, Serialize)]
pub struct UnitSet {
    pub rules: Rules,
    /// Whose units: the system manager's or a user manager's.
    pub scope: Scope,
    pub search_dirs: Vec<SearchDir>,
    /// Units by canonical name.
    pub units: BTreeMap<Sym, Unit>,
    /// Template units (`foo@.service`) by canonical name; never loaded by systemd itself.
    pub templates: BTreeMap<Sym, Unit>,
    /// Every known name (aliases included) → canonical name.
    pub names: BTreeMap<Sym, Sym>,
    /// Dependency edges, one per provenance, sorted.
    pub edges: Vec<Edge>,
    pub warnings: Vec<Warning>,
    /// `systemctl is-enabled` view of every unit and template, by canonical name.
    pub enablement: BTreeMap<Sym, Enablement>,
}

impl UnitSet {
    /// The unit a name refers to, aliases followed.
    pub fn unit(&self, name: &str) -> Option<&Unit> {
        self.names.get(name).and_then(|id| self.units.get(id))
    }

    /// The canonical name `name` refers to, aliases followed (`name` itself when the image
    /// has no such name).
    pub fn canonical(&self, name: &str) -> String {
        self.names
            .get(name)
            .map_or_else(|| name.to_string(), Sym::to_string)
    }
}

/// `systemctl is-enabled` states that an offline image can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnablementState {
    Enabled,
    EnabledRuntime,
    Linked,
    Masked,
    MaskedRuntime,
    Static,
    Indirect,
    Disabled,
    /// Written at boot by a generator (`systemctl is-enabled` says `generated`).
    Generated,
}

impl EnablementState {
    pub fn as_str(self) -> &'static str {
        match self {
            EnablementState::Enabled => "enabled",
            EnablementState::EnabledRuntime => "enabled-runtime",
            EnablementState::Linked => "linked",
            EnablementState::Masked => "masked",
            EnablementState::MaskedRuntime => "masked-runtime",
            EnablementState::Static => "static",
            EnablementState::Indirect => "indirect",
            EnablementState::Disabled => "disabled",
            EnablementState::Generated => "generated",
        }
    }
}

/// A preset line's verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PresetAction {
    Enable,
    Disable,
    /// From systemd 254.
    Ignore,
}

impl PresetAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PresetAction::Enable => "enable",
            PresetAction::Disable => "disable",
            PresetAction::Ignore => "ignore",
        }
    }
}

impl std::fmt::Display for PresetAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `"enable"` is [`PresetAction::Enable`], and so on.
impl PartialEq<&str> for PresetAction {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What a preset file says of a unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Preset {
    /// `enable`, `disable` or `ignore` (`enable` when no line matches).
    pub action: PresetAction,
    /// The preset file and line that decided, if any.
    pub path: Option<ImagePath>,
    pub line: Option<u32>,
}

/// A unit's enablement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Enablement {
    pub state: EnablementState,
    /// For units with `[Install]` rules: what the presets say.
    pub preset: Option<Preset>,
}

impl Enablement {
    /// The preset says enable but nothing links the unit (first boot or `systemctl
    /// preset` would enable it).
    pub fn preset_enabled_but_not_linked(&self) -> bool {
        self.state == EnablementState::Disabled
            && self
                .preset
                .as_ref()
                .is_some_and(|p| p.action == PresetAction::Enable)
    }
}
