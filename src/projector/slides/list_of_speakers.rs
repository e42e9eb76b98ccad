//! The slides of lists of speakers: a projected list, the list of the object on the
//! meeting's reference projector, the chyron with the current speaker, and the speaking
//! times of the structure levels.

use super::super::{Fetch, Object, Projection, SlideError};
use super::user::UserName;
use crate::models::collections::{
    ListOfSpeakers, Meeting, MeetingUser, Projection as ProjectionModel, Projector, Speaker,
    StructureLevel, StructureLevelListOfSpeakers,
};
use crate::models::{Collection, Field, FieldValue, Fqid, Id, Key};
use serde_json::{json, Map, Value as Json};
use std::cmp::Reverse;

/// The speech state of a question that interrupts the current speaker.
const INTERPOSED_QUESTION: &str = "interposed_question";
/// The speech state of a speech with the meeting's fixed intervention time instead of a
/// structure level's time.
const INTERVENTION: &str = "intervention";

// NOTE: models.yml declares both times as floats, but the slides read them as whole
// seconds, so a fractional value fails the slide.
const REMAINING_TIME: Field<StructureLevelListOfSpeakers, i64> =
    Field::new(StructureLevelListOfSpeakers::REMAINING_TIME.id());
const ADDITIONAL_TIME: Field<StructureLevelListOfSpeakers, i64> =
    Field::new(StructureLevelListOfSpeakers::ADDITIONAL_TIME.id());

/// `projection/content_object_id` as text, because broken projections store an empty
/// string there.
const PROJECTION_CONTENT_OBJECT: Field<ProjectionModel, String> =
    Field::new(ProjectionModel::CONTENT_OBJECT_ID.id());

/// Renders the list of speakers that the projection shows.
pub async fn list_of_speakers(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    render_list(fetch, p7on.content_object_id.id, p7on.meeting_id).await
}

/// Renders the list of speakers of the first object on the meeting's reference projector
/// that has one, or `{}` when none has.
pub async fn current_los(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let current = find_current_list(fetch, p7on).await?;
    match current.list_of_speakers_id {
        Some(id) => render_list(fetch, id, p7on.meeting_id).await,
        None => Ok(json!({})),
    }
}

/// Renders the chyron: the colors of the projector, the name and structure level of the
/// current speaker, and the title information of the current list's object.
pub async fn current_speaker_chyron(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let current = find_current_list(fetch, p7on).await?;
    let meeting_id = p7on.content_object_id.id;

    // The projection shows the colors of its own projector. The reference projector is
    // the fallback for a projection that is on none.
    let projector_id = match p7on.current_projector_id {
        0 => current.reference_projector_id,
        id => id,
    };
    let projector = fetch
        .object(
            Fqid::new(Collection::Projector, projector_id),
            &[
                Projector::CHYRON_BACKGROUND_COLOR.id(),
                Projector::CHYRON_FONT_COLOR.id(),
            ],
        )
        .await?;

    let mut name = String::new();
    let mut level = String::new();
    let mut title_information = None;
    if let Some(los_id) = current.list_of_speakers_id {
        let list = read_list(fetch, los_id).await?;
        (name, level) = current_speaker_name(fetch, &list, meeting_id).await?;
        let content_object = list.content_object()?;
        title_information = super::title_information(fetch, content_object, "", meeting_id).await?;
    }

    let mut content = json!({
        "background_color": projector.get_or_default(Projector::CHYRON_BACKGROUND_COLOR)?,
        "font_color": projector.get_or_default(Projector::CHYRON_FONT_COLOR)?,
        "current_speaker_name": name,
        "current_speaker_level": level,
    });
    if let Some(info) = title_information {
        content["title_information"] = info;
    }
    Ok(content)
}

/// Renders the structure levels of the current list of speakers that have spoken or have
/// a speaker waiting, with their remaining time.
///
/// Fails when no list of speakers is current or its object has no `title` field.
pub async fn current_structure_level_list(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let current = find_current_list(fetch, p7on).await?;
    let Some(los_id) = current.list_of_speakers_id else {
        return Err(SlideError::invalid(
            "no object on the reference projector has a list of speakers",
        ));
    };

    let content_object = fetch
        .get(ListOfSpeakers::CONTENT_OBJECT_ID, los_id)
        .await?
        .ok_or_else(|| missing_content_object(los_id))?;
    let title = read_title(fetch, content_object).await?;

    let level_list_ids = fetch
        .get(ListOfSpeakers::STRUCTURE_LEVEL_LIST_OF_SPEAKERS_IDS, los_id)
        .await?
        .unwrap_or_default();
    use StructureLevelListOfSpeakers as Sllos;
    let level_lists = fetch
        .objects(
            Collection::StructureLevelListOfSpeakers,
            &level_list_ids,
            &[
                Sllos::SPEAKER_IDS.id(),
                Sllos::STRUCTURE_LEVEL_ID.id(),
                Sllos::INITIAL_TIME.id(),
                ADDITIONAL_TIME.id(),
                REMAINING_TIME.id(),
                Sllos::CURRENT_START_TIME.id(),
            ],
        )
        .await?;

    let mut structure_levels = Vec::new();
    for level_list in &level_lists {
        if !has_spoken_or_waits(fetch, level_list).await? {
            continue;
        }
        let level_id = level_list.get(Sllos::STRUCTURE_LEVEL_ID)?;
        let level = read_structure_level(fetch, level_id).await?;
        structure_levels.push(json!({
            "id": level.id,
            "name": level.name,
            "color": level.color,
            "speech_state": "",
            "point_of_order": false,
            "remaining_time": level_list.get_or_default(REMAINING_TIME)?,
            "current_start_time": level_list.get_or_default(Sllos::CURRENT_START_TIME)?,
        }));
    }

    Ok(json!({
        "title": title,
        "structure_levels": structure_levels,
    }))
}

/// Renders the structure level of the current speaker with the time it has left, or
/// `{}` when no speech has begun without ending.
///
/// Interposed questions, interventions, points of order and speakers without a structure
/// level do not use a structure level's time. Their time starts with the speech, shifted
/// by its pauses, and only an intervention has a limit: the meeting's intervention time.
/// Fails when no list of speakers is current.
pub async fn current_speaking_structure_level(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let current = find_current_list(fetch, p7on).await?;
    let los_id = required(Collection::ListOfSpeakers, current.list_of_speakers_id)?;
    let list = read_list(fetch, los_id).await?;
    let Some(speaker) = current_structure_level_speaker(fetch, &list).await? else {
        return Ok(json!({}));
    };

    let mut level = LevelTime {
        id: 0,
        name: String::new(),
        color: String::new(),
        remaining_time: None,
        current_start_time: 0,
    };
    if let Some(level_list_id) = speaker.level_list_id {
        use StructureLevelListOfSpeakers as Sllos;
        let level_list = fetch
            .object(
                Fqid::new(Collection::StructureLevelListOfSpeakers, level_list_id),
                &[
                    Sllos::STRUCTURE_LEVEL_ID.id(),
                    REMAINING_TIME.id(),
                    Sllos::CURRENT_START_TIME.id(),
                ],
            )
            .await?;
        let structure_level =
            read_structure_level(fetch, level_list.get(Sllos::STRUCTURE_LEVEL_ID)?).await?;
        level = LevelTime {
            id: structure_level.id,
            name: structure_level.name,
            color: structure_level.color,
            remaining_time: Some(level_list.get_or_default(REMAINING_TIME)?),
            current_start_time: level_list.get_or_default(Sllos::CURRENT_START_TIME)?,
        };
    }

    let own_time = speaker.speech_state == INTERPOSED_QUESTION
        || speaker.speech_state == INTERVENTION
        || speaker.point_of_order
        || speaker.level_list_id.is_none();
    if own_time {
        level.remaining_time = None;
        if speaker.speech_state == INTERVENTION {
            let meeting_id = fetch
                .get_if_exists(ListOfSpeakers::MEETING_ID, los_id)
                .await?;
            let meeting_id = required(Collection::Meeting, meeting_id)?;
            let intervention_time = fetch
                .get_if_exists(Meeting::LIST_OF_SPEAKERS_INTERVENTION_TIME, meeting_id)
                .await?
                .unwrap_or(0);
            level.remaining_time = Some(intervention_time);
        }
        // A paused speech shows its remaining time frozen at the pause, without a start.
        let started = speaker.begin_time.wrapping_add(speaker.total_pause);
        if speaker.pause_time != 0 {
            level.current_start_time = 0;
            if let Some(remaining) = &mut level.remaining_time {
                *remaining = remaining.wrapping_sub(speaker.pause_time.wrapping_sub(started));
            }
        } else {
            level.current_start_time = started;
        }
    }

    let mut content = json!({
        "id": level.id,
        "name": level.name,
        "color": level.color,
        "speech_state": speaker.speech_state,
        "point_of_order": speaker.point_of_order,
        "current_start_time": level.current_start_time,
    });
    if let Some(remaining) = level.remaining_time {
        content["remaining_time"] = json!(remaining);
    }
    Ok(content)
}

/// A list of speakers with the fields every slide of this module reads.
struct ListData {
    id: Id,
    object: Object,
    speaker_ids: Vec<Id>,
    closed: bool,
}

impl ListData {
    fn content_object(&self) -> Result<Fqid, SlideError> {
        self.object
            .get(ListOfSpeakers::CONTENT_OBJECT_ID)?
            .ok_or_else(|| missing_content_object(self.id))
    }
}

async fn read_list(fetch: &mut Fetch<'_>, id: Id) -> Result<ListData, SlideError> {
    let object = fetch
        .object(
            Fqid::new(Collection::ListOfSpeakers, id),
            &[
                ListOfSpeakers::SPEAKER_IDS.id(),
                ListOfSpeakers::CONTENT_OBJECT_ID.id(),
                ListOfSpeakers::CLOSED.id(),
            ],
        )
        .await?;
    Ok(ListData {
        id,
        speaker_ids: object.get_or_default(ListOfSpeakers::SPEAKER_IDS)?,
        closed: object.get_or_default(ListOfSpeakers::CLOSED)?,
        object,
    })
}

fn missing_content_object(los_id: Id) -> SlideError {
    SlideError::invalid(format!(
        "list_of_speakers/{los_id} has no content_object_id"
    ))
}

/// Returns the id of a relation that has to be set. An unset relation fails as a
/// reference to the object with id 0, which never exists.
fn required(collection: Collection, id: Option<Id>) -> Result<Id, SlideError> {
    id.ok_or(SlideError::DoesNotExist(Fqid::new(collection, 0)))
}

/// The list of speakers that the current slides show, and the projector it was found on.
struct CurrentList {
    list_of_speakers_id: Option<Id>,
    reference_projector_id: Id,
}

/// Finds the current list of speakers of the projected meeting: the list of the first
/// object on the meeting's reference projector that has a `list_of_speakers_id`.
async fn find_current_list(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<CurrentList, SlideError> {
    let meeting = p7on.content_object_id;
    if meeting.collection != Collection::Meeting {
        return Err(SlideError::invalid(format!(
            "invalid content_object_id {meeting}: the slide needs a projected meeting"
        )));
    }
    let projector_id = fetch
        .get_if_exists(Meeting::REFERENCE_PROJECTOR_ID, meeting.id)
        .await?;
    let projector_id = required(Collection::Projector, projector_id)?;
    let projection_ids = fetch
        .get_if_exists(Projector::CURRENT_PROJECTION_IDS, projector_id)
        .await?
        .unwrap_or_default();

    let mut current = CurrentList {
        list_of_speakers_id: None,
        reference_projector_id: projector_id,
    };
    for projection_id in projection_ids {
        let content_object = fetch
            .get_if_exists(PROJECTION_CONTENT_OBJECT, projection_id)
            .await?
            .unwrap_or_default();
        // An empty or malformed content object and a collection without lists of
        // speakers are skipped.
        let Ok(content_object) = Fqid::parse(&content_object) else {
            continue;
        };
        let Some(field) = content_object.collection.field("list_of_speakers_id") else {
            continue;
        };
        let object = fetch.object(content_object, &[field]).await?;
        let Some(raw) = object.raw(field)? else {
            continue;
        };
        let los_id = Id::decode(raw).map_err(|error| SlideError::Value {
            key: Key::new(field, content_object.id),
            error,
        })?;
        current.list_of_speakers_id = Some(los_id);
        break;
    }
    Ok(current)
}

/// A speaker as the `list_of_speakers` slide shows it.
struct ListedSpeaker {
    meeting_user_id: Option<Id>,
    user: String,
    speech_state: String,
    note: String,
    point_of_order: bool,
    weight: i64,
    begin_time: i64,
    pause_time: i64,
    end_time: i64,
}

impl ListedSpeaker {
    fn to_json(&self) -> Json {
        let mut speaker = Map::new();
        speaker.insert("user".into(), json!(self.user));
        speaker.insert("speech_state".into(), json!(self.speech_state));
        speaker.insert("note".into(), json!(self.note));
        speaker.insert("point_of_order".into(), json!(self.point_of_order));
        if self.begin_time != 0 {
            speaker.insert("begin_time".into(), json!(self.begin_time));
        }
        if self.pause_time != 0 {
            speaker.insert("pause_time".into(), json!(self.pause_time));
        }
        Json::Object(speaker)
    }
}

/// Renders a list of speakers: the waiting speakers by weight, the current speaker, and
/// the finished speakers, latest first. The meeting's settings limit how many waiting and
/// finished speakers are shown.
async fn render_list(
    fetch: &mut Fetch<'_>,
    los_id: Id,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let list = read_list(fetch, los_id).await?;
    let speakers = read_listed_speakers(fetch, &list.speaker_ids, meeting_id).await?;

    let mut waiting = Vec::new();
    let mut current = None;
    let mut finished = Vec::new();
    for speaker in speakers {
        // An interposed question waits until it ends, even after it started.
        let waits = speaker.begin_time == 0 || speaker.speech_state == INTERPOSED_QUESTION;
        if speaker.end_time != 0 {
            finished.push(speaker);
        } else if waits {
            waiting.push(speaker);
        } else {
            // With several unfinished speeches, the last one in the list is current.
            current = Some(speaker);
        }
    }
    // Stable sorts: speakers that compare equal keep their order in `speaker_ids`.
    waiting.sort_by_key(|speaker| (speaker.weight, speaker.meeting_user_id.unwrap_or(0)));
    finished.sort_by_key(|speaker| Reverse(speaker.end_time));

    use Meeting as M;
    let meeting = fetch
        .object(
            Fqid::new(
                Collection::Meeting,
                required(Collection::Meeting, nonzero(meeting_id))?,
            ),
            &[
                M::LIST_OF_SPEAKERS_AMOUNT_NEXT_ON_PROJECTOR.id(),
                M::LIST_OF_SPEAKERS_AMOUNT_LAST_ON_PROJECTOR.id(),
                M::LIST_OF_SPEAKERS_SHOW_AMOUNT_OF_SPEAKERS_ON_SLIDE.id(),
            ],
        )
        .await?;
    let amount_next = meeting.get_or_default(M::LIST_OF_SPEAKERS_AMOUNT_NEXT_ON_PROJECTOR)?;
    let amount_last = meeting.get_or_default(M::LIST_OF_SPEAKERS_AMOUNT_LAST_ON_PROJECTOR)?;
    let show_amount =
        meeting.get_or_default(M::LIST_OF_SPEAKERS_SHOW_AMOUNT_OF_SPEAKERS_ON_SLIDE)?;

    let number_of_waiting = waiting.len();
    // A negative amount shows all speakers. The amount of waiting speakers only applies
    // when the meeting shows how many speakers wait. An unset amount is 0, so an unset
    // amount of finished speakers hides them all.
    let waiting_limit = if show_amount { amount_next } else { -1 };
    let waiting = shown_speakers(&waiting, waiting_limit);
    let finished = shown_speakers(&finished, amount_last);

    let content_object = list.content_object()?;
    let Some(title_information) =
        super::title_information(fetch, content_object, "", meeting_id).await?
    else {
        return Err(SlideError::invalid(format!(
            "{content_object}: the collection {} has no title information",
            content_object.collection
        )));
    };

    let mut content = json!({
        "waiting": waiting,
        "current": current.as_ref().map(ListedSpeaker::to_json),
        "finished": finished,
        "title_information": title_information,
        "closed": list.closed,
    });
    if show_amount {
        content["number_of_waiting_speakers"] = json!(number_of_waiting);
    }
    Ok(content)
}

/// Returns the first `limit` speakers, or all for a negative limit. No speakers give
/// `null`, but a limit of 0 gives `[]`.
fn shown_speakers(speakers: &[ListedSpeaker], limit: i64) -> Json {
    if speakers.is_empty() {
        return Json::Null;
    }
    let shown = match usize::try_from(limit) {
        Ok(limit) => &speakers[..limit.min(speakers.len())],
        Err(_) => speakers,
    };
    Json::Array(shown.iter().map(ListedSpeaker::to_json).collect())
}

fn nonzero(id: Id) -> Option<Id> {
    (id != 0).then_some(id)
}

/// Reads the speakers with the names of their users.
async fn read_listed_speakers(
    fetch: &mut Fetch<'_>,
    speaker_ids: &[Id],
    meeting_id: Id,
) -> Result<Vec<ListedSpeaker>, SlideError> {
    use Speaker as S;
    let objects = fetch
        .objects(
            Collection::Speaker,
            speaker_ids,
            &[
                S::MEETING_USER_ID.id(),
                S::SPEECH_STATE.id(),
                S::NOTE.id(),
                S::POINT_OF_ORDER.id(),
                S::WEIGHT.id(),
                S::BEGIN_TIME.id(),
                S::PAUSE_TIME.id(),
                S::END_TIME.id(),
            ],
        )
        .await?;
    let mut speakers = Vec::with_capacity(objects.len());
    for object in &objects {
        speakers.push(ListedSpeaker {
            meeting_user_id: object.get(S::MEETING_USER_ID)?,
            user: String::new(),
            speech_state: object.get_or_default(S::SPEECH_STATE)?,
            note: object.get_or_default(S::NOTE)?,
            point_of_order: object.get_or_default(S::POINT_OF_ORDER)?,
            weight: object.get_or_default(S::WEIGHT)?,
            begin_time: object.get_or_default(S::BEGIN_TIME)?,
            pause_time: object.get_or_default(S::PAUSE_TIME)?,
            end_time: object.get_or_default(S::END_TIME)?,
        });
    }

    let meeting_user_ids: Vec<Id> = speakers
        .iter()
        .filter_map(|speaker| speaker.meeting_user_id)
        .collect();
    let meeting_users = fetch
        .objects(
            Collection::MeetingUser,
            &meeting_user_ids,
            &[MeetingUser::USER_ID.id()],
        )
        .await?;
    let mut user_ids = Vec::with_capacity(meeting_users.len());
    for meeting_user in &meeting_users {
        let user_id = meeting_user.get(MeetingUser::USER_ID)?;
        user_ids.push(required(Collection::User, user_id)?);
    }
    let names = UserName::load_many(fetch, &user_ids, meeting_id).await?;

    let with_user = speakers
        .iter_mut()
        .filter(|speaker| speaker.meeting_user_id.is_some());
    for (speaker, name) in with_user.zip(names) {
        speaker.user = name.representation();
    }
    Ok(speakers)
}

/// Returns whether a speech is running: it has begun, is not paused and has not ended.
fn is_speaking(begin_time: i64, pause_time: i64, end_time: i64) -> bool {
    begin_time != 0 && pause_time == 0 && end_time == 0
}

/// Returns the short name and the structure level of the first running speech of the
/// list, or empty strings when none runs or its speaker has no meeting user.
///
/// With a default structure level time, the level is the one whose time the speech uses.
/// Without, it is every structure level of the meeting user, sorted by name.
async fn current_speaker_name(
    fetch: &mut Fetch<'_>,
    list: &ListData,
    meeting_id: Id,
) -> Result<(String, String), SlideError> {
    use Speaker as S;
    for &speaker_id in &list.speaker_ids {
        let speaker = fetch
            .object(
                Fqid::new(Collection::Speaker, speaker_id),
                &[
                    S::MEETING_USER_ID.id(),
                    S::BEGIN_TIME.id(),
                    S::PAUSE_TIME.id(),
                    S::END_TIME.id(),
                ],
            )
            .await?;
        let running = is_speaking(
            speaker.get_or_default(S::BEGIN_TIME)?,
            speaker.get_or_default(S::PAUSE_TIME)?,
            speaker.get_or_default(S::END_TIME)?,
        );
        if !running {
            continue;
        }
        let Some(meeting_user_id) = speaker.get(S::MEETING_USER_ID)? else {
            return Ok((String::new(), String::new()));
        };

        let user_id = fetch
            .get_if_exists(MeetingUser::USER_ID, meeting_user_id)
            .await?;
        let user_id = required(Collection::User, user_id)?;
        let short_name = UserName::load(fetch, user_id, meeting_id)
            .await?
            .short_name();

        let meeting_id = required(Collection::Meeting, nonzero(meeting_id))?;
        let level_time = fetch
            .get_if_exists(
                Meeting::LIST_OF_SPEAKERS_DEFAULT_STRUCTURE_LEVEL_TIME,
                meeting_id,
            )
            .await?
            .unwrap_or(0);
        let level = if level_time > 0 {
            speech_structure_level(fetch, speaker_id).await?
        } else {
            let level_ids = fetch
                .get(MeetingUser::STRUCTURE_LEVEL_IDS, meeting_user_id)
                .await?
                .unwrap_or_default();
            let mut names = Vec::with_capacity(level_ids.len());
            for level_id in level_ids {
                let name = fetch.get_if_exists(StructureLevel::NAME, level_id).await?;
                names.push(name.unwrap_or_default());
            }
            names.sort();
            names.join(", ")
        };
        return Ok((short_name, level));
    }
    Ok((String::new(), String::new()))
}

/// Returns the name of the structure level whose time the speech uses, or "" when it uses
/// none.
async fn speech_structure_level(
    fetch: &mut Fetch<'_>,
    speaker_id: Id,
) -> Result<String, SlideError> {
    let level_list_id = fetch
        .get_if_exists(Speaker::STRUCTURE_LEVEL_LIST_OF_SPEAKERS_ID, speaker_id)
        .await?;
    let Some(level_list_id) = level_list_id else {
        return Ok(String::new());
    };
    let level_id = fetch
        .get_if_exists(
            StructureLevelListOfSpeakers::STRUCTURE_LEVEL_ID,
            level_list_id,
        )
        .await?;
    let Some(level_id) = level_id else {
        return Ok(String::new());
    };
    Ok(fetch
        .get(StructureLevel::NAME, level_id)
        .await?
        .unwrap_or_default())
}

/// Reads the `title` of the object a list of speakers belongs to. Fails for collections
/// without a title, but a missing object has an empty title.
async fn read_title(fetch: &mut Fetch<'_>, object: Fqid) -> Result<String, SlideError> {
    let Some(field) = object.collection.field("title") else {
        return Err(SlideError::invalid(format!(
            "{object}: the collection {} has no title",
            object.collection
        )));
    };
    let key = Key::new(field, object.id);
    let value = fetch.values(&[key]).await?.pop().flatten();
    match value {
        None => Ok(String::new()),
        Some(raw) => String::decode(&raw).map_err(|error| SlideError::Value { key, error }),
    }
}

/// Returns whether a structure level has used time on the list, or has a speaker waiting
/// or speaking other than interposed questions and interventions.
async fn has_spoken_or_waits(
    fetch: &mut Fetch<'_>,
    level_list: &Object,
) -> Result<bool, SlideError> {
    use StructureLevelListOfSpeakers as Sllos;
    let initial_time = level_list.get_or_default(Sllos::INITIAL_TIME)?;
    let additional_time = level_list.get_or_default(ADDITIONAL_TIME)?;
    let remaining_time = level_list.get_or_default(REMAINING_TIME)?;
    let current_start_time = level_list.get_or_default(Sllos::CURRENT_START_TIME)?;
    if initial_time.wrapping_add(additional_time) != remaining_time || current_start_time != 0 {
        return Ok(true);
    }

    for speaker_id in level_list.get_or_default(Sllos::SPEAKER_IDS)? {
        let speech_state = fetch
            .get_if_exists(Speaker::SPEECH_STATE, speaker_id)
            .await?
            .unwrap_or_default();
        if speech_state != INTERPOSED_QUESTION && speech_state != INTERVENTION {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A structure level as the structure level slides show it.
struct StructureLevelData {
    id: Id,
    name: String,
    color: String,
}

/// Reads the name and color of a structure level, which has to exist.
async fn read_structure_level(
    fetch: &mut Fetch<'_>,
    id: Option<Id>,
) -> Result<StructureLevelData, SlideError> {
    let id = required(Collection::StructureLevel, id)?;
    let level = fetch
        .object(
            Fqid::new(Collection::StructureLevel, id),
            &[StructureLevel::NAME.id(), StructureLevel::COLOR.id()],
        )
        .await?;
    Ok(StructureLevelData {
        id,
        name: level.get_or_default(StructureLevel::NAME)?,
        color: level.get_or_default(StructureLevel::COLOR)?,
    })
}

/// The time of a structure level shown for the current speech.
struct LevelTime {
    id: Id,
    name: String,
    color: String,
    /// `None` leaves `remaining_time` out of the slide.
    remaining_time: Option<i64>,
    current_start_time: i64,
}

/// A speech with the fields that decide whose time it uses.
struct LevelSpeaker {
    speech_state: String,
    point_of_order: bool,
    weight: i64,
    begin_time: i64,
    pause_time: i64,
    end_time: i64,
    total_pause: i64,
    level_list_id: Option<Id>,
}

/// Returns the first running speech of the list. Without one it returns the begun and
/// unfinished speech with the lowest weight, which may be paused. On equal weights that is
/// the first in `speaker_ids`.
async fn current_structure_level_speaker(
    fetch: &mut Fetch<'_>,
    list: &ListData,
) -> Result<Option<LevelSpeaker>, SlideError> {
    use Speaker as S;
    let mut fallback: Option<LevelSpeaker> = None;
    for &speaker_id in &list.speaker_ids {
        let object = fetch
            .object(
                Fqid::new(Collection::Speaker, speaker_id),
                &[
                    S::BEGIN_TIME.id(),
                    S::PAUSE_TIME.id(),
                    S::END_TIME.id(),
                    S::TOTAL_PAUSE.id(),
                    S::POINT_OF_ORDER.id(),
                    S::WEIGHT.id(),
                    S::SPEECH_STATE.id(),
                    S::STRUCTURE_LEVEL_LIST_OF_SPEAKERS_ID.id(),
                ],
            )
            .await?;
        let speaker = LevelSpeaker {
            speech_state: object.get_or_default(S::SPEECH_STATE)?,
            point_of_order: object.get_or_default(S::POINT_OF_ORDER)?,
            weight: object.get_or_default(S::WEIGHT)?,
            begin_time: object.get_or_default(S::BEGIN_TIME)?,
            pause_time: object.get_or_default(S::PAUSE_TIME)?,
            end_time: object.get_or_default(S::END_TIME)?,
            total_pause: object.get_or_default(S::TOTAL_PAUSE)?,
            level_list_id: object.get(S::STRUCTURE_LEVEL_LIST_OF_SPEAKERS_ID)?,
        };

        if is_speaking(speaker.begin_time, speaker.pause_time, speaker.end_time) {
            return Ok(Some(speaker));
        }
        let unfinished = speaker.begin_time != 0 && speaker.end_time == 0;
        let lighter = fallback
            .as_ref()
            .is_none_or(|fallback| fallback.weight > speaker.weight);
        if unfinished && lighter {
            fallback = Some(speaker);
        }
    }
    Ok(fallback)
}

#[cfg(test)]
mod tests {
    use super::super::super::{Projection, SlideError};
    use super::super::testing::{datastore, fetch, render, slide_projection};
    use serde_json::{json, Value as Json};

    /// Returns `data` with the fields of `changes` set, or removed where they are null.
    fn with(data: &Json, changes: Json) -> Json {
        let mut data = data.clone();
        for (fqid, fields) in changes.as_object().unwrap() {
            let object = data
                .as_object_mut()
                .unwrap()
                .entry(fqid.clone())
                .or_insert_with(|| json!({}));
            for (field, value) in fields.as_object().unwrap() {
                if value.is_null() {
                    object.as_object_mut().unwrap().remove(field);
                } else {
                    object[field] = value.clone();
                }
            }
        }
        data
    }

    /// Returns `data` without the object `fqid`.
    fn without(data: &Json, fqid: &str) -> Json {
        let mut data = data.clone();
        data.as_object_mut().unwrap().remove(fqid);
        data
    }

    fn assert_missing(result: Result<Json, SlideError>, fqid: &str) {
        match result {
            Err(SlideError::DoesNotExist(missing)) => assert_eq!(missing.to_string(), fqid),
            other => panic!("expected {fqid} to be missing, got {other:?}"),
        }
    }

    fn assert_invalid(result: Result<Json, SlideError>, part: &str) {
        match result {
            Err(SlideError::Invalid(message)) => {
                assert!(message.contains(part), "{message:?} lacks {part:?}")
            }
            other => panic!("expected an error about {part:?}, got {other:?}"),
        }
    }

    fn assert_bad_value(result: Result<Json, SlideError>, key: &str) {
        match result {
            Err(SlideError::Value { key: bad, .. }) => assert_eq!(bad.to_string(), key),
            other => panic!("expected an invalid value in {key}, got {other:?}"),
        }
    }

    fn topic_title(title: &str, number: &str) -> Json {
        json!({
            "collection": "topic",
            "content_object_id": "topic/1",
            "title": title,
            "agenda_item_number": number,
        })
    }

    fn los_data() -> Json {
        json!({
            "meeting/1": {
                "list_of_speakers_amount_next_on_projector": 4,
                "list_of_speakers_amount_last_on_projector": 2,
                "list_of_speakers_show_amount_of_speakers_on_slide": true,
            },
            "list_of_speakers/1": {
                "content_object_id": "topic/1",
                "closed": true,
                "speaker_ids": [1, 2, 3, 4, 5, 6],
            },
            "topic/1": {"title": "topic1 title", "agenda_item_id": 1},
            "agenda_item/1": {"item_number": "ItemNr Topic1"},
            "speaker/1": {
                "meeting_user_id": 100,
                "speech_state": "contribution",
                "note": "Seq2Waiting",
                "point_of_order": false,
                "weight": 10,
            },
            "speaker/2": {
                "meeting_user_id": 110,
                "speech_state": "contribution",
                "note": "Seq1Waiting",
                "point_of_order": true,
                "weight": 5,
            },
            "speaker/3": {
                "meeting_user_id": 200,
                "speech_state": "pro",
                "note": "SeqCurrent",
                "point_of_order": false,
                "weight": 20,
                "begin_time": 100,
            },
            "speaker/4": {
                "meeting_user_id": 300,
                "speech_state": "contra",
                "note": "Seq3Finished",
                "point_of_order": true,
                "weight": 30,
                "begin_time": 20,
                "end_time": 23,
            },
            "speaker/5": {
                "meeting_user_id": 310,
                "speech_state": "contra",
                "note": "Seq1Finished",
                "point_of_order": true,
                "weight": 30,
                "begin_time": 29,
                "end_time": 32,
            },
            "speaker/6": {
                "meeting_user_id": 320,
                "speech_state": "contra",
                "note": "Seq2Finished",
                "point_of_order": true,
                "weight": 30,
                "begin_time": 24,
                "end_time": 28,
            },
            "speaker/7": {
                "meeting_user_id": 330,
                "speech_state": "interposed_question",
                "note": "Seq2Waiting",
                "point_of_order": false,
                "weight": 20,
                "begin_time": 150,
            },
            "meeting_user/100": {"user_id": 10},
            "meeting_user/110": {"user_id": 11},
            "meeting_user/200": {"user_id": 20},
            "meeting_user/300": {"user_id": 30},
            "meeting_user/310": {"user_id": 31},
            "meeting_user/320": {"user_id": 32},
            "meeting_user/330": {"user_id": 33},
            "user/10": {"username": "jonny123"},
            "user/11": {"username": "elenor"},
            "user/20": {"first_name": "Jonny"},
            "user/30": {"last_name": "Bo"},
            "user/31": {"username": "Ernest"},
            "user/32": {"username": "Calli"},
            "user/33": {"username": "Joe"},
        })
    }

    async fn render_los(data: &Json) -> Result<Json, SlideError> {
        render(data, &slide_projection("list_of_speakers/1")).await
    }

    /// Builds a speaker of `los_data` as the slide shows it.
    fn expected_speaker(user: &str, state: &str, note: &str, point_of_order: bool) -> Json {
        json!({
            "user": user,
            "speech_state": state,
            "note": note,
            "point_of_order": point_of_order,
        })
    }

    fn with_begin(mut speaker: Json, begin_time: i64) -> Json {
        speaker["begin_time"] = json!(begin_time);
        speaker
    }

    #[tokio::test]
    async fn los_sorts_waiting_current_and_finished() {
        assert_eq!(
            render_los(&los_data()).await.unwrap(),
            json!({
                "waiting": [
                    expected_speaker("elenor", "contribution", "Seq1Waiting", true),
                    expected_speaker("jonny123", "contribution", "Seq2Waiting", false),
                ],
                "current": with_begin(expected_speaker("Jonny", "pro", "SeqCurrent", false), 100),
                "finished": [
                    with_begin(expected_speaker("Ernest", "contra", "Seq1Finished", true), 29),
                    with_begin(expected_speaker("Calli", "contra", "Seq2Finished", true), 24),
                ],
                "closed": true,
                "title_information": topic_title("topic1 title", "ItemNr Topic1"),
                "number_of_waiting_speakers": 2,
            })
        );
    }

    #[tokio::test]
    async fn los_without_current_speaker() {
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [1, 4]},
                "meeting/1": {"list_of_speakers_show_amount_of_speakers_on_slide": false},
            }),
        );
        assert_eq!(
            render_los(&data).await.unwrap(),
            json!({
                "waiting": [expected_speaker("jonny123", "contribution", "Seq2Waiting", false)],
                "current": null,
                "finished": [with_begin(expected_speaker("Bo", "contra", "Seq3Finished", true), 20)],
                "closed": true,
                "title_information": topic_title("topic1 title", "ItemNr Topic1"),
            })
        );
    }

    #[tokio::test]
    async fn los_paused_speaker_with_interposed_question() {
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [3, 7]},
                "meeting/1": {"list_of_speakers_show_amount_of_speakers_on_slide": false},
                "speaker/3": {"pause_time": 150},
            }),
        );
        let mut current = with_begin(expected_speaker("Jonny", "pro", "SeqCurrent", false), 100);
        current["pause_time"] = json!(150);
        assert_eq!(
            render_los(&data).await.unwrap(),
            json!({
                "waiting": [with_begin(
                    expected_speaker("Joe", "interposed_question", "Seq2Waiting", false),
                    150
                )],
                "current": current,
                "finished": null,
                "closed": true,
                "title_information": topic_title("topic1 title", "ItemNr Topic1"),
            })
        );
    }

    #[tokio::test]
    async fn los_finished_interposed_question_is_finished() {
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [7]},
                "meeting/1": {"list_of_speakers_amount_last_on_projector": -1},
                "speaker/7": {"end_time": 160},
            }),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(content["waiting"], json!(null));
        assert_eq!(
            content["finished"],
            json!([with_begin(
                expected_speaker("Joe", "interposed_question", "Seq2Waiting", false),
                150
            )])
        );
        assert_eq!(content["number_of_waiting_speakers"], json!(0));
    }

    #[tokio::test]
    async fn los_empty_list_has_nulls() {
        let data = with(
            &los_data(),
            json!({"list_of_speakers/1": {"speaker_ids": null, "closed": null}}),
        );
        assert_eq!(
            render_los(&data).await.unwrap(),
            json!({
                "waiting": null,
                "current": null,
                "finished": null,
                "closed": false,
                "title_information": topic_title("topic1 title", "ItemNr Topic1"),
                "number_of_waiting_speakers": 0,
            })
        );
    }

    #[tokio::test]
    async fn los_unset_amounts_hide_finished_only() {
        // Unset amounts are 0: no finished speakers, but the amount of waiting speakers
        // still applies only with the shown number.
        let data = with(
            &los_data(),
            json!({"meeting/1": {
                "list_of_speakers_amount_next_on_projector": null,
                "list_of_speakers_amount_last_on_projector": null,
                "list_of_speakers_show_amount_of_speakers_on_slide": null,
            }}),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(content["finished"], json!([]));
        assert_eq!(content["waiting"].as_array().unwrap().len(), 2);
        assert!(content.get("number_of_waiting_speakers").is_none());
    }

    #[tokio::test]
    async fn los_amount_zero_gives_empty_lists() {
        let data = with(
            &los_data(),
            json!({"meeting/1": {
                "list_of_speakers_amount_next_on_projector": 0,
                "list_of_speakers_amount_last_on_projector": 0,
            }}),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(content["waiting"], json!([]));
        assert_eq!(content["finished"], json!([]));
        assert_eq!(content["number_of_waiting_speakers"], json!(2));
    }

    #[tokio::test]
    async fn los_negative_amounts_show_all() {
        let data = with(
            &los_data(),
            json!({"meeting/1": {
                "list_of_speakers_amount_next_on_projector": -1,
                "list_of_speakers_amount_last_on_projector": -1,
            }}),
        );
        let content = render_los(&data).await.unwrap();
        let finished: Vec<&Json> = content["finished"]
            .as_array()
            .unwrap()
            .iter()
            .map(|speaker| &speaker["user"])
            .collect();
        assert_eq!(finished, [&json!("Ernest"), &json!("Calli"), &json!("Bo")]);
        assert_eq!(content["waiting"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn los_amount_next_limits_waiting_with_shown_number() {
        let data = with(
            &los_data(),
            json!({"meeting/1": {"list_of_speakers_amount_next_on_projector": 1}}),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(
            content["waiting"],
            json!([expected_speaker(
                "elenor",
                "contribution",
                "Seq1Waiting",
                true
            )])
        );
        assert_eq!(content["number_of_waiting_speakers"], json!(2));
    }

    #[tokio::test]
    async fn los_amount_next_ignored_without_shown_number() {
        let data = with(
            &los_data(),
            json!({"meeting/1": {
                "list_of_speakers_amount_next_on_projector": 1,
                "list_of_speakers_show_amount_of_speakers_on_slide": false,
            }}),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(content["waiting"].as_array().unwrap().len(), 2);
        assert!(content.get("number_of_waiting_speakers").is_none());
    }

    #[tokio::test]
    async fn los_equal_weights_sort_by_meeting_user() {
        // Speakers 2 and 1 have the same weight, so the lower meeting user comes first.
        // Speakers 8 and 9 have no meeting user and keep their order in the list.
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [9, 8, 2, 1]},
                "speaker/1": {"weight": 5},
                "speaker/2": {"meeting_user_id": 120},
                "meeting_user/120": {"user_id": 11},
                "speaker/8": {"note": "first without user", "weight": 5},
                "speaker/9": {"note": "second without user", "weight": 5},
            }),
        );
        let content = render_los(&data).await.unwrap();
        let notes: Vec<&Json> = content["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .map(|speaker| &speaker["note"])
            .collect();
        assert_eq!(
            notes,
            [
                &json!("second without user"),
                &json!("first without user"),
                &json!("Seq2Waiting"),
                &json!("Seq1Waiting"),
            ]
        );
        assert_eq!(content["waiting"][0]["user"], json!(""));
    }

    #[tokio::test]
    async fn los_equal_end_times_keep_list_order() {
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [6, 4, 5]},
                "meeting/1": {"list_of_speakers_amount_last_on_projector": -1},
                "speaker/4": {"end_time": 28},
            }),
        );
        let content = render_los(&data).await.unwrap();
        let users: Vec<&Json> = content["finished"]
            .as_array()
            .unwrap()
            .iter()
            .map(|speaker| &speaker["user"])
            .collect();
        assert_eq!(users, [&json!("Ernest"), &json!("Calli"), &json!("Bo")]);
    }

    #[tokio::test]
    async fn los_last_unfinished_speech_is_current() {
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [3, 1]},
                "speaker/1": {"begin_time": 120},
            }),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(content["current"]["user"], json!("jonny123"));
        assert_eq!(content["waiting"], json!(null));
    }

    #[tokio::test]
    async fn los_user_names_show_meeting_structure_levels() {
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [1, 2, 3]},
                "user/10": {
                    "title": "Dr.",
                    "first_name": "Jonny",
                    "last_name": "Doe",
                    "meeting_user_ids": [101, 100],
                },
                "meeting_user/100": {"meeting_id": 1, "structure_level_ids": [2, 1]},
                "meeting_user/101": {"meeting_id": 2, "structure_level_ids": [3]},
                "structure_level/1": {"name": "Alpha"},
                "structure_level/2": {"name": "Beta"},
                "structure_level/3": {"name": "Other meeting"},
                "user/11": {"title": "Dr.", "meeting_user_ids": [110]},
                "meeting_user/110": {"meeting_id": 1},
                "user/20": {"title": "Prof.", "meeting_user_ids": [200]},
                "meeting_user/200": {"meeting_id": 2, "structure_level_ids": [3]},
            }),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(content["waiting"][0]["user"], json!("elenor"));
        assert_eq!(
            content["waiting"][1]["user"],
            json!("Dr. Jonny Doe (Beta, Alpha)")
        );
        assert_eq!(content["current"]["user"], json!("Prof. Jonny"));
    }

    #[tokio::test]
    async fn los_same_user_twice() {
        let data = with(
            &los_data(),
            json!({
                "list_of_speakers/1": {"speaker_ids": [1, 2]},
                "speaker/2": {"meeting_user_id": 100},
            }),
        );
        let content = render_los(&data).await.unwrap();
        assert_eq!(content["waiting"][0]["user"], json!("jonny123"));
        assert_eq!(content["waiting"][1]["user"], json!("jonny123"));
    }

    #[tokio::test]
    async fn los_missing_objects_fail() {
        let data = los_data();
        assert_missing(
            render_los(&without(&data, "list_of_speakers/1")).await,
            "list_of_speakers/1",
        );
        assert_missing(render_los(&without(&data, "speaker/2")).await, "speaker/2");
        assert_missing(
            render_los(&without(&data, "meeting_user/110")).await,
            "meeting_user/110",
        );
        assert_missing(render_los(&without(&data, "user/11")).await, "user/11");
        assert_missing(
            render_los(&with(&data, json!({"meeting_user/110": {"user_id": null}}))).await,
            "user/0",
        );
        assert_missing(render_los(&without(&data, "meeting/1")).await, "meeting/1");
        assert_missing(render_los(&without(&data, "topic/1")).await, "topic/1");
    }

    #[tokio::test]
    async fn los_user_without_names_fails() {
        let data = with(&los_data(), json!({"user/11": {"username": null}}));
        assert_invalid(render_los(&data).await, "user/11 has neither");
    }

    #[tokio::test]
    async fn los_without_title_information_fails() {
        let data = with(
            &los_data(),
            json!({"list_of_speakers/1": {"content_object_id": "projector_message/1"}}),
        );
        assert_invalid(render_los(&data).await, "has no title information");

        let data = with(
            &los_data(),
            json!({"list_of_speakers/1": {"content_object_id": null}}),
        );
        assert_invalid(render_los(&data).await, "has no content_object_id");
    }

    #[tokio::test]
    async fn los_wrong_types_fail() {
        let data = with(&los_data(), json!({"speaker/3": {"begin_time": "100"}}));
        assert_bad_value(render_los(&data).await, "speaker/3/begin_time");
    }

    /// Builds the data of the current slides: meeting 6 has the reference projector 60, whose
    /// second projection shows topic/1 with list of speakers 7. Its only speaker waits.
    fn current_data() -> Json {
        json!({
            "projector/60": {"current_projection_ids": [1, 2]},
            "projection/1": {"content_object_id": "user/10"},
            "projection/2": {"content_object_id": "topic/1"},
            "meeting/6": {
                "list_of_speakers_show_amount_of_speakers_on_slide": false,
                "reference_projector_id": 60,
            },
            "topic/1": {
                "list_of_speakers_id": 7,
                "title": "topic1 title",
                "agenda_item_id": 1,
            },
            "list_of_speakers/7": {
                "content_object_id": "topic/1",
                "closed": true,
                "speaker_ids": [8],
                "meeting_id": 6,
            },
            "speaker/8": {
                "meeting_user_id": 100,
                "speech_state": "pro",
                "note": "Lonesome speaker",
                "point_of_order": false,
                "weight": 10,
            },
            "meeting_user/100": {"user_id": 10},
            "user/10": {"username": "jonny123"},
            "agenda_item/1": {"item_number": "ItemNr. Topic1"},
        })
    }

    fn meeting_projection(kind: &str) -> Projection {
        let mut p7on = slide_projection("meeting/6");
        p7on.kind = kind.into();
        p7on.meeting_id = 6;
        p7on.current_projector_id = 60;
        p7on
    }

    async fn render_current(data: &Json, kind: &str) -> Result<Json, SlideError> {
        render(data, &meeting_projection(kind)).await
    }

    #[tokio::test]
    async fn current_los_finds_second_projection() {
        assert_eq!(
            render_current(&current_data(), "current_los")
                .await
                .unwrap(),
            json!({
                "waiting": [expected_speaker("jonny123", "pro", "Lonesome speaker", false)],
                "current": null,
                "finished": null,
                "closed": true,
                "title_information": topic_title("topic1 title", "ItemNr. Topic1"),
            })
        );
    }

    #[tokio::test]
    async fn current_los_without_list_is_empty() {
        let data = with(
            &current_data(),
            json!({"topic/1": {"list_of_speakers_id": null}}),
        );
        assert_eq!(
            render_current(&data, "current_los").await.unwrap(),
            json!({})
        );

        let data = with(
            &current_data(),
            json!({"projector/60": {"current_projection_ids": null}}),
        );
        assert_eq!(
            render_current(&data, "current_los").await.unwrap(),
            json!({})
        );
    }

    #[tokio::test]
    async fn current_los_takes_first_list() {
        let data = with(
            &current_data(),
            json!({
                "projection/1": {"content_object_id": "topic/2"},
                "topic/2": {"list_of_speakers_id": 9, "title": "topic2 title"},
                "list_of_speakers/9": {"content_object_id": "topic/2"},
            }),
        );
        let content = render_current(&data, "current_los").await.unwrap();
        assert_eq!(content["title_information"]["content_object_id"], "topic/2");
        assert_eq!(content["waiting"], json!(null));
    }

    #[tokio::test]
    async fn current_los_skips_empty_content_object() {
        let data = with(
            &current_data(),
            json!({"projection/1": {"content_object_id": ""}}),
        );
        let content = render_current(&data, "current_los").await.unwrap();
        assert_eq!(content["title_information"]["content_object_id"], "topic/1");

        let data = with(
            &current_data(),
            json!({"projection/1": {"content_object_id": null}}),
        );
        let content = render_current(&data, "current_los").await.unwrap();
        assert_eq!(content["title_information"]["content_object_id"], "topic/1");
    }

    #[tokio::test]
    async fn current_los_missing_objects_fail() {
        let data = current_data();
        assert_missing(
            render_current(&without(&data, "meeting/6"), "current_los").await,
            "meeting/6",
        );
        assert_missing(
            render_current(
                &with(
                    &data,
                    json!({"meeting/6": {"reference_projector_id": null}}),
                ),
                "current_los",
            )
            .await,
            "projector/0",
        );
        assert_missing(
            render_current(&without(&data, "projector/60"), "current_los").await,
            "projector/60",
        );
        assert_missing(
            render_current(&without(&data, "projection/1"), "current_los").await,
            "projection/1",
        );
        assert_missing(
            render_current(&without(&data, "topic/1"), "current_los").await,
            "topic/1",
        );
        assert_missing(
            render_current(&without(&data, "list_of_speakers/7"), "current_los").await,
            "list_of_speakers/7",
        );
    }

    #[tokio::test]
    async fn current_slides_need_a_meeting() {
        let store = datastore(&current_data());
        let p7on = slide_projection("topic/1");
        for result in [
            super::current_los(&mut fetch(&store), &p7on).await,
            super::current_speaker_chyron(&mut fetch(&store), &p7on).await,
            super::current_structure_level_list(&mut fetch(&store), &p7on).await,
            super::current_speaking_structure_level(&mut fetch(&store), &p7on).await,
        ] {
            assert_invalid(result, "needs a projected meeting");
        }
    }

    fn chyron_data() -> Json {
        with(
            &current_data(),
            json!({
                "speaker/8": {
                    "begin_time": 100,
                    "structure_level_list_of_speakers_id": 7,
                },
                "user/10": {
                    "title": "Admiral",
                    "first_name": "Don",
                    "last_name": "Snyder",
                    "meeting_user_ids": [100],
                },
                "meeting_user/100": {"meeting_id": 6, "structure_level_ids": [4, 8]},
                "projector/60": {
                    "chyron_background_color": "green",
                    "chyron_font_color": "red",
                },
                "structure_level/4": {"name": "Level"},
                "structure_level/8": {"name": "Foo"},
                "structure_level_list_of_speakers/7": {
                    "meeting_id": 6,
                    "structure_level_id": 4,
                    "speaker_ids": [8],
                },
                "meeting/6": {"list_of_speakers_default_structure_level_time": 1},
            }),
        )
    }

    async fn render_chyron(data: &Json) -> Result<Json, SlideError> {
        render_current(data, "current_speaker_chyron").await
    }

    #[tokio::test]
    async fn chyron_shows_speech_structure_level() {
        assert_eq!(
            render_chyron(&chyron_data()).await.unwrap(),
            json!({
                "background_color": "green",
                "font_color": "red",
                "title_information": topic_title("topic1 title", "ItemNr. Topic1"),
                "current_speaker_name": "Admiral Don Snyder",
                "current_speaker_level": "Level",
            })
        );
    }

    #[tokio::test]
    async fn chyron_without_level_time_shows_all_levels() {
        let data = with(
            &chyron_data(),
            json!({"meeting/6": {"list_of_speakers_default_structure_level_time": 0}}),
        );
        assert_eq!(
            render_chyron(&data).await.unwrap(),
            json!({
                "background_color": "green",
                "font_color": "red",
                "title_information": topic_title("topic1 title", "ItemNr. Topic1"),
                "current_speaker_name": "Admiral Don Snyder",
                "current_speaker_level": "Foo, Level",
            })
        );
    }

    #[tokio::test]
    async fn chyron_without_current_list() {
        let data = with(
            &chyron_data(),
            json!({"topic/1": {"list_of_speakers_id": null}}),
        );
        assert_eq!(
            render_chyron(&data).await.unwrap(),
            json!({
                "background_color": "green",
                "font_color": "red",
                "current_speaker_name": "",
                "current_speaker_level": "",
            })
        );
    }

    #[tokio::test]
    async fn chyron_leaves_out_missing_title_information() {
        let data = with(
            &chyron_data(),
            json!({"list_of_speakers/7": {"content_object_id": "projector_message/1"}}),
        );
        assert_eq!(
            render_chyron(&data).await.unwrap(),
            json!({
                "background_color": "green",
                "font_color": "red",
                "current_speaker_name": "Admiral Don Snyder",
                "current_speaker_level": "Level",
            })
        );
    }

    #[tokio::test]
    async fn chyron_uses_own_projector_colors() {
        let data = with(
            &chyron_data(),
            json!({"projector/61": {"chyron_background_color": "blue"}}),
        );
        let mut p7on = meeting_projection("current_speaker_chyron");
        p7on.current_projector_id = 61;
        let content = render(&data, &p7on).await.unwrap();
        assert_eq!(content["background_color"], "blue");
        assert_eq!(content["font_color"], "");

        p7on.current_projector_id = 0;
        let content = render(&data, &p7on).await.unwrap();
        assert_eq!(content["background_color"], "green");
        assert_eq!(content["font_color"], "red");

        p7on.current_projector_id = 62;
        assert_missing(render(&data, &p7on).await, "projector/62");
    }

    #[tokio::test]
    async fn chyron_skips_paused_and_finished_speeches() {
        let data = with(
            &chyron_data(),
            json!({
                "list_of_speakers/7": {"speaker_ids": [9, 10, 11, 8]},
                "speaker/9": {"meeting_user_id": 100, "begin_time": 10, "pause_time": 20},
                "speaker/10": {"meeting_user_id": 100, "begin_time": 10, "end_time": 20},
                "speaker/11": {"meeting_user_id": 100},
                "speaker/8": {"meeting_user_id": 110},
                "meeting_user/110": {"user_id": 11},
                "user/11": {"username": "elenor"},
            }),
        );
        let content = render_chyron(&data).await.unwrap();
        assert_eq!(content["current_speaker_name"], "elenor");
        assert_eq!(content["current_speaker_level"], "Level");

        let data = with(&data, json!({"speaker/8": {"end_time": 200}}));
        let content = render_chyron(&data).await.unwrap();
        assert_eq!(content["current_speaker_name"], "");
        assert_eq!(content["current_speaker_level"], "");
        assert_eq!(content["title_information"]["content_object_id"], "topic/1");
    }

    #[tokio::test]
    async fn chyron_speaker_without_meeting_user() {
        let data = with(
            &chyron_data(),
            json!({
                "list_of_speakers/7": {"speaker_ids": [9, 8]},
                "speaker/9": {"begin_time": 100},
            }),
        );
        let content = render_chyron(&data).await.unwrap();
        assert_eq!(content["current_speaker_name"], "");
        assert_eq!(content["current_speaker_level"], "");
    }

    #[tokio::test]
    async fn chyron_speech_without_structure_level() {
        let data = with(
            &chyron_data(),
            json!({"speaker/8": {"structure_level_list_of_speakers_id": null}}),
        );
        let content = render_chyron(&data).await.unwrap();
        assert_eq!(content["current_speaker_level"], "");

        let data = with(
            &chyron_data(),
            json!({"structure_level_list_of_speakers/7": {"structure_level_id": null}}),
        );
        let content = render_chyron(&data).await.unwrap();
        assert_eq!(content["current_speaker_level"], "");

        let data = without(&chyron_data(), "structure_level/4");
        let content = render_chyron(&data).await.unwrap();
        assert_eq!(content["current_speaker_level"], "");
    }

    #[tokio::test]
    async fn chyron_missing_objects_fail() {
        let data = chyron_data();
        assert_missing(
            render_chyron(&without(&data, "structure_level_list_of_speakers/7")).await,
            "structure_level_list_of_speakers/7",
        );
        assert_missing(
            render_chyron(&without(&data, "meeting_user/100")).await,
            "meeting_user/100",
        );
        assert_missing(render_chyron(&without(&data, "user/10")).await, "user/10");
        assert_missing(
            render_chyron(&without(&data, "list_of_speakers/7")).await,
            "list_of_speakers/7",
        );
        let no_level_time = with(
            &data,
            json!({"meeting/6": {"list_of_speakers_default_structure_level_time": null}}),
        );
        assert_missing(
            render_chyron(&without(&no_level_time, "structure_level/8")).await,
            "structure_level/8",
        );
        assert_invalid(
            render_chyron(&with(
                &data,
                json!({"list_of_speakers/7": {"content_object_id": null}}),
            ))
            .await,
            "has no content_object_id",
        );
    }

    /// Structure level 1 has used time, 2 runs, 3 has a speaker waiting, 4 has only an
    /// interposed question and an intervention, and 5 has no speakers.
    fn level_list_data() -> Json {
        with(
            &current_data(),
            json!({
                "list_of_speakers/7": {"structure_level_list_of_speakers_ids": [5, 4, 3, 2, 1]},
                "structure_level_list_of_speakers/1": {
                    "structure_level_id": 1,
                    "initial_time": 100,
                    "additional_time": 20,
                    "remaining_time": 50,
                },
                "structure_level_list_of_speakers/2": {
                    "structure_level_id": 2,
                    "initial_time": 100,
                    "remaining_time": 100,
                    "current_start_time": 1000,
                },
                "structure_level_list_of_speakers/3": {
                    "structure_level_id": 3,
                    "initial_time": 100,
                    "remaining_time": 100,
                    "speaker_ids": [31, 32],
                },
                "structure_level_list_of_speakers/4": {
                    "structure_level_id": 4,
                    "initial_time": 100,
                    "remaining_time": 100,
                    "speaker_ids": [41, 42],
                },
                "structure_level_list_of_speakers/5": {
                    "structure_level_id": 5,
                    "initial_time": 100,
                    "additional_time": 10,
                    "remaining_time": 110,
                },
                "speaker/31": {"speech_state": "interposed_question"},
                "speaker/32": {},
                "speaker/41": {"speech_state": "interposed_question"},
                "speaker/42": {"speech_state": "intervention"},
                "structure_level/1": {"name": "One", "color": "#111111"},
                "structure_level/2": {"name": "Two"},
                "structure_level/3": {"name": "Three", "color": "#333333"},
            }),
        )
    }

    async fn render_level_list(data: &Json) -> Result<Json, SlideError> {
        render_current(data, "current_structure_level_list").await
    }

    #[tokio::test]
    async fn level_list_shows_used_and_waiting_levels() {
        assert_eq!(
            render_level_list(&level_list_data()).await.unwrap(),
            json!({
                "title": "topic1 title",
                "structure_levels": [
                    {
                        "id": 3,
                        "name": "Three",
                        "color": "#333333",
                        "speech_state": "",
                        "point_of_order": false,
                        "remaining_time": 100,
                        "current_start_time": 0,
                    },
                    {
                        "id": 2,
                        "name": "Two",
                        "color": "",
                        "speech_state": "",
                        "point_of_order": false,
                        "remaining_time": 100,
                        "current_start_time": 1000,
                    },
                    {
                        "id": 1,
                        "name": "One",
                        "color": "#111111",
                        "speech_state": "",
                        "point_of_order": false,
                        "remaining_time": 50,
                        "current_start_time": 0,
                    },
                ],
            })
        );
    }

    #[tokio::test]
    async fn level_list_without_levels_is_empty() {
        let data = with(
            &level_list_data(),
            json!({"list_of_speakers/7": {"structure_level_list_of_speakers_ids": [5, 4]}}),
        );
        assert_eq!(
            render_level_list(&data).await.unwrap(),
            json!({"title": "topic1 title", "structure_levels": []})
        );
    }

    #[tokio::test]
    async fn level_list_missing_content_object_has_empty_title() {
        let data = without(&level_list_data(), "topic/1");
        let data = with(
            &data,
            json!({"projection/2": {"content_object_id": "topic/2"}, "topic/2": {"list_of_speakers_id": 7}}),
        );
        let content = render_level_list(&data).await.unwrap();
        assert_eq!(content["title"], "");
        assert_eq!(content["structure_levels"].as_array().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn level_list_needs_current_list_with_title() {
        let data = with(
            &level_list_data(),
            json!({"topic/1": {"list_of_speakers_id": null}}),
        );
        assert_invalid(render_level_list(&data).await, "no object");

        let data = with(
            &level_list_data(),
            json!({"list_of_speakers/7": {"content_object_id": "meeting_mediafile/1"}}),
        );
        assert_invalid(render_level_list(&data).await, "has no title");

        let data = without(&level_list_data(), "list_of_speakers/7");
        assert_invalid(render_level_list(&data).await, "has no content_object_id");
    }

    #[tokio::test]
    async fn level_list_missing_objects_fail() {
        let data = level_list_data();
        assert_missing(
            render_level_list(&without(&data, "structure_level_list_of_speakers/4")).await,
            "structure_level_list_of_speakers/4",
        );
        assert_missing(
            render_level_list(&without(&data, "speaker/41")).await,
            "speaker/41",
        );
        assert_missing(
            render_level_list(&without(&data, "structure_level/3")).await,
            "structure_level/3",
        );
        assert_missing(
            render_level_list(&with(
                &data,
                json!({"structure_level_list_of_speakers/3": {"structure_level_id": null}}),
            ))
            .await,
            "structure_level/0",
        );
    }

    #[tokio::test]
    async fn level_list_fractional_time_fails() {
        let data = with(
            &level_list_data(),
            json!({"structure_level_list_of_speakers/1": {"remaining_time": 50.5}}),
        );
        assert_bad_value(
            render_level_list(&data).await,
            "structure_level_list_of_speakers/1/remaining_time",
        );
    }

    /// Speaker 8 speaks since 1000 with structure level 4, which has 300 seconds left.
    fn speaking_data() -> Json {
        with(
            &current_data(),
            json!({
                "speaker/8": {
                    "begin_time": 1000,
                    "total_pause": 20,
                    "structure_level_list_of_speakers_id": 7,
                },
                "structure_level_list_of_speakers/7": {
                    "structure_level_id": 4,
                    "initial_time": 400,
                    "remaining_time": 300,
                    "current_start_time": 1020,
                },
                "structure_level/4": {"name": "Level", "color": "#ff0000"},
                "meeting/6": {"list_of_speakers_intervention_time": 60},
            }),
        )
    }

    async fn render_speaking(data: &Json) -> Result<Json, SlideError> {
        render_current(data, "current_speaking_structure_level").await
    }

    #[tokio::test]
    async fn speaking_level_uses_level_time() {
        assert_eq!(
            render_speaking(&speaking_data()).await.unwrap(),
            json!({
                "id": 4,
                "name": "Level",
                "color": "#ff0000",
                "speech_state": "pro",
                "point_of_order": false,
                "remaining_time": 300,
                "current_start_time": 1020,
            })
        );
    }

    #[tokio::test]
    async fn speaking_level_without_speech_is_empty() {
        let data = with(&speaking_data(), json!({"speaker/8": {"begin_time": null}}));
        assert_eq!(render_speaking(&data).await.unwrap(), json!({}));

        let data = with(&speaking_data(), json!({"speaker/8": {"end_time": 2000}}));
        assert_eq!(render_speaking(&data).await.unwrap(), json!({}));
    }

    #[tokio::test]
    async fn speaking_level_point_of_order_has_own_time() {
        let data = with(
            &speaking_data(),
            json!({"speaker/8": {"point_of_order": true}}),
        );
        assert_eq!(
            render_speaking(&data).await.unwrap(),
            json!({
                "id": 4,
                "name": "Level",
                "color": "#ff0000",
                "speech_state": "pro",
                "point_of_order": true,
                "current_start_time": 1020,
            })
        );
    }

    #[tokio::test]
    async fn speaking_level_without_structure_level() {
        let data = with(
            &speaking_data(),
            json!({"speaker/8": {
                "structure_level_list_of_speakers_id": null,
                "speech_state": "interposed_question",
                "total_pause": 5,
            }}),
        );
        assert_eq!(
            render_speaking(&data).await.unwrap(),
            json!({
                "id": 0,
                "name": "",
                "color": "",
                "speech_state": "interposed_question",
                "point_of_order": false,
                "current_start_time": 1005,
            })
        );
    }

    #[tokio::test]
    async fn speaking_level_intervention_has_meeting_time() {
        let data = with(
            &speaking_data(),
            json!({"speaker/8": {"speech_state": "intervention"}}),
        );
        let content = render_speaking(&data).await.unwrap();
        assert_eq!(content["remaining_time"], 60);
        assert_eq!(content["current_start_time"], 1020);
        assert_eq!(content["name"], "Level");

        // A paused intervention shows the time left when it was paused.
        let data = with(&data, json!({"speaker/8": {"pause_time": 1050}}));
        let content = render_speaking(&data).await.unwrap();
        assert_eq!(content["remaining_time"], 30);
        assert_eq!(content["current_start_time"], 0);

        let data = with(
            &data,
            json!({"meeting/6": {"list_of_speakers_intervention_time": null}}),
        );
        let content = render_speaking(&data).await.unwrap();
        assert_eq!(content["remaining_time"], -30);
    }

    #[tokio::test]
    async fn speaking_level_paused_question_has_no_start() {
        let data = with(
            &speaking_data(),
            json!({"speaker/8": {"speech_state": "interposed_question", "pause_time": 1050}}),
        );
        let content = render_speaking(&data).await.unwrap();
        assert_eq!(content["current_start_time"], 0);
        assert!(content.get("remaining_time").is_none());
    }

    #[tokio::test]
    async fn speaking_level_paused_level_speech_keeps_level_time() {
        // All speeches are paused: the lightest one is shown, with its level's times.
        let data = with(
            &speaking_data(),
            json!({
                "list_of_speakers/7": {"speaker_ids": [9, 8]},
                "speaker/8": {"pause_time": 1050, "weight": 5},
                "speaker/9": {"begin_time": 500, "pause_time": 600, "weight": 7},
            }),
        );
        let content = render_speaking(&data).await.unwrap();
        assert_eq!(content["id"], 4);
        assert_eq!(content["remaining_time"], 300);
        assert_eq!(content["current_start_time"], 1020);
    }

    #[tokio::test]
    async fn speaking_level_prefers_running_speech() {
        let data = with(
            &speaking_data(),
            json!({
                "list_of_speakers/7": {"speaker_ids": [9, 10, 8]},
                "speaker/8": {"weight": 5},
                "speaker/9": {"begin_time": 500, "pause_time": 600, "weight": 1},
                "speaker/10": {"begin_time": 400, "end_time": 450, "weight": 0},
            }),
        );
        let content = render_speaking(&data).await.unwrap();
        assert_eq!(content["speech_state"], "pro");
        assert_eq!(content["remaining_time"], 300);

        // Without a running speech, the lightest begun and unfinished one is shown. On
        // equal weights that is the first of the list.
        let data = with(
            &data,
            json!({
                "speaker/8": {"pause_time": 1050, "weight": 1},
                "speaker/9": {"speech_state": "interposed_question"},
            }),
        );
        let content = render_speaking(&data).await.unwrap();
        assert_eq!(content["speech_state"], "interposed_question");
        assert_eq!(content["current_start_time"], 0);
    }

    #[tokio::test]
    async fn speaking_level_missing_objects_fail() {
        let data = speaking_data();
        assert_missing(
            render_speaking(&with(
                &data,
                json!({"topic/1": {"list_of_speakers_id": null}}),
            ))
            .await,
            "list_of_speakers/0",
        );
        assert_missing(
            render_speaking(&without(&data, "speaker/8")).await,
            "speaker/8",
        );
        assert_missing(
            render_speaking(&without(&data, "structure_level_list_of_speakers/7")).await,
            "structure_level_list_of_speakers/7",
        );
        assert_missing(
            render_speaking(&without(&data, "structure_level/4")).await,
            "structure_level/4",
        );
        let intervention = with(
            &data,
            json!({"speaker/8": {"speech_state": "intervention"}}),
        );
        assert_missing(
            render_speaking(&with(
                &intervention,
                json!({"list_of_speakers/7": {"meeting_id": null}}),
            ))
            .await,
            "meeting/0",
        );
    }
}
