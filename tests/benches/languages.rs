//! The first-party plugins in Rust, Python (componentize-py) and JavaScript
//! (componentize-js), per language and plugin: component size, compile time, load from the
//! on-disk artifact cache (what a restart pays), restart → first evaluation, and
//! instantiate + call in a fresh store, p50/p99 (what every live price pays); then the
//! resident memory of 100 distinct large plugins loaded and run. Run with
//! `cargo bench -p winfactor-tests --bench languages` after building the components, as
//! `tests/run.sh` does.

use std::time::{Duration, Instant};

use winfactor::orgs::UnitSystem;
use winfactor::plugins::{PluginLimits, PricingInput, WasmHost};
use winfactor_tests::bench::{StealMeter, percentile};
use winfactor_tests::plugins::{plugin_wasm, sample_event};

/// Runs timed per component (Python and JavaScript runs take milliseconds).
const SAMPLES: usize = 1_000;
/// Large plugins made resident at once for the memory figure.
const RESIDENT: usize = 100;

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    runtime.block_on(measure());
}

async fn measure() {
    let steal = StealMeter::start();
    let event = sample_event();
    let cache = tempfile::tempdir().unwrap();
    let limits = PluginLimits::default();
    let plugins = [
        ("margin", r#"{"default": 0.25, "byItemType": {"labor": 0}}"#, UnitSystem::Metric),
        (
            "glass-area",
            r#"{"surchargePerM2": 12.5, "tiers": [{"minAreaM2": 5, "percent": 5}]}"#,
            UnitSystem::Metric,
        ),
        ("imperial", r#"{"pricePerSqFt": 38.5}"#, UnitSystem::Imperial),
    ];
    println!(
        "{:<8} {:<11} {:>9} {:>10} {:>11} {:>12} {:>9} {:>9} {:>8}",
        "language",
        "plugin",
        "size MB",
        "compile s",
        "load ms",
        "1st eval ms",
        "p50 ms",
        "p99 ms",
        "peak MiB"
    );
    for language in ["rust", "python", "js"] {
        for (plugin, settings, units) in plugins {
            let wasm = match language {
                "rust" => plugin_wasm(plugin),
                _ => plugin_wasm(&format!("{language}-{plugin}")),
            };
            let sha = format!("{language}-{plugin}");
            // A compile here and a restart below, as the service does: the artifact is
            // written to the cache directory, then mapped from it.
            let host = WasmHost::new(limits, Some(cache.path().to_owned())).expect("an engine");
            let started = Instant::now();
            let (_, digest) = host.compile(&sha, &wasm).expect("the plugin compiles");
            let compile = started.elapsed();

            // A restart: a new engine maps the artifact from disk, then runs once.
            let restarted = WasmHost::new(limits, Some(cache.path().to_owned())).unwrap();
            let started = Instant::now();
            let prepared = restarted.load_precompiled(&sha, &digest).unwrap().expect("cached");
            let load = started.elapsed();
            let mut input = PricingInput::from_event(&event).expect("the sample event");
            let mut org = input.org();
            org.unit_system = units;
            input.organization = Some(org);
            let deadline = Duration::from_secs(1);
            let first = restarted.run(&prepared, &input, settings, deadline).await;
            assert!(first.pricing.is_some(), "{language} {plugin}: {:?}", first.error);
            let first_eval = started.elapsed();

            for _ in 0..100 {
                restarted.run(&prepared, &input, settings, deadline).await;
            }
            let mut times = Vec::with_capacity(SAMPLES);
            let mut peak = 0;
            for _ in 0..SAMPLES {
                let report = restarted.run(&prepared, &input, settings, deadline).await;
                peak = peak.max(report.peak_memory);
                times.push(report.duration);
            }
            times.sort();
            println!(
                "{language:<8} {plugin:<11} {:>9.2} {:>10.2} {:>11.1} {:>12.1} {:>9.3} {:>9.3} {:>8.1}",
                wasm.len() as f64 / 1e6,
                compile.as_secs_f64(),
                ms(load),
                ms(first_eval),
                ms(percentile(&times, 0.50)),
                ms(percentile(&times, 0.99)),
                peak as f64 / f64::from(1 << 20),
            );
        }
    }
    resident(&plugin_wasm("python-margin"), &event, limits).await;
    println!("{}", steal.report());
}

/// Loads `RESIDENT` distinct copies of a large component — each its own artifact, linked
/// separately, all kept in memory — and runs each once: mapped from their files (the
/// service's way), then, as the baseline, read into memory (what a host without a cache
/// directory does). Prints what the process holds resident before and after each.
async fn resident(wasm: &[u8], event: &serde_json::Value, limits: PluginLimits) {
    let dir = tempfile::tempdir().unwrap();
    let limits = PluginLimits { compiled_cache_bytes: u64::MAX, ..limits };
    let artifact = WasmHost::new(limits, None).unwrap().precompile(wasm).expect("it compiles");
    let input = PricingInput::from_event(event).unwrap();
    println!(
        "\n{RESIDENT} distinct Python components resident ({:.1} MB each, artifacts {:.1} MB), \
         each run once; resident memory before → after, MiB:",
        wasm.len() as f64 / 1e6,
        artifact.len() as f64 / 1e6,
    );
    for (way, cache) in [("mapped", Some(dir.path().to_owned())), ("read into memory", None)] {
        let host = WasmHost::new(limits, cache).unwrap();
        let before = memory_status();
        for i in 0..RESIDENT {
            let (prepared, _) = host.install(&format!("resident-{i}"), &artifact).unwrap();
            let report = host.run(&prepared, &input, "{}", Duration::from_secs(1)).await;
            assert!(report.pricing.is_some(), "{:?}", report.error);
        }
        let after = memory_status();
        let held = (0..RESIDENT).filter(|i| host.warm(&format!("resident-{i}")).is_some());
        assert_eq!(held.count(), RESIDENT, "all stay in memory");
        println!(
            "  {way:<17} anonymous {:>5.0} → {:>5.0}, file-backed (clean page cache) {:>5.0} → {:>5.0}",
            before.0, after.0, before.1, after.1,
        );
    }
}

/// This process's resident memory, anonymous and file-backed, in MiB.
fn memory_status() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> f64 {
        let line = status.lines().find(|line| line.starts_with(name)).unwrap();
        let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib / 1024.0
    };
    (field("RssAnon:") + field("RssShmem:"), field("RssFile:"))
}
