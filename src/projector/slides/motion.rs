//! The motion slide and the title information of motions.
//!
//! The meeting decides what the slide shows: text, amendment paragraphs and preamble
//! only with `motions_enable_text_on_projector`, the reason only with
//! `motions_enable_reason_on_projector`, the motions whose recommendation extension
//! refers to this one only with `motions_show_referring_motions`, and the
//! recommendation only with `motions_enable_recommendation_on_projector`.

use super::super::{Fetch, Projection, SlideError};
use super::user::UserName;
use crate::models::collections::{
    Meeting, MeetingUser, Motion, MotionChangeRecommendation, MotionState, MotionSubmitter,
};
use crate::models::{Collection, Fqid, Id};
use serde_json::{json, Map, Value as Json};

/// Renders the `motion` slide.
pub async fn motion(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let settings = MeetingSettings::read(fetch, p7on.meeting_id).await?;
    let mode = projection_mode(&p7on.options)?;

    let mut fields = vec![
        Motion::TITLE.id(),
        Motion::NUMBER.id(),
        Motion::MEETING_ID.id(),
        Motion::LEAD_MOTION_ID.id(),
        Motion::CHANGE_RECOMMENDATION_IDS.id(),
        Motion::AMENDMENT_IDS.id(),
        Motion::SUBMITTER_IDS.id(),
        Motion::REFERENCED_IN_MOTION_RECOMMENDATION_EXTENSION_IDS.id(),
        Motion::RECOMMENDATION_ID.id(),
        Motion::RECOMMENDATION_EXTENSION.id(),
        Motion::RECOMMENDATION_EXTENSION_REFERENCE_IDS.id(),
        Motion::START_LINE_NUMBER.id(),
        Motion::ADDITIONAL_SUBMITTER.id(),
    ];
    if settings.text {
        fields.extend([Motion::TEXT.id(), Motion::AMENDMENT_PARAGRAPHS.id()]);
    }
    if settings.reason {
        fields.push(Motion::REASON.id());
    }
    // The modified final version is only shown when the projection requests the final
    // version of the motion.
    let final_version = mode == "final" || mode == "modified_final_version";
    if final_version {
        fields.push(Motion::MODIFIED_FINAL_VERSION.id());
    }
    let motion = fetch.object(p7on.content_object_id, &fields).await?;
    let meeting_id = motion.get(Motion::MEETING_ID)?.unwrap_or(0);

    let mut out = Map::new();
    out.insert("id".into(), json!(motion.id()));
    out.insert("title".into(), json!(motion.get_or_default(Motion::TITLE)?));
    out.insert(
        "number".into(),
        json!(motion.get_or_default(Motion::NUMBER)?),
    );
    insert_string(
        &mut out,
        "additional_submitter",
        motion.get_or_default(Motion::ADDITIONAL_SUBMITTER)?,
    );
    out.insert("show_sidebox".into(), json!(settings.sidebox));
    out.insert("line_length".into(), json!(settings.line_length));
    if settings.text {
        insert_string(&mut out, "preamble", settings.preamble.clone());
        // An unset value is shown as null, not left out.
        out.insert(
            "amendment_paragraphs".into(),
            motion.json(Motion::AMENDMENT_PARAGRAPHS.id())?,
        );
    }
    out.insert("line_numbering".into(), json!(settings.line_numbering));
    let start_line_number = motion.get_or_default(Motion::START_LINE_NUMBER)?;
    if start_line_number != 0 {
        out.insert("start_line_number".into(), json!(start_line_number));
    }
    if settings.text {
        insert_string(&mut out, "text", motion.get_or_default(Motion::TEXT)?);
    }
    if settings.reason {
        insert_string(&mut out, "reason", motion.get_or_default(Motion::REASON)?);
    }
    if final_version {
        insert_string(
            &mut out,
            "modified_final_version",
            motion.get_or_default(Motion::MODIFIED_FINAL_VERSION)?,
        );
    }

    let submitter_ids = motion.get_or_default(Motion::SUBMITTER_IDS)?;
    let submitters = submitter_names(fetch, &submitter_ids, meeting_id).await?;
    out.insert("submitters".into(), list_or_null(submitters));

    if let Some(lead_id) = motion.get(Motion::LEAD_MOTION_ID)?.filter(|id| *id != 0) {
        let lead = lead_motion(fetch, lead_id, settings.text).await?;
        out.insert("lead_motion".into(), lead);
    }

    let recommendation_ids = motion.get_or_default(Motion::CHANGE_RECOMMENDATION_IDS)?;
    let recommendations = change_recommendations(fetch, &recommendation_ids).await?;
    out.insert(
        "change_recommendations".into(),
        list_or_null(recommendations),
    );

    let amendment_ids = motion.get_or_default(Motion::AMENDMENT_IDS)?;
    let amendments = amendments(fetch, &amendment_ids).await?;
    if !amendments.is_empty() {
        out.insert("amendments".into(), Json::Array(amendments));
    }

    let referencing_ids =
        motion.get_or_default(Motion::REFERENCED_IN_MOTION_RECOMMENDATION_EXTENSION_IDS)?;
    if settings.referring_motions && !referencing_ids.is_empty() {
        let mut referencing = Vec::with_capacity(referencing_ids.len());
        for id in referencing_ids {
            let fqid = Fqid::new(Collection::Motion, id);
            referencing.push(title_information(fetch, fqid, "", meeting_id).await?);
        }
        out.insert(
            "recommendation_referencing_motions".into(),
            Json::Array(referencing),
        );
    }

    let recommendation_id = motion.get(Motion::RECOMMENDATION_ID)?.unwrap_or(0);
    if settings.recommendation && recommendation_id != 0 {
        let state = fetch
            .object(
                Fqid::new(Collection::MotionState, recommendation_id),
                &[
                    MotionState::RECOMMENDATION_LABEL.id(),
                    MotionState::SHOW_RECOMMENDATION_EXTENSION_FIELD.id(),
                ],
            )
            .await?;
        insert_string(
            &mut out,
            "recommendation_label",
            state.get_or_default(MotionState::RECOMMENDATION_LABEL)?,
        );
        if state.get_or_default(MotionState::SHOW_RECOMMENDATION_EXTENSION_FIELD)? {
            insert_string(
                &mut out,
                "recommendation_extension",
                motion.get_or_default(Motion::RECOMMENDATION_EXTENSION)?,
            );
            let reference_ids =
                motion.get_or_default(Motion::RECOMMENDATION_EXTENSION_REFERENCE_IDS)?;
            let referenced = referenced_motions(fetch, &reference_ids, meeting_id).await?;
            if !referenced.is_empty() {
                out.insert(
                    "recommendation_referenced_motions".into(),
                    Json::Object(referenced),
                );
            }
        }
        insert_string(&mut out, "recommender", settings.recommendations_by.clone());
    }

    Ok(Json::Object(out))
}

/// Describes a motion for slides that list it. An empty `item_number` is replaced by the
/// number of the motion's agenda item.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    _meeting_id: Id,
) -> Result<Json, SlideError> {
    let motion = fetch
        .object(
            fqid,
            &[
                Motion::NUMBER.id(),
                Motion::TITLE.id(),
                Motion::AGENDA_ITEM_ID.id(),
            ],
        )
        .await?;
    let number =
        super::item_number_or_agenda(fetch, item_number, motion.get(Motion::AGENDA_ITEM_ID)?)
            .await?;
    Ok(json!({
        "collection": "motion",
        "content_object_id": fqid.to_string(),
        "title": motion.get_or_default(Motion::TITLE)?,
        "number": motion.get_or_default(Motion::NUMBER)?,
        "agenda_item_number": number,
    }))
}

/// The meeting settings that shape the motion slide.
struct MeetingSettings {
    text: bool,
    reason: bool,
    referring_motions: bool,
    recommendation: bool,
    recommendations_by: String,
    sidebox: bool,
    line_length: i64,
    /// Empty unless the motion text is shown.
    preamble: String,
    line_numbering: String,
}

impl MeetingSettings {
    /// Reads the settings of the meeting, which has to exist. Unset settings are false,
    /// zero or empty.
    async fn read(fetch: &mut Fetch<'_>, meeting_id: Id) -> Result<Self, SlideError> {
        let meeting = fetch
            .object(
                Fqid::new(Collection::Meeting, meeting_id),
                &[
                    Meeting::MOTIONS_ENABLE_TEXT_ON_PROJECTOR.id(),
                    Meeting::MOTIONS_ENABLE_REASON_ON_PROJECTOR.id(),
                    Meeting::MOTIONS_SHOW_REFERRING_MOTIONS.id(),
                    Meeting::MOTIONS_ENABLE_RECOMMENDATION_ON_PROJECTOR.id(),
                    Meeting::MOTIONS_RECOMMENDATIONS_BY.id(),
                    Meeting::MOTIONS_ENABLE_SIDEBOX_ON_PROJECTOR.id(),
                    Meeting::MOTIONS_LINE_LENGTH.id(),
                    Meeting::MOTIONS_PREAMBLE.id(),
                    Meeting::MOTIONS_DEFAULT_LINE_NUMBERING.id(),
                ],
            )
            .await?;
        let text = meeting.get_or_default(Meeting::MOTIONS_ENABLE_TEXT_ON_PROJECTOR)?;
        let mut preamble = meeting.get_or_default(Meeting::MOTIONS_PREAMBLE)?;
        if !text {
            preamble.clear();
        }
        Ok(MeetingSettings {
            text,
            reason: meeting.get_or_default(Meeting::MOTIONS_ENABLE_REASON_ON_PROJECTOR)?,
            referring_motions: meeting.get_or_default(Meeting::MOTIONS_SHOW_REFERRING_MOTIONS)?,
            recommendation: meeting
                .get_or_default(Meeting::MOTIONS_ENABLE_RECOMMENDATION_ON_PROJECTOR)?,
            recommendations_by: meeting.get_or_default(Meeting::MOTIONS_RECOMMENDATIONS_BY)?,
            sidebox: meeting.get_or_default(Meeting::MOTIONS_ENABLE_SIDEBOX_ON_PROJECTOR)?,
            line_length: meeting.get_or_default(Meeting::MOTIONS_LINE_LENGTH)?,
            preamble,
            line_numbering: meeting.get_or_default(Meeting::MOTIONS_DEFAULT_LINE_NUMBERING)?,
        })
    }
}

/// Reads the `mode` of the projection options. Unset options give an empty mode.
/// Options that are not an object, or a mode that is neither a string nor null, are
/// invalid. The key matches `mode` in any ASCII case.
fn projection_mode(options: &Json) -> Result<String, SlideError> {
    let map = match options {
        Json::Null => return Ok(String::new()),
        Json::Object(map) => map,
        other => {
            return Err(SlideError::invalid(format!(
                "invalid projection options {other}: expected an object"
            )))
        }
    };
    let mut mode = String::new();
    for (key, value) in map {
        if !key.eq_ignore_ascii_case("mode") {
            continue;
        }
        match value {
            Json::Null => {}
            // NOTE: Of several case variants, the exact key `mode` wins. The parsed map
            // does not keep the document order, so the last variant cannot be chosen.
            Json::String(text) if key == "mode" || mode.is_empty() => mode = text.clone(),
            Json::String(_) => {}
            other => {
                return Err(SlideError::invalid(format!(
                    "invalid projection option {key}: {other} is not a string"
                )))
            }
        }
    }
    Ok(mode)
}

/// Reads the lead motion of an amendment. Its text is only read when the meeting shows
/// motion texts.
async fn lead_motion(fetch: &mut Fetch<'_>, id: Id, with_text: bool) -> Result<Json, SlideError> {
    let mut fields = vec![
        Motion::TITLE.id(),
        Motion::NUMBER.id(),
        Motion::START_LINE_NUMBER.id(),
    ];
    if with_text {
        fields.push(Motion::TEXT.id());
    }
    let lead = fetch
        .object(Fqid::new(Collection::Motion, id), &fields)
        .await?;

    let mut out = Map::new();
    out.insert("title".into(), json!(lead.get_or_default(Motion::TITLE)?));
    out.insert("number".into(), json!(lead.get_or_default(Motion::NUMBER)?));
    if with_text {
        insert_string(&mut out, "text", lead.get_or_default(Motion::TEXT)?);
    }
    let start_line_number = lead.get_or_default(Motion::START_LINE_NUMBER)?;
    if start_line_number != 0 {
        out.insert("start_line_number".into(), json!(start_line_number));
    }
    Ok(Json::Object(out))
}

/// Reads the change recommendations with the given ids, in that order, and leaves out
/// the internal ones. Every recommendation has to exist and have `internal` set.
async fn change_recommendations(
    fetch: &mut Fetch<'_>,
    ids: &[Id],
) -> Result<Vec<Json>, SlideError> {
    type Recommendation = MotionChangeRecommendation;
    let recommendations = fetch
        .objects(
            Collection::MotionChangeRecommendation,
            ids,
            &[
                Recommendation::INTERNAL.id(),
                Recommendation::REJECTED.id(),
                Recommendation::TYPE.id(),
                Recommendation::OTHER_DESCRIPTION.id(),
                Recommendation::LINE_FROM.id(),
                Recommendation::LINE_TO.id(),
                Recommendation::TEXT.id(),
                Recommendation::CREATION_TIME.id(),
            ],
        )
        .await?;

    let mut out = Vec::with_capacity(recommendations.len());
    for recommendation in recommendations {
        // NOTE: A recommendation without `internal` fails the slide, although models.yml
        // gives the field the default false.
        let internal = recommendation
            .get(Recommendation::INTERNAL)?
            .ok_or_else(|| {
                SlideError::invalid(format!(
                    "{} has no value for internal",
                    recommendation.fqid()
                ))
            })?;
        if internal {
            continue;
        }
        out.push(json!({
            "id": recommendation.id(),
            "rejected": recommendation.get_or_default(Recommendation::REJECTED)?,
            "type": recommendation.get_or_default(Recommendation::TYPE)?,
            "other_description": recommendation.get_or_default(Recommendation::OTHER_DESCRIPTION)?,
            "line_from": recommendation.get_or_default(Recommendation::LINE_FROM)?,
            "line_to": recommendation.get_or_default(Recommendation::LINE_TO)?,
            "text": recommendation.get_or_default(Recommendation::TEXT)?,
            "creation_time": recommendation.get_or_default(Recommendation::CREATION_TIME)?,
        }));
    }
    Ok(out)
}

/// Reads the amendments with the given ids, in that order, with their public change
/// recommendations and whether the client merges each into the final version and the
/// diff view.
async fn amendments(fetch: &mut Fetch<'_>, ids: &[Id]) -> Result<Vec<Json>, SlideError> {
    let amendments = fetch
        .objects(
            Collection::Motion,
            ids,
            &[
                Motion::TITLE.id(),
                Motion::NUMBER.id(),
                Motion::MEETING_ID.id(),
                Motion::AMENDMENT_PARAGRAPHS.id(),
                Motion::STATE_ID.id(),
                Motion::RECOMMENDATION_ID.id(),
                Motion::CHANGE_RECOMMENDATION_IDS.id(),
            ],
        )
        .await?;

    let mut out = Vec::with_capacity(amendments.len());
    for amendment in amendments {
        // The meeting is not shown, but a wrongly typed value still fails the slide.
        amendment.get(Motion::MEETING_ID)?;
        let recommendation_ids = amendment.get_or_default(Motion::CHANGE_RECOMMENDATION_IDS)?;
        let recommendations = change_recommendations(fetch, &recommendation_ids).await?;
        let state_id = amendment.get(Motion::STATE_ID)?.unwrap_or(0);
        let recommendation_id = amendment.get(Motion::RECOMMENDATION_ID)?.unwrap_or(0);
        let (into_final, into_diff) = merge_modes(fetch, state_id, recommendation_id).await?;
        out.push(json!({
            "id": amendment.id(),
            "title": amendment.get_or_default(Motion::TITLE)?,
            "number": amendment.get_or_default(Motion::NUMBER)?,
            "amendment_paragraphs": amendment.json(Motion::AMENDMENT_PARAGRAPHS.id())?,
            "change_recommendations": list_or_null(recommendations),
            "merge_amendment_into_final": into_final,
            "merge_amendment_into_diff": into_diff,
        }));
    }
    Ok(out)
}

/// Returns `merge_amendment_into_final` and `merge_amendment_into_diff` of an amendment:
/// both `do_merge` when its state merges it. Otherwise it is not merged into the final
/// version, and merged into the diff only when its state is not `do_not_merge` and its
/// recommendation merges. Every other case is `undefined`. The state has to exist, and
/// so does the recommendation when it is read.
async fn merge_modes(
    fetch: &mut Fetch<'_>,
    state_id: Id,
    recommendation_id: Id,
) -> Result<(&'static str, &'static str), SlideError> {
    const MERGE: &str = "do_merge";
    const UNDEFINED: &str = "undefined";

    let by_state = fetch
        .get_if_exists(MotionState::MERGE_AMENDMENT_INTO_FINAL, state_id)
        .await?
        .unwrap_or_default();
    if by_state == MERGE {
        return Ok((MERGE, MERGE));
    }
    if by_state == "do_not_merge" || recommendation_id == 0 {
        return Ok((UNDEFINED, UNDEFINED));
    }
    let by_recommendation = fetch
        .get_if_exists(MotionState::MERGE_AMENDMENT_INTO_FINAL, recommendation_id)
        .await?
        .unwrap_or_default();
    if by_recommendation == MERGE {
        Ok((UNDEFINED, MERGE))
    } else {
        Ok((UNDEFINED, UNDEFINED))
    }
}

/// Describes the motions a recommendation extension refers to, by fqid.
async fn referenced_motions(
    fetch: &mut Fetch<'_>,
    fqids: &[Fqid],
    meeting_id: Id,
) -> Result<Map<String, Json>, SlideError> {
    let mut out = Map::new();
    for &fqid in fqids {
        if fqid.collection != Collection::Motion {
            return Err(SlideError::invalid(format!(
                "recommendation extension refers to {fqid}, but only motions are supported"
            )));
        }
        let info = title_information(fetch, fqid, "", meeting_id).await?;
        out.insert(fqid.to_string(), info);
    }
    Ok(out)
}

/// Reads the names of the motion's submitters, sorted by weight and then by meeting
/// user id. Every submitter, its meeting user and its user have to exist.
async fn submitter_names(
    fetch: &mut Fetch<'_>,
    submitter_ids: &[Id],
    meeting_id: Id,
) -> Result<Vec<Json>, SlideError> {
    let submitters = fetch
        .objects(
            Collection::MotionSubmitter,
            submitter_ids,
            &[
                MotionSubmitter::MEETING_USER_ID.id(),
                MotionSubmitter::WEIGHT.id(),
            ],
        )
        .await?;
    let mut order = Vec::with_capacity(submitters.len());
    for submitter in &submitters {
        let weight = submitter.get_or_default(MotionSubmitter::WEIGHT)?;
        let meeting_user = submitter
            .get(MotionSubmitter::MEETING_USER_ID)?
            .unwrap_or(0);
        order.push((weight, meeting_user));
    }
    order.sort_unstable();

    let meeting_user_ids: Vec<Id> = order.iter().map(|(_, id)| *id).collect();
    let user_ids: Vec<Id> = fetch
        .get_many(MeetingUser::USER_ID, &meeting_user_ids)
        .await?
        .into_iter()
        .map(|id| id.unwrap_or(0))
        .collect();

    let mut names = Vec::with_capacity(user_ids.len());
    for user_id in user_ids {
        let name = UserName::load(fetch, user_id, meeting_id).await?;
        names.push(Json::String(name.representation()));
    }
    Ok(names)
}

/// Inserts a string value unless it is empty.
fn insert_string(out: &mut Map<String, Json>, key: &str, value: String) {
    if !value.is_empty() {
        out.insert(key.into(), Json::String(value));
    }
}

/// Returns the list as a JSON array, or null when it is empty.
fn list_or_null(list: Vec<Json>) -> Json {
    if list.is_empty() {
        Json::Null
    } else {
        Json::Array(list)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{datastore, fetch, render, slide_projection, Projection};
    use super::super::SlideError;
    use crate::models::Fqid;
    use serde_json::{json, Value as Json};

    /// Returns the data of the table test of the motion slide: motion 1 with submitters, change
    /// recommendations, amendments 3 to 6, referencing motions 7 and 8 and referenced
    /// motions 9 and 10. Every meeting setting that switches output is off.
    fn data() -> Json {
        json!({
            "meeting/1": {
                "motions_enable_text_on_projector": false,
                "motions_enable_reason_on_projector": false,
                "motions_show_referring_motions": false,
                "motions_enable_recommendation_on_projector": false,
                "motions_recommendations_by": "Meeting not used variant",
                "motions_enable_sidebox_on_projector": true,
                "motions_line_length": 85,
                "motions_preamble": "The assembly may decide",
                "motions_default_line_numbering": "outside",
            },
            "motion/1": {
                "title": "Motion Title 1",
                "number": "MNr1234",
                "text": "<p>Motion1 Text HTML</p>",
                "reason": "<p>Motion1 reason HTML</p>",
                "modified_final_version": "<p>Motion1 modifiedFinalVersion HTML</p>",
                "submitter_ids": [1, 2, 3],
                "amendment_paragraphs": {"1": "amendmentParagraph1", "2": "amendmentParagraph2"},
                "change_recommendation_ids": [1, 2, 3],
                "amendment_ids": [3, 4, 5, 6],
                "referenced_in_motion_recommendation_extension_ids": [7, 8],
                "recommendation_id": 4,
                "recommendation_extension": "RecommendationExtension_motion1",
                "recommendation_extension_reference_ids": ["motion/9", "motion/10"],
                "meeting_id": 1,
                "agenda_item_id": 1,
                "start_line_number": 24,
            },
            "motion/2": {
                "title": "Lead Motion Title",
                "number": "Lead Motion 111",
                "text": "<p>Lead Motion Text HTML</p>",
                "agenda_item_id": 2,
                "start_line_number": 24,
            },
            "motion/3": {
                "title": "Amendment3 title",
                "number": "Amendment3 123",
                "amendment_paragraphs": {"31": "amendmentParagraph31", "32": "amendmentParagraph32"},
                "change_recommendation_ids": [4, 5],
                "state_id": 1,
                "agenda_item_id": 3,
            },
            "motion/4": {
                "title": "Amendment4 title",
                "number": "Amendment4 4123",
                "state_id": 2,
                "agenda_item_id": 4,
            },
            "motion/5": {
                "title": "Amendment5 title",
                "number": "Amendment5 5123",
                "state_id": 3,
                "recommendation_id": 1,
                "agenda_item_id": 5,
            },
            "motion/6": {
                "title": "Amendment6 title",
                "number": "Amendment6 6123",
                "state_id": 3,
                "recommendation_id": 2,
                "agenda_item_id": 6,
            },
            "motion/7": {
                "title": "ReferencedInMotionRecommendationExtension7 title",
                "number": "RIMRE7 number",
                "agenda_item_id": 7,
            },
            "motion/8": {
                "title": "ReferencedInMotionRecommendationExtension8 title",
                "number": "RIMRE8 number",
                "agenda_item_id": 8,
            },
            "motion/9": {
                "title": "RecommendationExtensionReferenceMotion9 title",
                "number": "RecommendationExtensionReferenceMotion9 number",
                "agenda_item_id": 9,
            },
            "motion/10": {
                "title": "RecommendationExtensionReferenceMotion10 title",
                "number": "RecommendationExtensionReferenceMotion10 number",
                "agenda_item_id": 10,
            },
            "motion_state/1": {"merge_amendment_into_final": "do_merge"},
            "motion_state/2": {"merge_amendment_into_final": "do_not_merge"},
            "motion_state/3": {"merge_amendment_into_final": "undefined"},
            "motion_state/4": {
                "recommendation_label": "RecommendationLabel_state4",
                "show_recommendation_extension_field": true,
            },
            "motion_submitter/1": {"weight": 100, "meeting_user_id": 130, "motion_id": 1},
            "motion_submitter/2": {"weight": 2, "meeting_user_id": 110, "motion_id": 1},
            "motion_submitter/3": {"weight": 30, "meeting_user_id": 120, "motion_id": 1},
            "meeting_user/130": {"user_id": 13},
            "meeting_user/110": {"user_id": 11},
            "meeting_user/120": {"user_id": 12},
            "user/11": {"username": "user11"},
            "user/12": {"username": "user12"},
            "user/13": {"username": "user13"},
            "motion_change_recommendation/1": {
                "internal": false,
                "rejected": true,
                "type": "replacement",
                "other_description": "Other Description1",
                "line_from": 1,
                "line_to": 3,
                "text": "<p>text1 HTML</p>",
                "creation_time": 12345,
            },
            "motion_change_recommendation/2": {"internal": true},
            "motion_change_recommendation/3": {
                "internal": false,
                "rejected": false,
                "type": "insertion",
                "other_description": "Other Description3",
                "line_from": 5,
                "line_to": 5,
                "text": "<p>text3 HTML</p>",
                "creation_time": 32345,
            },
            "motion_change_recommendation/4": {
                "internal": false,
                "rejected": true,
                "type": "replacement",
                "other_description": "ChangeRecommendation4 for amendment3",
                "line_from": 4,
                "line_to": 5,
                "text": "<p>text4 HTML</p>",
                "creation_time": 42345,
            },
            "motion_change_recommendation/5": {"internal": true},
            "agenda_item/1": {"item_number": "ItemNr Motion1"},
            "agenda_item/2": {"item_number": "ItemNr Motion2"},
            "agenda_item/3": {"item_number": "ItemNr Motion3"},
            "agenda_item/4": {"item_number": "ItemNr Motion4"},
            "agenda_item/5": {"item_number": "ItemNr Motion5"},
            "agenda_item/6": {"item_number": "ItemNr Motion6"},
            "agenda_item/7": {"item_number": "ItemNr Motion7"},
            "agenda_item/8": {"item_number": "ItemNr Motion8"},
            "agenda_item/9": {"item_number": "ItemNr Motion9"},
            "agenda_item/10": {"item_number": "ItemNr Motion10"},
        })
    }

    /// Sets each `"collection/id/field"` of `changes` in `data`. A null value removes the
    /// field.
    fn change(mut data: Json, changes: Json) -> Json {
        for (key, value) in changes.as_object().unwrap() {
            let (fqid, field) = key.rsplit_once('/').unwrap();
            let object = data
                .as_object_mut()
                .unwrap()
                .entry(fqid.to_owned())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap();
            if value.is_null() {
                object.remove(field);
            } else {
                object.insert(field.to_owned(), value.clone());
            }
        }
        data
    }

    /// Removes whole objects from `data`.
    fn without(mut data: Json, fqids: &[&str]) -> Json {
        for fqid in fqids {
            data.as_object_mut().unwrap().remove(*fqid);
        }
        data
    }

    fn motion_1(options: Json) -> Projection {
        let mut p7on = slide_projection("motion/1");
        p7on.options = options;
        p7on
    }

    async fn render_motion(data: &Json) -> Result<Json, SlideError> {
        render(data, &motion_1(Json::Null)).await
    }

    fn all_settings_on(data: Json) -> Json {
        change(
            data,
            json!({
                "meeting/1/motions_enable_text_on_projector": true,
                "meeting/1/motions_enable_reason_on_projector": true,
                "meeting/1/motions_show_referring_motions": true,
                "meeting/1/motions_enable_recommendation_on_projector": true,
            }),
        )
    }

    fn change_recommendations() -> Json {
        json!([
            {
                "id": 1,
                "rejected": true,
                "type": "replacement",
                "other_description": "Other Description1",
                "line_from": 1,
                "line_to": 3,
                "text": "<p>text1 HTML</p>",
                "creation_time": 12345,
            },
            {
                "id": 3,
                "rejected": false,
                "type": "insertion",
                "other_description": "Other Description3",
                "line_from": 5,
                "line_to": 5,
                "text": "<p>text3 HTML</p>",
                "creation_time": 32345,
            },
        ])
    }

    fn amendments() -> Json {
        json!([
            {
                "id": 3,
                "title": "Amendment3 title",
                "number": "Amendment3 123",
                "amendment_paragraphs": {
                    "31": "amendmentParagraph31",
                    "32": "amendmentParagraph32",
                },
                "change_recommendations": [{
                    "id": 4,
                    "rejected": true,
                    "type": "replacement",
                    "other_description": "ChangeRecommendation4 for amendment3",
                    "line_from": 4,
                    "line_to": 5,
                    "text": "<p>text4 HTML</p>",
                    "creation_time": 42345,
                }],
                "merge_amendment_into_final": "do_merge",
                "merge_amendment_into_diff": "do_merge",
            },
            {
                "id": 4,
                "title": "Amendment4 title",
                "number": "Amendment4 4123",
                "amendment_paragraphs": null,
                "change_recommendations": null,
                "merge_amendment_into_final": "undefined",
                "merge_amendment_into_diff": "undefined",
            },
            {
                "id": 5,
                "title": "Amendment5 title",
                "number": "Amendment5 5123",
                "amendment_paragraphs": null,
                "change_recommendations": null,
                "merge_amendment_into_final": "undefined",
                "merge_amendment_into_diff": "do_merge",
            },
            {
                "id": 6,
                "title": "Amendment6 title",
                "number": "Amendment6 6123",
                "amendment_paragraphs": null,
                "change_recommendations": null,
                "merge_amendment_into_final": "undefined",
                "merge_amendment_into_diff": "undefined",
            },
        ])
    }

    #[tokio::test]
    async fn motion_without_conditional_fields() {
        let got = render_motion(&data()).await.unwrap();
        assert_eq!(
            got,
            json!({
                "id": 1,
                "title": "Motion Title 1",
                "number": "MNr1234",
                "submitters": ["user11", "user12", "user13"],
                "show_sidebox": true,
                "line_length": 85,
                "start_line_number": 24,
                "line_numbering": "outside",
                "change_recommendations": change_recommendations(),
                "amendments": amendments(),
            })
        );
    }

    #[tokio::test]
    async fn motion_with_conditional_fields() {
        let data = change(
            all_settings_on(data()),
            json!({"motion/1/lead_motion_id": 2}),
        );
        let got = render(&data, &motion_1(json!({"mode": "final"})))
            .await
            .unwrap();
        assert_eq!(
            got,
            json!({
                "id": 1,
                "title": "Motion Title 1",
                "number": "MNr1234",
                "submitters": ["user11", "user12", "user13"],
                "show_sidebox": true,
                "line_length": 85,
                "start_line_number": 24,
                "preamble": "The assembly may decide",
                "line_numbering": "outside",
                "amendment_paragraphs": {
                    "1": "amendmentParagraph1",
                    "2": "amendmentParagraph2",
                },
                "change_recommendations": change_recommendations(),
                "amendments": amendments(),
                "text": "<p>Motion1 Text HTML</p>",
                "reason": "<p>Motion1 reason HTML</p>",
                "modified_final_version": "<p>Motion1 modifiedFinalVersion HTML</p>",
                "lead_motion": {
                    "title": "Lead Motion Title",
                    "number": "Lead Motion 111",
                    "text": "<p>Lead Motion Text HTML</p>",
                    "start_line_number": 24,
                },
                "recommendation_referencing_motions": [
                    {
                        "agenda_item_number": "ItemNr Motion7",
                        "collection": "motion",
                        "content_object_id": "motion/7",
                        "title": "ReferencedInMotionRecommendationExtension7 title",
                        "number": "RIMRE7 number",
                    },
                    {
                        "agenda_item_number": "ItemNr Motion8",
                        "collection": "motion",
                        "content_object_id": "motion/8",
                        "title": "ReferencedInMotionRecommendationExtension8 title",
                        "number": "RIMRE8 number",
                    },
                ],
                "recommendation_label": "RecommendationLabel_state4",
                "recommendation_extension": "RecommendationExtension_motion1",
                "recommendation_referenced_motions": {
                    "motion/9": {
                        "agenda_item_number": "ItemNr Motion9",
                        "collection": "motion",
                        "content_object_id": "motion/9",
                        "title": "RecommendationExtensionReferenceMotion9 title",
                        "number": "RecommendationExtensionReferenceMotion9 number",
                    },
                    "motion/10": {
                        "agenda_item_number": "ItemNr Motion10",
                        "collection": "motion",
                        "content_object_id": "motion/10",
                        "title": "RecommendationExtensionReferenceMotion10 title",
                        "number": "RecommendationExtensionReferenceMotion10 number",
                    },
                },
                "recommender": "Meeting not used variant",
            })
        );
    }

    #[tokio::test]
    async fn modified_final_version_follows_the_mode() {
        let final_version = json!("<p>Motion1 modifiedFinalVersion HTML</p>");
        for (options, expected) in [
            (json!({"mode": "final"}), Some(&final_version)),
            (
                json!({"mode": "modified_final_version"}),
                Some(&final_version),
            ),
            (json!({"MODE": "final"}), Some(&final_version)),
            (json!({"mode": "original"}), None),
            (json!({"mode": null}), None),
            (json!({}), None),
            (Json::Null, None),
        ] {
            let got = render(&data(), &motion_1(options.clone())).await.unwrap();
            assert_eq!(
                got.get("modified_final_version"),
                expected,
                "options {options}"
            );
        }
    }

    #[tokio::test]
    async fn empty_modified_final_version_is_left_out() {
        let data = change(data(), json!({"motion/1/modified_final_version": null}));
        let got = render(&data, &motion_1(json!({"mode": "final"})))
            .await
            .unwrap();
        assert_eq!(got.get("modified_final_version"), None);
    }

    #[tokio::test]
    async fn invalid_options_fail() {
        for options in [
            json!("final"),
            json!(["final"]),
            json!(3),
            json!({"mode": 3}),
            json!({"Mode": true}),
        ] {
            let result = render(&data(), &motion_1(options.clone())).await;
            assert!(result.is_err(), "options {options}");
        }
    }

    #[tokio::test]
    async fn text_setting_switches_text_paragraphs_and_preamble() {
        let data = change(
            data(),
            json!({
                "meeting/1/motions_enable_text_on_projector": true,
                "motion/1/lead_motion_id": 2,
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got["text"], json!("<p>Motion1 Text HTML</p>"));
        assert_eq!(got["preamble"], json!("The assembly may decide"));
        assert_eq!(
            got["amendment_paragraphs"],
            json!({"1": "amendmentParagraph1", "2": "amendmentParagraph2"})
        );
        assert_eq!(
            got["lead_motion"]["text"],
            json!("<p>Lead Motion Text HTML</p>")
        );
        assert_eq!(got.get("reason"), None);
    }

    #[tokio::test]
    async fn without_text_setting_lead_motion_has_no_text() {
        let data = change(data(), json!({"motion/1/lead_motion_id": 2}));
        let got = render_motion(&data).await.unwrap();
        assert_eq!(
            got["lead_motion"],
            json!({
                "title": "Lead Motion Title",
                "number": "Lead Motion 111",
                "start_line_number": 24,
            })
        );
        assert_eq!(got.get("text"), None);
        assert_eq!(got.get("preamble"), None);
        assert_eq!(got.get("amendment_paragraphs"), None);
    }

    #[tokio::test]
    async fn text_setting_shows_unset_paragraphs_as_null() {
        let data = change(
            data(),
            json!({
                "meeting/1/motions_enable_text_on_projector": true,
                "meeting/1/motions_preamble": null,
                "motion/1/amendment_paragraphs": null,
                "motion/1/text": null,
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got.get("amendment_paragraphs"), Some(&Json::Null));
        assert_eq!(got.get("text"), None);
        assert_eq!(got.get("preamble"), None);
    }

    #[tokio::test]
    async fn reason_setting_alone_shows_reason() {
        let data = change(
            data(),
            json!({"meeting/1/motions_enable_reason_on_projector": true}),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got["reason"], json!("<p>Motion1 reason HTML</p>"));
        assert_eq!(got.get("text"), None);
        assert_eq!(got.get("preamble"), None);
    }

    #[tokio::test]
    async fn bare_motion_has_null_lists() {
        let data = json!({
            "meeting/1": {},
            "motion/1": {"title": "bare"},
        });
        let got = render_motion(&data).await.unwrap();
        assert_eq!(
            got,
            json!({
                "id": 1,
                "title": "bare",
                "number": "",
                "submitters": null,
                "show_sidebox": false,
                "line_length": 0,
                "line_numbering": "",
                "change_recommendations": null,
            })
        );
    }

    #[tokio::test]
    async fn bare_motion_with_all_settings_on() {
        let data = all_settings_on(json!({
            "meeting/1": {},
            "motion/1": {"title": "bare"},
        }));
        let got = render(&data, &motion_1(json!({"mode": "final"})))
            .await
            .unwrap();
        assert_eq!(
            got,
            json!({
                "id": 1,
                "title": "bare",
                "number": "",
                "submitters": null,
                "show_sidebox": false,
                "line_length": 0,
                "line_numbering": "",
                "amendment_paragraphs": null,
                "change_recommendations": null,
            })
        );
    }

    #[tokio::test]
    async fn additional_submitter_is_shown_when_set() {
        let data = change(
            data(),
            json!({"motion/1/additional_submitter": "the board"}),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got["additional_submitter"], json!("the board"));
    }

    #[tokio::test]
    async fn zero_start_line_number_is_left_out() {
        let data = change(
            data(),
            json!({"motion/1/start_line_number": 0, "motion/1/lead_motion_id": 2, "motion/2/start_line_number": 0}),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got.get("start_line_number"), None);
        assert_eq!(got["lead_motion"].get("start_line_number"), None);
    }

    #[tokio::test]
    async fn internal_recommendations_only_give_null() {
        let data = change(
            data(),
            json!({"motion/1/change_recommendation_ids": [2], "motion/1/amendment_ids": []}),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got["change_recommendations"], Json::Null);
        assert_eq!(got.get("amendments"), None);
    }

    #[tokio::test]
    async fn change_recommendations_keep_their_order() {
        let data = change(
            data(),
            json!({"motion/1/change_recommendation_ids": [3, 1]}),
        );
        let got = render_motion(&data).await.unwrap();
        let ids: Vec<&Json> = got["change_recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|recommendation| &recommendation["id"])
            .collect();
        assert_eq!(ids, [&json!(3), &json!(1)]);
    }

    #[tokio::test]
    async fn unset_recommendation_fields_are_zero() {
        let data = change(
            data(),
            json!({
                "motion/1/change_recommendation_ids": [20],
                "motion_change_recommendation/20/internal": false,
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(
            got["change_recommendations"],
            json!([{
                "id": 20,
                "rejected": false,
                "type": "",
                "other_description": "",
                "line_from": 0,
                "line_to": 0,
                "text": "",
                "creation_time": 0,
            }])
        );
    }

    #[tokio::test]
    async fn recommendation_without_internal_fails() {
        let data = change(
            data(),
            json!({"motion/1/change_recommendation_ids": [20], "motion_change_recommendation/20/text": "x"}),
        );
        assert!(render_motion(&data).await.is_err());
    }

    #[tokio::test]
    async fn amendment_recommendation_without_internal_fails() {
        let data = change(
            data(),
            json!({"motion_change_recommendation/5/internal": null}),
        );
        assert!(render_motion(&data).await.is_err());
    }

    #[tokio::test]
    async fn submitters_sort_by_weight_then_meeting_user() {
        let data = change(
            data(),
            json!({
                "motion_submitter/1/weight": 2,
                "motion_submitter/3/weight": null,
            }),
        );
        let got = render_motion(&data).await.unwrap();
        // Submitter 3 has no weight, so it counts as 0. Submitters 1 and 2 share weight
        // 2, so meeting user 110 comes before 130.
        assert_eq!(got["submitters"], json!(["user12", "user11", "user13"]));
    }

    #[tokio::test]
    async fn submitter_names_with_title_and_structure_levels() {
        let data = change(
            data(),
            json!({
                "motion/1/submitter_ids": [1, 2, 3],
                "user/11/first_name": "Ada",
                "user/11/last_name": "Lovelace",
                "user/11/title": "Dr.",
                "user/11/meeting_user_ids": [111, 110],
                "meeting_user/111/meeting_id": 2,
                "meeting_user/111/structure_level_ids": [3],
                "meeting_user/110/meeting_id": 1,
                "meeting_user/110/structure_level_ids": [1, 2],
                "structure_level/1/name": "Berlin",
                "structure_level/2/name": "Hamburg",
                "structure_level/3/name": "other meeting",
                "user/12/title": "Prof.",
                "user/12/last_name": "Turing",
                "user/13/title": "Dr.",
                "user/13/meeting_user_ids": [130],
                "meeting_user/130/meeting_id": 1,
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(
            got["submitters"],
            json!([
                "Dr. Ada Lovelace (Berlin, Hamburg)",
                "Prof. Turing",
                "user13"
            ])
        );
    }

    #[tokio::test]
    async fn submitter_levels_need_the_motion_meeting() {
        let data = change(
            data(),
            json!({
                "motion/1/meeting_id": null,
                "user/11/meeting_user_ids": [110],
                "meeting_user/110/meeting_id": 1,
                "meeting_user/110/structure_level_ids": [1],
                "structure_level/1/name": "Berlin",
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got["submitters"][0], json!("user11"));
    }

    #[tokio::test]
    async fn submitter_without_any_name_fails() {
        let data = change(data(), json!({"user/12/username": null}));
        assert!(render_motion(&data).await.is_err());
    }

    #[tokio::test]
    async fn meeting_user_without_user_fails() {
        let data = change(data(), json!({"meeting_user/120/user_id": null}));
        assert!(render_motion(&data).await.is_err());
    }

    #[tokio::test]
    async fn missing_related_objects_fail() {
        let base = change(
            all_settings_on(data()),
            json!({"motion/1/lead_motion_id": 2}),
        );
        assert!(render_motion(&base).await.is_ok());
        for fqid in [
            "motion/1",
            "meeting/1",
            "motion/2",
            "motion/3",
            "motion/7",
            "motion/9",
            "motion_state/1",
            "motion_state/3",
            "motion_state/4",
            "motion_submitter/2",
            "meeting_user/110",
            "user/11",
            "motion_change_recommendation/1",
            "motion_change_recommendation/5",
            "agenda_item/7",
            "agenda_item/9",
        ] {
            let data = without(base.clone(), &[fqid]);
            let result = render_motion(&data).await;
            assert!(result.is_err(), "without {fqid}");
        }
    }

    #[tokio::test]
    async fn unread_related_objects_may_be_missing() {
        // With the settings off, the slide reads neither referencing nor referenced
        // motions nor the recommendation state. Amendment 4's state does not merge, so
        // its recommendation is not read either.
        let data = without(
            change(data(), json!({"motion/4/recommendation_id": 40})),
            &["motion/7", "motion/9", "motion_state/4", "agenda_item/1"],
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got["amendments"], amendments());
    }

    #[tokio::test]
    async fn amendment_without_state_fails() {
        let data = change(data(), json!({"motion/4/state_id": null}));
        assert!(render_motion(&data).await.is_err());
    }

    #[tokio::test]
    async fn merge_into_diff_follows_the_recommendation() {
        for (state, recommendation, into_final, into_diff) in [
            ("do_merge", Some("undefined"), "do_merge", "do_merge"),
            ("do_not_merge", Some("do_merge"), "undefined", "undefined"),
            ("undefined", Some("do_merge"), "undefined", "do_merge"),
            ("undefined", Some("do_not_merge"), "undefined", "undefined"),
            ("undefined", None, "undefined", "undefined"),
            ("", Some("do_merge"), "undefined", "do_merge"),
        ] {
            let mut changes = json!({
                "motion/1/amendment_ids": [4],
                "motion_state/20/merge_amendment_into_final": state,
                "motion/4/state_id": 20,
                "motion/4/recommendation_id": null,
            });
            if state.is_empty() {
                changes["motion_state/20/merge_amendment_into_final"] = Json::Null;
                changes["motion_state/20/css_class"] = json!("lightblue");
            }
            if let Some(merge) = recommendation {
                changes["motion/4/recommendation_id"] = json!(21);
                changes["motion_state/21/merge_amendment_into_final"] = json!(merge);
            }
            let got = render_motion(&change(data(), changes)).await.unwrap();
            let amendment = &got["amendments"][0];
            let case = format!("state {state:?}, recommendation {recommendation:?}");
            assert_eq!(
                amendment["merge_amendment_into_final"], into_final,
                "{case}"
            );
            assert_eq!(amendment["merge_amendment_into_diff"], into_diff, "{case}");
        }
    }

    #[tokio::test]
    async fn referring_setting_with_no_referencing_motions() {
        let data = change(
            data(),
            json!({
                "meeting/1/motions_show_referring_motions": true,
                "motion/1/referenced_in_motion_recommendation_extension_ids": [],
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got.get("recommendation_referencing_motions"), None);
    }

    #[tokio::test]
    async fn recommendation_without_extension_field() {
        let data = change(
            data(),
            json!({
                "meeting/1/motions_enable_recommendation_on_projector": true,
                "motion_state/4/show_recommendation_extension_field": false,
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(
            got["recommendation_label"],
            json!("RecommendationLabel_state4")
        );
        assert_eq!(got["recommender"], json!("Meeting not used variant"));
        assert_eq!(got.get("recommendation_extension"), None);
        assert_eq!(got.get("recommendation_referenced_motions"), None);
    }

    #[tokio::test]
    async fn recommendation_extension_without_references() {
        let data = change(
            data(),
            json!({
                "meeting/1/motions_enable_recommendation_on_projector": true,
                "meeting/1/motions_recommendations_by": null,
                "motion/1/recommendation_extension_reference_ids": [],
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(
            got["recommendation_extension"],
            json!("RecommendationExtension_motion1")
        );
        assert_eq!(got.get("recommendation_referenced_motions"), None);
        assert_eq!(got.get("recommender"), None);
    }

    #[tokio::test]
    async fn recommendation_setting_needs_a_recommendation() {
        let data = change(
            data(),
            json!({
                "meeting/1/motions_enable_recommendation_on_projector": true,
                "motion/1/recommendation_id": null,
            }),
        );
        let got = render_motion(&data).await.unwrap();
        assert_eq!(got.get("recommendation_label"), None);
        assert_eq!(got.get("recommendation_extension"), None);
        assert_eq!(got.get("recommender"), None);
    }

    #[tokio::test]
    async fn title_information_of_motion() {
        let store = datastore(&data());
        let fqid = Fqid::parse("motion/7").unwrap();
        let info = super::title_information(&mut fetch(&store), fqid, "", 1)
            .await
            .unwrap();
        assert_eq!(
            info,
            json!({
                "collection": "motion",
                "content_object_id": "motion/7",
                "title": "ReferencedInMotionRecommendationExtension7 title",
                "number": "RIMRE7 number",
                "agenda_item_number": "ItemNr Motion7",
            })
        );

        let info = super::title_information(&mut fetch(&store), fqid, "given", 1)
            .await
            .unwrap();
        assert_eq!(info["agenda_item_number"], "given");
    }

    #[tokio::test]
    async fn title_information_without_agenda_item() {
        let store = datastore(&json!({"motion/1": {"title": "t"}}));
        let fqid = Fqid::parse("motion/1").unwrap();
        let info = super::title_information(&mut fetch(&store), fqid, "", 1)
            .await
            .unwrap();
        assert_eq!(
            info,
            json!({
                "collection": "motion",
                "content_object_id": "motion/1",
                "title": "t",
                "number": "",
                "agenda_item_number": "",
            })
        );
    }

    #[tokio::test]
    async fn title_information_missing_objects_fail() {
        let store = datastore(&json!({"motion/1": {"title": "t", "agenda_item_id": 5}}));
        let missing_item = Fqid::parse("motion/1").unwrap();
        let result = super::title_information(&mut fetch(&store), missing_item, "", 1).await;
        assert!(result.is_err());

        let missing_motion = Fqid::parse("motion/2").unwrap();
        let result = super::title_information(&mut fetch(&store), missing_motion, "", 1).await;
        assert!(matches!(result, Err(SlideError::DoesNotExist(_))));
    }
}
