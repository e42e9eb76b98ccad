//! Open connections per user, counted apart for streams and long polling. Each instance
//! saves its counts to Redis every save interval, so that every instance can sum the
//! counts of all instances that share the Redis server.
//!
//! Redis layout, as in the Go service: the hash `metric-<name>-values` maps an instance
//! id to that instance's counts as JSON (`{"<user_id>": count}`), and the hash
//! `metric-<name>-timestamp` maps it to the Unix time of its last save. Instances whose
//! last save is older than twice the save interval are ignored.

use crate::messagebus::RedisConfig;
use parking_lot::Mutex;
use rand::Rng;
use redis::aio::MultiplexedConnection;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::task::JoinHandle;

/// Open connections per user id; user 0 is public access. An entry stays, at zero,
/// after the last connection of its user ends, so the number of entries is the number
/// of users connected since the instance started.
pub type Counts = BTreeMap<u64, i64>;

/// A kind of connection, counted on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionKind {
    Stream,
    LongPolling,
}

impl ConnectionKind {
    pub const ALL: [ConnectionKind; 2] = [ConnectionKind::Stream, ConnectionKind::LongPolling];

    /// Returns the name used in the Redis keys and as the prefix of the metric names.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionKind::Stream => "connections_stream",
            ConnectionKind::LongPolling => "connections_longpolling",
        }
    }

    fn index(self) -> usize {
        match self {
            ConnectionKind::Stream => 0,
            ConnectionKind::LongPolling => 1,
        }
    }
}

/// Counts the open connections of this instance and, with Redis, reads the counts of
/// all instances. Cheap to clone.
#[derive(Clone)]
pub struct ConnectionCounter {
    inner: Arc<Inner>,
}

struct Inner {
    local: [Mutex<Counts>; 2],
    store: Option<RedisStore>,
}

impl ConnectionCounter {
    /// Creates a counter that keeps its counts in this instance only.
    pub fn local() -> ConnectionCounter {
        ConnectionCounter::new(None)
    }

    /// Creates a counter that shares its counts through Redis, where `spawn_saver` saves
    /// them. Saves of other instances older than `2 * save_interval` are ignored.
    pub fn with_redis(redis: RedisConfig, save_interval: Duration) -> ConnectionCounter {
        ConnectionCounter::new(Some(RedisStore {
            redis,
            instance_id: instance_id(SystemTime::now()),
            max_age: save_interval * 2,
            connection: tokio::sync::Mutex::new(None),
        }))
    }

    fn new(store: Option<RedisStore>) -> ConnectionCounter {
        ConnectionCounter {
            inner: Arc::new(Inner {
                local: [Mutex::default(), Mutex::default()],
                store,
            }),
        }
    }

    /// Checks whether the counts are shared through Redis.
    pub fn uses_redis(&self) -> bool {
        self.inner.store.is_some()
    }

    /// Returns the id under which this instance saves its counts, when it uses Redis.
    pub fn instance_id(&self) -> Option<&str> {
        self.inner.store.as_ref().map(|s| s.instance_id.as_str())
    }

    /// Counts one open connection of the user until the returned guard is dropped.
    pub fn open(&self, kind: ConnectionKind, user_id: u64) -> CountGuard {
        self.add(kind, user_id, 1);
        CountGuard {
            counter: self.clone(),
            kind,
            user_id,
        }
    }

    fn add(&self, kind: ConnectionKind, user_id: u64, amount: i64) {
        *self.inner.local[kind.index()]
            .lock()
            .entry(user_id)
            .or_default() += amount;
    }

    /// Returns the counts of this instance.
    pub fn local_counts(&self, kind: ConnectionKind) -> Counts {
        self.inner.local[kind.index()].lock().clone()
    }

    /// Returns the counts of all instances: the saved counts of the other instances in
    /// Redis plus the current counts of this one. Without Redis, or while Redis cannot be
    /// read, only this instance's.
    pub async fn counts(&self, kind: ConnectionKind) -> redis::RedisResult<Counts> {
        let mut counts = match &self.inner.store {
            Some(store) => match store.read_others(kind).await {
                Ok(counts) => counts,
                Err(error) => {
                    tracing::warn!(%error, "reading the connection counts of other instances from Redis failed; counting this instance only");
                    Counts::new()
                }
            },
            None => Counts::new(),
        };
        for (user_id, count) in self.local_counts(kind) {
            *counts.entry(user_id).or_default() += count;
        }
        Ok(counts)
    }

    /// Saves this instance's counts of both kinds to Redis. Does nothing without Redis.
    pub async fn save(&self) -> redis::RedisResult<()> {
        let Some(store) = &self.inner.store else {
            return Ok(());
        };
        for kind in ConnectionKind::ALL {
            store.save(kind, &self.local_counts(kind)).await?;
        }
        Ok(())
    }

    /// Saves the counts now and then every `interval`, until the task is aborted.
    /// Returns `None` without Redis.
    pub fn spawn_saver(&self, interval: Duration) -> Option<JoinHandle<()>> {
        self.inner.store.as_ref()?;
        let counter = self.clone();
        Some(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Failures in a row. An outage logs once, then every 20th failure.
            let mut failures = 0u32;
            loop {
                ticker.tick().await;
                match counter.save().await {
                    Ok(()) => failures = 0,
                    Err(error) => {
                        failures += 1;
                        if failures == 1 || failures.is_multiple_of(20) {
                            tracing::warn!(%error, failures, "saving the connection count to Redis failed");
                        }
                    }
                }
            }
        }))
    }
}

/// One counted connection; dropping it ends the count.
pub struct CountGuard {
    counter: ConnectionCounter,
    kind: ConnectionKind,
    user_id: u64,
}

impl Drop for CountGuard {
    fn drop(&mut self) {
        self.counter.add(self.kind, self.user_id, -1);
    }
}

/// The Redis hashes of one service instance.
struct RedisStore {
    redis: RedisConfig,
    instance_id: String,
    /// Saves older than this are ignored.
    max_age: Duration,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl RedisStore {
    fn values_key(kind: ConnectionKind) -> String {
        format!("metric-{}-values", kind.name())
    }

    fn timestamp_key(kind: ConnectionKind) -> String {
        format!("metric-{}-timestamp", kind.name())
    }

    /// Runs a command on the shared connection. A failed command drops the connection,
    /// so that the next command connects again.
    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> redis::RedisResult<T> {
        let mut slot = self.connection.lock().await;
        let mut connection = match slot.as_ref() {
            Some(connection) => connection.clone(),
            None => {
                let connection = self.redis.connect().await?;
                *slot = Some(connection.clone());
                connection
            }
        };
        drop(slot);
        let result = command.query_async(&mut connection).await;
        if result.is_err() {
            *self.connection.lock().await = None;
        }
        result
    }

    async fn save(&self, kind: ConnectionKind, counts: &Counts) -> redis::RedisResult<()> {
        let value = serde_json::to_string(counts).unwrap_or_else(|_| "{}".to_string());
        let mut set_value = redis::cmd("HSET");
        set_value
            .arg(RedisStore::values_key(kind))
            .arg(&self.instance_id)
            .arg(value);
        self.query::<()>(&set_value).await?;
        let mut set_time = redis::cmd("HSET");
        set_time
            .arg(RedisStore::timestamp_key(kind))
            .arg(&self.instance_id)
            .arg(unix_seconds(SystemTime::now()));
        self.query::<()>(&set_time).await
    }

    /// Sums the saved counts of every other instance whose last save is recent enough.
    async fn read_others(&self, kind: ConnectionKind) -> redis::RedisResult<Counts> {
        let values: HashMap<String, String> = self
            .query(redis::cmd("HGETALL").arg(RedisStore::values_key(kind)))
            .await?;
        let timestamps: HashMap<String, i64> = self
            .query(redis::cmd("HGETALL").arg(RedisStore::timestamp_key(kind)))
            .await?;
        let oldest = unix_seconds(SystemTime::now()) - self.max_age.as_secs() as i64;
        let mut sum = Counts::new();
        for (instance, saved_at) in timestamps {
            if saved_at < oldest || instance == self.instance_id {
                continue;
            }
            let Some(value) = values.get(&instance) else {
                continue;
            };
            match serde_json::from_str::<Counts>(value) {
                Ok(counts) => {
                    for (user_id, count) in counts {
                        *sum.entry(user_id).or_default() += count;
                    }
                }
                Err(error) => {
                    tracing::warn!(%instance, %error, "skipping invalid connection count in Redis");
                }
            }
        }
        Ok(sum)
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// Builds an instance id from the start time in UTC and eight random letters or digits,
/// such as `2024-05-01T12:00:00-a8Fk2LqZ`.
fn instance_id(start: SystemTime) -> String {
    let seconds = unix_seconds(start);
    let (year, month, day) = civil_date(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    let suffix: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}-{suffix}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day), with
/// Howard Hinnant's `civil_from_days` algorithm.
fn civil_date(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_id_has_utc_start_time() {
        let start = UNIX_EPOCH + Duration::from_secs(1_714_564_800 + 3_723);
        let id = instance_id(start);
        assert!(id.starts_with("2024-05-01T13:02:03-"), "{id}");
        assert_eq!(id.len(), "2024-05-01T13:02:03-".len() + 8, "{id}");
        assert!(id[20..].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    }

    #[test]
    fn civil_date_handles_leap_days() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(19_782), (2024, 2, 29));
        assert_eq!(civil_date(-1), (1969, 12, 31));
    }

    #[test]
    fn guard_counts_until_dropped() {
        let counter = ConnectionCounter::local();
        let first = counter.open(ConnectionKind::Stream, 5);
        let second = counter.open(ConnectionKind::Stream, 5);
        let polling = counter.open(ConnectionKind::LongPolling, 5);
        assert_eq!(counter.local_counts(ConnectionKind::Stream)[&5], 2);
        assert_eq!(counter.local_counts(ConnectionKind::LongPolling)[&5], 1);
        drop(first);
        drop(second);
        drop(polling);
        assert_eq!(counter.local_counts(ConnectionKind::Stream)[&5], 0);
        assert_eq!(counter.local_counts(ConnectionKind::LongPolling)[&5], 0);
    }
}
