// Diagnostics kept with the run (the host's bounded log). Inside the component the
// `winfactor:pricing/log` import is handed over with `useHostLog`; natively they go to
// stderr.

let write = (level, message) => console.error(`[${level}] ${message}`);

/** Sends the log to the host's `log` import (the plugin's entry module does this). */
export function useHostLog(log) {
  write = log;
}

/** Records a debug message. */
export const debug = (message) => write('debug', message);
/** Records an informational message. */
export const info = (message) => write('info', message);
/** Records a warning. */
export const warn = (message) => write('warn', message);
/** Records an error. */
export const error = (message) => write('error', message);
