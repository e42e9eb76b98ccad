//! The autoupdate core: shares one view per request and viewer between all connections
//! that ask the same, and sends each view the changes of exactly the keys it contains.
//!
//! A change travels: message bus -> `Autoupdate::apply_update` -> datastore cache ->
//! the views that contain a changed key -> their incremental update -> one serialized
//! delta -> the mailbox of every subscriber.

mod mailbox;
mod pool;
mod view;

use mailbox::Event;
pub use mailbox::{encode_message, Delta, Mailbox};

pub use pool::WorkPool;
pub use view::{Changes, Reader, ViewState};

use crate::datastore::{self, Datastore, DatastoreError, Patience, Value};
use crate::history::History;
use crate::keysbuilder::{Request, TargetError};
use crate::models::Key;
use crate::projector::{self, Projector};
use crate::restrict::{Audience, Identity, PermissionClass, RestrictError, Restricter, Viewer};
use crate::vote::VoteState;
use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::{Mutex, RwLock};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::watch;

/// The reasons a request fails.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AutoupdateError {
    /// A stored value has the wrong shape for how the request follows it.
    #[error("invalid value in key {key}: {error}")]
    Value { key: Key, error: TargetError },
    /// The request grew to more keys than `Limits::max_keys` allows.
    #[error("Invalid request: the request expands to more than {limit} keys")]
    TooManyKeys { limit: usize },
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    #[error(transparent)]
    Restrict(#[from] RestrictError),
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct ViewKey {
    request: Arc<str>,
    audience: Audience,
}

/// The mutable part of a view, behind its async lock.
struct ViewBody {
    state: ViewState,
    resolved: bool,
    /// Set while a connection resolves the view. Still set when that connection was
    /// dropped at an await, so `state` is partly built and is to be built again.
    resolving: bool,
    /// Set when the last connection left; the view then takes no more updates.
    closed: bool,
    failed: Option<AutoupdateError>,
    /// The first message for new subscribers, until the next change.
    snapshot: Option<Bytes>,
}

/// One request resolved for one audience, shared by all connections that ask for it.
struct View {
    id: u64,
    key: ViewKey,
    /// The parsed request, shared by every connection of the view.
    request: Arc<Request>,
    body: tokio::sync::Mutex<ViewBody>,
    subscribers: Mutex<Vec<Subscriber>>,
    /// Changed keys waiting for the view's update task.
    pending: Mutex<PendingKeys>,
    /// Connections that hold this view; guarded by the lock of `Shared::views`.
    members: std::sync::atomic::AtomicUsize,
    /// True while the view's update waits for the datastore, holding the body's lock.
    waiting: watch::Sender<bool>,
    /// Turns true when the last connection left, and a waiting update stops then.
    left: watch::Sender<bool>,
}

impl View {
    /// Locks the body, or fails at once while the view's update waits for the
    /// datastore, so that a new request gets a response during an outage.
    async fn lock_body(&self) -> Result<tokio::sync::MutexGuard<'_, ViewBody>, AutoupdateError> {
        let mut waiting = self.waiting.subscribe();
        tokio::select! {
            biased;
            body = self.body.lock() => Ok(body),
            _ = waiting.wait_for(|waiting| *waiting) => Err(AutoupdateError::Datastore(
                DatastoreError::Unavailable("an update of the view waits for the datastore".into()),
            )),
        }
    }
}

/// The rounds a view's update may take in a task shared with other views.
const SHARED_TASK_ROUNDS: usize = 4;

/// A connection's mailbox in a view. Members of a permission class carry their
/// identity, so that they can move to a view of their own when the class view's
/// values may differ for them.
struct Subscriber {
    mailbox: Arc<Mailbox>,
    identity: Option<Arc<Identity>>,
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
    /// The connections whose permission class was read from each key.
    identity_watchers: Mutex<HashMap<Key, SmallVec<[Weak<Mailbox>; 1]>>>,
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
                identity_watchers: Mutex::new(HashMap::new()),
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
    /// get only the values that differ from what they have. A connection whose
    /// permission class was read from a key that differs now moves to its new class.
    pub fn resync(&self) {
        let identity_keys: Vec<Key> = self
            .shared
            .identity_watchers
            .lock()
            .keys()
            .copied()
            .collect();
        let before = self.shared.datastore.cached(&identity_keys);
        self.shared.datastore.reset();
        if !identity_keys.is_empty() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(
                    self.shared
                        .clone()
                        .relocate_missed_identities(identity_keys, before),
                );
            }
        }
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
            audience: viewer.into(),
        };
        let live = self.shared.views.lock().get(&key).cloned();
        if let Some(view) = live {
            // While the view's update waits, the request is read on its own, which fails
            // at once unless its keys are cached.
            if let Ok(body) = view.lock_body().await {
                if body.resolved && !body.closed && body.failed.is_none() {
                    return Ok(encode_message(&body.state.values()));
                }
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
        let mailbox = Arc::new(Mailbox::default());
        let want = if with_entries {
            Want::Entries
        } else {
            Want::Nothing
        };
        let attached = self.attach(viewer, &request, mailbox, want).await?;
        // Connections keep the view's copy of the request, not one of their own.
        let request = attached.membership.view.request.clone();
        Ok(Connection {
            first: Some(attached.first),
            entries: attached.entries,
            membership: attached.membership,
            identity_watch: attached.identity_watch,
            viewer,
            request,
        })
    }

    /// Finds the audience of a viewer: the permission class when the restricter shares
    /// classes, or the user. Watches the keys the class was read from for `mailbox`.
    async fn audience_of(
        &self,
        viewer: Viewer,
        mailbox: &Arc<Mailbox>,
    ) -> Result<(Audience, Option<Arc<Identity>>, Option<IdentityWatch>), AutoupdateError> {
        if viewer.user_id == 0 || !self.shared.restricter.shares_classes() {
            return Ok((Audience::User(viewer.user_id), None, None));
        }
        let started_at = self.shared.update_count.load(Ordering::SeqCst);
        let class_of = PermissionClass::load(&self.shared.datastore, viewer.user_id).await?;
        let watch = IdentityWatch::new(self.shared.clone(), class_of.keys, mailbox);
        if self.shared.update_count.load(Ordering::SeqCst) != started_at {
            // A change may have reached the class's keys before they were watched.
            mailbox.relocate();
        }
        Ok((
            Audience::Class(class_of.class),
            Some(Arc::new(class_of.identity)),
            Some(watch),
        ))
    }

    /// Joins the view of a viewer and request, resolves it when it is new, and
    /// subscribes `mailbox` to its changes.
    async fn attach(
        &self,
        viewer: Viewer,
        request: &Arc<Request>,
        mailbox: Arc<Mailbox>,
        want: Want,
    ) -> Result<Attached, AutoupdateError> {
        let (mut audience, mut identity, mut identity_watch) =
            self.audience_of(viewer, &mailbox).await?;
        // A connection that moves to another view waits for an unavailable datastore;
        // a new request fails at once instead.
        let patient = datastore::waits_for_source();
        loop {
            let membership = self.join(audience.clone(), request.clone());
            let view = membership.view.clone();
            let mut body = if patient {
                view.body.lock().await
            } else {
                view.lock_body().await?
            };
            if let Some(error) = &body.failed {
                return Err(error.clone());
            }
            if !body.resolved {
                if body.resolving {
                    // The dropped resolution marked the root objects as applied before
                    // their values came, so resolving this state again would add nothing.
                    let keys: Vec<Key> = body.state.watched_keys().collect();
                    self.shared.unwatch(&view, &keys);
                    body.state = ViewState::new(view.request.clone(), view.key.audience.clone());
                }
                body.resolving = true;
                let reader = self.reader();
                let started_at = self.shared.update_count.load(Ordering::SeqCst);
                let mut on_added = |keys: &[Key]| self.shared.watch(&view, keys);
                let resolve = body.state.resolve(&reader, &mut on_added);
                let resolved = if patient {
                    // New requests for this view fail at once while it waits.
                    let patience = Patience::new(view.waiting.clone(), view.left.subscribe());
                    datastore::wait_for_source(patience, resolve).await
                } else {
                    resolve.await
                };
                match resolved {
                    Ok(changes) => {
                        self.shared.unwatch(&view, &changes.removed);
                        self.recheck_dependencies(&view, started_at, changes.new_dependencies);
                        body.resolved = true;
                        body.resolving = false;
                    }
                    Err(error) => {
                        body.resolving = false;
                        body.failed = Some(error.clone());
                        return Err(error);
                    }
                }
            }
            if identity
                .as_ref()
                .is_some_and(|identity| body.state.personal().covers(identity))
            {
                // The class view may hide something from this user: a view of their own.
                // NOTE: that view copies every key of the request, although only a few
                // values differ (the user's own username, own motions). A view holding
                // only the differences over the class view would save most of its memory.
                drop(body);
                drop(membership);
                audience = Audience::User(viewer.user_id);
                identity = None;
                identity_watch = None;
                continue;
            }

            let first = match &body.snapshot {
                Some(snapshot) => snapshot.clone(),
                None => {
                    let snapshot = encode_message(&body.state.values());
                    body.snapshot = Some(snapshot.clone());
                    snapshot
                }
            };
            let entries = matches!(want, Want::Entries).then(|| body.state.entries());
            view.subscribers.lock().push(Subscriber {
                mailbox: mailbox.clone(),
                identity,
            });
            drop(body);

            let mut membership = membership;
            membership.mailbox = Some(mailbox);
            return Ok(Attached {
                first,
                entries,
                membership,
                identity_watch,
            });
        }
    }

    /// Takes a batch of changed values from the message bus: stores them in the cache and
    /// hands each changed key to the views that contain it.
    pub fn apply_update(&self, changes: &[(Key, Value)]) {
        self.shared.datastore.update(changes);
        self.announce(changes);
    }

    /// Takes keys that changed to values the message bus could not tell: drops them from
    /// the cache, so that every view that contains them reads them from the source.
    pub fn read_again(&self, keys: &[Key]) {
        self.shared.datastore.forget(keys);
        let changes: Vec<(Key, Value)> = keys.iter().map(|key| (*key, None)).collect();
        self.announce(&changes);
    }

    /// Hands changed keys to the projector, the permission class watches and the views
    /// that contain them. Only the keys count; the values are in the cache or the source.
    fn announce(&self, changes: &[(Key, Value)]) {
        self.shared.update_count.fetch_add(1, Ordering::SeqCst);
        self.shared.projector.invalidate(changes);
        self.shared.relocate_changed_identities(changes);

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

        let due: Vec<Arc<View>> = affected
            .into_values()
            .filter_map(|(view, keys)| self.enqueue(&view, keys).then_some(view))
            .collect();
        self.run_updates(due);
    }

    /// Returns the number of connections that watch the keys their permission class was
    /// read from, counted once per key.
    pub fn identity_watches(&self) -> usize {
        self.shared
            .identity_watchers
            .lock()
            .values()
            .map(SmallVec::len)
            .sum()
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

    fn join(&self, audience: Audience, request: Arc<Request>) -> Membership {
        let key = ViewKey {
            request: request.canonical().clone(),
            audience: audience.clone(),
        };
        let mut views = self.shared.views.lock();
        let view = views
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(View {
                    id: self.shared.next_view_id.fetch_add(1, Ordering::Relaxed),
                    key,
                    request: request.clone(),
                    body: tokio::sync::Mutex::new(ViewBody {
                        state: ViewState::new(request, audience),
                        resolved: false,
                        resolving: false,
                        closed: false,
                        failed: None,
                        snapshot: None,
                    }),
                    subscribers: Mutex::new(Vec::new()),
                    pending: Mutex::new(PendingKeys::default()),
                    members: std::sync::atomic::AtomicUsize::new(0),
                    waiting: watch::Sender::new(false),
                    left: watch::Sender::new(false),
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
        if self.enqueue(&view, keys) {
            self.run_updates(vec![view]);
        }
    }

    /// Queues changed keys for a view. Returns true when the caller has to run the
    /// view's update, because none is running or scheduled.
    fn enqueue(&self, view: &View, keys: Vec<Key>) -> bool {
        let mut pending = view.pending.lock();
        pending.keys.extend(keys);
        !std::mem::replace(&mut pending.scheduled, true)
    }

    /// Runs the updates of views in a few tasks, one per core at most, instead of one
    /// task per view: a change that reaches many views then costs a few task switches.
    fn run_updates(&self, views: Vec<Arc<View>>) {
        if views.is_empty() {
            return;
        }
        let tasks = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(views.len());
        let per_task = views.len().div_ceil(tasks);
        let mut views = views.into_iter();
        for _ in 0..tasks {
            let chunk: Vec<Arc<View>> = views.by_ref().take(per_task).collect();
            let autoupdate = self.clone();
            tokio::spawn(async move {
                for view in chunk {
                    autoupdate.process_shared(view).await;
                }
            });
        }
    }

    /// Runs a view's update in a task shared with other views. A view that keeps getting
    /// changes, or whose update waits for the datastore, continues in a task of its own,
    /// so that it does not hold up the others.
    async fn process_shared(&self, view: Arc<View>) {
        let mut waiting = view.waiting.subscribe();
        let autoupdate = self.clone();
        let shared_view = view.clone();
        let mut update = Box::pin(async move {
            autoupdate
                .process(shared_view, Some(SHARED_TASK_ROUNDS))
                .await
        });
        let done = tokio::select! {
            biased;
            done = &mut update => done,
            _ = waiting.wait_for(|waiting| *waiting) => {
                // The update moves on to a task of its own, where it goes on waiting.
                let autoupdate = self.clone();
                tokio::spawn(async move {
                    if !update.await {
                        autoupdate.process(view, None).await;
                    }
                });
                return;
            }
        };
        if !done {
            let autoupdate = self.clone();
            tokio::spawn(async move { autoupdate.process(view, None).await });
        }
    }

    /// Applies queued changes to a view until none are left, and publishes the result.
    /// With `max_rounds`, stops after that many rounds and returns false when changes
    /// are still queued; the view then stays scheduled for the caller to continue.
    async fn process(&self, view: Arc<View>, max_rounds: Option<usize>) -> bool {
        let mut rounds = 0;
        loop {
            let (mut keys, all) = {
                let mut pending = view.pending.lock();
                if pending.keys.is_empty() && !pending.all {
                    pending.scheduled = false;
                    return true;
                }
                if max_rounds.is_some_and(|max| rounds >= max) {
                    return false;
                }
                rounds += 1;
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
            // While the datastore is unavailable the update waits for it, holding the
            // body's lock, and the streams stay open until it continues. It stops
            // waiting when the last connection leaves.
            let patience = Patience::new(view.waiting.clone(), view.left.subscribe());
            let update = body.state.update(&keys, &reader, &mut on_added);
            match datastore::wait_for_source(patience, update).await {
                Ok(changes) => {
                    self.shared.unwatch(&view, &changes.removed);
                    self.recheck_dependencies(&view, started_at, changes.new_dependencies);
                    if !changes.values.is_empty() {
                        body.snapshot = None;
                    }
                    let personal = changes.personal_grew.then(|| body.state.personal());
                    let moves = |subscriber: &Subscriber| {
                        personal.is_some_and(|personal| {
                            subscriber
                                .identity
                                .as_ref()
                                .is_some_and(|identity| personal.covers(identity))
                        })
                    };
                    let delta =
                        (!changes.values.is_empty()).then(|| Arc::new(Delta::new(changes.values)));
                    for subscriber in view.subscribers.lock().iter() {
                        if moves(subscriber) {
                            // Members who may now see more than the class move to a
                            // view of their own, without this change of the class view.
                            subscriber.mailbox.relocate_withholding(&changes.previous);
                        } else if let Some(delta) = &delta {
                            subscriber.mailbox.push(delta.clone());
                        }
                    }
                }
                Err(error) => {
                    // An unavailable datastore ends up here only when every connection
                    // left while the update waited, because the view is closing then.
                    if *view.left.borrow() {
                        tracing::debug!(view = view.id, %error, "view update stopped: no connection is left");
                    } else {
                        tracing::warn!(view = view.id, %error, "view update failed; its streams end");
                    }
                    body.failed = Some(error.clone());
                    for subscriber in view.subscribers.lock().iter() {
                        subscriber.mailbox.fail(error.clone());
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
            view.subscribers
                .lock()
                .retain(|s| !Arc::ptr_eq(&s.mailbox, mailbox));
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
        view.left.send_replace(true);

        // Closing waits for a running update, which may still add keys to watch.
        let view = view.clone();
        let shared = self.shared.clone();
        let close = async move {
            let mut body = view.body.lock().await;
            body.closed = true;
            let keys: Vec<Key> = body.state.watched_keys().collect();
            shared.unwatch(&view, &keys);
            body.state = ViewState::new(Arc::new(Request::default()), view.key.audience.clone());
            body.snapshot = None;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(close);
        }
    }
}

impl Shared {
    /// Reads the keys that permission classes were read from again, and moves the
    /// connections whose keys differ from `before`, the values cached until a reset. A key
    /// that was not cached counts as changed. While the datastore is unavailable, this
    /// waits for it.
    async fn relocate_missed_identities(
        self: Arc<Shared>,
        keys: Vec<Key>,
        before: Vec<Option<Value>>,
    ) {
        let patience = Patience::until_dropped();
        let read = datastore::wait_for_source(patience, self.datastore.get(&keys)).await;
        let changed: Vec<(Key, Value)> = match read {
            Ok(values) => keys
                .into_iter()
                .zip(values)
                .zip(before)
                .filter(|((_, now), before)| before.as_ref() != Some(now))
                .map(|((key, now), _)| (key, now))
                .collect(),
            Err(error) => {
                // Without the new values, every such connection reads its class again.
                tracing::warn!(%error, "reading permission classes again failed; moving every member");
                keys.into_iter().map(|key| (key, None)).collect()
            }
        };
        if !changed.is_empty() {
            tracing::info!(
                keys = changed.len(),
                "keys of permission classes differ from the cache or were not cached; their members read their class again"
            );
            self.relocate_changed_identities(&changed);
        }
    }

    /// Moves connections whose permission class was read from a changed key.
    fn relocate_changed_identities(&self, changes: &[(Key, Value)]) {
        let watchers = self.identity_watchers.lock();
        if watchers.is_empty() {
            return;
        }
        for (key, _) in changes {
            for mailbox in watchers.get(key).into_iter().flatten() {
                if let Some(mailbox) = mailbox.upgrade() {
                    mailbox.relocate();
                }
            }
        }
    }

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

/// The parts of the result of `Autoupdate::attach` besides the first message.
#[derive(Clone, Copy)]
enum Want {
    Nothing,
    /// Every key of the request with its value or `None`.
    Entries,
}

struct Attached {
    first: Bytes,
    entries: Option<Vec<(Key, Value)>>,
    membership: Membership,
    identity_watch: Option<IdentityWatch>,
}

/// A connection's watch on the keys its permission class was read from; removed on drop.
struct IdentityWatch {
    shared: Arc<Shared>,
    keys: Vec<Key>,
    mailbox: Weak<Mailbox>,
}

impl IdentityWatch {
    fn new(shared: Arc<Shared>, keys: Vec<Key>, mailbox: &Arc<Mailbox>) -> IdentityWatch {
        let weak = Arc::downgrade(mailbox);
        {
            let mut watchers = shared.identity_watchers.lock();
            for key in &keys {
                watchers.entry(*key).or_default().push(weak.clone());
            }
        }
        IdentityWatch {
            shared,
            keys,
            mailbox: weak,
        }
    }
}

impl Drop for IdentityWatch {
    fn drop(&mut self) {
        let mut watchers = self.shared.identity_watchers.lock();
        for key in &self.keys {
            if let Some(list) = watchers.get_mut(key) {
                list.retain(|m| !m.ptr_eq(&self.mailbox));
                if list.is_empty() {
                    watchers.remove(key);
                }
            }
        }
    }
}

/// A subscription to a request. Dropping it ends the subscription.
pub struct Connection {
    first: Option<Bytes>,
    entries: Option<Vec<(Key, Value)>>,
    membership: Membership,
    identity_watch: Option<IdentityWatch>,
    viewer: Viewer,
    request: Arc<Request>,
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
        Ok(self.next_values().await?.json().clone())
    }

    /// Waits for the next change, as keys with their new values (`None`: gone).
    pub async fn next_values(&mut self) -> Result<Arc<Delta>, AutoupdateError> {
        loop {
            let Some(mailbox) = self.membership.mailbox.clone() else {
                return std::future::pending().await;
            };
            match mailbox.next_event().await? {
                Event::Delta(delta) => return Ok(delta),
                Event::Relocate => {
                    if let Some(delta) = self.relocate(&mailbox).await? {
                        return Ok(delta);
                    }
                }
            }
        }
    }

    /// Moves the connection to the view its user belongs to now and returns what
    /// differs between the two, merged with what was not taken from the old view yet.
    async fn relocate(
        &mut self,
        old: &Arc<Mailbox>,
    ) -> Result<Option<Arc<Delta>>, AutoupdateError> {
        let view = self.membership.view.clone();
        let (mut client_values, pending) = {
            let body = view.body.lock().await;
            view.subscribers
                .lock()
                .retain(|s| !Arc::ptr_eq(&s.mailbox, old));
            if let Some(error) = &body.failed {
                return Err(error.clone());
            }
            let values: HashMap<Key, Value> = body.state.entries().into_iter().collect();
            (values, old.take_pending())
        };
        // What the client holds: the old view without the changes kept from it.
        let (pending, withheld) = pending;
        client_values.extend(withheld);

        let autoupdate = self.membership.autoupdate.clone();
        let mailbox = Arc::new(Mailbox::default());
        // Like a view update, a move waits while the datastore is unavailable: the
        // stream stays open and gets the difference when it is back. Waiting ends when
        // the connection is dropped.
        let patience = Patience::until_dropped();
        let attach = autoupdate.attach(self.viewer, &self.request, mailbox, Want::Entries);
        let attached = datastore::wait_for_source(patience, attach).await?;
        self.request = attached.membership.view.request.clone();
        self.membership = attached.membership;
        self.identity_watch = attached.identity_watch;

        let entries = attached.entries.unwrap_or_default();
        let changed = difference(&client_values, &entries, pending.as_ref());
        Ok((!changed.is_empty()).then(|| Arc::new(Delta::new(changed))))
    }
}

/// Returns what a client must get to move from one view to another: each key of the
/// new view's `entries` whose value differs from what the client holds, and each key of
/// `pending`, which the client has not taken yet. Keys that are not in the new view are
/// not sent, as when they leave a view.
fn difference(
    client_values: &HashMap<Key, Value>,
    entries: &[(Key, Value)],
    pending: Option<&Delta>,
) -> Vec<(Key, Value)> {
    let pending: HashMap<Key, ()> = pending
        .map(|delta| delta.values().iter().map(|(key, _)| (*key, ())).collect())
        .unwrap_or_default();
    entries
        .iter()
        .filter(|(key, value)| {
            pending.contains_key(key)
                || match client_values.get(key) {
                    Some(old) => old != value,
                    None => value.is_some(),
                }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
