//! The calculated field `poll/has_voted_user_ids`: which users voted in a running poll.
//! The vote service stores it, not the datastore. One streaming request to the vote
//! service keeps a copy in memory, and every change reaches open streams as a changed key.
//!
//! The OpenSlides vote service (openslides-vote-service) sends one JSON object per
//! message, poll id -> user ids. The first message of a connection names every running
//! poll with all its voters. Later ones name only users who voted since, and `null` for
//! a poll that is no longer running.

use crate::autoupdate::Autoupdate;
use crate::datastore::Value;
use crate::models::collections::Poll;
use crate::models::{Id, Key, MAX_ID};
use bytes::Bytes;
use hashbrown::{HashMap, HashSet};
use parking_lot::RwLock;
use std::time::Duration;

/// The vote service's route that streams the voted user ids of every running poll.
pub const ALL_VOTED_IDS_PATH: &str = "/internal/vote/all_voted_ids";

/// How long the reader waits before it connects again after the stream ended or failed.
pub const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// How long opening the connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Returns whether the key is a `poll/has_voted_user_ids` key.
pub fn is_has_voted(key: Key) -> bool {
    key.field() == Poll::HAS_VOTED_USER_IDS.id()
}

/// One message of the vote service: poll id -> user ids, `None` for a poll that ended.
type Message = std::collections::HashMap<String, Option<Vec<Id>>>;

/// The voted user ids of each running poll, as last sent by the vote service.
#[derive(Default)]
pub struct VoteState {
    polls: RwLock<HashMap<Id, Vec<Id>>>,
}

impl VoteState {
    /// Returns the value of `poll/has_voted_user_ids` for each poll id: a JSON list, or
    /// `None` for a poll the vote service did not name. It reads only memory, so it never
    /// waits for the vote service.
    pub fn get(&self, poll_ids: &[Id]) -> Vec<Value> {
        let polls = self.polls.read();
        poll_ids
            .iter()
            .map(|id| {
                let users = polls.get(id)?;
                serde_json::to_vec(users).ok().map(Bytes::from)
            })
            .collect()
    }

    /// Replaces the whole state with `message`, the first message of a new connection,
    /// and returns the keys whose value changed, including polls that are gone.
    fn replace(&self, message: Message) -> Result<Vec<(Key, Value)>, VoteError> {
        let parsed = parse(message)?;
        let mut polls = self.polls.write();
        let mut changed: Vec<Id> = polls
            .keys()
            .filter(|id| !parsed.contains_key(*id))
            .copied()
            .collect();
        let mut fresh: HashMap<Id, Vec<Id>> = HashMap::with_capacity(parsed.len());
        for (poll, users) in parsed {
            let Some(users) = users else { continue };
            let users = distinct(users);
            if polls.get(&poll) != Some(&users) {
                changed.push(poll);
            }
            fresh.insert(poll, users);
        }
        *polls = fresh;
        Ok(changes(&polls, changed))
    }

    /// Adds the user ids of `message` to their polls and removes the polls set to `null`,
    /// and returns the keys whose value changed.
    fn merge(&self, message: Message) -> Result<Vec<(Key, Value)>, VoteError> {
        let parsed = parse(message)?;
        let mut polls = self.polls.write();
        let mut changed = Vec::new();
        for (poll, users) in parsed {
            match users {
                None => {
                    if polls.remove(&poll).is_some() {
                        changed.push(poll);
                    }
                }
                Some(users) => {
                    // A poll named for the first time is a change even without users.
                    let is_new = !polls.contains_key(&poll);
                    let known = polls.entry(poll).or_default();
                    let before = known.len();
                    let mut seen: HashSet<Id> = known.iter().copied().collect();
                    known.extend(users.into_iter().filter(|user| seen.insert(*user)));
                    if is_new || known.len() != before {
                        changed.push(poll);
                    }
                }
            }
        }
        Ok(changes(&polls, changed))
    }
}

/// Parses the poll ids of a message, which JSON sends as object keys.
fn parse(message: Message) -> Result<HashMap<Id, Option<Vec<Id>>>, VoteError> {
    message
        .into_iter()
        .map(|(poll, users)| match poll.parse::<Id>() {
            Ok(id) if id > 0 && id <= MAX_ID => Ok((id, users)),
            _ => Err(VoteError::Message(format!("invalid poll id {poll:?}"))),
        })
        .collect()
}

/// Drops repeated user ids and keeps the first position of each.
fn distinct(users: Vec<Id>) -> Vec<Id> {
    let mut seen = HashSet::with_capacity(users.len());
    users
        .into_iter()
        .filter(|user| seen.insert(*user))
        .collect()
}

/// Builds the changed keys with their current values, sorted by poll id.
fn changes(polls: &HashMap<Id, Vec<Id>>, mut changed: Vec<Id>) -> Vec<(Key, Value)> {
    changed.sort_unstable();
    changed.dedup();
    changed
        .into_iter()
        .map(|poll| {
            let value = polls
                .get(&poll)
                .and_then(|users| serde_json::to_vec(users).ok())
                .map(Bytes::from);
            (Poll::HAS_VOTED_USER_IDS.key(poll), value)
        })
        .collect()
}

/// A failure of one connection to the vote service.
#[derive(Debug, thiserror::Error)]
enum VoteError {
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("unexpected status {0}")]
    Status(reqwest::StatusCode),
    #[error("invalid message: {0}")]
    Message(String),
}

/// Follows the vote service at `base_url` (such as `http://localhost:9013`) and hands every
/// change to `autoupdate`. After the stream ends or fails it connects again after
/// `RECONNECT_DELAY`, and the first message of the new stream replaces the state. Runs
/// until the task is dropped.
pub async fn run(base_url: String, autoupdate: Autoupdate) {
    let url = format!("{}{ALL_VOTED_IDS_PATH}", base_url.trim_end_matches('/'));
    let client = match reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "failed to build the HTTP client for the vote service, so poll/has_voted_user_ids stays empty");
            return;
        }
    };

    // Only the first of a series of failures is a warning, so that a vote service that
    // is down for long does not fill the log once per second.
    let mut failures: u64 = 0;
    loop {
        let mut connected = false;
        let result = follow(&client, &url, &autoupdate, &mut connected).await;
        if connected {
            failures = 0;
        }
        match result {
            Ok(()) => tracing::info!(%url, "the vote service ended the stream; reconnecting"),
            Err(error) if failures == 0 => {
                tracing::warn!(%url, %error, "vote service connection failed; retrying every {RECONNECT_DELAY:?}")
            }
            Err(error) => tracing::debug!(%url, %error, failures, "vote service still unreachable"),
        }
        failures += 1;
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// Reads one stream until it ends. Sets `connected` once the first message arrived.
async fn follow(
    client: &reqwest::Client,
    url: &str,
    autoupdate: &Autoupdate,
    connected: &mut bool,
) -> Result<(), VoteError> {
    let mut response = client.get(url).send().await?;
    if !response.status().is_success() {
        return Err(VoteError::Status(response.status()));
    }

    let state = autoupdate.votes();
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        buffer.extend_from_slice(&chunk);
        // The messages are JSON objects, one per line. Reading them as a sequence of JSON
        // values also accepts messages without newlines between them.
        // A bare `null` is an empty message.
        let mut messages =
            serde_json::Deserializer::from_slice(&buffer).into_iter::<Option<Message>>();
        let mut consumed = 0;
        loop {
            match messages.next() {
                None => break,
                Some(Ok(message)) => {
                    consumed = messages.byte_offset();
                    let message = message.unwrap_or_default();
                    let changes = if *connected {
                        state.merge(message)?
                    } else {
                        tracing::info!(%url, polls = message.len(), "connected to the vote service");
                        *connected = true;
                        state.replace(message)?
                    };
                    if !changes.is_empty() {
                        autoupdate.apply_update(&changes);
                    }
                }
                Some(Err(error)) if error.is_eof() => break,
                Some(Err(error)) => return Err(VoteError::Message(error.to_string())),
            }
        }
        buffer.drain(..consumed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: &str) -> Message {
        serde_json::from_str(json).unwrap()
    }

    fn text(value: &Value) -> Option<&str> {
        value
            .as_deref()
            .map(|bytes| std::str::from_utf8(bytes).unwrap())
    }

    #[test]
    fn replace_reports_removed_polls() {
        let state = VoteState::default();
        let changes = state
            .replace(message(r#"{"1": [5, 6], "2": [7]}"#))
            .unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(text(&state.get(&[1])[0]), Some("[5,6]"));

        let changes = state.replace(message(r#"{"1": [5, 6]}"#)).unwrap();
        assert_eq!(changes.len(), 1, "only poll 2 changed");
        assert_eq!(changes[0].0, Poll::HAS_VOTED_USER_IDS.key(2));
        assert_eq!(changes[0].1, None);
    }

    #[test]
    fn merge_appends_new_users() {
        let state = VoteState::default();
        state.replace(message(r#"{"1": [5]}"#)).unwrap();
        let changes = state.merge(message(r#"{"1": [5, 6]}"#)).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(text(&changes[0].1), Some("[5,6]"));
        assert!(state.merge(message(r#"{"1": [6]}"#)).unwrap().is_empty());
    }

    #[test]
    fn merge_null_removes_poll() {
        let state = VoteState::default();
        state.replace(message(r#"{"1": [5], "3": []}"#)).unwrap();
        assert_eq!(text(&state.get(&[3])[0]), Some("[]"));
        let changes = state.merge(message(r#"{"1": null, "2": null}"#)).unwrap();
        assert_eq!(changes, vec![(Poll::HAS_VOTED_USER_IDS.key(1), None)]);
        assert_eq!(state.get(&[1, 2]), vec![None, None]);
    }

    #[test]
    fn merge_rejects_invalid_poll_id() {
        let state = VoteState::default();
        assert!(state.merge(message(r#"{"abc": [1]}"#)).is_err());
        assert!(state.merge(message(r#"{"0": [1]}"#)).is_err());
    }
}
