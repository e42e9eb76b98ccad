//! The meeting_mediafile slide and the title information of mediafiles.

use super::super::{Fetch, Projection, SlideError};
use crate::models::{Fqid, Id};
use serde_json::Value as Json;

/// Renders the `meeting_mediafile` slide.
pub async fn meeting_mediafile(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid(
        "slide meeting_mediafile is not ported yet",
    ))
}

/// Describes a meeting_mediafile for slides that list it.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let _ = (fetch, fqid, item_number, meeting_id);
    Err(SlideError::invalid(
        "title information of meeting_mediafile is not ported yet",
    ))
}
