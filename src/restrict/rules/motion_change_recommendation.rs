//! Restriction rules of `motion_change_recommendation`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::helpers::by_meeting;
use super::motion::in_public_state;
use crate::models::collections::MotionChangeRecommendation;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};

/// Users with `motion.can_manage_metadata` in the recommendation's meeting see it.
/// Other users see it when they may see its motion (motion mode C), and neither the
/// recommendation nor the motion's state is internal.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let motions = ctx.get(MotionChangeRecommendation::MOTION_ID, &ids).await?;
        let motion_of: HashMap<Id, Id> = ids
            .iter()
            .zip(motions)
            .filter_map(|(id, motion)| Some((*id, motion?)))
            .collect();
        let with_motion: Vec<Id> = ids
            .into_iter()
            .filter(|id| motion_of.contains_key(id))
            .collect();

        let mut allowed = Vec::new();
        let mut candidates = Vec::new();
        let meeting_field = MotionChangeRecommendation::MEETING_ID;
        for (meeting_id, ids) in by_meeting(ctx, meeting_field, &with_motion).await? {
            let perms = ctx.perms(meeting_id).await?;
            if perms.is_some_and(|perms| perms.has(Permission::MotionCanManageMetadata)) {
                allowed.extend(ids);
            } else {
                candidates.extend(ids);
            }
        }
        if candidates.is_empty() {
            return Ok(allowed);
        }

        let candidate_motions: Vec<Id> = candidates.iter().map(|id| motion_of[id]).collect();
        let visible: HashSet<Id> = ctx
            .visible(Collection::Motion, RestrictionMode::C, &candidate_motions)
            .await?
            .into_iter()
            .collect();
        candidates.retain(|id| visible.contains(&motion_of[id]));

        let internal = ctx
            .get(MotionChangeRecommendation::INTERNAL, &candidates)
            .await?;
        let candidates: Vec<Id> = candidates
            .into_iter()
            .zip(internal)
            .filter(|(_, internal)| *internal != Some(true))
            .map(|(id, _)| id)
            .collect();

        let candidate_motions: Vec<Id> = candidates.iter().map(|id| motion_of[id]).collect();
        let public_motions: HashSet<Id> = in_public_state(ctx, &candidate_motions)
            .await?
            .into_iter()
            .collect();
        allowed.extend(
            candidates
                .into_iter()
                .filter(|id| public_motions.contains(&motion_of[id])),
        );
        Ok(allowed)
    })
}

#[cfg(test)]
mod tests {
    use super::super::motion::fixture::*;
    use crate::models::Id;
    use serde_json::{json, Value};

    const NONE: &[Id] = &[];

    /// Motion 1 in a public state, motion 2 in an internal state and motion 3 in a
    /// state that only its submitter passes.
    fn recommendations(extra: Value) -> Value {
        let mut data = with(json!({
            "motion_state/1": {"meeting_id": MEETING, "is_internal": false},
            "motion_state/2": {"meeting_id": MEETING, "is_internal": true},
            "motion_state/3": {"meeting_id": MEETING, "restrictions": ["is_submitter"]},
            "motion/1": {"meeting_id": MEETING, "state_id": 1},
            "motion/2": {"meeting_id": MEETING, "state_id": 2},
            "motion/3": {"meeting_id": MEETING, "state_id": 3},
        }));
        merge(&mut data, extra);
        data
    }

    #[tokio::test]
    async fn motion_change_recommendation_a_needs_visible_motion() {
        let mut data = recommendations(json!({
            "motion_change_recommendation/1": {"meeting_id": MEETING, "motion_id": 1, "internal": false},
            "motion_change_recommendation/2": {"meeting_id": MEETING, "motion_id": 3},
        }));
        enable_anonymous(&mut data);
        let cases: &[(Id, &[Id])] = &[
            (CAN_SEE, &[1]),
            (PUBLIC, &[1]),
            (CAN_MANAGE_METADATA, &[1, 2]),
            (CAN_MANAGE, &[1, 2]),
            (ADMIN, &[1, 2]),
            (SUPERADMIN, &[1, 2]),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (LOCKED_OUT, NONE),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
        ];
        assert_visible(&data, "motion_change_recommendation", "A", &[1, 2], cases).await;
    }

    #[tokio::test]
    async fn motion_change_recommendation_a_internal_needs_can_manage_metadata() {
        // Recommendation 1 is internal, and recommendation 2 belongs to a motion in an
        // internal state.
        let data = recommendations(json!({
            "motion_change_recommendation/1": {"meeting_id": MEETING, "motion_id": 1, "internal": true},
            "motion_change_recommendation/2": {"meeting_id": MEETING, "motion_id": 2, "internal": false},
        }));
        let cases: &[(Id, &[Id])] = &[
            (CAN_SEE, NONE),
            (CAN_MANAGE_METADATA, &[1, 2]),
            (CAN_MANAGE, &[1, 2]),
        ];
        assert_visible(&data, "motion_change_recommendation", "A", &[1, 2], cases).await;
    }

    #[tokio::test]
    async fn motion_change_recommendation_a_forwarded_motion() {
        let data = recommendations(json!({
            "motion/1": {"all_derived_motion_ids": [30]},
            "motion/30": {"meeting_id": OTHER_MEETING},
            "motion_change_recommendation/1": {"meeting_id": MEETING, "motion_id": 1},
        }));
        let cases: &[(Id, &[Id])] = &[(ORIGIN_VIEWER, &[1]), (OTHER_MEETING_MEMBER, NONE)];
        assert_visible(&data, "motion_change_recommendation", "A", &[1], cases).await;
    }

    #[tokio::test]
    async fn motion_change_recommendation_a_broken_hidden() {
        // Recommendation 1 has no motion, recommendation 2 no meeting.
        let data = recommendations(json!({
            "motion_change_recommendation/1": {"meeting_id": MEETING},
            "motion_change_recommendation/2": {"motion_id": 1},
        }));
        let cases: &[(Id, &[Id])] = &[(SUPERADMIN, NONE), (CAN_MANAGE_METADATA, NONE)];
        assert_visible(&data, "motion_change_recommendation", "A", &[1, 2], cases).await;
    }
}
