//! Restriction rules of `point_of_order_category`.

use super::super::context::Context;
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::PointOfOrderCategory;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;

/// Users who may see the category's meeting (`meeting` mode B) see the category.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let grouped = by_meeting(ctx, PointOfOrderCategory::MEETING_ID, &ids).await?;
        let meeting_ids: Vec<Id> = grouped.keys().copied().collect();
        let visible_meetings = ctx
            .visible(Collection::Meeting, RestrictionMode::B, &meeting_ids)
            .await?;

        let mut visible = Vec::new();
        for meeting_id in visible_meetings {
            if let Some(ids) = grouped.get(&meeting_id) {
                visible.extend_from_slice(ids);
            }
        }
        Ok(visible)
    })
}

#[cfg(test)]
mod tests {
    use super::super::agenda_item::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    // NOTE: These tests need the rule of `meeting` mode B; they fail while that rule is
    // the superadmin-only placeholder.

    /// Category 1 of meeting 1 and category 2 of meeting 2.
    fn categories(meetings_data: Value) -> Value {
        with(
            meetings_data,
            json!({
                "point_of_order_category/1": {"meeting_id": 1, "text": "Procedure", "rank": 1},
                "point_of_order_category/2": {"meeting_id": 2, "text": "Procedure", "rank": 1},
            }),
        )
    }

    const ALL: &[Id] = &[1, 2];

    #[tokio::test]
    async fn point_of_order_category_a_follows_meeting_visibility() {
        let data = categories(meetings(&[
            TestMeeting::new(1, &[]),
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "point_of_order_category",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, ALL),
                (PERMITTED, ALL),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, ALL),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn point_of_order_category_a_public_meeting_shows_to_everyone() {
        let data = categories(meetings(&[
            TestMeeting {
                anonymous: Some(&[]),
                ..TestMeeting::new(1, &[])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "point_of_order_category",
            "A",
            ALL,
            &[(PUBLIC, &[1]), (NON_MEMBER, &[1]), (USER_MANAGER, &[1])],
        )
        .await;

        let data = with(data, json!({"organization/1": {"enable_anonymous": false}}));
        assert_eq!(
            visible_ids(&data, PUBLIC, "point_of_order_category", "A", ALL).await,
            NOTHING
        );
    }

    #[tokio::test]
    async fn point_of_order_category_a_locked_meeting_shows_only_members() {
        let data = categories(meetings(&[
            TestMeeting {
                locked_from_inside: true,
                ..TestMeeting::new(1, &[])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "point_of_order_category",
            "A",
            ALL,
            &[
                (MEMBER, ALL),
                (LOCKED_OUT, &[]),
                (COMMITTEE_MANAGER, &[2]),
                (SUPERADMIN, &[2]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn point_of_order_category_a_hides_category_without_meeting() {
        let data = with(
            categories(meetings(&[
                TestMeeting::new(1, &[]),
                TestMeeting::new(2, &[]),
            ])),
            json!({"point_of_order_category/3": {"text": "Orphan"}}),
        );
        assert_visible(
            &data,
            "point_of_order_category",
            "A",
            &[1, 3],
            &[(MEMBER, &[1]), (SUPERADMIN, &[1])],
        )
        .await;
    }
}
