//! A property of incremental updates with the restriction rules. After any series of
//! changes to what the rules read (motion states and their restrictions, group
//! permissions, group memberships), a view updated change by change contains exactly the
//! values of a view resolved from scratch. It is checked for single users and
//! for permission classes, on example-data.json with the client's requests.
//!
//! Changes are drawn with a fixed seed, so a failure repeats.

mod support;

use bytes::Bytes;
use openslides_autoupdate::autoupdate::{Reader, ViewState};
use openslides_autoupdate::datastore::{Datastore, MemorySource, Value};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::models::Key;
use openslides_autoupdate::restrict::{Audience, PermissionClass, RuleRestricter};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value as Json};
use std::sync::Arc;

/// Changes applied to every view.
const STEPS: usize = 40;

const PERMISSIONS: [&str; 8] = [
    "motion.can_see",
    "motion.can_see_internal",
    "motion.can_manage",
    "user.can_see",
    "agenda_item.can_see",
    "list_of_speakers.can_see",
    "projector.can_see",
    "assignment.can_see",
];

const RESTRICTIONS: [&str; 4] = [
    "motion.can_see_internal",
    "is_submitter",
    "motion.can_manage",
    "motion.can_manage_metadata",
];

/// The example data as a mutable map, to keep relations consistent on both sides.
struct Data {
    export: Json,
}

impl Data {
    fn get(&self, collection: &str, id: u64, field: &str) -> Json {
        self.export[collection][id.to_string()][field].clone()
    }

    fn set(
        &mut self,
        changes: &mut Vec<(Key, Value)>,
        collection: &str,
        id: u64,
        field: &str,
        value: Json,
    ) {
        self.export[collection][id.to_string()][field] = value.clone();
        let key = Key::parse(&format!("{collection}/{id}/{field}")).expect("valid key");
        let value = (!value.is_null()).then(|| Bytes::from(value.to_string()));
        changes.push((key, value));
    }

    fn ids(&self, collection: &str) -> Vec<u64> {
        let mut ids: Vec<u64> = self.export[collection]
            .as_object()
            .map(|objects| objects.keys().filter_map(|id| id.parse().ok()).collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// Moves `id` from one relation list to another.
    fn move_in_list(
        &mut self,
        changes: &mut Vec<(Key, Value)>,
        from: (&str, u64, &str),
        to: (&str, u64, &str),
        id: u64,
    ) {
        let mut old: Vec<u64> =
            serde_json::from_value(self.get(from.0, from.1, from.2)).unwrap_or_default();
        old.retain(|item| *item != id);
        self.set(changes, from.0, from.1, from.2, json!(old));
        let mut new: Vec<u64> =
            serde_json::from_value(self.get(to.0, to.1, to.2)).unwrap_or_default();
        if !new.contains(&id) {
            new.push(id);
        }
        self.set(changes, to.0, to.1, to.2, json!(new));
    }

    /// Draws one change of something the rules read.
    fn random_change(&mut self, rng: &mut StdRng) -> Vec<(Key, Value)> {
        let mut changes = Vec::new();
        match rng.gen_range(0..4) {
            0 => {
                // A motion moves to another state of the same meeting.
                let motion = *self.ids("motion").choose(rng).expect("motions");
                let old_state = self.get("motion", motion, "state_id").as_u64().unwrap_or(1);
                let state = *self.ids("motion_state").choose(rng).expect("states");
                if state != old_state {
                    self.set(&mut changes, "motion", motion, "state_id", json!(state));
                    self.move_in_list(
                        &mut changes,
                        ("motion_state", old_state, "motion_ids"),
                        ("motion_state", state, "motion_ids"),
                        motion,
                    );
                }
            }
            1 => {
                let state = *self.ids("motion_state").choose(rng).expect("states");
                let count = rng.gen_range(0..=2);
                let restrictions: Vec<&str> =
                    RESTRICTIONS.choose_multiple(rng, count).copied().collect();
                self.set(
                    &mut changes,
                    "motion_state",
                    state,
                    "restrictions",
                    json!(restrictions),
                );
            }
            2 => {
                let group = *self.ids("group").choose(rng).expect("groups");
                let count = rng.gen_range(0..=4);
                let permissions: Vec<&str> =
                    PERMISSIONS.choose_multiple(rng, count).copied().collect();
                self.set(
                    &mut changes,
                    "group",
                    group,
                    "permissions",
                    json!(permissions),
                );
            }
            _ => {
                // A membership changes groups, both sides of the relation.
                let member = *self.ids("meeting_user").choose(rng).expect("memberships");
                let old: Vec<u64> =
                    serde_json::from_value(self.get("meeting_user", member, "group_ids"))
                        .unwrap_or_default();
                let group = *self.ids("group").choose(rng).expect("groups");
                let mut new = old.clone();
                if new.contains(&group) && new.len() > 1 {
                    new.retain(|g| *g != group);
                } else if !new.contains(&group) {
                    new.push(group);
                }
                self.set(
                    &mut changes,
                    "meeting_user",
                    member,
                    "group_ids",
                    json!(new),
                );
                for g in old.iter().chain(new.iter()) {
                    let mut members: Vec<u64> =
                        serde_json::from_value(self.get("group", *g, "meeting_user_ids"))
                            .unwrap_or_default();
                    members.retain(|m| *m != member);
                    if new.contains(g) {
                        members.push(member);
                    }
                    self.set(
                        &mut changes,
                        "group",
                        *g,
                        "meeting_user_ids",
                        json!(members),
                    );
                }
            }
        }
        changes.sort_by_key(|(key, _)| *key);
        changes.dedup_by_key(|(key, _)| *key);
        changes
    }
}

fn requests() -> Option<Vec<(String, Arc<Request>)>> {
    let folder = support::shared_path("OPENSLIDES_CONFORMANCE_DIR")?.join("requests");
    Some(support::request_files(&folder))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updated_views_equal_fresh_views() {
    let (Some(export), Some(requests)) = (support::example_data(), requests()) else {
        return;
    };
    let source = MemorySource::from_export(&export);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let restricter = RuleRestricter::new(datastore.clone());
    let reader = Reader {
        datastore: &datastore,
        restricter: &restricter,
        projector: None,
        votes: None,
    };

    let mut audiences = vec![Audience::User(0)];
    for user_id in [1, 2, 3] {
        audiences.push(Audience::User(user_id));
        let class = PermissionClass::load(&datastore, user_id)
            .await
            .expect("class");
        audiences.push(Audience::Class(class.class));
    }

    let mut views = Vec::new();
    for audience in &audiences {
        for (name, request) in &requests {
            let mut view = ViewState::new(request.clone(), audience.clone());
            if view.resolve(&reader, &mut |_| {}).await.is_ok() {
                views.push((format!("{name} for {audience:?}"), view));
            }
        }
    }

    let mut data = Data { export };
    let mut rng = StdRng::seed_from_u64(11);
    for step in 0..STEPS {
        let changes = data.random_change(&mut rng);
        if changes.is_empty() {
            continue;
        }
        source.apply(&changes);
        datastore.update(&changes);
        let changed: Vec<Key> = changes.iter().map(|(key, _)| *key).collect();
        for (name, view) in &mut views {
            view.update(&changed, &reader, &mut |_| {})
                .await
                .unwrap_or_else(|err| panic!("step {step}: {name} failed: {err}"));
            let mut fresh = ViewState::new(view.request().clone(), view.audience().clone());
            fresh
                .resolve(&reader, &mut |_| {})
                .await
                .expect("fresh view");
            assert_eq!(
                view.values(),
                fresh.values(),
                "step {step}: {name} differs from a fresh view after {changes:?}"
            );
        }
    }
}
