//! Views shared by a permission class: a class run must give every member it does not
//! name as personal exactly the values a run for that member alone gives.
//!
//! Runs the OpenSlides client's requests (from OPENSLIDES_CONFORMANCE_DIR) and the
//! benchmark requests for every user of example-data.json and of a generated meeting
//! whose workflows hide motions from all but their submitters.

mod support;

use openslides_autoupdate::autoupdate::{Reader, ViewState};
use openslides_autoupdate::datastore::{Datastore, MemorySource};
use openslides_autoupdate::generate::{generate, GenerateOptions};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::restrict::{Audience, PermissionClass, RuleRestricter};
use serde_json::Value;
use std::sync::Arc;

/// Reads the requests to check: the client's recorded ones and the benchmark ones.
fn requests() -> Option<Vec<(String, Arc<Request>)>> {
    let folder = support::shared_path("OPENSLIDES_CONFORMANCE_DIR")?.join("requests");
    let bench_folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/requests");
    let mut requests = support::request_files(&folder);
    requests.extend(support::request_files(&bench_folder));
    assert!(
        requests.len() > 10,
        "only {} requests found",
        requests.len()
    );
    Some(requests)
}

fn user_ids(export: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = export["user"]
        .as_object()
        .expect("users")
        .keys()
        .filter_map(|id| id.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// Resolves every request for every user alone and for the user's class; returns how
/// many runs were shared and how many were personal.
async fn compare(export: &Value, requests: &[(String, Arc<Request>)]) -> (usize, usize) {
    let source = MemorySource::from_export(export);
    let datastore = Arc::new(Datastore::new(Arc::new(source)));
    let restricter = RuleRestricter::new(datastore.clone());
    let reader = Reader {
        datastore: &datastore,
        restricter: &restricter,
        projector: None,
        votes: None,
    };

    let (mut shared, mut personal) = (0, 0);
    for user_id in user_ids(export) {
        let class_of = PermissionClass::load(&datastore, user_id)
            .await
            .expect("the class loads");
        for (name, request) in requests {
            let mut class_view =
                ViewState::new(request.clone(), Audience::Class(class_of.class.clone()));
            let mut user_view = ViewState::new(request.clone(), Audience::User(user_id));
            let class_result = class_view.resolve(&reader, &mut |_| {}).await;
            let user_result = user_view.resolve(&reader, &mut |_| {}).await;
            assert_eq!(
                class_result.is_ok(),
                user_result.is_ok(),
                "{name} for user {user_id}: the class run and the user run disagree on failing"
            );
            if class_view.personal().covers(&class_of.identity) {
                personal += 1;
                continue;
            }
            shared += 1;
            assert_eq!(
                class_view.values(),
                user_view.values(),
                "{name}: the class run differs from the run for user {user_id}"
            );
        }
    }
    (shared, personal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_runs_equal_user_runs_on_example_data() {
    let (Some(export), Some(requests)) = (support::example_data(), requests()) else {
        return;
    };
    let (shared, personal) = compare(&export, &requests).await;
    assert!(shared > 0, "no run was shared");
    eprintln!("example data: {shared} shared runs, {personal} personal runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_runs_equal_user_runs_on_generated_meeting() {
    let Some(requests) = requests() else {
        return;
    };
    let export = generate(&GenerateOptions {
        users: 40,
        motions: 40,
        ..GenerateOptions::small()
    });
    let (shared, personal) = compare(&export, &requests).await;
    assert!(shared > 0, "no run was shared");
    assert!(
        personal > 0,
        "no run was personal, so the submitter case was not exercised"
    );
    eprintln!("generated meeting: {shared} shared runs, {personal} personal runs");
}

/// Opens streams of users 2 and 3 of example-data.json, both delegates, on the motion
/// list. Before, motion 1 gets user 2 as its submitter, and state 2 gets restrictions
/// that need `motion.can_see_internal` or being a submitter.
async fn delegate_streams() -> Option<(support::TestService, support::Stream, support::Stream)> {
    use serde_json::json;
    let data = support::example_data()?;
    let db = support::TestDb::new().await;
    db.load(&data).await;
    let service = support::TestService::start_with(db).await;
    service
        .change(&json!({
            "motion_state/2/restrictions": ["motion.can_see_internal", "is_submitter"],
            "motion_submitter/1/meeting_user_id": 2,
            "meeting_user/1/motion_submitter_ids": [2, 3, 4],
            "meeting_user/2/motion_submitter_ids": [1]
        }))
        .await;
    let request = json!([{"ids": [1], "collection": "meeting", "fields": {
        "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {
            "title": null, "state_id": null
        }}
    }}]);
    let url = |user: u64| format!("{}/internal/autoupdate?user_id={user}", service.url);
    let mut submitter = support::Stream::open(&url(2), Some(&request)).await;
    let mut other = support::Stream::open(&url(3), Some(&request)).await;
    let first = submitter.next_json().await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3, 4]));
    assert_eq!(
        first,
        other.next_json().await,
        "both delegates see the same"
    );
    Some((service, submitter, other))
}

/// Moving motion 1 into the restricted state hides it from the other delegate, while its
/// submitter, who shared the class view so far, gets exactly the state change.
#[tokio::test]
async fn submitter_keeps_motion_that_class_view_hides() {
    use serde_json::json;
    let Some((service, mut submitter, mut other)) = delegate_streams().await else {
        return;
    };
    service
        .change(&json!({
            "motion/1/state_id": 2,
            "motion_state/1/motion_ids": [2, 3],
            "motion_state/2/motion_ids": [1]
        }))
        .await;
    assert_eq!(
        other.next_json().await,
        json!({"meeting/1/motion_ids": [3, 4]})
    );
    assert_eq!(submitter.next_json().await, json!({"motion/1/state_id": 2}));

    // Both streams go on with their own views.
    service.change(&json!({"motion/1/title": "renamed"})).await;
    assert_eq!(
        submitter.next_json().await,
        json!({"motion/1/title": "renamed"})
    );
    service.change(&json!({"motion/3/title": "third"})).await;
    assert_eq!(
        submitter.next_json().await,
        json!({"motion/3/title": "third"})
    );
    assert_eq!(other.next_json().await, json!({"motion/3/title": "third"}));
    other
        .expect_quiet(std::time::Duration::from_millis(300))
        .await;
}

/// A delegate added to the staff group moves to the staff's view and gets what the
/// group may see in addition. Removed again, the delegate loses it.
#[tokio::test]
async fn group_change_moves_stream_to_the_new_class() {
    use serde_json::json;
    let Some((service, mut submitter, mut other)) = delegate_streams().await else {
        return;
    };
    service
        .change(&json!({
            "motion/3/state_id": 2,
            "motion_state/1/motion_ids": [1, 2],
            "motion_state/2/motion_ids": [3]
        }))
        .await;
    let hidden = json!({"meeting/1/motion_ids": [1, 2, 4]});
    assert_eq!(other.next_json().await, hidden);
    assert_eq!(submitter.next_json().await, hidden);

    service
        .change(&json!({
            "meeting_user/3/group_ids": [5, 3],
            "group/3/meeting_user_ids": [3]
        }))
        .await;
    assert_eq!(
        other.next_json().await,
        json!({"meeting/1/motion_ids": [1, 2, 3, 4], "motion/3/title": "ohne", "motion/3/state_id": 2})
    );
    submitter
        .expect_quiet(std::time::Duration::from_millis(300))
        .await;

    service
        .change(&json!({
            "meeting_user/3/group_ids": [5],
            "group/3/meeting_user_ids": []
        }))
        .await;
    assert_eq!(other.next_json().await, hidden);
}
