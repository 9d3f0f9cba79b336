//! Text as glyph outlines, to rasterise the builtin renderer's SVG without a text-shaping
//! stack: every `<text>` line it writes becomes one `<path>` of the embedded font's glyphs
//! (read with skrifa), placed by their advance widths. unitdiff's labels are short
//! single-direction lines of unit names, so shaping (ligatures, bidi, complex scripts) is
//! not needed; a character the font lacks is drawn as its missing-glyph box, as a text
//! renderer would.

use std::fmt::Write as _;

/// `svg` with each `<text …>…</text>` line (as the builtin renderer writes them: one
/// element a line, `x`, `y`, `text-anchor`, `font-size`, `fill` and optional halo
/// attributes) replaced by a `<path>` with the same paint. Other lines are kept as they are.
pub fn text_to_paths(svg: &str, font: &[u8]) -> Result<String, String> {
    let face = skrifa::FontRef::new(font).map_err(|e| format!("the embedded font: {e}"))?;
    let mut out = String::with_capacity(svg.len());
    for line in svg.split_inclusive('\n') {
        match text_element(line.trim_end()) {
            Some(t) => {
                out.push_str(&path_of(&face, &t));
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    Ok(out)
}

/// One `<text>` element.
struct Text<'a> {
    attrs: Vec<(&'a str, &'a str)>,
    content: String,
}

impl Text<'_> {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn number(&self, name: &str) -> f64 {
        self.attr(name).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    }
}

fn text_element(line: &str) -> Option<Text<'_>> {
    let rest = line.strip_prefix("<text ")?.strip_suffix("</text>")?;
    // Attribute values are ours (numbers, colours): none contains '>' or '"'.
    let (attrs, content) = rest.split_once('>')?;
    let mut parsed = Vec::new();
    let mut a = attrs.trim();
    while !a.is_empty() {
        let (name, after) = a.split_once("=\"")?;
        let (value, after) = after.split_once('"')?;
        parsed.push((name.trim(), value));
        a = after.trim_start();
    }
    Some(Text {
        attrs: parsed,
        content: unescape(content),
    })
}

/// XML's escapes undone: the five named entities and numeric references (`&#45;`,
/// `&#x2d;`, as Graphviz writes them). Anything else is kept as written.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "amp" => Some('&'),
                _ => {
                    let n = match name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    n.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Path data in SVG coordinates: glyph units scaled and flipped, from the pen position.
struct Pen<'a> {
    d: &'a mut String,
    x: f64,
    y: f64,
    scale: f64,
}

impl Pen<'_> {
    fn pt(&mut self, x: f32, y: f32) {
        let px = self.x + f64::from(x) * self.scale;
        let py = self.y - f64::from(y) * self.scale;
        let _ = write!(self.d, "{} {} ", round(px), round(py));
    }
}

impl skrifa::outline::OutlinePen for Pen<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        self.d.push('M');
        self.pt(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.d.push('L');
        self.pt(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.d.push('Q');
        self.pt(x1, y1);
        self.pt(x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.d.push('C');
        self.pt(x1, y1);
        self.pt(x2, y2);
        self.pt(x, y);
    }
    fn close(&mut self) {
        self.d.push('Z');
    }
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn path_of(face: &skrifa::FontRef<'_>, t: &Text<'_>) -> String {
    use skrifa::MetadataProvider;
    use skrifa::instance::{LocationRef, Size};
    // Outlines and advances in font units, scaled here.
    let (unscaled, at) = (Size::unscaled(), LocationRef::default());
    let units_per_em = face.metrics(unscaled, at).units_per_em;
    let size = t.number("font-size");
    let scale = size / f64::from(units_per_em.max(1));
    // XML's default white-space handling, as a text renderer applies it.
    let content = t.content.split_whitespace().collect::<Vec<_>>().join(" ");
    let charmap = face.charmap();
    let glyphs: Vec<skrifa::GlyphId> = content
        .chars()
        .map(|c| charmap.map(c).unwrap_or(skrifa::GlyphId::NOTDEF))
        .collect();
    let metrics = face.glyph_metrics(unscaled, at);
    let outlines = face.outline_glyphs();
    let advance = |g: skrifa::GlyphId| f64::from(metrics.advance_width(g).unwrap_or(0.0));
    let width: f64 = glyphs.iter().map(|g| advance(*g) * scale).sum();
    let x = t.number("x");
    let start = match t.attr("text-anchor") {
        Some("middle") => x - width / 2.0,
        Some("end") => x - width,
        _ => x,
    };
    let mut d = String::new();
    let mut pen = Pen {
        d: &mut d,
        x: start,
        y: t.number("y"),
        scale,
    };
    for g in glyphs {
        if let Some(glyph) = outlines.get(g) {
            // A glyph that fails to draw is left out, as a text renderer would.
            let settings = skrifa::outline::DrawSettings::unhinted(unscaled, at);
            let _ = glyph.draw(settings, &mut pen);
        }
        pen.x += advance(g) * scale;
    }
    let paint: String = t
        .attrs
        .iter()
        .filter(|(n, _)| !matches!(*n, "x" | "y" | "text-anchor" | "font-size" | "font-family"))
        .map(|(n, v)| format!(" {n}=\"{v}\""))
        .collect();
    format!("<path d=\"{}\"{paint}/>", d.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_are_undone() {
        assert_eq!(
            unescape("a&#45;b &#x2d;&gt;&amp;lt; &bogus; &"),
            "a-b ->&lt; &bogus; &"
        );
    }

    static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

    #[test]
    fn text_lines_become_paths_with_the_same_paint() {
        let svg = "<svg>\n<text x=\"50\" y=\"20\" text-anchor=\"middle\" font-size=\"10\" \
                   fill=\"#333333\" stroke=\"#ffffff\">A &amp; B</text>\n<rect/>\n</svg>\n";
        let out = text_to_paths(svg, FONT).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert_eq!(
            (lines[0], lines[2], lines[3]),
            ("<svg>", "<rect/>", "</svg>")
        );
        let p = lines[1];
        assert!(p.starts_with("<path d=\"M"), "{p}");
        assert!(p.ends_with(" fill=\"#333333\" stroke=\"#ffffff\"/>"), "{p}");
        // Three outlined glyphs (A, &, B: the space has none), each closed.
        assert!(p.matches('Z').count() >= 3, "{p}");
        // Centred on x = 50: the outline's x extent straddles it.
        let xs: Vec<f64> = p
            .split(['M', 'L', 'Q', 'C', 'Z', '"'])
            .flat_map(|s| {
                let v: Vec<f64> = s
                    .split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect();
                v.chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| c[0])
                    .collect::<Vec<_>>()
            })
            .collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        assert!(
            lo < 50.0 && hi > 50.0 && (50.0 - lo - (hi - 50.0)).abs() < 2.0,
            "{lo} {hi}"
        );
    }

    #[test]
    fn a_character_the_font_lacks_is_drawn_as_the_missing_glyph() {
        let svg = "<text x=\"0\" y=\"10\" font-size=\"10\" fill=\"#000\">\u{10fffd}</text>\n";
        let out = text_to_paths(svg, FONT).unwrap();
        assert!(out.starts_with("<path d=\"M"), "{out}");
    }
}
