//! The agenda_item_list slide.

use super::super::{Fetch, Projection, SlideError};
use serde_json::Value as Json;

/// Renders the `agenda_item_list` slide.
pub async fn agenda_item_list(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid(
        "slide agenda_item_list is not ported yet",
    ))
}
