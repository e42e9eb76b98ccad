//! A bound on how many connections compute their first answer at the same time, so
//! that many clients connecting at once (after a restart, say) share the CPU instead of
//! all waiting for the last answer.

use crate::datastore::Datastore;
use crate::restrict::{meeting_admin, RestrictError};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The permits for first answers. Cheap to clone.
#[derive(Clone)]
pub struct WorkPool {
    permits: Arc<Semaphore>,
    size: usize,
}

impl WorkPool {
    /// A pool of `size` permits; 0 means one per CPU core.
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

    /// Waits for a permit for one first answer of `user_id`, to be held until the
    /// answer is computed. Admins of a meeting get `None` at once and skip the bound, as
    /// in the Go service, so that they can still act when many members connect.
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
        // The semaphore is never closed, so acquiring never fails.
        Ok(self.permits.clone().acquire_owned().await.ok())
    }
}
