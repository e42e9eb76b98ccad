//! Sessions that were logged out, read from the Redis stream `logout`. A logged-out
//! session's requests are rejected and its open streams end.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a logout is remembered. Access tokens of OpenSlides live for ten minutes, so
/// a token of a logged-out session has expired by then, and refreshing it fails at the
/// auth service.
pub const REMEMBER_LOGOUTS: Duration = Duration::from_secs(15 * 60);

struct Session {
    logged_out_at: Option<Instant>,
    /// Turns true on logout; each open stream of the session holds a receiver.
    ended: watch::Sender<bool>,
}

/// The sessions that were logged out, and the open streams of each session.
#[derive(Clone, Default)]
pub struct Logouts {
    sessions: Arc<Mutex<HashMap<String, Session>>>,
}

impl Logouts {
    /// Marks a session as logged out and ends its streams.
    pub fn log_out(&self, session_id: &str) {
        if session_id.is_empty() {
            return;
        }
        let mut sessions = self.sessions.lock();
        let session = sessions
            .entry(session_id.to_string())
            .or_insert_with(|| Session {
                logged_out_at: None,
                ended: watch::channel(false).0,
            });
        session.logged_out_at = Some(Instant::now());
        session.ended.send_replace(true);
    }

    pub fn is_logged_out(&self, session_id: &str) -> bool {
        self.sessions
            .lock()
            .get(session_id)
            .is_some_and(|session| session.logged_out_at.is_some())
    }

    /// A receiver that turns true when the session is logged out; it is true already
    /// when the logout came first.
    pub fn watch(&self, session_id: &str) -> watch::Receiver<bool> {
        let mut sessions = self.sessions.lock();
        sessions
            .entry(session_id.to_string())
            .or_insert_with(|| Session {
                logged_out_at: None,
                ended: watch::channel(false).0,
            })
            .ended
            .subscribe()
    }

    /// Forgets logouts older than `REMEMBER_LOGOUTS` and sessions without open streams.
    pub fn prune(&self) {
        self.sessions
            .lock()
            .retain(|_, session| match session.logged_out_at {
                Some(at) => at.elapsed() < REMEMBER_LOGOUTS,
                None => session.ended.receiver_count() > 0,
            });
    }

    /// The number of sessions held.
    pub fn len(&self) -> usize {
        self.sessions.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_ends_watchers() {
        let logouts = Logouts::default();
        let mut before = logouts.watch("s1");
        assert!(!*before.borrow_and_update());

        logouts.log_out("s1");

        assert!(*before.borrow());
        assert!(logouts.is_logged_out("s1"));
        assert!(
            *logouts.watch("s1").borrow(),
            "a later watcher sees the logout"
        );
        assert!(!logouts.is_logged_out("s2"));
    }

    #[test]
    fn prune_keeps_recent_logouts_and_open_sessions() {
        let logouts = Logouts::default();
        logouts.log_out("gone");
        let open = logouts.watch("open");
        drop(logouts.watch("closed"));

        logouts.prune();

        assert!(logouts.is_logged_out("gone"));
        assert_eq!(logouts.len(), 2);
        drop(open);
        logouts.prune();
        assert_eq!(logouts.len(), 1);
    }

    #[test]
    fn empty_session_id_is_never_logged_out() {
        let logouts = Logouts::default();
        logouts.log_out("");
        assert!(!logouts.is_logged_out(""));
    }
}
