//! Messages from a view to its subscribers. A change is serialized once per view and
//! shared by all subscribers; a subscriber that falls behind gets its pending changes
//! merged into one message, so its queue stays bounded.

use super::AutoupdateError;
use crate::datastore::Value;
use crate::models::Key;
use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// Changes a subscriber has not taken yet before they are merged into one.
const MAX_QUEUED_DELTAS: usize = 16;

/// One message for subscribers: changed keys with their new values.
pub struct Delta {
    values: Vec<(Key, Value)>,
    json: Bytes,
}

impl Delta {
    /// Creates a delta from values sorted by key.
    pub fn new(values: Vec<(Key, Value)>) -> Delta {
        let json = encode_message(&values);
        Delta { values, json }
    }

    /// Returns the changed keys with their new values, sorted by key.
    pub fn values(&self) -> &[(Key, Value)] {
        &self.values
    }

    /// Returns the message line, serialized once for every subscriber.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// Merges deltas in order; a later value of a key replaces an earlier one.
    fn merge<'a>(deltas: impl IntoIterator<Item = &'a Delta>) -> Delta {
        let mut merged = BTreeMap::new();
        for delta in deltas {
            for (key, value) in &delta.values {
                merged.insert(*key, value.clone());
            }
        }
        Delta::new(merged.into_iter().collect())
    }
}

/// Encodes values as one message line: a JSON object from key to value, then a newline.
/// Missing values are written as `null`.
pub fn encode_message(values: &[(Key, Value)]) -> Bytes {
    let size: usize = values
        .iter()
        .map(|(_, value)| value.as_ref().map_or(4, Bytes::len) + 40)
        .sum();
    let mut out = BytesMut::with_capacity(size + 3);
    out.put_u8(b'{');
    for (index, (key, value)) in values.iter().enumerate() {
        if index > 0 {
            out.put_u8(b',');
        }
        // Collection and field names are plain identifiers and need no escaping.
        out.put_u8(b'"');
        out.put_slice(key.to_string().as_bytes());
        out.put_slice(b"\":");
        match value {
            Some(value) => out.put_slice(value),
            None => out.put_slice(b"null"),
        }
    }
    out.put_slice(b"}\n");
    out.freeze()
}

#[derive(Default)]
struct Queue {
    deltas: Vec<Arc<Delta>>,
    error: Option<AutoupdateError>,
    /// The connection is to move to another view.
    relocate: bool,
    /// Changes of the old view kept from the subscriber when it was asked to move,
    /// each key with the value the subscriber holds.
    withheld: BTreeMap<Key, Value>,
}

/// An item a subscriber takes from its mailbox.
pub(super) enum Event {
    Delta(Arc<Delta>),
    /// The subscriber's user may see something else now; the connection finds its view
    /// again.
    Relocate,
}

/// The queue of messages from a view for one subscriber.
#[derive(Default)]
pub struct Mailbox {
    queue: Mutex<Queue>,
    notify: Notify,
}

impl Mailbox {
    pub fn push(&self, delta: Arc<Delta>) {
        {
            let mut queue = self.queue.lock();
            if queue.deltas.len() >= MAX_QUEUED_DELTAS {
                let merged = Delta::merge(queue.deltas.iter().map(Arc::as_ref));
                queue.deltas.clear();
                queue.deltas.push(Arc::new(merged));
            }
            queue.deltas.push(delta);
        }
        self.notify.notify_one();
    }

    /// Ends the subscription with an error; messages queued before it are still taken.
    pub fn fail(&self, error: AutoupdateError) {
        self.queue.lock().error.get_or_insert(error);
        self.notify.notify_one();
    }

    /// Asks the subscriber to find its view again.
    pub(super) fn relocate(&self) {
        self.queue.lock().relocate = true;
        self.notify.notify_one();
    }

    /// Asks the subscriber to find its view again instead of taking a change of its
    /// current view. `previous` contains each changed key with its value before.
    pub(super) fn relocate_withholding(&self, previous: &[(Key, Value)]) {
        {
            let mut queue = self.queue.lock();
            queue.relocate = true;
            for (key, value) in previous {
                queue.withheld.entry(*key).or_insert_with(|| value.clone());
            }
        }
        self.notify.notify_one();
    }

    /// Takes every queued delta, merged into one, and the withheld changes.
    pub(super) fn take_pending(&self) -> (Option<Delta>, BTreeMap<Key, Value>) {
        let mut queue = self.queue.lock();
        let withheld = std::mem::take(&mut queue.withheld);
        if queue.deltas.is_empty() {
            return (None, withheld);
        }
        let merged = Delta::merge(queue.deltas.iter().map(Arc::as_ref));
        queue.deltas.clear();
        (Some(merged), withheld)
    }

    /// Waits for the next message: every pending change, merged into one line.
    pub async fn next(&self) -> Result<Bytes, AutoupdateError> {
        Ok(self.next_delta().await?.json.clone())
    }

    /// Waits for the next change: every pending delta, merged into one. Requests to
    /// relocate are left to `next_event`.
    pub async fn next_delta(&self) -> Result<Arc<Delta>, AutoupdateError> {
        loop {
            if let Event::Delta(delta) = self.next_event().await? {
                return Ok(delta);
            }
        }
    }

    /// Waits for the next change, error or request to relocate, in that order.
    pub(super) async fn next_event(&self) -> Result<Event, AutoupdateError> {
        loop {
            {
                let mut queue = self.queue.lock();
                match queue.deltas.len() {
                    0 => {}
                    1 => return Ok(Event::Delta(queue.deltas.remove(0))),
                    _ => {
                        let merged = Delta::merge(queue.deltas.iter().map(Arc::as_ref));
                        queue.deltas.clear();
                        return Ok(Event::Delta(Arc::new(merged)));
                    }
                }
                if let Some(error) = &queue.error {
                    return Err(error.clone());
                }
                if std::mem::take(&mut queue.relocate) {
                    return Ok(Event::Relocate);
                }
            }
            // `notify_one` stores a permit when nobody waits, so a push between the check
            // above and this wait is not lost.
            self.notify.notified().await;
        }
    }

    /// The number of queued deltas.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.queue.lock().deltas.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::parse(text).unwrap()
    }

    fn value(text: &str) -> Value {
        Some(Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn encode_writes_one_line() {
        let message = encode_message(&[
            (key("motion/1/title"), value("\"A\"")),
            (key("motion/2/title"), None),
        ]);
        assert_eq!(
            &message[..],
            b"{\"motion/1/title\":\"A\",\"motion/2/title\":null}\n"
        );
        assert_eq!(&encode_message(&[])[..], b"{}\n");
    }

    #[tokio::test]
    async fn mailbox_merges_pending_deltas() {
        let mailbox = Mailbox::default();
        mailbox.push(Arc::new(Delta::new(vec![(
            key("motion/1/title"),
            value("\"A\""),
        )])));
        mailbox.push(Arc::new(Delta::new(vec![
            (key("motion/1/title"), value("\"B\"")),
            (key("motion/2/title"), None),
        ])));

        let message = mailbox.next().await.unwrap();
        assert_eq!(
            &message[..],
            b"{\"motion/1/title\":\"B\",\"motion/2/title\":null}\n"
        );
    }

    #[tokio::test]
    async fn mailbox_stays_bounded_for_slow_reader() {
        let mailbox = Mailbox::default();
        for i in 0..1000 {
            let text = format!("\"{i}\"");
            mailbox.push(Arc::new(Delta::new(vec![(
                key("motion/1/title"),
                value(&text),
            )])));
        }
        assert!(mailbox.queued() <= MAX_QUEUED_DELTAS + 1);

        let message = mailbox.next().await.unwrap();
        assert_eq!(&message[..], b"{\"motion/1/title\":\"999\"}\n");
    }

    #[tokio::test]
    async fn mailbox_wakes_waiting_reader() {
        let mailbox = Arc::new(Mailbox::default());
        let reader = {
            let mailbox = mailbox.clone();
            tokio::spawn(async move { mailbox.next().await })
        };
        tokio::task::yield_now().await;
        mailbox.push(Arc::new(Delta::new(vec![(
            key("motion/1/title"),
            value("\"A\""),
        )])));

        let message = reader.await.unwrap().unwrap();
        assert_eq!(&message[..], b"{\"motion/1/title\":\"A\"}\n");
    }

    #[tokio::test]
    async fn mailbox_returns_error_after_queued_messages() {
        let mailbox = Mailbox::default();
        mailbox.push(Arc::new(Delta::new(vec![(
            key("motion/1/title"),
            value("\"A\""),
        )])));
        mailbox.fail(AutoupdateError::Datastore(
            crate::datastore::DatastoreError::Query("gone".into()),
        ));

        assert!(mailbox.next().await.is_ok());
        assert!(mailbox.next().await.is_err());
    }
}
