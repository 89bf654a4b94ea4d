//! The document's typeface and what text takes on the page: DejaVu Sans (regular and
//! bold, shipped in `host/assets/fonts/`, covering Latin Extended, Greek and Cyrillic),
//! shaped by rustybuzz — the shaper krilla draws with — to measure lines for wrapping and
//! right alignment.

use std::sync::LazyLock;

use krilla::text::Font;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Regular or bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// DejaVu Sans Book.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
}

/// One weight: krilla's font for drawing and rustybuzz's face for measuring.
struct Face {
    font: Font,
    shaper: rustybuzz::Face<'static>,
}

impl Face {
    fn load(data: &'static [u8]) -> Self {
        let font = Font::new(data.into(), 0).expect("the shipped font parses");
        let shaper = rustybuzz::Face::from_slice(data, 0).expect("the shipped font parses");
        Self { font, shaper }
    }
}

static FACES: LazyLock<[Face; 2]> = LazyLock::new(|| [Face::load(REGULAR), Face::load(BOLD)]);

fn face(weight: Weight) -> &'static Face {
    &FACES[weight as usize]
}

/// The krilla font of a weight.
pub fn font(weight: Weight) -> Font {
    face(weight).font.clone()
}

/// The advance width of `text` set in one line at `size` points.
pub fn width(text: &str, weight: Weight, size: f32) -> f32 {
    let face = face(weight);
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    let shaped = rustybuzz::shape(&face.shaper, &[], buffer);
    let units: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
    units as f32 * size / face.shaper.units_per_em() as f32
}

/// `text` broken into lines no wider than `max` points: at spaces, and inside a word only
/// when the word alone is wider than the line. Line breaks in the text are kept.
pub fn wrap(text: &str, weight: Weight, size: f32, max: f32) -> Vec<String> {
    let fits = |line: &str| width(line, weight, size) <= max;
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate =
                if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if fits(&candidate) {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line is cut where it stops fitting.
            for ch in word.chars() {
                line.push(ch);
                if !fits(&line) && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, ch.to_string()));
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_fit_and_keep_every_word() {
        let text = "Łukasz Żółkiewski — Ελληνικά κείμενα και Кириллица: ".repeat(8);
        let lines = wrap(&text, Weight::Regular, 10.0, 150.0);
        assert!(lines.len() > 4, "{lines:?}");
        assert!(lines.iter().all(|line| width(line, Weight::Regular, 10.0) <= 150.0));
        assert_eq!(lines.join(" "), text.split_whitespace().collect::<Vec<_>>().join(" "));
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut() {
        let word = "W".repeat(60);
        let lines = wrap(&word, Weight::Bold, 10.0, 100.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), word);
        assert!(lines.iter().all(|line| width(line, Weight::Bold, 10.0) <= 100.0));
    }

    #[test]
    fn bold_is_wider_and_width_grows_with_size() {
        assert!(width("Total", Weight::Bold, 10.0) > width("Total", Weight::Regular, 10.0));
        let small = width("1.234,50 €", Weight::Regular, 10.0);
        assert!((width("1.234,50 €", Weight::Regular, 20.0) - 2.0 * small).abs() < 0.01);
    }
}
