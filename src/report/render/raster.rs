//! PNG from SVG: resvg, with every label drawn as outlines of a DejaVu Sans font embedded
//! in the binary ([`crate::report::glyphs`]), so text renders the same on machines with no
//! fonts installed, and resvg needs no text stack.

use super::RenderError;

/// The embedded font (DejaVu Sans, Bitstream Vera licence: assets/fonts/LICENSE-DejaVu).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// At most this many pixels in a PNG; larger pictures are scaled down to fit.
const MAX_PIXELS: f32 = 40_000_000.0;
/// The preferred scale: 2 px per SVG unit keeps 9-point labels readable.
const PNG_SCALE: f32 = 2.0;

/// Rasterise an SVG (Graphviz's, one `<text>` element a line) with resvg.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, RenderError> {
    use resvg::{tiny_skia, usvg};
    let svg = crate::report::glyphs::text_to_paths(svg, DEJAVU_SANS).map_err(RenderError::Svg)?;
    let opt = usvg::Options::default();
    let tree = usvg::Tree::from_str(&svg, &opt).map_err(|e| RenderError::Svg(e.to_string()))?;
    let size = tree.size();
    let area = size.width() * size.height();
    let scale = PNG_SCALE.min((MAX_PIXELS / area.max(1.0)).sqrt());
    let width = (size.width() * scale).ceil().max(1.0) as u32;
    let height = (size.height() * scale).ceil().max(1.0) as u32;
    let mut pixmap =
        tiny_skia::Pixmap::new(width, height).ok_or(RenderError::TooLarge { width, height })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| RenderError::Png(e.to_string()))
}
