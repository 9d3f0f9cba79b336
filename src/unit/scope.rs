//! Which manager's units are loaded: the system manager (PID 1, `systemctl`) or a user
//! manager (`systemd --user`, `systemctl --user`). Every decision that differs between the
//! two asks a [`Scope`] value, so those rules stay in one place (docs/semantics.md, "User
//! scope").

use serde::Serialize;
use std::fmt;

/// The manager whose view of the image is modelled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The system manager: `/usr/lib/systemd/system`, `/etc/systemd/system`, …
    #[default]
    System,
    /// A user manager: `/usr/lib/systemd/user`, `/etc/systemd/user`, … (the parts of its
    /// search path that are in an image: not a user's home or runtime directory).
    User,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::User => "user",
        }
    }

    pub fn is_user(self) -> bool {
        self == Scope::User
    }

    /// The units every manager of this scope has, referenced or not (`enumerate_perpetual`
    /// of slices, mounts and scopes): `system.slice` only in the system manager.
    pub fn perpetual(self) -> &'static [&'static str] {
        match self {
            Scope::System => &["-.slice", "system.slice", "-.mount", "init.scope"],
            Scope::User => &["-.slice", "-.mount", "init.scope"],
        }
    }

    /// Whether `id` is one of [`Self::perpetual`].
    pub fn is_perpetual(self, id: &str) -> bool {
        self.perpetual().contains(&id)
    }
}

/// A user manager's home directory, as unitdiff takes it: a user's home is not part of an
/// image, so `%h`, `~` and the directories below it stand for a path on the root file system
/// (what matters for the graph is which mount units lie above a path: `-.mount`).
pub const USER_HOME: &str = "/home/user";
/// A user manager's `$XDG_RUNTIME_DIR` (`%t`), as unitdiff takes it (see [`USER_HOME`]).
pub const USER_RUNTIME_DIR: &str = "/run/user/1000";

/// The directory `%S`, `%C`, `%L`, `%E` and `StateDirectory=`… are relative to, in a user
/// manager (`manager_setup_prefix`, `paths_user`): key → path.
pub fn user_prefix(key: &str) -> Option<&'static str> {
    Some(match key {
        "RuntimeDirectory" => USER_RUNTIME_DIR,
        "StateDirectory" | "ConfigurationDirectory" => "/home/user/.config",
        "CacheDirectory" => "/home/user/.cache",
        "LogsDirectory" => "/home/user/.config/log",
        _ => return None,
    })
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
