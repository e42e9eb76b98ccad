//! `poll/has_voted_user_ids` from the vote service: a stand-in vote service on 127.0.0.1
//! streams JSON lines, and the service passes them to open streams.

mod support;

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{send, Stream, TestDb, TestService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::task::{JoinHandle, JoinSet};

const QUIET: Duration = Duration::from_millis(500);

/// A stand-in vote service. Every connection to `/internal/vote/all_voted_ids` gets the
/// current `first` line, then every line passed to `send`.
struct VoteStub {
    port: u16,
    first: Arc<parking_lot::Mutex<Value>>,
    lines: broadcast::Sender<String>,
    /// Accepted connections since the stub was created.
    connections: Arc<AtomicUsize>,
    /// The request lines of those connections, such as `GET /path HTTP/1.1`.
    requests: Arc<parking_lot::Mutex<Vec<String>>>,
    task: Option<JoinHandle<()>>,
}

impl VoteStub {
    /// Creates a stub for `port` (0: a free port) that does not listen yet.
    fn new(port: u16, first: Value) -> VoteStub {
        VoteStub {
            port,
            first: Arc::new(parking_lot::Mutex::new(first)),
            lines: broadcast::channel(16).0,
            connections: Arc::new(AtomicUsize::new(0)),
            requests: Arc::new(parking_lot::Mutex::new(Vec::new())),
            task: None,
        }
    }

    /// Starts a stub on a free port of 127.0.0.1.
    async fn start(first: Value) -> VoteStub {
        let mut stub = VoteStub::new(0, first);
        stub.listen().await;
        stub
    }

    /// Listens on `port` (a free port the first time) until `stop`.
    async fn listen(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.port = listener.local_addr().unwrap().port();
        let first = self.first.clone();
        let lines = self.lines.clone();
        let connections = self.connections.clone();
        let requests = self.requests.clone();
        self.task = Some(tokio::spawn(async move {
            // Dropping the set, when this task is aborted, closes every connection.
            let mut open = JoinSet::new();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let receiver = lines.subscribe();
                let first = first.lock().to_string();
                connections.fetch_add(1, Ordering::SeqCst);
                open.spawn(serve(socket, first, receiver, requests.clone()));
            }
        }));
    }

    /// Closes the listener and every open connection.
    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Sends a line to every open connection.
    fn send(&self, line: Value) {
        self.lines.send(line.to_string()).unwrap();
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits until the stub has accepted `count` connections.
    async fn wait_for_connections(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.connections() < count {
            assert!(
                Instant::now() < deadline,
                "expected {count} connections to the vote stub, got {}",
                self.connections()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Serves one connection: reads the request head, responds with a body that ends when
/// the connection closes, and writes the lines.
async fn serve(
    mut socket: TcpStream,
    first: String,
    mut lines: broadcast::Receiver<String>,
    requests: Arc<parking_lot::Mutex<Vec<String>>>,
) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let request_line = head.lines().next().unwrap_or_default().to_string();
    requests.lock().push(request_line.clone());
    if request_line != "GET /internal/vote/all_voted_ids HTTP/1.1" {
        let _ = socket
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }

    let header = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
    if socket.write_all(header.as_bytes()).await.is_err() {
        return;
    }
    if socket
        .write_all(format!("{first}\n").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    while let Ok(line) = lines.recv().await {
        if socket
            .write_all(format!("{line}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Meeting 1 with the started polls 5 and 6, the superadmin user 1, and user 2, a
/// member without permissions.
async fn database() -> TestDb {
    let db = TestDb::new().await;
    db.load_fqids(&json!({
        "organization/1": {"id": 1, "name": "Org", "committee_ids": [1]},
        "committee/1": {"id": 1, "name": "Committee", "meeting_ids": [1]},
        "user/1": {"id": 1, "username": "admin", "organization_management_level": "superadmin"},
        "user/2": {"id": 2, "username": "member", "meeting_ids": [1], "meeting_user_ids": [2]},
        "meeting_user/2": {"id": 2, "user_id": 2, "meeting_id": 1, "group_ids": [1]},
        "group/1": {"id": 1, "name": "Delegates", "meeting_id": 1, "permissions": [], "meeting_user_ids": [2]},
        "meeting/1": {
            "id": 1, "name": "Meeting", "committee_id": 1, "group_ids": [1],
            "default_group_id": 1, "meeting_user_ids": [2], "user_ids": [2], "poll_ids": [5, 6]
        },
        "poll/5": {"id": 5, "title": "Five", "meeting_id": 1, "state": "started"},
        "poll/6": {"id": 6, "title": "Six", "meeting_id": 1, "state": "started"},
    }))
    .await;
    db
}

/// Starts the service with AUTH_FAKE, reading the vote service on 127.0.0.1:`vote_port`.
async fn service(vote_port: u16, extra: &[(&str, &str)]) -> TestService {
    let mut env = vec![
        ("AUTH_FAKE", "true".to_string()),
        ("VOTE_HOST", "127.0.0.1".to_string()),
        ("VOTE_PORT", vote_port.to_string()),
    ];
    env.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    TestService::start_with_env(database().await, &env).await
}

const KEYS: &str = "organization/1/name,poll/5/has_voted_user_ids,poll/6/has_voted_user_ids";

/// Reads `KEYS` once as `user`.
async fn single(service: &TestService, user: u64) -> Value {
    let url = format!(
        "{}/internal/autoupdate?user_id={user}&single=1&k={KEYS}",
        service.url
    );
    let answer = send(reqwest::Method::GET, &url, None).await;
    assert_eq!(answer.status, 200);
    answer.json()
}

/// Reads `KEYS` as user 1 until the response equals `expected`.
async fn wait_for(service: &TestService, expected: Value) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = single(service, 1).await;
        if answer == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {expected}, last answer {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn open_stream(service: &TestService) -> Stream {
    let url = format!("{}/internal/autoupdate?user_id=1&k={KEYS}", service.url);
    let stream = Stream::open(&url, None).await;
    assert_eq!(stream.status, 200);
    stream
}

#[tokio::test]
async fn vote_first_answer_has_voted_ids() {
    let stub = VoteStub::start(json!({"5": [1, 2]})).await;
    let service = service(stub.port, &[]).await;
    stub.wait_for_connections(1).await;

    wait_for(
        &service,
        json!({"organization/1/name": "Org", "poll/5/has_voted_user_ids": [1, 2]}),
    )
    .await;
    let mut stream = open_stream(&service).await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "Org", "poll/5/has_voted_user_ids": [1, 2]})
    );
    assert_eq!(
        stub.requests.lock().clone(),
        vec!["GET /internal/vote/all_voted_ids HTTP/1.1".to_string()]
    );
}

#[tokio::test]
async fn vote_lines_update_open_stream() {
    let stub = VoteStub::start(json!({"5": [1, 2]})).await;
    let service = service(stub.port, &[]).await;
    stub.wait_for_connections(1).await;
    wait_for(
        &service,
        json!({"organization/1/name": "Org", "poll/5/has_voted_user_ids": [1, 2]}),
    )
    .await;
    let mut stream = open_stream(&service).await;
    stream.next_json().await;

    stub.send(json!({"5": [3]}));
    assert_eq!(
        stream.next_json().await,
        json!({"poll/5/has_voted_user_ids": [1, 2, 3]})
    );

    stub.send(json!({"6": []}));
    assert_eq!(
        stream.next_json().await,
        json!({"poll/6/has_voted_user_ids": []})
    );

    // A user id the service already has changes nothing, and neither does a bare null.
    stub.send(json!({"5": [2]}));
    stub.send(Value::Null);
    stream.expect_quiet(QUIET).await;

    stub.send(json!({"5": null}));
    assert_eq!(
        stream.next_json().await,
        json!({"poll/5/has_voted_user_ids": null})
    );
    assert_eq!(
        single(&service, 1).await,
        json!({"organization/1/name": "Org", "poll/6/has_voted_user_ids": []})
    );
}

#[tokio::test]
async fn vote_field_follows_poll_restriction() {
    let stub = VoteStub::start(json!({"5": [1, 2], "6": [2]})).await;
    let service = service(stub.port, &[]).await;
    stub.wait_for_connections(1).await;
    wait_for(
        &service,
        json!({
            "organization/1/name": "Org",
            "poll/5/has_voted_user_ids": [1, 2],
            "poll/6/has_voted_user_ids": [2]
        }),
    )
    .await;

    // User 2 has no permission in the meeting, so does not see the progress.
    assert_eq!(
        single(&service, 2).await,
        json!({"organization/1/name": "Org"})
    );

    let mut stream = open_stream(&service).await;
    stream.next_json().await;
    // Only a started poll shows its progress.
    service.change(&json!({"poll/5/state": "finished"})).await;
    assert_eq!(
        stream.next_json().await,
        json!({"poll/5/has_voted_user_ids": null})
    );
    stub.send(json!({"5": [3]}));
    stream.expect_quiet(QUIET).await;
}

#[tokio::test]
async fn vote_reconnects_after_stub_restart() {
    let mut stub = VoteStub::start(json!({"5": [1, 2], "6": [3]})).await;
    let service = service(stub.port, &[]).await;
    stub.wait_for_connections(1).await;
    let known = json!({
        "organization/1/name": "Org",
        "poll/5/has_voted_user_ids": [1, 2],
        "poll/6/has_voted_user_ids": [3]
    });
    wait_for(&service, known.clone()).await;
    let mut stream = open_stream(&service).await;
    assert_eq!(stream.next_json().await, known);

    stub.stop().await;
    // While the vote service is down, requests get the last known lists at once.
    let started = Instant::now();
    assert_eq!(single(&service, 1).await, known);
    assert!(started.elapsed() < Duration::from_secs(1));
    stream.expect_quiet(QUIET).await;

    // The first line of the new connection replaces the state: poll 6 is gone.
    *stub.first.lock() = json!({"5": [1, 2, 4]});
    stub.listen().await;
    stub.wait_for_connections(2).await;
    assert_eq!(
        stream.next_json().await,
        json!({"poll/5/has_voted_user_ids": [1, 2, 4], "poll/6/has_voted_user_ids": null})
    );

    stub.send(json!({"5": [5]}));
    assert_eq!(
        stream.next_json().await,
        json!({"poll/5/has_voted_user_ids": [1, 2, 4, 5]})
    );
}

#[tokio::test]
async fn vote_service_down_answers_promptly() {
    // Nothing listens on this port, so every connection attempt fails.
    let port = support::free_port();
    let service = service(port, &[]).await;

    let started = Instant::now();
    assert_eq!(
        single(&service, 1).await,
        json!({"organization/1/name": "Org"})
    );
    let mut stream = open_stream(&service).await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "Org"})
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answers took {:?}",
        started.elapsed()
    );

    // A vote service that comes up later is found by the next attempt.
    let mut stub = VoteStub::new(port, json!({"5": [7]}));
    stub.listen().await;
    stub.wait_for_connections(1).await;
    assert_eq!(
        stream.next_json().await,
        json!({"poll/5/has_voted_user_ids": [7]})
    );
}

#[tokio::test]
async fn vote_public_access_only_makes_no_connection() {
    let stub = VoteStub::start(json!({"5": [1, 2]})).await;
    let service = service(stub.port, &[("OPENSLIDES_PUBLIC_ACCESS_ONLY", "true")]).await;

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(stub.connections(), 0);
    assert_eq!(
        single(&service, 1).await,
        json!({"organization/1/name": "Org"})
    );
}
