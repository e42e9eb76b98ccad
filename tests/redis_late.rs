//! A service that starts while Redis is unreachable. It serves values from PostgreSQL
//! meanwhile, so a change announced on Redis before its first connection must still
//! reach the clients that read the old value.

mod support;

use openslides_autoupdate::config::Config;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use support::{free_port, send, Proxy, Stream, TestDb, TestRedis};

/// Starts the service on `db` with its Redis behind `proxy`, and returns its URL. The
/// service stops when the returned sender is dropped.
async fn start_service(db: &TestDb, proxy: &Proxy) -> (String, tokio::sync::oneshot::Sender<()>) {
    let vars: HashMap<&str, String> = HashMap::from([
        ("AUTH_FAKE", "true".to_string()),
        ("OPENSLIDES_DEVELOPMENT", "true".to_string()),
        ("DATABASE_HOST", db.host.clone()),
        ("DATABASE_PORT", db.port.to_string()),
        ("DATABASE_USER", db.user.clone()),
        ("DATABASE_NAME", db.name.clone()),
        ("MESSAGE_BUS_HOST", "127.0.0.1".to_string()),
        ("MESSAGE_BUS_PORT", proxy.port.to_string()),
        ("VOTE_HOST", "127.0.0.1".to_string()),
        ("VOTE_PORT", free_port().to_string()),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        openslides_autoupdate::service::run(config, listener, shutdown)
            .await
            .expect("service runs");
    });
    (url, stop)
}

#[tokio::test]
async fn change_before_first_redis_connection_arrives() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    let redis = TestRedis::start().await;
    let proxy = Proxy::start("127.0.0.1", redis.port).await;
    proxy.cut().await;
    let (url, _stop) = start_service(&db, &proxy).await;

    // Redis is unreachable, so this value comes from PostgreSQL.
    let stream_url = format!("{url}/system/autoupdate?k=organization/1/name");
    let mut stream = Stream::open(&stream_url, None).await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "Org"})
    );

    // The writer reaches Redis, the service does not yet.
    let change = json!({"organization/1/name": "Renamed before the first connection"});
    db.write(&change).await;
    redis.xadd(&change).await;
    proxy.restore().await;
    redis.wait_for_reader().await;

    let line = stream.next_line(Duration::from_secs(10)).await;
    let message: Option<serde_json::Value> =
        line.map(|line| serde_json::from_slice(&line).expect("JSON message"));
    assert_eq!(
        message,
        Some(change.clone()),
        "the open stream missed the change"
    );

    let fresh = send(
        reqwest::Method::GET,
        &format!("{url}/system/autoupdate?single=1&k=organization/1/name"),
        None,
    )
    .await;
    assert_eq!(fresh.json(), change, "a new request got the old value");
}
