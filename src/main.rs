//! The `unitdiff` command: argument parsing, output plumbing and exit codes only.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use unitdiff::{diff, report, unit::Rules};

/// What changes in the systemd dependency graph between two OS images.
#[derive(Parser)]
#[command(name = "unitdiff", version, about)]
struct Cli {
    /// Do not print warnings about the images' unit files.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compare the dependency graphs of two root filesystems.
    ///
    /// Exit status: 0 no dependency change, 1 dependency changes found, 2 error.
    Diff {
        /// The old root filesystem (an extracted directory).
        old: PathBuf,
        /// The new root filesystem.
        new: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print one root filesystem's dependency graph.
    Graph {
        /// The root filesystem (an extracted directory).
        root: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn warn_all(g: &unitdiff::graph::DepGraph) {
    let stderr = io::stderr();
    let mut e = stderr.lock();
    for w in &g.set.warnings {
        let _ = writeln!(e, "unitdiff: warning: {}: {w}", g.root);
    }
}

fn write_json(v: &serde_json::Value, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, v)?;
    writeln!(w)
}

fn run(cli: Cli) -> Result<u8, anyhow::Error> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let rules = Rules::default();
    match cli.command {
        Command::Diff { old, new, format } => {
            let og = unitdiff::load_dir(&old, rules)?;
            let ng = unitdiff::load_dir(&new, rules)?;
            if !cli.quiet {
                warn_all(&og);
                warn_all(&ng);
            }
            let d = diff::diff(&og, &ng);
            let code = u8::from(d.has_dependency_changes());
            let written = match format {
                Format::Text => report::text::diff(&d, &mut out),
                Format::Json => write_json(&report::json::diff(&d, &og, &ng), &mut out),
            }
            .and_then(|()| out.flush());
            match written {
                // A reader that stops early (`| head`) still gets the diff's exit status.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
                Err(e) => Err(e.into()),
                Ok(()) => Ok(code),
            }
        }
        Command::Graph { root, format } => {
            let g = unitdiff::load_dir(&root, rules)?;
            if !cli.quiet {
                warn_all(&g);
            }
            match format {
                Format::Text => report::text::graph(&g, &mut out)?,
                Format::Json => write_json(&report::json::graph(&g), &mut out)?,
            }
            out.flush()?;
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("unitdiff: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
