//! Running unitdiff with a hang guard: its output is read as it comes, and past a deadline
//! it is killed and the test fails as a hang. The deadline guards against a hang; it does
//! not assert how long a run takes.

use std::io::Read;
use std::process::Child;
use std::time::{Duration, Instant};

/// What a bounded run gave.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Wait for `child` (stdout and stderr piped), reading both as they come; past `deadline`
/// kill it and fail the test as a hang of `what`, with what it wrote to stderr.
pub fn wait(mut child: Child, deadline: Duration, what: &str) -> Output {
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped stdout")));
    let err = reader(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!("{what} did not finish within {deadline:?} (blocked?)\nstderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}
