//! The service's plugin compile worker for the test suites: what `winfactor plugin
//! compile-worker` runs in production, built with the suites so the servers they start
//! compile uploads in a worker process of the code under test.

fn main() -> std::process::ExitCode {
    winfactor::plugins::compile_worker()
}
