//! Autoupdate streams over HTTP/2 with prior knowledge (h2c): many streams share one
//! TCP connection, up to the server's limit of concurrent streams.

use crate::message::{message_keys, LineReader};
use anyhow::{anyhow, Context};
use bytes::Bytes;
use openslides_autoupdate::auth::{self, Claims, DEVELOPMENT_COOKIE_KEY, DEVELOPMENT_TOKEN_KEY};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// The values a stream has received so far: key (`collection/id/field`) to value.
pub type Values = HashMap<String, serde_json::Value>;

/// The values a stream has received so far, with the number of its messages.
#[derive(Debug, Default)]
pub struct Received {
    pub values: Values,
    /// Messages, the first included.
    pub messages: u64,
    /// Keys that a `null` in a message removed from the values.
    pub deleted: u64,
}

/// An event a stream sends to the measuring task.
#[derive(Debug)]
pub enum Event {
    /// A complete message line. `keys` is `None` for the first message, which is only
    /// counted.
    Message {
        stream: usize,
        at: Instant,
        bytes: usize,
        keys: Option<Vec<String>>,
    },
    /// The stream ended or could not be opened.
    Closed { stream: usize, error: String },
}

/// The credentials and body of one stream.
pub struct StreamRequest {
    pub index: usize,
    pub token: String,
    pub cookie: String,
    /// Appended to the path, empty or starting with `?`.
    pub query: String,
    pub body: Bytes,
    /// When set, every message, the first included, is applied to the values: a key
    /// with `null` is removed, any other value replaces the old one.
    pub received: Option<Arc<Mutex<Received>>>,
}

/// Returns an access token and a refresh cookie for a user, signed with the development
/// keys and valid until `expires` (Unix time in seconds).
pub fn credentials(user_id: u64, session: &str, expires: i64) -> anyhow::Result<(String, String)> {
    let claims = Claims {
        user_id: user_id as i64,
        session_id: session.to_string(),
        exp: Some(expires as u64),
    };
    let token = auth::sign(&claims, DEVELOPMENT_TOKEN_KEY)?;
    let cookie = auth::sign(
        &serde_json::json!({"sessionId": session, "exp": expires}),
        DEVELOPMENT_COOKIE_KEY,
    )?;
    Ok((token, cookie))
}

/// A complete response to a single request.
#[derive(Debug)]
pub struct CompleteResponse {
    pub status: http::StatusCode,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// One HTTP/2 connection.
#[derive(Clone)]
pub struct Connection {
    send: h2::client::SendRequest<Bytes>,
    authority: String,
}

impl Connection {
    /// Connects and waits for the server's settings, so that its stream limit is known.
    pub async fn open(authority: &str) -> anyhow::Result<Connection> {
        let tcp = TcpStream::connect(authority)
            .await
            .with_context(|| format!("connect to {authority}"))?;
        tcp.set_nodelay(true)?;
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(1 << 24)
            .handshake::<_, Bytes>(tcp)
            .await
            .context("HTTP/2 handshake")?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut connection = Connection {
            send,
            authority: authority.to_string(),
        };
        // A complete request and response guarantee that the server's settings were read.
        connection.health().await?;
        Ok(connection)
    }

    /// Returns the server's limit of concurrent streams on this connection.
    pub fn max_streams(&self) -> usize {
        self.send.current_max_send_streams()
    }

    async fn health(&mut self) -> anyhow::Result<()> {
        let request = http::Request::get(format!(
            "http://{}/system/autoupdate/health",
            self.authority
        ))
        .body(())?;
        let send = self.send.clone().ready().await?;
        self.send = send;
        let (response, _) = self.send.send_request(request, true)?;
        let response = response.await?;
        let status = response.status();
        let mut body = response.into_body();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        if !status.is_success() {
            return Err(anyhow!("health check returned status {status}"));
        }
        Ok(())
    }

    /// Sends one request with the user's credentials and reads the whole response.
    /// `path` includes the query; `content_type` is that of `body`.
    pub async fn request(
        &self,
        path: &str,
        token: &str,
        cookie: &str,
        content_type: &str,
        body: Bytes,
    ) -> anyhow::Result<CompleteResponse> {
        let request = http::Request::post(format!("http://{}{path}", self.authority))
            .header("authentication", format!("bearer {token}"))
            .header("cookie", format!("refreshId=bearer%20{cookie}"))
            .header("content-type", content_type)
            .body(())?;
        let mut send = self.send.clone().ready().await?;
        let (response, mut body_out) = send.send_request(request, false)?;
        body_out.send_data(body, true)?;
        let response = response.await?;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
        }
        Ok(CompleteResponse {
            status,
            content_type,
            body: bytes,
        })
    }

    /// Returns whether the connection can still open streams; false after the server
    /// closed it or sent GOAWAY.
    pub async fn is_open(&self) -> bool {
        self.send.clone().ready().await.is_ok()
    }

    /// Opens a stream in a task that reports its messages until it ends. Aborting the
    /// returned task resets the stream without a `Closed` event.
    pub fn spawn_stream(
        &self,
        request: StreamRequest,
        events: UnboundedSender<Event>,
    ) -> JoinHandle<()> {
        let send = self.send.clone();
        let authority = self.authority.clone();
        tokio::spawn(async move {
            let index = request.index;
            let error = match stream(send, &authority, request, &events).await {
                Ok(()) => "the stream ended".to_string(),
                Err(error) => format!("{error:#}"),
            };
            let _ = events.send(Event::Closed {
                stream: index,
                error,
            });
        })
    }
}

async fn stream(
    send: h2::client::SendRequest<Bytes>,
    authority: &str,
    request: StreamRequest,
    events: &UnboundedSender<Event>,
) -> anyhow::Result<()> {
    let http_request = http::Request::post(format!(
        "http://{authority}/system/autoupdate{}",
        request.query
    ))
    .header("authentication", format!("bearer {}", request.token))
    .header("cookie", format!("refreshId=bearer%20{}", request.cookie))
    .header("content-type", "application/json")
    .body(())?;
    let mut send = send.ready().await?;
    let (response, mut body_out) = send.send_request(http_request, false)?;
    body_out.send_data(request.body, true)?;
    let response = response.await?;
    let status = response.status();

    let mut body = response.into_body();
    let mut reader = if request.received.is_some() {
        LineReader::keeping_all()
    } else {
        LineReader::default()
    };
    let mut error_text = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if !status.is_success() {
            error_text.extend_from_slice(&chunk);
            continue;
        }
        let at = Instant::now();
        for line in reader.push(&chunk) {
            let keys = match (&line.text, &request.received) {
                (None, _) => None,
                (Some(text), None) => {
                    Some(message_keys(text).context("message is not a JSON object")?)
                }
                (Some(text), Some(received)) => Some(apply_message(text, received)?),
            };
            let _ = events.send(Event::Message {
                stream: request.index,
                at,
                bytes: line.len,
                keys,
            });
        }
    }
    if !status.is_success() {
        return Err(anyhow!(
            "status {status}: {}",
            String::from_utf8_lossy(&error_text).trim()
        ));
    }
    Ok(())
}

/// Applies one message to the received values and returns its sorted keys.
fn apply_message(line: &[u8], received: &Mutex<Received>) -> anyhow::Result<Vec<String>> {
    let message: Values = serde_json::from_slice(line).context("message is not a JSON object")?;
    let mut keys: Vec<String> = message.keys().cloned().collect();
    keys.sort_unstable();
    let mut received = received
        .lock()
        .map_err(|_| anyhow!("the values of a stream were poisoned"))?;
    received.messages += 1;
    for (key, value) in message {
        if value.is_null() {
            if received.values.remove(&key).is_some() {
                received.deleted += 1;
            }
        } else {
            received.values.insert(key, value);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_null_removes_a_value() {
        let received = Mutex::new(Received::default());
        let keys = apply_message(
            br#"{"motion/1/title":"A","motion/1/number":"1"}"#,
            &received,
        )
        .unwrap();
        assert_eq!(keys, vec!["motion/1/number", "motion/1/title"]);
        apply_message(
            br#"{"motion/1/number":null,"motion/1/title":"B"}"#,
            &received,
        )
        .unwrap();
        apply_message(br#"{"motion/1/number":null}"#, &received).unwrap();
        let received = received.into_inner().unwrap();
        assert_eq!(received.values.len(), 1);
        assert_eq!(received.values["motion/1/title"], serde_json::json!("B"));
        assert_eq!(received.messages, 3);
        assert_eq!(received.deleted, 1);
    }

    #[test]
    fn message_that_is_no_object_is_an_error() {
        let received = Mutex::new(Received::default());
        assert!(apply_message(b"[1]", &received).is_err());
    }
}
