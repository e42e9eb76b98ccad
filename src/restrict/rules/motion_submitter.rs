//! Restriction rules of `motion_submitter`: submitters follow their motion.

use super::super::context::Context;
use super::super::RestrictError;
use crate::models::collections::MotionSubmitter;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users who may see the submitter's motion (motion mode C) see the submitter.
/// Submitters without a motion are hidden.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let motions = ctx.get(MotionSubmitter::MOTION_ID, &ids).await?;
        let motion_ids: Vec<Id> = motions.iter().flatten().copied().collect();
        let visible: HashSet<Id> = ctx
            .visible(Collection::Motion, RestrictionMode::C, &motion_ids)
            .await?
            .into_iter()
            .collect();
        Ok(ids
            .into_iter()
            .zip(motions)
            .filter(|(_, motion)| motion.is_some_and(|motion| visible.contains(&motion)))
            .map(|(id, _)| id)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::super::motion::fixture::*;
    use crate::models::Id;
    use serde_json::{json, Value};

    const NONE: &[Id] = &[];

    /// Motion 5 in a state without restrictions, motion 6 in a state that only its
    /// submitter (SUBMITTER) passes.
    fn submitters(extra: Value) -> Value {
        let mut data = with(json!({
            "motion_state/1": {"meeting_id": MEETING, "restrictions": []},
            "motion_state/2": {"meeting_id": MEETING, "restrictions": ["is_submitter"]},
            "motion/5": {"meeting_id": MEETING, "state_id": 1, "submitter_ids": [1, 2]},
            "motion/6": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [3]},
            "motion_submitter/1": {"motion_id": 5, "meeting_user_id": meeting_user(CAN_SEE)},
            "motion_submitter/2": {"motion_id": 5, "meeting_user_id": meeting_user(MEMBER)},
            "motion_submitter/3": {"motion_id": 6, "meeting_user_id": meeting_user(SUBMITTER)},
        }));
        merge(&mut data, extra);
        data
    }

    #[tokio::test]
    async fn motion_submitter_a_follows_motion() {
        let mut data = submitters(json!({}));
        enable_anonymous(&mut data);
        let cases: &[(Id, &[Id])] = &[
            (CAN_SEE, &[1, 2]),
            (SUBMITTER, &[1, 2, 3]),
            (ADMIN, &[1, 2]),
            (SUPERADMIN, &[1, 2]),
            (PUBLIC, &[1, 2]),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (USER_MANAGER, NONE),
        ];
        assert_visible(&data, "motion_submitter", "A", &[1, 2, 3], cases).await;
    }

    #[tokio::test]
    async fn motion_submitter_a_same_motion_all_visible() {
        let data = submitters(json!({}));
        assert_visible(
            &data,
            "motion_submitter",
            "A",
            &[1, 2],
            &[(CAN_SEE, &[1, 2])],
        )
        .await;
        assert_visible(&data, "motion_submitter", "A", &[2], &[(CAN_SEE, &[2])]).await;
    }

    #[tokio::test]
    async fn motion_submitter_a_forwarded_motion() {
        let data = submitters(json!({
            "motion/5": {"all_derived_motion_ids": [30]},
            "motion/30": {"meeting_id": OTHER_MEETING},
        }));
        let cases: &[(Id, &[Id])] = &[(ORIGIN_VIEWER, &[1, 2]), (OTHER_MEETING_MEMBER, NONE)];
        assert_visible(&data, "motion_submitter", "A", &[1, 2, 3], cases).await;
    }

    #[tokio::test]
    async fn motion_submitter_a_without_motion_hidden() {
        let data = submitters(json!({"motion_submitter/4": {"meeting_user_id": 104}}));
        let cases: &[(Id, &[Id])] = &[(SUPERADMIN, &[1]), (CAN_SEE, &[1])];
        assert_visible(&data, "motion_submitter", "A", &[1, 4], cases).await;
    }
}
