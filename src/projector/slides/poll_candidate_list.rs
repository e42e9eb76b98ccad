//! The title information of poll candidate lists.

use super::super::{Fetch, SlideError};
use crate::models::{Fqid, Id};
use serde_json::Value as Json;

/// Describes a poll_candidate_list for slides that list it.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let _ = (fetch, fqid, item_number, meeting_id);
    Err(SlideError::invalid(
        "title information of poll_candidate_list is not ported yet",
    ))
}
