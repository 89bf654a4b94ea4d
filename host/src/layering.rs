//! The module map, enforced: every top-level module belongs to one layer and may import
//! only from its own layer or the layers below it, and no two top-level modules may reach
//! each other through their imports (no cycles, within a layer either). The test reads the
//! sources: every `crate::<module>` a module names outside its unit tests counts.

/// The layers, top to bottom, and the top-level modules in each.
pub const LAYERS: &[(&str, &[&str])] = &[
    ("assembly", &["lib", "main", "commands", "config", "server", "layering"]),
    ("http edge", &["api", "admin", "public", "http"]),
    ("services", &["services", "jobs", "demo"]),
    ("engines", &["pricing", "plugins", "outbox", "mail", "pdf"]),
    ("store", &["store"]),
    ("domain", &["catalog", "orgs", "locale", "validation", "urls", "ids", "clock", "telemetry"]),
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::LAYERS;

    /// Rust files under `dir`, recursively.
    fn sources(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                found.extend(sources(&path));
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
        found
    }

    /// The top-level modules a file names as `crate::<module>` in code (not in comments),
    /// up to its unit tests.
    fn imports(text: &str) -> BTreeSet<String> {
        let code = text.split("#[cfg(test)]").next().unwrap_or(text);
        let code: String = code
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        code.match_indices("crate::")
            .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            .map(|(at, found)| {
                let rest = &code[at + found.len()..];
                rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
            })
            .collect()
    }

    /// `module → the top-level modules it imports`, for the whole crate.
    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in sources(&src) {
            let relative = path.strip_prefix(&src).expect("under src");
            let first = relative.components().next().expect("a component");
            let module = first.as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
            let text = std::fs::read_to_string(&path).expect("a readable source");
            let entry = graph.entry(module.clone()).or_default();
            // `crate::AppState`-style names of items at the crate root belong to `lib`.
            for import in imports(&text) {
                let target = if import.starts_with(char::is_uppercase) || import == "run" {
                    "lib".to_owned()
                } else {
                    import
                };
                if target != module {
                    entry.insert(target);
                }
            }
        }
        graph
    }

    fn layer_of(module: &str) -> Option<usize> {
        LAYERS.iter().position(|(_, modules)| modules.contains(&module))
    }

    #[test]
    fn every_module_has_a_layer_and_imports_only_downward() {
        let graph = graph();
        let mut problems = Vec::new();
        for (module, targets) in &graph {
            let Some(layer) = layer_of(module) else {
                problems.push(format!("`{module}` is in no layer of `layering::LAYERS`"));
                continue;
            };
            for target in targets {
                match layer_of(target) {
                    Some(target_layer) if target_layer < layer => problems.push(format!(
                        "`{module}` ({}) imports `{target}` ({}), a layer above it",
                        LAYERS[layer].0, LAYERS[target_layer].0
                    )),
                    _ => {}
                }
            }
        }
        assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
    }

    #[test]
    fn no_two_modules_reach_each_other() {
        let graph = graph();
        let mut cycles = BTreeSet::new();
        for start in graph.keys() {
            // Depth-first from `start`: reaching `start` again is a cycle.
            let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((module, path)) = stack.pop() {
                for next in graph.get(&module).into_iter().flatten() {
                    if next == start {
                        let mut cycle = path.clone();
                        let first = cycle.iter().min().expect("a module").clone();
                        let turn = cycle.iter().position(|m| *m == first).expect("present");
                        cycle.rotate_left(turn);
                        cycles.insert(cycle.join(" → "));
                    } else if seen.insert(next.clone()) {
                        let mut longer = path.clone();
                        longer.push(next.clone());
                        stack.push((next.clone(), longer));
                    }
                }
            }
        }
        assert!(
            cycles.is_empty(),
            "import cycles:\n{}",
            cycles.into_iter().collect::<Vec<_>>().join("\n")
        );
    }
}
