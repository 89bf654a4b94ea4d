//! What the layers above keep per store: one value per type, created on first use and
//! shared by every clone of the [`Store`](super::Store) and by its transactions (say, the
//! outbox's wake-up signal and its read caches). The store knows them only as
//! [`Attachment`]s.

use std::any::Any;
use std::sync::{Arc, RwLock};

use super::{Store, Tx};

/// A value kept per store, see [`Store::attached`](super::Store::attached).
pub trait Attachment: Default + Send + Sync + 'static {
    /// Forgets what it read through the store's cache: runs with every clear of that cache
    /// (see [`super::cache`]), so its kinds are invalidated like the store's own.
    fn clear_cache(&self) {}
}

/// The attachments of one store.
#[derive(Default)]
pub(super) struct Attachments(RwLock<Vec<Entry>>);

struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    /// [`Attachment::clear_cache`] of `value`.
    clear_cache: fn(&(dyn Any + Send + Sync)),
}

impl std::fmt::Debug for Attachments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachments").finish_non_exhaustive()
    }
}

impl Attachments {
    /// The `T` of this store, created on first use.
    pub(super) fn get<T: Attachment>(&self) -> Arc<T> {
        if let Some(found) = find(&self.0.read().expect("attachments")) {
            return found;
        }
        let mut entries = self.0.write().expect("attachments");
        if let Some(found) = find(&entries) {
            return found;
        }
        let value = Arc::new(T::default());
        entries.push(Entry {
            value: value.clone(),
            clear_cache: |value| {
                if let Some(value) = value.downcast_ref::<T>() {
                    value.clear_cache();
                }
            },
        });
        value
    }

    /// Runs every attachment's [`Attachment::clear_cache`].
    pub(super) fn clear_caches(&self) {
        for entry in self.0.read().expect("attachments").iter() {
            (entry.clear_cache)(&*entry.value);
        }
    }
}

fn find<T: Attachment>(entries: &[Entry]) -> Option<Arc<T>> {
    let entry = entries.iter().find(|entry| entry.value.is::<T>())?;
    entry.value.clone().downcast::<T>().ok()
}

impl Store {
    /// This store's `T`, created on first use and shared by every clone of the store and by
    /// its transactions: state a layer above keeps per store (see [`Attachment`]).
    pub fn attached<T: Attachment>(&self) -> Arc<T> {
        self.attached.get()
    }
}

impl Tx {
    /// The store's `T` (see [`Store::attached`]).
    pub fn attached<T: Attachment>(&self) -> Arc<T> {
        self.attached.get()
    }
}
