//! `Context`: the state a restriction rule works with. It reads values for the rule,
//! records every key it read as a dependency of the rule's result, caches the viewer's
//! permissions per meeting, and caches results per collection, mode and id for the whole
//! evaluation.

use super::audience::{Audience, Personal};
use super::permission::OrganizationManagementLevel;
use super::perms::Perms;
use super::rules;
use super::{RestrictError, Viewer};
use crate::datastore::Datastore;
use crate::models::{collections, Collection, Field, FieldValue, Id, Key, Model, RestrictionMode};
use bytes::Bytes;
use hashbrown::{HashMap, HashSet};
use std::sync::Arc;

/// A restriction mode of a collection.
pub type CollectionMode = (Collection, RestrictionMode);

#[derive(Default)]
struct Answers {
    allowed: HashMap<Id, bool>,
    /// Every key the rule read to compute these results.
    deps: HashSet<Key>,
}

/// The viewer's permissions in one meeting, with the keys they were computed from.
type MeetingPerms = (Option<Arc<Perms>>, Arc<[Key]>);

/// A rule under evaluation.
#[derive(Default)]
struct Frame {
    /// Every key it read.
    deps: HashSet<Key>,
    /// The user and membership ids in what it read, for class runs.
    personal: Personal,
}

/// The state of one restriction run for one audience.
pub struct Context {
    datastore: Arc<Datastore>,
    audience: Audience,
    answers: HashMap<CollectionMode, Answers>,
    /// The rules under evaluation, innermost last.
    frames: Vec<Frame>,
    /// The members whose values may differ from this class run's.
    personal: Personal,
    /// The viewer's permissions per meeting, with the keys they were computed from.
    perms: HashMap<Id, MeetingPerms>,
    oml: Option<OrganizationManagementLevel>,
}

impl Context {
    pub fn new(datastore: Arc<Datastore>, viewer: Viewer) -> Context {
        Context::for_audience(datastore, viewer.into())
    }

    /// Creates a run for a user or for a permission class.
    pub fn for_audience(datastore: Arc<Datastore>, audience: Audience) -> Context {
        Context {
            datastore,
            audience,
            personal: Personal::default(),
            answers: HashMap::new(),
            frames: Vec::new(),
            perms: HashMap::new(),
            oml: None,
        }
    }

    /// Returns the user the rules decide for; 0 is public access. For a permission
    /// class it is a stand-in that no stored object names.
    pub fn user_id(&self) -> Id {
        self.audience.user_id()
    }

    /// Reads one field of many objects in one datastore call. Missing values are `None`.
    pub async fn get<M: Model, V: FieldValue>(
        &mut self,
        field: Field<M, V>,
        ids: &[Id],
    ) -> Result<Vec<Option<V>>, RestrictError> {
        let keys: Vec<Key> = ids.iter().map(|id| field.key(*id)).collect();
        let values = match &self.audience {
            Audience::User(_) => {
                self.record(&keys);
                self.datastore.get(&keys).await?
            }
            Audience::Class(_) => self.get_for_class(&keys).await?,
        };
        keys.iter()
            .zip(values)
            .map(|(key, value)| match value {
                None => Ok(None),
                Some(raw) => V::decode(&raw)
                    .map(Some)
                    .map_err(|error| RestrictError::Value { key: *key, error }),
            })
            .collect()
    }

    /// Reads one field of one object.
    pub async fn get_one<M: Model, V: FieldValue>(
        &mut self,
        field: Field<M, V>,
        id: Id,
    ) -> Result<Option<V>, RestrictError> {
        Ok(self.get(field, &[id]).await?.pop().flatten())
    }

    /// Returns the viewer's organization management level.
    pub async fn oml(&mut self) -> Result<OrganizationManagementLevel, RestrictError> {
        let user_id = self.user_id();
        if user_id == 0 {
            return Ok(OrganizationManagementLevel::None);
        }
        let field = collections::User::ORGANIZATION_MANAGEMENT_LEVEL;
        if let Some(level) = self.oml {
            if matches!(self.audience, Audience::User(_)) {
                self.record(&[field.key(user_id)]);
            }
            return Ok(level);
        }
        let level = self
            .get_one(field, user_id)
            .await?
            .map_or(OrganizationManagementLevel::None, |name: String| {
                OrganizationManagementLevel::from_name(&name)
            });
        self.oml = Some(level);
        Ok(level)
    }

    /// Reads keys for a class run: the stand-in's own keys come from the class, the
    /// others from the datastore, noting the user and membership ids they hold.
    async fn get_for_class(&mut self, keys: &[Key]) -> Result<Vec<Option<Bytes>>, RestrictError> {
        let Audience::Class(class) = &self.audience else {
            return Ok(Vec::new());
        };
        let class = class.clone();
        let mut values: Vec<Option<Bytes>> = vec![None; keys.len()];
        let mut stored = Vec::with_capacity(keys.len());
        let mut stored_at = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            match class.stand_in_value(*key) {
                Some(Ok(value)) => values[index] = value,
                Some(Err(())) => self.personal.everyone = true,
                None => {
                    stored.push(*key);
                    stored_at.push(index);
                }
            }
        }
        if stored.is_empty() {
            return Ok(values);
        }
        self.record(&stored);
        let read = self.datastore.get(&stored).await?;
        for ((key, index), value) in stored.iter().zip(stored_at).zip(read) {
            if let Some(raw) = &value {
                for frame in &mut self.frames {
                    frame.personal.note_value(*key, raw);
                }
            }
            values[index] = value;
        }
        Ok(values)
    }

    /// Adds keys to the dependencies of every rule under evaluation.
    fn record(&mut self, keys: &[Key]) {
        for frame in &mut self.frames {
            frame.deps.extend(keys.iter().copied());
        }
    }

    /// Checks whether the viewer has the organization management level `level` or higher.
    pub async fn has_oml(
        &mut self,
        level: OrganizationManagementLevel,
    ) -> Result<bool, RestrictError> {
        Ok(self.oml().await?.has(level))
    }

    /// Returns the viewer's permissions in a meeting, or `None` when the viewer has none
    /// there.
    pub async fn perms(&mut self, meeting_id: Id) -> Result<Option<Arc<Perms>>, RestrictError> {
        if let Some((perms, deps)) = self.perms.get(&meeting_id) {
            // The keys the permissions were computed from are dependencies of every
            // rule that uses them.
            let (perms, deps) = (perms.clone(), deps.clone());
            self.record(&deps);
            return Ok(perms);
        }
        self.frames.push(Frame::default());
        let result = Perms::load(self, meeting_id).await;
        let deps: Arc<[Key]> = self
            .frames
            .pop()
            .unwrap_or_default()
            .deps
            .into_iter()
            .collect();
        let perms = result?.map(Arc::new);
        self.perms.insert(meeting_id, (perms.clone(), deps));
        Ok(perms)
    }

    /// Returns the ids among `ids` of `collection` that the viewer may see in `mode`.
    /// Rules use this for objects whose visibility follows another object's. Each
    /// result is computed once per run.
    pub async fn visible(
        &mut self,
        collection: Collection,
        mode: RestrictionMode,
        ids: &[Id],
    ) -> Result<Vec<Id>, RestrictError> {
        let answers = self.answers.entry((collection, mode)).or_default();
        let mut missing: Vec<Id> = ids
            .iter()
            .copied()
            .filter(|id| !answers.allowed.contains_key(id))
            .collect();
        missing.sort_unstable();
        missing.dedup();

        if !missing.is_empty() {
            let rule =
                rules::rule(collection, mode).ok_or(RestrictError::NoRule { collection, mode })?;
            self.frames.push(Frame::default());
            let result = rule(self, missing.clone()).await;
            let frame = self.frames.pop().unwrap_or_default();
            let allowed: HashSet<Id> = result?.into_iter().collect();

            // A member can only see more than the stand-in where something was hidden,
            // and only through the ids the rule read or decided about.
            if matches!(self.audience, Audience::Class(_)) && allowed.len() < missing.len() {
                self.personal.extend(&frame.personal);
                self.personal.note_objects(
                    collection,
                    missing.iter().copied().filter(|id| !allowed.contains(id)),
                );
            }

            let answers = self.answers.entry((collection, mode)).or_default();
            answers.deps.extend(frame.deps);
            for id in missing {
                answers.allowed.insert(id, allowed.contains(&id));
            }
        }

        if !self.frames.is_empty() {
            let deps: Vec<Key> = self.answers[&(collection, mode)]
                .deps
                .iter()
                .copied()
                .collect();
            self.record(&deps);
        }
        let answers = &self.answers[&(collection, mode)];
        Ok(ids
            .iter()
            .copied()
            .filter(|id| answers.allowed.get(id).copied().unwrap_or(false))
            .collect())
    }

    /// Looks up the result for one object after `visible` computed it.
    pub(super) fn is_allowed(&self, collection: Collection, mode: RestrictionMode, id: Id) -> bool {
        self.answers
            .get(&(collection, mode))
            .and_then(|answers| answers.allowed.get(&id))
            .copied()
            .unwrap_or(false)
    }

    /// Lists every key the run read, with the modes whose results depend on it, every
    /// result, and what makes members' results differ from a class run's.
    pub(super) fn finish(self) -> super::Outcome {
        let mut deps: HashMap<Key, Vec<CollectionMode>> = HashMap::new();
        let mut results = Vec::new();
        for (mode, answers) in self.answers {
            for key in answers.deps {
                deps.entry(key).or_default().push(mode);
            }
            results.extend(
                answers
                    .allowed
                    .into_iter()
                    .map(|(id, allowed)| (mode, id, allowed)),
            );
        }
        super::Outcome {
            dependencies: deps,
            results,
            personal: self.personal,
        }
    }
}
