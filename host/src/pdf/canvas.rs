//! Pages as lists of drawing operations in points from the top-left corner, laid out first
//! (so every page knows the page count) and then written through krilla.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;
use krilla::{Document, SerializeSettings};

use super::typeset::{Weight, font, width};

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.28;
/// A4 in points.
pub const PAGE_HEIGHT: f32 = 841.89;

/// Text colour: near black.
pub const INK: (u8, u8, u8) = (0x1d, 0x23, 0x30);
/// Secondary text: grey with AA contrast on white.
pub const MUTED: (u8, u8, u8) = (0x55, 0x5c, 0x6a);
/// Rules.
pub const RULE: (u8, u8, u8) = (0xc8, 0xcc, 0xd4);
/// The table header's band.
pub const BAND: (u8, u8, u8) = (0xee, 0xf0, 0xf4);

/// One drawing operation.
#[derive(Debug, Clone)]
enum Op {
    /// Text with its baseline at `y`.
    Text { x: f32, y: f32, size: f32, weight: Weight, color: (u8, u8, u8), text: String },
    /// A filled rectangle.
    Rect { x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8) },
    /// The logo, scaled into the box.
    Logo { x: f32, y: f32, w: f32, h: f32 },
}

/// The pages being laid out.
#[derive(Debug, Default)]
pub struct Canvas {
    pages: Vec<Vec<Op>>,
}

impl Canvas {
    /// Starts a new page; drawing goes there from now on.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
    }

    fn push(&mut self, op: Op) {
        if self.pages.is_empty() {
            self.new_page();
        }
        self.pages.last_mut().expect("a page").push(op);
    }

    /// Text starting at `x`.
    pub fn text(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        color: (u8, u8, u8),
        text: &str,
    ) {
        if !text.is_empty() {
            self.push(Op::Text { x, y, size, weight, color, text: text.to_owned() });
        }
    }

    /// Text ending at `right`.
    pub fn text_right(
        &mut self,
        right: f32,
        y: f32,
        size: f32,
        weight: Weight,
        color: (u8, u8, u8),
        text: &str,
    ) {
        self.text(right - width(text, weight, size), y, size, weight, color, text);
    }

    /// A filled rectangle (a rule is a thin one).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
        self.push(Op::Rect { x, y, w, h, color });
    }

    /// The logo in a box.
    pub fn logo(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.push(Op::Logo { x, y, w, h });
    }

    /// Centres `footer(page, count)` at the foot of every page, then writes the PDF.
    pub fn finish(
        mut self,
        logo: Option<Image>,
        title: &str,
        language: &str,
        footer: impl Fn(usize, usize) -> String,
    ) -> anyhow::Result<Vec<u8>> {
        if self.pages.is_empty() {
            self.new_page();
        }
        let count = self.pages.len();
        for (index, page) in self.pages.iter_mut().enumerate() {
            let text = footer(index + 1, count);
            let size = 7.5;
            let x = (PAGE_WIDTH - width(&text, Weight::Regular, size)) / 2.0;
            let y = PAGE_HEIGHT - 28.0;
            page.push(Op::Text { x, y, size, weight: Weight::Regular, color: MUTED, text });
        }
        let mut document = Document::new_with(SerializeSettings::default());
        document.set_metadata(
            Metadata::new()
                .title(title.to_owned())
                .language(language.to_owned())
                .creator("winfactor".to_owned()),
        );
        for ops in &self.pages {
            let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a size");
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Op::Text { x, y, size, weight, color, text } => {
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_text(
                            Point::from_xy(*x, *y),
                            font(*weight),
                            *size,
                            text,
                            false,
                            TextDirection::Auto,
                        );
                    }
                    Op::Rect { x, y, w, h, color } => {
                        let mut path = PathBuilder::new();
                        if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                            path.push_rect(rect);
                        }
                        if let Some(path) = path.finish() {
                            surface.set_fill(Some(fill(*color)));
                            surface.set_stroke(None::<Stroke>);
                            surface.draw_path(&path);
                        }
                    }
                    Op::Logo { x, y, w, h } => {
                        if let (Some(image), Some(size)) = (&logo, Size::from_wh(*w, *h)) {
                            surface.push_transform(&Transform::from_translate(*x, *y));
                            surface.draw_image(image.clone(), size);
                            surface.pop();
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|err| anyhow::anyhow!("the PDF could not be written: {err:?}"))
    }
}

fn fill((r, g, b): (u8, u8, u8)) -> Fill {
    Fill { paint: rgb::Color::new(r, g, b).into(), ..Fill::default() }
}
