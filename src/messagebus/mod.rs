//! The Redis message bus: the datastore writer announces every change on the stream
//! `ModifiedFields` as pairs of `collection/id/field` and JSON value.

mod parse;

pub use parse::{parse_modified_fields, parse_xread, StreamEntry, StreamParseError};

use crate::autoupdate::Autoupdate;
use redis::aio::MultiplexedConnection;
use std::time::Duration;

/// The stream of changed fields.
pub const MODIFIED_FIELDS: &str = "ModifiedFields";

/// Entries read per XREAD.
const READ_COUNT: usize = 100;

/// How long one XREAD blocks on the server before it returns empty.
const BLOCK: Duration = Duration::from_secs(5);

/// How to reach Redis.
#[derive(Clone, Debug)]
pub struct RedisConfig {
    pub host: String,
    pub port: u16,
}

impl RedisConfig {
    fn url(&self) -> String {
        format!("redis://{}:{}/", self.host, self.port)
    }

    /// Opens a connection whose commands time out, so that a lost server cannot block a
    /// reader forever.
    pub async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        let client = redis::Client::open(self.url())?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Duration::from_secs(5))
            .set_response_timeout(BLOCK + Duration::from_secs(5));
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }
}

/// The stream of logouts: entries with a field `sessionId`.
pub const LOGOUT: &str = "logout";

/// The position in a stream where reading starts.
#[derive(Clone, Copy, Debug)]
pub enum Start {
    /// After the newest entry at the time of the first connection.
    Newest,
    /// At the entries of the last given time span.
    Since(Duration),
}

/// Reads `ModifiedFields` and hands every change to the autoupdate core, from the newest
/// entry at start on. Runs until the task is dropped.
pub async fn run(config: RedisConfig, autoupdate: Autoupdate) {
    follow(config, MODIFIED_FIELDS, Start::Newest, |entry| {
        let changes = parse_modified_fields(&entry, |problem| {
            tracing::warn!(entry = %entry.id, "skipping part of a {MODIFIED_FIELDS} entry: {problem}");
        });
        if !changes.is_empty() {
            autoupdate.apply_update(&changes);
        }
    })
    .await
}

/// Reads a stream and calls `on_entry` for each entry in order. Runs until the task is
/// dropped; after an error it reconnects with a growing delay and continues after the
/// last entry it read, so no entry is lost while the stream still contains it.
pub async fn follow(
    config: RedisConfig,
    stream: &'static str,
    start: Start,
    mut on_entry: impl FnMut(StreamEntry),
) {
    let mut last_id: Option<String> = None;
    // Failed attempts since the last successful read; each outage logs once, then every
    // 50th attempt, and the delay grows to at most five seconds.
    let mut failures = 0u32;
    loop {
        let result = read_stream(
            &config,
            stream,
            start,
            &mut last_id,
            &mut failures,
            &mut on_entry,
        )
        .await;
        if let Err(err) = result {
            failures += 1;
            let wait = Duration::from_millis(200 * u64::from(failures.min(25)));
            if failures == 1 || failures.is_multiple_of(50) {
                tracing::warn!(error = %err, failures, "reading the Redis stream {stream} failed; retrying");
            }
            tokio::time::sleep(wait).await;
        }
    }
}

async fn read_stream(
    config: &RedisConfig,
    stream: &'static str,
    start: Start,
    last_id: &mut Option<String>,
    failures: &mut u32,
    on_entry: &mut impl FnMut(StreamEntry),
) -> redis::RedisResult<()> {
    let mut connection = config.connect().await?;
    if last_id.is_none() {
        let id = match start {
            Start::Newest => newest_id(&mut connection, stream).await?,
            Start::Since(span) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                format!("{}-0", now.saturating_sub(span).as_millis())
            }
        };
        tracing::info!(id, "reading Redis stream {stream}");
        *last_id = Some(id);
    }

    loop {
        let id = last_id.clone().unwrap_or_else(|| "0-0".into());
        let reply: redis::Value = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(READ_COUNT)
            .arg("BLOCK")
            .arg(BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(stream)
            .arg(&id)
            .query_async(&mut connection)
            .await?;
        if *failures > 0 {
            tracing::info!(
                failures = *failures,
                id,
                "reading the Redis stream {stream} again"
            );
            *failures = 0;
        }

        let entries = match parse_xread(&reply, stream) {
            Ok(entries) => entries,
            Err(err) => {
                tracing::error!(error = %err, "invalid reply to XREAD on {stream}");
                return Err(redis::RedisError::from((
                    redis::ErrorKind::TypeError,
                    "invalid XREAD reply",
                )));
            }
        };

        for entry in entries {
            let id = entry.id.clone();
            on_entry(entry);
            *last_id = Some(id);
        }
    }
}

/// Returns the id of the stream's newest entry, or `0-0` when the stream is empty or missing.
async fn newest_id(
    connection: &mut MultiplexedConnection,
    stream: &str,
) -> redis::RedisResult<String> {
    let reply: redis::Value = redis::cmd("XREVRANGE")
        .arg(stream)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(connection)
        .await?;
    let entries = parse::parse_entries(&reply).unwrap_or_default();
    Ok(entries
        .into_iter()
        .next()
        .map_or_else(|| "0-0".to_string(), |entry| entry.id))
}
