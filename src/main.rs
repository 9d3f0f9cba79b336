//! The `unitdiff` command: argument parsing, output plumbing and exit codes only.

mod progress;

use anstream::adapter::strip_str;
use clap::Parser;
use cli::args::{
    Cli, ColorArg, Command, DepsOut, FailOnArg, Format, KindList, PictureOut, RendererArg,
    RulesFormat, TextJsonOut,
};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use unitdiff::findings::{self, FailOn};
use unitdiff::query::{self, Direction};
use unitdiff::report;
use unitdiff::report::escape;
use unitdiff::report::picture::Selection;
use unitdiff::report::render::{self, ImageFormat, Limits, Renderer};
use unitdiff::unit::resolve;

mod cli;

// Loading makes many small strings; mimalloc roughly halves the allocator's share of it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The input choices, set once from the command line.
static INPUT: std::sync::OnceLock<unitdiff::InputOptions> = std::sync::OnceLock::new();

fn input_options() -> &'static unitdiff::InputOptions {
    INPUT.get_or_init(Default::default)
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

/// Warn when the work budget cut an answer about `root`.
fn warn_cut(root: &str, cut: Option<String>, quiet: bool) {
    if let (Some(c), false) = (cut, quiet) {
        eprintln!(
            "unitdiff: warning: {}: {}",
            escape::field(root),
            escape::field(&c)
        );
    }
}

/// Warn with what the work budget cut from a diff's answers (failure sets, witnesses).
fn warn_answers(a: &query::DiffAnswers, quiet: bool) {
    if !quiet {
        for w in &a.warnings {
            progress::suspend(|| eprintln!("unitdiff: warning: {}", escape::field(w)));
        }
    }
}

/// Warn when the picture budget cut a picture.
pub(crate) fn note_cut(p: &report::picture::Picture, quiet: bool) {
    if let (Some(c), false) = (&p.cut, quiet) {
        progress::suspend(|| eprintln!("unitdiff: warning: {}", escape::field(c)));
    }
}

fn json_bytes(v: &serde_json::Value) -> Vec<u8> {
    report::json::pretty_bytes(v)
}

/// A command's output choices, whatever options that command offers.
struct OutputArgs {
    format: Format,
    output: Option<PathBuf>,
    color: ColorArg,
    focus: Vec<String>,
    context: usize,
    kinds: Option<KindList>,
    implicit: bool,
    max_chars: usize,
    renderer: RendererArg,
    /// --time-limit, if given.
    time_limit: Option<u64>,
    /// `diff --all`: a long drawing was asked for.
    all: bool,
}

impl OutputArgs {
    fn new(format: Format, output: Option<PathBuf>, color: ColorArg) -> OutputArgs {
        OutputArgs {
            format,
            output,
            color,
            focus: Vec::new(),
            context: 1,
            kinds: None,
            implicit: false,
            max_chars: report::markdown::DEFAULT_MAX_CHARS,
            renderer: RendererArg::Builtin,
            time_limit: None,
            all: false,
        }
    }

    /// `diff`'s and `graph`'s options; those that do not apply to the chosen format are
    /// refused, never silently ignored.
    fn pictures(format: Format, o: PictureOut) -> Result<OutputArgs, anyhow::Error> {
        let picture = matches!(
            format,
            Format::Markdown | Format::Dot | Format::Svg | Format::Png | Format::Html
        );
        let given = [
            ("--focus", !o.focus.is_empty()),
            ("--context", o.context.is_some()),
            ("--kinds", o.kinds.is_some()),
            ("--implicit", o.implicit),
        ];
        if let (false, Some((name, _))) = (picture, given.iter().find(|(_, g)| *g)) {
            anyhow::bail!(
                "{name} shapes pictures (--format markdown, dot, svg or png), not --format {}",
                format_name(format)
            );
        }
        if o.max_chars.is_some() && format != Format::Markdown {
            anyhow::bail!(
                "--max-chars applies to --format markdown, not --format {}",
                format_name(format)
            );
        }
        refuse_renderer(o.renderer.is_some() || o.time_limit.is_some(), format)?;
        let mut out = OutputArgs::new(format, o.output, o.color);
        out.focus = o.focus;
        out.context = o.context.unwrap_or(1);
        out.kinds = o.kinds;
        out.implicit = o.implicit;
        out.max_chars = o.max_chars.unwrap_or(out.max_chars);
        out.renderer = o.renderer.unwrap_or(RendererArg::Builtin);
        out.time_limit = o.time_limit;
        Ok(out)
    }

    fn deps(o: DepsOut) -> Result<OutputArgs, anyhow::Error> {
        let format = Format::from(o.format);
        refuse_renderer(o.renderer.is_some() || o.time_limit.is_some(), format)?;
        let mut out = OutputArgs::new(format, o.output, o.color);
        out.renderer = o.renderer.unwrap_or(RendererArg::Builtin);
        out.time_limit = o.time_limit;
        Ok(out)
    }

    /// Text or JSON: the text is plain (never coloured).
    fn text_json(o: TextJsonOut) -> OutputArgs {
        OutputArgs::new(o.format.into(), o.output, ColorArg::Never)
    }

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
        self.picture_within(g, self.time_limit())
    }

    /// [`OutputArgs::picture`] with at most `time` of layout.
    fn picture_within(
        &self,
        g: &graphviz_rust::dot_structures::Graph,
        time: std::time::Duration,
    ) -> Result<Vec<u8>, anyhow::Error> {
        let renderer = self.renderer();
        let limits = Limits {
            time,
            ..Limits::default()
        };
        Ok(match self.format {
            Format::Svg => render::render(g, ImageFormat::Svg, renderer, limits)?,
            Format::Png => render::render(g, ImageFormat::Png, renderer, limits)?,
            _ => report::dot::print(g).into_bytes(),
        })
    }

    fn renderer(&self) -> Renderer {
        match self.renderer {
            RendererArg::Graphviz => Renderer::Graphviz,
            RendererArg::Builtin => Renderer::Builtin,
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            time: self.time_limit(),
            ..Limits::default()
        }
    }

    /// The layout time of all the pictures of an HTML report or of `--split` together.
    fn report_time_limit(&self) -> std::time::Duration {
        self.time_limit
            .map(std::time::Duration::from_secs)
            .unwrap_or(report::html::REPORT_LAYOUT_TIME)
    }

    fn time_limit(&self) -> std::time::Duration {
        let default = if self.all { 600 } else { 60 };
        std::time::Duration::from_secs(self.time_limit.unwrap_or(default))
    }

    fn is_image(&self) -> bool {
        matches!(self.format, Format::Svg | Format::Png)
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

fn format_name(f: Format) -> String {
    use clap::ValueEnum;
    f.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// --renderer and --time-limit choose how svg and png (and html's pictures) are drawn; with
/// another format they are refused.
fn refuse_renderer(given: bool, format: Format) -> Result<(), anyhow::Error> {
    if given && !matches!(format, Format::Svg | Format::Png | Format::Html) {
        anyhow::bail!(
            "--renderer and --time-limit apply to --format svg, png or html, not --format {}",
            format_name(format)
        );
    }
    Ok(())
}

/// Write generated text to standard output (a reader that stops early is not an error).
fn write_stdout(bytes: &[u8]) -> Result<u8, anyhow::Error> {
    let mut w = io::stdout().lock();
    match w.write_all(bytes).and_then(|_| w.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}

/// Write an unstyled report to `output` or standard output as `write` makes it.
fn stream_out(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match output {
        Some(path) => {
            let fail = |e: io::Error| {
                io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
            };
            let mut w = io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
            write(&mut w).and_then(|_| w.flush()).map_err(fail)
        }
        None => {
            let mut w = io::BufWriter::new(io::stdout().lock());
            write(&mut w)?;
            w.flush()
        }
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

/// The first line of a one-root answer (`deps`, `why`) about a user manager's units:
/// `ROOT (user manager)`; nothing for the system manager's.
fn user_header(g: &unitdiff::graph::DepGraph) -> String {
    match g.set.scope {
        unitdiff::unit::Scope::System => String::new(),
        scope => format!("{}{}\n", g.root, report::scope_note(scope)),
    }
}

/// Load `root`, with the template instances among `units` that nothing references (as
/// systemctl loads them on demand).
fn load(
    root: &Path,
    flags: Flags,
    rules: Option<unitdiff::unit::Rules>,
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
    let g = unitdiff::open_input_with(root, rules, &instances, input_options())?;
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
        no_generators: cli.input.no_generators,
        kernel_cmdline: cli.input.kernel_cmdline,
        scope: if cli.input.user {
            unitdiff::unit::Scope::User
        } else {
            unitdiff::unit::Scope::System
        },
        contents_as_digests: !cli.command.prints_files(),
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
            let (bytes, code) = cli::check::run(
                &args,
                |g| flags.check(g, Path::new(&g.root)),
                |a| warn_answers(a, flags.quiet),
            )?;
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
        Command::Completions { shell } => {
            return write_stdout(&cli::manual::completions(shell));
        }
        Command::Man { command, dir } => {
            return match dir {
                Some(dir) => {
                    cli::manual::write_pages(&dir)?;
                    Ok(0)
                }
                None => write_stdout(&cli::manual::page(command.as_deref())?),
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
            stat,
            name_only,
            format,
            out,
            all,
            split,
            systemd_version,
            old_systemd_version,
            new_systemd_version,
        } => {
            let mut out = OutputArgs::pictures(format.into(), out)?;
            out.all = all;
            if all && !out.is_image() {
                anyhow::bail!(
                    "--all applies to --format svg or png, not --format {}",
                    format_name(out.format)
                );
            }
            if split.is_some() && !matches!(out.format, Format::Svg | Format::Png | Format::Dot) {
                anyhow::bail!(
                    "--split writes pictures: --format svg, png or dot, not --format {}",
                    format_name(out.format)
                );
            }
            for (name, given) in [
                ("--patch", patch),
                ("--stat", stat),
                ("--name-only", name_only),
            ] {
                if given && out.format != Format::Text {
                    anyhow::bail!(
                        "{name} applies to --format text, not --format {}",
                        format_name(out.format)
                    );
                }
            }
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
            out.focus = focus_in(&[&og, &ng], &out.focus)?;
            let code = u8::from(d.has_dependency_changes());
            progress::stage("analysing");
            let answers = query::diff_answers(&og, &ng, &d);
            warn_answers(&answers, flags.quiet);
            let found = findings::compute(&d, &answers, &og, &ng);
            let mut judged = findings::check::check(
                found,
                None,
                None,
                cli::check::today()?,
                FailOn::Never,
                (&d.old_root, &d.new_root),
            );
            judged.scope = d.scope;
            progress::stage("rendering");
            let compared = cli::pictures::Compared {
                d: &d,
                og: &og,
                ng: &ng,
                answers: &answers,
                judged: &judged,
            };
            let bytes = match out.format {
                Format::Text if stat => plain(&report::stat::stat(&d)),
                Format::Text if name_only => plain(&report::stat::name_only(&d)),
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
                    note_cut(&p, flags.quiet);
                    let patches = report::unified::patches(&d, &og, &ng);
                    let opts = report::markdown::Options::with_max_chars(out.max_chars);
                    let j = report::markdown::Judged {
                        result: &judged,
                        verdict: false,
                    };
                    let j = (!d.is_empty()).then_some(&j);
                    report::markdown::diff(&d, &p, &patches, j, &opts).into_bytes()
                }
                Format::Html => cli::pictures::html_report(&out, &compared, flags.quiet),
                _ if split.is_some() => {
                    let dir = split.as_deref().expect("checked");
                    cli::pictures::write_split(dir, &out, &compared, flags.quiet)?;
                    Vec::new()
                }
                Format::Dot | Format::Svg | Format::Png => {
                    cli::pictures::diff_image(&out, &compared, all, flags.quiet)?
                }
            };
            // The process ends once the report is written: freeing both graphs block by
            // block would cost ~5 % of the run (a million blocks at 10k units).
            std::mem::forget((og, ng, d, answers, judged));
            (bytes, out, code)
        }
        Command::Deps {
            roots,
            unit: asked,
            reverse,
            before,
            after,
            all,
            why,
            systemd_version,
            out,
        } => {
            let out = OutputArgs::deps(out)?;
            if why && !matches!(out.format, Format::Text | Format::Json) {
                anyhow::bail!(
                    "--why applies to --format text (JSON always has the provenance), not \
                     --format {}",
                    format_name(out.format)
                );
            }
            if roots.len() == 1 && !matches!(out.format, Format::Text | Format::Json) {
                anyhow::bail!(
                    "deps draws --format {} for two roots (OLD NEW UNIT); with one root: \
                     --format text or json",
                    format_name(out.format)
                );
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
            let bytes = if roots.len() == 1 {
                let g = load(&roots[0], flags, systemd_version, &[&asked])?;
                let unit = unit_in(&[&g], &asked, false)?;
                let (t, cut) = query::deps_with_cut(&g, &unit, direction, all);
                let was_cut = cut.is_some();
                warn_cut(&g.root, cut, flags.quiet);
                match out.format {
                    Format::Json => {
                        // Keys in sorted order, as every JSON document here has them.
                        #[derive(serde::Serialize)]
                        struct Doc<'a> {
                            #[serde(skip_serializing_if = "std::ops::Not::not")]
                            cut: bool,
                            root: &'a str,
                            schema: &'static str,
                            scope: unitdiff::unit::Scope,
                            tree: report::json::SortedTree<'a>,
                        }
                        report::json::pretty_bytes(&Doc {
                            cut: was_cut,
                            root: &g.root,
                            schema: "unitdiff.deps.v1",
                            scope: g.set.scope,
                            tree: report::json::SortedTree(&t),
                        })
                    }
                    _ => styled(&format!(
                        "{}{}",
                        user_header(&g),
                        report::answers::tree(&t, why)
                    )),
                }
            } else {
                let (og, ng) = (
                    load(&roots[0], flags, systemd_version, &[&asked])?,
                    load(&roots[1], flags, systemd_version, &[&asked])?,
                );
                let unit = unit_in(&[&og, &ng], &asked, false)?;
                // JSON and pictures show the trees as systemctl lists them (targets
                // expanded; everything with --all); the text compares the full trees and
                // prints as much as --all asks for.
                let expand = all || out.format == Format::Text;
                let ((ot, ocut), (nt, ncut)) = (
                    query::deps_with_cut(&og, &unit, direction, expand),
                    query::deps_with_cut(&ng, &unit, direction, expand),
                );
                let (ocut_b, ncut_b) = (ocut.is_some(), ncut.is_some());
                warn_cut(&og.root, ocut, flags.quiet);
                warn_cut(&ng.root, ncut, flags.quiet);
                match out.format {
                    Format::Json => {
                        #[derive(serde::Serialize)]
                        struct Side<'a> {
                            #[serde(skip_serializing_if = "std::ops::Not::not")]
                            cut: bool,
                            root: &'a str,
                            tree: report::json::SortedTree<'a>,
                        }
                        #[derive(serde::Serialize)]
                        struct Doc<'a> {
                            new: Side<'a>,
                            old: Side<'a>,
                            schema: &'static str,
                            scope: unitdiff::unit::Scope,
                        }
                        report::json::pretty_bytes(&Doc {
                            new: Side {
                                cut: ncut_b,
                                root: &ng.root,
                                tree: report::json::SortedTree(&nt),
                            },
                            old: Side {
                                cut: ocut_b,
                                root: &og.root,
                                tree: report::json::SortedTree(&ot),
                            },
                            schema: "unitdiff.deps.v1",
                            scope: og.set.scope,
                        })
                    }
                    Format::Dot | Format::Svg | Format::Png => {
                        let note = report::scope_note(og.set.scope);
                        let (o, n) = (format!("{}{note}", og.root), format!("{}{note}", ng.root));
                        out.picture(&report::dot::deps_graph(&ot, &nt, (&o, &n)))?
                    }
                    _ => {
                        let note = report::scope_note(og.set.scope);
                        let text = format!(
                            "--- {}{note}\n+++ {}{note}\n{}",
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
            systemd_version,
            out,
        } => {
            let out = OutputArgs::text_json(out);
            let g = load(&root, flags, systemd_version, &[&from, &to])?;
            let (from, to) = (unit_in(&[&g], &from, false)?, unit_in(&[&g], &to, false)?);
            let answer = query::why_paths(&g, &from, &to, limit, max_hops);
            if answer.cut && !flags.quiet {
                eprintln!(
                    "unitdiff: warning: why: the search for paths longer than the shortest \
                     stopped at its budget; more may exist"
                );
            }
            let paths = answer.paths;
            let code = u8::from(paths.is_empty());
            let bytes = match out.format {
                Format::Json => {
                    let mut v = serde_json::json!({
                        "schema": "unitdiff.why.v1", "root": g.root, "scope": g.set.scope,
                        "from": from, "to": to, "paths": paths });
                    if answer.cut {
                        v["cut"] = serde_json::Value::Bool(true);
                    }
                    json_bytes(&v)
                }
                _ => plain(&format!(
                    "{}{}",
                    user_header(&g),
                    report::answers::paths(&from, &to, &paths)
                )),
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
        Command::Cat {
            root,
            unit,
            output,
            systemd_version,
        } => {
            let out = OutputArgs::new(Format::Text, output, ColorArg::Never);
            let g = load(&root, flags, systemd_version, &[&unit])?;
            let unit = unit_in(&[&g], &unit, true)?;
            let text = report::answers::cat(&g, &unit)
                .ok_or_else(|| anyhow::anyhow!("{}: no unit {unit}", g.root))?;
            (plain(&text), out, 0)
        }
        Command::Graph {
            root,
            format,
            out,
            systemd_version,
        } => {
            let mut out = OutputArgs::pictures(format, out)?;
            progress::stage(&format!(
                "loading {}",
                escape::field(&root.display().to_string())
            ));
            let g = unitdiff::open_input_with(&root, systemd_version, &[], input_options())?;
            flags.check(&g, &root)?;
            progress::stage("rendering");
            out.focus = focus_in(&[&g], &out.focus)?;
            let bytes = match out.format {
                Format::Text => {
                    let text = text_of(|w| report::text::graph(&g, w))?;
                    styled(&text)
                }
                Format::Json => {
                    // Written as it is made: the document of a large image does not fit
                    // in memory at once.
                    progress::finish();
                    let written =
                        stream_out(out.output.as_deref(), |w| report::json::write_graph(&g, w));
                    std::mem::forget(g);
                    return match written {
                        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
                        Err(e) => Err(e.into()),
                        Ok(()) => Ok(0),
                    };
                }
                Format::Markdown => {
                    let p = report::picture::graph_picture(&g, &out.selection());
                    note_cut(&p, flags.quiet);
                    let opts = report::markdown::Options::with_max_chars(out.max_chars);
                    let seeds = report::excerpt::graph_seeds(&p, &out.focus);
                    let diagram = report::markdown::diagram(
                        &p,
                        &seeds,
                        opts.diagram,
                        "units",
                        "unitdiff graph ROOT --format svg -o graph.svg",
                    );
                    format!(
                        "# {}{}\n\n{diagram}",
                        escape::markdown_code(&g.root),
                        report::scope_note(g.set.scope)
                    )
                    .into_bytes()
                }
                Format::Html => anyhow::bail!("graph has no html report (diff has)"),
                Format::Dot | Format::Svg | Format::Png => {
                    let p = report::picture::graph_picture(&g, &out.selection());
                    note_cut(&p, flags.quiet);
                    let title = format!("{}{}", g.root, report::scope_note(g.set.scope));
                    out.picture(&report::dot::graph(&p, &title))?
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

/// Turn off mimalloc's purging (giving freed memory back to the kernel after a delay):
/// a run is short, and at 100,000 units the memory given back was faulted in and zeroed
/// again a moment later, ~55,000 page faults and a fifth of the CPU time of a `diff`
/// (docs/performance.md). `MIMALLOC_PURGE_DELAY` in the environment still decides.
fn keep_freed_memory() {
    if let Some(n) = option_env!("UNITDIFF_MI_OPTION_PURGE_DELAY").and_then(|n| n.parse().ok())
        && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
    {
        // SAFETY: `mi_option_set` only stores the value (mimalloc reads options under its
        // own synchronisation); `n` is `mi_option_purge_delay` of the header libmimalloc-sys
        // compiled (build.rs), and -1 is its documented "never purge".
        unsafe { libmimalloc_sys::mi_option_set(n, -1) };
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
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
