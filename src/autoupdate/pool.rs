//! A bound on how many connections compute their first message at the same time. When
//! many clients connect at once, such as after a restart, the first of them get their
//! data soon instead of all progressing slowly together.

use crate::datastore::Datastore;
use crate::restrict::{meeting_admin, RestrictError};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The permits for first messages. Cheap to clone.
#[derive(Clone)]
pub struct WorkPool {
    permits: Arc<Semaphore>,
    size: usize,
}

impl WorkPool {
    /// Creates a pool of `size` permits, or of one per CPU core when `size` is 0.
    pub fn new(size: usize) -> WorkPool {
        let size = if size == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            size
        };
        WorkPool {
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// Returns the number of permits.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Waits for a permit to compute one first message for `user_id`, to be held until
    /// the message is computed. Admins of a meeting get `None` at once and skip the
    /// bound, as in the Go service.
    pub async fn enter(
        &self,
        datastore: Arc<Datastore>,
        user_id: u64,
    ) -> Result<Option<OwnedSemaphorePermit>, RestrictError> {
        if !meeting_admin::admin_meetings(datastore, user_id)
            .await?
            .is_empty()
        {
            return Ok(None);
        }
        // Acquiring fails only on a closed semaphore, and this module never closes it.
        Ok(self.permits.clone().acquire_owned().await.ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datastore::MemorySource;
    use std::time::Duration;

    /// User 1 is in the admin group of meeting 1, user 2 in its default group.
    fn datastore() -> Arc<Datastore> {
        let export = serde_json::json!({
            "user": {"1": {"id": 1, "meeting_user_ids": [1]}, "2": {"id": 2, "meeting_user_ids": [2]}},
            "meeting_user": {
                "1": {"id": 1, "user_id": 1, "meeting_id": 1, "group_ids": [1]},
                "2": {"id": 2, "user_id": 2, "meeting_id": 1, "group_ids": [2]}
            },
            "group": {
                "1": {"id": 1, "meeting_id": 1, "admin_group_for_meeting_id": 1},
                "2": {"id": 2, "meeting_id": 1}
            },
            "meeting": {"1": {"id": 1, "admin_group_id": 1, "group_ids": [1, 2]}}
        });
        Arc::new(Datastore::new(Arc::new(MemorySource::from_export(&export))))
    }

    #[tokio::test]
    async fn pool_waits_for_free_permit() {
        let pool = WorkPool::new(1);
        let datastore = datastore();
        let permit = pool.enter(datastore.clone(), 2).await.unwrap();
        assert!(permit.is_some());

        let waiting = pool.enter(datastore.clone(), 0);
        let blocked = tokio::time::timeout(Duration::from_millis(100), waiting).await;
        assert!(blocked.is_err(), "a second permit was granted");

        drop(permit);
        let next = tokio::time::timeout(Duration::from_secs(1), pool.enter(datastore, 0))
            .await
            .expect("a permit after the first is dropped")
            .unwrap();
        assert!(next.is_some());
    }

    #[tokio::test]
    async fn pool_lets_meeting_admin_pass() {
        let pool = WorkPool::new(1);
        let datastore = datastore();
        let _permit = pool.enter(datastore.clone(), 2).await.unwrap();

        let admin = tokio::time::timeout(Duration::from_millis(100), pool.enter(datastore, 1))
            .await
            .expect("an admin does not wait")
            .unwrap();
        assert!(admin.is_none());
    }

    #[test]
    fn pool_size_zero_means_cores() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(WorkPool::new(0).size(), cores);
        assert_eq!(WorkPool::new(3).size(), 3);
    }
}
