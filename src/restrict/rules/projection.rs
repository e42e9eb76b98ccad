//! Restriction rules of `projection`: a projection is as visible as the projector that
//! shows it.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::Projection;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users with `projector.can_manage` see every projection of the meeting. Other users see
/// the projections currently shown on a projector they may see (`projector` mode A), but
/// no preview or history projections.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut visible = Vec::new();
        let mut via_projector = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, Projection::MEETING_ID, &ids).await? {
            let can_manage = ctx
                .perms(meeting_id)
                .await?
                .is_some_and(|perms| perms.has(Permission::ProjectorCanManage));
            if can_manage {
                visible.extend(ids);
            } else {
                // The current projector may belong to another meeting, so viewers
                // without permissions in this meeting are checked too.
                via_projector.extend(ids);
            }
        }
        if via_projector.is_empty() {
            return Ok(visible);
        }

        let projectors = ctx
            .get(Projection::CURRENT_PROJECTOR_ID, &via_projector)
            .await?;
        let projector_ids: Vec<Id> = projectors.iter().flatten().copied().collect();
        let visible_projectors: HashSet<Id> = ctx
            .visible(Collection::Projector, RestrictionMode::A, &projector_ids)
            .await?
            .into_iter()
            .collect();
        for (id, projector) in via_projector.into_iter().zip(projectors) {
            if projector.is_some_and(|projector| visible_projectors.contains(&projector)) {
                visible.push(id);
            }
        }
        Ok(visible)
    })
}

#[cfg(test)]
mod tests {
    use super::super::agenda_item::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    /// Projections of meeting 1: 1 is current on the plain projector 7, 2 current on the
    /// reference projector 8, 3 current on the internal projector 9, 4 only a preview on
    /// projector 7.
    fn projections(meeting: TestMeeting) -> Value {
        with(
            meetings(&[meeting]),
            json!({
                "projection/1": {"meeting_id": 1, "current_projector_id": 7, "content_object_id": "topic/1"},
                "projection/2": {"meeting_id": 1, "current_projector_id": 8, "content_object_id": "topic/1"},
                "projection/3": {"meeting_id": 1, "current_projector_id": 9, "content_object_id": "topic/1"},
                "projection/4": {"meeting_id": 1, "preview_projector_id": 7, "content_object_id": "topic/1"},
                "projector/7": {"meeting_id": 1, "current_projection_ids": [1], "preview_projection_ids": [4]},
                "projector/8": {"meeting_id": 1, "used_as_reference_projector_meeting_id": 1, "current_projection_ids": [2]},
                "projector/9": {"meeting_id": 1, "is_internal": true, "current_projection_ids": [3]},
                "topic/1": {"meeting_id": 1, "projection_ids": [1, 2, 3, 4]},
            }),
        )
    }

    const ALL: &[Id] = &[1, 2, 3, 4];

    #[tokio::test]
    async fn projection_a_can_manage_shows_all_projections() {
        let data = projections(TestMeeting::new(1, &["projector.can_manage"]));
        assert_visible(
            &data,
            "projection",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (PERMITTED, ALL),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn projection_a_can_see_shows_current_projections() {
        let data = projections(TestMeeting {
            anonymous: Some(&["projector.can_see"]),
            ..TestMeeting::new(1, &["projector.can_see"])
        });
        assert_visible(
            &data,
            "projection",
            "A",
            ALL,
            &[(MEMBER, &[]), (PERMITTED, &[1, 2]), (PUBLIC, &[1, 2])],
        )
        .await;
    }

    #[tokio::test]
    async fn projection_a_autopilot_shows_reference_projections() {
        let data = projections(TestMeeting::new(1, &["meeting.can_see_autopilot"]));
        assert_eq!(
            visible_ids(&data, PERMITTED, "projection", "A", ALL).await,
            [2]
        );
    }

    #[tokio::test]
    async fn projection_a_locked_meeting_hides_outsiders() {
        let data = projections(TestMeeting {
            locked_from_inside: true,
            ..TestMeeting::new(1, &["projector.can_see"])
        });
        assert_visible(
            &data,
            "projection",
            "A",
            ALL,
            &[(PERMITTED, &[1, 2]), (ADMIN, ALL), (SUPERADMIN, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn projection_a_hides_projection_without_meeting() {
        let data = with(
            projections(TestMeeting::new(1, &["projector.can_manage"])),
            json!({"projection/5": {"current_projector_id": 7}}),
        );
        assert_visible(
            &data,
            "projection",
            "A",
            &[1, 5],
            &[(PERMITTED, &[1]), (SUPERADMIN, &[1])],
        )
        .await;
    }

    #[tokio::test]
    async fn projection_relations_are_filtered() {
        let data = projections(TestMeeting::new(1, &["projector.can_see"]));
        assert_eq!(
            restricted(
                &data,
                PERMITTED,
                &[
                    "projector/7/current_projection_ids",
                    "projector/7/preview_projection_ids"
                ]
            )
            .await,
            json!({
                "projector/7/current_projection_ids": [1],
                "projector/7/preview_projection_ids": [],
            }),
        );
    }
}
