//! The motion_block slide and the title information of motion blocks.

use super::super::{Fetch, Projection, SlideError};
use crate::models::{Fqid, Id};
use serde_json::Value as Json;

/// Renders the `motion_block` slide.
pub async fn motion_block(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid("slide motion_block is not ported yet"))
}

/// Describes a motion_block for slides that list it.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let _ = (fetch, fqid, item_number, meeting_id);
    Err(SlideError::invalid(
        "title information of motion_block is not ported yet",
    ))
}
