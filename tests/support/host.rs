//! This machine's own systemd unit directories as a test root.
#![allow(dead_code)] // each test binary includes the support code but uses only part of it

use std::path::Path;

/// Copy this machine's own unit directories into a root laid out like the host's (`/lib`
/// stays a symlink if it is one), so a real distribution tree is compared too.
#[track_caller]
pub fn copy_host_tree(dst: &Path) {
    super::tools::require_host_tree();
    use std::os::unix::fs::symlink;
    for top in ["lib", "usr/lib"] {
        let src = Path::new("/").join(top);
        if let Ok(t) = std::fs::read_link(&src) {
            std::fs::create_dir_all(dst.join(top).parent().unwrap()).unwrap();
            symlink(t, dst.join(top)).unwrap();
        }
    }
    for dir in ["usr/lib/systemd/system", "etc/systemd/system"] {
        let src = Path::new("/").join(dir);
        for entry in walkdir::WalkDir::new(&src).follow_links(false) {
            let Ok(entry) = entry else { continue };
            let rel = entry.path().strip_prefix("/").unwrap();
            let to = dst.join(rel);
            let ft = entry.file_type();
            if ft.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
            } else if ft.is_symlink() {
                let t = std::fs::read_link(entry.path()).unwrap();
                symlink(t, &to).unwrap();
            } else if ft.is_file() {
                std::fs::copy(entry.path(), &to).unwrap();
            }
        }
    }
}
