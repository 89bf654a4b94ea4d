//! Pricing plugin versions (with their component bytes), the org's active version,
//! precompiled-artifact digests, and recent runs.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::text::storable;
use super::{Commit, Store, id_list};
use crate::clock::now_ms;
use crate::ids::new_id;

/// Runs kept per plugin version (older ones are pruned every few seconds).
pub const RUNS_KEPT: i64 = 200;

/// One uploaded version of a plugin.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginVersion {
    /// `plg_…`
    pub id: String,
    /// The plugin's name; versions of the same name count up.
    pub name: String,
    /// 1, 2, … per name.
    pub version: i64,
    /// SHA-256 of the component bytes (hex).
    pub sha256: String,
    /// Size of the component.
    pub size_bytes: i64,
    /// Where it is in its life: `queued`, `compiling`, `ready` or `failed`.
    pub status: PluginStatus,
    /// While `queued`: 1 if it compiles next, 2 after that, … (on the replica that took the
    /// upload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<usize>,
    /// Why compilation failed.
    pub error: Option<String>,
    /// The plugin's settings, passed to every run.
    #[schema(value_type = Object)]
    pub settings: Value,
    /// Interfaces the component imports.
    pub imports: Vec<String>,
    /// How long compilation took.
    pub compile_ms: Option<i64>,
    /// Whether this is the org's active version.
    pub active: bool,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

/// A new version to store.
#[derive(Debug)]
pub struct NewPluginVersion<'a> {
    /// The plugin's name.
    pub name: &'a str,
    /// SHA-256 of `wasm`.
    pub sha256: &'a str,
    /// The component.
    pub wasm: &'a [u8],
    /// Its imports, from the upload check.
    pub imports: &'a [String],
    /// Settings JSON.
    pub settings: &'a Value,
}

/// Where a plugin version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginStatus {
    /// Waiting in the compile queue.
    Queued,
    /// Being compiled.
    Compiling,
    /// Compiled: it can be activated and run.
    Ready,
    /// Compilation failed (`error` says why).
    Failed,
}

impl PluginStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Compiling => "compiling",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Compiling, Self::Ready, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

impl std::fmt::Display for PluginStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an upload does not fit the organisation's storage limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageRefusal {
    /// It already stores `stored` versions, the most it may.
    Versions {
        /// Versions stored.
        stored: i64,
        /// The limit.
        limit: u32,
    },
    /// The upload's bytes would take it past its limit.
    Bytes {
        /// Component bytes stored, all versions together.
        stored: i64,
        /// The upload's size.
        upload: i64,
        /// The limit.
        limit: u64,
    },
}

impl std::fmt::Display for StorageRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Versions { stored, limit } => write!(
                f,
                "the organisation stores {stored} plugin versions, the most it may ({limit}): \
                 delete old versions to make room"
            ),
            Self::Bytes { stored, upload, limit } => write!(
                f,
                "the organisation stores {stored} bytes of plugin versions; with this upload \
                 ({upload} bytes) it would pass its limit of {limit}: delete old versions to \
                 make room"
            ),
        }
    }
}

/// One recorded run.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginRun {
    /// `prun_…`
    pub id: String,
    /// The version that ran.
    pub plugin_id: String,
    /// The session priced (none for dry-runs of a payload).
    pub session_id: Option<String>,
    /// `live`, `submission`, `autofill` or `dry-run`.
    pub context: String,
    /// `ok`, `plugin_error`, `invalid_output`, `timeout`, `memory_limit`, `trap`, `busy`,
    /// `unavailable`.
    pub outcome: String,
    /// What went wrong.
    pub error: Option<String>,
    /// `warm`, `precompiled` (loaded from the disk cache) or `compiled`.
    pub origin: Option<String>,
    /// Instantiation plus call, µs.
    pub duration_us: i64,
    /// Largest linear memory reached.
    pub peak_memory_bytes: i64,
    /// Output size counted against the cap.
    pub output_bytes: i64,
    /// The run's log.
    pub log: Vec<String>,
    /// Epoch ms.
    pub created_at: i64,
}

const COLUMNS: &str = "p.id, p.name, p.version, p.sha256, p.size_bytes, p.status, p.error, \
    p.settings, p.imports, p.compile_ms, p.created_at, p.updated_at, \
    CAST(CASE WHEN o.active_plugin_id = p.id THEN 1 ELSE 0 END AS BIGINT) AS active";

fn version_from_row(row: &AnyRow) -> anyhow::Result<PluginVersion> {
    let settings: String = row.try_get("settings")?;
    let imports: String = row.try_get("imports")?;
    Ok(PluginVersion {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        sha256: row.try_get("sha256")?,
        size_bytes: row.try_get("size_bytes")?,
        status: super::parse_stored(
            &row.try_get::<String, _>("status")?,
            PluginStatus::parse,
            "plugin status",
        )?,
        queue_position: None,
        error: row.try_get("error")?,
        settings: serde_json::from_str(&settings)?,
        imports: serde_json::from_str(&imports)?,
        compile_ms: row.try_get("compile_ms")?,
        active: row.try_get::<i64, _>("active")? == 1,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn run_from_row(row: &AnyRow) -> anyhow::Result<PluginRun> {
    let log: String = row.try_get("log")?;
    Ok(PluginRun {
        id: row.try_get("id")?,
        plugin_id: row.try_get("plugin_id")?,
        session_id: row.try_get("session_id")?,
        context: row.try_get("context")?,
        outcome: row.try_get("outcome")?,
        error: row.try_get("error")?,
        origin: row.try_get("origin")?,
        duration_us: row.try_get("duration_us")?,
        peak_memory_bytes: row.try_get("peak_memory_bytes")?,
        output_bytes: row.try_get("output_bytes")?,
        log: serde_json::from_str(&log)?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Stores a new version (`queued`), numbered after the org's last of that name — unless
    /// the org would then store more than `max_versions` versions or `max_bytes` of
    /// components. The check and the insert hold the org's row, so concurrent uploads
    /// cannot both pass it.
    pub async fn insert_plugin_version(
        &self,
        org_id: &str,
        new: &NewPluginVersion<'_>,
        max_versions: u32,
        max_bytes: u64,
    ) -> anyhow::Result<Result<PluginVersion, StorageRefusal>> {
        let id = new_id("plg");
        let now = now_ms();
        let size = new.wasm.len() as i64;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE orgs SET active_plugin_id = active_plugin_id WHERE id = $1")
            .bind(org_id)
            .execute(tx.conn())
            .await?;
        let usage = sqlx::query(
            "SELECT COUNT(*) AS versions, CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) AS bytes \
             FROM pricing_plugins WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_one(tx.conn())
        .await?;
        let (stored, bytes): (i64, i64) = (usage.try_get("versions")?, usage.try_get("bytes")?);
        if stored >= i64::from(max_versions) {
            return Ok(Err(StorageRefusal::Versions { stored, limit: max_versions }));
        }
        if (bytes + size) as u64 > max_bytes {
            return Ok(Err(StorageRefusal::Bytes {
                stored: bytes,
                upload: size,
                limit: max_bytes,
            }));
        }
        sqlx::query(
            "INSERT INTO pricing_plugins (id, org_id, name, version, sha256, size_bytes, wasm, \
             imports, settings, status, created_at, updated_at) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(version), 0) + 1 FROM pricing_plugins \
             WHERE org_id = $2 AND name = $3), $4, $5, $6, $7, $8, 'queued', $9, $9)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(new.name)
        .bind(new.sha256)
        .bind(size)
        .bind(new.wasm.to_vec())
        .bind(serde_json::to_string(new.imports)?)
        .bind(serde_json::to_string(new.settings)?)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        let version = self.plugin_version(org_id, &id).await?;
        Ok(Ok(version.ok_or_else(|| anyhow::anyhow!("plugin vanished"))?))
    }

    /// A version of the org's.
    pub async fn plugin_version(
        &self,
        org_id: &str,
        id: &str,
    ) -> anyhow::Result<Option<PluginVersion>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pricing_plugins p JOIN orgs o ON o.id = p.org_id \
             WHERE p.org_id = $1 AND p.id = $2"
        );
        let row = sqlx::query(&sql).bind(org_id).bind(id).fetch_optional(&self.reader).await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// The org's versions, newest first.
    pub async fn plugin_versions(&self, org_id: &str) -> anyhow::Result<Vec<PluginVersion>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pricing_plugins p JOIN orgs o ON o.id = p.org_id \
             WHERE p.org_id = $1 ORDER BY p.created_at DESC, p.id DESC"
        );
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.reader).await?;
        rows.iter().map(version_from_row).collect()
    }

    /// The org's active version, if any (cached, see [`super::cache`]).
    pub async fn active_plugin(&self, org_id: &str) -> anyhow::Result<Option<PluginVersion>> {
        let load = async {
            let sql = format!(
                "SELECT {COLUMNS} FROM pricing_plugins p JOIN orgs o ON o.active_plugin_id = p.id \
                 WHERE o.id = $1"
            );
            let row = sqlx::query(&sql).bind(org_id).fetch_optional(&self.reader).await?;
            row.as_ref().map(version_from_row).transpose()
        };
        self.cache.get(&self.cache.active_plugins, org_id.to_owned(), load).await
    }

    /// `(org id, version id, sha256)` of every version not yet compiled (to resume after a
    /// restart), oldest first.
    pub async fn uncompiled_plugins(&self) -> anyhow::Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT org_id, id, sha256 FROM pricing_plugins \
             WHERE status IN ('queued', 'compiling') ORDER BY created_at, id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("org_id")?, row.try_get("id")?, row.try_get("sha256")?)))
            .collect()
    }

    /// Marks a queued version `compiling`.
    pub async fn start_plugin_compile(&self, id: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE pricing_plugins SET status = 'compiling', updated_at = $1 \
             WHERE id = $2 AND status = 'queued'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The component bytes of a version.
    pub async fn plugin_wasm(&self, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT wasm FROM pricing_plugins WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(|row| row.try_get("wasm")).transpose()?)
    }

    /// Records how compilation ended.
    pub async fn finish_plugin_compile(
        &self,
        id: &str,
        result: Result<i64, &str>,
    ) -> anyhow::Result<()> {
        // The reason is the compiler's text about an upload: stored storable.
        let (status, compile_ms, error) = match result {
            Ok(ms) => ("ready", Some(ms), None),
            Err(why) => ("failed", None, Some(super::text::storable(why).into_owned())),
        };
        sqlx::query(
            "UPDATE pricing_plugins SET status = $1, compile_ms = $2, error = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(status)
        .bind(compile_ms)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.writer)
        .await?;
        self.clear_cache().await;
        Ok(())
    }

    /// Replaces a version's settings.
    pub async fn set_plugin_settings(
        &self,
        org_id: &str,
        id: &str,
        settings: &Value,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE pricing_plugins SET settings = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(serde_json::to_string(settings)?)
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        self.clear_cache().await;
        Ok(done.rows_affected() == 1)
    }

    /// Makes `id` the org's active version (one statement: atomic); only a `ready` version.
    pub async fn activate_plugin(&self, org_id: &str, id: &str) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE orgs SET active_plugin_id = $1 WHERE id = $2 AND EXISTS \
             (SELECT 1 FROM pricing_plugins WHERE id = $1 AND org_id = $2 AND status = 'ready')",
        )
        .bind(id)
        .bind(org_id)
        .execute(&self.writer)
        .await?;
        self.clear_cache().await;
        Ok(done.rows_affected() == 1)
    }

    /// Switches the org back to no plugin.
    pub async fn deactivate_plugin(&self, org_id: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE orgs SET active_plugin_id = NULL WHERE id = $1")
            .bind(org_id)
            .execute(&self.writer)
            .await?;
        self.clear_cache().await;
        Ok(())
    }

    /// Deletes a version that is not active, with its runs; false if active or unknown.
    pub async fn delete_plugin_version(&self, org_id: &str, id: &str) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "DELETE FROM pricing_plugins WHERE org_id = $1 AND id = $2 AND NOT EXISTS \
             (SELECT 1 FROM orgs WHERE id = $1 AND active_plugin_id = $2)",
        )
        .bind(org_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 1 {
            sqlx::query("DELETE FROM plugin_runs WHERE plugin_id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// The recorded digest of a precompiled artifact.
    pub async fn artifact_digest(&self, cache_key: &str) -> anyhow::Result<Option<String>> {
        let row = sqlx::query("SELECT sha256 FROM plugin_artifacts WHERE cache_key = $1")
            .bind(cache_key)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(|row| row.try_get("sha256")).transpose()?)
    }

    /// Records the digest of an artifact just written.
    pub async fn record_artifact(&self, cache_key: &str, sha256: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO plugin_artifacts (cache_key, sha256, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (cache_key) DO UPDATE SET sha256 = excluded.sha256, created_at = excluded.created_at",
        )
        .bind(cache_key)
        .bind(sha256)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records runs (`(org_id, run)`) in one statement. The run log is diagnostics:
    /// committed without waiting for the disk ([`Commit::Unflushed`]), by a statement whose
    /// text and parameters do not depend on the batch (the runs travel as one JSON array),
    /// so it never holds the writer long in front of a customer's live change.
    pub async fn insert_plugin_runs(&self, runs: &[(String, PluginRun)]) -> anyhow::Result<()> {
        let rows: Vec<serde_json::Value> = runs
            .iter()
            .map(|(org_id, run)| {
                // The error and the log are the plugin's text: kept storable, so one
                // organisation's plugin cannot fail the batch recording everyone's runs.
                let error = run.error.as_deref().map(storable);
                let log: Vec<_> = run.log.iter().map(|line| storable(line)).collect();
                serde_json::json!({
                    "id": run.id, "org_id": org_id, "plugin_id": run.plugin_id,
                    "session_id": run.session_id, "context": run.context, "outcome": run.outcome,
                    "error": error, "origin": run.origin, "duration_us": run.duration_us,
                    "peak_memory_bytes": run.peak_memory_bytes, "output_bytes": run.output_bytes,
                    "log": log, "created_at": run.created_at,
                })
            })
            .collect();
        let insert = format!(
            "INSERT INTO plugin_runs (id, org_id, plugin_id, session_id, context, outcome, error, \
             origin, duration_us, peak_memory_bytes, output_bytes, log, created_at) \
             SELECT value ->> 'id', value ->> 'org_id', value ->> 'plugin_id', \
             value ->> 'session_id', value ->> 'context', value ->> 'outcome', value ->> 'error', \
             value ->> 'origin', CAST(value ->> 'duration_us' AS BIGINT), \
             CAST(value ->> 'peak_memory_bytes' AS BIGINT), CAST(value ->> 'output_bytes' AS BIGINT), \
             value ->> 'log', CAST(value ->> 'created_at' AS BIGINT) FROM {}",
            self.json_elements(1)
        );
        let rows = serde_json::to_string(&rows)?;
        self.atomic(Commit::Unflushed, &[&insert], move |query| query.bind(rows.clone())).await?;
        Ok(())
    }

    /// Deletes all but the newest [`RUNS_KEPT`] runs of each of `plugin_ids`. Ranking a
    /// version's runs costs about a millisecond, so the recorder calls this now and then,
    /// not with every batch.
    pub async fn prune_plugin_runs(&self, plugin_ids: &[String]) -> anyhow::Result<()> {
        let prune = format!(
            "DELETE FROM plugin_runs WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER \
             (PARTITION BY plugin_id ORDER BY created_at DESC, id DESC) AS newer FROM plugin_runs \
             WHERE plugin_id IN ({})) ranked WHERE newer > $2)",
            self.json_ids(1)
        );
        let ids = id_list(plugin_ids.iter().map(String::as_str));
        self.atomic(Commit::Unflushed, &[&prune], move |query| {
            query.bind(ids.clone()).bind(RUNS_KEPT)
        })
        .await?;
        Ok(())
    }

    /// A version's recent runs, newest first.
    pub async fn plugin_runs(
        &self,
        org_id: &str,
        plugin_id: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<PluginRun>> {
        let rows = sqlx::query(
            "SELECT id, plugin_id, session_id, context, outcome, error, origin, duration_us, \
             peak_memory_bytes, output_bytes, log, created_at FROM plugin_runs \
             WHERE org_id = $1 AND plugin_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(org_id)
        .bind(plugin_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(run_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urls::DatabaseUrl;

    fn run(plugin_id: &str, n: i64) -> (String, PluginRun) {
        let run = PluginRun {
            id: crate::ids::new_sortable_id("prun"),
            plugin_id: plugin_id.to_owned(),
            session_id: None,
            context: "live".into(),
            outcome: "ok".into(),
            error: None,
            origin: Some("warm".into()),
            duration_us: 40 + n,
            peak_memory_bytes: 65_536,
            output_bytes: 512,
            log: vec![format!("run {n}")],
            created_at: 1_000 + n,
        };
        ("org_1".to_owned(), run)
    }

    /// Runs of two versions, then a prune: each keeps its newest RUNS_KEPT, fields intact.
    #[tokio::test]
    async fn a_prune_keeps_each_versions_newest_runs() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("runs.db").display());
        let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
        let mut batch: Vec<_> = (0..RUNS_KEPT + 5).map(|n| run("plg_a", n)).collect();
        batch.extend((0..3).map(|n| run("plg_b", n)));
        store.insert_plugin_runs(&batch).await.unwrap();
        store.prune_plugin_runs(&["plg_a".to_owned(), "plg_b".to_owned()]).await.unwrap();

        let kept = store.plugin_runs("org_1", "plg_a", 1_000).await.unwrap();
        assert_eq!(kept.len() as i64, RUNS_KEPT);
        assert_eq!(kept[0].created_at, 1_000 + RUNS_KEPT + 4, "the newest first");
        assert_eq!(kept.last().unwrap().created_at, 1_005, "the 5 oldest pruned");
        assert_eq!(kept[0].log, vec![format!("run {}", RUNS_KEPT + 4)]);
        assert_eq!(kept[0].origin.as_deref(), Some("warm"));
        assert_eq!(store.plugin_runs("org_1", "plg_b", 1_000).await.unwrap().len(), 3);
        store.close().await;
    }
}
