//! A property of the restriction stage, on example-data.json and on the generator's large
//! meeting: whatever fields a request names and whichever relations it follows, no key of an
//! object the user may not see, and no relation to such an object, reaches the user.
//!
//! Requests are generated from models.yml with a fixed seed, so a failure repeats.

mod support;

use openslides_autoupdate::autoupdate::Autoupdate;
use openslides_autoupdate::datastore::{Datastore, MemorySource};
use openslides_autoupdate::generate::{generate, GenerateOptions};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::models::{Collection, FieldKind, Fqid, Id, Key};
use openslides_autoupdate::restrict::{CollectionMode, Context, RuleRestricter, Viewer};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Members of each group of the large meeting whose responses are checked.
const USERS_PER_GROUP: usize = 2;

/// Requests per user on the large meeting. Its responses are large, so the test checks
/// fewer of them than on the example data.
const LARGE_MEETING_REQUESTS: usize = 30;

struct Generator<'a> {
    rng: StdRng,
    export: &'a Value,
    /// Nesting depth of generated relation descriptions.
    max_depth: usize,
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
            let follow = depth < self.max_depth && self.rng.gen_bool(0.6);
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

/// Returns the objects among `objects` that `user_id` may see. The rules decide alone,
/// with a context of their own and one call per collection and mode.
async fn visible_objects(
    datastore: &Arc<Datastore>,
    user_id: u64,
    objects: &[(CollectionMode, Id)],
) -> HashSet<(CollectionMode, Id)> {
    let mut by_mode: HashMap<CollectionMode, Vec<Id>> = HashMap::new();
    for (mode, id) in objects {
        by_mode.entry(*mode).or_default().push(*id);
    }
    let mut ctx = Context::new(datastore.clone(), Viewer { user_id });
    let mut visible = HashSet::new();
    for (mode, ids) in by_mode {
        let (collection, restriction_mode) = mode;
        for id in ctx
            .visible(collection, restriction_mode, &ids)
            .await
            .expect("rules run")
        {
            visible.insert((mode, id));
        }
    }
    visible
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

/// Sends `requests` generated requests for each user and checks every key of each
/// response against the rules. Returns the number of checked keys.
async fn check_users(export: &Value, users: &[u64], requests: usize, max_depth: usize) -> usize {
    let source = MemorySource::from_export(export);
    let datastore = Arc::new(Datastore::new(Arc::new(source)));
    let restricter = Arc::new(RuleRestricter::new(datastore.clone()));
    let autoupdate = Autoupdate::new(datastore.clone(), restricter);

    let mut generator = Generator {
        rng: StdRng::seed_from_u64(7),
        export,
        max_depth,
    };
    let mut checked_keys = 0;
    for &user_id in users {
        for _ in 0..requests {
            let body = generator.request();
            let request =
                Arc::new(Request::parse(body.to_string().as_bytes(), "").expect("valid request"));
            let message = autoupdate
                .single(Viewer { user_id }, request)
                .await
                .unwrap_or_else(|err| panic!("request {body} failed: {err}"));
            let values: Map<String, Value> = serde_json::from_slice(&message).expect("JSON");

            // Each key's object in the key's mode, and each object a relation points to
            // in the mode that decides relations to it.
            let mut checks: Vec<(Key, Option<Fqid>, CollectionMode, Id)> = Vec::new();
            for (key, value) in &values {
                let key = Key::parse(key).expect("valid key");
                let def = key.field().def();
                checks.push((key, None, (def.collection, def.restriction_mode), key.id()));
                for target in targets(key, value) {
                    let Some(mode) = RuleRestricter::target_mode(key.field(), target.collection)
                    else {
                        panic!("user {user_id} got {key} pointing to {target}, which no rule decides, for request {body}");
                    };
                    checks.push((key, Some(target), (target.collection, mode), target.id));
                }
            }
            let objects: Vec<(CollectionMode, Id)> =
                checks.iter().map(|(_, _, mode, id)| (*mode, *id)).collect();
            let visible = visible_objects(&datastore, user_id, &objects).await;
            for (key, target, mode, id) in checks {
                if visible.contains(&(mode, id)) {
                    continue;
                }
                match target {
                    None => panic!("user {user_id} got hidden key {key} for request {body}"),
                    Some(target) => panic!(
                        "user {user_id} got {key} pointing to hidden {target} for request {body}"
                    ),
                }
            }
            checked_keys += values.len();
        }
    }
    checked_keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_values_never_reach_the_user() {
    let Some(export) = support::example_data() else {
        return;
    };
    let checked_keys = check_users(&export, &[0, 1, 2, 3], 150, 3).await;
    assert!(checked_keys > 1000, "only {checked_keys} keys were checked");
}

/// The same on the large meeting, for public access, the superadmin and a sample of the
/// members of each group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_values_never_reach_large_meeting_users() {
    let mut export = generate(&GenerateOptions::large_meeting());
    add_meeting_admin(&mut export);
    let mut rng = StdRng::seed_from_u64(11);
    let mut users = vec![0, 1];
    for group in export["group"].as_object().expect("groups").values() {
        let members: Vec<u64> = group["meeting_user_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| export["meeting_user"][id.to_string()]["user_id"].as_u64())
            .filter(|user_id| *user_id != 1)
            .collect();
        users.extend(members.choose_multiple(&mut rng, USERS_PER_GROUP));
    }
    let checked_keys = check_users(&export, &users, LARGE_MEETING_REQUESTS, 3).await;
    eprintln!("checked {checked_keys} keys for {} users", users.len());
    assert!(checked_keys > 1000, "only {checked_keys} keys were checked");
}

/// Moves the first member of the "Staff" group to the admin group, where the generated
/// meeting has only the superadmin, so that the rules for meeting admins are checked too.
fn add_meeting_admin(export: &mut Value) {
    let group = |name: &str| -> String {
        let groups = export["group"].as_object().expect("groups");
        let (id, _) = groups
            .iter()
            .find(|(_, group)| group["name"] == name)
            .expect("the generated meeting has this group");
        id.clone()
    };
    let (staff, admin) = (group("Staff"), group("Admin"));
    let members = export["group"][&staff]["meeting_user_ids"]
        .as_array_mut()
        .expect("staff members");
    let meeting_user = members.remove(0);
    export["group"][&admin]["meeting_user_ids"]
        .as_array_mut()
        .expect("admin members")
        .push(meeting_user.clone());
    let admin_id: u64 = admin.parse().expect("numeric id");
    export["meeting_user"][meeting_user.to_string()]["group_ids"] = json!([admin_id]);
}
