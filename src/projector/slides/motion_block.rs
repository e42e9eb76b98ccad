//! The motion_block slide and the title information of motion blocks.

use super::super::{Fetch, Projection, SlideError};
use crate::models::collections::{AgendaItem, Motion, MotionBlock, MotionState};
use crate::models::{Collection, Fqid, Id};
use serde_json::{json, Map, Value as Json};

/// Renders a motion block: its title and its motions with their recommendations, and the
/// motions those recommendations refer to, by fqid.
///
/// `motions` is null when the block has no motions. `referenced` lists the motions of
/// every recommendation extension, also where the state does not show the extension.
pub async fn motion_block(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let block = fetch
        .object(
            p7on.content_object_id,
            &[MotionBlock::TITLE.id(), MotionBlock::MOTION_IDS.id()],
        )
        .await?;
    let motion_ids = block.get_or_default(MotionBlock::MOTION_IDS)?;
    let motions = fetch
        .objects(
            Collection::Motion,
            &motion_ids,
            &[
                Motion::TITLE.id(),
                Motion::NUMBER.id(),
                Motion::AGENDA_ITEM_ID.id(),
                Motion::RECOMMENDATION_ID.id(),
                Motion::RECOMMENDATION_EXTENSION.id(),
                Motion::RECOMMENDATION_EXTENSION_REFERENCE_IDS.id(),
                Motion::MEETING_ID.id(),
            ],
        )
        .await?;

    let mut entries = Vec::with_capacity(motions.len());
    let mut referenced = Map::new();
    for motion in motions {
        let mut entry = Map::new();
        entry.insert("title".into(), json!(motion.get_or_default(Motion::TITLE)?));
        entry.insert(
            "number".into(),
            json!(motion.get_or_default(Motion::NUMBER)?),
        );
        let meeting_id = motion.get(Motion::MEETING_ID)?.unwrap_or(0);

        let recommendation_id = motion.get(Motion::RECOMMENDATION_ID)?.unwrap_or(0);
        if recommendation_id != 0 {
            let state = fetch
                .object(
                    Fqid::new(Collection::MotionState, recommendation_id),
                    &[
                        MotionState::RECOMMENDATION_LABEL.id(),
                        MotionState::CSS_CLASS.id(),
                        MotionState::SHOW_RECOMMENDATION_EXTENSION_FIELD.id(),
                    ],
                )
                .await?;
            entry.insert(
                "recommendation".into(),
                json!({
                    "recommendation_label": state.get_or_default(MotionState::RECOMMENDATION_LABEL)?,
                    "css_class": state.get_or_default(MotionState::CSS_CLASS)?,
                }),
            );
            // Shown when the state allows it, even when the motion has no extension.
            if state.get_or_default(MotionState::SHOW_RECOMMENDATION_EXTENSION_FIELD)? {
                entry.insert(
                    "recommendation_extension".into(),
                    json!(motion.get_or_default(Motion::RECOMMENDATION_EXTENSION)?),
                );
            }
            let reference_ids =
                motion.get_or_default(Motion::RECOMMENDATION_EXTENSION_REFERENCE_IDS)?;
            for fqid in reference_ids {
                let info = super::motion::title_information(fetch, fqid, "", meeting_id).await?;
                referenced.insert(fqid.to_string(), info);
            }
        }

        if let Some(item) = motion.get(Motion::AGENDA_ITEM_ID)?.filter(|id| *id != 0) {
            let number = fetch
                .get_if_exists(AgendaItem::ITEM_NUMBER, item)
                .await?
                .unwrap_or_default();
            if !number.is_empty() {
                entry.insert("agenda_item_number".into(), Json::String(number));
            }
        }
        entries.push(Json::Object(entry));
    }

    let motions = if entries.is_empty() {
        Json::Null
    } else {
        Json::Array(entries)
    };
    Ok(json!({
        "title": block.get_or_default(MotionBlock::TITLE)?,
        "motions": motions,
        "referenced": referenced,
    }))
}

/// Describes a motion block for slides that list it. An empty `item_number` is replaced
/// by the number of the block's agenda item.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    _meeting_id: Id,
) -> Result<Json, SlideError> {
    let block = fetch
        .object(
            fqid,
            &[MotionBlock::TITLE.id(), MotionBlock::AGENDA_ITEM_ID.id()],
        )
        .await?;
    let number =
        super::item_number_or_agenda(fetch, item_number, block.get(MotionBlock::AGENDA_ITEM_ID)?)
            .await?;
    Ok(json!({
        "collection": "motion_block",
        "content_object_id": fqid.to_string(),
        "title": block.get_or_default(MotionBlock::TITLE)?,
        "agenda_item_number": number,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{datastore, fetch, render, slide_projection};
    use super::super::SlideError;
    use crate::models::Fqid;
    use serde_json::{json, Value as Json};

    /// Returns a block with motion 1, which has a recommendation that refers to motions 3
    /// and 4, and motion 2 without recommendation or agenda item.
    fn data() -> Json {
        json!({
            "motion_block/1": {"title": "MotionBlock1 Title", "motion_ids": [1, 2]},
            "motion/1": {
                "title": "Motion Title 1",
                "number": "MNr 123",
                "recommendation_id": 1,
                "recommendation_extension": "RecommendationExtension_motion1",
                "recommendation_extension_reference_ids": ["motion/3", "motion/4"],
                "meeting_id": 1,
                "agenda_item_id": 1,
            },
            "motion/2": {"title": "Motion Title 2", "number": "MNR 456", "meeting_id": 1},
            "motion/3": {
                "title": "RecommendationExtensionReferenceMotion3 title",
                "number": "RecommendationExtensionReferenceMotion3 number",
                "meeting_id": 1,
                "agenda_item_id": 3,
            },
            "motion/4": {
                "title": "RecommendationExtensionReferenceMotion4 title",
                "number": "RecommendationExtensionReferenceMotion4 number",
                "meeting_id": 1,
                "agenda_item_id": 4,
            },
            "motion_state/1": {
                "recommendation_label": "RecommendationLabel_state1",
                "css_class": "Css-Class1",
                "show_recommendation_extension_field": true,
            },
            "agenda_item/1": {"item_number": "ItemNr Motion1"},
            "agenda_item/3": {"item_number": "ItemNr Motion3"},
            "agenda_item/4": {"item_number": "ItemNr Motion4"},
        })
    }

    /// Sets the field `field` of object `fqid` in `data`. Null removes the field.
    fn set(mut data: Json, fqid: &str, field: &str, value: Json) -> Json {
        let object = data[fqid].as_object_mut().unwrap();
        if value.is_null() {
            object.remove(field);
        } else {
            object.insert(field.into(), value);
        }
        data
    }

    async fn render_block(data: &Json) -> Result<Json, SlideError> {
        render(data, &slide_projection("motion_block/1")).await
    }

    fn referenced() -> Json {
        json!({
            "motion/3": {
                "agenda_item_number": "ItemNr Motion3",
                "title": "RecommendationExtensionReferenceMotion3 title",
                "number": "RecommendationExtensionReferenceMotion3 number",
                "collection": "motion",
                "content_object_id": "motion/3",
            },
            "motion/4": {
                "agenda_item_number": "ItemNr Motion4",
                "title": "RecommendationExtensionReferenceMotion4 title",
                "number": "RecommendationExtensionReferenceMotion4 number",
                "collection": "motion",
                "content_object_id": "motion/4",
            },
        })
    }

    #[tokio::test]
    async fn block_with_recommendations() {
        let got = render_block(&data()).await.unwrap();
        assert_eq!(
            got,
            json!({
                "title": "MotionBlock1 Title",
                "motions": [
                    {
                        "title": "Motion Title 1",
                        "number": "MNr 123",
                        "agenda_item_number": "ItemNr Motion1",
                        "recommendation": {
                            "recommendation_label": "RecommendationLabel_state1",
                            "css_class": "Css-Class1",
                        },
                        "recommendation_extension": "RecommendationExtension_motion1",
                    },
                    {"title": "Motion Title 2", "number": "MNR 456"},
                ],
                "referenced": referenced(),
            })
        );
    }

    #[tokio::test]
    async fn hidden_extension_still_lists_references() {
        let data = set(
            data(),
            "motion_state/1",
            "show_recommendation_extension_field",
            json!(false),
        );
        let got = render_block(&data).await.unwrap();
        assert_eq!(got["motions"][0].get("recommendation_extension"), None);
        assert_eq!(got["referenced"], referenced());
    }

    #[tokio::test]
    async fn shown_extension_may_be_empty() {
        let data = set(data(), "motion/1", "recommendation_extension", Json::Null);
        let got = render_block(&data).await.unwrap();
        assert_eq!(got["motions"][0]["recommendation_extension"], json!(""));
    }

    #[tokio::test]
    async fn unset_state_fields_are_empty() {
        let mut data = data();
        data["motion_state/1"] = json!({});
        let got = render_block(&data).await.unwrap();
        assert_eq!(
            got["motions"][0]["recommendation"],
            json!({"recommendation_label": "", "css_class": ""})
        );
        assert_eq!(got["motions"][0].get("recommendation_extension"), None);
    }

    #[tokio::test]
    async fn without_recommendation_nothing_is_referenced() {
        let data = set(data(), "motion/1", "recommendation_id", Json::Null);
        let got = render_block(&data).await.unwrap();
        assert_eq!(
            got["motions"][0],
            json!({
                "title": "Motion Title 1",
                "number": "MNr 123",
                "agenda_item_number": "ItemNr Motion1",
            })
        );
        assert_eq!(got["referenced"], json!({}));
    }

    #[tokio::test]
    async fn empty_item_number_is_left_out() {
        let mut data = data();
        data["agenda_item/1"] = json!({});
        let got = render_block(&data).await.unwrap();
        assert_eq!(got["motions"][0].get("agenda_item_number"), None);
    }

    #[tokio::test]
    async fn motions_keep_the_block_order() {
        let data = set(data(), "motion_block/1", "motion_ids", json!([2, 1]));
        let got = render_block(&data).await.unwrap();
        assert_eq!(got["motions"][0]["title"], json!("Motion Title 2"));
        assert_eq!(got["motions"][1]["title"], json!("Motion Title 1"));
    }

    #[tokio::test]
    async fn empty_block_has_null_motions() {
        let data = json!({"motion_block/1": {"title": "empty"}});
        let got = render_block(&data).await.unwrap();
        assert_eq!(
            got,
            json!({"title": "empty", "motions": null, "referenced": {}})
        );
    }

    #[tokio::test]
    async fn missing_related_objects_fail() {
        for fqid in [
            "motion_block/1",
            "motion/1",
            "motion/2",
            "motion/3",
            "motion_state/1",
            "agenda_item/1",
            "agenda_item/3",
        ] {
            let mut data = data();
            data.as_object_mut().unwrap().remove(fqid);
            let result = render_block(&data).await;
            assert!(result.is_err(), "without {fqid}");
        }
    }

    #[tokio::test]
    async fn title_information_of_block() {
        let data = json!({
            "motion_block/1": {"title": "block", "agenda_item_id": 1},
            "agenda_item/1": {"item_number": "TOP 1"},
        });
        let store = datastore(&data);
        let fqid = Fqid::parse("motion_block/1").unwrap();
        let info = super::title_information(&mut fetch(&store), fqid, "", 1)
            .await
            .unwrap();
        assert_eq!(
            info,
            json!({
                "collection": "motion_block",
                "content_object_id": "motion_block/1",
                "title": "block",
                "agenda_item_number": "TOP 1",
            })
        );

        let info = super::title_information(&mut fetch(&store), fqid, "given", 1)
            .await
            .unwrap();
        assert_eq!(info["agenda_item_number"], "given");
    }

    #[tokio::test]
    async fn title_information_without_agenda_item() {
        let store = datastore(&json!({"motion_block/1": {"title": "block"}}));
        let fqid = Fqid::parse("motion_block/1").unwrap();
        let info = super::title_information(&mut fetch(&store), fqid, "", 1)
            .await
            .unwrap();
        assert_eq!(info["agenda_item_number"], "");
    }

    #[tokio::test]
    async fn title_information_missing_objects_fail() {
        let store = datastore(&json!({"motion_block/1": {"title": "block", "agenda_item_id": 5}}));
        let missing_item = Fqid::parse("motion_block/1").unwrap();
        let result = super::title_information(&mut fetch(&store), missing_item, "", 1).await;
        assert!(result.is_err());

        let missing_block = Fqid::parse("motion_block/2").unwrap();
        let result = super::title_information(&mut fetch(&store), missing_block, "", 1).await;
        assert!(matches!(result, Err(SlideError::DoesNotExist(_))));
    }
}
