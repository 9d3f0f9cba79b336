//! The command line: every subcommand, option and positional argument, with its help (also
//! the source of the shell completions and the manual page).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use unitdiff::report;
use unitdiff::unit::{DepKind, Rules};

/// What changes in the systemd dependency graph between two OS images.
#[derive(Parser)]
#[command(
    name = "unitdiff",
    version = super::version::short(),
    long_version = super::version::long()
)]
pub struct Cli {
    /// Do not print warnings about the images' unit files.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Do not send long text output on a terminal through the pager ($PAGER, or less).
    #[arg(long, global = true)]
    pub no_pager: bool,
    #[command(flatten)]
    pub input: InputArgs,
    /// Accept a root without any systemd unit directory (a deliberately empty side);
    /// otherwise that is an error, as it usually means a wrong path.
    #[arg(long, global = true)]
    pub allow_empty: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Choices for ROOTs that hold more than one root filesystem (both sides of a diff).
#[derive(Args)]
pub struct InputArgs {
    /// Image to read from a multi-platform index: OS/ARCH[/VARIANT] (e.g. linux/arm64).
    #[arg(long, global = true, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Image to read from an archive holding several: its ref name or tag.
    #[arg(long, global = true, value_name = "REF")]
    pub image_ref: Option<String>,
    /// Partition of a GPT disk image: its number (from 1, as in /dev/sdaN), or its label
    /// when no partition has that number (default: the one holding the systemd unit
    /// directories).
    #[arg(long, global = true, value_name = "N|LABEL")]
    pub partition: Option<String>,
    /// Do not emulate the image's generators (fstab, ssh, sysv, getty…): load only the
    /// unit files on disk, as `systemd --test` with an explicit unit path does.
    #[arg(long, global = true)]
    pub no_generators: bool,
    /// The kernel command line the emulated generators see (console= for serial gettys,
    /// fstab=, systemd.ssh_auto=…); empty by default. Reports name it.
    #[arg(long, global = true, value_name = "CMDLINE", default_value = "")]
    pub kernel_cmdline: String,
    /// Load a user manager's units (`systemctl --user`'s view: /usr/lib/systemd/user,
    /// /etc/systemd/user, …, its default.target) instead of the system manager's.
    #[arg(long, global = true)]
    pub user: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Compare the dependency graphs of two root filesystems.
    ///
    /// Exit status: 0 no dependency change, 1 dependency changes found, 2 error.
    Diff {
        /// The old root: a directory, tarball, container image, filesystem image or snapshot.
        old: PathBuf,
        /// The new root, in any of the same forms.
        new: PathBuf,
        /// Add unified diffs of every changed unit file and drop-in (text format; the
        /// Markdown report always has them).
        #[arg(short, long)]
        patch: bool,
        /// Only a summary: each changed unit with its dependencies added (+) and removed
        /// (-), and its files and [Install] lines changed; then the totals (text format).
        #[arg(long, conflicts_with_all = ["patch", "name_only"])]
        stat: bool,
        /// Only the names of the units whose unit files, state or dependencies changed, one
        /// per line (text format).
        #[arg(long, conflicts_with = "patch")]
        name_only: bool,
        /// The report's format: text and json carry everything; markdown, dot, svg and png
        /// draw the picture (shaped by the options below); html is a single-file offline
        /// report to browse (findings with their pictures, filters, the overview).
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        #[command(flatten)]
        out: PictureOut,
        /// svg and png: draw every change even when the diff is too large to read in one
        /// picture (past 60 units they draw an overview of the findings instead).
        #[arg(long)]
        all: bool,
        /// Write one focused picture per top finding into DIR, with an index.html
        /// (--format svg, png or dot).
        #[arg(long, value_name = "DIR")]
        split: Option<PathBuf>,
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
    /// Judge the changes between two root filesystems and gate on them.
    ///
    /// Every finding has a rule (`unitdiff rules`) and a level; a policy file can change
    /// levels and allow findings, a baseline can accept the current ones.
    /// Exit status: 0 pass, 1 the gate failed (a new finding at or above --fail-on), 2 error.
    Check {
        /// The old root: a directory, tarball, container image, filesystem image or snapshot.
        old: PathBuf,
        /// The new root, in any of the same forms.
        new: PathBuf,
        /// The lowest level that fails the gate.
        #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
        fail_on: FailOnArg,
        /// The policy file (default: unitdiff.toml in the working directory, when present).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Accept the findings recorded in this baseline file (listed as baselined, with
        /// their age).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Record the current findings in a baseline file (first-seen dates kept from
        /// --baseline).
        #[arg(long, value_name = "FILE")]
        write_baseline: Option<PathBuf>,
        /// The format of the report on standard output (or -o FILE).
        #[arg(long, value_enum, default_value_t = CheckFormatArg::Text)]
        format: CheckFormatArg,
        /// Also write a report in FORMAT to FILE (repeatable), e.g. --report json=check.json.
        #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = super::check::parse_report)]
        reports: Vec<(report::check::CheckFormat, PathBuf)>,
        /// Write the report to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Colour the text report: auto (a terminal, unless NO_COLOR is set), always, never.
        #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
        color: ColorArg,
        /// Apply this systemd version's rules to both sides.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
        /// Apply this systemd version's rules to OLD only.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        old_systemd_version: Option<Rules>,
        /// Apply this systemd version's rules to NEW only.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        new_systemd_version: Option<Rules>,
    },
    /// List every rule of the findings with its default level.
    Rules {
        /// text, markdown (docs/rules.md) or json.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// What a rule means, why it matters, an example, and how to allow it.
    Explain {
        /// A rule ID, e.g. new-hard-dependency (`unitdiff rules` lists them).
        rule: String,
    },
    /// Offline `systemctl list-dependencies`: ROOT UNIT, or OLD NEW UNIT to compare.
    ///
    /// With two roots, branches only NEW has are marked `+`, branches only OLD had `-`.
    #[command(override_usage = "unitdiff deps [OPTIONS] ROOT UNIT\n       \
                                unitdiff deps [OPTIONS] OLD NEW UNIT")]
    Deps {
        /// One root, or two (OLD NEW) to compare: a directory, tarball, container image,
        /// filesystem image or snapshot.
        #[arg(num_args = 1..=2, required = true, value_name = "ROOT")]
        roots: Vec<PathBuf>,
        /// The unit, named as systemctl takes it (`ssh` is ssh.service; an instance of a
        /// template falls back to the template).
        unit: String,
        /// Show what depends on UNIT instead (RequiredBy, WantedBy, PartOf…).
        #[arg(long, conflicts_with_all = ["before", "after"])]
        reverse: bool,
        /// Follow Before=: the units UNIT is ordered before (systemctl's --before).
        #[arg(long, conflicts_with = "after")]
        before: bool,
        /// Follow After=: the units UNIT is ordered after (systemctl's --after).
        #[arg(long)]
        after: bool,
        /// Expand every unit, not only targets (systemctl's --all), in every format.
        #[arg(long)]
        all: bool,
        /// Show the file and line (or rule) behind each line (text; the JSON always has
        /// them; pictures do not).
        #[arg(long)]
        why: bool,
        /// Apply this systemd version's rules instead of the version detected in the image
        /// (each image's, with two roots).
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
        #[command(flatten)]
        out: DepsOut,
    },
    /// Every dependency path from FROM to TO in ROOT, shortest first, with provenance.
    ///
    /// Exit status: 0 a path was found, 1 no path, 2 error (e.g. a unit ROOT does not have).
    Why {
        /// The root: a directory, tarball, container image, filesystem image or snapshot.
        root: PathBuf,
        /// The unit the paths start from, named as systemctl takes it (`ssh` is
        /// ssh.service).
        from: String,
        /// The unit the paths lead to.
        to: String,
        /// Most paths to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Longest path, in hops.
        #[arg(long, default_value_t = 8)]
        max_hops: usize,
        /// Apply this systemd version's rules instead of the version detected in the image.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
        #[command(flatten)]
        out: TextJsonOut,
    },
    /// Save every file of ROOT that unitdiff reads into one compressed snapshot file,
    /// usable wherever a ROOT is (e.g. to diff a candidate against a past release).
    Snapshot {
        /// The root filesystem, archive or image to snapshot.
        root: PathBuf,
        /// The snapshot file to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Offline `systemctl cat`: a unit's fragment and drop-ins in the order systemd applies
    /// them, each under its in-image path and layer (text).
    Cat {
        /// The root: a directory, tarball, container image, filesystem image or snapshot.
        root: PathBuf,
        /// The unit, named as systemctl takes it (`ssh` is ssh.service; a template by its
        /// name, e.g. getty@.service).
        unit: String,
        /// Write to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Apply this systemd version's rules instead of the version detected in the image.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
    },
    /// Print one root filesystem's dependency graph.
    Graph {
        /// The root: a directory, tarball, container image, filesystem image or snapshot.
        root: PathBuf,
        /// The report's format: text and json carry everything; markdown, dot, svg and png
        /// draw the picture (shaped by the options below).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        out: PictureOut,
        /// Apply this systemd version's rules instead of the version detected in the image.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
    },
    /// Print the completion script for a shell, e.g. `source <(unitdiff completions bash)`.
    Completions {
        /// The shell the script is for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff, for `man -l -`), or write every page into a directory.
    Man {
        /// The subcommand whose page to print (unitdiff-diff(1)…); default: unitdiff(1).
        command: Option<String>,
        /// Write unitdiff.1 and one unitdiff-COMMAND.1 per subcommand into DIR instead.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<PathBuf>,
    },
}

impl Command {
    /// Whether the command prints unit files: `cat`, `diff -p`, the Markdown and HTML
    /// reports (their patches), and `check --format github` in a GitHub Actions step (the
    /// step summary is the check's Markdown). The others load only each file's SHA-256.
    pub fn prints_files(&self) -> bool {
        match self {
            Command::Diff { patch, format, .. } => {
                *patch || matches!(format, DiffFormat::Markdown | DiffFormat::Html)
            }
            Command::Check {
                format, reports, ..
            } => std::iter::once(format.format())
                .chain(reports.iter().map(|(f, _)| *f))
                .any(|f| match f {
                    report::check::CheckFormat::Markdown | report::check::CheckFormat::Html => true,
                    report::check::CheckFormat::Github => {
                        std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|p| !p.is_empty())
                    }
                    _ => false,
                }),
            Command::Deps { .. } | Command::Why { .. } | Command::Graph { .. } => false,
            _ => true,
        }
    }
}

/// The output options of `diff` and `graph` (besides the format): what shapes the pictures.
#[derive(Args)]
pub struct PictureOut {
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour the text report: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Pictures (markdown, dot, svg, png): only the neighbourhood of this unit; a name as
    /// systemctl takes it or a glob such as 'systemd-*' (repeatable).
    #[arg(long, value_name = "UNIT")]
    pub focus: Vec<String>,
    /// Pictures: hops of unchanged context around what changed (or around --focus)
    /// [default: 1].
    #[arg(long, value_name = "N")]
    pub context: Option<usize>,
    /// Pictures: only these dependency kinds, e.g. requires,wants,after.
    #[arg(long, value_name = "LIST", value_parser = parse_kinds)]
    pub kinds: Option<KindList>,
    /// Pictures: also draw unchanged edges systemd adds by itself (default dependencies…).
    #[arg(long)]
    pub implicit: bool,
    /// Markdown: cut the report past N characters, with a note on what was left out
    /// (0: no limit). The default fits a GitHub or GitLab comment.
    #[arg(long, value_name = "N")]
    pub max_chars: Option<usize>,
    /// svg and png (and html's pictures): Graphviz's layout built in, or the system's
    /// Graphviz `dot` [default: builtin].
    #[arg(long, value_enum)]
    pub renderer: Option<RendererArg>,
    /// svg and png: stop drawing after SECONDS [default: 60; 600 with diff --all]; html
    /// and --split: all the pictures together [default: 5].
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<u64>,
}

/// The output options of `deps`.
#[derive(Args)]
pub struct DepsOut {
    /// The report's format; dot, svg and png draw OLD's and NEW's trees side by side (two
    /// roots only).
    #[arg(long, value_enum, default_value_t = DepsFormat::Text)]
    pub format: DepsFormat,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour the text report: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// svg and png: Graphviz's layout built in, or the system's Graphviz `dot`
    /// [default: builtin].
    #[arg(long, value_enum)]
    pub renderer: Option<RendererArg>,
    /// svg and png: stop drawing after SECONDS [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<u64>,
}

/// The output options of a command that writes text or JSON.
#[derive(Args)]
pub struct TextJsonOut {
    /// The report's format.
    #[arg(long, value_enum, default_value_t = TextJson::Text)]
    pub format: TextJson,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOnArg {
    Error,
    Warn,
    Info,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CheckFormatArg {
    Text,
    Json,
    Sarif,
    Github,
    Junit,
    Gitlab,
    Markdown,
    Html,
}

impl CheckFormatArg {
    pub fn format(self) -> report::check::CheckFormat {
        use report::check::CheckFormat as F;
        match self {
            CheckFormatArg::Text => F::Text,
            CheckFormatArg::Json => F::Json,
            CheckFormatArg::Sarif => F::Sarif,
            CheckFormatArg::Github => F::Github,
            CheckFormatArg::Junit => F::Junit,
            CheckFormatArg::Gitlab => F::Gitlab,
            CheckFormatArg::Markdown => F::Markdown,
            CheckFormatArg::Html => F::Html,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RendererArg {
    Builtin,
    Graphviz,
}

/// Every report format (`diff` and `graph` write them all).
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Dot,
    Svg,
    Png,
    /// `diff` only (see [`DiffFormat`]).
    #[value(skip)]
    Html,
}

/// The formats `diff` writes: every one, and the HTML report.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
    Dot,
    Svg,
    Png,
    Html,
}

impl From<DiffFormat> for Format {
    fn from(f: DiffFormat) -> Format {
        match f {
            DiffFormat::Text => Format::Text,
            DiffFormat::Json => Format::Json,
            DiffFormat::Markdown => Format::Markdown,
            DiffFormat::Dot => Format::Dot,
            DiffFormat::Svg => Format::Svg,
            DiffFormat::Png => Format::Png,
            DiffFormat::Html => Format::Html,
        }
    }
}

/// The formats `deps` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DepsFormat {
    Text,
    Json,
    Dot,
    Svg,
    Png,
}

/// Text or JSON.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextJson {
    Text,
    Json,
}

impl From<DepsFormat> for Format {
    fn from(f: DepsFormat) -> Format {
        match f {
            DepsFormat::Text => Format::Text,
            DepsFormat::Json => Format::Json,
            DepsFormat::Dot => Format::Dot,
            DepsFormat::Svg => Format::Svg,
            DepsFormat::Png => Format::Png,
        }
    }
}

impl From<TextJson> for Format {
    fn from(f: TextJson) -> Format {
        match f {
            TextJson::Text => Format::Text,
            TextJson::Json => Format::Json,
        }
    }
}

/// A comma-separated list of dependency kinds (one clap value).
#[derive(Clone)]
pub struct KindList(pub Vec<DepKind>);

fn parse_kinds(s: &str) -> Result<KindList, String> {
    report::picture::parse_kinds(s).map(KindList)
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
    let rules = Rules::new(major, point);
    if !rules.is_known() {
        return Err(format!(
            "no rules for systemd {s}: the rules of systemd {} are known",
            Rules::known_range()
        ));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// clap's own consistency checks (names, conflicts, positionals) on every subcommand.
    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every argument of every subcommand, positional or not, has a help text.
    #[test]
    fn every_argument_is_documented() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("{path} {id}"));
                }
            }
            for s in cmd.get_subcommands() {
                walk(s, &format!("{path} {}", s.get_name()), missing);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "unitdiff", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }
}
