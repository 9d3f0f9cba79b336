//! The `unitdiff` command: argument parsing, output plumbing and exit codes only.

mod progress;

use anstream::adapter::strip_str;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use unitdiff::findings::{self, FailOn};
use unitdiff::query::{self, Direction};
use unitdiff::report::escape;
use unitdiff::report::picture::Selection;
use unitdiff::report::render::{self, ImageFormat, Renderer};
use unitdiff::unit::{DepKind, resolve};
use unitdiff::{report, unit::Rules};

mod cli;

// Loading makes many small strings; mimalloc roughly halves the allocator's share of it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What changes in the systemd dependency graph between two OS images.
#[derive(Parser)]
#[command(name = "unitdiff", version, about)]
struct Cli {
    /// Do not print warnings about the images' unit files.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Do not send long text output on a terminal through the pager ($PAGER, or less).
    #[arg(long, global = true)]
    no_pager: bool,
    #[command(flatten)]
    input: InputArgs,
    /// Accept a root without any systemd unit directory (a deliberately empty side);
    /// otherwise that is an error, as it usually means a wrong path.
    #[arg(long, global = true)]
    allow_empty: bool,
    #[command(subcommand)]
    command: Command,
}

/// Choices for ROOTs that hold more than one root filesystem (both sides of a diff).
#[derive(Args)]
struct InputArgs {
    /// Image to read from a multi-platform index: OS/ARCH[/VARIANT] (e.g. linux/arm64).
    #[arg(long, global = true, value_name = "OS/ARCH")]
    platform: Option<String>,
    /// Image to read from an archive holding several: its ref name or tag.
    #[arg(long, global = true, value_name = "REF")]
    image_ref: Option<String>,
    /// Partition of a GPT disk image: its number (from 1) or label (default: the one
    /// holding the systemd unit directories).
    #[arg(long, global = true, value_name = "LABEL|N")]
    partition: Option<String>,
}

/// The input choices, set once from the command line.
static INPUT: std::sync::OnceLock<unitdiff::InputOptions> = std::sync::OnceLock::new();

fn input_options() -> &'static unitdiff::InputOptions {
    INPUT.get_or_init(Default::default)
}

#[derive(Subcommand)]
enum Command {
    /// Compare the dependency graphs of two root filesystems.
    ///
    /// Exit status: 0 no dependency change, 1 dependency changes found, 2 error.
    Diff {
        /// The old root: a directory, tarball, container image, filesystem image or snapshot.
        old: PathBuf,
        /// The new root filesystem.
        new: PathBuf,
        /// Add unified diffs of every changed unit file and drop-in (text format).
        #[arg(short, long)]
        patch: bool,
        #[command(flatten)]
        out: OutputArgs,
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
        /// The old root filesystem (an extracted directory).
        old: PathBuf,
        /// The new root filesystem.
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
        #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = cli::check::parse_report)]
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
        /// A rule ID, e.g. new-hard-dependency.
        rule: String,
    },
    /// Offline `systemctl list-dependencies`: ROOT UNIT, or OLD NEW UNIT to compare.
    ///
    /// With two roots, branches only NEW has are marked `+`, branches only OLD had `-`.
    Deps {
        /// ROOT UNIT, or OLD NEW UNIT.
        #[arg(num_args = 2..=3, required = true, value_name = "ROOT [NEW] UNIT")]
        args: Vec<String>,
        /// Show what depends on UNIT instead (RequiredBy, WantedBy, PartOf…).
        #[arg(long, conflicts_with_all = ["before", "after"])]
        reverse: bool,
        /// Follow Before=: the units UNIT is ordered before (systemctl's --before).
        #[arg(long, conflicts_with = "after")]
        before: bool,
        /// Follow After=: the units UNIT is ordered after (systemctl's --after).
        #[arg(long)]
        after: bool,
        /// Expand every unit, not only targets.
        #[arg(long)]
        all: bool,
        /// Show the file and line (or rule) behind each line.
        #[arg(long)]
        why: bool,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Every dependency path from FROM to TO in ROOT, shortest first, with provenance.
    Why {
        root: PathBuf,
        from: String,
        to: String,
        /// Most paths to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Longest path, in hops.
        #[arg(long, default_value_t = 8)]
        max_hops: usize,
        #[command(flatten)]
        out: OutputArgs,
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
    /// them, each under its in-image path and layer.
    Cat {
        root: PathBuf,
        unit: String,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Print one root filesystem's dependency graph.
    Graph {
        /// The root: a directory, tarball, container image, filesystem image or snapshot.
        root: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
        /// Apply this systemd version's rules instead of the version detected in the image.
        #[arg(long, value_name = "VERSION", value_parser = parse_rules)]
        systemd_version: Option<Rules>,
    },
}

/// Output options shared by the subcommands.
#[derive(Args)]
struct OutputArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Colour the text report: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Pictures: only the neighbourhood of this unit (repeatable).
    #[arg(long, value_name = "UNIT")]
    focus: Vec<String>,
    /// Pictures: hops of unchanged context around what changed (or around --focus).
    #[arg(long, value_name = "N", default_value_t = 1)]
    context: usize,
    /// Pictures: only these dependency kinds, e.g. requires,wants,after.
    #[arg(long, value_name = "LIST", value_parser = parse_kinds)]
    kinds: Option<KindList>,
    /// Pictures: also draw unchanged edges systemd adds by itself (default dependencies…).
    #[arg(long)]
    implicit: bool,
    /// Markdown: cut the report past N characters, with a note on what was left out
    /// (0: no limit). The default fits a GitHub or GitLab comment.
    #[arg(long, value_name = "N", default_value_t = report::markdown::DEFAULT_MAX_CHARS)]
    max_chars: usize,
    /// How to draw svg and png: Graphviz's `dot` when installed (auto), or the builtin renderer.
    #[arg(long, value_enum, default_value_t = RendererArg::Auto)]
    renderer: RendererArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    Error,
    Warn,
    Info,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormatArg {
    Text,
    Json,
    Sarif,
    Github,
    Junit,
    Gitlab,
    Markdown,
}

impl CheckFormatArg {
    fn format(self) -> report::check::CheckFormat {
        use report::check::CheckFormat as F;
        match self {
            CheckFormatArg::Text => F::Text,
            CheckFormatArg::Json => F::Json,
            CheckFormatArg::Sarif => F::Sarif,
            CheckFormatArg::Github => F::Github,
            CheckFormatArg::Junit => F::Junit,
            CheckFormatArg::Gitlab => F::Gitlab,
            CheckFormatArg::Markdown => F::Markdown,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum RendererArg {
    Auto,
    Graphviz,
    Builtin,
}

/// A comma-separated list of dependency kinds (one clap value).
#[derive(Clone)]
struct KindList(Vec<DepKind>);

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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
    Dot,
    Svg,
    Png,
}

fn warn_all(g: &unitdiff::graph::DepGraph) {
    progress::suspend(|| warn_graph(g));
}

fn warn_graph(g: &unitdiff::graph::DepGraph) {
    let stderr = io::stderr();
    let mut e = stderr.lock();
    for w in &g.set.warnings {
        let _ = writeln!(
            e,
            "unitdiff: warning: {}: {}",
            escape::field(&g.root),
            escape::field(&w.to_string())
        );
    }
}

fn json_bytes(v: &serde_json::Value) -> Vec<u8> {
    let s = serde_json::to_string_pretty(v).expect("serialisable");
    let mut b = escape::json(&s).into_owned().into_bytes();
    b.push(b'\n');
    b
}

impl OutputArgs {
    fn selection(&self) -> Selection {
        Selection {
            focus: self.focus.clone(),
            context: self.context,
            kinds: self.kinds.clone().map(|k| k.0),
            implicit: self.implicit,
        }
    }

    /// Draw a DOT graph in the chosen format.
    fn picture(&self, g: &graphviz_rust::dot_structures::Graph) -> Result<Vec<u8>, anyhow::Error> {
        let renderer = match self.renderer {
            RendererArg::Auto => Renderer::Auto,
            RendererArg::Graphviz => Renderer::Graphviz,
            RendererArg::Builtin => Renderer::Builtin,
        };
        Ok(match self.format {
            Format::Svg => render::render(g, ImageFormat::Svg, renderer)?,
            Format::Png => render::render(g, ImageFormat::Png, renderer)?,
            _ => report::dot::print(g).into_bytes(),
        })
    }

    /// Refuse formats a subcommand cannot produce.
    fn only(&self, allowed: &[Format], what: &str) -> Result<(), anyhow::Error> {
        if allowed.contains(&self.format) {
            Ok(())
        } else {
            Err(anyhow::anyhow!("{what} cannot be written in this format"))
        }
    }

    /// Write a finished report to the file or standard output.
    fn emit(&self, bytes: &[u8], no_pager: bool) -> io::Result<()> {
        emit(
            bytes,
            self.output.as_deref(),
            self.format == Format::Text,
            self.format == Format::Png,
            self.color,
            no_pager,
        )
    }
}

/// Write a finished report to `output` or standard output: styled text loses its styles
/// in a file (unless colour is `always`) and goes through the pager on a terminal.
fn emit(
    bytes: &[u8],
    output: Option<&Path>,
    styled: bool,
    binary: bool,
    color: ColorArg,
    no_pager: bool,
) -> io::Result<()> {
    let strip = |b: &[u8]| -> Vec<u8> {
        strip_str(&String::from_utf8_lossy(b))
            .to_string()
            .into_bytes()
    };
    match output {
        Some(path) => {
            let keep = styled && matches!(color, ColorArg::Always);
            let data: Vec<u8> = if styled && !keep {
                strip(bytes)
            } else {
                bytes.to_vec()
            };
            std::fs::write(path, data).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
            })
        }
        None => {
            let stdout = io::stdout();
            if binary && stdout.is_terminal() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "refusing to write a PNG image to a terminal; use -o FILE or redirect",
                ));
            }
            if styled && let Some(pager) = cli::pager::command(no_pager) {
                let colour = match color {
                    ColorArg::Always => true,
                    ColorArg::Never => false,
                    ColorArg::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
                };
                let data = if colour { bytes.to_vec() } else { strip(bytes) };
                match cli::pager::page(&pager, &data) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    other => return other,
                }
            }
            if styled {
                let choice = match color {
                    ColorArg::Auto => anstream::ColorChoice::Auto,
                    ColorArg::Always => anstream::ColorChoice::Always,
                    ColorArg::Never => anstream::ColorChoice::Never,
                };
                let mut w = anstream::AutoStream::new(stdout.lock(), choice);
                w.write_all(bytes)?;
                w.flush()
            } else {
                let mut w = stdout.lock();
                w.write_all(bytes)?;
                w.flush()
            }
        }
    }
}

/// A text report for the terminal or a pipe, coloured: control characters from the image
/// are escaped before our own styling is added.
fn styled(text: &str) -> Vec<u8> {
    report::text::colorize(&escape::text(text)).into_bytes()
}

/// A text report without styling (`cat`'s content, `why`), control characters escaped.
fn plain(text: &str) -> Vec<u8> {
    escape::text(text).into_owned().into_bytes()
}

fn text_of(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<String> {
    let mut v = Vec::new();
    f(&mut v)?;
    Ok(String::from_utf8(v).expect("reports are UTF-8"))
}

/// Load `root`, with the template instances among `units` that nothing references (as
/// systemctl loads them on demand).
fn load(
    root: &Path,
    flags: Flags,
    units: &[&str],
) -> Result<unitdiff::graph::DepGraph, anyhow::Error> {
    let instances: Vec<String> = units
        .iter()
        .filter_map(|u| resolve::instance_to_load(u))
        .collect();
    progress::stage(&format!(
        "loading {}",
        escape::field(&root.display().to_string())
    ));
    let g = unitdiff::open_input_with(root, None, &instances, input_options())?;
    flags.check(&g, root)?;
    Ok(g)
}

/// The global options every command applies to a loaded image.
#[derive(Clone, Copy)]
struct Flags {
    quiet: bool,
    allow_empty: bool,
}

impl Flags {
    /// Refuse a root without unit directories (unless --allow-empty), then warn.
    fn check(self, g: &unitdiff::graph::DepGraph, root: &Path) -> Result<(), anyhow::Error> {
        if !self.allow_empty {
            unitdiff::require_unit_dirs(g, root)?;
        }
        if !self.quiet {
            warn_all(g);
        }
        Ok(())
    }
}

/// The unit `asked` names in one of `graphs` (systemctl's rules: `ssh` is `ssh.service`,
/// aliases followed), or an error naming the closest units. Templates are refused (they
/// have no dependencies), unless `templates`.
fn unit_in(
    graphs: &[&unitdiff::graph::DepGraph],
    asked: &str,
    templates: bool,
) -> Result<String, anyhow::Error> {
    let sets: Vec<&unitdiff::unit::UnitSet> = graphs.iter().map(|g| &g.set).collect();
    let roots = || {
        graphs
            .iter()
            .map(|g| g.root.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    };
    match resolve::resolve_in(&sets, asked) {
        Ok((resolve::Resolved::Unit(n), _)) => Ok(n),
        Ok((resolve::Resolved::Template(t), _)) if templates => Ok(t),
        Ok((resolve::Resolved::Template(t), _)) => Err(anyhow::anyhow!(
            "{}: {}",
            roots(),
            resolve::UnknownUnit {
                asked: asked.to_string(),
                mangled: Some(t),
                suggestions: Vec::new(),
                template: true,
            }
        )),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", roots())),
    }
}

/// `--focus` names and globs, resolved in `graphs` to canonical names.
fn focus_in(
    graphs: &[&unitdiff::graph::DepGraph],
    focus: &[String],
) -> Result<Vec<String>, anyhow::Error> {
    let sets: Vec<&unitdiff::unit::UnitSet> = graphs.iter().map(|g| &g.set).collect();
    let mut out = Vec::new();
    for f in focus {
        match resolve::resolve_pattern(&sets, f) {
            Ok(v) => out.extend(v),
            Err(e) => {
                let roots: Vec<&str> = graphs.iter().map(|g| g.root.as_str()).collect();
                anyhow::bail!("--focus: {}: {e}", roots.join(" and "))
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn run(cli: Cli) -> Result<u8, anyhow::Error> {
    let no_pager = cli.no_pager;
    let _ = INPUT.set(unitdiff::InputOptions {
        platform: cli.input.platform,
        image_ref: cli.input.image_ref,
        partition: cli.input.partition,
    });
    let flags = Flags {
        quiet: cli.quiet,
        allow_empty: cli.allow_empty,
    };
    progress::start(flags.quiet);
    let (bytes, out, code) = match cli.command {
        Command::Check {
            old,
            new,
            fail_on,
            policy,
            baseline,
            write_baseline,
            format,
            reports,
            output,
            color,
            systemd_version,
            old_systemd_version,
            new_systemd_version,
        } => {
            let args = cli::check::CheckArgs {
                old,
                new,
                fail_on: match fail_on {
                    FailOnArg::Error => FailOn::Error,
                    FailOnArg::Warn => FailOn::Warn,
                    FailOnArg::Info => FailOn::Info,
                    FailOnArg::Never => FailOn::Never,
                },
                policy,
                baseline,
                write_baseline,
                format: format.format(),
                reports,
                old_rules: old_systemd_version.or(systemd_version),
                new_rules: new_systemd_version.or(systemd_version),
            };
            let (bytes, code) = cli::check::run(&args, |g| flags.check(g, Path::new(&g.root)))?;
            let styled = args.format == report::check::CheckFormat::Text;
            return match emit(&bytes, output.as_deref(), styled, false, color, no_pager) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(code),
            };
        }
        Command::Rules { format } => {
            let text = match format {
                RulesFormat::Text => findings::rules::list(),
                RulesFormat::Markdown => findings::rules::markdown(),
                RulesFormat::Json => {
                    String::from_utf8(json_bytes(&serde_json::to_value(findings::RULES)?))?
                }
            };
            let mut w = io::stdout().lock();
            return match w.write_all(text.as_bytes()).and_then(|_| w.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(0),
            };
        }
        Command::Explain { rule } => {
            let info = findings::RuleId::parse(&rule)
                .map(|r| r.info())
                .ok_or_else(|| anyhow::anyhow!("no rule {rule:?}; `unitdiff rules` lists them"))?;
            let mut w = io::stdout().lock();
            return match w
                .write_all(findings::rules::explain(info).as_bytes())
                .and_then(|_| w.flush())
            {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(0),
            };
        }
        Command::Diff {
            old,
            new,
            patch,
            out,
            systemd_version,
            old_systemd_version,
            new_systemd_version,
        } => {
            progress::stage("loading OLD and NEW");
            let c = unitdiff::compare_with(
                &old,
                &new,
                old_systemd_version.or(systemd_version),
                new_systemd_version.or(systemd_version),
                input_options(),
            )?;
            let (og, ng, d) = (c.old, c.new, c.diff);
            flags.check(&og, &old)?;
            flags.check(&ng, &new)?;
            let mut out = out;
            out.focus = focus_in(&[&og, &ng], &out.focus)?;
            let code = u8::from(d.has_dependency_changes());
            let title = format!("{} -> {}", d.old_root, d.new_root);
            progress::stage("analysing");
            let answers = query::diff_answers(&og, &ng, &d);
            let found = findings::compute(&d, &answers, &og, &ng);
            let judged = findings::check::check(
                found,
                None,
                None,
                cli::check::today()?,
                FailOn::Never,
                (&d.old_root, &d.new_root),
            );
            progress::stage("rendering");
            let bytes = match out.format {
                Format::Text => {
                    let summary = if d.is_empty() {
                        String::new()
                    } else {
                        report::findings::summary(&judged, false)
                    };
                    let mut text = text_of(|w| report::text::diff(&d, &summary, w))?;
                    if !d.is_empty() {
                        text.push_str(&report::answers::diff_answers(&answers));
                    }
                    if patch {
                        for p in report::unified::patches(&d, &og, &ng) {
                            text.push('\n');
                            text.push_str(&p.text);
                        }
                    }
                    styled(&text)
                }
                Format::Json => {
                    let mut v = report::json::diff(&d, &og, &ng);
                    v["answers"] = serde_json::to_value(&answers)?;
                    v["findings"] = report::json::findings(&judged);
                    json_bytes(&v)
                }
                Format::Markdown => {
                    let p = report::picture::diff_picture(&d, &og, &ng, &out.selection());
                    let patches = report::unified::patches(&d, &og, &ng);
                    let opts = report::markdown::Options::with_max_chars(out.max_chars);
                    let j = report::markdown::Judged {
                        result: &judged,
                        verdict: false,
                    };
                    let j = (!d.is_empty()).then_some(&j);
                    report::markdown::diff(&d, &p, &patches, j, &opts).into_bytes()
                }
                Format::Dot | Format::Svg | Format::Png => {
                    let p = report::picture::diff_picture(&d, &og, &ng, &out.selection());
                    out.picture(&report::dot::graph(&p, &title))?
                }
            };
            (bytes, out, code)
        }
        Command::Deps {
            args,
            reverse,
            before,
            after,
            all,
            why,
            out,
        } => {
            if args.len() == 2 {
                out.only(&[Format::Text, Format::Json], "deps with one root")?;
            } else {
                out.only(
                    &[
                        Format::Text,
                        Format::Json,
                        Format::Dot,
                        Format::Svg,
                        Format::Png,
                    ],
                    "deps",
                )?;
            }
            let direction = if reverse {
                Direction::Reverse
            } else if before {
                Direction::Before
            } else if after {
                Direction::After
            } else {
                Direction::Forward
            };
            let asked = args.last().expect("clap requires it").clone();
            let bytes = if args.len() == 2 {
                let g = load(Path::new(&args[0]), flags, &[&asked])?;
                let unit = unit_in(&[&g], &asked, false)?;
                let t = query::deps(&g, &unit, direction, all);
                match out.format {
                    Format::Json => json_bytes(&serde_json::json!({
                        "schema": "unitdiff.deps.v1", "root": g.root, "tree": t })),
                    _ => styled(&report::answers::tree(&t, why)),
                }
            } else {
                let (og, ng) = (
                    load(Path::new(&args[0]), flags, &[&asked])?,
                    load(Path::new(&args[1]), flags, &[&asked])?,
                );
                let unit = unit_in(&[&og, &ng], &asked, false)?;
                let (ot, nt) = (
                    query::deps(&og, &unit, direction, true),
                    query::deps(&ng, &unit, direction, true),
                );
                match out.format {
                    Format::Json => json_bytes(&serde_json::json!({
                        "schema": "unitdiff.deps.v1", "old": {"root": og.root, "tree": ot},
                        "new": {"root": ng.root, "tree": nt} })),
                    Format::Dot | Format::Svg | Format::Png => {
                        // The picture shows what systemctl shows: trees as listed (targets
                        // expanded; everything with --all).
                        let (ot, nt) = (
                            query::deps(&og, &unit, direction, all),
                            query::deps(&ng, &unit, direction, all),
                        );
                        out.picture(&report::dot::deps_graph(&ot, &nt, (&og.root, &ng.root)))?
                    }
                    _ => {
                        let text = format!(
                            "--- {}\n+++ {}\n{}",
                            og.root,
                            ng.root,
                            report::answers::tree_diff(&ot, &nt, why, all)
                        );
                        styled(&text)
                    }
                }
            };
            (bytes, out, 0)
        }
        Command::Why {
            root,
            from,
            to,
            limit,
            max_hops,
            out,
        } => {
            out.only(&[Format::Text, Format::Json], "why")?;
            let g = load(&root, flags, &[&from, &to])?;
            let (from, to) = (unit_in(&[&g], &from, false)?, unit_in(&[&g], &to, false)?);
            let paths = query::why(&g, &from, &to, limit, max_hops);
            let code = u8::from(paths.is_empty());
            let bytes = match out.format {
                Format::Json => json_bytes(&serde_json::json!({
                    "schema": "unitdiff.why.v1", "root": g.root, "from": from, "to": to, "paths": paths })),
                _ => plain(&report::answers::paths(&from, &to, &paths)),
            };
            (bytes, out, code)
        }
        Command::Snapshot { root, output } => {
            let input = unitdiff::open_input(&root, input_options())?;
            if !flags.quiet {
                for w in &input.warnings {
                    eprintln!("unitdiff: warning: input: {}", strip_str(w));
                }
            }
            let source = match &input.description {
                Some(d) => format!("{} ({d})", root.display()),
                None => format!("{} (directory)", root.display()),
            };
            let mem = match input.mem {
                Some(m) => m,
                None => std::sync::Arc::new(unitdiff::tree::snapshot::copy_tree(&*input.tree)?),
            };
            let mut file = std::fs::File::create(&output)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
            unitdiff::tree::snapshot::write(&mem, &source, &mut file)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
            return Ok(0);
        }
        Command::Cat { root, unit, out } => {
            out.only(&[Format::Text], "cat")?;
            let g = load(&root, flags, &[&unit])?;
            let unit = unit_in(&[&g], &unit, true)?;
            let text = report::answers::cat(&g, &unit)
                .ok_or_else(|| anyhow::anyhow!("{}: no unit {unit}", g.root))?;
            (plain(&text), out, 0)
        }
        Command::Graph {
            root,
            out,
            systemd_version,
        } => {
            progress::stage(&format!(
                "loading {}",
                escape::field(&root.display().to_string())
            ));
            let g = unitdiff::open_input_with(&root, systemd_version, &[], input_options())?;
            flags.check(&g, &root)?;
            progress::stage("rendering");
            let mut out = out;
            out.focus = focus_in(&[&g], &out.focus)?;
            let bytes = match out.format {
                Format::Text => {
                    let text = text_of(|w| report::text::graph(&g, w))?;
                    styled(&text)
                }
                Format::Json => json_bytes(&report::json::graph(&g)),
                Format::Markdown => {
                    let p = report::picture::graph_picture(&g, &out.selection());
                    let opts = report::markdown::Options::with_max_chars(out.max_chars);
                    let seeds = report::excerpt::graph_seeds(&p, &out.focus);
                    let diagram = report::markdown::diagram(
                        &p,
                        &seeds,
                        opts.diagram,
                        "units",
                        "unitdiff graph ROOT --format svg -o graph.svg",
                    );
                    format!("# {}\n\n{diagram}", escape::markdown_code(&g.root)).into_bytes()
                }
                Format::Dot | Format::Svg | Format::Png => {
                    let p = report::picture::graph_picture(&g, &out.selection());
                    out.picture(&report::dot::graph(&p, &g.root))?
                }
            };
            (bytes, out, 0)
        }
    };
    progress::finish();
    match out.emit(&bytes, no_pager) {
        // A reader that stops early (`| head`) still gets the command's exit status.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(code),
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
            progress::finish();
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("unitdiff: error: {}", escape::field(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
