//! The pager, as git runs it: long text on a terminal goes through `$PAGER` (default
//! `less` with `LESS=FRX` unless LESS is set, so one screen of text is printed as is and
//! colours pass through). Never when standard output is not a terminal; off with
//! `--no-pager` or an empty `PAGER` (or `cat`).

use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};

/// The pager command to run, if output should be paged.
pub fn command(no_pager: bool) -> Option<String> {
    if no_pager || !io::stdout().is_terminal() {
        return None;
    }
    let pager = std::env::var("PAGER").unwrap_or_else(|_| "less".to_string());
    let pager = pager.trim();
    if pager.is_empty() || pager == "cat" {
        return None;
    }
    Some(pager.to_string())
}

/// Write `bytes` through the pager and wait for it. An error starting it (not installed)
/// is returned so the caller can print directly instead.
pub fn page(pager: &str, bytes: &[u8]) -> io::Result<()> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(pager).stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        cmd.env("LESS", "FRX");
    }
    let mut child = cmd.spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    // The reader may quit early (q in less): a closed pipe is not an error.
    match stdin.write_all(bytes) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e),
        _ => {}
    }
    drop(stdin);
    let status = child.wait()?;
    // 127: the shell found no such command; print without a pager.
    if status.code() == Some(127) {
        return Err(io::Error::new(io::ErrorKind::NotFound, "pager not found"));
    }
    Ok(())
}
