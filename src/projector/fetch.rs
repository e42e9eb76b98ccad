//! `Fetch`: how a slide reads the datastore. Reads are unrestricted, as the projector
//! shows what the meeting projects, and every key read becomes a dependency of the
//! slide's content before it is read, so that a change to it cannot be missed.

use crate::datastore::{Datastore, DatastoreError, Value};
use crate::models::{Collection, DecodeError, Field, FieldId, FieldValue, Fqid, Id, Key, Model};
use bytes::Bytes;
use hashbrown::HashSet;

/// An error that stopped a slide computation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SlideError {
    #[error("{0} does not exist")]
    DoesNotExist(Fqid),
    #[error("invalid value in key {key}: {error}")]
    Value { key: Key, error: DecodeError },
    #[error("field {field} was not read for {fqid}")]
    NotRead { fqid: Fqid, field: FieldId },
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    #[error("{0}")]
    Invalid(String),
}

impl SlideError {
    /// Builds a `SlideError::Invalid` from any message.
    pub fn invalid(message: impl Into<String>) -> SlideError {
        SlideError::Invalid(message.into())
    }
}

/// A function that learns which keys a slide is about to read.
pub type OnRead<'a> = &'a (dyn Fn(&[Key]) + Send + Sync);

/// Reads for one slide computation and remembers every key read.
pub struct Fetch<'a> {
    datastore: &'a Datastore,
    on_read: OnRead<'a>,
    read: HashSet<Key>,
}

impl<'a> Fetch<'a> {
    pub fn new(datastore: &'a Datastore, on_read: OnRead<'a>) -> Fetch<'a> {
        Fetch {
            datastore,
            on_read,
            read: HashSet::new(),
        }
    }

    /// Returns every key read so far.
    pub fn into_read(self) -> HashSet<Key> {
        self.read
    }

    /// Reads raw values, in the order of `keys`.
    pub async fn values(&mut self, keys: &[Key]) -> Result<Vec<Value>, SlideError> {
        let new: Vec<Key> = keys
            .iter()
            .copied()
            .filter(|key| !self.read.contains(key))
            .collect();
        if !new.is_empty() {
            (self.on_read)(&new);
            self.read.extend(new);
        }
        Ok(self.datastore.get(keys).await?)
    }

    /// Reads one field. An unset field or a missing object gives `None`.
    pub async fn get<M: Model, V: FieldValue>(
        &mut self,
        field: Field<M, V>,
        id: Id,
    ) -> Result<Option<V>, SlideError> {
        let key = field.key(id);
        let value = self.values(&[key]).await?.pop().flatten();
        decode(key, value.as_ref())
    }

    /// Reads one field of an object that has to exist.
    pub async fn get_if_exists<M: Model, V: FieldValue>(
        &mut self,
        field: Field<M, V>,
        id: Id,
    ) -> Result<Option<V>, SlideError> {
        let key = field.key(id);
        let id_key = Key::new(id_field(M::COLLECTION), id);
        let mut values = self.values(&[id_key, key]).await?;
        let value = values.pop().flatten();
        if values.pop().flatten().is_none() {
            return Err(SlideError::DoesNotExist(Fqid::new(M::COLLECTION, id)));
        }
        decode(key, value.as_ref())
    }

    /// Reads one field of many objects in one call. Unset fields give `None`.
    pub async fn get_many<M: Model, V: FieldValue>(
        &mut self,
        field: Field<M, V>,
        ids: &[Id],
    ) -> Result<Vec<Option<V>>, SlideError> {
        let keys: Vec<Key> = ids.iter().map(|id| field.key(*id)).collect();
        let values = self.values(&keys).await?;
        keys.iter()
            .zip(values)
            .map(|(key, value)| decode(*key, value.as_ref()))
            .collect()
    }

    /// Returns whether the object exists.
    pub async fn exists(&mut self, fqid: Fqid) -> Result<bool, SlideError> {
        let key = Key::new(id_field(fqid.collection), fqid.id);
        Ok(self.values(&[key]).await?.pop().flatten().is_some())
    }

    /// Reads the given fields of an object that has to exist.
    pub async fn object(&mut self, fqid: Fqid, fields: &[FieldId]) -> Result<Object, SlideError> {
        let objects = self.objects(fqid.collection, &[fqid.id], fields).await?;
        objects
            .into_iter()
            .next()
            .ok_or(SlideError::DoesNotExist(fqid))
    }

    /// Reads the given fields of many objects of one collection in one call. Every
    /// object has to exist.
    pub async fn objects(
        &mut self,
        collection: Collection,
        ids: &[Id],
        fields: &[FieldId],
    ) -> Result<Vec<Object>, SlideError> {
        if let Some(field) = fields.iter().find(|f| f.collection() != collection) {
            return Err(SlideError::invalid(format!(
                "field {field} is not a field of {collection}"
            )));
        }
        let id_field = id_field(collection);
        let width = fields.len() + 1;
        let mut keys = Vec::with_capacity(ids.len() * width);
        for &id in ids {
            keys.push(Key::new(id_field, id));
            keys.extend(fields.iter().map(|field| Key::new(*field, id)));
        }
        let values = self.values(&keys).await?;

        let mut objects = Vec::with_capacity(ids.len());
        for (&id, chunk) in ids.iter().zip(values.chunks(width)) {
            let fqid = Fqid::new(collection, id);
            if chunk[0].is_none() {
                return Err(SlideError::DoesNotExist(fqid));
            }
            objects.push(Object {
                fqid,
                fields: fields
                    .iter()
                    .copied()
                    .zip(chunk[1..].iter().cloned())
                    .collect(),
            });
        }
        Ok(objects)
    }
}

/// Some fields of one object, as read by `Fetch::object`.
#[derive(Debug, Clone)]
pub struct Object {
    fqid: Fqid,
    fields: Vec<(FieldId, Value)>,
}

impl Object {
    pub fn fqid(&self) -> Fqid {
        self.fqid
    }

    pub fn id(&self) -> Id {
        self.fqid.id
    }

    /// Returns the raw value of a field that was read.
    pub fn raw(&self, field: FieldId) -> Result<Option<&Bytes>, SlideError> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, value)| value.as_ref())
            .ok_or(SlideError::NotRead {
                fqid: self.fqid,
                field,
            })
    }

    /// Decodes a field that was read. Unset gives `None`.
    pub fn get<M: Model, V: FieldValue>(
        &self,
        field: Field<M, V>,
    ) -> Result<Option<V>, SlideError> {
        let raw = self.raw(field.id())?;
        decode(Key::new(field.id(), self.fqid.id), raw)
    }

    /// Decodes a field that was read, with the type's default when unset.
    pub fn get_or_default<M: Model, V: FieldValue + Default>(
        &self,
        field: Field<M, V>,
    ) -> Result<V, SlideError> {
        Ok(self.get(field)?.unwrap_or_default())
    }

    /// Returns a field that was read as JSON; unset gives `Null`.
    pub fn json(&self, field: FieldId) -> Result<serde_json::Value, SlideError> {
        match self.raw(field)? {
            None => Ok(serde_json::Value::Null),
            Some(raw) => serde_json::from_slice(raw).map_err(|_| SlideError::Value {
                key: Key::new(field, self.fqid.id),
                error: DecodeError {
                    got: "invalid JSON".into(),
                    expected: "JSON",
                },
            }),
        }
    }
}

fn id_field(collection: Collection) -> FieldId {
    collection.id_field()
}

fn decode<V: FieldValue>(key: Key, raw: Option<&Bytes>) -> Result<Option<V>, SlideError> {
    match raw {
        None => Ok(None),
        Some(raw) => V::decode(raw)
            .map(Some)
            .map_err(|error| SlideError::Value { key, error }),
    }
}
