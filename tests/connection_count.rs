//! `connection_count`: open connections per user, summed over instances that share one
//! Redis, who may see them, and the bound on concurrent first messages.

mod support;

use openslides_autoupdate::auth::{sign, Claims, DEVELOPMENT_COOKIE_KEY, DEVELOPMENT_TOKEN_KEY};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{Stream, TestDb, TestRedis, TestService};

/// Organization manager.
const MANAGER: u64 = 1;
/// Admin of meeting 1.
const ADMIN: u64 = 2;
/// Member of meeting 1.
const MEMBER: u64 = 3;
/// Member of meeting 2.
const OTHER_MEMBER: u64 = 4;
/// Member of no meeting.
const LONER: u64 = 5;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Returns the authentication headers of a user, signed with the development keys.
/// Public access (user 0) has none.
fn credentials(user_id: u64) -> Vec<(&'static str, String)> {
    if user_id == 0 {
        return Vec::new();
    }
    let session = format!("session-{user_id}");
    let claims = Claims {
        user_id: user_id as i64,
        session_id: session.clone(),
        exp: Some((now() + 600) as u64),
    };
    let token = sign(&claims, DEVELOPMENT_TOKEN_KEY).unwrap();
    let cookie = sign(
        &json!({"sessionId": session, "exp": now() + 3600}),
        DEVELOPMENT_COOKIE_KEY,
    )
    .unwrap();
    vec![
        ("authentication", format!("bearer {token}")),
        ("cookie", format!("refreshId=bearer%20{cookie}")),
    ]
}

async fn database() -> TestDb {
    let db = TestDb::new().await;
    db.load_fqids(&json!({
        "organization/1": {"id": 1, "name": "Org", "user_ids": [1, 2, 3, 4, 5]},
        "user/1": {"id": 1, "username": "manager",
            "organization_management_level": "can_manage_organization"},
        "user/2": {"id": 2, "username": "admin", "meeting_user_ids": [2], "meeting_ids": [1]},
        "user/3": {"id": 3, "username": "member", "meeting_user_ids": [3], "meeting_ids": [1]},
        "user/4": {"id": 4, "username": "other", "meeting_user_ids": [4], "meeting_ids": [2]},
        "user/5": {"id": 5, "username": "loner"},
        "meeting/1": {"id": 1, "name": "M1", "admin_group_id": 1, "default_group_id": 2,
            "group_ids": [1, 2], "meeting_user_ids": [2, 3]},
        "meeting/2": {"id": 2, "name": "M2", "admin_group_id": 3, "default_group_id": 4,
            "group_ids": [3, 4], "meeting_user_ids": [4]},
        "group/1": {"id": 1, "name": "Admin", "meeting_id": 1, "admin_group_for_meeting_id": 1,
            "meeting_user_ids": [2]},
        "group/2": {"id": 2, "name": "Default", "meeting_id": 1, "meeting_user_ids": [3]},
        "group/3": {"id": 3, "name": "Admin", "meeting_id": 2, "admin_group_for_meeting_id": 2},
        "group/4": {"id": 4, "name": "Default", "meeting_id": 2, "meeting_user_ids": [4]},
        "meeting_user/2": {"id": 2, "user_id": 2, "meeting_id": 1, "group_ids": [1]},
        "meeting_user/3": {"id": 3, "user_id": 3, "meeting_id": 1, "group_ids": [2]},
        "meeting_user/4": {"id": 4, "user_id": 4, "meeting_id": 2, "group_ids": [4]},
    }))
    .await;
    db
}

/// Saves counts every second, so that they reach the other instances quickly.
fn fast_saves() -> Vec<(&'static str, String)> {
    vec![("METRIC_SAVE_INTERVAL", "1s".to_string())]
}

async fn start(redis: &Arc<TestRedis>, extra: &[(&'static str, String)]) -> TestService {
    TestService::start_on_redis(database().await, redis.clone(), extra).await
}

/// Opens a stream as the user and waits for its first message, so it is counted.
async fn open_stream(service: &TestService, user_id: u64) -> Stream {
    let mut request = support::client().post(format!(
        "{}/system/autoupdate?k=organization/1/name",
        service.url
    ));
    for (name, value) in credentials(user_id) {
        request = request.header(name, value);
    }
    let mut stream = Stream::from_response(request.send().await.expect("open stream"));
    assert_eq!(stream.status, 200, "stream of user {user_id}");
    stream.next_json().await;
    stream
}

/// Requests the connection count as the user: status and body.
async fn connection_count(service: &TestService, user_id: u64) -> (u16, Value) {
    let mut request = support::client().get(format!(
        "{}/system/autoupdate/connection_count",
        service.url
    ));
    for (name, value) in credentials(user_id) {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("request connection_count");
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(&body)));
    (status, json)
}

/// Polls the organization manager's view of the count on `service` until it equals
/// `expected`; fails after five seconds with the last response.
async fn wait_for_count(service: &TestService, expected: Value) {
    let mut last = Value::Null;
    for _ in 0..50 {
        let (status, count) = connection_count(service, MANAGER).await;
        assert_eq!(status, 200, "{count}");
        if count == expected {
            return;
        }
        last = count;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "connection count on {} is {last}, expected {expected}",
        service.url
    );
}

/// Returns a Redis hash as field -> value.
async fn redis_hash(redis: &TestRedis, key: &str) -> std::collections::HashMap<String, String> {
    let mut connection = redis.connection().await.unwrap();
    redis::cmd("HGETALL")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn two_instances_sum_their_counts() {
    let redis = Arc::new(TestRedis::start().await);
    let first = start(&redis, &fast_saves()).await;
    let second = start(&redis, &fast_saves()).await;

    let _manager_streams = [
        open_stream(&first, MANAGER).await,
        open_stream(&first, MANAGER).await,
    ];
    let member_stream = open_stream(&second, MEMBER).await;
    let public_stream = open_stream(&second, 0).await;

    let all = json!({"0": 1, "1": 2, "3": 1});
    wait_for_count(&first, all.clone()).await;
    wait_for_count(&second, all).await;

    drop(member_stream);
    drop(public_stream);
    wait_for_count(&first, json!({"1": 2})).await;
    wait_for_count(&second, json!({"1": 2})).await;
}

#[tokio::test]
async fn count_saved_under_instance_id() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &fast_saves()).await;
    let _stream = open_stream(&service, MEMBER).await;

    let mut saved = Default::default();
    for _ in 0..30 {
        saved = redis_hash(&redis, "metric-connections_stream-values").await;
        if saved.values().any(|value| value == r#"{"3":1}"#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(saved.len(), 1, "{saved:?}");
    let (instance, value) = saved.iter().next().unwrap();
    assert_eq!(value, r#"{"3":1}"#);
    // The id is the start time in UTC, such as 2024-05-01T13:02:03, and eight letters.
    assert_eq!(instance.len(), 28, "{instance}");
    assert_eq!(&instance[10..11], "T", "{instance}");

    let timestamps = redis_hash(&redis, "metric-connections_stream-timestamp").await;
    let saved_at: i64 = timestamps[instance].parse().unwrap();
    assert!(
        (now() - saved_at).abs() <= 2,
        "saved at {saved_at}, now {}",
        now()
    );
}

#[tokio::test]
async fn manager_sees_every_user() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &[]).await;
    let _streams = [
        open_stream(&service, 0).await,
        open_stream(&service, MEMBER).await,
        open_stream(&service, OTHER_MEMBER).await,
        open_stream(&service, LONER).await,
    ];

    let (status, count) = connection_count(&service, MANAGER).await;
    assert_eq!(status, 200, "{count}");
    assert_eq!(count, json!({"0": 1, "3": 1, "4": 1, "5": 1}));
}

#[tokio::test]
async fn meeting_admin_sees_own_meeting_members() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &[]).await;
    let _streams = [
        open_stream(&service, 0).await,
        open_stream(&service, MANAGER).await,
        open_stream(&service, ADMIN).await,
        open_stream(&service, MEMBER).await,
        open_stream(&service, MEMBER).await,
        open_stream(&service, OTHER_MEMBER).await,
    ];

    let (status, count) = connection_count(&service, ADMIN).await;
    assert_eq!(status, 200, "{count}");
    assert_eq!(count, json!({"2": 1, "3": 2}));
}

#[tokio::test]
async fn others_get_403() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &[]).await;
    for user_id in [0, MEMBER, OTHER_MEMBER, LONER] {
        let (status, body) = connection_count(&service, user_id).await;
        assert_eq!(status, 403, "user {user_id}: {body}");
        assert_eq!(
            body["error"]["type"], "permission_denied",
            "user {user_id}: {body}"
        );
        assert!(body["error"]["msg"].is_string(), "user {user_id}: {body}");
    }
}

#[tokio::test]
async fn service_path_serves_count() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &[]).await;
    let _stream = open_stream(&service, MEMBER).await;
    let mut request = support::client().get(format!(
        "{}/service/autoupdate/connection_count",
        service.url
    ));
    for (name, value) in credentials(MANAGER) {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let count: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(count, json!({"3": 1}));
}

/// Sends a long polling request with the state `hash` as the user; without a hash the
/// response comes at once.
fn long_poll(service: &TestService, user_id: u64, hash: Option<&str>) -> reqwest::RequestBuilder {
    let request_body = r#"[{"ids": [1], "collection": "organization", "fields": {"name": null}}]"#;
    let mut request = match hash {
        None => support::client()
            .post(format!("{}/system/autoupdate?longpolling=1", service.url))
            .body(request_body),
        Some(hash) => {
            let boundary = "XcountX";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{request_body}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\n{hash}\r\n--{boundary}--\r\n"
            );
            support::client()
                .post(format!("{}/system/autoupdate", service.url))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
        }
    };
    for (name, value) in credentials(user_id) {
        request = request.header(name, value);
    }
    request
}

/// Returns the `hash` part of a long polling response.
async fn hash_of(response: reqwest::Response) -> String {
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let boundary = multer::parse_boundary(&content_type).unwrap();
    let mut multipart = multer::Multipart::new(response.bytes_stream(), boundary);
    while let Some(field) = multipart.next_field().await.unwrap() {
        if field.name() == Some("hash") {
            return field.text().await.unwrap();
        }
    }
    panic!("long polling response without a hash part");
}

#[tokio::test]
async fn long_polling_counted_separately() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &fast_saves()).await;
    let _stream = open_stream(&service, MEMBER).await;

    let first = long_poll(&service, OTHER_MEMBER, None)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let hash = hash_of(first).await;
    // With the hash of the current state, the poll waits for the next change.
    let waiting = tokio::spawn(long_poll(&service, OTHER_MEMBER, Some(&hash)).send());

    wait_for_count(&service, json!({"3": 1, "4": 1})).await;
    let mut stream_saved = Default::default();
    let mut polling_saved = Default::default();
    for _ in 0..30 {
        stream_saved = redis_hash(&redis, "metric-connections_stream-values").await;
        polling_saved = redis_hash(&redis, "metric-connections_longpolling-values").await;
        if polling_saved.values().any(|value| value == r#"{"4":1}"#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let polling: Vec<&String> = polling_saved.values().collect();
    assert_eq!(polling, [r#"{"4":1}"#]);
    let streams: Vec<&String> = stream_saved.values().collect();
    assert_eq!(streams, [r#"{"3":1}"#]);

    // A long poll that got its response is no longer counted.
    service
        .change(&json!({"organization/1/name": "Renamed"}))
        .await;
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the poll is answered after a change")
        .unwrap()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    answer.bytes().await.unwrap();
    wait_for_count(&service, json!({"3": 1})).await;
}

/// Saves counts of other instances straight to Redis: `(instance, counts, seconds ago)`.
async fn save_foreign_counts(redis: &TestRedis, entries: &[(&str, Value, i64)]) {
    let mut connection = redis.connection().await.unwrap();
    for (instance, counts, age) in entries {
        let _: () = redis::cmd("HSET")
            .arg("metric-connections_stream-values")
            .arg(*instance)
            .arg(counts.to_string())
            .query_async(&mut connection)
            .await
            .unwrap();
        let _: () = redis::cmd("HSET")
            .arg("metric-connections_stream-timestamp")
            .arg(*instance)
            .arg(now() - age)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn stale_instances_are_ignored() {
    let redis = Arc::new(TestRedis::start().await);
    // Saves older than twice 10 seconds are ignored.
    let service = start(&redis, &[("METRIC_SAVE_INTERVAL", "10s".to_string())]).await;
    let _stream = open_stream(&service, MEMBER).await;
    save_foreign_counts(
        &redis,
        &[
            ("2024-01-01T00:00:00-freshAAA", json!({"3": 2, "4": 1}), 5),
            ("2024-01-01T00:00:00-staleBBB", json!({"5": 7}), 25),
        ],
    )
    .await;
    // A value without a timestamp belongs to no running instance.
    let mut connection = redis.connection().await.unwrap();
    let _: () = redis::cmd("HSET")
        .arg("metric-connections_stream-values")
        .arg("2024-01-01T00:00:00-noTimeCC")
        .arg(r#"{"1": 9}"#)
        .query_async(&mut connection)
        .await
        .unwrap();

    let (status, count) = connection_count(&service, MANAGER).await;
    assert_eq!(status, 200, "{count}");
    assert_eq!(count, json!({"3": 3, "4": 1}));
}

#[tokio::test]
async fn disabled_count_stays_local() {
    let redis = Arc::new(TestRedis::start().await);
    let disabled = [
        ("METRIC_SAVE_INTERVAL", "1s".to_string()),
        ("DISABLE_CONNECTION_COUNT", "true".to_string()),
    ];
    let first = start(&redis, &disabled).await;
    let second = start(&redis, &disabled).await;
    let _first_stream = open_stream(&first, MEMBER).await;
    let _second_stream = open_stream(&second, OTHER_MEMBER).await;

    // Two save intervals pass without a save.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, first_count) = connection_count(&first, MANAGER).await;
    assert_eq!(first_count, json!({"3": 1}));
    let (_, second_count) = connection_count(&second, MANAGER).await;
    assert_eq!(second_count, json!({"4": 1}));

    let mut connection = redis.connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("metric-*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn public_access_only_saves_nothing() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(
        &redis,
        &[
            ("METRIC_SAVE_INTERVAL", "1s".to_string()),
            ("OPENSLIDES_PUBLIC_ACCESS_ONLY", "true".to_string()),
        ],
    )
    .await;
    let _stream = open_stream(&service, 0).await;

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut connection = redis.connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("metric-*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn one_worker_serves_many_connections() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &[("CONCURENT_WORKER", "1".to_string())]).await;

    // Different requests, so that each connection computes its own first message.
    let keys = [
        "organization/1/name",
        "user/3/username",
        "user/4/username",
        "meeting/1/name",
        "meeting/2/name",
        "group/1/name",
    ];
    let opens = keys.iter().map(|key| {
        let url = format!("{}/system/autoupdate?k={key}", service.url);
        async move {
            let mut request = support::client().post(url);
            for (name, value) in credentials(MANAGER) {
                request = request.header(name, value);
            }
            let mut stream = Stream::from_response(request.send().await.unwrap());
            assert_eq!(stream.status, 200);
            stream.next_json().await
        }
    });
    let firsts = futures::future::join_all(opens).await;
    for (key, first) in keys.iter().zip(&firsts) {
        assert!(first.get(*key).is_some(), "{key}: {first}");
    }

    // A long polling request gets its first message too, after the streams.
    let poll = long_poll(&service, MEMBER, None).send().await.unwrap();
    assert_eq!(poll.status().as_u16(), 200);
}

#[tokio::test]
async fn metric_sums_instances_through_redis() {
    use openslides_autoupdate::datastore::{Datastore, MemorySource};
    use openslides_autoupdate::messagebus::RedisConfig;
    use openslides_autoupdate::metric::{gather, ConnectionCounter, ConnectionKind};

    let redis = TestRedis::start().await;
    let config = RedisConfig {
        host: "127.0.0.1".to_string(),
        port: redis.port,
    };
    let this = ConnectionCounter::with_redis(config.clone(), Duration::from_secs(60));
    let other = ConnectionCounter::with_redis(config, Duration::from_secs(60));
    let _this_streams = [
        this.open(ConnectionKind::Stream, 1),
        this.open(ConnectionKind::Stream, 1),
    ];
    let _other_connections = [
        other.open(ConnectionKind::Stream, 0),
        other.open(ConnectionKind::Stream, 3),
        other.open(ConnectionKind::LongPolling, 3),
    ];
    other.save().await.unwrap();

    let datastore = Datastore::new(Arc::new(MemorySource::default()));
    let values = gather(&this, &datastore).await;
    let expected = [
        ("connections_stream_current_connections", 4),
        ("connections_stream_current_connections_local", 2),
        ("connections_stream_connected_users_current", 3),
        ("connections_stream_connected_users_current_local", 1),
        ("connections_stream_connected_connections_public_access", 1),
        ("connections_stream_connected_users_average_connections", 1),
        ("connections_longpolling_current_connections", 1),
        ("connections_longpolling_current_connections_local", 0),
        ("connections_longpolling_connected_users_total", 1),
    ];
    for (name, value) in expected {
        assert_eq!(values[name], value, "{name} in {values:?}");
    }
}

#[tokio::test]
async fn redis_outage_counts_this_instance() {
    let redis = Arc::new(TestRedis::start().await);
    let service = start(&redis, &[]).await;
    let _streams = [
        open_stream(&service, MEMBER).await,
        open_stream(&service, LONER).await,
    ];

    redis.kill();
    let (status, count) = connection_count(&service, MANAGER).await;
    assert_eq!(status, 200, "{count}");
    assert_eq!(count, json!({"3": 1, "5": 1}));
}
