//! Drawing a DOT [`Graph`] as an SVG or PNG image.
//!
//! Two back-ends, both Graphviz's own `dot` layout (see docs/rendering.md for why):
//!
//! * **Builtin** (the default): [graphviz-pure], a pure-Rust port of Graphviz 16.1, in
//!   process: the same picture on every machine, with no `dot` installed.
//! * **Graphviz**: the system's `dot` from `PATH`, as a child process ([`graphviz`]).
//!
//! Both are bounded: a picture larger than [`Limits`] is refused before layout (with what
//! to do instead), and layout gets a time limit. PNGs are the SVG rasterised by resvg
//! ([`raster`]) with an embedded font, so text renders on machines with no fonts.
//!
//! [graphviz-pure]: https://crates.io/crates/graphviz-pure

pub mod graphviz;
pub mod raster;

use graphviz_rust::dot_structures::{Graph, Stmt};
use std::time::Duration;

pub use raster::svg_to_png;

/// Which back-end draws the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Renderer {
    /// Graphviz's layout in process (graphviz-pure).
    #[default]
    Builtin,
    /// The system's Graphviz `dot`; an error when it is not installed.
    Graphviz,
}

/// The image format to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

/// How much drawing one picture may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most nodes (units) in one picture.
    pub max_nodes: usize,
    /// Most edges in one picture.
    pub max_edges: usize,
    /// Longest layout.
    pub time: Duration,
}

impl Default for Limits {
    /// Chosen from measurements (docs/rendering.md): Graphviz lays out 1,000 nodes and
    /// 3,000 edges in well under a minute on one core.
    fn default() -> Self {
        Limits {
            max_nodes: 1_500,
            max_edges: 4_000,
            time: Duration::from_secs(60),
        }
    }
}

/// Why an image could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("Graphviz `dot` not found on PATH; install graphviz or use --renderer builtin")]
    DotNotFound,
    #[error("Graphviz `dot` failed: {0}")]
    DotFailed(String),
    #[error("Graphviz layout failed: {0}")]
    Layout(String),
    #[error(
        "the picture is too large to draw ({nodes} units, {edges} edges; at most {max_nodes} \
         units and {max_edges} edges): draw part of it with --focus UNIT or --kinds, or write \
         --format dot and lay it out yourself"
    )]
    TooBig {
        nodes: usize,
        edges: usize,
        max_nodes: usize,
        max_edges: usize,
    },
    #[error("drawing took longer than {0:?} and was stopped: draw part of it with --focus UNIT")]
    TimedOut(Duration),
    #[error("cannot read the SVG to rasterise: {0}")]
    Svg(String),
    #[error("the picture is too large to rasterise ({width}x{height} pixels)")]
    TooLarge { width: u32, height: u32 },
    #[error("cannot encode the PNG: {0}")]
    Png(String),
}

/// Nodes and edges of a DOT graph, subgraphs included (legend included).
pub fn size(g: &Graph) -> (usize, usize) {
    fn walk(stmts: &[Stmt], acc: &mut (usize, usize)) {
        for s in stmts {
            match s {
                Stmt::Node(_) => acc.0 += 1,
                Stmt::Edge(_) => acc.1 += 1,
                Stmt::Subgraph(sg) => walk(&sg.stmts, acc),
                _ => {}
            }
        }
    }
    let stmts = match g {
        Graph::Graph { stmts, .. } | Graph::DiGraph { stmts, .. } => stmts,
    };
    let mut acc = (0, 0);
    walk(stmts, &mut acc);
    acc
}

/// Draw `g` as `format` with `renderer`, within `limits`. Returns the image bytes.
pub fn render(
    g: &Graph,
    format: ImageFormat,
    renderer: Renderer,
    limits: Limits,
) -> Result<Vec<u8>, RenderError> {
    let (nodes, edges) = size(g);
    if nodes > limits.max_nodes || edges > limits.max_edges {
        return Err(RenderError::TooBig {
            nodes,
            edges,
            max_nodes: limits.max_nodes,
            max_edges: limits.max_edges,
        });
    }
    // No layout time: nothing is laid out. (Without this, a layout that finished before
    // the zero wait was checked came back drawn: a race a loaded machine lost.)
    if limits.time.is_zero() {
        return Err(RenderError::TimedOut(limits.time));
    }
    let text = crate::report::dot::print(g);
    match renderer {
        Renderer::Graphviz => graphviz::render(&text, format, limits.time),
        Renderer::Builtin => {
            let svg = in_process(text, limits.time)?;
            match format {
                ImageFormat::Svg => Ok(svg.into_bytes()),
                ImageFormat::Png => svg_to_png(&svg),
            }
        }
    }
}

/// Graphviz's `dot` layout and SVG writer in process, on a thread of its own so that the
/// caller stops waiting at the time limit. (A thread cannot be killed: a library caller that
/// goes on after [`RenderError::TimedOut`] leaves it to finish in the background; the
/// command line exits.)
fn in_process(text: String, limit: Duration) -> Result<String, RenderError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("layout".into())
        // The port follows C's recursion; give deep graphs room.
        .stack_size(256 << 20)
        .spawn(move || {
            let r = graphviz_pure::render_dot(&text, "dot", "svg")
                .map(|r| r.into_output())
                .map_err(|e| RenderError::Layout(e.to_string()));
            let _ = tx.send(r);
        })
        .map_err(|e| RenderError::Layout(e.to_string()))?;
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(RenderError::TimedOut(limit)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(RenderError::Layout(
            "the layout stopped without an answer".into(),
        )),
    }
}
