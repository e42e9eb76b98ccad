//! PostgreSQL outages while streams are open: an update that needs a key that is not
//! cached waits until PostgreSQL responds again, and the stream then gets the change.
//! Meanwhile new requests fail at once with 503 and health reports the outage.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{example_data, post, send, Proxy, Stream, TestDb, TestService};

/// Starts the service on example-data.json, reading PostgreSQL through a proxy the test
/// cuts.
async fn service_behind_proxy() -> Option<(TestService, Proxy)> {
    service_behind_proxy_with(&[]).await
}

/// Like `service_behind_proxy`, with more environment variables.
async fn service_behind_proxy_with(extra: &[(&str, String)]) -> Option<(TestService, Proxy)> {
    let data = example_data()?;
    let db = TestDb::new().await;
    db.load(&data).await;
    let proxy = Proxy::start(&db.host, db.port).await;
    let mut env = vec![
        ("AUTH_FAKE", "true".to_string()),
        ("DATABASE_HOST", "127.0.0.1".to_string()),
        ("DATABASE_PORT", proxy.port.to_string()),
    ];
    env.extend_from_slice(extra);
    let service = TestService::start_with_env(db, &env).await;
    Some((service, proxy))
}

fn motion_request() -> Value {
    json!([{
        "ids": [1], "collection": "meeting",
        "fields": {
            "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"title": null}}
        }
    }])
}

fn motion_url(service: &TestService) -> String {
    format!("{}/internal/autoupdate?user_id=1", service.url)
}

async fn open_motions(service: &TestService) -> Stream {
    let mut stream = Stream::open(&motion_url(service), Some(&motion_request())).await;
    assert_eq!(stream.status, 200);
    let first = stream.next_json().await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3, 4]));
    stream
}

/// Returns a new motion in the list the stream follows, with a title that is not cached.
fn new_motion() -> Value {
    json!({
        "motion/5/id": 5,
        "motion/5/title": "Written while PostgreSQL was down",
        "motion/5/meeting_id": 1,
        "motion/5/sequential_number": 5,
        "motion/5/state_id": 7,
        "motion_state/7/motion_ids": [4, 5],
        "meeting/1/motion_ids": [1, 2, 3, 4, 5]
    })
}

/// Requests the value of one key once, as user 1.
async fn single(service: &TestService, key: &str) -> support::Answer {
    let url = format!(
        "{}/internal/autoupdate?user_id=1&single=1&k={key}",
        service.url
    );
    send(reqwest::Method::GET, &url, None).await
}

async fn health(service: &TestService) -> u16 {
    send(
        reqwest::Method::GET,
        &format!("{}/system/autoupdate/health", service.url),
        None,
    )
    .await
    .status
}

/// Sends a new request for the stream's view and checks that it fails at once.
async fn assert_new_request_unavailable(service: &TestService) {
    let started = Instant::now();
    let answer = post(&motion_url(service), &motion_request()).await;
    assert_eq!(answer.status, 503);
    assert_eq!(
        answer.json(),
        json!({"error": {"type": "unavailable", "msg": "The datastore is unavailable. Try again later."}})
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn stream_waits_out_postgres_outage() {
    let Some((service, proxy)) = service_behind_proxy().await else {
        return;
    };
    let mut stream = open_motions(&service).await;
    assert_eq!(health(&service).await, 200);

    proxy.cut().await;
    service.change(&new_motion()).await;

    // The stream stays open and sends nothing while PostgreSQL cannot be read.
    assert!(!stream.ended(Duration::from_secs(2)).await);
    stream.expect_quiet(Duration::from_millis(100)).await;
    assert_new_request_unavailable(&service).await;
    let started = Instant::now();
    let answer = single(&service, "organization/1/name").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["error"]["type"], "unavailable");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(health(&service).await, 503);

    proxy.restore().await;
    let message = stream.next_json_within(Duration::from_secs(10)).await;
    assert_eq!(
        message,
        json!({
            "meeting/1/motion_ids": [1, 2, 3, 4, 5],
            "motion/5/title": "Written while PostgreSQL was down"
        })
    );
    stream.expect_quiet(Duration::from_millis(500)).await;
    assert_eq!(health(&service).await, 200);

    // The stream goes on as before.
    service
        .change(&json!({"motion/5/title": "After the outage"}))
        .await;
    assert_eq!(
        stream.next_json().await,
        json!({"motion/5/title": "After the outage"})
    );
}

#[tokio::test]
async fn stream_closed_during_outage() {
    let Some((service, proxy)) = service_behind_proxy().await else {
        return;
    };
    let stream = open_motions(&service).await;
    proxy.cut().await;
    service.change(&new_motion()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(stream);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The view left with its last connection; a new one is read on its own.
    let started = Instant::now();
    let answer = post(&motion_url(&service), &motion_request()).await;
    assert_eq!(answer.status, 503);
    assert!(started.elapsed() < Duration::from_secs(1));

    proxy.restore().await;
    let mut stream = Stream::open(&motion_url(&service), Some(&motion_request())).await;
    let first = stream.next_json().await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3, 4, 5]));
    assert_eq!(
        first["motion/5/title"],
        json!("Written while PostgreSQL was down")
    );
}

#[tokio::test]
async fn shutdown_ends_waiting_stream() {
    let Some((mut service, proxy)) = service_behind_proxy().await else {
        return;
    };
    let mut stream = open_motions(&service).await;
    proxy.cut().await;
    service.change(&new_motion()).await;
    assert!(!stream.ended(Duration::from_millis(500)).await);
    stream.expect_quiet(Duration::from_millis(10)).await;

    let started = Instant::now();
    service.stop().await;
    assert!(stream.ended(Duration::from_secs(2)).await);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn waiting_view_holds_up_no_other_view() {
    let Some((service, proxy)) = service_behind_proxy().await else {
        return;
    };
    let mut waiting = open_motions(&service).await;
    // Views that need only cached values, updated by the same change as the waiting one.
    let fields = [
        "name",
        "description",
        "location",
        "start_time",
        "end_time",
        "welcome_text",
        "committee_id",
    ];
    // Each field alone and each pair of them: enough views that the waiting one likely
    // shares a task with views updated after it.
    let mut keys: Vec<String> = fields
        .iter()
        .map(|field| format!("meeting/1/{field}"))
        .collect();
    for (index, first) in fields.iter().enumerate() {
        for second in &fields[index + 1..] {
            keys.push(format!("meeting/1/{first},meeting/1/{second}"));
        }
    }
    let mut others = Vec::new();
    for key in keys {
        let url = format!(
            "{}/system/autoupdate?k=meeting/1/welcome_title,{key}",
            service.url
        );
        let mut stream = Stream::open(&url, None).await;
        stream.next_json().await;
        others.push(stream);
    }

    proxy.cut().await;
    let mut change = new_motion();
    change["meeting/1/welcome_title"] = json!("During the outage");
    service.change(&change).await;
    for stream in &mut others {
        assert_eq!(
            stream.next_json().await,
            json!({"meeting/1/welcome_title": "During the outage"})
        );
    }
    waiting.expect_quiet(Duration::from_millis(500)).await;

    proxy.restore().await;
    let message = waiting.next_json_within(Duration::from_secs(10)).await;
    assert_eq!(
        message["motion/5/title"],
        json!("Written while PostgreSQL was down")
    );
}

#[tokio::test]
async fn stream_moved_to_another_view_waits_out_outage() {
    let Some((service, proxy)) = service_behind_proxy().await else {
        return;
    };
    // Motion 4 is hidden from delegates and shown to staff, who may manage motions.
    service
        .change(&json!({"motion_state/7/restrictions": ["motion.can_manage"]}))
        .await;
    let url = format!("{}/internal/autoupdate?user_id=2", service.url);
    let mut stream = Stream::open(&url, Some(&motion_request())).await;
    assert_eq!(stream.status, 200);
    let first = stream.next_json().await;
    assert_eq!(first["meeting/1/motion_ids"], json!([1, 2, 3]));
    assert!(first.get("motion/4/title").is_none());

    // User 2 moves from the delegates to the staff while PostgreSQL is down. The staff's
    // view is new, and the permissions of their group are not cached.
    proxy.cut().await;
    service
        .change(&json!({
            "meeting_user/2/group_ids": [3],
            "group/3/meeting_user_ids": [2],
            "group/5/meeting_user_ids": [3]
        }))
        .await;
    assert!(!stream.ended(Duration::from_secs(2)).await);
    stream.expect_quiet(Duration::from_millis(100)).await;

    proxy.restore().await;
    let message = stream.next_json_within(Duration::from_secs(10)).await;
    assert_eq!(
        message,
        json!({"meeting/1/motion_ids": [1, 2, 3, 4], "motion/4/title": "komplex"})
    );
    stream.expect_quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn slide_waits_out_outage() {
    let Some((service, proxy)) = service_behind_proxy().await else {
        return;
    };
    // Only the contents: the stream's own view needs no value from PostgreSQL.
    let request = json!([{
        "ids": [1],
        "collection": "projector",
        "fields": {
            "current_projection_ids": {
                "type": "relation-list",
                "collection": "projection",
                "fields": {"content": null}
            }
        }
    }]);
    let url = format!("{}/internal/autoupdate?user_id=1", service.url);
    let mut stream = Stream::open(&url, Some(&request)).await;
    assert_eq!(stream.status, 200);
    let first = stream.next_json().await;
    assert_eq!(first["projection/4/content"]["collection"], "assignment");

    // The topic's fields are not cached: its slide waits for PostgreSQL, and the
    // projection keeps its last content meanwhile instead of an error.
    proxy.cut().await;
    service
        .change(&json!({"projection/4/content_object_id": "topic/1"}))
        .await;
    stream.expect_quiet(Duration::from_secs(3)).await;

    proxy.restore().await;
    let mut contents = serde_json::Map::new();
    while contents
        .get("projection/4/content")
        .is_none_or(|content| content["collection"] != "topic")
    {
        let line = stream
            .next_line(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("the topic's slide after the restore; got {contents:?}"));
        let message: Value = serde_json::from_slice(&line).expect("JSON message");
        for (key, content) in message.as_object().expect("an object") {
            assert!(content.get("error").is_none(), "{key}: {content}");
            contents.insert(key.clone(), content.clone());
        }
    }
    assert_eq!(contents["projection/4/content"]["title"], "A");
}

#[tokio::test]
async fn postgres_that_stops_answering_hangs_nothing() {
    // Shorter than the pool's five seconds for opening a connection, so that the bound
    // below holds only when the query itself times out.
    let timeout = Duration::from_secs(1);
    let Some((service, proxy)) =
        service_behind_proxy_with(&[("DATABASE_QUERY_TIMEOUT", "1s".to_string())]).await
    else {
        return;
    };
    let mut stream = open_motions(&service).await;
    // Requests at the same time open several pooled connections, so that reads after
    // the freeze get connections that are already open and send their query.
    let keys: Vec<String> = (1..=8)
        .map(|id| format!("motion_state/{id}/name"))
        .collect();
    let reads = keys.iter().map(|key| single(&service, key));
    for answer in futures::future::join_all(reads).await {
        assert_eq!(answer.status, 200);
    }

    // PostgreSQL keeps its connections open but sends nothing.
    proxy.freeze();
    service.change(&new_motion()).await;

    // A new request for a value that is not cached fails after the query timeout
    // instead of hanging.
    let started = Instant::now();
    let answer = single(&service, "motion/5/text").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["error"]["type"], "unavailable");
    assert!(
        started.elapsed() < timeout * 4,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(health(&service).await, 503);
    assert!(!stream.ended(Duration::from_millis(100)).await);
    stream.expect_quiet(Duration::from_millis(100)).await;

    // The stream gets the change once PostgreSQL responds again.
    proxy.thaw();
    let message = stream.next_json_within(Duration::from_secs(10)).await;
    assert_eq!(
        message,
        json!({
            "meeting/1/motion_ids": [1, 2, 3, 4, 5],
            "motion/5/title": "Written while PostgreSQL was down"
        })
    );
}
