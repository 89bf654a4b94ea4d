//! The epoch ticker: one thread advances the engine's epoch every [`TICK`] (the granularity
//! of run deadlines) while runs are in flight, and for [`IDLE_TICKS`] after the last one
//! started, then parks until the next run. A service with no active plugin, or between
//! bursts of live prices, has no thread waking a thousand times a second; a steady stream
//! of runs never waits for the ticker to wake.
//!
//! Parking must never strand a run: a parked ticker leaves the epoch still, and a run's
//! deadline would never come. The ticker announces that it parks *before* it looks at the
//! count of runs in flight; a run counts itself *before* it looks whether the ticker parks
//! (both sequentially consistent), so at least one of them sees the other: either the
//! ticker sees the run and keeps ticking, or the run sees the ticker parking and wakes it.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use wasmtime::Engine;

/// Epoch tick: the granularity of run deadlines.
pub const TICK: Duration = Duration::from_millis(1);
/// Ticks without a new run before the ticker parks.
const IDLE_TICKS: u32 = 1_000;

/// Keeps the epoch moving while runs need it; the thread ends when this is dropped.
pub struct EpochTicker {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Runs in flight.
    running: AtomicUsize,
    /// Runs started so far (the ticker notices new ones between ticks).
    started: AtomicU64,
    /// The ticker parks (or is about to).
    parked: AtomicBool,
    /// The owner is gone: the thread ends.
    stopped: AtomicBool,
    /// Held by the ticker from its check until it waits, and by whoever wakes it, so a
    /// notification cannot fall between the two.
    lock: Mutex<()>,
    wake: Condvar,
}

/// A run in flight; the ticker may park once every guard is dropped.
pub struct Ticking {
    shared: Arc<Shared>,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`.
    pub fn start(engine: &Engine) -> Self {
        let shared = Arc::new(Shared::default());
        let ticker = shared.clone();
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                // Parks at once: no run yet.
                let (mut seen, mut idle) = (0, IDLE_TICKS);
                while !ticker.stopped.load(SeqCst)
                    && let Some(engine) = weak.upgrade()
                {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                    let started = ticker.started.load(SeqCst);
                    idle = if started == seen { idle + 1 } else { 0 };
                    seen = started;
                    if idle >= IDLE_TICKS {
                        ticker.park();
                        idle = 0;
                    }
                }
            })
            .expect("spawn the epoch ticker");
        Self { shared }
    }

    /// Marks a run in flight until the guard drops; wakes the ticker if it parks.
    pub fn run(&self) -> Ticking {
        let shared = &self.shared;
        shared.running.fetch_add(1, SeqCst);
        shared.started.fetch_add(1, SeqCst);
        if shared.parked.load(SeqCst) {
            shared.wake();
        }
        Ticking { shared: shared.clone() }
    }
}

impl Shared {
    /// Waits until a run is in flight (or the owner is gone).
    fn park(&self) {
        let guard = self.lock.lock().expect("epoch ticker lock");
        self.parked.store(true, SeqCst);
        let guard = self
            .wake
            .wait_while(guard, |_| self.running.load(SeqCst) == 0 && !self.stopped.load(SeqCst))
            .expect("epoch ticker lock");
        self.parked.store(false, SeqCst);
        drop(guard);
    }

    fn wake(&self) {
        let _guard = self.lock.lock().expect("epoch ticker lock");
        self.wake.notify_one();
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.stopped.store(true, SeqCst);
        self.shared.wake();
    }
}

impl Drop for Ticking {
    fn drop(&mut self) {
        self.shared.running.fetch_sub(1, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that starts while the ticker is parked still reaches its deadline: the
    /// ticker wakes and the epoch moves on.
    #[test]
    fn a_run_wakes_a_parked_ticker() {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).unwrap();
        let ticker = EpochTicker::start(&engine);
        // It parks at once: no run yet.
        let waiting = std::time::Instant::now();
        while !ticker.shared.parked.load(SeqCst) {
            assert!(waiting.elapsed() < Duration::from_secs(10), "the idle ticker never parked");
            std::thread::sleep(Duration::from_millis(10));
        }
        let run = ticker.run();
        let (done, finished) = std::sync::mpsc::channel();
        let spinning = engine.clone();
        std::thread::spawn(move || {
            let mut store = wasmtime::Store::new(&spinning, ());
            store.set_epoch_deadline(5);
            store.epoch_deadline_trap();
            let spin = "(module (func (export \"spin\") (loop (br 0))))";
            let module = wasmtime::Module::new(&spinning, spin).unwrap();
            let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
            let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
            let err = spin.call(&mut store, ()).unwrap_err();
            done.send(err.downcast_ref::<wasmtime::Trap>().copied()).unwrap();
        });
        let trap = finished.recv_timeout(Duration::from_secs(10));
        assert_eq!(trap, Ok(Some(wasmtime::Trap::Interrupt)), "the deadline interrupted the run");
        assert!(!ticker.shared.parked.load(SeqCst), "the ticker woke for the run");
        drop(run);
    }
}
