//! Diagnostics kept with the run (see `GET /api/v1/pricing-plugins/{id}/runs` and the
//! dry-run answer). In Wasm they go to the host's bounded log; natively to stderr.

#[cfg(target_arch = "wasm32")]
fn write(level: crate::__bindings::winfactor::pricing::log::Level, message: &str) {
    crate::__bindings::winfactor::pricing::log::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
fn write(level: crate::__bindings::winfactor::pricing::log::Level, message: &str) {
    use crate::__bindings::winfactor::pricing::log::Level;
    let level = match level {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    };
    eprintln!("[{level}] {message}");
}

/// Records a debug message.
pub fn debug(message: &str) {
    write(crate::__bindings::winfactor::pricing::log::Level::Debug, message);
}

/// Records an informational message.
pub fn info(message: &str) {
    write(crate::__bindings::winfactor::pricing::log::Level::Info, message);
}

/// Records a warning.
pub fn warn(message: &str) {
    write(crate::__bindings::winfactor::pricing::log::Level::Warn, message);
}

/// Records an error.
pub fn error(message: &str) {
    write(crate::__bindings::winfactor::pricing::log::Level::Error, message);
}
