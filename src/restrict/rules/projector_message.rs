//! Restriction rules of `projector_message`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::meeting_permission;
use crate::models::collections::ProjectorMessage;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `projector.can_see` in the meeting see its projector messages.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            ProjectorMessage::MEETING_ID,
            &ids,
            &[Permission::ProjectorCanSee],
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::super::agenda_item::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    /// Projector messages 1 and 2 of meeting 1 and 3 of meeting 2.
    fn messages(meetings_data: Value) -> Value {
        with(
            meetings_data,
            json!({
                "projector_message/1": {"meeting_id": 1},
                "projector_message/2": {"meeting_id": 1},
                "projector_message/3": {"meeting_id": 2},
            }),
        )
    }

    const ALL: &[Id] = &[1, 2, 3];

    #[tokio::test]
    async fn projector_message_a_needs_projector_can_see() {
        let data = messages(meetings(&[
            TestMeeting {
                anonymous: Some(&["projector.can_see"]),
                ..TestMeeting::new(1, &["projector.can_see"])
            },
            TestMeeting::new(2, &["meeting.can_see_autopilot"]),
        ]));
        assert_visible(
            &data,
            "projector_message",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2]),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[1, 2]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn projector_message_a_projector_can_manage_suffices() {
        let data = messages(meetings(&[
            TestMeeting::new(1, &["projector.can_manage"]),
            TestMeeting::new(2, &[]),
        ]));
        assert_eq!(
            visible_ids(&data, PERMITTED, "projector_message", "A", ALL).await,
            [1, 2]
        );
    }

    #[tokio::test]
    async fn projector_message_a_public_access_needs_anonymous_enabled() {
        let data = messages(meetings(&[
            TestMeeting::new(1, &["projector.can_see"]),
            TestMeeting::new(2, &[]),
        ]));
        assert_eq!(
            visible_ids(&data, PUBLIC, "projector_message", "A", ALL).await,
            NOTHING
        );
    }

    #[tokio::test]
    async fn projector_message_a_locked_meeting_hides_outsiders() {
        let data = messages(meetings(&[
            TestMeeting {
                locked_from_inside: true,
                ..TestMeeting::new(1, &["projector.can_see"])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "projector_message",
            "A",
            ALL,
            &[(PERMITTED, &[1, 2]), (ADMIN, ALL), (SUPERADMIN, &[3])],
        )
        .await;
    }

    #[tokio::test]
    async fn projector_message_a_hides_message_without_meeting() {
        let data = with(
            messages(meetings(&[
                TestMeeting::new(1, &["projector.can_see"]),
                TestMeeting::new(2, &[]),
            ])),
            json!({"projector_message/4": {}}),
        );
        assert_visible(
            &data,
            "projector_message",
            "A",
            &[1, 4],
            &[(PERMITTED, &[1]), (SUPERADMIN, &[1])],
        )
        .await;
    }
}
