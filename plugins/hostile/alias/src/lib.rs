//! Hostile test component: answers with 1 300 rows whose descriptions all point at one
//! 100 KB buffer — 130 KB of guest memory that a host lifting it naively would copy into
//! 130 MB. Written against the canonical ABI by hand (generated export glue cannot alias):
//! `price` takes a pointer to the lowered request and returns a pointer to the lowered
//! `result<breakdown, plugin-error>`.

#![allow(unsafe_code)]

wit_bindgen::generate!({
    world: "pricing-plugin",
    path: "../../../wit",
});

const ROWS: usize = 1_300;
const FILLER: usize = 100 * 1024;

/// A lowered `line-item` (canonical ABI, wasm32): `option<string>` is a discriminant word
/// and a pointer/length pair; `sort-offset` (s64) aligns the record to 8 bytes.
#[repr(C, align(8))]
struct Row {
    item_key: [u32; 3],
    external_ref: [u32; 3],
    description: [u32; 2],
    quantity: [u32; 2],
    unit_price: [u32; 2],
    item_type: [u32; 3],
    _padding: u32,
    sort_offset: i64,
}

/// A lowered `result::ok(breakdown)`: discriminant 0, then the list's pointer and length.
#[repr(C, align(8))]
struct Answer {
    discriminant: u32,
    rows: u32,
    count: u32,
}

/// The export `price`.
#[unsafe(export_name = "price")]
extern "C" fn price(_request: *mut u8) -> *mut u8 {
    wit_bindgen::rt::maybe_link_cabi_realloc();
    let filler: &'static [u8] = Box::leak(vec![b'x'; FILLER].into_boxed_slice());
    let one: &'static [u8] = b"1";
    let text = |bytes: &[u8]| [bytes.as_ptr() as u32, bytes.len() as u32];
    let rows: Vec<Row> = (0..ROWS)
        .map(|index| Row {
            item_key: [0; 3],
            external_ref: [0; 3],
            description: text(filler),
            quantity: text(one),
            unit_price: text(one),
            item_type: [0; 3],
            _padding: 0,
            sort_offset: index as i64,
        })
        .collect();
    let rows = Box::leak(rows.into_boxed_slice());
    let answer = Box::leak(Box::new(Answer {
        discriminant: 0,
        rows: rows.as_ptr() as u32,
        count: ROWS as u32,
    }));
    (answer as *mut Answer).cast()
}
