//! Autoupdate streams over HTTP/2 with prior knowledge (h2c): many streams share one
//! TCP connection, up to the server's limit of concurrent streams.

use crate::message::{message_keys, LineReader};
use anyhow::{anyhow, Context};
use bytes::Bytes;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;

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
    pub body: Bytes,
}

/// One HTTP/2 connection.
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

    /// Opens a stream in a task that reports its messages until it ends.
    pub fn spawn_stream(&self, request: StreamRequest, events: UnboundedSender<Event>) {
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
        });
    }
}

async fn stream(
    send: h2::client::SendRequest<Bytes>,
    authority: &str,
    request: StreamRequest,
    events: &UnboundedSender<Event>,
) -> anyhow::Result<()> {
    let http_request = http::Request::post(format!("http://{authority}/system/autoupdate"))
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
    let mut reader = LineReader::default();
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
            let keys = match &line.text {
                None => None,
                Some(text) => Some(message_keys(text).context("message is not a JSON object")?),
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
