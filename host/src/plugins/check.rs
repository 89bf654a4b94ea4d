//! The upload check, without compiling: is it a component, within the size cap, exporting
//! `price`, importing only what the host provides? Answers in milliseconds even for an
//! 18 MB component; compilation (which also checks every type) happens later, off the
//! request path.

use wasmparser::{ComponentTypeRef, Parser, Payload};

/// Interfaces a plugin may import: the pricing world's own, and the WASI 0.2 packages the
/// host links deny-all (toolchains import them by default).
const PROVIDED_PACKAGES: &[&str] = &[
    "winfactor:pricing@1.",
    "wasi:cli@0.2.",
    "wasi:clocks@0.2.",
    "wasi:filesystem@0.2.",
    "wasi:io@0.2.",
    "wasi:random@0.2.",
    "wasi:sockets@0.2.",
];

/// The export the pricing world requires.
pub const PRICE_EXPORT: &str = "price";

/// What the check learnt about a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    /// Top-level import names (types aside), e.g. `wasi:cli/environment@0.2.6`.
    pub imports: Vec<String>,
    /// Top-level export names.
    pub exports: Vec<String>,
}

/// Checks `bytes` (at most `max_bytes`) and explains the first problem found.
pub fn check_component(bytes: &[u8], max_bytes: usize) -> Result<ComponentInfo, String> {
    if bytes.len() > max_bytes {
        return Err(format!("the component is {} bytes; the limit is {max_bytes}", bytes.len()));
    }
    if Parser::is_core_wasm(bytes) {
        return Err("this is a core WebAssembly module, not a component: build it with \
                    `cargo build --target wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
            .to_owned());
    }
    if !Parser::is_component(bytes) {
        return Err(
            "not a WebAssembly component (the `\\0asm` component header is missing)".to_owned()
        );
    }
    let info = read_top_level(bytes)?;
    if let Some(import) = info.imports.iter().find(|name| !is_provided(name)) {
        return Err(format!(
            "the component imports `{import}`, which the host does not provide \
             (plugins may import `winfactor:pricing/log` and WASI 0.2 interfaces only)"
        ));
    }
    if !info.exports.iter().any(|name| name == PRICE_EXPORT) {
        return Err(format!(
            "the component does not export `{PRICE_EXPORT}`: it must implement the world \
             `winfactor:pricing/pricing-plugin@1.0.0` (exports found: {})",
            if info.exports.is_empty() { "none".to_owned() } else { info.exports.join(", ") }
        ));
    }
    Ok(info)
}

fn is_provided(import: &str) -> bool {
    // `ns:pkg/iface@version` → `ns:pkg@version`
    let (path, version) = import.split_once('@').unwrap_or((import, ""));
    let package = path.split('/').next().unwrap_or(path);
    let qualified = format!("{package}@{version}");
    PROVIDED_PACKAGES.iter().any(|prefix| qualified.starts_with(prefix))
}

/// The imports and exports of the outermost component (nested modules and components are
/// skipped).
fn read_top_level(bytes: &[u8]) -> Result<ComponentInfo, String> {
    let mut info = ComponentInfo { imports: Vec::new(), exports: Vec::new() };
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|err| format!("malformed component: {err}"))?;
        match payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|err| format!("malformed import: {err}"))?;
                    // Type imports (a world's `use`) carry no capability.
                    if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                        info.imports.push(import.name.name.to_owned());
                    }
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|err| format!("malformed export: {err}"))?;
                    info.exports.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_pricing_component() {
        let core = wat::parse_str("(module)").unwrap();
        assert!(check_component(&core, 1 << 20).unwrap_err().contains("core WebAssembly module"));
        assert!(check_component(b"not wasm at all", 1 << 20).unwrap_err().contains("not a"));
        let empty = wat::parse_str("(component)").unwrap();
        assert!(check_component(&empty, 1 << 20).unwrap_err().contains("does not export `price`"));
        assert!(check_component(&empty, 4).unwrap_err().contains("limit is 4"));
        let evil =
            wat::parse_str(r#"(component (import "evil:net/socket@1.0.0" (instance)))"#).unwrap();
        assert!(check_component(&evil, 1 << 20).unwrap_err().contains("evil:net/socket@1.0.0"));
    }

    #[test]
    fn wasi_and_the_pricing_world_are_provided() {
        assert!(is_provided("wasi:cli/environment@0.2.6"));
        assert!(is_provided("winfactor:pricing/log@1.0.0"));
        assert!(!is_provided("wasi:http/outgoing-handler@0.2.0"));
        assert!(!is_provided("wasi:cli/environment@0.3.0"));
    }
}
