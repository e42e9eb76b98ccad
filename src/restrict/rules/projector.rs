//! Restriction rules of `projector`: internal projectors are for projector managers.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::Projector;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `projector.can_manage` see every projector of the meeting. Other users see no
/// internal projector. They see the rest with `projector.can_see`, and the reference
/// projector with `meeting.can_see_autopilot`.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut visible = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, Projector::MEETING_ID, &ids).await? {
            let Some(perms) = ctx.perms(meeting_id).await? else {
                continue;
            };
            if perms.has(Permission::ProjectorCanManage) {
                visible.extend(ids);
                continue;
            }
            let can_see = perms.has(Permission::ProjectorCanSee);
            let can_see_autopilot = perms.has(Permission::MeetingCanSeeAutopilot);
            if !can_see && !can_see_autopilot {
                continue;
            }

            let internal = ctx.get(Projector::IS_INTERNAL, &ids).await?;
            let reference_for = ctx
                .get(Projector::USED_AS_REFERENCE_PROJECTOR_MEETING_ID, &ids)
                .await?;
            for ((id, internal), reference_for) in ids.into_iter().zip(internal).zip(reference_for)
            {
                if internal.unwrap_or(false) {
                    continue;
                }
                if can_see || (can_see_autopilot && reference_for.is_some()) {
                    visible.push(id);
                }
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

    /// Projectors of meeting 1: 1 is plain, 2 the reference projector, 3 internal, 4
    /// internal and marked as a reference projector.
    fn projectors(meeting: TestMeeting) -> Value {
        with(
            meetings(&[meeting]),
            json!({
                "projector/1": {"meeting_id": 1, "name": "Hall"},
                "projector/2": {"meeting_id": 1, "used_as_reference_projector_meeting_id": 1},
                "projector/3": {"meeting_id": 1, "is_internal": true},
                "projector/4": {"meeting_id": 1, "is_internal": true, "used_as_reference_projector_meeting_id": 2},
            }),
        )
    }

    const ALL: &[Id] = &[1, 2, 3, 4];

    #[tokio::test]
    async fn projector_a_can_see_hides_internal_projectors() {
        let data = projectors(TestMeeting {
            anonymous: Some(&["projector.can_see"]),
            ..TestMeeting::new(1, &["projector.can_see"])
        });
        assert_visible(
            &data,
            "projector",
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
    async fn projector_a_can_manage_shows_internal_projectors() {
        let data = projectors(TestMeeting::new(1, &["projector.can_manage"]));
        assert_eq!(
            visible_ids(&data, PERMITTED, "projector", "A", ALL).await,
            ALL
        );
    }

    #[tokio::test]
    async fn projector_a_autopilot_shows_reference_projector() {
        let data = projectors(TestMeeting {
            anonymous: Some(&["meeting.can_see_autopilot"]),
            ..TestMeeting::new(1, &["meeting.can_see_autopilot"])
        });
        assert_visible(
            &data,
            "projector",
            "A",
            ALL,
            &[(MEMBER, &[]), (PERMITTED, &[2]), (PUBLIC, &[2])],
        )
        .await;
    }

    #[tokio::test]
    async fn projector_a_public_access_needs_anonymous_enabled() {
        let data = projectors(TestMeeting::new(1, &["projector.can_see"]));
        assert_eq!(
            visible_ids(&data, PUBLIC, "projector", "A", ALL).await,
            NOTHING
        );
    }

    #[tokio::test]
    async fn projector_a_locked_meeting_hides_outsiders() {
        let data = projectors(TestMeeting {
            locked_from_inside: true,
            ..TestMeeting::new(1, &["projector.can_see"])
        });
        assert_visible(
            &data,
            "projector",
            "A",
            ALL,
            &[(PERMITTED, &[1, 2]), (ADMIN, ALL), (SUPERADMIN, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn projector_a_hides_projector_without_meeting() {
        let data = with(
            projectors(TestMeeting::new(1, &["projector.can_manage"])),
            json!({"projector/5": {"name": "Orphan"}}),
        );
        assert_visible(
            &data,
            "projector",
            "A",
            &[1, 5],
            &[(PERMITTED, &[1]), (SUPERADMIN, &[1])],
        )
        .await;
    }
}
