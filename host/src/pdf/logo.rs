//! Organisation logos as the PDF reads them: PNG or JPEG, checked in full at upload so a
//! stored logo always renders.

use krilla::Document;
use krilla::geom::Size;
use krilla::image::Image;
use krilla::page::PageSettings;

/// The largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// The largest side of a logo accepted, in pixels (a small file must not unpack into a
/// huge bitmap when a PDF is drawn).
pub const MAX_LOGO_SIDE: u32 = 2048;
/// The media types a logo may have.
pub const LOGO_TYPES: [&str; 2] = ["image/png", "image/jpeg"];

/// The image krilla reads from `bytes` of `content_type` (`None` when it cannot).
pub(super) fn decode(content_type: &str, bytes: &[u8]) -> Option<Image> {
    let data = bytes.to_vec().into();
    match content_type {
        "image/png" => Image::from_png(data, true).ok(),
        "image/jpeg" => Image::from_jpeg(data, true).ok(),
        _ => None,
    }
}

/// Checks an uploaded logo: one of [`LOGO_TYPES`], the bytes really of that type, no side
/// over [`MAX_LOGO_SIDE`], and the whole image decodes (it is drawn into a throwaway PDF).
/// Answers its width and height in pixels, or what is wrong.
pub fn check_logo(content_type: &str, bytes: &[u8]) -> Result<(u32, u32), String> {
    if !LOGO_TYPES.contains(&content_type) {
        return Err("a PNG or JPEG image".into());
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(format!("at most {MAX_LOGO_BYTES} bytes"));
    }
    let image = decode(content_type, bytes)
        .ok_or_else(|| format!("not a readable {} image", &content_type[6..]))?;
    let (width, height) = image.size();
    if width == 0 || height == 0 || width > MAX_LOGO_SIDE || height > MAX_LOGO_SIDE {
        return Err(format!("at most {MAX_LOGO_SIDE}×{MAX_LOGO_SIDE} pixels"));
    }
    let mut document = Document::new();
    let mut page = document.start_page_with(PageSettings::from_wh(200.0, 200.0).expect("a size"));
    let mut surface = page.surface();
    surface.draw_image(image, Size::from_wh(100.0, 100.0).expect("a size"));
    surface.finish();
    page.finish();
    document.finish().map_err(|_| format!("not a readable {} image", &content_type[6..]))?;
    Ok((width, height))
}
