//! Restriction rules of `motion_workflow`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::helpers::meeting_permission;
use crate::models::collections::MotionWorkflow;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `motion.can_see` in the workflow's meeting see the workflow.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            MotionWorkflow::MEETING_ID,
            &ids,
            &[Permission::MotionCanSee],
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::super::motion::fixture::*;
    use crate::models::Id;
    use serde_json::json;

    const NONE: &[Id] = &[];

    #[tokio::test]
    async fn motion_workflow_a_needs_can_see() {
        // Object 1 belongs to the meeting, 2 to the other meeting and 3 to none.
        let data = with(json!({
            "motion_workflow/1": {"meeting_id": MEETING, "name": "one"},
            "motion_workflow/2": {"meeting_id": OTHER_MEETING, "name": "two"},
            "motion_workflow/3": {"name": "three"},
        }));
        let cases: &[(Id, &[Id])] = &[
            (CAN_SEE, &[1]),
            (CAN_MANAGE_METADATA, &[1]),
            (ADMIN, &[1]),
            (SUPERADMIN, &[1, 2]),
            (OTHER_MEETING_MEMBER, &[2]),
            (ORIGIN_VIEWER, &[2]),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (LOCKED_OUT, NONE),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
            (PUBLIC, NONE),
        ];
        assert_visible(&data, "motion_workflow", "A", &[1, 2, 3], cases).await;
    }

    #[tokio::test]
    async fn motion_workflow_a_public_access_with_anonymous() {
        let mut data = with(json!({"motion_workflow/1": {"meeting_id": MEETING}}));
        enable_anonymous(&mut data);
        assert_visible(&data, "motion_workflow", "A", &[1], &[(PUBLIC, &[1])]).await;

        merge(&mut data, json!({"group/15": {"permissions": []}}));
        assert_visible(&data, "motion_workflow", "A", &[1], &[(PUBLIC, NONE)]).await;
    }
}
