//! A `Source` that holds the whole datastore in memory, for the demo and for tests.

use super::{compact_json, DatastoreError, Source, Value};
use crate::models::{Collection, Key};
use bytes::Bytes;
use futures::future::BoxFuture;
use hashbrown::HashMap;
use parking_lot::RwLock;
use std::sync::Arc;

/// The datastore as a map from key to value.
#[derive(Default, Clone)]
pub struct MemorySource {
    values: Arc<RwLock<HashMap<Key, Bytes>>>,
}

impl MemorySource {
    /// Loads an OpenSlides export, `{collection: {id: {field: value}}}`. Unknown collections
    /// and fields and the export's `_migration_index` are skipped.
    pub fn from_export(export: &serde_json::Value) -> MemorySource {
        let mut values = HashMap::new();
        for (collection, objects) in export.as_object().into_iter().flatten() {
            let Some(collection) = Collection::from_name(collection) else {
                continue;
            };
            for (id, fields) in objects.as_object().into_iter().flatten() {
                let Some(id) = crate::models::parse_id(id) else {
                    continue;
                };
                for (field, value) in fields.as_object().into_iter().flatten() {
                    let Some(field) = collection.field(field) else {
                        continue;
                    };
                    if !value.is_null() {
                        let text = value.to_string();
                        values.insert(Key::new(field, id), compact_json(text.as_bytes()));
                    }
                }
            }
        }
        MemorySource {
            values: Arc::new(RwLock::new(values)),
        }
    }

    /// Writes values; `None` removes the key.
    pub fn apply(&self, changes: &[(Key, Value)]) {
        let mut values = self.values.write();
        for (key, value) in changes {
            match value {
                Some(value) => values.insert(*key, value.clone()),
                None => values.remove(key),
            };
        }
    }

    /// Reads one value without the cache.
    pub fn value(&self, key: Key) -> Value {
        self.values.read().get(&key).cloned()
    }
}

impl Source for MemorySource {
    fn get(&self, keys: Vec<Key>) -> BoxFuture<'static, Result<Vec<Value>, DatastoreError>> {
        let values = self.values.read();
        let result = keys.iter().map(|key| values.get(key).cloned()).collect();
        Box::pin(async move { Ok(result) })
    }
}
