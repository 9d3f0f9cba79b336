//! `unitdiff completions SHELL` (clap_complete) and `unitdiff man` (clap_mangen): both are
//! generated from the same command-line definition as `--help`, so they cannot drift.

use super::args::Cli;
use clap::CommandFactory;
use std::io::Write;
use std::path::Path;

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "unitdiff", &mut out);
    out
}

/// The page of unitdiff(1), or of one subcommand (unitdiff-diff(1)…), as roff.
pub fn page(command: Option<&str>) -> Result<Vec<u8>, anyhow::Error> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let cmd = match command {
        None => cmd,
        Some(name) => cmd.find_subcommand(name).cloned().ok_or_else(|| {
            anyhow::anyhow!("no subcommand {name:?}; `unitdiff --help` lists them")
        })?,
    };
    let mut out = Vec::new();
    man(cmd).render(&mut out)?;
    Ok(out)
}

/// Write unitdiff.1 and unitdiff-COMMAND.1 for every subcommand into `dir`; returns the
/// files written.
pub fn write_pages(dir: &Path) -> Result<Vec<String>, anyhow::Error> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    let pages = std::iter::once(cmd.clone()).chain(cmd.get_subcommands().cloned());
    for c in pages {
        let man = man(c);
        let name = man.get_filename();
        let path = dir.join(&name);
        let mut bytes = Vec::new();
        man.render(&mut bytes)?;
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        written.push(name);
    }
    Ok(written)
}

/// A page whose footer names unitdiff and its version (a subcommand has no version of its
/// own).
fn man(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("unitdiff {}", super::version::short()))
}
