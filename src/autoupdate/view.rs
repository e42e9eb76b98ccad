//! `ViewState`: the resolved keys and values of one request for one viewer, updated
//! incrementally. A change costs work for the keys it touches and the branches of the
//! request it adds or removes, not for the whole request.
//!
//! Every field set of the request is applied to objects with a reference count. A key
//! stays while some applied field set contains it; a relation key applies its nested
//! field set to each object its value points to. When a value changes, only the
//! difference between old and new targets is applied or removed.

use super::AutoupdateError;
use crate::datastore::{Datastore, Value};
use crate::keysbuilder::{FieldSetId, Follow, Request};
use crate::models::{FieldKind, Fqid, Id, Key};
use crate::projector::{self, Projector};
use crate::restrict::{Audience, CollectionMode, Outcome, Personal, Restricter, RuleRestricter};
use crate::vote::{self, VoteState};
use hashbrown::{HashMap, HashSet};
use smallvec::SmallVec;
use std::sync::Arc;

#[derive(Debug)]
struct KeyState {
    /// How many applied field sets contain this key. Zero only within a transaction,
    /// before the key is dropped at its end.
    refs: u32,
    /// Nested field sets applied to the objects this key's value points to.
    follows: SmallVec<[FieldSetId; 1]>,
    /// The restricted value, as last sent to subscribers.
    value: Value,
}

/// The keys of a view and their values.
pub struct ViewState {
    request: Arc<Request>,
    audience: Audience,
    /// For a permission class: the members whose values may differ from the view's.
    personal: Personal,
    keys: HashMap<Key, KeyState>,
    applied: HashMap<(FieldSetId, Fqid), u32>,
    /// Keys the restriction rules read, with the collection modes whose results depend
    /// on them. When one changes, the keys of those modes are restricted again.
    // NOTE: entries are only added, never removed, until the view closes; a stale entry
    // costs an unneeded check, never a missed change.
    restrict_deps: HashMap<Key, SmallVec<[CollectionMode; 2]>>,
    /// The rule results of earlier reads, per mode and object. A changed scalar value
    /// of an object whose result is known skips the rules. The results of a mode are
    /// decided again when a key in `restrict_deps` of that mode changes.
    results: HashMap<(CollectionMode, Id), bool>,
}

/// What one transaction changed for subscribers, and which keys left the view.
#[derive(Default)]
pub struct Changes {
    /// Keys whose value subscribers must get, sorted; `None` means the value is gone.
    pub values: Vec<(Key, Value)>,
    /// Keys that left the view, including keys that joined and left within the
    /// transaction. Each of them was passed to `on_added` before.
    pub removed: Vec<Key>,
    /// Keys the restriction rules read for the first time in this transaction. They were
    /// passed to `on_added` only after they were read, so a change in between may have
    /// been missed. The caller checks them again when the datastore changed meanwhile.
    pub new_dependencies: Vec<Key>,
    /// The view's `personal` gained members in this transaction.
    pub personal_grew: bool,
    /// The value each key of `values` and each key that left the view had before,
    /// `None` for keys new in the view.
    pub previous: Vec<(Key, Value)>,
}

/// The state of a key before the running transaction touched it.
enum Before {
    New,
    Existing(Value),
}

/// The bookkeeping of one transaction.
#[derive(Default)]
struct Txn {
    before: HashMap<Key, Before>,
    to_read: Vec<Key>,
    pending_read: HashSet<Key>,
    /// Follows added to keys whose value is still to be read; their old targets are empty.
    fresh_follows: HashSet<(Key, FieldSetId)>,
}

impl Txn {
    fn touch(&mut self, key: Key, state: Option<&KeyState>) {
        self.before.entry(key).or_insert_with(|| match state {
            Some(state) => Before::Existing(state.value.clone()),
            None => Before::New,
        });
    }

    fn read(&mut self, key: Key) {
        if self.pending_read.insert(key) {
            self.to_read.push(key);
        }
    }
}

/// Reads values from the datastore and passes them through the restriction stage.
pub struct Reader<'a> {
    pub datastore: &'a Datastore,
    pub restricter: &'a dyn Restricter,
    /// Computes `projection/content`. Without it, that field is read from the datastore.
    pub projector: Option<&'a Projector>,
    /// The source of `poll/has_voted_user_ids`. Without it, that field has no value.
    pub votes: Option<&'a VoteState>,
}

impl Reader<'_> {
    async fn read(
        &self,
        audience: &Audience,
        keys: &[Key],
    ) -> Result<(Vec<(Key, Value)>, Outcome), AutoupdateError> {
        let mut pairs = self.read_unrestricted(keys).await?;
        let outcome = self.restricter.restrict_for(audience, &mut pairs).await?;
        Ok((pairs, outcome))
    }

    /// Reads stored keys from the datastore and calculated keys from their own source:
    /// `projection/content` from the projector (from the datastore without one) and
    /// `poll/has_voted_user_ids` from the vote service's state.
    async fn read_unrestricted(&self, keys: &[Key]) -> Result<Vec<(Key, Value)>, AutoupdateError> {
        let is_calculated = |key: Key| {
            (self.projector.is_some() && projector::is_content(key)) || vote::is_has_voted(key)
        };
        if !keys.iter().any(|key| is_calculated(*key)) {
            let values = self.datastore.get(keys).await?;
            return Ok(keys.iter().copied().zip(values).collect());
        }

        let (calculated, stored): (Vec<Key>, Vec<Key>) =
            keys.iter().partition(|key| is_calculated(**key));
        let (contents, voted): (Vec<Key>, Vec<Key>) = calculated
            .into_iter()
            .partition(|key| projector::is_content(*key));
        let values = self.datastore.get(&stored).await?;
        let mut pairs: Vec<(Key, Value)> = stored.into_iter().zip(values).collect();

        if let Some(projector) = self.projector.filter(|_| !contents.is_empty()) {
            let ids: Vec<_> = contents.iter().map(|key| key.id()).collect();
            let values = projector.get(&ids).await;
            pairs.extend(contents.into_iter().zip(values));
        }

        let poll_ids: Vec<_> = voted.iter().map(|key| key.id()).collect();
        match self.votes {
            Some(votes) => pairs.extend(voted.into_iter().zip(votes.get(&poll_ids))),
            None => pairs.extend(voted.into_iter().map(|key| (key, None))),
        }
        Ok(pairs)
    }
}

impl ViewState {
    pub fn new(request: Arc<Request>, audience: impl Into<Audience>) -> ViewState {
        ViewState {
            request,
            audience: audience.into(),
            personal: Personal::default(),
            results: HashMap::new(),
            keys: HashMap::new(),
            applied: HashMap::new(),
            restrict_deps: HashMap::new(),
        }
    }

    /// Resolves the request from scratch. Every key with a value is in the returned
    /// changes.
    pub async fn resolve(
        &mut self,
        reader: &Reader<'_>,
        on_added: &mut (dyn FnMut(&[Key]) + Send),
    ) -> Result<Changes, AutoupdateError> {
        let mut txn = Txn::default();
        let request = self.request.clone();
        for root in request.roots() {
            for &id in &root.ids {
                self.apply(&mut txn, root.field_set, Fqid::new(root.collection, id))?;
            }
        }
        self.run(txn, reader, on_added).await
    }

    /// Reads the given keys again and follows what changed. Keys this view does not
    /// contain are ignored.
    pub async fn update(
        &mut self,
        changed: &[Key],
        reader: &Reader<'_>,
        on_added: &mut (dyn FnMut(&[Key]) + Send),
    ) -> Result<Changes, AutoupdateError> {
        let mut txn = Txn::default();
        let mut affected_modes: HashSet<CollectionMode> = HashSet::new();
        for &key in changed {
            if let Some(state) = self.keys.get(&key) {
                txn.touch(key, Some(state));
                txn.read(key);
            }
            if let Some(modes) = self.restrict_deps.get(&key) {
                affected_modes.extend(modes.iter().copied());
            }
        }
        let mut personal_grew = false;
        let mut decided_dependencies = Vec::new();
        if !affected_modes.is_empty() {
            let old: HashMap<(CollectionMode, Id), bool> = self
                .results
                .extract_if(|(mode, _), _| affected_modes.contains(mode))
                .collect();
            let affected = match self.decide_again(&old, reader).await? {
                Some(outcome) => {
                    personal_grew = self.personal.extend(&outcome.personal);
                    decided_dependencies = self.add_dependencies(outcome.dependencies);
                    on_added(&decided_dependencies);
                    let new: HashMap<(CollectionMode, Id), bool> = outcome
                        .results
                        .into_iter()
                        .map(|(mode, id, visible)| ((mode, id), visible))
                        .collect();
                    let keys = self
                        .flipped_keys(&affected_modes, &old, &new, reader)
                        .await?;
                    self.results.extend(new);
                    keys
                }
                // NOTE: without rule results, every key of the view is scanned and each
                // one that depends on an affected mode is restricted again.
                None => self
                    .keys
                    .keys()
                    .copied()
                    .filter(|key| depends_on(*key, &affected_modes))
                    .collect(),
            };
            for key in affected {
                txn.touch(key, self.keys.get(&key));
                txn.read(key);
            }
        }
        let mut changes = self.run(txn, reader, on_added).await?;
        changes.personal_grew |= personal_grew;
        changes.new_dependencies.extend(decided_dependencies);
        Ok(changes)
    }

    /// Decides again the objects whose results `old` contains, in one restriction run.
    // NOTE: this decides every object of an affected mode, so moving one motion into a
    // restricted state still costs in proportion to all motions of the view (about 13 ms
    // for 1,000). Results that record the keys of each object would narrow it down.
    async fn decide_again(
        &self,
        old: &HashMap<(CollectionMode, Id), bool>,
        reader: &Reader<'_>,
    ) -> Result<Option<Outcome>, AutoupdateError> {
        let mut objects: HashMap<CollectionMode, Vec<Id>> = HashMap::new();
        for (mode, id) in old.keys() {
            objects.entry(*mode).or_default().push(*id);
        }
        let objects: Vec<(CollectionMode, Vec<Id>)> = objects.into_iter().collect();
        Ok(reader.restricter.decide(&self.audience, objects).await?)
    }

    /// Returns the keys to restrict again after the results of `modes` were decided
    /// anew: keys of objects whose result changed or was not known, and relation keys
    /// whose stored value points to such an object.
    async fn flipped_keys(
        &self,
        modes: &HashSet<CollectionMode>,
        old: &HashMap<(CollectionMode, Id), bool>,
        new: &HashMap<(CollectionMode, Id), bool>,
        reader: &Reader<'_>,
    ) -> Result<Vec<Key>, AutoupdateError> {
        let changed =
            |mode: CollectionMode, id: Id| match (old.get(&(mode, id)), new.get(&(mode, id))) {
                (Some(before), Some(after)) => before != after,
                _ => true,
            };
        let mut keys = Vec::new();
        // Keys of affected objects without a result: the rules skip keys without a
        // value, so they are restricted again only when they have one now.
        let mut undecided = Vec::new();
        let mut relations = Vec::new();
        for key in self.keys.keys() {
            let def = key.field().def();
            let own = (def.collection, def.restriction_mode);
            if modes.contains(&own) {
                match (old.get(&(own, key.id())), new.get(&(own, key.id()))) {
                    (Some(before), Some(after)) if before == after => {}
                    (Some(_), Some(_)) => {
                        keys.push(*key);
                        continue;
                    }
                    _ if def.calculated => {
                        keys.push(*key);
                        continue;
                    }
                    _ => {
                        undecided.push(*key);
                        continue;
                    }
                }
            }
            let points_to_affected = def.reverse.iter().any(|(target, _)| {
                RuleRestricter::target_mode(key.field(), *target)
                    .is_some_and(|mode| modes.contains(&(*target, mode)))
            });
            if points_to_affected && def.calculated {
                // Calculated values are not in the datastore to compare with.
                keys.push(*key);
            } else if points_to_affected {
                relations.push(*key);
            }
        }

        let raw = reader.datastore.get(&undecided).await?;
        for (key, value) in undecided.into_iter().zip(raw) {
            if value.is_some() {
                keys.push(key);
            }
        }

        // A relation value is filtered by its targets' results, so it is restricted
        // again when one of the targets it stores changed.
        let raw = reader.datastore.get(&relations).await?;
        for (key, value) in relations.into_iter().zip(raw) {
            let Some(value) = value else { continue };
            let Some(follow) = follow_of(key) else {
                continue;
            };
            let Ok(targets) = Request::targets(follow, &value) else {
                keys.push(key);
                continue;
            };
            let stale = targets.iter().any(|target| {
                RuleRestricter::target_mode(key.field(), target.collection).is_some_and(|mode| {
                    modes.contains(&(target.collection, mode))
                        && changed((target.collection, mode), target.id)
                })
            });
            if stale {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// Returns every key that has a value, with the value, sorted by key.
    pub fn values(&self) -> Vec<(Key, Value)> {
        let mut values: Vec<(Key, Value)> = self
            .keys
            .iter()
            .filter(|(_, state)| state.value.is_some())
            .map(|(key, state)| (*key, state.value.clone()))
            .collect();
        values.sort_unstable_by_key(|(key, _)| *key);
        values
    }

    /// Returns every key of the request, with its value or `None`, sorted by key.
    pub fn entries(&self) -> Vec<(Key, Value)> {
        let mut entries: Vec<(Key, Value)> = self
            .keys
            .iter()
            .map(|(key, state)| (*key, state.value.clone()))
            .collect();
        entries.sort_unstable_by_key(|(key, _)| *key);
        entries
    }

    /// Lists every key the view watches: its own keys and the keys its restriction read.
    pub fn watched_keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.keys.keys().copied().chain(
            self.restrict_deps
                .keys()
                .copied()
                .filter(|key| !self.keys.contains_key(key)),
        )
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn request(&self) -> &Arc<Request> {
        &self.request
    }

    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    /// Returns the members of the view's permission class whose values may differ.
    pub fn personal(&self) -> &Personal {
        &self.personal
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Reads pending keys in rounds, one datastore call per round, until no key is left
    /// to read. `on_added` gets the new keys of each round before their values are read,
    /// so that a change arriving meanwhile reaches this view.
    async fn run(
        &mut self,
        mut txn: Txn,
        reader: &Reader<'_>,
        on_added: &mut (dyn FnMut(&[Key]) + Send),
    ) -> Result<Changes, AutoupdateError> {
        let mut new_dependencies = Vec::new();
        let mut personal_grew = false;
        while !txn.to_read.is_empty() {
            // Every new key waits in `to_read`, so the view grows at most one round past
            // the limit. NOTE: keys that leave in this transaction count until it ends.
            let limit = self.request.max_keys();
            if self.keys.len() > limit {
                return Err(AutoupdateError::TooManyKeys { limit });
            }
            let keys = std::mem::take(&mut txn.to_read);
            txn.pending_read.clear();

            let round_added: Vec<Key> = keys
                .iter()
                .copied()
                .filter(|key| matches!(txn.before.get(key), Some(Before::New)))
                .filter(|key| !self.restrict_deps.contains_key(key))
                .collect();
            on_added(&round_added);

            // Scalar values of objects with a known result need no rules.
            let (known, keys): (Vec<Key>, Vec<Key>) = keys
                .into_iter()
                .partition(|key| self.known_result(*key).is_some());
            if !known.is_empty() {
                for (key, value) in reader.read_unrestricted(&known).await? {
                    let visible = self.known_result(key).unwrap_or(false);
                    self.set_value(&mut txn, key, value.filter(|_| visible))?;
                }
            }
            if keys.is_empty() {
                continue;
            }

            let (values, outcome) = reader.read(&self.audience, &keys).await?;
            personal_grew |= self.personal.extend(&outcome.personal);
            let round_dependencies = self.add_dependencies(outcome.dependencies);
            on_added(&round_dependencies);
            new_dependencies.extend(round_dependencies);
            self.results.extend(
                outcome
                    .results
                    .into_iter()
                    .map(|(mode, id, visible)| ((mode, id), visible)),
            );

            for (key, value) in values {
                self.set_value(&mut txn, key, value)?;
            }
        }
        let mut changes = self.finish(txn);
        changes.new_dependencies = new_dependencies;
        changes.personal_grew = personal_grew;
        Ok(changes)
    }

    /// Returns the known rule result for a key of a scalar field. Relations get `None`,
    /// because the rules filter their values, and so do objects not decided yet.
    fn known_result(&self, key: Key) -> Option<bool> {
        let def = key.field().def();
        if !matches!(def.kind, FieldKind::Scalar(_)) {
            return None;
        }
        self.results
            .get(&((def.collection, def.restriction_mode), key.id()))
            .copied()
    }

    /// Records what the restriction read; returns the keys that neither the view nor
    /// earlier restrictions watched.
    fn add_dependencies(&mut self, dependencies: crate::restrict::Dependencies) -> Vec<Key> {
        let mut new = Vec::new();
        for (key, modes) in dependencies {
            let watched = self.keys.contains_key(&key);
            let entry = self.restrict_deps.entry(key).or_insert_with(|| {
                if !watched {
                    new.push(key);
                }
                SmallVec::new()
            });
            for mode in modes {
                if !entry.contains(&mode) {
                    entry.push(mode);
                }
            }
        }
        new
    }

    /// Stores a read value and applies or removes the nested field sets of the targets
    /// that changed.
    fn set_value(&mut self, txn: &mut Txn, key: Key, value: Value) -> Result<(), AutoupdateError> {
        let Some(state) = self.keys.get_mut(&key) else {
            return Ok(());
        };
        let old = std::mem::replace(&mut state.value, value);
        if state.follows.is_empty() {
            return Ok(());
        }

        let follows = state.follows.clone();
        let new = state.value.clone();
        for field_set in follows {
            let old_targets = if txn.fresh_follows.remove(&(key, field_set)) {
                SmallVec::new()
            } else {
                self.targets(key, field_set, &old)?
            };
            let new_targets = self.targets(key, field_set, &new)?;
            for target in &new_targets {
                if !old_targets.contains(target) {
                    self.apply(txn, field_set, *target)?;
                }
            }
            for target in &old_targets {
                if !new_targets.contains(target) {
                    self.unapply(txn, field_set, *target)?;
                }
            }
        }
        Ok(())
    }

    /// Returns the distinct objects a value points to, followed as the field set describes.
    fn targets(
        &self,
        key: Key,
        field_set: FieldSetId,
        value: &Value,
    ) -> Result<SmallVec<[Fqid; 4]>, AutoupdateError> {
        let Some(raw) = value else {
            return Ok(SmallVec::new());
        };
        let Some(follow) = self.request.field_set(field_set).follow else {
            return Ok(SmallVec::new());
        };
        let mut targets =
            Request::targets(follow, raw).map_err(|error| AutoupdateError::Value { key, error })?;
        if targets.len() > 1 {
            let mut seen = HashSet::with_capacity(targets.len());
            targets.retain(|target| seen.insert(*target));
        }
        Ok(targets)
    }

    fn apply(
        &mut self,
        txn: &mut Txn,
        field_set: FieldSetId,
        fqid: Fqid,
    ) -> Result<(), AutoupdateError> {
        let count = self.applied.entry((field_set, fqid)).or_insert(0);
        *count += 1;
        if *count > 1 {
            return Ok(());
        }

        let request = self.request.clone();
        for requested in request.field_set(field_set).fields_for(fqid.collection) {
            let key = Key::new(requested.field, fqid.id);
            txn.touch(key, self.keys.get(&key));
            let state = self.keys.entry(key).or_insert_with(|| {
                txn.read(key);
                KeyState {
                    refs: 0,
                    follows: SmallVec::new(),
                    value: None,
                }
            });
            state.refs += 1;

            let Some(nested) = requested.follow else {
                continue;
            };
            state.follows.push(nested);
            if txn.pending_read.contains(&key) {
                txn.fresh_follows.insert((key, nested));
                continue;
            }
            let value = state.value.clone();
            for target in self.targets(key, nested, &value)? {
                self.apply(txn, nested, target)?;
            }
        }
        Ok(())
    }

    fn unapply(
        &mut self,
        txn: &mut Txn,
        field_set: FieldSetId,
        fqid: Fqid,
    ) -> Result<(), AutoupdateError> {
        let Some(count) = self.applied.get_mut(&(field_set, fqid)) else {
            return Ok(());
        };
        *count -= 1;
        if *count > 0 {
            return Ok(());
        }
        self.applied.remove(&(field_set, fqid));

        let request = self.request.clone();
        for requested in request.field_set(field_set).fields_for(fqid.collection) {
            let key = Key::new(requested.field, fqid.id);
            let Some(state) = self.keys.get_mut(&key) else {
                continue;
            };
            txn.before
                .entry(key)
                .or_insert_with(|| Before::Existing(state.value.clone()));
            state.refs -= 1;

            let Some(nested) = requested.follow else {
                continue;
            };
            if let Some(position) = state.follows.iter().position(|f| *f == nested) {
                state.follows.swap_remove(position);
            }
            if txn.fresh_follows.remove(&(key, nested)) {
                continue;
            }
            let value = state.value.clone();
            for target in self.targets(key, nested, &value)? {
                self.unapply(txn, nested, target)?;
            }
        }
        Ok(())
    }

    /// Drops keys that no field set contains anymore and collects what subscribers get:
    /// new keys with a value, and changed values of kept keys. Keys that left the view
    /// are not sent, since the client may still hold them through another request.
    fn finish(&mut self, txn: Txn) -> Changes {
        let mut values = Vec::new();
        let mut previous = Vec::new();
        let mut removed = Vec::new();
        for (key, before) in txn.before {
            let Some(state) = self.keys.get(&key) else {
                continue;
            };
            if state.refs == 0 {
                if let Before::Existing(old) = &before {
                    previous.push((key, old.clone()));
                }
                self.keys.remove(&key);
                // A key the restriction reads stays watched.
                if !self.restrict_deps.contains_key(&key) {
                    removed.push(key);
                }
                continue;
            }
            match before {
                Before::New if state.value.is_some() => {
                    values.push((key, state.value.clone()));
                    previous.push((key, None));
                }
                Before::Existing(old) if old != state.value => {
                    values.push((key, state.value.clone()));
                    previous.push((key, old));
                }
                _ => {}
            }
        }
        values.sort_unstable_by_key(|(key, _)| *key);
        Changes {
            values,
            removed,
            new_dependencies: Vec::new(),
            personal_grew: false,
            previous,
        }
    }
}

/// Checks whether a key's restricted value can depend on the results of `modes`: its own
/// mode is among them, or it is a relation to a collection whose deciding mode is.
/// Returns how the targets of a relation key are read from its value.
fn follow_of(key: Key) -> Option<Follow> {
    match key.field().def().kind {
        FieldKind::Relation(target) => Some(Follow::Relation(target)),
        FieldKind::RelationList(target) => Some(Follow::RelationList(target)),
        FieldKind::GenericRelation(_) => Some(Follow::GenericRelation),
        FieldKind::GenericRelationList(_) => Some(Follow::GenericRelationList),
        FieldKind::Scalar(_) => None,
    }
}

fn depends_on(key: Key, modes: &HashSet<CollectionMode>) -> bool {
    let def = key.field().def();
    if modes.contains(&(def.collection, def.restriction_mode)) {
        return true;
    }
    def.reverse.iter().any(|(target, _)| {
        RuleRestricter::target_mode(key.field(), *target)
            .is_some_and(|mode| modes.contains(&(*target, mode)))
    })
}
