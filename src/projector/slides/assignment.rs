//! The assignment slide and the title information of assignments.

use super::super::{Fetch, Projection, SlideError};
use crate::models::{Fqid, Id};
use serde_json::Value as Json;

/// Renders the `assignment` slide.
pub async fn assignment(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid("slide assignment is not ported yet"))
}

/// Describes a assignment for slides that list it.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let _ = (fetch, fqid, item_number, meeting_id);
    Err(SlideError::invalid(
        "title information of assignment is not ported yet",
    ))
}
