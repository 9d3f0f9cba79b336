//! Which systemd an image runs: read from the image itself, so each side of a diff is
//! loaded with its own version's rules.
//!
//! In order: the version string in the manager binary (`systemd 252.38-1~deb12u1 running
//! in …`), the `libsystemd-shared-NNN.so` file name, then `os-release` for releases we know
//! (CoreOS 899/1010 ran systemd 225; Debian 12 ships 252, Debian 13 257). Without any of
//! these, systemd 252 is assumed and the report says so.

use super::version::Rules;
use crate::tree::{self, ImagePath, NodeKind, Tree};

/// The rules chosen for an image and how they were found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub rules: Rules,
    pub how: String,
}

/// Largest manager binary we scan for its version string.
const MAX_BINARY: u64 = 64 * 1024 * 1024;

/// Parse `252`, `252.38`, `252.38-1~deb12u1`, `v225-41` into (major, point).
fn parse_version(s: &str) -> Option<(u32, u32)> {
    let s = s.trim_start_matches('v');
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let major: u32 = digits.parse().ok()?;
    let rest = &s[digits.len()..];
    let point = rest
        .strip_prefix('.')
        .map(|r| {
            r.chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
        })
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    (100..1000).contains(&major).then_some((major, point))
}

/// Find `systemd VERSION running in` in a binary.
fn version_in_binary(bytes: &[u8]) -> Option<(u32, u32, String)> {
    let needle = b"systemd ";
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(needle.len()).position(|w| w == needle) {
        let start = i + pos + needle.len();
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b' ' || b == 0)
            .map_or(bytes.len(), |e| start + e);
        if bytes[end..].starts_with(b" running in")
            && let Ok(v) = std::str::from_utf8(&bytes[start..end])
            && let Some((major, point)) = parse_version(v)
        {
            return Some((major, point, v.to_string()));
        }
        i = start;
    }
    None
}

fn read(tree: &dyn Tree, path: &str, limit: u64) -> Option<(ImagePath, Vec<u8>)> {
    let (real, kind) = tree::stat(tree, &ImagePath::new(path)).ok()?;
    if kind != Some(NodeKind::File) {
        return None;
    }
    tree.read_file(&real, limit).ok().map(|b| (real, b))
}

fn os_release(tree: &dyn Tree) -> Option<(ImagePath, String, String)> {
    let (path, bytes) = read(tree, "/etc/os-release", 64 * 1024)
        .or_else(|| read(tree, "/usr/lib/os-release", 64 * 1024))?;
    let text = String::from_utf8_lossy(&bytes);
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    Some((path, field("ID"), field("VERSION_ID")))
}

/// Detect the systemd version of the image behind `tree`.
pub fn detect(tree: &dyn Tree) -> Detected {
    for bin in ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"] {
        if let Some((path, bytes)) = read(tree, bin, MAX_BINARY)
            && let Some((major, point, text)) = version_in_binary(&bytes)
        {
            return Detected {
                rules: Rules::new(major, point),
                how: format!("version string \"systemd {text}\" in {path}"),
            };
        }
    }
    for dir in ["/usr/lib/systemd", "/lib/systemd"] {
        let Ok((real, Some(NodeKind::Dir))) = tree::stat(tree, &ImagePath::new(dir)) else {
            continue;
        };
        for (name, _) in tree.read_dir(&real).unwrap_or_default() {
            if let Some(v) = name
                .strip_prefix("libsystemd-shared-")
                .and_then(|r| r.strip_suffix(".so"))
                && let Some((major, point)) = parse_version(v)
            {
                return Detected {
                    rules: Rules::new(major, point),
                    how: format!("library name {}", real.join(&name)),
                };
            }
        }
    }
    if let Some((path, id, version)) = os_release(tree) {
        let major_release = version.split('.').next().unwrap_or("");
        let known = match (id.as_str(), major_release) {
            ("coreos", "899" | "1010") => Some(Rules::new(225, 0)),
            ("debian", "12") => Some(Rules::new(252, 0)),
            // Debian 13 ships 257.13 (the masked-unit change of 257.10 included).
            ("debian", "13") => Some(Rules::new(257, 13)),
            _ => None,
        };
        if let Some(rules) = known {
            return Detected {
                rules,
                how: format!("{path} says {id} {version}, which ships systemd {rules}"),
            };
        }
    }
    Detected {
        rules: Rules::default(),
        how: ASSUMED.to_string(),
    }
}

/// [`Detected::how`] when nothing in the image says which systemd it ships.
pub const ASSUMED: &str = "not found in the image; assumed";

impl Detected {
    /// A warning for reports when these rules are a guess or an approximation: the version
    /// was not found in the image, or is outside the versions whose rules are known.
    pub fn caveat(&self) -> Option<String> {
        if self.how == ASSUMED {
            return Some(format!(
                "the systemd version was not found in the image (no manager binary, \
                 libsystemd-shared library or known os-release); systemd {}'s rules assumed \
                 (--systemd-version to choose)",
                self.rules
            ));
        }
        self.rules.caveat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("252.38-1~deb12u1"), Some((252, 38)));
        assert_eq!(parse_version("225"), Some((225, 0)));
        assert_eq!(parse_version("v225-41"), Some((225, 0)));
        assert_eq!(parse_version("2"), None);
        let bin = b"\0junk systemd 252.38-1~deb12u1 running in %ssystem mode\0";
        assert_eq!(version_in_binary(bin).unwrap().0, 252);
        assert_eq!(version_in_binary(b"systemd is great").map(|v| v.0), None);
    }
}
