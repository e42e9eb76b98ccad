//! Operational numbers: open connections per user (`connection_count`), who may see
//! them, and the metric line the service logs every `METRIC_INTERVAL`.

pub mod connection_count;

pub use connection_count::{ConnectionCounter, ConnectionKind, CountGuard, Counts};

use crate::datastore::Datastore;
use crate::restrict::{meeting_admin, RestrictError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Reading the connection count failed.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    #[error("reading the connection count from Redis failed: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("checking the permission to see the connection count failed: {0}")]
    Permission(#[from] RestrictError),
}

/// Returns the open connections of both kinds per user, summed over all instances, as
/// far as the user may see them. `None`: the user may not see the connection count.
///
/// Organization managers (`can_manage_organization` or higher) see every user. Admins
/// of meetings see the members of those meetings, without public access. Users with
/// no open connection are left out.
pub async fn visible_connection_count(
    counter: &ConnectionCounter,
    datastore: Arc<Datastore>,
    user_id: u64,
) -> Result<Option<Counts>, CountError> {
    if user_id == 0 {
        return Ok(None);
    }
    let members = if meeting_admin::manages_organization(datastore.clone(), user_id).await? {
        None
    } else {
        let meetings = meeting_admin::admin_meetings(datastore.clone(), user_id).await?;
        if meetings.is_empty() {
            return Ok(None);
        }
        Some(meeting_admin::meeting_members(datastore, &meetings).await?)
    };

    let mut total = Counts::new();
    for kind in ConnectionKind::ALL {
        for (user, count) in counter.counts(kind).await? {
            *total.entry(user).or_default() += count;
        }
    }
    total.retain(|user, count| {
        *count > 0
            && members
                .as_ref()
                .is_none_or(|members| members.contains(user))
    });
    Ok(Some(total))
}

/// Adds the metric values of one kind of connection to `values`. `all` is the count of
/// all instances, `local` that of this instance. The names are those the OpenSlides
/// documentation lists for the Go service.
pub fn add_connection_metrics(
    values: &mut BTreeMap<String, i64>,
    kind: ConnectionKind,
    all: &Counts,
    local: &Counts,
) {
    let name = kind.name();
    let open: Vec<(u64, i64)> = all
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(user, count)| (*user, *count))
        .collect();
    let logged_in: Vec<i64> = open
        .iter()
        .filter(|(user, _)| *user != 0)
        .map(|(_, count)| *count)
        .collect();
    let average = if logged_in.is_empty() {
        0
    } else {
        logged_in.iter().sum::<i64>() / logged_in.len() as i64
    };
    let mut add = |suffix: &str, value: i64| {
        values.insert(format!("{name}_{suffix}"), value);
    };
    add("connected_users_current", open.len() as i64);
    add("connected_users_total", all.len() as i64);
    add("connected_users_average_connections", average);
    add(
        "connected_connections_public_access",
        all.get(&0).copied().unwrap_or(0).max(0),
    );
    add("current_connections", open.iter().map(|(_, c)| c).sum());

    let local_open: Vec<i64> = local.values().copied().filter(|c| *c > 0).collect();
    add("connected_users_current_local", local_open.len() as i64);
    add("connected_users_total_local", local.len() as i64);
    add("current_connections_local", local_open.iter().sum());
}

/// Gathers every metric value: the connections of both kinds, the datastore cache and
/// the number of alive tasks of the Tokio runtime (the Go service logs its goroutines
/// as `runtime_goroutines` instead).
pub async fn gather(counter: &ConnectionCounter, datastore: &Datastore) -> BTreeMap<String, i64> {
    let mut values = BTreeMap::new();
    for kind in ConnectionKind::ALL {
        let local = counter.local_counts(kind);
        match counter.counts(kind).await {
            Ok(all) => add_connection_metrics(&mut values, kind, &all, &local),
            Err(error) => {
                tracing::warn!(%error, "reading the connection count for the metric failed; logging this instance's count");
                add_connection_metrics(&mut values, kind, &local, &local);
            }
        }
    }
    values.insert("datastore_cache_key_len".into(), datastore.len() as i64);
    values.insert("datastore_cache_size".into(), datastore.size() as i64);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let tasks = runtime.metrics().num_alive_tasks();
        values.insert("runtime_tasks".into(), tasks as i64);
    }
    values
}

/// Logs the metric values as one JSON object every `interval`, until the task is
/// aborted. The first line comes after one interval.
pub fn spawn_metric_log(
    counter: ConnectionCounter,
    datastore: Arc<Datastore>,
    interval: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let values = gather(&counter, &datastore).await;
            match serde_json::to_string(&values) {
                Ok(line) => tracing::info!("Metric: {line}"),
                Err(error) => tracing::warn!(%error, "encoding the metric failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metric names of the OpenSlides documentation for the Go service, with
    /// `runtime_tasks` in place of `runtime_goroutines`.
    const DOCUMENTED_KEYS: &[&str] = &[
        "connections_longpolling_connected_connections_public_access",
        "connections_longpolling_connected_users_average_connections",
        "connections_longpolling_connected_users_current",
        "connections_longpolling_connected_users_current_local",
        "connections_longpolling_connected_users_total",
        "connections_longpolling_connected_users_total_local",
        "connections_longpolling_current_connections",
        "connections_longpolling_current_connections_local",
        "connections_stream_connected_connections_public_access",
        "connections_stream_connected_users_average_connections",
        "connections_stream_connected_users_current",
        "connections_stream_connected_users_current_local",
        "connections_stream_connected_users_total",
        "connections_stream_connected_users_total_local",
        "connections_stream_current_connections",
        "connections_stream_current_connections_local",
        "datastore_cache_key_len",
        "datastore_cache_size",
        "runtime_tasks",
    ];

    fn counts(pairs: &[(u64, i64)]) -> Counts {
        pairs.iter().copied().collect()
    }

    #[tokio::test]
    async fn metric_has_exactly_documented_keys() {
        let counter = ConnectionCounter::local();
        let _stream = counter.open(ConnectionKind::Stream, 1);
        let datastore = Datastore::new(Arc::new(crate::datastore::MemorySource::default()));
        let task = tokio::spawn(std::future::pending::<()>());
        let values = gather(&counter, &datastore).await;
        task.abort();
        let keys: Vec<&str> = values.keys().map(String::as_str).collect();
        assert_eq!(keys, DOCUMENTED_KEYS);
        assert!(values["runtime_tasks"] >= 1);
    }

    #[test]
    fn metric_values_of_all_and_local_counts() {
        let mut values = BTreeMap::new();
        // User 0 is public access, user 3's connections all ended.
        let all = counts(&[(0, 15), (1, 4), (2, 3), (3, 0), (4, 2)]);
        let local = counts(&[(0, 5), (1, 4), (3, 0)]);
        add_connection_metrics(&mut values, ConnectionKind::Stream, &all, &local);
        let get = |name: &str| values[&format!("connections_stream_{name}")];
        assert_eq!(get("connected_users_current"), 4);
        assert_eq!(get("connected_users_total"), 5);
        assert_eq!(get("connected_users_average_connections"), 3);
        assert_eq!(get("connected_connections_public_access"), 15);
        assert_eq!(get("current_connections"), 24);
        assert_eq!(get("connected_users_current_local"), 2);
        assert_eq!(get("connected_users_total_local"), 3);
        assert_eq!(get("current_connections_local"), 9);
    }

    #[test]
    fn metric_values_without_connections_are_zero() {
        let mut values = BTreeMap::new();
        add_connection_metrics(
            &mut values,
            ConnectionKind::LongPolling,
            &Counts::new(),
            &Counts::new(),
        );
        assert_eq!(values.len(), 8);
        assert!(values.values().all(|value| *value == 0), "{values:?}");
    }
}
