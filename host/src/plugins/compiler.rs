//! Compiling an upload in a worker process, under limits the service cannot impose on
//! itself: cranelift cannot be interrupted, and what a compilation allocates stays with the
//! process that allocated it. The worker is the service's own binary
//! (`winfactor plugin compile-worker`): it reads the component from stdin, writes
//! wasmtime's artifact to stdout and exits. The service watches its peak resident memory
//! (Linux `/proc`, every few milliseconds) and kills it past the memory or the time limit;
//! the component is then `failed` with the reason, and the memory it took returns to the
//! system. (An address-space limit would not do: allocators and wasmtime reserve far more
//! address space than they use, so it refuses small components at random.)

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::host::codegen_config;

/// How the service starts a compile worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompilerCommand {
    /// The executable (the `winfactor` binary itself).
    pub program: PathBuf,
    /// Arguments selecting the worker (`plugin compile-worker`).
    pub args: Vec<String>,
}

impl CompilerCommand {
    /// This process's own binary as the worker: what `winfactor serve` uses.
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
            args: vec!["plugin".into(), "compile-worker".into()],
        })
    }
}

/// Exit code of a worker that failed to compile (the reason is on stderr).
const COMPILE_FAILED: u8 = 2;
/// Most of the worker's stderr kept as the reason.
const REASON_BYTES: usize = 4096;
/// How often the worker's peak memory is read.
const MEMORY_POLL: Duration = Duration::from_millis(5);

/// The worker's side: reads the component from stdin and writes the compiled artifact to
/// stdout. Compiles on one thread, so a compilation never takes more than one core from
/// live pricing.
pub fn compile_worker() -> ExitCode {
    match compile_stdin() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err:#}");
            ExitCode::from(COMPILE_FAILED)
        }
    }
}

fn compile_stdin() -> anyhow::Result<()> {
    let mut wasm = Vec::new();
    std::io::stdin().lock().read_to_end(&mut wasm)?;
    let mut config = codegen_config();
    config.parallel_compilation(false);
    let artifact = wasmtime::Engine::new(&config)?.precompile_component(&wasm)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&artifact)?;
    stdout.flush()?;
    Ok(())
}

/// How a worker run ended.
enum Ended {
    /// It exited: its stdout, the start of its stderr, and its status.
    Exited(std::io::Result<(Vec<u8>, Vec<u8>)>, std::io::Result<std::process::ExitStatus>),
    /// It outlived the time limit.
    TimedOut,
    /// Its peak resident memory passed the limit.
    OutOfMemory,
}

/// Compiles `wasm` in a worker started by `command`, within `timeout` and `memory_bytes`
/// of resident memory; the artifact, or why it failed.
pub async fn compile_in_worker(
    command: &CompilerCommand,
    wasm: Vec<u8>,
    timeout: Duration,
    memory_bytes: usize,
) -> Result<Vec<u8>, String> {
    let mut child = tokio::process::Command::new(&command.program)
        .args(&command.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("cannot start the compile worker: {err}"))?;
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let feed = async move {
        // A worker that dies early closes its stdin: its exit status says why.
        let _ = stdin.write_all(&wasm).await;
    };
    let collect = async {
        let mut artifact = Vec::new();
        let mut reason = Vec::new();
        let mut first_of_stderr = (&mut stderr).take(REASON_BYTES as u64);
        let (read_out, read_err) = tokio::join!(
            stdout.read_to_end(&mut artifact),
            first_of_stderr.read_to_end(&mut reason),
        );
        read_out.and(read_err).map(|_| (artifact, reason))
    };
    let watch_memory = async {
        loop {
            tokio::time::sleep(MEMORY_POLL).await;
            if pid.and_then(peak_resident_bytes).is_some_and(|peak| peak > memory_bytes as u64) {
                return;
            }
        }
    };
    let ended = tokio::select! {
        ((), collected, status) = async { tokio::join!(feed, collect, child.wait()) } => {
            Ended::Exited(collected, status)
        }
        () = tokio::time::sleep(timeout) => Ended::TimedOut,
        () = watch_memory => Ended::OutOfMemory,
    };
    let (collected, status) = match ended {
        Ended::Exited(collected, status) => (collected, status),
        Ended::TimedOut => {
            let _ = child.kill().await;
            return Err(format!(
                "compilation took longer than the limit of {} s",
                timeout.as_secs()
            ));
        }
        Ended::OutOfMemory => {
            let _ = child.kill().await;
            return Err(format!(
                "compilation needed more than the limit of {} MiB of memory",
                memory_bytes >> 20
            ));
        }
    };
    let (artifact, reason) = collected.map_err(|err| format!("compile worker: {err}"))?;
    let status = status.map_err(|err| format!("compile worker: {err}"))?;
    if status.success() {
        return Ok(artifact);
    }
    let reason = String::from_utf8_lossy(&reason);
    let reason = reason.trim();
    Err(if reason.is_empty() {
        format!("compilation failed ({status})")
    } else {
        reason.to_owned()
    })
}

/// The peak resident memory of process `pid` (`VmHWM` in `/proc/PID/status`), if readable.
fn peak_resident_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
