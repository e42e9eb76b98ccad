//! The restriction stage: which values a user may see. Every value passes it before it
//! reaches a view, and relations are followed only through what it lets through.

pub mod permission;

use crate::datastore::Value;
use crate::models::Key;
use futures::future::BoxFuture;

/// Who a view is computed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Viewer {
    /// The user id; 0 is public access.
    pub user_id: u64,
}

/// Restricting values failed, for example because the datastore could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("restrict values: {0}")]
pub struct RestrictError(pub String);

/// Decides which values a viewer may see.
pub trait Restricter: Send + Sync + 'static {
    /// Replaces each value the viewer may not see by `None`.
    fn restrict<'a>(
        &'a self,
        viewer: Viewer,
        values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<(), RestrictError>>;
}

/// Lets every value through. Used while the service runs with `AUTH_FAKE`, where every
/// request is the superadmin's.
pub struct AllVisible;

impl Restricter for AllVisible {
    fn restrict<'a>(
        &'a self,
        _viewer: Viewer,
        _values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<(), RestrictError>> {
        Box::pin(async { Ok(()) })
    }
}
