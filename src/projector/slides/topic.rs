//! The topic slide and the title information of topics.

use super::super::{Fetch, Projection, SlideError};
use crate::models::collections::{AgendaItem, Topic};
use crate::models::{Fqid, Id};
use serde_json::{json, Value as Json};

/// Renders a topic: title, text and the number of its agenda item.
pub async fn topic(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let topic = fetch
        .object(
            p7on.content_object_id,
            &[
                Topic::TITLE.id(),
                Topic::TEXT.id(),
                Topic::AGENDA_ITEM_ID.id(),
            ],
        )
        .await?;
    let item_number = match topic.get(Topic::AGENDA_ITEM_ID)? {
        Some(item) => fetch
            .get_if_exists(AgendaItem::ITEM_NUMBER, item)
            .await?
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(json!({
        "title": topic.get_or_default(Topic::TITLE)?,
        "text": topic.get_or_default(Topic::TEXT)?,
        "item_number": item_number,
    }))
}

/// Describes a topic for slides that list it. An empty `item_number` is replaced by the
/// number of the topic's agenda item.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    _meeting_id: Id,
) -> Result<Json, SlideError> {
    let topic = fetch
        .object(fqid, &[Topic::TITLE.id(), Topic::AGENDA_ITEM_ID.id()])
        .await?;
    let number =
        super::item_number_or_agenda(fetch, item_number, topic.get(Topic::AGENDA_ITEM_ID)?).await?;
    Ok(json!({
        "collection": "topic",
        "content_object_id": fqid.to_string(),
        "title": topic.get_or_default(Topic::TITLE)?,
        "agenda_item_number": number,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{datastore, fetch, render, slide_projection};
    use crate::models::Fqid;
    use serde_json::json;

    #[tokio::test]
    async fn shows_title_text_and_item_number() {
        let data = json!({
            "topic/1": {"title": "topic title 1", "text": "topic text 1", "agenda_item_id": 1},
            "agenda_item/1": {"item_number": "AI-Item 1"},
        });
        assert_eq!(
            render(&data, &slide_projection("topic/1")).await.unwrap(),
            json!({"title": "topic title 1", "text": "topic text 1", "item_number": "AI-Item 1"})
        );
    }

    #[tokio::test]
    async fn without_agenda_item_has_empty_number() {
        let data = json!({"topic/1": {"title": "topic title 1", "text": "topic text 1"}});
        assert_eq!(
            render(&data, &slide_projection("topic/1")).await.unwrap(),
            json!({"title": "topic title 1", "text": "topic text 1", "item_number": ""})
        );
    }

    #[tokio::test]
    async fn agenda_item_without_number_has_empty_number() {
        let data = json!({
            "topic/1": {"title": "topic title 1", "text": "topic text 1", "agenda_item_id": 1},
            "agenda_item/1": {},
        });
        assert_eq!(
            render(&data, &slide_projection("topic/1")).await.unwrap(),
            json!({"title": "topic title 1", "text": "topic text 1", "item_number": ""})
        );
    }

    #[tokio::test]
    async fn missing_agenda_item_fails() {
        let data = json!({"topic/1": {"title": "t", "agenda_item_id": 1}});
        assert!(render(&data, &slide_projection("topic/1")).await.is_err());
    }

    #[tokio::test]
    async fn title_information_uses_agenda_number() {
        let data = json!({
            "topic/1": {"title": "topic title 1", "agenda_item_id": 1},
            "agenda_item/1": {"item_number": "TOP 1"},
        });
        let fqid = Fqid::parse("topic/1").unwrap();
        let store = datastore(&data);
        let info = super::title_information(&mut fetch(&store), fqid, "", 1)
            .await
            .unwrap();
        assert_eq!(
            info,
            json!({
                "collection": "topic",
                "content_object_id": "topic/1",
                "title": "topic title 1",
                "agenda_item_number": "TOP 1",
            })
        );

        let info = super::title_information(&mut fetch(&store), fqid, "given", 1)
            .await
            .unwrap();
        assert_eq!(info["agenda_item_number"], "given");
    }
}
