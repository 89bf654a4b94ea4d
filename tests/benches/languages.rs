//! The first-party plugins in Rust, Python (componentize-py) and JavaScript
//! (componentize-js), per language and plugin: component size, compile time, load from the
//! on-disk artifact cache (what a restart pays), restart → first evaluation, and
//! instantiate + call in a fresh store, p50/p99 (what every live price pays). Run with
//! `cargo bench -p winfactor-tests --bench languages` after building the components, as
//! `tests/run.sh` does.

use std::time::{Duration, Instant};

use winfactor::orgs::UnitSystem;
use winfactor::plugins::{PluginLimits, PricingInput, WasmHost};
use winfactor_tests::bench::{StealMeter, percentile};
use winfactor_tests::plugins::{plugin_wasm, sample_event};

/// Runs timed per component (Python and JavaScript runs take milliseconds).
const SAMPLES: usize = 1_000;

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
            let host = WasmHost::new(limits, Some(cache.path().to_owned())).expect("an engine");
            let started = Instant::now();
            let (_, digest) = host.compile(&sha, &wasm).expect("the plugin compiles");
            let compile = started.elapsed();

            // A restart: a new engine loads the artifact from disk, then runs once.
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
    println!("{}", steal.report());
}
