//! The slides of lists of speakers.

use super::super::{Fetch, Projection, SlideError};
use serde_json::Value as Json;

/// Renders the `list_of_speakers` slide.
pub async fn list_of_speakers(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid(
        "slide list_of_speakers is not ported yet",
    ))
}

/// Renders the `current_los` slide.
pub async fn current_los(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid("slide current_los is not ported yet"))
}

/// Renders the `current_speaker_chyron` slide.
pub async fn current_speaker_chyron(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid(
        "slide current_speaker_chyron is not ported yet",
    ))
}

/// Renders the `current_speaking_structure_level` slide.
pub async fn current_speaking_structure_level(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid(
        "slide current_speaking_structure_level is not ported yet",
    ))
}

/// Renders the `current_structure_level_list` slide.
pub async fn current_structure_level_list(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let _ = (fetch, p7on);
    Err(SlideError::invalid(
        "slide current_structure_level_list is not ported yet",
    ))
}
