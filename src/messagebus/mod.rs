//! The Redis message bus: the datastore writer announces every change on the stream
//! `ModifiedFields` as pairs of `collection/id/field` and JSON value.

mod parse;

pub use parse::{
    parse_entries, parse_modified_fields, parse_stream_info, parse_xread, EntryId, Skipped,
    StreamEntry, StreamInfo, StreamParseError,
};

use crate::autoupdate::Autoupdate;
use crate::repeats::{self, Repeats};
use redis::aio::MultiplexedConnection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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

/// The connection state of a stream reader: true while it has a working connection to
/// Redis. Cheap to clone, and all clones share the state.
#[derive(Clone, Debug, Default)]
pub struct Connected(Arc<AtomicBool>);

impl Connected {
    /// Returns true once the reader has a connection that responded, until it fails.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, connected: bool) {
        self.0.store(connected, Ordering::Relaxed);
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
///
/// When entries may have been missed (Redis lost or trimmed them while the connection
/// was down), every open view is read again from the datastore. `connected` is true
/// while the reader can read the stream.
pub async fn run(config: RedisConfig, autoupdate: Autoupdate, connected: Connected) {
    let resync = autoupdate.clone();
    follow(
        config,
        MODIFIED_FIELDS,
        Start::Newest,
        connected,
        |entry| {
            let mut unreadable = Vec::new();
            let changes = parse_modified_fields(&entry, |skipped| {
                // A broken writer may send many such entries, with keys of any length.
                static SKIPPED: Repeats = Repeats::new(repeats::WARNING_INTERVAL);
                if let Some(held_back) = SKIPPED.check(std::time::Instant::now()) {
                    let problem = shorten(&skipped.to_string(), MAX_LOGGED_PROBLEM).into_owned();
                    tracing::warn!(entry = %entry.id, held_back, "skipping part of a {MODIFIED_FIELDS} entry: {problem}");
                }
                if let Skipped::InvalidValue(key) = skipped {
                    unreadable.push(key);
                }
            });
            if !changes.is_empty() {
                autoupdate.apply_update(&changes);
            }
            // The key changed, to a value the entry does not tell: the datastore has it.
            if !unreadable.is_empty() {
                autoupdate.read_again(&unreadable);
            }
        },
        move |missed| match missed {
            Missed::Lost => resync.resync(),
            // Nothing was read before: nothing can be out of date.
            Missed::Start if resync.datastore().is_empty() => {}
            Missed::Start => {
                tracing::warn!(
                    "values were read before the first entry of {MODIFIED_FIELDS}; reading every open stream again"
                );
                resync.resync();
            }
        },
    )
    .await
}

/// The maximum length of a logged description of a skipped part of an entry, in bytes.
const MAX_LOGGED_PROBLEM: usize = 300;

/// Returns `text` cut to at most `max` bytes at a character boundary, marked with `…`
/// when cut.
fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// The reason why entries of a stream may have been missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// The reader has just found its start on its first connection. Whatever was read
    /// elsewhere before, for example while Redis was unreachable at start-up, may miss
    /// entries from before that start.
    Start,
    /// Entries after the last one read were trimmed away, or Redis lost the stream.
    Lost,
}

/// The state of the stream after a reconnect, relative to the last entry read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// The stream still contains every entry after the last one read.
    None,
    /// Entries after the last one read were trimmed away; reading continues.
    Trimmed,
    /// The stream is gone or starts over (Redis restarted without data); reading starts
    /// at its beginning.
    Restarted,
}

/// Compares the stream with the last entry read.
async fn find_gap(
    connection: &mut MultiplexedConnection,
    stream: &str,
    last_id: &str,
) -> redis::RedisResult<Gap> {
    let reply: redis::RedisResult<redis::Value> = redis::cmd("XINFO")
        .arg("STREAM")
        .arg(stream)
        .query_async(connection)
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        // Even when nothing was read yet, entries added just before Redis lost the stream
        // may never have been read.
        Err(err) if err.to_string().contains("no such key") => return Ok(Gap::Restarted),
        Err(err) => return Err(err),
    };
    let Some(last) = EntryId::parse(last_id) else {
        return Ok(Gap::None);
    };
    let info = parse_stream_info(&reply).map_err(|err| {
        redis::RedisError::from((
            redis::ErrorKind::TypeError,
            "invalid XINFO reply",
            err.to_string(),
        ))
    })?;
    Ok(gap(&info, last))
}

/// Decides from the stream's state whether entries after `last` may be lost. They are
/// when one was deleted after `last`, or when `last` itself was trimmed away while newer
/// entries were added: the entries between it and the oldest one left may have gone
/// with it.
fn gap(info: &StreamInfo, last: EntryId) -> Gap {
    let unread = info.last_generated > last;
    let last_trimmed = info.length == 0 || info.first > last;
    if info.last_generated < last {
        Gap::Restarted
    } else if info.max_deleted > last || (unread && last_trimmed) {
        Gap::Trimmed
    } else {
        Gap::None
    }
}

/// Reads a stream and calls `on_entry` for each entry in order. Runs until the task is
/// dropped; after an error it reconnects with a growing delay and continues after the
/// last entry it read, so no entry is lost while the stream still contains it.
///
/// `on_gap` is called with `Missed::Start` when the reader has found its start, and with
/// `Missed::Lost` when entries may have been lost: the stream was trimmed past the last
/// entry read, or Redis came back without it. `connected` is true from the first
/// response on a connection until it fails.
pub async fn follow(
    config: RedisConfig,
    stream: &'static str,
    start: Start,
    connected: Connected,
    mut on_entry: impl FnMut(StreamEntry),
    mut on_gap: impl FnMut(Missed),
) {
    let mut progress = Progress::default();
    loop {
        let result = read_stream(
            &config,
            stream,
            start,
            &mut progress,
            &connected,
            &mut on_entry,
            &mut on_gap,
        )
        .await;
        connected.set(false);
        if let Err(err) = result {
            progress.failures += 1;
            let failures = progress.failures;
            let wait = Duration::from_millis(200 * u64::from(failures.min(25)));
            if failures == 1 || failures.is_multiple_of(50) {
                tracing::warn!(error = %err, failures, "reading the Redis stream {stream} failed; retrying");
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// The position of a reader in its stream, kept across reconnects.
#[derive(Default)]
struct Progress {
    /// The id of the last entry read.
    last_id: Option<String>,
    /// Failed attempts since the last successful read; each outage logs once, then every
    /// 50th attempt, and the delay grows to at most five seconds.
    failures: u32,
}

async fn read_stream(
    config: &RedisConfig,
    stream: &'static str,
    start: Start,
    progress: &mut Progress,
    connected: &Connected,
    on_entry: &mut impl FnMut(StreamEntry),
    on_gap: &mut impl FnMut(Missed),
) -> redis::RedisResult<()> {
    let mut connection = config.connect().await?;
    redis::cmd("PING")
        .query_async::<()>(&mut connection)
        .await?;
    connected.set(true);
    let Progress { last_id, failures } = progress;
    if let Some(id) = last_id.clone() {
        match find_gap(&mut connection, stream, &id).await? {
            Gap::None => {}
            Gap::Trimmed => {
                tracing::warn!(
                    id,
                    "entries of the Redis stream {stream} after the last one read were trimmed"
                );
                on_gap(Missed::Lost);
            }
            Gap::Restarted => {
                tracing::warn!(
                    id,
                    "the Redis stream {stream} is gone or started over; reading it from its start"
                );
                *last_id = Some("0-0".into());
                on_gap(Missed::Lost);
            }
        }
    } else {
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
        on_gap(Missed::Start);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn info(last_generated: u64, first: u64, length: u64, max_deleted: u64) -> StreamInfo {
        StreamInfo {
            last_generated: EntryId(last_generated, 0),
            max_deleted: EntryId(max_deleted, 0),
            first: EntryId(first, 0),
            length,
        }
    }

    #[test]
    fn shorten_cuts_at_char_boundary() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("abcdef", 3), "abc…");
        // "ä" takes two bytes; a cut inside it moves back.
        assert_eq!(shorten("aäb", 2), "a…");
    }

    #[test]
    fn new_entries_are_no_gap() {
        assert_eq!(gap(&info(9, 1, 9, 0), EntryId(5, 0)), Gap::None);
        assert_eq!(gap(&info(5, 1, 5, 0), EntryId(5, 0)), Gap::None);
    }

    #[test]
    fn trimmed_unread_entries_are_gap() {
        assert_eq!(gap(&info(9, 8, 2, 0), EntryId(5, 0)), Gap::Trimmed);
        assert_eq!(gap(&info(9, 0, 0, 0), EntryId(5, 0)), Gap::Trimmed);
    }

    #[test]
    fn trimmed_read_entries_are_no_gap() {
        assert_eq!(gap(&info(5, 0, 0, 0), EntryId(5, 0)), Gap::None);
    }

    #[test]
    fn deleted_unread_entry_is_a_gap() {
        assert_eq!(gap(&info(9, 1, 8, 7), EntryId(5, 0)), Gap::Trimmed);
        assert_eq!(gap(&info(9, 1, 8, 3), EntryId(5, 0)), Gap::None);
    }

    #[test]
    fn stream_behind_the_last_read_entry_restarted() {
        assert_eq!(gap(&info(2, 1, 2, 0), EntryId(5, 0)), Gap::Restarted);
    }

    #[test]
    fn stream_info_parses_from_xinfo() {
        let text = |t: &str| redis::Value::BulkString(t.as_bytes().to_vec());
        let reply = redis::Value::Array(vec![
            text("length"),
            redis::Value::Int(0),
            text("last-generated-id"),
            text("1796418154022-0"),
            text("max-deleted-entry-id"),
            text("0-0"),
            text("recorded-first-entry-id"),
            text("0-0"),
        ]);
        assert_eq!(
            parse_stream_info(&reply).unwrap(),
            StreamInfo {
                last_generated: EntryId(1796418154022, 0),
                max_deleted: EntryId(0, 0),
                first: EntryId(0, 0),
                length: 0,
            }
        );
    }
}
