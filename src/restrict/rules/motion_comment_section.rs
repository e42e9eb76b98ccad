//! Restriction rules of `motion_comment_section`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::perms::Perms;
use super::super::RestrictError;
use super::helpers::by_meeting;
use crate::models::collections::MotionCommentSection;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `motion.can_manage` in the section's meeting see the section. Users with
/// `motion.can_see` there see it when they are in one of its read or write groups, or
/// when submitters may write in it.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = Vec::new();
        let meeting_field = MotionCommentSection::MEETING_ID;
        for (meeting_id, ids) in by_meeting(ctx, meeting_field, &ids).await? {
            let Some(perms) = ctx.perms(meeting_id).await? else {
                continue;
            };
            if perms.has(Permission::MotionCanManage) {
                allowed.extend(ids);
                continue;
            }
            if !perms.has(Permission::MotionCanSee) {
                continue;
            }
            let access = section_access(ctx, Some(&perms), &ids).await?;
            allowed.extend(
                ids.into_iter()
                    .zip(access)
                    .filter(|(_, access)| access.is_some())
                    .map(|(id, _)| id),
            );
        }
        Ok(allowed)
    })
}

/// The reason a viewer may read a comment section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SectionAccess {
    /// The viewer is in a read or write group of the section (meeting admins are in
    /// every group).
    Group,
    /// The section has `submitter_can_write`, so submitters of a motion read its
    /// comments in the section.
    Submitter,
}

/// Computes the access the viewer with `perms` has to each of the comment sections
/// `ids`, in order. `None` means no access.
pub(super) async fn section_access(
    ctx: &mut Context,
    perms: Option<&Perms>,
    ids: &[Id],
) -> Result<Vec<Option<SectionAccess>>, RestrictError> {
    let read_groups = ctx.get(MotionCommentSection::READ_GROUP_IDS, ids).await?;
    let write_groups = ctx.get(MotionCommentSection::WRITE_GROUP_IDS, ids).await?;
    let mut access: Vec<Option<SectionAccess>> = read_groups
        .into_iter()
        .zip(write_groups)
        .map(|(read, write)| {
            let mut groups = read.unwrap_or_default();
            groups.extend(write.unwrap_or_default());
            let in_group = perms.is_some_and(|perms| perms.in_group(&groups));
            in_group.then_some(SectionAccess::Group)
        })
        .collect();

    let outside: Vec<Id> = ids
        .iter()
        .zip(&access)
        .filter(|(_, access)| access.is_none())
        .map(|(id, _)| *id)
        .collect();
    if outside.is_empty() {
        return Ok(access);
    }
    let submitter_can_write = ctx
        .get(MotionCommentSection::SUBMITTER_CAN_WRITE, &outside)
        .await?;
    let open_to_submitters: Vec<Id> = outside
        .into_iter()
        .zip(submitter_can_write)
        .filter(|(_, can_write)| *can_write == Some(true))
        .map(|(id, _)| id)
        .collect();
    for (id, access) in ids.iter().zip(access.iter_mut()) {
        if access.is_none() && open_to_submitters.contains(id) {
            *access = Some(SectionAccess::Submitter);
        }
    }
    Ok(access)
}

#[cfg(test)]
mod tests {
    use super::super::motion::fixture::*;
    use crate::models::Id;
    use serde_json::json;

    const NONE: &[Id] = &[];

    #[tokio::test]
    async fn motion_comment_section_a_read_write_or_submitter() {
        // Section 1 has the reviewers as readers, 2 as writers, 3 lets submitters
        // write, 4 has none of these, and 5 has no meeting.
        let mut data = with(json!({
            "motion_comment_section/1": {"meeting_id": MEETING, "read_group_ids": [REVIEWER_GROUP]},
            "motion_comment_section/2": {"meeting_id": MEETING, "write_group_ids": [REVIEWER_GROUP]},
            "motion_comment_section/3": {"meeting_id": MEETING, "submitter_can_write": true},
            "motion_comment_section/4": {
                "meeting_id": MEETING, "read_group_ids": [], "submitter_can_write": false
            },
            "motion_comment_section/5": {"read_group_ids": [REVIEWER_GROUP]},
        }));
        enable_anonymous(&mut data);
        let ids: &[Id] = &[1, 2, 3, 4, 5];
        let cases: &[(Id, &[Id])] = &[
            (REVIEWER, &[1, 2, 3]),
            (CAN_SEE, &[3]),
            (PUBLIC, &[3]),
            (REVIEWER_WITHOUT_CAN_SEE, NONE),
            (CAN_MANAGE, &[1, 2, 3, 4]),
            (ADMIN, &[1, 2, 3, 4]),
            (SUPERADMIN, &[1, 2, 3, 4]),
            (CAN_MANAGE_METADATA, &[3]),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
        ];
        assert_visible(&data, "motion_comment_section", "A", ids, cases).await;
    }

    #[tokio::test]
    async fn motion_comment_section_a_anonymous_group_reads() {
        let mut data = with(json!({
            "motion_comment_section/1": {"meeting_id": MEETING, "read_group_ids": [ANONYMOUS_GROUP]},
            "motion_comment_section/2": {"meeting_id": MEETING, "read_group_ids": [REVIEWER_GROUP]},
        }));
        enable_anonymous(&mut data);
        assert_visible(
            &data,
            "motion_comment_section",
            "A",
            &[1, 2],
            &[(PUBLIC, &[1])],
        )
        .await;
    }
}
