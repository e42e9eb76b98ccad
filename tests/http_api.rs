//! The HTTP API's errors, health and routes, against a real service.

mod support;

use serde_json::json;
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

#[tokio::test]
async fn unsupported_parameters_are_rejected() {
    let service = service().await;
    for parameter in ["position=3", "compress=1", "longpolling=1"] {
        let url = format!(
            "{}/system/autoupdate?k=organization/1/name&{parameter}",
            service.url
        );
        let answer = send(reqwest::Method::GET, &url, None).await;
        assert_eq!(answer.status, 400, "{parameter}");
        assert_eq!(answer.json()["error"]["type"], json!("invalid_request"));
    }
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
