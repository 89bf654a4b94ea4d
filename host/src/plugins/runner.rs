//! `winfactor plugin check|run`: the upload check and a local run, offline, with every
//! figure shown against its production limit.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use super::{PluginLimits, PricingInput, RunReport, WasmHost, check_component};

/// Checks a component as an upload would, then compiles and links it against the pricing
/// world. Returns the report to print; an error says why production would refuse it.
pub fn check(path: &Path) -> anyhow::Result<String> {
    let wasm = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let limits = PluginLimits::default();
    let info = check_component(&wasm, limits.upload_bytes).map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    WasmHost::new(limits, None)?.compile("check", &wasm).context("compiling failed")?;
    let mut out = String::new();
    writeln!(out, "{}: a pricing plugin component ({} bytes)", path.display(), wasm.len())?;
    writeln!(out, "imports: {}", info.imports.join(", "))?;
    writeln!(out, "exports: {}", info.exports.join(", "))?;
    writeln!(out, "compiled and linked in {} ms: ready to upload", started.elapsed().as_millis())?;
    Ok(out)
}

/// What `plugin run` found: the text (or JSON) to print and whether production would
/// accept the run.
pub struct LocalRun {
    /// The report.
    pub output: String,
    /// True when the run priced within every limit.
    pub passed: bool,
}

/// Runs a component on an event (`pricing.calculated` envelope or its `data`) like
/// production would, then times further runs.
pub async fn run(
    path: &Path,
    event: &Value,
    settings: &str,
    as_json: bool,
) -> anyhow::Result<LocalRun> {
    let wasm = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let limits = PluginLimits::default();
    check_component(&wasm, limits.upload_bytes).map_err(anyhow::Error::msg)?;
    let input = PricingInput::from_event(event).map_err(|why| anyhow::anyhow!("input: {why}"))?;
    let host = WasmHost::new(limits, None)?;
    let (prepared, _) = host.compile("run", &wasm).context("compiling failed")?;
    let report = host.run(&prepared, &input, settings, limits.budget).await;
    let passed = report.pricing.is_some();
    let warm =
        if passed { Some(warm_median(&host, &prepared, &input, settings).await) } else { None };
    let output = if as_json {
        serde_json::to_string_pretty(&as_json_report(&report, warm, &limits))?
    } else {
        as_text(&report, warm, &limits)
    };
    Ok(LocalRun { output, passed })
}

/// Median of 25 further runs (each a fresh instance, as in production).
async fn warm_median(
    host: &WasmHost,
    prepared: &super::Prepared,
    input: &PricingInput,
    settings: &str,
) -> Duration {
    let mut times = Vec::with_capacity(25);
    for _ in 0..25 {
        times.push(host.run(prepared, input, settings, host.limits().budget).await.duration);
    }
    times.sort();
    times[times.len() / 2]
}

fn log_bytes(report: &RunReport) -> usize {
    report.log.iter().map(String::len).sum()
}

fn as_json_report(report: &RunReport, warm: Option<Duration>, limits: &PluginLimits) -> Value {
    json!({
        "outcome": report.outcome,
        "error": report.error,
        "output": report.pricing,
        "durationUs": report.duration.as_micros() as u64,
        "warmMedianUs": warm.map(|d| d.as_micros() as u64),
        "peakMemoryBytes": report.peak_memory,
        "outputBytes": report.output_bytes,
        "logBytes": log_bytes(report),
        "log": report.log,
        "limits": {
            "budgetMs": limits.budget.as_millis() as u64,
            "memoryBytes": limits.memory_bytes,
            "outputBytes": limits.output_bytes,
            "logBytes": limits.log_bytes,
        },
    })
}

fn as_text(report: &RunReport, warm: Option<Duration>, limits: &PluginLimits) -> String {
    let mut out = String::new();
    let verdict = |used: f64, limit: f64| if used <= limit { "ok" } else { "WOULD FAIL" };
    let line = |out: &mut String, name: &str, used: String, limit: String, ok: &str| {
        let _ = writeln!(out, "{name:<12} {used:>14}   limit {limit:>10}   {ok}");
    };
    let _ = writeln!(out, "outcome      {}", report.outcome.as_str());
    if let Some(error) = &report.error {
        let _ = writeln!(out, "error        {error}");
    }
    let budget_us = limits.budget.as_micros() as f64;
    let micros = report.duration.as_micros() as f64;
    line(
        &mut out,
        "duration",
        format!("{micros} µs"),
        format!("{} ms", limits.budget.as_millis()),
        verdict(micros, budget_us),
    );
    if let Some(warm) = warm {
        line(
            &mut out,
            "warm median",
            format!("{} µs", warm.as_micros()),
            format!("{} ms", limits.budget.as_millis()),
            verdict(warm.as_micros() as f64, budget_us),
        );
    }
    line(
        &mut out,
        "peak memory",
        kib(report.peak_memory),
        kib(limits.memory_bytes),
        verdict(report.peak_memory as f64, limits.memory_bytes as f64),
    );
    line(
        &mut out,
        "output",
        kib(report.output_bytes),
        kib(limits.output_bytes),
        verdict(report.output_bytes as f64, limits.output_bytes as f64),
    );
    line(&mut out, "log", kib(log_bytes(report)), kib(limits.log_bytes), "ok");
    if let Some(pricing) = &report.pricing {
        let _ = writeln!(
            out,
            "\n{} line items, subtotal {} {}",
            pricing.line_items.len(),
            pricing.subtotal,
            pricing.currency
        );
        for item in &pricing.line_items {
            let _ = writeln!(
                out,
                "  {:>10} × {:>10} = {:>10}  {}",
                item.quantity, item.unit_price, item.total, item.description
            );
        }
    }
    if !report.log.is_empty() {
        let _ = writeln!(out, "\nlog:");
        for entry in &report.log {
            let _ = writeln!(out, "  {entry}");
        }
    }
    out
}

fn kib(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
