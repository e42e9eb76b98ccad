//! Restriction rules of `motion_block`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::helpers::by_meeting;
use crate::models::collections::MotionBlock;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `motion.can_manage` in the block's meeting see every block. Users with
/// `motion.can_see` there see the blocks that are not internal.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = Vec::new();
        let mut need_public = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, MotionBlock::MEETING_ID, &ids).await? {
            let Some(perms) = ctx.perms(meeting_id).await? else {
                continue;
            };
            if perms.has(Permission::MotionCanManage) {
                allowed.extend(ids);
            } else if perms.has(Permission::MotionCanSee) {
                need_public.extend(ids);
            }
        }

        if !need_public.is_empty() {
            let internal = ctx.get(MotionBlock::INTERNAL, &need_public).await?;
            allowed.extend(
                need_public
                    .into_iter()
                    .zip(internal)
                    .filter(|(_, internal)| *internal != Some(true))
                    .map(|(id, _)| id),
            );
        }
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
    async fn motion_block_a_internal_needs_can_manage() {
        // Block 1 is public, block 2 internal, block 3 has no internal flag and block 4
        // no meeting.
        let mut data = with(json!({
            "motion_block/1": {"meeting_id": MEETING, "internal": false},
            "motion_block/2": {"meeting_id": MEETING, "internal": true},
            "motion_block/3": {"meeting_id": MEETING},
            "motion_block/4": {"internal": false},
        }));
        enable_anonymous(&mut data);
        let cases: &[(Id, &[Id])] = &[
            (CAN_SEE, &[1, 3]),
            (CAN_MANAGE_METADATA, &[1, 3]),
            (PUBLIC, &[1, 3]),
            (CAN_MANAGE, &[1, 2, 3]),
            (ADMIN, &[1, 2, 3]),
            (SUPERADMIN, &[1, 2, 3]),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (LOCKED_OUT, NONE),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
        ];
        assert_visible(&data, "motion_block", "A", &[1, 2, 3, 4], cases).await;

        lock_meeting(&mut data);
        assert_visible(&data, "motion_block", "A", &[1, 2], &[(SUPERADMIN, NONE)]).await;
    }
}
