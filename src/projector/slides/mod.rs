//! The slides: one function per slide name, each returning the slide's JSON object
//! without the `collection` attribute, which the projector adds.
//!
//! `title_information` is shared: slides that list other objects (the agenda, lists of
//! speakers, the chyron) describe each object as its collection's slide module
//! defines.

mod agenda;
mod assignment;
mod list_of_speakers;
mod meeting;
mod meeting_mediafile;
mod motion;
mod motion_block;
mod poll;
mod poll_candidate_list;
mod projector;
mod topic;
mod user;

#[cfg(test)]
pub(crate) mod testing;

use super::{Fetch, Projection, SlideError};
use crate::models::{Collection, Fqid, Id};
use serde_json::Value as Json;

/// Every slide name, in the order of `render`.
pub const NAMES: &[&str] = &[
    "agenda_item_list",
    "assignment",
    "current_los",
    "current_speaker_chyron",
    "current_speaking_structure_level",
    "current_structure_level_list",
    "list_of_speakers",
    "meeting_mediafile",
    "motion",
    "motion_block",
    "poll",
    "projector_countdown",
    "projector_message",
    "topic",
    "user",
    "wifi_access_data",
];

/// Renders the slide with the given name. `None` means there is no such slide.
pub async fn render(
    name: &str,
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Option<Json>, SlideError> {
    let content = match name {
        "agenda_item_list" => agenda::agenda_item_list(fetch, p7on).await?,
        "assignment" => assignment::assignment(fetch, p7on).await?,
        "current_los" => list_of_speakers::current_los(fetch, p7on).await?,
        "current_speaker_chyron" => list_of_speakers::current_speaker_chyron(fetch, p7on).await?,
        "current_speaking_structure_level" => {
            list_of_speakers::current_speaking_structure_level(fetch, p7on).await?
        }
        "current_structure_level_list" => {
            list_of_speakers::current_structure_level_list(fetch, p7on).await?
        }
        "list_of_speakers" => list_of_speakers::list_of_speakers(fetch, p7on).await?,
        "meeting_mediafile" => meeting_mediafile::meeting_mediafile(fetch, p7on).await?,
        "motion" => motion::motion(fetch, p7on).await?,
        "motion_block" => motion_block::motion_block(fetch, p7on).await?,
        "poll" => poll::poll(fetch, p7on).await?,
        "projector_countdown" => projector::projector_countdown(fetch, p7on).await?,
        "projector_message" => projector::projector_message(fetch, p7on).await?,
        "topic" => topic::topic(fetch, p7on).await?,
        "user" => user::user(fetch, p7on).await?,
        "wifi_access_data" => meeting::wifi_access_data(fetch, p7on).await?,
        _ => return Ok(None),
    };
    Ok(Some(content))
}

/// Returns `given`, or when it is empty, the number of the agenda item. The agenda item
/// has to exist.
async fn item_number_or_agenda(
    fetch: &mut Fetch<'_>,
    given: &str,
    agenda_item_id: Option<Id>,
) -> Result<String, SlideError> {
    match agenda_item_id {
        Some(item) if given.is_empty() => Ok(fetch
            .get_if_exists(crate::models::collections::AgendaItem::ITEM_NUMBER, item)
            .await?
            .unwrap_or_default()),
        _ => Ok(given.to_owned()),
    }
}

/// Describes an object for slides that list it: its title and how to show it. `None`
/// for collections that have no title information.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    meeting_id: Id,
) -> Result<Option<Json>, SlideError> {
    let info = match fqid.collection {
        Collection::Assignment => {
            assignment::title_information(fetch, fqid, item_number, meeting_id).await?
        }
        Collection::MeetingMediafile => {
            meeting_mediafile::title_information(fetch, fqid, item_number, meeting_id).await?
        }
        Collection::Motion => {
            motion::title_information(fetch, fqid, item_number, meeting_id).await?
        }
        Collection::MotionBlock => {
            motion_block::title_information(fetch, fqid, item_number, meeting_id).await?
        }
        Collection::PollCandidateList => {
            poll_candidate_list::title_information(fetch, fqid, item_number, meeting_id).await?
        }
        Collection::Topic => topic::title_information(fetch, fqid, item_number, meeting_id).await?,
        Collection::User => user::title_information(fetch, fqid, item_number, meeting_id).await?,
        _ => return Ok(None),
    };
    Ok(Some(info))
}
