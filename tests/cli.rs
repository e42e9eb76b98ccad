//! The `openslides-autoupdate` binary as an operator runs it: `load`, `run`, `health`,
//! and its start-up errors.

mod support;

use serde_json::json;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{example_data, free_port, Proxy, Stream, TestDb, TestRedis};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_openslides-autoupdate"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

fn with_database(command: &mut Command, db: &TestDb) {
    let host = std::env::var("TEST_DATABASE_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("TEST_DATABASE_PORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("TEST_DATABASE_USER").unwrap_or_else(|_| "postgres".into());
    command
        .env("DATABASE_HOST", host)
        .env("DATABASE_PORT", port)
        .env("DATABASE_USER", user)
        .env("DATABASE_NAME", &db.name)
        .env("OPENSLIDES_DEVELOPMENT", "true");
}

fn run_to_end(command: &mut Command) -> Output {
    command.output().expect("run openslides-autoupdate")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Kills the service process when the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nothing listens on port {port}");
}

#[tokio::test]
async fn load_writes_models_positions_and_events() {
    let Some(data) = example_data() else { return };
    let path = std::env::temp_dir().join(format!("autoupdate-export-{}.json", std::process::id()));
    std::fs::write(&path, data.to_string()).unwrap();
    let db = TestDb::new().await;

    let mut load = binary();
    with_database(&mut load, &db);
    let output = run_to_end(load.arg("load").arg(&path));
    assert!(output.status.success(), "load failed: {}", stderr(&output));

    let objects: usize = data
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| !name.starts_with('_'))
        .map(|(_, models)| models.as_object().unwrap().len())
        .sum();
    let client = db.client().await;
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) as usize }
    };
    assert_eq!(
        count("SELECT count(*) FROM models WHERE NOT deleted").await,
        objects
    );
    assert_eq!(count("SELECT count(*) FROM positions").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM events WHERE type = 'create'").await,
        objects
    );
    let name: serde_json::Value = client
        .query_one(
            "SELECT data->'name' FROM models WHERE fqid = 'meeting/1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, json!("OpenSlides Demo"));

    // A second load would mix two datasets; it is refused unless --replace is given.
    let mut again = binary();
    with_database(&mut again, &db);
    let output = run_to_end(again.arg("load").arg(&path));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--replace"), "{}", stderr(&output));

    let mut replace = binary();
    with_database(&mut replace, &db);
    let output = run_to_end(replace.arg("load").arg("--replace").arg(&path));
    assert!(
        output.status.success(),
        "load --replace failed: {}",
        stderr(&output)
    );
    assert_eq!(count("SELECT count(*) FROM models").await, objects);
    assert_eq!(count("SELECT count(*) FROM positions").await, 1);

    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn run_streams_example_data_and_redis_changes() {
    let Some(data) = example_data() else { return };
    let db = TestDb::new().await;
    db.load(&data).await;
    let redis = TestRedis::start().await;
    let port = free_port();

    let mut run = binary();
    with_database(&mut run, &db);
    run.env("AUTH_FAKE", "true")
        .env("AUTOUPDATE_HOST", "127.0.0.1")
        .env("AUTOUPDATE_PORT", port.to_string())
        .env("MESSAGE_BUS_HOST", "127.0.0.1")
        .env("MESSAGE_BUS_PORT", redis.port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut service = Running(run.spawn().expect("start the service"));
    wait_for_port(port).await;

    let request = json!([{"ids": [1], "collection": "meeting", "fields": {
        "name": null,
        "committee_id": {"type": "relation", "collection": "committee", "fields": {"name": null}}
    }}]);
    let mut stream = Stream::open(
        &format!("http://127.0.0.1:{port}/system/autoupdate"),
        Some(&request),
    )
    .await;
    assert_eq!(
        stream.next_json().await,
        json!({"meeting/1/name": "OpenSlides Demo", "meeting/1/committee_id": 1, "committee/1/name": "Default committee"})
    );

    redis.wait_for_reader().await;
    db.write(&json!({"committee/1/name": "Board"})).await;
    redis.xadd(&json!({"committee/1/name": "Board"})).await;
    assert_eq!(
        stream.next_json().await,
        json!({"committee/1/name": "Board"})
    );

    let health = run_to_end(
        binary()
            .env("AUTOUPDATE_PORT", port.to_string())
            .arg("health"),
    );
    assert!(
        health.status.success(),
        "health failed: {}",
        stderr(&health)
    );

    // SIGTERM ends open streams and the process within a few seconds.
    terminate(&mut service, &mut stream, "TERM").await;
}

#[test]
fn run_names_missing_auth_key_file() {
    let output = run_to_end(
        binary()
            .env("DATABASE_PASSWORD_FILE", "/dev/null")
            .env("AUTH_TOKEN_KEY_FILE", "/nonexistent/auth_token_key")
            .arg("run"),
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("/nonexistent/auth_token_key"), "{message}");
    assert!(message.contains("AUTH_TOKEN_KEY_FILE"), "{message}");
}

#[test]
fn run_names_missing_password_file() {
    let output = run_to_end(
        binary()
            .env("AUTH_FAKE", "true")
            .env("DATABASE_PASSWORD_FILE", "/nonexistent/postgres_password"),
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("/nonexistent/postgres_password"),
        "{message}"
    );
    assert!(message.contains("DATABASE_PASSWORD_FILE"), "{message}");
}

#[test]
fn health_fails_without_service() {
    let port = free_port();
    let output = run_to_end(
        binary()
            .env("AUTOUPDATE_PORT", port.to_string())
            .arg("health"),
    );
    assert!(!output.status.success());
}

#[tokio::test]
async fn interrupt_ends_stream_waiting_for_postgres() {
    let Some(data) = example_data() else { return };
    let db = TestDb::new().await;
    db.load(&data).await;
    let redis = TestRedis::start().await;
    let proxy = Proxy::start(&db.host, db.port).await;
    let port = free_port();

    let mut run = binary();
    with_database(&mut run, &db);
    run.env("DATABASE_HOST", "127.0.0.1")
        .env("DATABASE_PORT", proxy.port.to_string())
        .env("AUTH_FAKE", "true")
        .env("AUTOUPDATE_HOST", "127.0.0.1")
        .env("AUTOUPDATE_PORT", port.to_string())
        .env("MESSAGE_BUS_HOST", "127.0.0.1")
        .env("MESSAGE_BUS_PORT", redis.port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut service = Running(run.spawn().expect("start the service"));
    wait_for_port(port).await;

    let request = json!([{"ids": [1], "collection": "meeting", "fields": {
        "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"title": null}}
    }}]);
    let mut stream = Stream::open(
        &format!("http://127.0.0.1:{port}/system/autoupdate"),
        Some(&request),
    )
    .await;
    assert_eq!(
        stream.next_json().await["meeting/1/motion_ids"],
        json!([1, 2, 3, 4])
    );

    // A new motion whose title is not cached: the stream's update waits for PostgreSQL.
    proxy.cut().await;
    redis.wait_for_reader().await;
    let change = json!({
        "motion/5/id": 5,
        "motion/5/title": "Written while PostgreSQL was down",
        "motion/5/meeting_id": 1,
        "motion/5/sequential_number": 5,
        "motion/5/state_id": 7,
        "meeting/1/motion_ids": [1, 2, 3, 4, 5]
    });
    db.write(&change).await;
    redis.xadd(&change).await;
    assert!(!stream.ended(Duration::from_millis(500)).await);
    stream.expect_quiet(Duration::from_millis(10)).await;

    // SIGINT does the same, also for a stream that waits for PostgreSQL.
    terminate(&mut service, &mut stream, "INT").await;
}

/// Sends the signal (`TERM` or `INT`) to the service and checks that the open stream
/// ends and the process exits successfully within a few seconds.
async fn terminate(service: &mut Running, stream: &mut Stream, signal: &str) {
    let started = Instant::now();
    let pid = service.0.id().to_string();
    assert!(Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap()
        .success());
    assert!(
        stream.ended(Duration::from_secs(5)).await,
        "stream still open after SIG{signal}"
    );
    let status = loop {
        if let Some(status) = service.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "service did not exit after SIG{signal}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "service exited with {status}");
}
