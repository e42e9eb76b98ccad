//! Restriction rules of `motion_state`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::helpers::by_meeting;
use crate::models::collections::MotionState;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users with `motion.can_see` in the state's meeting see the state, and so do users
/// who may see one of the state's motions (motion mode C), such as viewers of a
/// forwarded motion.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = Vec::new();
        let mut need_motion = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, MotionState::MEETING_ID, &ids).await? {
            let perms = ctx.perms(meeting_id).await?;
            if perms.is_some_and(|perms| perms.has(Permission::MotionCanSee)) {
                allowed.extend(ids);
            } else {
                need_motion.extend(ids);
            }
        }
        if need_motion.is_empty() {
            return Ok(allowed);
        }

        let motion_lists = ctx.get(MotionState::MOTION_IDS, &need_motion).await?;
        let motion_ids: Vec<Id> = motion_lists.iter().flatten().flatten().copied().collect();
        let visible: HashSet<Id> = ctx
            .visible(Collection::Motion, RestrictionMode::C, &motion_ids)
            .await?
            .into_iter()
            .collect();
        allowed.extend(
            need_motion
                .into_iter()
                .zip(motion_lists)
                .filter(|(_, motions)| {
                    motions
                        .iter()
                        .flatten()
                        .any(|motion| visible.contains(motion))
                })
                .map(|(id, _)| id),
        );
        Ok(allowed)
    })
}

#[cfg(test)]
mod tests {
    use super::super::motion::fixture::*;
    use crate::models::Id;
    use serde_json::json;

    const NONE: &[Id] = &[];

    #[tokio::test]
    async fn motion_state_a_needs_can_see() {
        // State 3 has no meeting.
        let mut data = with(json!({
            "motion_state/1": {"meeting_id": MEETING, "motion_ids": []},
            "motion_state/2": {"meeting_id": MEETING, "restrictions": ["is_submitter"]},
            "motion_state/3": {"name": "broken"},
        }));
        enable_anonymous(&mut data);
        let cases: &[(Id, &[Id])] = &[
            (CAN_SEE, &[1, 2]),
            (ADMIN, &[1, 2]),
            (SUPERADMIN, &[1, 2]),
            (PUBLIC, &[1, 2]),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (LOCKED_OUT, NONE),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
        ];
        assert_visible(&data, "motion_state", "A", &[1, 2, 3], cases).await;
    }

    #[tokio::test]
    async fn motion_state_a_visible_through_forwarded_motion() {
        // Motion 1 in state 1 was forwarded to the other meeting. State 2 has no
        // visible motion.
        let mut data = with(json!({
            "motion_state/1": {"meeting_id": MEETING, "motion_ids": [1]},
            "motion_state/2": {"meeting_id": MEETING, "motion_ids": [2]},
            "motion_state/7": {"meeting_id": OTHER_MEETING, "motion_ids": [30]},
            "motion/1": {"meeting_id": MEETING, "state_id": 1, "all_derived_motion_ids": [30]},
            "motion/2": {"meeting_id": MEETING, "state_id": 2},
            "motion/30": {"meeting_id": OTHER_MEETING, "state_id": 7},
        }));
        let cases: &[(Id, &[Id])] = &[(ORIGIN_VIEWER, &[1]), (OTHER_MEETING_MEMBER, NONE)];
        assert_visible(&data, "motion_state", "A", &[1, 2], cases).await;

        lock_meeting(&mut data);
        assert_visible(
            &data,
            "motion_state",
            "A",
            &[1, 2],
            &[(ORIGIN_VIEWER, NONE)],
        )
        .await;
    }
}
