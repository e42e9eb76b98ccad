//! Authentication over HTTP: tokens signed with the development keys, a stand-in auth
//! service on 127.0.0.1 for refreshes, and logouts through the service's Redis.

mod support;

use axum::http::{HeaderMap, StatusCode};
use openslides_autoupdate::auth::{sign, Claims, DEVELOPMENT_COOKIE_KEY, DEVELOPMENT_TOKEN_KEY};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{Stream, TestDb, TestService};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn credentials(user_id: i64, session: &str, expires_in: i64) -> (String, String) {
    let claims = Claims {
        user_id,
        session_id: session.into(),
        exp: Some((now() + expires_in) as u64),
    };
    let token = sign(&claims, DEVELOPMENT_TOKEN_KEY).unwrap();
    let cookie = sign(
        &json!({"sessionId": session, "exp": now() + 3600}),
        DEVELOPMENT_COOKIE_KEY,
    )
    .unwrap();
    (
        format!("bearer {token}"),
        format!("refreshId=bearer%20{cookie}"),
    )
}

/// The service with real authentication; refreshes go to `auth_port`.
async fn service(auth_port: u16) -> TestService {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    TestService::start_with_env(
        db,
        &[
            ("AUTH_HOST", "127.0.0.1".to_string()),
            ("AUTH_PORT", auth_port.to_string()),
        ],
    )
    .await
}

/// A stand-in auth service that answers refreshes with `status` after `delay`; a 200
/// carries `Authentication: bearer refreshed`.
async fn auth_service(status: u16, delay: Duration) -> u16 {
    let app = axum::Router::new().route(
        "/internal/auth/authenticate",
        axum::routing::post(move |headers: HeaderMap| async move {
            tokio::time::sleep(delay).await;
            let complete = headers.contains_key("authentication") && headers.contains_key("cookie");
            let status = if complete { status } else { 400 };
            let mut response = axum::response::Response::new(axum::body::Body::from("{}"));
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            if status == 200 {
                response
                    .headers_mut()
                    .insert("authentication", "bearer refreshed".parse().unwrap());
            }
            response
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn get(service: &TestService, headers: &[(&str, String)]) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!(
            "{}/system/autoupdate?single=1&k=organization/1/name",
            service.url
        ))
        .timeout(Duration::from_secs(20));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap()
}

async fn error_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    (status, body)
}

#[tokio::test]
async fn valid_token_gets_data() {
    let service = service(support::free_port()).await;
    let (token, cookie) = credentials(1, "s1", 600);
    let response = get(&service, &[("authentication", token), ("cookie", cookie)]).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("authentication").is_none());
    assert_eq!(
        response.text().await.unwrap(),
        "{\"organization/1/name\":\"Org\"}\n"
    );
}

#[tokio::test]
async fn no_credentials_is_public_access() {
    let service = service(support::free_port()).await;
    let response = get(&service, &[]).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn bad_credentials_get_403_and_no_data() {
    let service = service(support::free_port()).await;
    let (token, cookie) = credentials(1, "s1", 600);
    let forged = sign(
        &Claims {
            user_id: 1,
            session_id: "s1".into(),
            exp: Some((now() + 600) as u64),
        },
        "other-key",
    )
    .unwrap();
    let cases = [
        vec![("authentication", token.clone())],
        vec![("cookie", cookie.clone())],
        vec![
            ("authentication", format!("bearer {forged}")),
            ("cookie", cookie.clone()),
        ],
        vec![
            ("authentication", "bearer x.y.z".to_string()),
            ("cookie", cookie.clone()),
        ],
    ];
    for headers in cases {
        let (status, body) = error_of(get(&service, &headers).await).await;
        assert_eq!(status, 403, "headers {headers:?}");
        assert_eq!(body["error"]["type"], json!("auth"));
        assert!(body["error"]["msg"].is_string());
    }
}

#[tokio::test]
async fn expired_token_is_refreshed_by_auth_service() {
    let service = service(auth_service(200, Duration::ZERO).await).await;
    let (token, cookie) = credentials(1, "s1", -30);
    let response = get(&service, &[("authentication", token), ("cookie", cookie)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["authentication"], "bearer refreshed");
}

#[tokio::test]
async fn refused_refresh_is_403() {
    let service = service(auth_service(403, Duration::ZERO).await).await;
    let (token, cookie) = credentials(1, "s1", -30);
    let (status, body) =
        error_of(get(&service, &[("authentication", token), ("cookie", cookie)]).await).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["type"], json!("auth"));
}

#[tokio::test]
async fn hanging_auth_service_is_503_not_a_hang() {
    let service = service(auth_service(200, Duration::from_secs(60)).await).await;
    let (token, cookie) = credentials(1, "s1", -30);
    let started = Instant::now();
    let (status, body) =
        error_of(get(&service, &[("authentication", token), ("cookie", cookie)]).await).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["type"], json!("auth"));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn logout_ends_open_stream_and_rejects_session() {
    let service = service(support::free_port()).await;
    let (token, cookie) = credentials(1, "s1", 600);
    let (other_token, other_cookie) = credentials(1, "s2", 600);

    let open = |token: String, cookie: String| {
        let url = format!("{}/system/autoupdate?k=organization/1/name", service.url);
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .header("authentication", token)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            Stream::from_response(response)
        }
    };
    let mut stream = open(token.clone(), cookie.clone()).await;
    let mut other = open(other_token, other_cookie).await;
    stream.next_json().await;
    other.next_json().await;

    service.redis.wait_for_reader().await;
    let mut connection = service.redis.connection().await.unwrap();
    let started = Instant::now();
    let _: String = redis::cmd("XADD")
        .arg("logout")
        .arg("*")
        .arg("sessionId")
        .arg("s1")
        .query_async(&mut connection)
        .await
        .unwrap();

    assert!(
        stream.ended(Duration::from_secs(1)).await,
        "stream of s1 still open"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        !other.ended(Duration::from_millis(300)).await,
        "stream of s2 ended too"
    );

    let (status, body) =
        error_of(get(&service, &[("authentication", token), ("cookie", cookie)]).await).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["msg"], json!("invalid session"));
}

#[tokio::test]
async fn internal_route_skips_token_checks() {
    let service = service(support::free_port()).await;
    let response = reqwest::Client::new()
        .get(format!(
            "{}/internal/autoupdate?user_id=3&single=1&k=organization/1/name",
            service.url
        ))
        .header("authentication", "bearer garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
