//! `plot --out FILE.png`: the chart's SVG, rasterised with an embedded font.
//!
//! The PNG is the SVG that [`super::plot`] draws, rendered by `resvg` at one
//! pixel per SVG unit, so both formats show the same panels at the same
//! positions and the PNG has the SVG's width and height. Text is shaped and
//! drawn with DejaVu Sans 2.37 (`assets/fonts/DejaVuSans.ttf`, Bitstream Vera
//! licence in `assets/fonts/LICENSE-DejaVu.txt`), compiled into the binary and
//! given to `resvg` as its only font, for the `sans-serif` family the SVG
//! names (and every other generic family): no system font, fontconfig or
//! FreeType is looked for, so a bare CI machine draws the same pixels.
//!
//! Why not plotters' own bitmap backend with its `ab_glyph` font feature:
//! that feature replaces plotters' font code for every backend, the SVG one
//! included, so the SVG's layout (caption, legend and label-area sizes, now
//! from a fixed estimate of text width) would change and drawing an SVG would
//! fail unless a font were registered first. Rasterising the SVG leaves the
//! SVG byte for byte as it was and cannot draw a PNG that differs from it.
//! The price is a heavier build than `ab_glyph` would cost: resvg's text
//! stack (harfrust shaping, skrifa outlines) brings about forty small crates
//! and roughly doubles the stripped release binary, font included.
//! DejaVu Sans was chosen for its coverage (Latin, Greek, Cyrillic and many
//! symbols: scenario and event names are the user's text) and because it is
//! what browsers on Linux usually show for `sans-serif`.

use crate::error::{Error, Result};
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{fontdb, Options, Tree};
use std::sync::Arc;

/// DejaVu Sans, Book (regular) weight.
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The family name inside [`FONT_BYTES`].
const FONT_FAMILY: &str = "DejaVu Sans";

fn render_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("out", format!("plot: drawing the PNG failed: {e}"))
}

/// A font database holding only the embedded font, under every generic family.
fn embedded_fonts() -> Result<fontdb::Database> {
    let mut fonts = fontdb::Database::new();
    let ids = fonts.load_font_source(fontdb::Source::Binary(Arc::new(FONT_BYTES)));
    if ids.is_empty() {
        return Err(render_error("the embedded font did not load"));
    }
    fonts.set_sans_serif_family(FONT_FAMILY);
    fonts.set_serif_family(FONT_FAMILY);
    fonts.set_monospace_family(FONT_FAMILY);
    fonts.set_cursive_family(FONT_FAMILY);
    fonts.set_fantasy_family(FONT_FAMILY);
    Ok(fonts)
}

/// `svg` rendered as a PNG of its own width and height (one pixel per unit).
pub(super) fn svg_to_png(svg: &str) -> Result<Vec<u8>> {
    let options = Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: Arc::new(embedded_fonts()?),
        ..Options::default()
    };
    let tree = Tree::from_str(svg, &options).map_err(render_error)?;
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height())
        .ok_or_else(|| render_error(format!("no {}×{} image", size.width(), size.height())))?;
    resvg::render(&tree, Transform::identity(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(render_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_loads_under_sans_serif() {
        let fonts = embedded_fonts().expect("the committed font file is a valid TTF");
        let query = fontdb::Query {
            families: &[fontdb::Family::SansSerif],
            ..fontdb::Query::default()
        };
        assert!(fonts.query(&query).is_some());
    }

    #[test]
    fn text_in_sans_serif_is_drawn() {
        let svg = r##"<svg width="40" height="20" xmlns="http://www.w3.org/2000/svg">
            <rect width="40" height="20" fill="#FFFFFF"/>
            <text x="2" y="15" font-family="sans-serif" font-size="16">Hx</text></svg>"##;
        let png = svg_to_png(svg).expect("renders");
        let pixmap = Pixmap::decode_png(&png).expect("decodes");
        assert_eq!((pixmap.width(), pixmap.height()), (40, 20));
        let dark = pixmap.pixels().iter().filter(|p| p.red() < 128).count();
        assert!(dark > 20, "only {dark} dark pixels: no text drawn?");
    }
}
