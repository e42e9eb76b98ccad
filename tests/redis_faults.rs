//! Redis outages while streams are open: after Redis lost or trimmed entries, every open
//! stream is read again from PostgreSQL, so clients end with the current data, and they
//! get only what differs from what they have.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{Stream, TestDb, TestService};

async fn service() -> TestService {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org", "description": "D"}}))
        .await;
    TestService::start_with(db).await
}

async fn open(service: &TestService) -> Stream {
    let mut stream = Stream::open(
        &format!(
            "{}/system/autoupdate?k=organization/1/name,organization/1/description",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "Org", "organization/1/description": "D"})
    );
    stream
}

#[tokio::test]
async fn redis_restarted_empty_reads_the_datastore_again() {
    let service = service().await;
    let mut stream = open(&service).await;

    service.redis.kill();
    // A change written while Redis is down never reaches the stream through Redis.
    service
        .db
        .write(&json!({"organization/1/name": "Changed while Redis was down"}))
        .await;
    service.redis.restart().await;

    assert_eq!(
        stream.next_json_within(Duration::from_secs(10)).await,
        json!({"organization/1/name": "Changed while Redis was down"})
    );

    // The new, empty stream is read from its start.
    service.redis.wait_for_reader().await;
    service
        .change(&json!({"organization/1/description": "After the restart"}))
        .await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/description": "After the restart"})
    );
}

#[tokio::test]
async fn trimmed_entries_read_the_datastore_again() {
    let service = service().await;
    let mut stream = open(&service).await;
    let mut connection = service.redis.connection().await.unwrap();

    // Drop the service's connection, then add an entry and trim it away before the
    // service reconnects.
    let _: redis::Value = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .arg("SKIPME")
        .arg("yes")
        .query_async(&mut connection)
        .await
        .unwrap();
    service
        .change(&json!({"organization/1/name": "Trimmed away"}))
        .await;
    let _: redis::Value = redis::cmd("XTRIM")
        .arg("ModifiedFields")
        .arg("MAXLEN")
        .arg(0)
        .query_async(&mut connection)
        .await
        .unwrap();

    assert_eq!(
        stream.next_json_within(Duration::from_secs(10)).await,
        json!({"organization/1/name": "Trimmed away"})
    );
    // The unchanged description is not sent again.
    stream.expect_quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn reconnect_without_lost_entries_sends_nothing() {
    let service = service().await;
    let mut stream = open(&service).await;
    let mut connection = service.redis.connection().await.unwrap();
    let _: redis::Value = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .arg("SKIPME")
        .arg("yes")
        .query_async(&mut connection)
        .await
        .unwrap();
    stream.expect_quiet(Duration::from_secs(1)).await;

    service.redis.wait_for_reader().await;
    service
        .change(&json!({"organization/1/name": "After the reconnect"}))
        .await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "After the reconnect"})
    );
}

/// Returns the status of the health check.
async fn health(service: &TestService) -> u16 {
    support::send(
        reqwest::Method::GET,
        &format!("{}/system/autoupdate/health", service.url),
        None,
    )
    .await
    .status
}

/// Requests health until it returns `status`, for at most ten seconds.
async fn wait_for_health(service: &TestService, status: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let current = health(service).await;
        if current == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health still answers {current} instead of {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn health_reports_redis_outage() {
    let service = service().await;
    assert_eq!(health(&service).await, 200);

    service.redis.kill();
    wait_for_health(&service, 503).await;
    let answer = support::send(
        reqwest::Method::GET,
        &format!("{}/system/autoupdate/health", service.url),
        None,
    )
    .await;
    assert_eq!(answer.json(), json!({"healthy": false}));

    service.redis.restart().await;
    wait_for_health(&service, 200).await;
}

#[tokio::test]
async fn service_starts_while_redis_is_down() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org", "description": "D"}}))
        .await;
    let redis = std::sync::Arc::new(support::TestRedis::start().await);
    redis.kill();
    let service =
        TestService::start_without_message_bus(db, redis, &[("AUTH_FAKE", "true".to_string())])
            .await;

    // Requests are served from PostgreSQL; health reports the missing Redis.
    wait_for_health(&service, 503).await;
    let mut stream = open(&service).await;

    service.redis.restart().await;
    wait_for_health(&service, 200).await;
    service.redis.wait_for_reader().await;
    service
        .change(&json!({"organization/1/name": "After Redis started"}))
        .await;
    assert_eq!(
        stream.next_json_within(Duration::from_secs(10)).await,
        json!({"organization/1/name": "After Redis started"})
    );
}

#[tokio::test]
async fn change_before_first_redis_connection_arrives() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org", "description": "D"}}))
        .await;
    let redis = std::sync::Arc::new(support::TestRedis::start().await);
    let proxy = support::Proxy::start("127.0.0.1", redis.port).await;
    proxy.cut().await;
    let service = TestService::start_without_message_bus(
        db,
        redis,
        &[
            ("AUTH_FAKE", "true".to_string()),
            ("MESSAGE_BUS_PORT", proxy.port.to_string()),
        ],
    )
    .await;

    // Redis is unreachable for the service, so these values come from PostgreSQL.
    let mut stream = open(&service).await;

    // The writer reaches Redis; the service does not yet.
    let change = json!({"organization/1/name": "Renamed before the first connection"});
    service.change(&change).await;
    proxy.restore().await;
    service.redis.wait_for_reader().await;

    assert_eq!(
        stream.next_json_within(Duration::from_secs(10)).await,
        change
    );
    let fresh = support::send(
        reqwest::Method::GET,
        &format!(
            "{}/system/autoupdate?single=1&k=organization/1/name",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(fresh.json(), change);
}
