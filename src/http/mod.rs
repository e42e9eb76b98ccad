//! The HTTP API: routing, the autoupdate handlers and health.

mod error;

pub use error::ErrorResponse;

use crate::auth::{Auth, AuthError, Authenticated, AUTH_HEADER};
use crate::autoupdate::{Autoupdate, Connection};
use crate::keysbuilder::Request;
use crate::restrict::Viewer;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

/// The state the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub autoupdate: Autoupdate,
    pub auth: Auth,
    /// Turns true when the service shuts down; open streams end then.
    pub shutdown: watch::Receiver<bool>,
}

/// The largest request body read, in bytes. The largest requests of the OpenSlides
/// client are about 15 KB.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Builds the routes of the service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/system/autoupdate", any(public_autoupdate))
        .route("/internal/autoupdate", any(internal_autoupdate))
        .route("/system/autoupdate/health", any(health))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    ErrorResponse::new(
        StatusCode::NOT_FOUND,
        "invalid_request",
        format!("Invalid request: {} does not exist", uri.path()),
    )
    .into_response()
}

/// Reads the request body, up to `MAX_BODY_BYTES`.
async fn read_body(body: Body) -> Result<Bytes, ErrorResponse> {
    use http_body_util::BodyExt;
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(ErrorResponse::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("Invalid request: the body is larger than {MAX_BODY_BYTES} bytes"),
        )),
        Err(error) => Err(ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Invalid request: reading the body failed: {error}"),
        )),
    }
}

/// Serves the routes on `listener` until `shutdown` completes. Connections may use
/// HTTP/1.1 or HTTP/2 with prior knowledge.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn health() -> Response {
    let mut response = "{\"healthy\": true}\n".into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

/// The query parameters of an autoupdate request.
#[derive(Default)]
struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: Option<String>) -> Query {
        let pairs = raw
            .as_deref()
            .map(|raw| {
                form_urlencoded::parse(raw.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }

    /// Returns the first value of a parameter, or "" when it is missing.
    fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }
}

async fn public_autoupdate(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let user = match state.auth.authenticate(&headers).await {
        Ok(user) => user,
        Err(error) => return ErrorResponse::from(error).into_response(),
    };
    let viewer = Viewer {
        user_id: user.user_id,
    };
    let session_end = user
        .session_id
        .as_deref()
        .map(|session| state.auth.logouts().watch(session));
    if session_end.as_ref().is_some_and(|ended| *ended.borrow()) {
        return ErrorResponse::from(AuthError::Denied("invalid session".into())).into_response();
    }

    let mut response = autoupdate(
        state,
        method,
        Query::parse(query),
        &headers,
        body,
        viewer,
        session_end,
    )
    .await;
    add_new_token(&mut response, &user);
    response
}

/// Returns a refreshed access token to the client, as the auth service expects.
fn add_new_token(response: &mut Response, user: &Authenticated) {
    let Some(token) = &user.new_token else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(token) {
        response.headers_mut().insert(AUTH_HEADER, value);
    }
}

async fn internal_autoupdate(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let query = Query::parse(query);
    let raw_user_id = query.get("user_id");
    let parsed = raw_user_id
        .parse::<u64>()
        .ok()
        .filter(|id| *id <= crate::models::MAX_ID);
    let Some(user_id) = parsed else {
        return ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!(
                "user_id has to be an integer from 0 to {}, not {raw_user_id:?}",
                crate::models::MAX_ID
            ),
        )
        .into_response();
    };
    let viewer = Viewer { user_id };
    autoupdate(state, method, query, &headers, body, viewer, None).await
}

/// Ends a stream when it turns true: the user's session was logged out.
type SessionEnd = Option<watch::Receiver<bool>>;

async fn autoupdate(
    state: AppState,
    method: Method,
    query: Query,
    headers: &HeaderMap,
    body: Bytes,
    viewer: Viewer,
    session_end: SessionEnd,
) -> Response {
    match handle_autoupdate(state, method, query, headers, body, viewer, session_end).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle_autoupdate(
    state: AppState,
    method: Method,
    query: Query,
    headers: &HeaderMap,
    body: Bytes,
    viewer: Viewer,
    session_end: SessionEnd,
) -> Result<Response, ErrorResponse> {
    if method != Method::GET && method != Method::POST {
        return Err(ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid request: only GET or POST requests are supported",
        ));
    }
    reject_unsupported(&query, headers)?;

    let request = Arc::new(Request::parse(&body, query.get("k"))?);
    if query.has("single") {
        let message = state.autoupdate.single(viewer, request).await?;
        return Ok(stream_response(Body::from(message)));
    }

    let connection = state.autoupdate.connect(viewer, request).await?;
    Ok(stream_response(stream_body(
        connection,
        state.shutdown,
        session_end,
    )))
}

/// Rejects parameters of features this service does not have yet, so that a client gets
/// an error instead of a response in a different format.
fn reject_unsupported(query: &Query, headers: &HeaderMap) -> Result<(), ErrorResponse> {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().starts_with("multipart/"));
    for (name, present) in [
        ("position", query.has("position")),
        ("compress", query.has("compress")),
        ("longpolling", query.has("longpolling") || multipart),
    ] {
        if present {
            return Err(ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("Invalid request: {name} is not supported by this version of the service"),
            ));
        }
    }
    Ok(())
}

fn stream_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, max-age=0"),
    );
    response
}

/// The signals that end a stream besides an error.
struct Ends {
    shutdown: watch::Receiver<bool>,
    session_end: SessionEnd,
}

impl Ends {
    /// Completes when the service shuts down or the session is logged out.
    async fn wait(&mut self) {
        let session = async {
            match &mut self.session_end {
                Some(ended) => {
                    let _ = ended.wait_for(|ended| *ended).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.shutdown.wait_for(|stop| *stop) => {}
            () = session => {}
        }
    }
}

/// Turns the messages of a connection into a response body: the first message, then one
/// line per change. An error ends the body with one error line; shutdown and a logout of the
/// user's session end it at once.
fn stream_body(
    mut connection: Connection,
    shutdown: watch::Receiver<bool>,
    session_end: SessionEnd,
) -> Body {
    let first = connection.take_first();
    let ends = Ends {
        shutdown,
        session_end,
    };
    let stream = futures::stream::unfold(
        (Some(connection), first, ends),
        |(connection, first, mut ends)| async move {
            if let Some(first) = first {
                return Some((
                    Ok::<_, std::convert::Infallible>(first),
                    (connection, None, ends),
                ));
            }
            let mut connection = connection?;
            let result = tokio::select! {
                result = connection.next() => Some(result),
                () = ends.wait() => None,
            };
            match result? {
                Ok(message) => Some((Ok(message), (Some(connection), None, ends))),
                Err(error) => {
                    let line = ErrorResponse::from(error).body();
                    Some((Ok(line), (None, None, ends)))
                }
            }
        },
    );
    Body::from_stream(stream)
}
