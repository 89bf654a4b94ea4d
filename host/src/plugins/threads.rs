//! The threads plugin runs execute on: a runtime of their own, so a run computing until its
//! deadline (it yields at every epoch tick) never sits in front of the HTTP workers' tasks,
//! and the operating system shares the cores between serving and plugins.

use std::future::Future;

use tokio::runtime::Runtime;

/// The run threads. Stopping it (dropping) ends every run still in flight.
pub struct RunThreads {
    runtime: Option<Runtime>,
}

impl RunThreads {
    /// `threads` worker threads named `wasm-run`; with 0, runs execute on the caller's
    /// runtime.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        if threads == 0 {
            return Ok(Self { runtime: None });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("wasm-run")
            .enable_time()
            .build()?;
        Ok(Self { runtime: Some(runtime) })
    }

    /// Runs `future` on the run threads; `None` if it panicked or the threads stopped.
    pub async fn run<F>(&self, future: F) -> Option<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.runtime.as_ref() {
            Some(runtime) => runtime.spawn(future).await.ok(),
            None => Some(future.await),
        }
    }
}

impl Drop for RunThreads {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
