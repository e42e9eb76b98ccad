//! A bound on how many connections compute their first message at the same time, so
//! that when many clients connect at once, such as after a restart, the first of them
//! get their data soon instead of all progressing slowly together.

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
        // The semaphore is never closed, so acquiring never fails.
        Ok(self.permits.clone().acquire_owned().await.ok())
    }
}
