//! Input hygiene: text Postgres cannot store (U+0000) never fails a write. Text of other
//! parties is stored with it replaced.

use winfactor::store::PluginRun;
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(a_plugins_nul_is_stored_replaced_in_its_run_log);

/// A plugin's log and error are the organisation's code's text: a NUL in them is stored
/// replaced, and the batch with it (other organisations' runs included) is recorded.
async fn a_plugins_nul_is_stored_replaced_in_its_run_log(backend: Backend) {
    let app = TestApp::start(backend).await;
    let run = |id: &str, org: &str, log: &str, error: Option<&str>| {
        let run = PluginRun {
            id: id.into(),
            plugin_id: "plg_hygiene".into(),
            session_id: None,
            context: "dry-run".into(),
            outcome: "plugin_error".into(),
            error: error.map(Into::into),
            origin: Some("warm".into()),
            duration_us: 10,
            peak_memory_bytes: 65_536,
            output_bytes: 0,
            log: vec![log.into()],
            created_at: 1,
        };
        (org.to_owned(), run)
    };
    let (ours, theirs) = (&app.seeded.org.id, &app.seeded.rival.id);
    let runs = [
        run("prun_1", ours, "said \0 this", Some("failed\0")),
        run("prun_2", theirs, "clean", None),
    ];
    app.store.insert_plugin_runs(&runs).await.expect("the batch is recorded");
    let stored = app.store.plugin_runs(ours, "plg_hygiene", 10).await.unwrap();
    assert_eq!(stored[0].log, ["said \u{FFFD} this"]);
    assert_eq!(stored[0].error.as_deref(), Some("failed\u{FFFD}"));
    assert_eq!(app.store.plugin_runs(theirs, "plg_hygiene", 10).await.unwrap().len(), 1);
}
