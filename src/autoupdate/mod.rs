//! The autoupdate core: shares one view per request and viewer between all connections
//! that ask the same, and sends each view the changes of exactly the keys it contains.
//!
//! A change travels: message bus -> `Autoupdate::apply_update` -> datastore cache ->
//! the views that contain a changed key -> their incremental update -> one serialized
//! delta -> the mailbox of every subscriber.

mod mailbox;
mod pool;
mod view;

pub use mailbox::{encode_message, Delta, Mailbox};
pub use pool::WorkPool;
pub use view::{Changes, Reader, ViewState};

use crate::datastore::{Datastore, DatastoreError, Value};
use crate::history::History;
use crate::keysbuilder::{Request, TargetError};
use crate::models::Key;
use crate::projector::{self, Projector};
use crate::restrict::{RestrictError, Restricter, Viewer};
use crate::vote::VoteState;
use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::{Mutex, RwLock};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The reasons a request fails.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AutoupdateError {
    /// A stored value has the wrong shape for how the request follows it.
    #[error("invalid value in key {key}: {error}")]
    Value { key: Key, error: TargetError },
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    #[error(transparent)]
    Restrict(#[from] RestrictError),
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct ViewKey {
    request: Arc<str>,
    viewer: Viewer,
}

/// The mutable part of a view, behind its async lock.
struct ViewBody {
    state: ViewState,
    resolved: bool,
    /// Set when the last connection left; the view then takes no more updates.
    closed: bool,
    failed: Option<AutoupdateError>,
    /// The first message for new subscribers, until the next change.
    snapshot: Option<Bytes>,
}

/// One request resolved for one viewer, shared by all connections that ask for it.
struct View {
    id: u64,
    key: ViewKey,
    body: tokio::sync::Mutex<ViewBody>,
    subscribers: Mutex<Vec<Arc<Mailbox>>>,
    /// Changed keys waiting for the view's update task.
    pending: Mutex<PendingKeys>,
    /// Connections that hold this view; guarded by the lock of `Shared::views`.
    members: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct PendingKeys {
    keys: Vec<Key>,
    /// Every key of the view is to be read again.
    all: bool,
    scheduled: bool,
}

struct Shared {
    datastore: Arc<Datastore>,
    projector: Projector,
    restricter: Arc<dyn Restricter>,
    /// The vote service's `poll/has_voted_user_ids`, filled by `vote::run`.
    votes: VoteState,
    views: Mutex<HashMap<ViewKey, Arc<View>>>,
    /// The views that contain each key.
    watchers: RwLock<HashMap<Key, SmallVec<[Arc<View>; 1]>>>,
    next_view_id: AtomicU64,
    /// Counts the updates from the message bus, to find out whether one arrived while a
    /// view was being updated.
    update_count: AtomicU64,
}

/// The autoupdate service's state. Cheap to clone.
#[derive(Clone)]
pub struct Autoupdate {
    shared: Arc<Shared>,
    /// Old data for `position` requests; `None` where the source keeps no history.
    history: Option<Arc<History>>,
}

impl Autoupdate {
    pub fn new(datastore: Arc<Datastore>, restricter: Arc<dyn Restricter>) -> Autoupdate {
        Autoupdate::with_slide_wait(datastore, restricter, projector::SLIDE_WAIT)
    }

    /// Like `new`, with another bound on how long a first message waits for a projector
    /// slide.
    pub fn with_slide_wait(
        datastore: Arc<Datastore>,
        restricter: Arc<dyn Restricter>,
        slide_wait: Duration,
    ) -> Autoupdate {
        let shared = Arc::new_cyclic(|weak: &Weak<Shared>| {
            // Contents computed in the background travel like changes from the message bus.
            let weak = weak.clone();
            let publish: projector::Publish = Box::new(move |changes| {
                if let Some(shared) = weak.upgrade() {
                    Autoupdate {
                        shared,
                        history: None,
                    }
                    .apply_update(&changes);
                }
            });
            Shared {
                projector: Projector::with_wait(datastore.clone(), publish, slide_wait),
                datastore,
                restricter,
                votes: VoteState::default(),
                views: Mutex::new(HashMap::new()),
                watchers: RwLock::new(HashMap::new()),
                next_view_id: AtomicU64::new(1),
                update_count: AtomicU64::new(0),
            }
        });
        Autoupdate {
            shared,
            history: None,
        }
    }

    /// Adds the history that `position` requests and history information read.
    pub fn with_history(mut self, history: History) -> Autoupdate {
        self.history = Some(Arc::new(history));
        self
    }

    pub fn history(&self) -> Option<&History> {
        self.history.as_deref()
    }

    pub fn datastore(&self) -> &Arc<Datastore> {
        &self.shared.datastore
    }

    pub fn projector(&self) -> &Projector {
        &self.shared.projector
    }

    /// Returns the state of `poll/has_voted_user_ids`. It stays empty unless `vote::run`
    /// follows the vote service.
    pub fn votes(&self) -> &VoteState {
        &self.shared.votes
    }

    /// Empties the datastore cache, computes every projector slide again and reads every
    /// key of every open view again, for when changes may have been missed. Connections
    /// get only the values that differ from what they have.
    pub fn resync(&self) {
        self.shared.datastore.reset();
        self.shared.update_count.fetch_add(1, Ordering::SeqCst);
        self.shared.projector.reset();
        let views: Vec<Arc<View>> = self.shared.views.lock().values().cloned().collect();
        tracing::info!(views = views.len(), "reading every open view again");
        for view in views {
            view.pending.lock().all = true;
            self.schedule(view, Vec::new());
        }
    }

    /// Returns the current values of a request without subscribing to changes.
    pub async fn single(
        &self,
        viewer: Viewer,
        request: Arc<Request>,
    ) -> Result<Bytes, AutoupdateError> {
        let key = ViewKey {
            request: request.canonical().clone(),
            viewer,
        };
        let live = self.shared.views.lock().get(&key).cloned();
        if let Some(view) = live {
            let body = view.body.lock().await;
            if body.resolved && !body.closed && body.failed.is_none() {
                return Ok(encode_message(&body.state.values()));
            }
        }

        let mut state = ViewState::new(request, viewer);
        let reader = self.reader();
        let result = state.resolve(&reader, &mut |_| {}).await;
        // Slide contents computed for this response alone are not kept.
        let watchers = self.shared.watchers.read();
        for key in state.watched_keys() {
            if projector::is_content(key) && !watchers.contains_key(&key) {
                self.shared.projector.forget(key.id());
            }
        }
        drop(watchers);
        Ok(encode_message(&result?.values))
    }

    /// Subscribes to a request. The connection's first message contains every value, the
    /// following ones what changed.
    pub async fn connect(
        &self,
        viewer: Viewer,
        request: Arc<Request>,
    ) -> Result<Connection, AutoupdateError> {
        self.subscribe(viewer, request, false).await
    }

    /// Like `connect`, and the connection also contains every key of the request with its
    /// current value or `None` (see `Connection::take_entries`).
    pub async fn connect_with_entries(
        &self,
        viewer: Viewer,
        request: Arc<Request>,
    ) -> Result<Connection, AutoupdateError> {
        self.subscribe(viewer, request, true).await
    }

    async fn subscribe(
        &self,
        viewer: Viewer,
        request: Arc<Request>,
        with_entries: bool,
    ) -> Result<Connection, AutoupdateError> {
        let membership = self.join(viewer, request.clone());
        let view = membership.view.clone();
        let mailbox = Arc::new(Mailbox::default());

        let mut body = view.body.lock().await;
        if let Some(error) = &body.failed {
            return Err(error.clone());
        }
        if !body.resolved {
            let reader = self.reader();
            let started_at = self.shared.update_count.load(Ordering::SeqCst);
            let mut on_added = |keys: &[Key]| self.shared.watch(&view, keys);
            match body.state.resolve(&reader, &mut on_added).await {
                Ok(changes) => {
                    self.shared.unwatch(&view, &changes.removed);
                    self.recheck_dependencies(&view, started_at, changes.new_dependencies);
                    body.resolved = true;
                }
                Err(error) => {
                    body.failed = Some(error.clone());
                    return Err(error);
                }
            }
        }

        let first = match &body.snapshot {
            Some(snapshot) => snapshot.clone(),
            None => {
                let snapshot = encode_message(&body.state.values());
                body.snapshot = Some(snapshot.clone());
                snapshot
            }
        };
        let entries = with_entries.then(|| body.state.entries());
        view.subscribers.lock().push(mailbox.clone());
        drop(body);

        let mut membership = membership;
        membership.mailbox = Some(mailbox);
        Ok(Connection {
            first: Some(first),
            entries,
            membership,
        })
    }

    /// Takes a batch of changed values from the message bus: stores them in the cache and
    /// hands each changed key to the views that contain it.
    pub fn apply_update(&self, changes: &[(Key, Value)]) {
        self.shared.datastore.update(changes);
        self.shared.update_count.fetch_add(1, Ordering::SeqCst);
        self.shared.projector.invalidate(changes);

        let mut affected: HashMap<u64, (Arc<View>, Vec<Key>)> = HashMap::new();
        {
            let watchers = self.shared.watchers.read();
            for (key, _) in changes {
                for view in watchers.get(key).into_iter().flatten() {
                    affected
                        .entry(view.id)
                        .or_insert_with(|| (view.clone(), Vec::new()))
                        .1
                        .push(*key);
                }
            }
        }

        for (view, keys) in affected.into_values() {
            self.schedule(view, keys);
        }
    }

    /// Returns the number of open views and the number of keys they watch together.
    pub fn stats(&self) -> (usize, usize) {
        let views = self.shared.views.lock().len();
        let keys = self
            .shared
            .watchers
            .read()
            .values()
            .map(SmallVec::len)
            .sum();
        (views, keys)
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            datastore: &self.shared.datastore,
            restricter: self.shared.restricter.as_ref(),
            projector: Some(&self.shared.projector),
            votes: Some(&self.shared.votes),
        }
    }

    fn join(&self, viewer: Viewer, request: Arc<Request>) -> Membership {
        let key = ViewKey {
            request: request.canonical().clone(),
            viewer,
        };
        let mut views = self.shared.views.lock();
        let view = views
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(View {
                    id: self.shared.next_view_id.fetch_add(1, Ordering::Relaxed),
                    key,
                    body: tokio::sync::Mutex::new(ViewBody {
                        state: ViewState::new(request, viewer),
                        resolved: false,
                        closed: false,
                        failed: None,
                        snapshot: None,
                    }),
                    subscribers: Mutex::new(Vec::new()),
                    pending: Mutex::new(PendingKeys::default()),
                    members: std::sync::atomic::AtomicUsize::new(0),
                })
            })
            .clone();
        view.members.fetch_add(1, Ordering::Relaxed);
        Membership {
            autoupdate: self.clone(),
            view,
            mailbox: None,
        }
    }

    /// Queues changed keys for a view and starts its update task unless one runs.
    fn schedule(&self, view: Arc<View>, keys: Vec<Key>) {
        {
            let mut pending = view.pending.lock();
            pending.keys.extend(keys);
            if pending.scheduled {
                return;
            }
            pending.scheduled = true;
        }
        let autoupdate = self.clone();
        tokio::spawn(async move { autoupdate.process(view).await });
    }

    /// Applies queued changes to a view until none are left, and publishes the result.
    async fn process(&self, view: Arc<View>) {
        loop {
            let (mut keys, all) = {
                let mut pending = view.pending.lock();
                if pending.keys.is_empty() && !pending.all {
                    pending.scheduled = false;
                    return;
                }
                (
                    std::mem::take(&mut pending.keys),
                    std::mem::take(&mut pending.all),
                )
            };

            let mut body = view.body.lock().await;
            if body.closed || body.failed.is_some() || !body.resolved {
                continue;
            }
            if all {
                keys = body.state.watched_keys().collect();
            }

            let reader = self.reader();
            let started_at = self.shared.update_count.load(Ordering::SeqCst);
            let mut on_added = |added: &[Key]| self.shared.watch(&view, added);
            match body.state.update(&keys, &reader, &mut on_added).await {
                Ok(changes) => {
                    self.shared.unwatch(&view, &changes.removed);
                    self.recheck_dependencies(&view, started_at, changes.new_dependencies);
                    if !changes.values.is_empty() {
                        body.snapshot = None;
                        let delta = Arc::new(Delta::new(changes.values));
                        for mailbox in view.subscribers.lock().iter() {
                            mailbox.push(delta.clone());
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(view = view.id, %error, "view update failed; its streams end");
                    body.failed = Some(error.clone());
                    for mailbox in view.subscribers.lock().iter() {
                        mailbox.fail(error.clone());
                    }
                }
            }
        }
    }

    /// Queues newly found restriction dependencies as changed when an update arrived
    /// since `started_at`: the update may have changed one of them after the rules read
    /// it and before the view watched it.
    fn recheck_dependencies(&self, view: &Arc<View>, started_at: u64, keys: Vec<Key>) {
        if keys.is_empty() || self.shared.update_count.load(Ordering::SeqCst) == started_at {
            return;
        }
        self.schedule(view.clone(), keys);
    }

    /// Called when a connection ends. The last one to leave a view closes it.
    fn leave(&self, view: &Arc<View>, mailbox: Option<&Arc<Mailbox>>) {
        if let Some(mailbox) = mailbox {
            view.subscribers.lock().retain(|m| !Arc::ptr_eq(m, mailbox));
        }

        {
            let mut views = self.shared.views.lock();
            if view.members.fetch_sub(1, Ordering::Relaxed) != 1 {
                return;
            }
            if views.get(&view.key).is_some_and(|v| Arc::ptr_eq(v, view)) {
                views.remove(&view.key);
            }
        }

        // Closing waits for a running update, which may still add keys to watch.
        let view = view.clone();
        let shared = self.shared.clone();
        let close = async move {
            let mut body = view.body.lock().await;
            body.closed = true;
            let keys: Vec<Key> = body.state.watched_keys().collect();
            shared.unwatch(&view, &keys);
            body.state = ViewState::new(Arc::new(Request::default()), view.key.viewer);
            body.snapshot = None;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(close);
        }
    }
}

impl Shared {
    fn watch(&self, view: &Arc<View>, keys: &[Key]) {
        if keys.is_empty() {
            return;
        }
        let mut watchers = self.watchers.write();
        for key in keys {
            let views = watchers.entry(*key).or_default();
            if !views.iter().any(|v| v.id == view.id) {
                views.push(view.clone());
            }
        }
    }

    fn unwatch(&self, view: &Arc<View>, keys: &[Key]) {
        if keys.is_empty() {
            return;
        }
        let mut watchers = self.watchers.write();
        for key in keys {
            if let Some(views) = watchers.get_mut(key) {
                views.retain(|v| v.id != view.id);
                if views.is_empty() {
                    watchers.remove(key);
                    if projector::is_content(*key) {
                        self.projector.forget(key.id());
                    }
                }
            }
        }
    }
}

/// A connection's hold on a view; leaving happens on drop.
struct Membership {
    autoupdate: Autoupdate,
    view: Arc<View>,
    mailbox: Option<Arc<Mailbox>>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.autoupdate.leave(&self.view, self.mailbox.as_ref());
    }
}

/// A subscription to a request. Dropping it ends the subscription.
pub struct Connection {
    first: Option<Bytes>,
    entries: Option<Vec<(Key, Value)>>,
    membership: Membership,
}

impl Connection {
    /// Takes the first message: every requested key that has a value. Returns `None`
    /// after the first call.
    pub fn take_first(&mut self) -> Option<Bytes> {
        self.first.take()
    }

    /// Takes every key of the request with its value at connection time, when the
    /// connection was made with `connect_with_entries`.
    pub fn take_entries(&mut self) -> Option<Vec<(Key, Value)>> {
        self.entries.take()
    }

    /// Waits for the next change visible to this connection's request.
    pub async fn next(&mut self) -> Result<Bytes, AutoupdateError> {
        match &self.membership.mailbox {
            Some(mailbox) => mailbox.next().await,
            None => std::future::pending().await,
        }
    }

    /// Waits for the next change, as keys with their new values (`None`: gone).
    pub async fn next_values(&mut self) -> Result<Arc<Delta>, AutoupdateError> {
        match &self.membership.mailbox {
            Some(mailbox) => mailbox.next_delta().await,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests;
