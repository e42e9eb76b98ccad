//! CACHE_RESET: every open stream is read again from PostgreSQL. Clients get only what
//! differs from what they have, including changes that never reached Redis, and a user
//! whose groups changed meanwhile moves to the view of their new groups.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{example_data, Stream, TestDb, TestService};

/// The interval of the resets in these tests.
const RESET: Duration = Duration::from_secs(1);

/// Starts the service on example-data.json with motion 4 in a state that only users who
/// may manage motions see, and user 2 among the staff, who may.
async fn service() -> Option<TestService> {
    let mut data = example_data()?;
    data["motion_state"]["7"]["restrictions"] = json!(["motion.can_manage"]);
    data["meeting_user"]["2"]["group_ids"] = json!([3]);
    data["group"]["3"]["meeting_user_ids"] = json!([2]);
    data["group"]["5"]["meeting_user_ids"] = json!([3]);
    let db = TestDb::new().await;
    db.load(&data).await;
    let service = TestService::start_with_env(
        db,
        &[
            ("AUTH_FAKE", "true".to_string()),
            ("CACHE_RESET", format!("{}s", RESET.as_secs())),
        ],
    )
    .await;
    Some(service)
}

fn motion_request() -> Value {
    json!([{
        "ids": [1], "collection": "meeting",
        "fields": {
            "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"title": null}}
        }
    }])
}

async fn open_motions(service: &TestService, user_id: u32) -> (Stream, Value) {
    let url = format!("{}/internal/autoupdate?user_id={user_id}", service.url);
    let mut stream = Stream::open(&url, Some(&motion_request())).await;
    assert_eq!(stream.status, 200);
    let first = stream.next_json().await;
    (stream, first)
}

#[tokio::test]
async fn reset_sends_nothing_a_client_has() {
    let Some(service) = service().await else {
        return;
    };
    let (mut admin, first) = open_motions(&service, 1).await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3, 4]));
    let (mut staff, _) = open_motions(&service, 2).await;
    let (mut delegate, first) = open_motions(&service, 3).await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3]));

    // Three resets.
    let quiet = RESET * 3 + RESET / 2;
    admin.expect_quiet(quiet).await;
    staff.expect_quiet(Duration::ZERO).await;
    delegate.expect_quiet(Duration::ZERO).await;
}

#[tokio::test]
async fn reset_sends_a_change_that_missed_redis() {
    let Some(service) = service().await else {
        return;
    };
    let (mut delegate, _) = open_motions(&service, 3).await;
    service
        .db
        .write(&json!({"motion/1/title": "Written without Redis"}))
        .await;
    let message = delegate.next_json_within(RESET * 3).await;
    assert_eq!(message, json!({"motion/1/title": "Written without Redis"}));
    delegate.expect_quiet(RESET * 2).await;
}

#[tokio::test]
async fn reset_moves_a_user_whose_groups_changed() {
    let Some(service) = service().await else {
        return;
    };
    let (mut staff, first) = open_motions(&service, 2).await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3, 4]));
    assert_eq!(first["motion/4/title"], "komplex");

    // User 2 leaves the staff for the delegates, and Redis never hears of it.
    service
        .db
        .write(&json!({
            "meeting_user/2/group_ids": [5],
            "group/3/meeting_user_ids": [],
            "group/5/meeting_user_ids": [2, 3]
        }))
        .await;
    let message = staff.next_json_within(RESET * 3).await;
    // As in any move, keys that are not in the new view are not sent.
    assert_eq!(message, json!({"meeting/1/motion_ids": [1, 2, 3]}));
    staff.expect_quiet(RESET * 2).await;
}
