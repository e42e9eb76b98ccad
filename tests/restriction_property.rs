//! A property of the restriction stage on example-data.json: whatever a request asks and
//! whichever relations it follows, no key of an object the user may not see, and no
//! relation to such an object, reaches the user.
//!
//! Requests are generated from models.yml with a fixed seed, so a failure repeats.

mod support;

use openslides_autoupdate::autoupdate::Autoupdate;
use openslides_autoupdate::datastore::{Datastore, MemorySource};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::models::{Collection, FieldKind, Fqid, Key};
use openslides_autoupdate::restrict::{Context, RuleRestricter, Viewer};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Requests per user.
const REQUESTS: usize = 150;

/// Nesting depth of generated relation descriptions.
const MAX_DEPTH: usize = 3;

struct Generator<'a> {
    rng: StdRng,
    export: &'a Value,
}

impl Generator<'_> {
    /// Ids of existing objects of a collection, plus one that does not exist.
    fn ids(&mut self, collection: Collection) -> Vec<u64> {
        let mut ids: Vec<u64> = self.export[collection.name()]
            .as_object()
            .map(|objects| objects.keys().filter_map(|id| id.parse().ok()).collect())
            .unwrap_or_default();
        ids.shuffle(&mut self.rng);
        ids.truncate(self.rng.gen_range(1..=3));
        ids.push(999);
        ids
    }

    /// A field description map for objects of `collections` (several for generic
    /// relations).
    fn fields(&mut self, collections: &[Collection], depth: usize) -> Value {
        let mut names: Vec<&'static str> = collections
            .iter()
            .flat_map(|c| c.field_ids().map(|f| f.name()))
            .collect();
        names.sort_unstable();
        names.dedup();
        names.shuffle(&mut self.rng);
        names.truncate(self.rng.gen_range(2..=10));

        let mut fields = Map::new();
        for name in names {
            let kinds: Vec<FieldKind> = collections
                .iter()
                .filter_map(|c| c.field(name))
                .map(|f| f.def().kind)
                .collect();
            let follow = depth < MAX_DEPTH && self.rng.gen_bool(0.6);
            let description = match kinds.first() {
                Some(FieldKind::Relation(target))
                    if follow && kinds.iter().all(|k| k == &kinds[0]) =>
                {
                    json!({"type": "relation", "collection": target.name(), "fields": self.fields(&[*target], depth + 1)})
                }
                Some(FieldKind::RelationList(target))
                    if follow && kinds.iter().all(|k| k == &kinds[0]) =>
                {
                    json!({"type": "relation-list", "collection": target.name(), "fields": self.fields(&[*target], depth + 1)})
                }
                Some(FieldKind::GenericRelation(targets)) if follow && kinds.len() == 1 => {
                    json!({"type": "generic-relation", "fields": self.fields(targets, depth + 1)})
                }
                Some(FieldKind::GenericRelationList(targets)) if follow && kinds.len() == 1 => {
                    json!({"type": "generic-relation-list", "fields": self.fields(targets, depth + 1)})
                }
                _ => Value::Null,
            };
            fields.insert(name.to_string(), description);
        }
        Value::Object(fields)
    }

    fn request(&mut self) -> Value {
        let present: Vec<Collection> = Collection::ALL
            .into_iter()
            .filter(|c| self.export.get(c.name()).is_some())
            .collect();
        let collection = *present
            .choose(&mut self.rng)
            .expect("the export has objects");
        json!([{"collection": collection.name(), "ids": self.ids(collection), "fields": self.fields(&[collection], 0)}])
    }
}

/// Whether `user_id` may see the key's object in the key's mode, asked of the rule alone.
async fn key_visible(datastore: &Arc<Datastore>, user_id: u64, key: Key) -> bool {
    let def = key.field().def();
    let mut ctx = Context::new(datastore.clone(), Viewer { user_id });
    let visible = ctx
        .visible(def.collection, def.restriction_mode, &[key.id()])
        .await
        .expect("rules run");
    !visible.is_empty()
}

/// Whether `user_id` may see the object a relation of `key` points to.
async fn target_visible(datastore: &Arc<Datastore>, user_id: u64, key: Key, target: Fqid) -> bool {
    let Some(mode) = RuleRestricter::target_mode(key.field(), target.collection) else {
        return false;
    };
    let mut ctx = Context::new(datastore.clone(), Viewer { user_id });
    let visible = ctx
        .visible(target.collection, mode, &[target.id])
        .await
        .expect("rules run");
    !visible.is_empty()
}

fn targets(key: Key, value: &Value) -> Vec<Fqid> {
    let as_fqid = |item: &Value| item.as_str().and_then(|text| Fqid::parse(text).ok());
    match key.field().def().kind {
        FieldKind::Relation(target) => value
            .as_u64()
            .map(|id| Fqid::new(target, id))
            .into_iter()
            .collect(),
        FieldKind::RelationList(target) => value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .map(|id| Fqid::new(target, id))
            .collect(),
        FieldKind::GenericRelation(_) => as_fqid(value).into_iter().collect(),
        FieldKind::GenericRelationList(_) => value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(as_fqid)
            .collect(),
        FieldKind::Scalar(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_values_never_reach_the_user() {
    let Some(export) = support::example_data() else {
        return;
    };
    let source = MemorySource::from_export(&export);
    let datastore = Arc::new(Datastore::new(Arc::new(source)));
    let restricter = Arc::new(RuleRestricter::new(datastore.clone()));
    let autoupdate = Autoupdate::new(datastore.clone(), restricter);

    let mut generator = Generator {
        rng: StdRng::seed_from_u64(7),
        export: &export,
    };
    let mut checked_keys = 0;
    for user_id in [0, 1, 2, 3] {
        for _ in 0..REQUESTS {
            let body = generator.request();
            let request =
                Arc::new(Request::parse(body.to_string().as_bytes(), "").expect("valid request"));
            let message = autoupdate
                .single(Viewer { user_id }, request)
                .await
                .unwrap_or_else(|err| panic!("request {body} failed: {err}"));
            let values: Map<String, Value> = serde_json::from_slice(&message).expect("JSON");

            for (key, value) in &values {
                let key = Key::parse(key).expect("valid key");
                assert!(
                    key_visible(&datastore, user_id, key).await,
                    "user {user_id} got hidden key {key} for request {body}"
                );
                for target in targets(key, value) {
                    assert!(
                        target_visible(&datastore, user_id, key, target).await,
                        "user {user_id} got {key} pointing to hidden {target} for request {body}"
                    );
                }
                checked_keys += 1;
            }
        }
    }
    assert!(checked_keys > 1000, "only {checked_keys} keys were checked");
}
