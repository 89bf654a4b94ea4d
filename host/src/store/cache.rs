//! A per-process read cache of the rarely changing rows that every live price reads
//! (organisations, templates, active plugins), and the mechanism the layers above read
//! their own such rows through (who subscribes to which event type, the endpoints every
//! delivery claim reads: kinds kept in their [`Attachment`](super::Attachment)s).
//!
//! Every write of those rows through this [`Store`](super::Store) clears the cache once it
//! has committed ([`Store::clear_cache`](super::Store::clear_cache): every kind, the
//! attachments' too), so this process always reads its own writes. On Postgres the clear is
//! announced on the [bus](super::bus): every other replica clears its cache within
//! milliseconds, before the next request that reads it in practice. A change the bus cannot
//! carry (a CLI run against an SQLite file the service uses, a notification lost while a
//! replica's listening connection was down — it clears everything on reconnect) is seen
//! once the entry expires, after at most [`TTL`].
//!
//! A load racing a write never leaves a stale entry behind: a global generation counter is
//! bumped by every clear, and a load that saw it move drops what it inserted.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::sync::Cache;

use crate::catalog::Template;
use crate::orgs::Org;
use crate::store::{PluginVersion, Store};

/// How long an entry is trusted without a write of this process clearing it.
pub const TTL: Duration = Duration::from_secs(1);
/// Entries kept per kind (organisations, templates, …): the hot set of a large deployment;
/// a template is a few kilobytes of parsed definition.
const CAPACITY: u64 = 2_000;

/// The cached kinds; `Option` values remember "not found" too.
pub(super) struct ReadCache {
    generation: AtomicU64,
    /// Organisations by id.
    pub(super) orgs: Cache<String, Option<Org>>,
    /// Organisations by slug.
    pub(super) orgs_by_slug: Cache<String, Option<Org>>,
    /// Current templates by (org id, id or slug).
    pub(super) templates: Cache<(String, String), Option<Template>>,
    /// Template versions by (org id, template id, version): never change once written.
    pub(super) template_versions: Cache<(String, String, i64), Option<Template>>,
    /// Active plugin version by org id.
    pub(super) active_plugins: Cache<String, Option<PluginVersion>>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache").field("generation", &self.generation).finish_non_exhaustive()
    }
}

/// An empty cache of one kind, bounded and expiring like every other: for the kinds an
/// attachment reads through [`Store::cached`](super::Store::cached).
pub fn kind<K, V>() -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder().max_capacity(CAPACITY).time_to_live(TTL).build()
}

impl Default for ReadCache {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            orgs: kind(),
            orgs_by_slug: kind(),
            templates: kind(),
            template_versions: kind(),
            active_plugins: kind(),
        }
    }
}

impl ReadCache {
    /// The cached value of `key`, else what `load` reads (kept unless a write intervened).
    pub(super) async fn get<K, V, F>(
        &self,
        cache: &Cache<K, V>,
        key: K,
        load: F,
    ) -> anyhow::Result<V>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        F: Future<Output = anyhow::Result<V>>,
    {
        if let Some(value) = cache.get(&key) {
            return Ok(value);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let value = load.await?;
        self.keep(cache, std::iter::once((&key, &value)), generation);
        Ok(value)
    }

    /// The cached values of `keys`, the missing ones read with one call of `load`, which
    /// answers for every key it is given (each kept unless a write intervened).
    pub(super) async fn get_many<K, V, F, L>(
        &self,
        cache: &Cache<K, V>,
        keys: &[K],
        load: L,
    ) -> anyhow::Result<HashMap<K, V>>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        L: FnOnce(Vec<K>) -> F,
        F: Future<Output = anyhow::Result<HashMap<K, V>>>,
    {
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match cache.get(key) {
                Some(value) => _ = found.insert(key.clone(), value),
                None => missing.push(key.clone()),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let loaded = load(missing).await?;
        self.keep(cache, loaded.iter(), generation);
        found.extend(loaded);
        Ok(found)
    }

    /// Caches what was loaded while the cache stood at `generation`, unless a write cleared
    /// it meanwhile (the rows may be stale then).
    fn keep<'a, K, V>(
        &self,
        cache: &Cache<K, V>,
        loaded: impl Iterator<Item = (&'a K, &'a V)> + Clone,
        generation: u64,
    ) where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        loaded.clone().for_each(|(key, value)| cache.insert(key.clone(), value.clone()));
        // A write that cleared between the check and the inserts: drop what may be stale.
        if self.generation.load(Ordering::Acquire) != generation {
            loaded.for_each(|(key, _)| cache.invalidate(key));
        }
    }

    /// Forgets everything; called after every committed write of a cached kind.
    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.orgs.invalidate_all();
        self.orgs_by_slug.invalidate_all();
        self.templates.invalidate_all();
        self.template_versions.invalidate_all();
        self.active_plugins.invalidate_all();
    }
}

impl Store {
    /// The cached value of `key` in `kind` (a [`kind`] an attachment keeps), else
    /// what `load` reads; cleared with the store's own kinds.
    pub(crate) async fn cached<K, V, F>(
        &self,
        kind: &Cache<K, V>,
        key: K,
        load: F,
    ) -> anyhow::Result<V>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        F: Future<Output = anyhow::Result<V>>,
    {
        self.cache.get(kind, key, load).await
    }

    /// [`Store::cached`] for many keys, the missing ones read with one call of `load`.
    pub(crate) async fn cached_many<K, V, F, L>(
        &self,
        kind: &Cache<K, V>,
        keys: &[K],
        load: L,
    ) -> anyhow::Result<HashMap<K, V>>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        L: FnOnce(Vec<K>) -> F,
        F: Future<Output = anyhow::Result<HashMap<K, V>>>,
    {
        self.cache.get_many(kind, keys, load).await
    }

    /// Forgets every cached row, the attachments' too, here and (announced on the bus) in
    /// every other process on this database: after every committed write of a cached kind.
    /// The write has committed whatever happens: a failed announcement is logged, and the
    /// other processes see the change once their entries expire.
    pub(crate) async fn clear_cache(&self) {
        self.clear_local_cache();
        if let Err(err) = self.announce(super::Topic::Cache, "").await {
            tracing::warn!(error = %err, "announcing a cache change failed");
        }
    }

    /// Forgets every cached row of this process, the attachments' too.
    pub(super) fn clear_local_cache(&self) {
        self.cache.clear();
        self.attached.clear_caches();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_load_that_races_a_write_is_not_kept() {
        let cache = ReadCache::default();
        let key = || "org_1".to_owned();
        let racing = async {
            cache.clear(); // a write commits while the row is being read
            Ok(None)
        };
        cache.get(&cache.active_plugins, key(), racing).await.unwrap();
        assert!(cache.active_plugins.get(&key()).is_none(), "a possibly stale load was kept");

        cache.get(&cache.active_plugins, key(), async { Ok(None) }).await.unwrap();
        assert!(matches!(cache.active_plugins.get(&key()), Some(None)), "a quiet load is kept");
        let unused = async { anyhow::bail!("a cached value is not read again") };
        cache.get(&cache.active_plugins, key(), unused).await.unwrap();

        cache.clear();
        assert!(cache.active_plugins.get(&key()).is_none(), "a write clears the cache");
    }

    #[tokio::test]
    async fn a_batch_loads_only_what_is_missing_and_not_across_a_write() {
        let cache = ReadCache::default();
        let endpoints: Cache<String, Option<()>> = kind();
        let keys = ["whe_1".to_owned(), "whe_2".to_owned()];
        let absent = |missing: Vec<String>| async move {
            Ok(missing.into_iter().map(|key| (key, None)).collect())
        };
        let racing = |missing: Vec<String>| async {
            cache.clear(); // a write commits while the rows are being read
            absent(missing).await
        };
        let found = cache.get_many(&endpoints, &keys, racing).await.unwrap();
        assert_eq!(found.len(), 2, "every key is answered");
        assert!(endpoints.get(&keys[0]).is_none(), "a possibly stale load was kept");

        cache.get_many(&endpoints, &keys[..1], absent).await.unwrap();
        let asked = std::sync::Mutex::new(Vec::new());
        let recording = |missing: Vec<String>| {
            asked.lock().unwrap().extend(missing.clone());
            absent(missing)
        };
        let found = cache.get_many(&endpoints, &keys, recording).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(*asked.lock().unwrap(), vec![keys[1].clone()], "only the missing key is read");
    }
}
