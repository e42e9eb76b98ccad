//! The poll slide.

use super::super::{Fetch, Projection, SlideError};
use serde_json::Value as Json;

/// Renders the `poll` slide.
pub async fn poll(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid("slide poll is not ported yet"))
}
