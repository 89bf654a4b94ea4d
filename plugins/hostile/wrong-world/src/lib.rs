//! Hostile test component: a valid component of another world (exports `run`, not `price`).

wit_bindgen::generate!({
    inline: r#"
        package hostile:wrong;
        world other {
            export run: func() -> u32;
        }
    "#,
});

struct Wrong;

impl Guest for Wrong {
    fn run() -> u32 {
        42
    }
}

export!(Wrong);
