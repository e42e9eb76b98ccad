//! The HTTP API: routing, the autoupdate handlers and health.

mod error;
mod server;
mod tls;
pub(crate) mod transport;

pub use tls::{server_config, TlsError};

pub use error::ErrorResponse;
pub use transport::{Format, HashState};

use crate::auth::{Auth, AuthError, Authenticated, AUTH_HEADER};
use crate::autoupdate::{Autoupdate, AutoupdateError, Connection, WorkPool};
use crate::keysbuilder::{Limits, Request};
use crate::metric::{ConnectionCounter, ConnectionKind, CountGuard};
use crate::repeats::{self, Repeats};
use crate::restrict::Viewer;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The state the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub autoupdate: Autoupdate,
    pub auth: Auth,
    /// Turns true when the service shuts down; open streams end then.
    pub shutdown: watch::Receiver<bool>,
    /// How long a stream may stay silent before it gets an empty message; zero never.
    pub heartbeat: Duration,
    /// The open connections of `/system/autoupdate` per user.
    pub connections: ConnectionCounter,
    /// The bound on first messages computed at the same time.
    pub pool: WorkPool,
    /// The bounds on autoupdate requests.
    pub limits: RequestLimits,
    /// Whether the reader of changes is connected to Redis, when there is one.
    pub bus: Option<crate::messagebus::Connected>,
}

/// The default of the largest request body read, in bytes. The largest requests of the
/// OpenSlides client are about 15 KB.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The bounds on the autoupdate requests the service accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// The largest request body read, in bytes; larger bodies get 413.
    pub body_bytes: usize,
    /// The bounds on the parsed request and the keys it resolves to.
    pub request: Limits,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            body_bytes: MAX_BODY_BYTES,
            request: Limits::DEFAULT,
        }
    }
}

/// Builds the routes of the service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/system/autoupdate", any(public_autoupdate))
        .route("/internal/autoupdate", any(internal_autoupdate))
        .route("/system/autoupdate/health", any(health))
        .route(
            "/system/autoupdate/history_information",
            any(history_information),
        )
        .route("/system/autoupdate/connection_count", any(connection_count))
        .route(
            "/service/autoupdate/connection_count",
            any(connection_count),
        )
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

/// The maximum time a client may take to send a request body. The largest bodies of the
/// OpenSlides client are about 15 KB.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the request body, up to `limit` bytes and within `BODY_TIMEOUT`.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ErrorResponse> {
    use http_body_util::BodyExt;
    let read = http_body_util::Limited::new(body, limit).collect();
    let Ok(result) = tokio::time::timeout(BODY_TIMEOUT, read).await else {
        return Err(ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Invalid request: the body did not arrive within {BODY_TIMEOUT:?}"),
        ));
    };
    match result {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(ErrorResponse::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("Invalid request: the body is larger than {limit} bytes"),
        )),
        Err(error) => Err(ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Invalid request: reading the body failed: {error}"),
        )),
    }
}

/// Serves the routes on `listener` until `shutdown` completes. Without `tls`,
/// connections use HTTP/1.1 or HTTP/2 with prior knowledge. With it, every connection is
/// TLS, and HTTP/2 is offered through ALPN.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router(state), tls, shutdown).await
}

/// Returns the open connections per user of all instances, as far as the requesting
/// user may see them: `{"<user_id>": count}`.
async fn connection_count(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match state.auth.authenticate(&headers).await {
        Ok(user) => user,
        Err(error) => return ErrorResponse::from(error).into_response(),
    };
    let logged_out = user
        .session_id
        .as_deref()
        .is_some_and(|session| *state.auth.logouts().watch(session).borrow());
    if logged_out {
        return ErrorResponse::from(AuthError::Denied("invalid session".into())).into_response();
    }

    let datastore = state.autoupdate.datastore().clone();
    let counts =
        crate::metric::visible_connection_count(&state.connections, datastore, user.user_id).await;
    let mut response = match counts {
        Ok(Some(counts)) => {
            let mut body = serde_json::to_vec(&counts).unwrap_or_default();
            body.push(b'\n');
            let mut response = body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Ok(None) => ErrorResponse::new(
            StatusCode::FORBIDDEN,
            "permission_denied",
            "The connection count needs the organization management level \
             can_manage_organization or membership in the admin group of a meeting",
        )
        .into_response(),
        Err(error) => ErrorResponse::internal(&error).into_response(),
    };
    add_new_token(&mut response, &user);
    response
}

/// The maximum time the health check waits for the datastore.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Returns `{"healthy": true}` while the datastore can be read and the reader of changes
/// is connected to Redis, and 503 with `{"healthy": false}` otherwise, so that an
/// orchestrator notices an outage.
async fn health(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(HEALTH_TIMEOUT, state.autoupdate.datastore().ping()).await;
    let problem = match ping {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(format!("the datastore cannot be read: {error}")),
        Err(_) => Some(format!(
            "the datastore did not answer within {HEALTH_TIMEOUT:?}"
        )),
    };
    let problem = problem.or_else(|| {
        state
            .bus
            .as_ref()
            .is_some_and(|bus| !bus.get())
            .then(|| "the reader of changes is not connected to Redis".to_string())
    });
    // An orchestrator checks often, so repeated failures are logged once per interval.
    static FAILURES: Repeats = Repeats::new(repeats::WARNING_INTERVAL);
    let (status, body) = match problem {
        None => (StatusCode::OK, "{\"healthy\": true}\n"),
        Some(problem) => {
            if let Some(held_back) = FAILURES.check(std::time::Instant::now()) {
                tracing::warn!(held_back, "health check: {problem}");
            }
            (StatusCode::SERVICE_UNAVAILABLE, "{\"healthy\": false}\n")
        }
    };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

/// The query parameters of an autoupdate request.
#[derive(Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: Option<String>) -> Query {
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
    pub(crate) fn get(&self, name: &str) -> &str {
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
    let body = match read_body(body, state.limits.body_bytes).await {
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

    let query = Query::parse(query);
    let kind = if is_long_polling(&query, &headers) {
        ConnectionKind::LongPolling
    } else {
        ConnectionKind::Stream
    };
    let requester = Requester {
        viewer,
        session_end,
        count: Some(state.connections.open(kind, user.user_id)),
    };
    let mut response = autoupdate(state, method, query, &headers, body, requester).await;
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
    let body = match read_body(body, state.limits.body_bytes).await {
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
    let requester = Requester {
        viewer: Viewer { user_id },
        session_end: None,
        count: None,
    };
    autoupdate(state, method, query, &headers, body, requester).await
}

/// Ends a stream when it turns true: the user's session was logged out.
type SessionEnd = Option<watch::Receiver<bool>>;

/// The sender of an autoupdate request, and what lives as long as its response.
struct Requester {
    viewer: Viewer,
    session_end: SessionEnd,
    /// Counts the request as an open connection until the response ends. The internal
    /// route is not counted, as in the Go service.
    count: Option<CountGuard>,
}

/// Checks whether a request uses long polling: it has the query parameter
/// `longpolling` or a multipart body.
fn is_long_polling(query: &Query, headers: &HeaderMap) -> bool {
    query.has("longpolling") || is_multipart(headers)
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/")
}

async fn autoupdate(
    state: AppState,
    method: Method,
    query: Query,
    headers: &HeaderMap,
    body: Bytes,
    requester: Requester,
) -> Response {
    match handle_autoupdate(state, method, query, headers, body, requester).await {
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
    requester: Requester,
) -> Result<Response, ErrorResponse> {
    let Requester {
        viewer,
        session_end,
        count,
    } = requester;
    if method != Method::GET && method != Method::POST {
        return Err(ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid request: only GET or POST requests are supported",
        ));
    }
    let position = if query.has("position") {
        Some(parse_position(query.get("position"))?)
    } else {
        None
    };
    let format = Format {
        compress: query.has("compress"),
    };

    // A multipart body is a long polling request with the state of the previous poll.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let (body, hash) = if is_multipart(headers) {
        let (request, hash) = transport::split_multipart(content_type, body)
            .await
            .map_err(|error| {
                ErrorResponse::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("Invalid request: {error}"),
                )
            })?;
        (request, Some(hash))
    } else {
        (body, None)
    };
    let long_polling = hash.is_some() || query.has("longpolling");

    let request = Arc::new(Request::parse_with(
        &body,
        query.get("k"),
        &state.limits.request,
    )?);
    if let Some(position) = position {
        // A position implies `single`: old data does not change.
        let history = state.autoupdate.history().ok_or_else(|| {
            ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Invalid request: this datastore keeps no history",
            )
        })?;
        let message = history.data(viewer, request, position).await?;
        return Ok(stream_response(Body::from(format.encode(message))));
    }
    if query.has("single") {
        let message = state.autoupdate.single(viewer, request).await?;
        return Ok(stream_response(Body::from(format.encode(message))));
    }

    if long_polling {
        return long_poll(state, viewer, request, hash.as_deref(), format).await;
    }

    let permit = enter_pool(&state, viewer).await?;
    let mut connection = state.autoupdate.connect(viewer, request).await?;
    drop(permit);
    if query.has("skip_first") {
        connection.take_first();
    }
    let stream = StreamOptions {
        format,
        heartbeat: state.heartbeat,
    };
    Ok(stream_response(stream_body(
        connection,
        stream,
        Ends {
            shutdown: state.shutdown,
            session_end,
            count,
        },
    )))
}

/// Parses the `position` parameter: a positive integer.
fn parse_position(raw: &str) -> Result<i32, ErrorResponse> {
    raw.parse::<i32>()
        .ok()
        .filter(|position| *position > 0)
        .ok_or_else(|| {
            ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("Invalid request: position has to be a positive integer, not {raw:?}"),
            )
        })
}

/// `/system/autoupdate/history_information?fqid=collection/id`: the positions that
/// changed one object, for users who may see its history.
async fn history_information(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let user = match state.auth.authenticate(&headers).await {
        Ok(user) => user,
        Err(error) => return ErrorResponse::from(error).into_response(),
    };
    let viewer = Viewer {
        user_id: user.user_id,
    };
    let query = Query::parse(query);
    let fqid = query.get("fqid");
    let result = if fqid.is_empty() {
        Err(ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid request: history information needs the parameter fqid, such as fqid=motion/42",
        ))
    } else {
        match state.autoupdate.history() {
            Some(history) => history
                .information(viewer, fqid)
                .await
                .map_err(ErrorResponse::from),
            None => Err(ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Invalid request: this datastore keeps no history",
            )),
        }
    };
    let mut response = match result {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => error.into_response(),
    };
    add_new_token(&mut response, &user);
    response
}

/// Waits until the user may compute a first message; see `WorkPool::enter`.
async fn enter_pool(
    state: &AppState,
    viewer: Viewer,
) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, ErrorResponse> {
    state
        .pool
        .enter(state.autoupdate.datastore().clone(), viewer.user_id)
        .await
        .map_err(|error| ErrorResponse::from(AutoupdateError::from(error)))
}

/// Responds to a long polling request once: with every value the hash state says the client
/// lacks, or, when it lacks none, with the next change. The response is multipart with
/// the message in part `data` and the new state in part `hash`.
async fn long_poll(
    state: AppState,
    viewer: Viewer,
    request: Arc<Request>,
    hash: Option<&str>,
    format: Format,
) -> Result<Response, ErrorResponse> {
    // The Go service treats an unreadable state as an internal error.
    let mut hashes =
        HashState::decode(hash.unwrap_or("")).map_err(|e| ErrorResponse::internal(&e))?;
    let permit = enter_pool(&state, viewer).await?;
    let mut connection = state
        .autoupdate
        .connect_with_entries(viewer, request)
        .await?;
    drop(permit);
    let entries = connection.take_entries().unwrap_or_default();
    let mut message = hashes.filter_all(&entries);
    let mut shutdown = state.shutdown;
    while message.is_empty() {
        tokio::select! {
            delta = connection.next_values() => message = hashes.filter_changes(delta?.values()),
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }

    let data = format.encode(crate::autoupdate::encode_message(&message));
    let hash = hashes.encode();
    let body = transport::multipart_body(&[("data", &data), ("hash", hash.as_bytes())]);
    let mut response = stream_response(Body::from(body.body));
    if let Ok(value) = HeaderValue::from_str(&body.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    Ok(response)
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
    /// Counts the stream as an open connection until its body is dropped.
    #[allow(dead_code)]
    count: Option<CountGuard>,
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

/// The output settings of a stream.
#[derive(Clone, Copy)]
struct StreamOptions {
    format: Format,
    heartbeat: Duration,
}

/// Turns the messages of a connection into a response body: the first message, then one
/// line per change, and an empty message after each `heartbeat` without one. An error
/// ends the body with one error line; shutdown and a logout of the user's session end it
/// at once.
fn stream_body(mut connection: Connection, options: StreamOptions, ends: Ends) -> Body {
    let first = connection.take_first();
    let stream = futures::stream::unfold(
        (Some(connection), first, ends),
        move |(connection, first, mut ends)| async move {
            let format = options.format;
            if let Some(first) = first {
                return Some((
                    Ok::<_, std::convert::Infallible>(format.encode(first)),
                    (connection, None, ends),
                ));
            }
            let mut connection = connection?;
            let heartbeat = async {
                if options.heartbeat.is_zero() {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(options.heartbeat).await;
            };
            let result = tokio::select! {
                result = connection.next() => Some(result),
                () = heartbeat => Some(Ok(Bytes::from_static(b"{}\n"))),
                () = ends.wait() => None,
            };
            match result? {
                Ok(message) => Some((Ok(format.encode(message)), (Some(connection), None, ends))),
                Err(error) => {
                    let line = ErrorResponse::from(error).body();
                    Some((Ok(line), (None, None, ends)))
                }
            }
        },
    );
    Body::from_stream(stream)
}
