//! Wasm pricing plugins, per first-party plugin: instantiate + call in a fresh store (what
//! every live price pays), against the same pricing logic compiled natively (run with
//! `cargo bench -p winfactor-tests --bench plugins`; build the components first, as
//! `tests/run.sh` does). The rails end to end are in the `live` bench.

use std::time::{Duration, Instant};

use winfactor::orgs::UnitSystem;
use winfactor::plugins::{PluginLimits, PricingInput, WasmHost};
use winfactor_pricing_sdk::{PricingPlugin, Request, testing};
use winfactor_tests::bench::{StealMeter, percentile};
use winfactor_tests::plugins::{plugin_wasm, sample_event};

const SAMPLES: usize = 5_000;

/// The `p` quantile in µs.
fn micros(sorted: &[Duration], p: f64) -> f64 {
    percentile(sorted, p).as_secs_f64() * 1e6
}

/// Times a plugin crate's logic called natively.
type NativeRun = fn(&Request, &str) -> Vec<Duration>;

fn native<P: PricingPlugin>(request: &Request, settings: &str) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(testing::price::<P>(request, settings).expect("native price"));
            started.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn main() {
    // Runs are async (a run's future is dropped at its deadline); one thread drives them
    // here, as one run thread does in the service.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    runtime.block_on(measure());
}

async fn measure() {
    let steal = StealMeter::start();
    let event = sample_event();
    let host = WasmHost::new(PluginLimits::default(), None).expect("an engine");
    let plugins: [(&str, &str, UnitSystem, NativeRun); 3] = [
        (
            "margin",
            r#"{"default": 0.25, "byItemType": {"labor": 0}}"#,
            UnitSystem::Metric,
            native::<margin::Margin>,
        ),
        (
            "glass-area",
            r#"{"surchargePerM2": 12.5, "tiers": [{"minAreaM2": 5, "percent": 5}]}"#,
            UnitSystem::Metric,
            native::<glass_area::GlassArea>,
        ),
        (
            "imperial",
            r#"{"pricePerSqFt": 38.5}"#,
            UnitSystem::Imperial,
            native::<imperial::Imperial>,
        ),
    ];
    println!("instantiate + call in a fresh store, {SAMPLES} runs each (µs):");
    for (name, settings, units, native_run) in plugins {
        let wasm = plugin_wasm(name);
        let compiled = Instant::now();
        let (prepared, _) = host.compile(name, &wasm).expect("the plugin compiles");
        let compile_ms = compiled.elapsed().as_millis();
        let mut input = PricingInput::from_event(&event).expect("the sample event");
        let mut org = input.org();
        org.unit_system = units;
        input.organization = Some(org);
        let deadline = Duration::from_millis(50);
        for _ in 0..200 {
            assert!(host.run(&prepared, &input, settings, deadline).await.pricing.is_some());
        }
        let mut wasm_times = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            wasm_times.push(host.run(&prepared, &input, settings, deadline).await.duration);
        }
        wasm_times.sort();
        let units = match units {
            UnitSystem::Metric => winfactor_pricing_sdk::UnitSystem::Metric,
            UnitSystem::Imperial => winfactor_pricing_sdk::UnitSystem::Imperial,
        };
        let request =
            testing::request_from_event(&event.to_string()).unwrap().with_unit_system(units);
        let native_times = native_run(&request, settings);
        println!(
            "  {name:<11} wasm p50 {:>6.1}  p99 {:>6.1}   native p50 {:>5.1}  p99 {:>5.1}   ratio (p50) {:>5.1}×   component {} KiB, compiled in {compile_ms} ms",
            micros(&wasm_times, 0.50),
            micros(&wasm_times, 0.99),
            micros(&native_times, 0.50),
            micros(&native_times, 0.99),
            micros(&wasm_times, 0.50) / micros(&native_times, 0.50),
            wasm.len() / 1024,
        );
    }
    println!("{}", steal.report());
}
