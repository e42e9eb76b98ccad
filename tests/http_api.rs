//! The HTTP API's errors, health and routes, against a real service.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{post, send, TestDb, TestService};

async fn service() -> TestService {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    TestService::start_with(db).await
}

#[tokio::test]
async fn health_is_healthy() {
    let service = service().await;
    let answer = send(
        reqwest::Method::GET,
        &format!("{}/system/autoupdate/health", service.url),
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"healthy": true}));
}

#[tokio::test]
async fn other_methods_get_error_json() {
    let service = service().await;
    for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
        let answer = send(
            method,
            &format!("{}/system/autoupdate?k=organization/1/name", service.url),
            None,
        )
        .await;
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json()["error"]["type"], json!("invalid_request"));
    }
}

#[tokio::test]
async fn invalid_requests_get_syntax_errors() {
    let service = service().await;
    let url = format!("{}/system/autoupdate?single=1", service.url);

    let answer = post(
        &url,
        &json!([{"collection": "user", "ids": [0], "fields": {"username": null}}]),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        json!({"error": {"type": "SyntaxError", "msg": "id has to be a positive number"}})
    );

    let answer = send(reqwest::Method::POST, &url, Some(b"[{]".to_vec())).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["type"], json!("JsonError"));

    let bad_key = format!(
        "{}/system/autoupdate?single=1&k=organization/1/nope",
        service.url
    );
    let answer = send(reqwest::Method::GET, &bad_key, None).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["type"], json!("SyntaxError"));
}

#[tokio::test]
async fn internal_route_needs_integer_user_id() {
    let service = service().await;
    for query in [
        "user_id=abc",
        "user_id=",
        "user_id=-1",
        "user_id=281474976710656",
        "k=organization/1/name",
    ] {
        let url = format!("{}/internal/autoupdate?single=1&{query}", service.url);
        let answer = send(reqwest::Method::GET, &url, None).await;
        assert_eq!(answer.status, 400, "query {query}");
        assert!(answer.json()["error"]["msg"]
            .as_str()
            .unwrap()
            .contains("user_id"));
    }

    let url = format!(
        "{}/internal/autoupdate?single=1&user_id=5&k=organization/1/name",
        service.url
    );
    let answer = send(reqwest::Method::GET, &url, None).await;
    assert_eq!(answer.json(), json!({"organization/1/name": "Org"}));
}

/// Decodes a line of unpadded base64 that contains one zstd frame.
fn decompress(line: &[u8]) -> serde_json::Value {
    use base64::Engine;
    let line = line.strip_suffix(b"\n").expect("a line");
    let raw = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(line)
        .expect("unpadded base64");
    serde_json::from_slice(&zstd::decode_all(&raw[..]).expect("one zstd frame")).expect("JSON")
}

#[tokio::test]
async fn compressed_stream_sends_compressed_lines() {
    let service = service().await;
    let mut stream = support::Stream::open(
        &format!(
            "{}/system/autoupdate?k=organization/1/name&compress",
            service.url
        ),
        None,
    )
    .await;
    let first = stream.next_line(Duration::from_secs(5)).await.unwrap();
    assert_eq!(decompress(&first), json!({"organization/1/name": "Org"}));

    service.change(&json!({"organization/1/name": "New"})).await;
    let next = stream.next_line(Duration::from_secs(5)).await.unwrap();
    assert_eq!(decompress(&next), json!({"organization/1/name": "New"}));
}

#[tokio::test]
async fn skip_first_sends_only_changes() {
    let service = service().await;
    let mut stream = support::Stream::open(
        &format!(
            "{}/system/autoupdate?k=organization/1/name&skip_first=1",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(stream.status, 200);
    stream.expect_quiet(Duration::from_millis(300)).await;
    service.change(&json!({"organization/1/name": "New"})).await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "New"})
    );
}

#[tokio::test]
async fn idle_stream_gets_heartbeats() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    let service = TestService::start_with_env(
        db,
        &[
            ("AUTH_FAKE", "true".to_string()),
            ("OPENSLIDES_HEARTBEAT_INTERVAL", "200ms".to_string()),
        ],
    )
    .await;
    let mut stream = support::Stream::open(
        &format!("{}/system/autoupdate?k=organization/1/name", service.url),
        None,
    )
    .await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "Org"})
    );
    let started = std::time::Instant::now();
    assert_eq!(stream.next_json().await, json!({}));
    assert_eq!(stream.next_json().await, json!({}));
    assert!(started.elapsed() >= Duration::from_millis(350));

    // A change still arrives between heartbeats.
    service.change(&json!({"organization/1/name": "New"})).await;
    loop {
        let message = stream.next_json().await;
        if message != json!({}) {
            assert_eq!(message, json!({"organization/1/name": "New"}));
            break;
        }
    }
}

#[tokio::test]
async fn stream_without_heartbeat_interval_stays_quiet() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    let service = TestService::start_with_env(
        db,
        &[
            ("AUTH_FAKE", "true".to_string()),
            ("OPENSLIDES_HEARTBEAT_INTERVAL", "0".to_string()),
        ],
    )
    .await;
    let mut stream = support::Stream::open(
        &format!("{}/system/autoupdate?k=organization/1/name", service.url),
        None,
    )
    .await;
    stream.next_json().await;
    stream.expect_quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn second_long_poll_sends_changes() {
    let service = service().await;
    let url = format!("{}/system/autoupdate?longpolling=1", service.url);
    let request = json!([{"collection": "organization", "ids": [1], "fields": {"name": null, "description": null}}]);
    let first = support::client()
        .post(&url)
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    let (data, hash) = multipart_parts(first).await;
    assert_eq!(data, json!({"organization/1/name": "Org"}));

    // The same state again: nothing changed, so the poll waits for the next change.
    let boundary = "testboundary42";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{request}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\n{hash}\r\n--{boundary}--\r\n"
    );
    let poll = support::client()
        .post(format!("{}/system/autoupdate", service.url))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send();
    let poll = tokio::spawn(poll);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished());
    service
        .change(&json!({"organization/1/description": "Now with text"}))
        .await;
    let response = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("answer after the change")
        .unwrap()
        .unwrap();
    let (data, second_hash) = multipart_parts(response).await;
    assert_eq!(data, json!({"organization/1/description": "Now with text"}));
    assert_ne!(second_hash, hash);
}

#[tokio::test]
async fn malformed_multipart_is_a_client_error() {
    let service = service().await;
    let answer = support::client()
        .post(format!("{}/system/autoupdate", service.url))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n[]\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["type"], "invalid_request");
}

/// Reads the `data` and `hash` parts of a long polling response.
async fn multipart_parts(response: reqwest::Response) -> (serde_json::Value, String) {
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("a multipart answer")
        .to_string();
    let text = String::from_utf8(response.bytes().await.unwrap().to_vec()).unwrap();
    let parts: Vec<&str> = text
        .split(&format!("--{boundary}"))
        .filter(|part| part.contains("name="))
        .collect();
    assert_eq!(parts.len(), 2, "{text}");
    let content = |part: &str| {
        let (_, content) = part.split_once("\r\n\r\n").unwrap();
        content.strip_suffix("\r\n").unwrap().to_string()
    };
    assert!(parts[0].contains("name=\"data\""));
    assert!(parts[1].contains("name=\"hash\""));
    let data = serde_json::from_str(&content(parts[0])).unwrap();
    (data, content(parts[1]))
}

#[tokio::test]
async fn http2_prior_knowledge_is_served() {
    let service = service().await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = client
        .get(format!(
            "{}/system/autoupdate?single=1&k=organization/1/name",
            service.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body, json!({"organization/1/name": "Org"}));
}

#[tokio::test]
async fn unknown_paths_and_large_bodies_get_error_json() {
    let service = service().await;

    let answer = send(
        reqwest::Method::GET,
        &format!("{}/system/nope", service.url),
        None,
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["error"]["type"], json!("invalid_request"));

    let large = vec![b' '; openslides_autoupdate::http::MAX_BODY_BYTES + 1];
    let answer = send(
        reqwest::Method::POST,
        &format!("{}/system/autoupdate?single=1", service.url),
        Some(large),
    )
    .await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["error"]["type"], json!("invalid_request"));

    let answer = send(
        reqwest::Method::POST,
        &format!("{}/system/autoupdate/health", service.url),
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn malformed_relation_list_is_a_value_error() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({
        "organization/1": {"id": 1, "name": "Org", "committee_ids": [1, "x"]},
        "committee/1": {"id": 1, "name": "C"},
    }))
    .await;
    let service = TestService::start_with(db).await;
    let url = format!(
        "{}/system/autoupdate?k=organization/1/committee_ids&single=1",
        service.url
    );
    let answer = send(reqwest::Method::GET, &url, None).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["type"], "ValueError");
    let message = answer.json()["error"]["msg"].as_str().unwrap().to_string();
    assert!(
        message.contains("organization/1/committee_ids"),
        "{message}"
    );
}

#[tokio::test]
async fn row_without_object_data_reads_as_empty() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({
        "user/1": {"id": 1, "organization_management_level": "superadmin"},
        "committee/1": {"id": 1, "name": "C"},
    }))
    .await;
    let client = db.client().await;
    for (fqid, data) in [("committee/2", "[1, 2]"), ("committee/3", "\"text\"")] {
        client
            .execute(
                "INSERT INTO models (fqid, data, deleted) VALUES ($1, $2::text::jsonb, false)",
                &[&fqid, &data],
            )
            .await
            .unwrap();
    }
    let service = TestService::start_with(db).await;
    let url = format!(
        "{}/system/autoupdate?k=committee/1/name,committee/2/name,committee/3/name&single=1",
        service.url
    );
    let answer = send(reqwest::Method::GET, &url, None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"committee/1/name": "C"}));
}

#[tokio::test]
async fn stream_ends_with_value_error_after_malformed_list() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({
        "organization/1": {"id": 1, "name": "Org", "committee_ids": [1]},
        "committee/1": {"id": 1, "name": "C"},
        "user/1": {"id": 1, "organization_management_level": "superadmin"},
    }))
    .await;
    let service = TestService::start_with(db).await;
    let mut stream = support::Stream::open(
        &format!(
            "{}/system/autoupdate?k=organization/1/committee_ids,organization/1/name",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/committee_ids": [1], "organization/1/name": "Org"})
    );
    service
        .change(&json!({"organization/1/committee_ids": [1, "x"]}))
        .await;
    let message = stream.next_json().await;
    assert_eq!(message["error"]["type"], "ValueError", "{message}");
    assert!(stream.ended(Duration::from_secs(2)).await);

    // Other requests are not affected.
    let answer = send(
        reqwest::Method::GET,
        &format!(
            "{}/system/autoupdate?k=organization/1/name&single=1",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(answer.json(), json!({"organization/1/name": "Org"}));
}

#[tokio::test]
async fn unreachable_postgres_is_unhealthy_and_503() {
    let db = TestDb::new().await;
    // Nothing listens on this port, so every datastore read fails.
    let closed_port = support::free_port();
    let service = TestService::start_with_env(
        db,
        &[
            ("AUTH_FAKE", "true".to_string()),
            ("DATABASE_PORT", closed_port.to_string()),
        ],
    )
    .await;

    let health = send(
        reqwest::Method::GET,
        &format!("{}/system/autoupdate/health", service.url),
        None,
    )
    .await;
    assert_eq!(health.status, 503);
    assert_eq!(health.json(), json!({"healthy": false}));

    let started = std::time::Instant::now();
    let answer = send(
        reqwest::Method::GET,
        &format!(
            "{}/system/autoupdate?k=organization/1/name&single=1",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["error"]["type"], "unavailable");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Starts the service on a small organization, with AUTH_FAKE and one request limit set.
async fn limited_service(variable: &str, value: &str) -> TestService {
    let db = TestDb::new().await;
    db.load_fqids(&json!({
        "organization/1": {"id": 1, "name": "Org", "committee_ids": [1]},
        "committee/1": {"id": 1, "name": "C1", "organization_id": 1},
        "committee/2": {"id": 2, "name": "C2", "organization_id": 1},
        "user/1": {"id": 1, "organization_management_level": "superadmin"},
    }))
    .await;
    TestService::start_with_env(
        db,
        &[
            ("AUTH_FAKE", "true".to_string()),
            (variable, value.to_string()),
        ],
    )
    .await
}

fn limit_error(message: &str) -> serde_json::Value {
    json!({"error": {"type": "invalid_request", "msg": message}})
}

#[tokio::test]
async fn body_limit_is_a_setting() {
    let service = limited_service("REQUEST_MAX_BODY_BYTES", "100").await;
    let url = format!("{}/system/autoupdate?single=1", service.url);
    let fits = br#"[{"ids": [1], "collection": "organization", "fields": {"name": null}}]"#;
    assert!(fits.len() <= 100);
    let answer = send(reqwest::Method::POST, &url, Some(fits.to_vec())).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"organization/1/name": "Org"}));

    let answer = send(reqwest::Method::POST, &url, Some(vec![b' '; 101])).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.json(),
        limit_error("Invalid request: the body is larger than 100 bytes")
    );
}

#[tokio::test]
async fn too_many_request_objects_get_400() {
    let service = limited_service("REQUEST_MAX_OBJECTS", "2").await;
    let url = format!("{}/system/autoupdate?single=1", service.url);
    let object = json!({"ids": [1], "collection": "organization", "fields": {"name": null}});
    assert_eq!(post(&url, &json!([object, object])).await.status, 200);

    let answer = post(&url, &json!([object, object, object])).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        limit_error("Invalid request: the body has 3 request objects, more than the limit of 2")
    );
}

#[tokio::test]
async fn too_many_ids_get_400() {
    let service = limited_service("REQUEST_MAX_IDS", "2").await;
    let url = format!("{}/system/autoupdate?single=1", service.url);
    let body = |ids| json!([{"ids": ids, "collection": "committee", "fields": {"name": null}}]);
    let answer = post(&url, &body(json!([1, 2]))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"committee/1/name": "C1", "committee/2/name": "C2"})
    );

    let answer = post(&url, &body(json!([1, 2, 3]))).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        limit_error("Invalid request: a request object has 3 ids, more than the limit of 2")
    );
}

#[tokio::test]
async fn too_deep_descriptions_get_400() {
    let service = limited_service("REQUEST_MAX_DEPTH", "1").await;
    let url = format!("{}/system/autoupdate?single=1", service.url);
    let committees = |fields| {
        json!([{"ids": [1], "collection": "organization", "fields": {
            "committee_ids": {"type": "relation-list", "collection": "committee", "fields": fields}
        }}])
    };
    let answer = post(&url, &committees(json!({"name": null}))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"organization/1/committee_ids": [1], "committee/1/name": "C1"})
    );

    let back = json!({"organization_id": {
        "type": "relation", "collection": "organization", "fields": {"name": null}
    }});
    let answer = post(&url, &committees(back)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        limit_error(
            "Invalid request: field \"committee_ids.organization_id\": relation descriptions \
             nest deeper than the limit of 1"
        )
    );
}

#[tokio::test]
async fn too_long_k_gets_400() {
    let service = limited_service("REQUEST_MAX_K_BYTES", "20").await;
    let answer = send(
        reqwest::Method::GET,
        &format!(
            "{}/system/autoupdate?single=1&k=organization/1/name",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(answer.status, 200);

    let answer = send(
        reqwest::Method::GET,
        &format!(
            "{}/system/autoupdate?single=1&k=organization/1/name,committee/1/name",
            service.url
        ),
        None,
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        limit_error("Invalid request: the parameter k has 36 bytes, more than the limit of 20")
    );

    // The HTTP layer rejects longer URLs before the handler runs. The HTTP client
    // cannot build such a URL, so the request is written by hand.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let keys = vec!["organization/1/name"; 4_000].join(",");
    let address = service.url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head =
        format!("GET /system/autoupdate?single=1&k={keys} HTTP/1.1\r\nHost: {address}\r\n\r\n");
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 64];
    let read = socket.read(&mut answer).await.unwrap();
    let status_line = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(status_line.starts_with("HTTP/1.1 414"), "{status_line}");
}

#[tokio::test]
async fn request_over_key_limit_gets_400() {
    let service = limited_service("REQUEST_MAX_KEYS", "2").await;
    let url = |keys: &str| format!("{}/system/autoupdate?single=1&k={keys}", service.url);
    let answer = send(
        reqwest::Method::GET,
        &url("committee/1/name,committee/2/name"),
        None,
    )
    .await;
    assert_eq!(answer.status, 200);

    let keys = "committee/1/name,committee/2/name,organization/1/name";
    for url in [
        url(keys),
        format!("{}/system/autoupdate?k={keys}", service.url),
    ] {
        let answer = send(reqwest::Method::GET, &url, None).await;
        assert_eq!(answer.status, 400);
        assert_eq!(
            answer.json(),
            limit_error("Invalid request: the request expands to more than 2 keys")
        );
    }
}

#[tokio::test]
async fn stream_past_key_limit_ends_with_error() {
    let service = limited_service("REQUEST_MAX_KEYS", "3").await;
    let request = json!([{"ids": [1], "collection": "organization", "fields": {
        "name": null,
        "committee_ids": {"type": "relation-list", "collection": "committee", "fields": {"name": null}}
    }}]);
    let mut stream = support::Stream::open(
        &format!("{}/system/autoupdate", service.url),
        Some(&request),
    )
    .await;
    assert_eq!(stream.status, 200);
    assert_eq!(
        stream.next_json().await,
        json!({
            "organization/1/name": "Org",
            "organization/1/committee_ids": [1],
            "committee/1/name": "C1",
        })
    );

    service
        .change(&json!({"organization/1/committee_ids": [1, 2]}))
        .await;
    assert_eq!(
        stream.next_json().await,
        limit_error("Invalid request: the request expands to more than 3 keys")
    );
    assert!(stream.ended(Duration::from_secs(2)).await);
}
