//! Access to the OpenSlides datastore: a shared cache of every key read, filled from a
//! `Source` (PostgreSQL, or memory for the demo) and kept current by the message bus.

mod json;
mod memory;
mod postgres;
pub mod schema;

pub use json::{compact_json, validate_json};
pub use memory::MemorySource;
pub(crate) use postgres::error_chain as postgres_error_chain;
pub use postgres::{PostgresConfig, PostgresSource};

use crate::models::Key;
use bytes::Bytes;
use futures::future::BoxFuture;
use hashbrown::HashMap;
use parking_lot::Mutex;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A value as stored: compact JSON text. `None` means the key has no value (field unset,
/// JSON null, or object missing or deleted).
pub type Value = Option<Bytes>;

/// Reading from the datastore failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DatastoreError {
    #[error("datastore query failed: {0}")]
    Query(String),
    #[error("datastore unavailable: {0}")]
    Unavailable(String),
}

/// The origin of values that are not cached.
pub trait Source: Send + Sync + 'static {
    /// Returns one value per key, in the order of `keys`.
    fn get(&self, keys: Vec<Key>) -> BoxFuture<'static, Result<Vec<Value>, DatastoreError>>;

    /// Checks that the source can be read. Sources in memory always can.
    fn ping(&self) -> BoxFuture<'static, Result<(), DatastoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The first delay before a read inside `wait_for_source` tries the source again.
const RETRY_FIRST: Duration = Duration::from_millis(100);

/// The maximum delay between two tries of a read inside `wait_for_source`.
const RETRY_MAX: Duration = Duration::from_secs(2);

/// The settings of reads inside `wait_for_source` that wait while the source is
/// unavailable.
pub struct Patience {
    /// Set to true while a read waits for the source, and back to false when it ends,
    /// so that others can see that the task waits.
    waiting: watch::Sender<bool>,
    /// Waiting ends with the error as soon as this is true.
    give_up: watch::Receiver<bool>,
    /// The sender of `give_up` when nobody else has one, so that it stays open.
    _never: Option<watch::Sender<bool>>,
}

impl Patience {
    /// Waits until `give_up` turns true, and reports the wait through `waiting`.
    pub fn new(waiting: watch::Sender<bool>, give_up: watch::Receiver<bool>) -> Patience {
        Patience {
            waiting,
            give_up,
            _never: None,
        }
    }

    /// Waits for as long as the read is not dropped.
    pub fn until_dropped() -> Patience {
        let (never, give_up) = watch::channel(false);
        Patience {
            waiting: watch::Sender::new(false),
            give_up,
            _never: Some(never),
        }
    }
}

tokio::task_local! {
    static PATIENCE: Arc<Patience>;
}

/// Runs `future` so that its reads through `Datastore::get` wait while the source is
/// unavailable, trying again with a growing delay, instead of failing. Other errors
/// still fail at once. Reads outside such a scope fail at once as well.
pub async fn wait_for_source<F: Future>(patience: Patience, future: F) -> F::Output {
    PATIENCE.scope(Arc::new(patience), future).await
}

/// Returns whether reads of the current task run inside `wait_for_source`.
pub fn waits_for_source() -> bool {
    PATIENCE.try_with(|_| ()).is_ok()
}

enum Slot {
    Ready(Value),
    /// A fetch of this key is under way; the receiver turns true when it is done.
    Pending(u64, watch::Receiver<bool>),
}

/// The cache in front of a `Source`. Each key is fetched once, however many callers ask
/// for it at the same time, and stays until `reset`.
pub struct Datastore {
    inner: Arc<Inner>,
}

struct Inner {
    source: Arc<dyn Source>,
    slots: Mutex<HashMap<Key, Slot>>,
    outage: Mutex<Outage>,
    /// The cache is emptied before it would hold more keys than this, so that requests
    /// for many keys (existing or not) cannot grow memory without bound.
    max_keys: usize,
    next_fetch: AtomicUsize,
    value_bytes: AtomicUsize,
}

/// The default for the largest number of cached keys.
pub const DEFAULT_MAX_KEYS: usize = 5_000_000;

impl Datastore {
    pub fn new(source: Arc<dyn Source>) -> Datastore {
        Datastore::with_max_keys(source, DEFAULT_MAX_KEYS)
    }

    /// Creates a cache that empties itself before it would hold more than `max_keys` keys.
    pub fn with_max_keys(source: Arc<dyn Source>, max_keys: usize) -> Datastore {
        Datastore {
            inner: Arc::new(Inner {
                source,
                slots: Mutex::new(HashMap::new()),
                outage: Mutex::new(Outage::default()),
                max_keys,
                next_fetch: AtomicUsize::new(1),
                value_bytes: AtomicUsize::new(0),
            }),
        }
    }

    /// Returns the value of each key, reading uncached keys from the source in one call.
    /// Inside `wait_for_source`, waits while the source is unavailable.
    pub async fn get(&self, keys: &[Key]) -> Result<Vec<Value>, DatastoreError> {
        let error = match self.get_once(keys).await {
            Err(error @ DatastoreError::Unavailable(_)) => error,
            result => return result,
        };
        let Ok(patience) = PATIENCE.try_with(Arc::clone) else {
            return Err(error);
        };
        self.retry(keys, &patience, error).await
    }

    /// Reads `keys` again with a growing delay until the source responds, or until
    /// `patience` gives up.
    async fn retry(
        &self,
        keys: &[Key],
        patience: &Patience,
        error: DatastoreError,
    ) -> Result<Vec<Value>, DatastoreError> {
        let mut give_up = patience.give_up.clone();
        if *give_up.borrow_and_update() {
            return Err(error);
        }
        patience.waiting.send_replace(true);
        self.inner.outage.lock().begin(&error);
        let mut delay = RETRY_FIRST;
        let mut last_error = error;
        let result = loop {
            tokio::select! {
                _ = give_up.wait_for(|stop| *stop) => break Err(last_error),
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(RETRY_MAX);
            match self.get_once(keys).await {
                Err(error @ DatastoreError::Unavailable(_)) => last_error = error,
                result => break result,
            }
        };
        self.inner.outage.lock().end(result.is_ok());
        patience.waiting.send_replace(false);
        result
    }

    async fn get_once(&self, keys: &[Key]) -> Result<Vec<Value>, DatastoreError> {
        // A key whose fetch by another caller failed, or that a full cache dropped after
        // that fetch, is fetched again. After two rounds the keys still missing are read
        // from the source without the cache, so a cache that is too small for its load
        // makes reads slower instead of failing them. Errors of the source still fail.
        let mut values: Vec<Option<Value>> = vec![None; keys.len()];
        for _ in 0..2 {
            let missing: Vec<Key> = keys
                .iter()
                .zip(&values)
                .filter(|(_, value)| value.is_none())
                .map(|(key, _)| *key)
                .collect();
            if missing.is_empty() {
                break;
            }
            let (own, waits) = self.fetch_missing(&missing).await?;
            for mut wait in waits {
                // Every fetch task sends before it ends; an error means it was dropped
                // with the runtime, and the slot check below handles that.
                let _ = wait.wait_for(|done| *done).await;
            }

            // A cached value is at least as new as this call's own read; the own read
            // serves keys that a full cache dropped meanwhile.
            let slots = self.inner.slots.lock();
            for (key, value) in keys.iter().zip(values.iter_mut()) {
                if value.is_some() {
                    continue;
                }
                *value = match slots.get(key) {
                    Some(Slot::Ready(cached)) => Some(cached.clone()),
                    _ => own.get(key).cloned(),
                };
            }
        }

        let uncached: Vec<Key> = keys
            .iter()
            .zip(&values)
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| *key)
            .collect();
        if !uncached.is_empty() {
            let direct = self.inner.source.get(uncached.clone()).await?;
            let direct: HashMap<Key, Value> = uncached.into_iter().zip(direct).collect();
            for (key, value) in keys.iter().zip(values.iter_mut()) {
                if value.is_none() {
                    *value = Some(direct.get(key).cloned().flatten());
                }
            }
        }
        Ok(values.into_iter().map(Option::flatten).collect())
    }

    /// Marks uncached keys as pending and fetches them in a background task, so that a
    /// caller that goes away does not leave other callers waiting. Returns the values this
    /// call read itself, and what to wait for: the fetches of other callers.
    async fn fetch_missing(
        &self,
        keys: &[Key],
    ) -> Result<(HashMap<Key, Value>, Vec<watch::Receiver<bool>>), DatastoreError> {
        let inner = &self.inner;
        let fetch_id = inner.next_fetch.fetch_add(1, Ordering::Relaxed) as u64;
        let (done_tx, done_rx) = watch::channel(false);
        let mut missing = Vec::new();
        let mut waits = Vec::new();
        {
            let mut slots = inner.slots.lock();
            if slots.len() + keys.len() > inner.max_keys {
                let cached = slots.len();
                slots.retain(|_, slot| matches!(slot, Slot::Pending(..)));
                inner.value_bytes.store(0, Ordering::Relaxed);
                tracing::warn!(cached, max_keys = inner.max_keys, "cache full; emptied it");
            }
            for key in keys {
                match slots.get(key) {
                    Some(Slot::Ready(_)) => {}
                    Some(Slot::Pending(_, rx)) => waits.push(rx.clone()),
                    None => {
                        slots.insert(*key, Slot::Pending(fetch_id, done_rx.clone()));
                        missing.push(*key);
                    }
                }
            }
        }
        if missing.is_empty() {
            return Ok((HashMap::new(), waits));
        }

        let task = tokio::spawn(Inner::fetch(inner.clone(), fetch_id, missing, done_tx));
        match task.await {
            Ok(result) => result.map(|own| (own, waits)),
            Err(err) => Err(DatastoreError::Query(format!("fetch task failed: {err}"))),
        }
    }
    /// Stores new values from the message bus for keys that are cached or being fetched.
    /// Other keys are left out, because a later read gets them from the source.
    pub fn update(&self, changes: &[(Key, Value)]) {
        let inner = &self.inner;
        let mut slots = inner.slots.lock();
        for (key, value) in changes {
            if let Some(slot) = slots.get_mut(key) {
                if let Slot::Ready(old) = slot {
                    inner.sub_bytes(old);
                }
                inner.add_bytes(value);
                *slot = Slot::Ready(value.clone());
            }
        }
    }

    /// Checks that the source behind the cache can be read.
    pub async fn ping(&self) -> Result<(), DatastoreError> {
        self.inner.source.ping().await
    }

    /// Returns the cached value of each key, `None` for keys that are not cached, without
    /// reading the source.
    pub fn cached(&self, keys: &[Key]) -> Vec<Option<Value>> {
        let slots = self.inner.slots.lock();
        keys.iter()
            .map(|key| match slots.get(key) {
                Some(Slot::Ready(value)) => Some(value.clone()),
                _ => None,
            })
            .collect()
    }

    /// Drops the cached values of `keys`, so that the next read gets them from the source.
    pub fn forget(&self, keys: &[Key]) {
        let inner = &self.inner;
        let mut slots = inner.slots.lock();
        for key in keys {
            if let Some(Slot::Ready(old)) = slots.get(key) {
                inner.sub_bytes(old);
                slots.remove(key);
            }
        }
    }

    /// Empties the cache.
    pub fn reset(&self) {
        let mut slots = self.inner.slots.lock();
        slots.retain(|_, slot| matches!(slot, Slot::Pending(..)));
        self.inner.value_bytes.store(0, Ordering::Relaxed);
    }

    /// Returns the number of cached keys.
    pub fn len(&self) -> usize {
        self.inner.slots.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the combined size of all cached values in bytes.
    pub fn size(&self) -> usize {
        self.inner.value_bytes.load(Ordering::Relaxed)
    }
}

/// The reads that wait for the source, for logging an outage once at its start and
/// once at its end instead of at every try.
#[derive(Default)]
struct Outage {
    waiting: usize,
    since: Option<Instant>,
}

impl Outage {
    fn begin(&mut self, error: &DatastoreError) {
        self.waiting += 1;
        if self.waiting == 1 {
            self.since = Some(Instant::now());
            tracing::warn!(%error, "the datastore is unavailable; stream updates and slides wait for it");
        }
    }

    fn end(&mut self, recovered: bool) {
        self.waiting = self.waiting.saturating_sub(1);
        if self.waiting > 0 {
            return;
        }
        let waited = self
            .since
            .take()
            .map(|since| since.elapsed())
            .unwrap_or_default();
        if recovered {
            tracing::info!(
                ?waited,
                "the datastore is available again; stream updates and slides continue"
            );
        } else {
            tracing::info!(?waited, "nothing waits for the datastore any more");
        }
    }
}

impl Inner {
    /// Reads `keys` from the source and stores each value whose slot still belongs to this
    /// fetch. A value the message bus stored meanwhile is newer and stays.
    async fn fetch(
        self: Arc<Inner>,
        fetch_id: u64,
        mut keys: Vec<Key>,
        done: watch::Sender<bool>,
    ) -> Result<HashMap<Key, Value>, DatastoreError> {
        keys.sort_unstable();
        keys.dedup();
        let result = self.source.get(keys.clone()).await;

        {
            let mut slots = self.slots.lock();
            let owned = |slot: &Slot| matches!(slot, Slot::Pending(id, _) if *id == fetch_id);
            match &result {
                Ok(values) => {
                    for (key, value) in keys.iter().zip(values) {
                        let Some(slot) = slots.get_mut(key) else {
                            continue;
                        };
                        if owned(slot) {
                            self.add_bytes(value);
                            *slot = Slot::Ready(value.clone());
                        }
                    }
                }
                Err(_) => {
                    for key in &keys {
                        if slots.get(key).is_some_and(owned) {
                            slots.remove(key);
                        }
                    }
                }
            }
        }
        let _ = done.send(true);
        result.map(|values| keys.into_iter().zip(values).collect())
    }

    fn add_bytes(&self, value: &Value) {
        if let Some(bytes) = value {
            self.value_bytes.fetch_add(bytes.len(), Ordering::Relaxed);
        }
    }

    fn sub_bytes(&self, value: &Value) {
        if let Some(bytes) = value {
            let _ = self
                .value_bytes
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |total| {
                    Some(total.saturating_sub(bytes.len()))
                });
        }
    }
}

#[cfg(test)]
mod tests;
