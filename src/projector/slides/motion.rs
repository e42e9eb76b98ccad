//! The motion slide and the title information of motions.

use super::super::{Fetch, Projection, SlideError};
use crate::models::{Fqid, Id};
use serde_json::Value as Json;

/// Renders the `motion` slide.
pub async fn motion(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid("slide motion is not ported yet"))
}

/// Describes a motion for slides that list it.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let _ = (fetch, fqid, item_number, meeting_id);
    Err(SlideError::invalid(
        "title information of motion is not ported yet",
    ))
}
