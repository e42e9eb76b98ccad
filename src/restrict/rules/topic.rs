//! Restriction rules of `topic`: a topic is as visible as its agenda item.

use super::super::context::Context;
use super::super::RestrictError;
use crate::models::collections::Topic;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users who may see the topic's agenda item (`agenda_item` mode A) see the topic. A
/// topic without an agenda item is hidden.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let agenda_items = ctx.get(Topic::AGENDA_ITEM_ID, &ids).await?;
        let agenda_item_ids: Vec<Id> = agenda_items.iter().flatten().copied().collect();
        let visible_items: HashSet<Id> = ctx
            .visible(Collection::AgendaItem, RestrictionMode::A, &agenda_item_ids)
            .await?
            .into_iter()
            .collect();

        Ok(ids
            .into_iter()
            .zip(agenda_items)
            .filter(|(_, item)| item.is_some_and(|item| visible_items.contains(&item)))
            .map(|(id, _)| id)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::super::agenda_item::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    /// Topics 1 to 4 of meeting 1 with agenda items 11 to 14: plain, internal, hidden,
    /// hidden and internal.
    fn topics(meeting: TestMeeting) -> Value {
        let mut objects = json!({});
        for (topic, is_hidden, is_internal) in [
            (1, false, false),
            (2, false, true),
            (3, true, false),
            (4, true, true),
        ] {
            let item = topic + 10;
            objects[format!("topic/{topic}")] =
                json!({"meeting_id": 1, "title": "Welcome", "agenda_item_id": item});
            objects[format!("agenda_item/{item}")] = json!({
                "meeting_id": 1,
                "content_object_id": format!("topic/{topic}"),
                "is_hidden": is_hidden,
                "is_internal": is_internal,
            });
        }
        with(meetings(&[meeting]), objects)
    }

    const ALL: &[Id] = &[1, 2, 3, 4];

    #[tokio::test]
    async fn topic_a_follows_agenda_item_can_see() {
        let data = topics(TestMeeting {
            anonymous: Some(&["agenda_item.can_see"]),
            ..TestMeeting::new(1, &["agenda_item.can_see"])
        });
        assert_visible(
            &data,
            "topic",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (PERMITTED, &[1]),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[1]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn topic_a_follows_agenda_item_can_see_internal() {
        let data = topics(TestMeeting::new(1, &["agenda_item.can_see_internal"]));
        assert_visible(
            &data,
            "topic",
            "A",
            ALL,
            &[(MEMBER, &[]), (PERMITTED, &[1, 2]), (PUBLIC, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn topic_a_follows_agenda_item_can_manage() {
        let data = topics(TestMeeting::new(1, &["agenda_item.can_manage"]));
        assert_eq!(visible_ids(&data, PERMITTED, "topic", "A", ALL).await, ALL);
    }

    #[tokio::test]
    async fn topic_a_uses_meeting_of_agenda_item() {
        // The topic claims meeting 2, where the viewer has no permissions, but its agenda
        // item is in meeting 1.
        let data = with(
            topics(TestMeeting::new(1, &["agenda_item.can_see"])),
            json!({"topic/1": {"meeting_id": 2}}),
        );
        assert_eq!(visible_ids(&data, PERMITTED, "topic", "A", &[1]).await, [1]);
        assert_eq!(
            visible_ids(&data, MEMBER, "topic", "A", &[1]).await,
            NOTHING
        );
    }

    #[tokio::test]
    async fn topic_a_locked_meeting_hides_outsiders() {
        let data = topics(TestMeeting {
            locked_from_inside: true,
            ..TestMeeting::new(1, &["agenda_item.can_see"])
        });
        assert_visible(
            &data,
            "topic",
            "A",
            ALL,
            &[(PERMITTED, &[1]), (ADMIN, ALL), (SUPERADMIN, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn topic_a_hides_topic_without_agenda_item() {
        let data = with(
            topics(TestMeeting::new(1, &["agenda_item.can_manage"])),
            json!({"topic/5": {"meeting_id": 1, "title": "Orphan"}}),
        );
        assert_visible(
            &data,
            "topic",
            "A",
            &[1, 5],
            &[(PERMITTED, &[1]), (SUPERADMIN, &[1])],
        )
        .await;
    }

    #[tokio::test]
    async fn topic_fields_follow_agenda_item() {
        let data = topics(TestMeeting::new(1, &["agenda_item.can_see"]));
        assert_eq!(
            restricted(&data, PERMITTED, &["topic/1/title", "topic/2/title"]).await,
            json!({"topic/1/title": "Welcome"}),
        );
    }
}
