//! `Repeats`: lets a warning that repeats during an outage through once per interval, and
//! counts the ones it held back, so that a health check every second or a client that
//! retries does not fill the log.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// How often one kind of warning is logged during an outage.
pub const WARNING_INTERVAL: Duration = Duration::from_secs(30);

/// The state of one kind of warning.
pub struct Repeats {
    interval: Duration,
    state: Mutex<RepeatState>,
}

#[derive(Default)]
struct RepeatState {
    last: Option<Instant>,
    held_back: u64,
}

impl Repeats {
    pub const fn new(interval: Duration) -> Repeats {
        Repeats {
            interval,
            state: Mutex::new(RepeatState {
                last: None,
                held_back: 0,
            }),
        }
    }

    /// Returns `Some(held back)` when the warning is to be logged now, with the number of
    /// warnings held back since the last one, and `None` when it is held back.
    pub fn check(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock();
        let due = state
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if !due {
            state.held_back += 1;
            return None;
        }
        state.last = Some(now);
        Some(std::mem::take(&mut state.held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_pass_once_per_interval() {
        let repeats = Repeats::new(Duration::from_secs(30));
        let start = Instant::now();
        assert_eq!(repeats.check(start), Some(0));
        assert_eq!(repeats.check(start + Duration::from_secs(1)), None);
        assert_eq!(repeats.check(start + Duration::from_secs(29)), None);
        assert_eq!(repeats.check(start + Duration::from_secs(30)), Some(2));
        assert_eq!(repeats.check(start + Duration::from_secs(31)), None);
        assert_eq!(repeats.check(start + Duration::from_secs(90)), Some(1));
    }
}
