//! The system's Graphviz `dot` as a child process.
//!
//! The DOT goes to the child on a pipe (no temporary file of image-derived text is ever
//! written), its output comes back on a pipe, and the child lives no longer than we do:
//! it is killed when its time limit passes, and the kernel kills it if we die first
//! (`PR_SET_PDEATHSIG` on Linux). Ctrl-C reaches it through our process group.

use super::{ImageFormat, RenderError};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether an executable `dot` is on `PATH`.
pub fn available() -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join("dot")))
}

#[cfg(unix)]
fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &std::path::Path) -> bool {
    p.is_file() || p.with_extension("exe").is_file()
}

/// Ask the kernel to kill the child when the thread that spawned it ends (that thread
/// waits for it, so: when we end), and close the race where we died before the request.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls (getpid, prctl, getppid,
    // _exit) are made, on values computed before the fork.
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

/// Kills and reaps the child unless it was waited for (an early return or a panic never
/// leaves a `dot` behind).
struct Reaper(Option<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Run `dot -T<format>` on `dot_text` and return what it wrote, within `limit`.
pub fn render(
    dot_text: &str,
    format: ImageFormat,
    limit: Duration,
) -> Result<Vec<u8>, RenderError> {
    let mut cmd = Command::new("dot");
    cmd.arg(match format {
        ImageFormat::Svg => "-Tsvg",
        ImageFormat::Png => "-Tpng",
    })
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    die_with_parent(&mut cmd);
    let child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            RenderError::DotNotFound
        } else {
            RenderError::DotFailed(e.to_string())
        }
    })?;
    let mut reaper = Reaper(Some(child));
    let child = reaper.0.as_mut().expect("just set");
    // Writer and readers on their own threads: `dot` may fill its output pipe before it
    // has read all of its input.
    let mut stdin = child.stdin.take().expect("piped");
    let input = dot_text.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        // A `dot` that exits early closes the pipe; its status tells why.
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).map(|_| v)
    });
    let mut stderr = child.stderr.take().expect("piped");
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        // Bounded: a warning flood must not grow without end.
        let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut v);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        v
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() >= limit => {
                drop(reaper); // kill and reap; the pipes close and the threads end
                let _ = writer.join();
                let _ = out.join();
                let _ = err.join();
                return Err(RenderError::TimedOut(limit));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(RenderError::DotFailed(e.to_string())),
        }
    };
    reaper.0 = None;
    let _ = writer.join();
    let stdout = out
        .join()
        .map_err(|_| RenderError::DotFailed("reader panicked".into()))?
        .map_err(|e| RenderError::DotFailed(e.to_string()))?;
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        return Err(RenderError::DotFailed(format!(
            "{status}: {}",
            one_line(&String::from_utf8_lossy(&stderr))
        )));
    }
    Ok(stdout)
}

/// The first line of `dot`'s complaint, control characters removed.
fn one_line(s: &str) -> String {
    let line = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    line.chars().filter(|c| !c.is_control()).take(300).collect()
}
