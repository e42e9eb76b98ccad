//! Test support for restriction rules: small datastores written as
//! `{"collection/id": {"field": value}}`, evaluated for one user.

use super::super::{Context, Restricter, RuleRestricter, Viewer};
use crate::datastore::{Datastore, MemorySource};
use crate::models::{Collection, Id, Key, RestrictionMode};
use bytes::Bytes;
use serde_json::Value;
use std::sync::Arc;

/// A datastore that holds exactly `data`.
pub fn datastore(data: &Value) -> Arc<Datastore> {
    let mut export = serde_json::Map::new();
    for (fqid, fields) in data.as_object().expect("data is an object of fqids") {
        let (collection, id) = fqid.split_once('/').expect("an fqid has a slash");
        export
            .entry(collection.to_string())
            .or_insert_with(|| Value::Object(Default::default()))
            .as_object_mut()
            .expect("collections are objects")
            .insert(id.to_string(), fields.clone());
    }
    let source = MemorySource::from_export(&Value::Object(export));
    Arc::new(Datastore::new(Arc::new(source)))
}

/// The ids among `ids` that `user_id` may see in `collection` and `mode`, sorted.
pub async fn visible_ids(
    data: &Value,
    user_id: Id,
    collection: &str,
    mode: &str,
    ids: &[Id],
) -> Vec<Id> {
    let collection = Collection::from_name(collection).expect("known collection");
    let mode = RestrictionMode::from_name(mode).expect("known mode");
    let mut ctx = Context::new(datastore(data), Viewer { user_id });
    let mut visible = ctx
        .visible(collection, mode, ids)
        .await
        .expect("the rule runs without error");
    visible.sort_unstable();
    visible
}

/// What `user_id` gets of the given keys after restriction: key to value, without the
/// hidden keys.
pub async fn restricted(data: &Value, user_id: Id, keys: &[&str]) -> Value {
    let datastore = datastore(data);
    let keys: Vec<Key> = keys
        .iter()
        .map(|k| Key::parse(k).expect("valid key"))
        .collect();
    let values = datastore.get(&keys).await.expect("memory never fails");
    let mut pairs: Vec<(Key, Option<Bytes>)> = keys.into_iter().zip(values).collect();
    RuleRestricter::new(datastore)
        .restrict(Viewer { user_id }, &mut pairs)
        .await
        .expect("restriction runs without error");

    let mut out = serde_json::Map::new();
    for (key, value) in pairs {
        if let Some(value) = value {
            out.insert(
                key.to_string(),
                serde_json::from_slice(&value).expect("JSON"),
            );
        }
    }
    Value::Object(out)
}
