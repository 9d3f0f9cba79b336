//! What `unitdiff --version` says: the crate version, the commit the binary was built from
//! (recorded by build.rs) and the systemd versions whose loading rules are modelled.

use std::sync::OnceLock;
use unitdiff::unit::Rules;

/// The commit, as build.rs found it ("unknown commit …" outside a git checkout).
pub const COMMIT: &str = env!("UNITDIFF_COMMIT");

/// `-V`: one line.
pub fn short() -> &'static str {
    static S: OnceLock<String> = OnceLock::new();
    S.get_or_init(|| format!("{} ({COMMIT})", env!("CARGO_PKG_VERSION")))
}

/// `--version`: the version, the commit and the rules.
pub fn long() -> &'static str {
    static L: OnceLock<String> = OnceLock::new();
    L.get_or_init(|| {
        format!(
            "{}\ncommit: {COMMIT}\nsystemd rules: {} (other versions are loaded with the \
             nearest known version's rules, with a warning)",
            env!("CARGO_PKG_VERSION"),
            Rules::known_range()
        )
    })
}
