//! Restriction rules of `motion_comment`.

use super::super::context::Context;
use super::super::RestrictError;
use super::motion::submitted_by_viewer;
use super::motion_comment_section::{section_access, SectionAccess};
use crate::models::collections::{MotionComment, MotionCommentSection};
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};

/// Users who may see the comment's motion (motion mode C) see the comment when they are
/// in a read or write group of its section, or when the section has
/// `submitter_can_write` and they submitted the motion.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let access = access_by_section(ctx, &ids).await?;
        let readable: Vec<Id> = ids
            .into_iter()
            .filter(|id| access.contains_key(id))
            .collect();
        if readable.is_empty() {
            return Ok(Vec::new());
        }

        let motions = ctx.get(MotionComment::MOTION_ID, &readable).await?;
        let motion_ids: Vec<Id> = motions.iter().flatten().copied().collect();
        let visible: HashSet<Id> = ctx
            .visible(Collection::Motion, RestrictionMode::C, &motion_ids)
            .await?
            .into_iter()
            .collect();

        let mut allowed = Vec::new();
        let mut need_submitter: Vec<(Id, Id)> = Vec::new();
        for (id, motion) in readable.into_iter().zip(motions) {
            let Some(motion) = motion.filter(|motion| visible.contains(motion)) else {
                continue;
            };
            match access[&id] {
                SectionAccess::Group => allowed.push(id),
                SectionAccess::Submitter => need_submitter.push((id, motion)),
            }
        }

        let submitter_motions: Vec<Id> = need_submitter.iter().map(|(_, motion)| *motion).collect();
        let submitted: HashSet<Id> = submitted_by_viewer(ctx, &submitter_motions)
            .await?
            .into_iter()
            .collect();
        allowed.extend(
            need_submitter
                .into_iter()
                .filter(|(_, motion)| submitted.contains(motion))
                .map(|(id, _)| id),
        );
        Ok(allowed)
    })
}

/// Maps the comments whose section the viewer has access to, judged with the viewer's
/// permissions in the section's meeting, to that access. Comments without a section,
/// or with a section without a meeting, are left out.
async fn access_by_section(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<HashMap<Id, SectionAccess>, RestrictError> {
    let sections = ctx.get(MotionComment::SECTION_ID, ids).await?;
    let mut comments_of: HashMap<Id, Vec<Id>> = HashMap::new();
    for (id, section) in ids.iter().zip(sections) {
        if let Some(section) = section {
            comments_of.entry(section).or_default().push(*id);
        }
    }
    let section_ids: Vec<Id> = comments_of.keys().copied().collect();
    let meetings = ctx
        .get(MotionCommentSection::MEETING_ID, &section_ids)
        .await?;
    let mut sections_of: HashMap<Id, Vec<Id>> = HashMap::new();
    for (section, meeting) in section_ids.into_iter().zip(meetings) {
        if let Some(meeting) = meeting {
            sections_of.entry(meeting).or_default().push(section);
        }
    }

    let mut access_of = HashMap::new();
    for (meeting_id, sections) in sections_of {
        let perms = ctx.perms(meeting_id).await?;
        let access = section_access(ctx, perms.as_deref(), &sections).await?;
        for (section, access) in sections.into_iter().zip(access) {
            let Some(access) = access else {
                continue;
            };
            for comment in comments_of.remove(&section).unwrap_or_default() {
                access_of.insert(comment, access);
            }
        }
    }
    Ok(access_of)
}

#[cfg(test)]
mod tests {
    use super::super::motion::fixture::*;
    use crate::models::Id;
    use serde_json::{json, Value};

    const NONE: &[Id] = &[];

    /// Motion 1 in a public state submitted by SUBMITTER, motion 2 in a state that only
    /// its submitter (MEMBER) passes. Section 1 has the reviewers as readers, 2 as
    /// writers, 3 lets submitters write and 4 is closed to all but admins.
    fn comments(extra: Value) -> Value {
        let mut data = with(json!({
            "motion_state/1": {"meeting_id": MEETING, "restrictions": []},
            "motion_state/2": {"meeting_id": MEETING, "restrictions": ["is_submitter"]},
            "motion/1": {"meeting_id": MEETING, "state_id": 1, "submitter_ids": [50]},
            "motion/2": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [51]},
            "motion_submitter/50": {"motion_id": 1, "meeting_user_id": meeting_user(SUBMITTER)},
            "motion_submitter/51": {"motion_id": 2, "meeting_user_id": meeting_user(MEMBER)},
            "motion_comment_section/1": {"meeting_id": MEETING, "read_group_ids": [REVIEWER_GROUP]},
            "motion_comment_section/2": {"meeting_id": MEETING, "write_group_ids": [REVIEWER_GROUP]},
            "motion_comment_section/3": {"meeting_id": MEETING, "submitter_can_write": true},
            "motion_comment_section/4": {"meeting_id": MEETING},
        }));
        merge(&mut data, extra);
        data
    }

    #[tokio::test]
    async fn motion_comment_a_section_groups_and_submitters() {
        // Comments 1 to 4 are on motion 1, one in each section.
        let mut data = comments(json!({
            "motion_comment/1": {"meeting_id": MEETING, "motion_id": 1, "section_id": 1},
            "motion_comment/2": {"meeting_id": MEETING, "motion_id": 1, "section_id": 2},
            "motion_comment/3": {"meeting_id": MEETING, "motion_id": 1, "section_id": 3},
            "motion_comment/4": {"meeting_id": MEETING, "motion_id": 1, "section_id": 4},
        }));
        enable_anonymous(&mut data);
        // motion.can_manage alone does not open a section for comments.
        let cases: &[(Id, &[Id])] = &[
            (REVIEWER, &[1, 2]),
            (SUBMITTER, &[3]),
            (CAN_SEE, NONE),
            (CAN_MANAGE, NONE),
            (PUBLIC, NONE),
            (ADMIN, &[1, 2, 3, 4]),
            (SUPERADMIN, &[1, 2, 3, 4]),
            (REVIEWER_WITHOUT_CAN_SEE, NONE),
            (MEMBER, NONE),
            (OUTSIDER, NONE),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
        ];
        assert_visible(&data, "motion_comment", "A", &[1, 2, 3, 4], cases).await;
    }

    #[tokio::test]
    async fn motion_comment_a_needs_visible_motion() {
        // Comments 1 and 3 are on motion 2, which only MEMBER submitted. MEMBER lacks
        // motion.can_see, so nobody but admins sees motion 2.
        let data = comments(json!({
            "motion_comment/1": {"meeting_id": MEETING, "motion_id": 2, "section_id": 1},
            "motion_comment/3": {"meeting_id": MEETING, "motion_id": 2, "section_id": 3},
        }));
        let cases: &[(Id, &[Id])] = &[(REVIEWER, NONE), (MEMBER, NONE), (SUPERADMIN, NONE)];
        assert_visible(&data, "motion_comment", "A", &[1, 3], cases).await;
    }

    #[tokio::test]
    async fn motion_comment_a_anonymous_group_reads() {
        let mut data = comments(json!({
            "motion_comment_section/1": {"read_group_ids": [ANONYMOUS_GROUP]},
            "motion_comment/1": {"meeting_id": MEETING, "motion_id": 1, "section_id": 1},
            "motion_comment/2": {"meeting_id": MEETING, "motion_id": 1, "section_id": 2},
        }));
        assert_visible(&data, "motion_comment", "A", &[1, 2], &[(PUBLIC, NONE)]).await;

        enable_anonymous(&mut data);
        assert_visible(&data, "motion_comment", "A", &[1, 2], &[(PUBLIC, &[1])]).await;
    }

    #[tokio::test]
    async fn motion_comment_a_broken_comment_hidden() {
        // Comment 1 has no section, comment 2 no motion, and comment 3 a section without
        // a meeting.
        let data = comments(json!({
            "motion_comment_section/5": {"read_group_ids": [REVIEWER_GROUP]},
            "motion_comment/1": {"meeting_id": MEETING, "motion_id": 1},
            "motion_comment/2": {"meeting_id": MEETING, "section_id": 1},
            "motion_comment/3": {"meeting_id": MEETING, "motion_id": 1, "section_id": 5},
            "motion_comment/4": {"meeting_id": MEETING, "motion_id": 1, "section_id": 1},
        }));
        let cases: &[(Id, &[Id])] = &[(SUPERADMIN, &[4]), (REVIEWER, &[4])];
        assert_visible(&data, "motion_comment", "A", &[1, 2, 3, 4], cases).await;
    }
}
