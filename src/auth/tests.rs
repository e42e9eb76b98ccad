use super::*;
use axum::http::HeaderValue;
use std::time::{SystemTime, UNIX_EPOCH};

const TOKEN_KEY: &str = "token-key";
const COOKIE_KEY: &str = "cookie-key";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn auth_with_service(service_url: &str) -> Auth {
    Auth::new(AuthSettings {
        fake: false,
        token_key: TOKEN_KEY.into(),
        cookie_key: COOKIE_KEY.into(),
        service_url: service_url.into(),
    })
}

fn auth() -> Auth {
    // Nothing listens on port 9 of 127.0.0.1, so a refresh fails at once.
    auth_with_service("http://127.0.0.1:9")
}

fn token(user_id: i64, session: &str, expires_in: i64, key: &str) -> String {
    let claims = Claims {
        user_id,
        session_id: session.into(),
        exp: Some((now() as i64 + expires_in) as u64),
    };
    sign(&claims, key).unwrap()
}

fn cookie(key: &str) -> String {
    sign(
        &serde_json::json!({"sessionId": "s1", "exp": now() + 3600}),
        key,
    )
    .unwrap()
}

fn headers(token: Option<&str>, cookie: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        headers.insert(
            AUTH_HEADER,
            HeaderValue::from_str(&format!("bearer {token}")).unwrap(),
        );
    }
    if let Some(cookie) = cookie {
        let value = format!("other=1; refreshId=bearer%20{cookie}");
        headers.insert(header::COOKIE, HeaderValue::from_str(&value).unwrap());
    }
    headers
}

fn denied_message(result: Result<Authenticated, AuthError>) -> String {
    match result {
        Err(AuthError::Denied(message)) => message,
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[tokio::test]
async fn valid_token_authenticates_user() {
    let token = token(7, "s1", 600, TOKEN_KEY);
    let user = auth()
        .authenticate(&headers(Some(&token), Some(&cookie(COOKIE_KEY))))
        .await
        .unwrap();
    assert_eq!(user.user_id, 7);
    assert_eq!(user.session_id.as_deref(), Some("s1"));
    assert_eq!(user.new_token, None);
}

#[tokio::test]
async fn no_token_and_no_cookie_is_public_access() {
    let user = auth().authenticate(&HeaderMap::new()).await.unwrap();
    assert_eq!(user.user_id, 0);
    assert_eq!(user.session_id, None);
}

#[tokio::test]
async fn token_of_user_zero_is_public_access() {
    let token = token(0, "s1", 600, TOKEN_KEY);
    let user = auth()
        .authenticate(&headers(Some(&token), Some(&cookie(COOKIE_KEY))))
        .await
        .unwrap();
    assert_eq!(user.user_id, 0);
}

#[tokio::test]
async fn token_without_cookie_is_denied() {
    let token = token(7, "s1", 600, TOKEN_KEY);
    let message = denied_message(auth().authenticate(&headers(Some(&token), None)).await);
    assert_eq!(message, "Can not find auth cookie");
}

#[tokio::test]
async fn cookie_without_token_is_denied() {
    let message = denied_message(
        auth()
            .authenticate(&headers(None, Some(&cookie(COOKIE_KEY))))
            .await,
    );
    assert_eq!(message, "Can not find auth token");
}

#[tokio::test]
async fn token_signed_with_wrong_key_is_denied() {
    let token = token(7, "s1", 600, "wrong-key");
    let message = denied_message(
        auth()
            .authenticate(&headers(Some(&token), Some(&cookie(COOKIE_KEY))))
            .await,
    );
    assert_eq!(message, "Invalid auth token");
}

#[tokio::test]
async fn cookie_signed_with_wrong_key_is_denied() {
    let token = token(7, "s1", 600, TOKEN_KEY);
    let message = denied_message(
        auth()
            .authenticate(&headers(Some(&token), Some(&cookie("wrong-key"))))
            .await,
    );
    assert_eq!(message, "Invalid auth token");
}

#[tokio::test]
async fn malformed_token_is_denied() {
    for token in ["not-a-jwt", "a.b.c", ""] {
        let result = auth()
            .authenticate(&headers(Some(token), Some(&cookie(COOKIE_KEY))))
            .await;
        assert_eq!(
            denied_message(result),
            "Invalid auth token",
            "token {token:?}"
        );
    }
}

#[tokio::test]
async fn unsigned_none_token_is_denied() {
    use base64::Engine;
    let encode = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let unsigned = format!(
        "{}.{}.",
        encode(r#"{"alg":"none","typ":"JWT"}"#),
        encode(&format!(
            r#"{{"userId":1,"sessionId":"s1","exp":{}}}"#,
            now() + 600
        ))
    );
    let result = auth()
        .authenticate(&headers(Some(&unsigned), Some(&cookie(COOKIE_KEY))))
        .await;
    assert_eq!(denied_message(result), "Invalid auth token");
}

#[tokio::test]
async fn header_without_bearer_prefix_counts_as_missing() {
    let mut headers = headers(None, Some(&cookie(COOKIE_KEY)));
    let token = token(7, "s1", 600, TOKEN_KEY);
    headers.insert(AUTH_HEADER, HeaderValue::from_str(&token).unwrap());
    let message = denied_message(auth().authenticate(&headers).await);
    assert_eq!(message, "Can not find auth token");
}

#[tokio::test]
async fn logged_out_session_is_denied() {
    let auth = auth();
    auth.logouts().log_out("s1");
    let token = token(7, "s1", 600, TOKEN_KEY);
    let result = auth
        .authenticate(&headers(Some(&token), Some(&cookie(COOKIE_KEY))))
        .await;
    assert_eq!(denied_message(result), "invalid session");
}

#[tokio::test]
async fn fake_auth_is_user_one_without_checks() {
    let auth = Auth::new(AuthSettings {
        fake: true,
        token_key: String::new(),
        cookie_key: String::new(),
        service_url: String::new(),
    });
    let user = auth
        .authenticate(&headers(Some("garbage"), None))
        .await
        .unwrap();
    assert_eq!(user.user_id, 1);
}

/// A stand-in for the auth service on 127.0.0.1 that answers refreshes with `status`
/// and, for 200, the header `Authentication: bearer new-token`.
async fn auth_service(status: u16, delay: Duration) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        REFRESH_PATH,
        post(move |headers: HeaderMap| async move {
            tokio::time::sleep(delay).await;
            let has_cookie = headers
                .get(header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("refreshId=bearer%20"));
            let has_token = headers
                .get(AUTH_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("bearer "));
            let status = if has_cookie && has_token { status } else { 400 };
            let mut response = axum::response::Response::new(axum::body::Body::from("{}"));
            *response.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
            if status == 200 {
                response
                    .headers_mut()
                    .insert(AUTH_HEADER, HeaderValue::from_static("bearer new-token"));
            }
            response
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn expired_token_is_refreshed() {
    let url = auth_service(200, Duration::ZERO).await;
    let expired = token(7, "s1", -60, TOKEN_KEY);
    let user = auth_with_service(&url)
        .authenticate(&headers(Some(&expired), Some(&cookie(COOKIE_KEY))))
        .await
        .unwrap();
    assert_eq!(user.user_id, 7);
    assert_eq!(user.new_token.as_deref(), Some("bearer new-token"));
}

#[tokio::test]
async fn refresh_rejected_by_auth_service_is_denied() {
    let url = auth_service(403, Duration::ZERO).await;
    let expired = token(7, "s1", -60, TOKEN_KEY);
    let result = auth_with_service(&url)
        .authenticate(&headers(Some(&expired), Some(&cookie(COOKIE_KEY))))
        .await;
    assert_eq!(denied_message(result), "Invalid Session");
}

#[tokio::test]
async fn expired_token_with_wrong_key_is_not_refreshed() {
    let url = auth_service(200, Duration::ZERO).await;
    let expired = token(7, "s1", -60, "wrong-key");
    let result = auth_with_service(&url)
        .authenticate(&headers(Some(&expired), Some(&cookie(COOKIE_KEY))))
        .await;
    assert_eq!(denied_message(result), "Invalid auth token");
}

#[tokio::test]
async fn unreachable_auth_service_is_unavailable() {
    let expired = token(7, "s1", -60, TOKEN_KEY);
    let result = auth()
        .authenticate(&headers(Some(&expired), Some(&cookie(COOKIE_KEY))))
        .await;
    assert!(
        matches!(result, Err(AuthError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn slow_auth_service_times_out() {
    let url = auth_service(200, Duration::from_secs(30)).await;
    let expired = token(7, "s1", -60, TOKEN_KEY);
    let started = std::time::Instant::now();
    let result = auth_with_service(&url)
        .authenticate(&headers(Some(&expired), Some(&cookie(COOKIE_KEY))))
        .await;
    assert!(
        matches!(result, Err(AuthError::Unavailable(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < REFRESH_TIMEOUT + Duration::from_secs(2));
}

#[tokio::test]
async fn non_text_headers_are_denied() {
    let mut with_token = HeaderMap::new();
    with_token.insert(
        AUTH_HEADER,
        HeaderValue::from_bytes(b"bearer \xff\xfe").unwrap(),
    );
    assert_eq!(
        denied_message(auth().authenticate(&with_token).await),
        "Invalid auth token"
    );

    let mut with_cookie = HeaderMap::new();
    with_cookie.insert(
        header::COOKIE,
        HeaderValue::from_bytes(b"refreshId=\xff").unwrap(),
    );
    assert_eq!(
        denied_message(auth().authenticate(&with_cookie).await),
        "Invalid auth token"
    );
}

#[tokio::test]
async fn user_id_beyond_max_id_is_denied() {
    let token = token(1 << 48, "s1", 600, TOKEN_KEY);
    let result = auth()
        .authenticate(&headers(Some(&token), Some(&cookie(COOKIE_KEY))))
        .await;
    assert_eq!(denied_message(result), "Invalid auth token");
}
