//! systemd's loading rules, as pure functions over a read-only [`crate::tree::Tree`].
//!
//! `name` (unit names), `syntax` (one file's assignments), `paths` (search path and layers),
//! `deps` (directives → dependency kinds, specifiers), `version` (which systemd's rules),
//! and `load`, which puts them together into a [`model::UnitSet`]: every unit with its
//! fragment, drop-ins, aliases, load state, `[Install]` section and dependency edges, each
//! edge with its provenance.

pub mod budget;
pub mod deps;
pub mod detect;
pub mod enablement;
pub mod fnmatch;
pub mod fs;
pub mod generators;
pub mod load;
pub mod model;
pub mod name;
pub mod path_util;
pub mod paths;
pub mod resolve;
pub mod rule_name;
pub mod scope;
pub mod sym;
pub mod syntax;
pub mod version;
pub mod words;

pub use deps::DepKind;
pub use load::{load, load_scoped, load_with};
pub use model::{
    Content, Edge, How, LoadState, Origin, Provenance, Setting, Unit, UnitFile, UnitSet, Warning,
};
pub use name::{UnitName, UnitType};
pub use paths::{Layer, SearchDir};
pub use scope::Scope;
pub use sym::Sym;
pub use version::Rules;
