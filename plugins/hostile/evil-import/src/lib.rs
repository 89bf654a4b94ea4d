//! Hostile test component: imports an interface the host does not provide (a socket).

wit_bindgen::generate!({
    inline: r#"
        package hostile:evil;
        interface net {
            connect: func(host: string) -> u32;
        }
        world evil {
            import net;
            export price: func() -> u32;
        }
    "#,
});

struct Evil;

impl Guest for Evil {
    fn price() -> u32 {
        hostile::evil::net::connect("attacker.example")
    }
}

export!(Evil);
