//! Streams over HTTP on example-data.json in PostgreSQL, with changes through Redis.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{example_data, post, send, Stream, TestDb, TestService};

const QUIET: Duration = Duration::from_millis(500);

async fn example_service() -> Option<TestService> {
    let data = example_data()?;
    let db = TestDb::new().await;
    db.load(&data).await;
    Some(TestService::start_with(db).await)
}

fn meeting_request() -> serde_json::Value {
    json!([{
        "ids": [1], "collection": "meeting",
        "fields": {
            "name": null,
            "committee_id": {"type": "relation", "collection": "committee", "fields": {"name": null}}
        }
    }])
}

#[tokio::test]
async fn stream_sends_committee_name_change() {
    let Some(service) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&meeting_request()),
    )
    .await;

    assert_eq!(stream.status, 200);
    assert_eq!(stream.headers["content-type"], "application/octet-stream");
    assert_eq!(stream.headers["cache-control"], "no-store, max-age=0");
    assert_eq!(
        stream.next_json().await,
        json!({
            "meeting/1/name": "OpenSlides Demo",
            "meeting/1/committee_id": 1,
            "committee/1/name": "Default committee"
        })
    );

    service.change(&json!({"committee/1/name": "Board"})).await;
    assert_eq!(
        stream.next_json().await,
        json!({"committee/1/name": "Board"})
    );
}

fn motion_request() -> serde_json::Value {
    json!([{
        "ids": [1], "collection": "meeting",
        "fields": {
            "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {
                "title": null,
                "category_id": {"type": "relation", "collection": "motion_category", "fields": {"name": null}}
            }}
        }
    }])
}

#[tokio::test]
async fn stream_follows_field_object_and_relation_changes() {
    let Some(service) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/internal/autoupdate?user_id=1", service.url),
        Some(&motion_request()),
    )
    .await;

    let first = stream.next_json().await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3, 4]));
    assert_eq!(first["motion/1/category_id"], json!(2));
    assert_eq!(first["motion/2/category_id"], json!(1));
    assert_eq!(first["motion_category/1/name"], json!("Cad"));
    assert_eq!(first["motion_category/2/name"], json!("Bildung"));
    assert!(first.get("motion/4/category_id").is_none());
    assert_eq!(first.as_object().unwrap().len(), 1 + 4 + 3 + 2, "{first}");

    // A changed field arrives alone.
    service
        .change(&json!({"motion/1/title": "New title"}))
        .await;
    assert_eq!(
        stream.next_json().await,
        json!({"motion/1/title": "New title"})
    );

    // A deleted field arrives once as null.
    service.change(&json!({"motion/2/title": null})).await;
    assert_eq!(stream.next_json().await, json!({"motion/2/title": null}));
    service.change(&json!({"motion/2/title": null})).await;
    stream.expect_quiet(QUIET).await;

    // A relation removed: the category that no motion points to leaves the view without
    // a null for its fields, and its changes are not sent anymore.
    service
        .change(&json!({"motion/2/category_id": null, "motion_category/1/motion_ids": []}))
        .await;
    assert_eq!(
        stream.next_json().await,
        json!({"motion/2/category_id": null})
    );
    service
        .change(&json!({"motion_category/1/name": "Unwatched"}))
        .await;
    stream.expect_quiet(QUIET).await;

    // A relation that points elsewhere: the new target's fields come.
    service
        .change(&json!({
            "motion/1/category_id": 1,
            "motion_category/1/motion_ids": [1],
            "motion_category/2/motion_ids": [3]
        }))
        .await;
    assert_eq!(
        stream.next_json().await,
        json!({"motion/1/category_id": 1, "motion_category/1/name": "Unwatched"})
    );

    // A deleted object: its keys lose their values, and the list loses the id.
    let mut deletion = json!({"motion/3/id": null, "meeting/1/motion_ids": [1, 2, 4]});
    for field in ["title", "meeting_id", "state_id", "sequential_number"] {
        deletion[format!("motion/3/{field}")] = json!(null);
    }
    service.change(&deletion).await;
    assert_eq!(
        stream.next_json().await,
        json!({"meeting/1/motion_ids": [1, 2, 4]})
    );
}

#[tokio::test]
async fn stream_sends_nothing_for_unrequested_changes() {
    let Some(service) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&meeting_request()),
    )
    .await;
    stream.next_json().await;

    service
        .change(&json!({"meeting/1/description": "Not requested"}))
        .await;
    service
        .change(&json!({"meeting/1/name": "OpenSlides Demo"}))
        .await;
    stream.expect_quiet(QUIET).await;
}

#[tokio::test]
async fn stream_skips_invalid_redis_entries() {
    let Some(service) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&meeting_request()),
    )
    .await;
    stream.next_json().await;

    service
        .redis
        .xadd_raw(&[
            ("meeting/1/name", "not json"),
            ("meeting/x/name", "\"bad key\""),
        ])
        .await;
    stream.expect_quiet(QUIET).await;

    service.change(&json!({"meeting/1/name": "Valid"})).await;
    assert_eq!(stream.next_json().await, json!({"meeting/1/name": "Valid"}));
}

#[tokio::test]
async fn invalid_redis_value_reads_the_key_again() {
    let Some(service) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&meeting_request()),
    )
    .await;
    stream.next_json().await;

    // The entry announces a change of the key without a valid value. PostgreSQL has
    // the value.
    service
        .db
        .write(&json!({"meeting/1/name": "Written to PostgreSQL"}))
        .await;
    service
        .redis
        .xadd_raw(&[("meeting/1/name", "not json")])
        .await;
    assert_eq!(
        stream.next_json().await,
        json!({"meeting/1/name": "Written to PostgreSQL"})
    );
}

#[tokio::test]
async fn single_answers_once() {
    let Some(service) = example_service().await else {
        return;
    };
    let answer = post(
        &format!("{}/system/autoupdate?single=1", service.url),
        &meeting_request(),
    )
    .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body.last(), Some(&b'\n'));
    assert_eq!(
        answer.json()["committee/1/name"],
        json!("Default committee")
    );
}

#[tokio::test]
async fn keys_parameter_and_body_combine() {
    let Some(service) = example_service().await else {
        return;
    };
    let url = format!(
        "{}/system/autoupdate?single=1&k=user/1/username,meeting/1/name",
        service.url
    );
    let answer = post(&url, &meeting_request()).await;

    assert_eq!(
        answer.json(),
        json!({
            "user/1/username": "admin",
            "meeting/1/name": "OpenSlides Demo",
            "meeting/1/committee_id": 1,
            "committee/1/name": "Default committee"
        })
    );
}

#[tokio::test]
async fn empty_request_answers_empty_object() {
    let Some(service) = example_service().await else {
        return;
    };
    let answer = send(
        reqwest::Method::GET,
        &format!("{}/system/autoupdate?single=1", service.url),
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({}));
}

#[tokio::test]
async fn value_error_after_first_message_ends_stream_with_error_line() {
    let Some(service) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&meeting_request()),
    )
    .await;
    stream.next_json().await;

    service
        .change(&json!({"meeting/1/committee_id": "committee/1"}))
        .await;
    let error = stream.next_json().await;
    assert_eq!(error["error"]["type"], json!("ValueError"));
    assert!(error["error"]["msg"]
        .as_str()
        .unwrap()
        .contains("meeting/1/committee_id"));
    assert!(stream.ended(Duration::from_secs(2)).await);
}

#[tokio::test]
async fn value_error_before_first_message_is_400() {
    let Some(service) = example_service().await else {
        return;
    };
    service
        .db
        .write(&json!({"meeting/1/committee_id": [1]}))
        .await;

    let answer = post(
        &format!("{}/system/autoupdate", service.url),
        &meeting_request(),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["type"], json!("ValueError"));
}

#[tokio::test]
async fn service_ends_streams_on_shutdown() {
    let Some(mut service) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&meeting_request()),
    )
    .await;
    stream.next_json().await;

    let started = std::time::Instant::now();
    service.stop().await;
    assert!(stream.ended(Duration::from_secs(2)).await);
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A motion moved into a state with restrictions disappears from the stream of a user
/// who does not meet them, and comes back whole when it leaves that state.
#[tokio::test]
async fn motion_state_with_restrictions_hides_motion() {
    let Some(service) = example_service().await else {
        return;
    };
    service
        .change(&json!({"motion_state/2/restrictions": ["motion.can_see_internal"]}))
        .await;
    let request = json!([{"ids": [1], "collection": "meeting", "fields": {
        "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"title": null}}
    }}]);
    let url = |user: u64| {
        format!(
            "{}/internal/autoupdate?user_id={user}&k=motion/1/title,motion/1/state_id",
            service.url
        )
    };
    // User 3 is a delegate with motion.can_see, user 1 the superadmin. Motion 2 is an
    // amendment of motion 1, so it is hidden with its lead motion.
    let mut delegate = Stream::open(&url(3), Some(&request)).await;
    let mut admin = Stream::open(&url(1), Some(&request)).await;
    let first = delegate.next_json().await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3, 4]));
    assert_eq!(first["motion/1/title"], json!("test"));
    admin.next_json().await;

    let into_restricted = json!({
        "motion/1/state_id": 2,
        "motion_state/1/motion_ids": [2, 3],
        "motion_state/2/motion_ids": [1]
    });
    service.change(&into_restricted).await;
    assert_eq!(
        delegate.next_json().await,
        json!({"meeting/1/motion_ids": [3, 4], "motion/1/title": null, "motion/1/state_id": null})
    );
    assert_eq!(admin.next_json().await, json!({"motion/1/state_id": 2}));

    // The hidden title stays hidden when it changes.
    service.change(&json!({"motion/1/title": "hidden"})).await;
    assert_eq!(admin.next_json().await, json!({"motion/1/title": "hidden"}));
    delegate.expect_quiet(QUIET).await;

    let back = json!({
        "motion/1/state_id": 1,
        "motion_state/1/motion_ids": [1, 2, 3],
        "motion_state/2/motion_ids": []
    });
    service.change(&back).await;
    assert_eq!(
        delegate.next_json().await,
        json!({
            "meeting/1/motion_ids": [1, 2, 3, 4],
            "motion/1/title": "hidden",
            "motion/1/state_id": 1,
            "motion/2/title": "Änderungsantrag zu 1"
        })
    );
    assert_eq!(admin.next_json().await, json!({"motion/1/state_id": 1}));
}
