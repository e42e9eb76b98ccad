//! Projector slides over HTTP on example-data.json: the computed `projection/content`
//! field in first answers and in stream updates.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{example_data, Stream, TestDb, TestService};

async fn example_service() -> Option<(TestService, Value)> {
    let data = example_data()?;
    let db = TestDb::new().await;
    db.load(&data).await;
    Some((TestService::start_with(db).await, data))
}

/// Returns the projector request of the README.
fn projector_request() -> Value {
    json!([{
        "ids": [1],
        "collection": "projector",
        "fields": {
            "current_projection_ids": {
                "type": "relation-list",
                "collection": "projection",
                "fields": {
                    "content": null,
                    "content_object_id": null,
                    "stable": null,
                    "type": null,
                    "options": null
                }
            }
        }
    }])
}

/// Merges the stream's messages until `done` holds for what arrived, or fails the test
/// after five seconds.
async fn collect_until(stream: &mut Stream, done: impl Fn(&Value) -> bool) -> Value {
    let mut merged = serde_json::Map::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
        let line = stream
            .next_line(wait)
            .await
            .unwrap_or_else(|| panic!("no matching message; got {merged:?}"));
        let message: Value = serde_json::from_slice(&line).expect("JSON message");
        merged.extend(message.as_object().expect("an object").clone());
        let merged_value = Value::Object(merged.clone());
        if done(&merged_value) {
            return merged_value;
        }
    }
}

#[tokio::test]
async fn readme_request_has_content_for_every_projection() {
    let Some((service, data)) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&projector_request()),
    )
    .await;
    assert_eq!(stream.status, 200);
    let first = stream.next_json().await;

    let ids = data["projector"]["1"]["current_projection_ids"]
        .as_array()
        .expect("projector 1 shows projections")
        .clone();
    assert!(!ids.is_empty());
    for id in ids {
        let projection = &data["projection"][id.to_string()];
        let content = &first[format!("projection/{id}/content")];
        let object = projection["content_object_id"].as_str().unwrap();
        let expected = match projection["type"].as_str() {
            Some(kind) if object.starts_with("meeting/") => kind,
            _ => object.split('/').next().unwrap(),
        };
        assert_eq!(
            content["collection"], expected,
            "projection {id}: {content}"
        );
        assert!(content.get("error").is_none(), "projection {id}: {content}");
    }
}

#[tokio::test]
async fn projecting_another_object_updates_the_stream() {
    let Some((service, data)) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&projector_request()),
    )
    .await;
    let first = stream.next_json().await;
    assert_eq!(first["projection/4/content_object_id"], "assignment/1");

    service
        .change(&json!({"projection/4/content_object_id": "topic/1"}))
        .await;
    let item = data["topic"]["1"]["agenda_item_id"].to_string();
    let item_number = data["agenda_item"][&item]["item_number"]
        .as_str()
        .unwrap_or("");
    let update = collect_until(&mut stream, |m| {
        m["projection/4/content"]["collection"] == "topic"
    })
    .await;
    assert_eq!(update["projection/4/content_object_id"], "topic/1");
    assert_eq!(
        update["projection/4/content"],
        json!({
            "collection": "topic",
            "title": data["topic"]["1"]["title"],
            "text": "",
            "item_number": item_number,
        })
    );
}

#[tokio::test]
async fn changing_a_motion_title_updates_its_projection() {
    let Some((service, _)) = example_service().await else {
        return;
    };
    service
        .change(&json!({"projection/4/content_object_id": "motion/1"}))
        .await;
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&projector_request()),
    )
    .await;
    let first = stream.next_json().await;
    assert_eq!(first["projection/4/content"]["collection"], "motion");
    assert_eq!(first["projection/4/content"]["title"], "test");

    service
        .change(&json!({"motion/1/title": "A new title"}))
        .await;
    let update = collect_until(&mut stream, |m| m.get("projection/4/content").is_some()).await;
    assert_eq!(update["projection/4/content"]["title"], "A new title");
    // Only contents changed; the other fields of the projection are not sent again.
    // Projection 3 shows the current list of speakers, which is the list of the motion
    // now on the reference projector, so its title changed there too.
    for key in update.as_object().unwrap().keys() {
        assert!(key.ends_with("/content"), "unexpected key {key}");
    }
}

#[tokio::test]
async fn projection_leaving_the_projector_loses_its_content() {
    let Some((service, _)) = example_service().await else {
        return;
    };
    let mut stream = Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&json!([{
            "ids": [4], "collection": "projection",
            "fields": {"content": null, "current_projector_id": null}
        }])),
    )
    .await;
    let first = stream.next_json().await;
    assert_eq!(first["projection/4/content"]["collection"], "assignment");

    service
        .change(&json!({"projection/4/current_projector_id": null, "projection/4/history_projector_id": 1}))
        .await;
    let update = collect_until(&mut stream, |m| m.get("projection/4/content").is_some()).await;
    assert_eq!(update["projection/4/content"], Value::Null);
}

#[tokio::test]
async fn single_answer_has_content() {
    let Some((service, _)) = example_service().await else {
        return;
    };
    let answer = support::send(
        reqwest::Method::GET,
        &format!(
            "{}/internal/autoupdate?user_id=1&single=1&k=projection/3/content,projection/4/content",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["projection/3/content"]["collection"], "current_los");
    assert_eq!(body["projection/4/content"]["collection"], "assignment");
}
