//! The `unitdiff` command: argument parsing, output plumbing and exit codes only.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use unitdiff::{report, unit::Rules};

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
        /// Apply this systemd version's rules to both sides (e.g. 225, 252, 257.13) instead
        /// of the version detected in each image.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
        /// Apply this systemd version's rules to OLD only.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        old_systemd_version: Option<Rules>,
        /// Apply this systemd version's rules to NEW only.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        new_systemd_version: Option<Rules>,
    },
    /// Print one root filesystem's dependency graph.
    Graph {
        /// The root filesystem (an extracted directory).
        root: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Apply this systemd version's rules instead of the version detected in the image.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
    },
}

/// `252` or `257.13`.
fn parse_rules(s: &str) -> Result<Rules, String> {
    let (major, point) = s.split_once('.').unwrap_or((s, "0"));
    let major: u32 = major
        .parse()
        .map_err(|_| format!("not a systemd version: {s}"))?;
    let point: u32 = point
        .parse()
        .map_err(|_| format!("not a systemd version: {s}"))?;
    if !(200..1000).contains(&major) {
        return Err(format!("unsupported systemd version: {s}"));
    }
    Ok(Rules::new(major, point))
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
    match cli.command {
        Command::Diff {
            old,
            new,
            format,
            systemd_version,
            old_systemd_version,
            new_systemd_version,
        } => {
            let c = unitdiff::compare(
                &old,
                &new,
                old_systemd_version.or(systemd_version),
                new_systemd_version.or(systemd_version),
            )?;
            let (og, ng, d) = (c.old, c.new, c.diff);
            if !cli.quiet {
                warn_all(&og);
                warn_all(&ng);
            }
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
        Command::Graph {
            root,
            format,
            systemd_version,
        } => {
            let g = unitdiff::open(&root, systemd_version)?;
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
