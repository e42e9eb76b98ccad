//! Projector slides: the calculated field `projection/content`.
//!
//! The content of a projection is computed from the projected object by the slide that
//! its collection (or, for a meeting, its `type`) names. It is computed once per
//! projection, however many connections ask for it, and kept until one of the keys the
//! slide read changes. Then it is computed again. When it differs, it is handed to the
//! autoupdate core as a changed key.
//!
//! Slides read the datastore without restriction. Only a projection that is on a
//! projector (`current_projector_id` set) has content.

pub mod fetch;
pub mod slides;

pub use fetch::{Fetch, Object, SlideError};

use crate::datastore::{self, Datastore, Patience, Value};
use crate::models::{collections, FieldId, FieldValue, Fqid, Id, Key};
use bytes::Bytes;
use futures::FutureExt;
use hashbrown::{HashMap, HashSet};
use parking_lot::Mutex;
use smallvec::SmallVec;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The maximum time a read of `projection/content` waits for a slide. After it, the
/// read returns no value, and the content follows as a change when the slide is done.
pub const SLIDE_WAIT: Duration = Duration::from_secs(2);

/// A slide that takes longer than this is logged.
const LONG_SLIDE: Duration = Duration::from_secs(1);

/// Receives contents that changed after they were first read.
pub type Publish = Box<dyn Fn(Vec<(Key, Value)>) + Send + Sync>;

/// The projection a slide renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub id: Id,
    /// The projection's `type`; names the slide of a projected meeting.
    pub kind: String,
    pub content_object_id: Fqid,
    pub meeting_id: Id,
    pub options: serde_json::Value,
    pub current_projector_id: Id,
}

impl Projection {
    /// Returns the name of the slide that renders this projection: the projected
    /// collection, or the type when a meeting is projected with one.
    pub fn slide_name(&self) -> &str {
        let collection = self.content_object_id.collection.name();
        if collection == "meeting" && !self.kind.is_empty() {
            &self.kind
        } else {
            collection
        }
    }
}

/// Computes and caches `projection/content`. Cheap to clone.
#[derive(Clone)]
pub struct Projector {
    inner: Arc<Inner>,
}

struct Inner {
    datastore: Arc<Datastore>,
    state: Mutex<State>,
    publish: Publish,
    wait: Duration,
}

#[derive(Default)]
struct State {
    entries: HashMap<Id, Entry>,
    /// For each key a slide read, the projections whose content depends on it.
    hot: HashMap<Key, SmallVec<[Id; 2]>>,
    next_epoch: u64,
}

struct Entry {
    /// Tells computations of an earlier entry of the same projection from this one's.
    epoch: u64,
    /// The last computed content; `None` until the first computation ends.
    value: Option<Value>,
    /// The keys the content depends on. While a computation runs, also the keys it read.
    deps: HashSet<Key>,
    running: bool,
    /// A key the running computation depends on changed; it has to run again.
    dirty: bool,
    /// The value is an error caused by the datastore; the next read computes it again.
    stale: bool,
    /// Counts finished computations.
    done: watch::Sender<u64>,
    /// Turns true when the projection is forgotten; a computation waiting for the
    /// datastore stops then.
    forgotten: watch::Sender<bool>,
}

/// Returns the key of a projection's content.
pub fn content_key(id: Id) -> Key {
    collections::Projection::CONTENT.key(id)
}

fn content_field() -> FieldId {
    collections::Projection::CONTENT.id()
}

/// Returns whether the key is a `projection/content` key.
pub fn is_content(key: Key) -> bool {
    key.field() == content_field()
}

impl Projector {
    /// Creates a projector that reads from `datastore` and hands contents that change
    /// later to `publish`.
    pub fn new(datastore: Arc<Datastore>, publish: Publish) -> Projector {
        Projector::with_wait(datastore, publish, SLIDE_WAIT)
    }

    /// Like `new`, with another bound on how long a read waits for a slide.
    pub fn with_wait(datastore: Arc<Datastore>, publish: Publish, wait: Duration) -> Projector {
        Projector {
            inner: Arc::new(Inner {
                datastore,
                state: Mutex::new(State::default()),
                publish,
                wait,
            }),
        }
    }

    /// Returns the content of each projection. A slide that is not done within the wait
    /// bound gives `None` now and its content later through `publish`.
    pub async fn get(&self, ids: &[Id]) -> Vec<Value> {
        let mut waits = Vec::new();
        {
            let mut state = self.inner.state.lock();
            for &id in ids {
                let entry = state.entry(id);
                if entry.value.is_some() && !entry.stale {
                    continue;
                }
                let mut done = entry.done.subscribe();
                done.mark_unchanged();
                waits.push((id, done));
                entry.stale = false;
                if !entry.running {
                    entry.running = true;
                    let epoch = entry.epoch;
                    tokio::spawn(self.inner.clone().run(id, epoch));
                }
            }
        }

        if !waits.is_empty() {
            let wait_all = async {
                for (_, done) in &mut waits {
                    let _ = done.changed().await;
                }
            };
            if tokio::time::timeout(self.inner.wait, wait_all)
                .await
                .is_err()
            {
                let ids: Vec<Id> = waits.iter().map(|(id, _)| *id).collect();
                tracing::warn!(
                    projections = ?ids,
                    "slides not done in time; their content follows when they are"
                );
            }
        }

        let state = self.inner.state.lock();
        ids.iter()
            .map(|id| {
                state
                    .entries
                    .get(id)
                    .and_then(|entry| entry.value.clone())
                    .flatten()
            })
            .collect()
    }

    /// Takes changed keys: computes again every content that depends on one of them.
    pub fn invalidate(&self, changes: &[(Key, Value)]) {
        let mut start = Vec::new();
        {
            let mut state = self.inner.state.lock();
            let State { entries, hot, .. } = &mut *state;
            for (key, _) in changes {
                for id in hot.get(key).into_iter().flatten() {
                    let Some(entry) = entries.get_mut(id) else {
                        continue;
                    };
                    entry.dirty = true;
                    if !entry.running {
                        entry.running = true;
                        start.push((*id, entry.epoch));
                    }
                }
            }
        }
        for (id, epoch) in start {
            tokio::spawn(self.inner.clone().run(id, epoch));
        }
    }

    /// Computes every cached content again, for when the datastore cache was emptied.
    pub fn reset(&self) {
        let mut start = Vec::new();
        {
            let mut state = self.inner.state.lock();
            for (id, entry) in state.entries.iter_mut() {
                entry.dirty = true;
                if !entry.running {
                    entry.running = true;
                    start.push((*id, entry.epoch));
                }
            }
        }
        for (id, epoch) in start {
            tokio::spawn(self.inner.clone().run(id, epoch));
        }
    }

    /// Drops the cached content of a projection that no view contains any more.
    pub fn forget(&self, id: Id) {
        let mut state = self.inner.state.lock();
        if let Some(entry) = state.entries.remove(&id) {
            entry.forgotten.send_replace(true);
            state.unregister(id, entry.deps.iter());
        }
    }

    /// Returns the number of cached contents and of keys they depend on.
    pub fn stats(&self) -> (usize, usize) {
        let state = self.inner.state.lock();
        (state.entries.len(), state.hot.len())
    }
}

impl State {
    fn entry(&mut self, id: Id) -> &mut Entry {
        let next_epoch = &mut self.next_epoch;
        self.entries.entry(id).or_insert_with(|| {
            *next_epoch += 1;
            Entry {
                epoch: *next_epoch,
                value: None,
                deps: HashSet::new(),
                running: false,
                dirty: false,
                stale: false,
                done: watch::Sender::new(0),
                forgotten: watch::Sender::new(false),
            }
        })
    }

    fn current(&mut self, id: Id, epoch: u64) -> Option<&mut Entry> {
        self.entries
            .get_mut(&id)
            .filter(|entry| entry.epoch == epoch)
    }

    fn register(&mut self, id: Id, epoch: u64, keys: &[Key]) {
        let Some(entry) = self.entries.get_mut(&id).filter(|e| e.epoch == epoch) else {
            return;
        };
        for key in keys {
            if entry.deps.insert(*key) {
                let ids = self.hot.entry(*key).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }

    fn unregister<'a>(&mut self, id: Id, keys: impl Iterator<Item = &'a Key>) {
        for key in keys {
            if let Some(ids) = self.hot.get_mut(key) {
                ids.retain(|other| *other != id);
                if ids.is_empty() {
                    self.hot.remove(key);
                }
            }
        }
    }
}

/// The result of one slide computation.
struct Outcome {
    value: Value,
    /// The datastore failed; the value is an error object to replace on the next read.
    stale: bool,
    /// The slide waited for an unavailable datastore, so its time is no measure of the slide.
    waited: bool,
}

impl Inner {
    /// Computes a projection's content until no key it read changed meanwhile, then
    /// stores it and publishes it when it differs from the stored one.
    async fn run(self: Arc<Inner>, id: Id, epoch: u64) {
        loop {
            let forgotten = match self.state.lock().current(id, epoch) {
                Some(entry) => {
                    entry.dirty = false;
                    entry.forgotten.subscribe()
                }
                None => return,
            };

            let started = Instant::now();
            let (outcome, read) = self.compute(id, epoch, forgotten).await;
            let elapsed = started.elapsed();
            if elapsed > LONG_SLIDE && !outcome.waited {
                tracing::warn!(projection = id, ?elapsed, "slide took long");
            }

            let publish = {
                let mut state = self.state.lock();
                let Some(entry) = state.current(id, epoch) else {
                    // Forgotten meanwhile: the keys this computation registered go too.
                    state.unregister(id, read.iter());
                    return;
                };
                let dropped: Vec<Key> = entry.deps.difference(&read).copied().collect();
                entry.deps = read;
                if entry.dirty {
                    state.unregister(id, dropped.iter());
                    continue;
                }
                let changed = entry.value.as_ref() != Some(&outcome.value);
                let first = entry.value.is_none();
                entry.value = Some(outcome.value.clone());
                entry.stale = outcome.stale;
                entry.running = false;
                entry.done.send_modify(|count| *count += 1);
                state.unregister(id, dropped.iter());
                // The first value reaches its readers through `get`, unless they stopped
                // waiting; publishing it covers both.
                (changed || first).then_some(outcome.value)
            };
            if let Some(value) = publish {
                (self.publish)(vec![(content_key(id), value)]);
            }
            return;
        }
    }

    /// Runs the slide of a projection. While the datastore is unavailable, the slide
    /// waits for it until the projection is forgotten. Meanwhile readers keep the last
    /// content, or get the content as a change when there was none.
    async fn compute(
        &self,
        id: Id,
        epoch: u64,
        forgotten: watch::Receiver<bool>,
    ) -> (Outcome, HashSet<Key>) {
        let on_read = |keys: &[Key]| self.state.lock().register(id, epoch, keys);
        let mut fetch = Fetch::new(&self.datastore, &on_read);
        let (waiting, waited) = watch::channel(false);
        let patience = Patience::new(waiting, forgotten);
        let render = AssertUnwindSafe(render(&mut fetch, id)).catch_unwind();
        let result = datastore::wait_for_source(patience, render).await;
        // The scope drops the sender, which the receiver's own `has_changed` reports as an error.
        let waited = waited.borrow().has_changed();
        let outcome = match result {
            Ok(Ok(value)) => Outcome {
                value,
                stale: false,
                waited,
            },
            Ok(Err(error)) => {
                tracing::warn!(projection = id, %error, "slide failed");
                Outcome {
                    value: Some(error_object(id)),
                    stale: matches!(error, SlideError::Datastore(_)),
                    waited,
                }
            }
            Err(_) => {
                tracing::error!(projection = id, "slide panicked");
                Outcome {
                    value: Some(error_object(id)),
                    stale: false,
                    waited,
                }
            }
        };
        (outcome, fetch.into_read())
    }
}

/// Builds the content of a projection whose slide failed, in the shape OpenSlides
/// clients expect.
pub fn error_object(id: Id) -> Bytes {
    let message = format!("calculating key {}", content_key(id));
    Bytes::from(serde_json::json!({ "error": message }).to_string())
}

/// Computes the content of one projection: `None` when the projection does not exist,
/// is on no projector, or projects nothing.
pub async fn render(fetch: &mut Fetch<'_>, id: Id) -> Result<Value, SlideError> {
    use collections::Projection as P;
    let fields = [
        P::TYPE.id(),
        P::CONTENT_OBJECT_ID.id(),
        P::MEETING_ID.id(),
        P::OPTIONS.id(),
        P::CURRENT_PROJECTOR_ID.id(),
    ];
    let object = match fetch
        .object(
            Fqid::new(crate::models::Collection::Projection, id),
            &fields,
        )
        .await
    {
        Ok(object) => object,
        Err(SlideError::DoesNotExist(_)) => return Ok(None),
        Err(error) => return Err(error),
    };

    let current_projector_id = object.get(P::CURRENT_PROJECTOR_ID)?.unwrap_or(0);
    if current_projector_id == 0 {
        return Ok(None);
    }

    // Broken projections with an empty content object exist; they show nothing.
    let content_object_id = match object.raw(P::CONTENT_OBJECT_ID.id())? {
        None => None,
        Some(raw) => Some(String::decode(raw).map_err(|error| SlideError::Value {
            key: P::CONTENT_OBJECT_ID.key(id),
            error,
        })?),
    };
    let content_object_id = match content_object_id.as_deref() {
        None | Some("") => {
            tracing::warn!(projection = id, "projection has no content_object_id");
            return Ok(None);
        }
        Some(text) => Fqid::parse(text).map_err(|_| {
            SlideError::invalid(format!(
                "invalid content_object_id {text:?}: expected collection/id with a known collection and a positive id"
            ))
        })?,
    };

    let projection = Projection {
        id,
        kind: object.get(P::TYPE)?.unwrap_or_default(),
        content_object_id,
        meeting_id: object.get(P::MEETING_ID)?.unwrap_or(0),
        options: object.json(P::OPTIONS.id())?,
        current_projector_id,
    };

    let name = projection.slide_name().to_owned();
    let Some(content) = slides::render(&name, fetch, &projection).await? else {
        return Err(SlideError::invalid(format!("unknown slide {name}")));
    };
    let serde_json::Value::Object(mut content) = content else {
        return Err(SlideError::invalid(format!(
            "slide {name} did not return an object"
        )));
    };
    content.insert("collection".into(), serde_json::Value::String(name));
    let text =
        serde_json::to_vec(&content).map_err(|error| SlideError::invalid(error.to_string()))?;
    Ok(Some(Bytes::from(text)))
}

#[cfg(test)]
mod tests;
