//! `flashpoint plot DIR --out FILE.png`: a real PNG of the SVG's size with its
//! text drawn (by the embedded font, so no system font is needed), and a clear
//! usage error for any extension but `.svg` and `.png`.

mod common;
use common::{flashpoint, ok, read, temp_dir};

use resvg::tiny_skia::Pixmap;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Width and height from the PNG's IHDR chunk, read without a decoder.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[12..16], b"IHDR", "the first chunk is not IHDR");
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}

/// The `width` and `height` attributes of the SVG's root element.
fn svg_size(svg: &str) -> (u32, u32) {
    let root = &svg[..svg.find('>').expect("an SVG root element")];
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let start = root.find(&key).expect("the attribute") + key.len();
        let len = root[start..].find('"').expect("a closing quote");
        root[start..start + len].parse().expect("a whole number")
    };
    (attr("width"), attr("height"))
}

/// Pixels in the rectangle `x0..x1` × `y0..y1` whose red channel is below 128.
fn dark_pixels(image: &Pixmap, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> usize {
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| image.pixel(x, y).expect("inside the image").red() < 128)
        .count()
}

#[test]
fn png_is_the_svg_rasterised_with_its_text_drawn() {
    let dir = temp_dir("plotpng");
    let res = dir.join("res");
    ok(&flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "40",
        "--seed",
        "1",
        "--timeseries",
        "1",
        "--quiet",
        "--out",
        s(&res),
    ]));
    let svg_path = dir.join("plot.svg");
    ok(&flashpoint(&["plot", s(&res), "--out", s(&svg_path)]));
    // The extension is case-insensitive.
    let png_path = dir.join("plot.PNG");
    let out = flashpoint(&["plot", s(&res), "--out", s(&png_path)]);
    ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("wrote {}\n", png_path.display())
    );
    let png = read(&png_path);
    assert_eq!(png[..8], PNG_SIGNATURE, "not a PNG");
    assert!(
        !dir.join("plot.PNG.partial").exists(),
        "the temporary file was left behind"
    );

    let svg = String::from_utf8(read(&svg_path)).expect("SVG is UTF-8");
    let (width, height) = svg_size(&svg);
    assert_eq!(png_size(&png), (width, height));
    let image = Pixmap::decode_png(&png).expect("the PNG decodes");
    assert_eq!((image.width(), image.height()), (width, height));

    // The title `west2025: 40 replications, seed 1` is drawn at (20, 18),
    // 19.4 px high, on white: its glyphs darken the left of the title band
    // and leave its right end white.
    assert!(
        svg.contains(">\nwest2025: 40 replications, seed 1\n</text>"),
        "the title moved: update the regions below"
    );
    let title = dark_pixels(&image, (20, 320), (14, 42));
    assert!(
        title > 300,
        "only {title} dark pixels in the title: no text?"
    );
    assert_eq!(dark_pixels(&image, (900, width), (0, 60)), 0);
}

#[test]
fn plot_refuses_an_extension_other_than_svg_or_png() {
    let dir = temp_dir("plotpng_ext");
    let jpg = dir.join("plot.jpg");
    // The extension is checked before DIR is read.
    let out = flashpoint(&["plot", s(&dir.join("no-such-dir")), "--out", s(&jpg)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: plot: --out must end in .svg or .png (got .jpg)\n"
    );
    assert!(!jpg.exists());
}
