//! Restriction rules of `motion_editor`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::helpers::meeting_permission;
use crate::models::collections::MotionEditor;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `motion.can_manage_metadata` in the editor's meeting see the editor.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            MotionEditor::MEETING_ID,
            &ids,
            &[Permission::MotionCanManageMetadata],
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
    async fn motion_editor_a_needs_can_manage_metadata() {
        // Object 1 belongs to the meeting, 2 to the other meeting and 3 to none.
        let mut data = with(json!({
            "motion_editor/1": {"meeting_id": MEETING, "motion_id": 1, "meeting_user_id": 104},
            "motion_editor/2": {"meeting_id": OTHER_MEETING, "motion_id": 30},
            "motion_editor/3": {"motion_id": 1},
        }));
        enable_anonymous(&mut data);
        let cases: &[(Id, &[Id])] = &[
            (CAN_MANAGE_METADATA, &[1]),
            (CAN_MANAGE, &[1]),
            (ADMIN, &[1]),
            (SUPERADMIN, &[1, 2]),
            (CAN_SEE, NONE),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
            (PUBLIC, NONE),
        ];
        assert_visible(&data, "motion_editor", "A", &[1, 2, 3], cases).await;

        lock_meeting(&mut data);
        assert_visible(
            &data,
            "motion_editor",
            "A",
            &[1],
            &[(SUPERADMIN, NONE), (ADMIN, &[1])],
        )
        .await;
    }
}
