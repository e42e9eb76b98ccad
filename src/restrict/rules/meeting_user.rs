//! Restriction rules of `meeting_user`: a user's membership in one meeting.

use super::super::context::Context;
use super::super::permission::{OrganizationManagementLevel, Permission};
use super::super::RestrictError;
use super::helpers::{by_meeting, meeting_permission};
use crate::models::collections::{MeetingUser, User};
use crate::models::{Collection, Field, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};

/// Members with `user.can_see` in the meeting see its memberships. Without it, the viewer
/// sees their own membership, the memberships linked to it by a vote delegation, and
/// memberships tied to an object the viewer can see (see `RELATED_OBJECTS`).
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let meetings = by_meeting(ctx, MeetingUser::MEETING_ID, &ids).await?;
        let mut allowed = Vec::new();
        let mut pending: Vec<(Id, Id)> = Vec::new();
        for (meeting_id, ids) in meetings {
            let can_see = ctx
                .perms(meeting_id)
                .await?
                .is_some_and(|perms| perms.has(Permission::UserCanSee));
            if can_see {
                allowed.extend(ids);
            } else {
                pending.extend(ids.into_iter().map(|id| (id, meeting_id)));
            }
        }
        if pending.is_empty() {
            return Ok(allowed);
        }

        let (linked, user_ids) = linked_to_viewer(ctx, &pending).await?;
        let mut undecided: Vec<(Id, Option<Id>)> = Vec::new();
        for ((id, _), user_id) in pending.iter().zip(user_ids) {
            if linked.contains(id) {
                allowed.push(*id);
            } else {
                undecided.push((*id, user_id));
            }
        }

        allowed.extend(visible_through_related_objects(ctx, undecided).await?);
        Ok(allowed)
    })
}

/// Only the user of the membership sees these fields.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let viewer = ctx.user_id();
        if viewer == 0 {
            return Ok(Vec::new());
        }
        let user_ids = ctx.get(MeetingUser::USER_ID, &ids).await?;
        Ok(ids
            .into_iter()
            .zip(user_ids)
            .filter(|(_, user_id)| *user_id == Some(viewer))
            .map(|(id, _)| id)
            .collect())
    })
}

/// Organization managers see these fields, even in meetings locked from inside. Everyone
/// else needs to see the membership in mode A.
pub fn mode_c(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageOrganization)
            .await?
        {
            return Ok(ids);
        }
        ctx.visible(Collection::MeetingUser, RestrictionMode::A, &ids)
            .await
    })
}

/// User managers of the organization and members with `user.can_manage` in the meeting
/// see these fields.
pub fn mode_d(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageUsers)
            .await?
        {
            return Ok(ids);
        }
        meeting_permission(
            ctx,
            MeetingUser::MEETING_ID,
            &ids,
            &[Permission::UserCanManage],
        )
        .await
    })
}

/// Members with `user.can_see_sensitive_data` in the meeting and the user of the
/// membership see these fields. A membership without a meeting is hidden from everyone.
pub fn mode_e(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let viewer = ctx.user_id();
        let mut allowed = Vec::new();
        let mut others = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, MeetingUser::MEETING_ID, &ids).await? {
            let can_see = ctx
                .perms(meeting_id)
                .await?
                .is_some_and(|perms| perms.has(Permission::UserCanSeeSensitiveData));
            if can_see {
                allowed.extend(ids);
            } else {
                others.extend(ids);
            }
        }
        if viewer == 0 || others.is_empty() {
            return Ok(allowed);
        }

        let user_ids = ctx.get(MeetingUser::USER_ID, &others).await?;
        allowed.extend(
            others
                .into_iter()
                .zip(user_ids)
                .filter(|(_, user_id)| *user_id == Some(viewer))
                .map(|(id, _)| id),
        );
        Ok(allowed)
    })
}

/// A relation-list field that leads from a membership, or from its user, to objects whose
/// visibility makes the membership visible.
#[derive(Clone, Copy)]
enum RelationField {
    OfMeetingUser(Field<MeetingUser, Vec<Id>>),
    /// A field of the user. It covers the user's objects in every meeting, so an object
    /// in one meeting can reveal the user's memberships in all others.
    OfUser(Field<User, Vec<Id>>),
}

/// The related objects of mode A in the order they are checked, with the mode that must
/// show the object to the viewer.
const RELATED_OBJECTS: [(RelationField, Collection, RestrictionMode); 10] = [
    (
        RelationField::OfMeetingUser(MeetingUser::MOTION_SUBMITTER_IDS),
        Collection::MotionSubmitter,
        RestrictionMode::A,
    ),
    (
        RelationField::OfMeetingUser(MeetingUser::SUPPORTED_MOTION_IDS),
        Collection::Motion,
        RestrictionMode::C,
    ),
    (
        RelationField::OfMeetingUser(MeetingUser::MOTION_EDITOR_IDS),
        Collection::MotionEditor,
        RestrictionMode::A,
    ),
    (
        RelationField::OfMeetingUser(MeetingUser::MOTION_WORKING_GROUP_SPEAKER_IDS),
        Collection::MotionWorkingGroupSpeaker,
        RestrictionMode::A,
    ),
    (
        RelationField::OfUser(User::OPTION_IDS),
        Collection::Option,
        RestrictionMode::A,
    ),
    (
        RelationField::OfMeetingUser(MeetingUser::ASSIGNMENT_CANDIDATE_IDS),
        Collection::AssignmentCandidate,
        RestrictionMode::A,
    ),
    (
        RelationField::OfMeetingUser(MeetingUser::SPEAKER_IDS),
        Collection::Speaker,
        RestrictionMode::A,
    ),
    (
        RelationField::OfUser(User::POLL_VOTED_IDS),
        Collection::Poll,
        RestrictionMode::A,
    ),
    (
        RelationField::OfUser(User::VOTE_IDS),
        Collection::Vote,
        RestrictionMode::A,
    ),
    (
        RelationField::OfMeetingUser(MeetingUser::CHAT_MESSAGE_IDS),
        Collection::ChatMessage,
        RestrictionMode::A,
    ),
];

/// Finds the memberships, given with their meetings, that belong to the viewer or are
/// linked by a vote delegation to the viewer's membership in the same meeting. Returns
/// them together with the user of each given membership, in the given order.
async fn linked_to_viewer(
    ctx: &mut Context,
    memberships: &[(Id, Id)],
) -> Result<(HashSet<Id>, Vec<Option<Id>>), RestrictError> {
    let viewer = ctx.user_id();
    let ids: Vec<Id> = memberships.iter().map(|(id, _)| *id).collect();
    let user_ids = ctx.get(MeetingUser::USER_ID, &ids).await?;
    let mut linked = HashSet::new();
    if viewer == 0 {
        return Ok((linked, user_ids));
    }

    let own = own_membership_per_meeting(ctx, viewer).await?;
    let delegated_to = ctx.get(MeetingUser::VOTE_DELEGATED_TO_ID, &ids).await?;
    let delegations_from = ctx
        .get(MeetingUser::VOTE_DELEGATIONS_FROM_IDS, &ids)
        .await?;
    let per_membership = memberships
        .iter()
        .zip(&user_ids)
        .zip(delegated_to.into_iter().zip(delegations_from));
    for (((id, meeting_id), user_id), (delegated_to, delegations_from)) in per_membership {
        let own_in_meeting = own.get(meeting_id).copied();
        let is_linked = *user_id == Some(viewer)
            || own_in_meeting.is_some_and(|own_id| {
                delegated_to == Some(own_id)
                    || delegations_from.unwrap_or_default().contains(&own_id)
            });
        if is_linked {
            linked.insert(*id);
        }
    }
    Ok((linked, user_ids))
}

/// Maps each meeting of the viewer to the viewer's membership there.
async fn own_membership_per_meeting(
    ctx: &mut Context,
    viewer: Id,
) -> Result<HashMap<Id, Id>, RestrictError> {
    let own_ids = ctx
        .get_one(User::MEETING_USER_IDS, viewer)
        .await?
        .unwrap_or_default();
    let meetings = ctx.get(MeetingUser::MEETING_ID, &own_ids).await?;
    Ok(meetings
        .into_iter()
        .zip(own_ids)
        .filter_map(|(meeting_id, id)| Some((meeting_id?, id)))
        .collect())
}

/// Returns the memberships, given with their users, that have a related object the
/// viewer can see. Each relation is read in one batch for the memberships that no earlier
/// relation made visible.
async fn visible_through_related_objects(
    ctx: &mut Context,
    mut undecided: Vec<(Id, Option<Id>)>,
) -> Result<Vec<Id>, RestrictError> {
    let mut allowed = Vec::new();
    for (field, collection, mode) in RELATED_OBJECTS {
        if undecided.is_empty() {
            break;
        }
        let related = related_ids(ctx, field, &undecided).await?;
        let all: Vec<Id> = related.iter().flatten().copied().collect();
        if all.is_empty() {
            continue;
        }
        let visible: HashSet<Id> = ctx
            .visible(collection, mode, &all)
            .await?
            .into_iter()
            .collect();

        let mut still_undecided = Vec::new();
        for (membership, related) in undecided.into_iter().zip(related) {
            if related.iter().any(|id| visible.contains(id)) {
                allowed.push(membership.0);
            } else {
                still_undecided.push(membership);
            }
        }
        undecided = still_undecided;
    }
    Ok(allowed)
}

/// Reads `field` for each membership (or its user), in the given order.
async fn related_ids(
    ctx: &mut Context,
    field: RelationField,
    memberships: &[(Id, Option<Id>)],
) -> Result<Vec<Vec<Id>>, RestrictError> {
    match field {
        RelationField::OfMeetingUser(field) => {
            let ids: Vec<Id> = memberships.iter().map(|(id, _)| *id).collect();
            let lists = ctx.get(field, &ids).await?;
            Ok(lists.into_iter().map(Option::unwrap_or_default).collect())
        }
        RelationField::OfUser(field) => {
            let mut user_ids: Vec<Id> = memberships.iter().filter_map(|(_, user)| *user).collect();
            user_ids.sort_unstable();
            user_ids.dedup();
            let lists = ctx.get(field, &user_ids).await?;
            let by_user: HashMap<Id, Vec<Id>> = user_ids
                .into_iter()
                .zip(lists)
                .map(|(user_id, list)| (user_id, list.unwrap_or_default()))
                .collect();
            Ok(memberships
                .iter()
                .map(|(_, user)| {
                    user.and_then(|user_id| by_user.get(&user_id).cloned())
                        .unwrap_or_default()
                })
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    /// Copies the fields of `extra` into `data`, replacing fields that both have.
    fn with(mut data: Value, extra: Value) -> Value {
        let objects = data.as_object_mut().expect("data is an object");
        for (fqid, fields) in extra.as_object().expect("extra is an object") {
            let object = objects.entry(fqid.clone()).or_insert_with(|| json!({}));
            for (field, value) in fields.as_object().expect("fields are an object") {
                object[field] = value.clone();
            }
        }
        data
    }

    /// Asserts, for each case of viewer description, viewer id and expected ids, which
    /// of `ids` the viewer sees in `mode`.
    async fn assert_cases(data: &Value, mode: &str, ids: &[Id], cases: &[(&str, Id, &[Id])]) {
        for (viewer, user_id, expected) in cases {
            assert_eq!(
                visible_ids(data, *user_id, "meeting_user", mode, ids).await,
                expected.to_vec(),
                "meeting_user mode {mode} for {viewer} (user {user_id})"
            );
        }
    }

    /// Meeting 1 is open and has public access. Meeting 2 is locked from inside.
    ///
    /// Users 1 (superadmin), 2 (can_manage_users) and 3 (can_manage_organization) have no
    /// memberships, and user 11 manages committee 1. Memberships in meeting 1: 40 of user 4
    /// (admin), 50 of user 5 (no permissions), 60 of user 6 (user.can_see), 70 of user 7
    /// (user.can_see_sensitive_data), 80 of user 8 (user.can_manage), 90 of user 9
    /// (user.can_see, locked out). In meeting 2: 120 of user 12 (user.can_see) and 140
    /// of user 14 (no permissions).
    fn data() -> Value {
        json!({
            "organization/1": {"enable_anonymous": true},
            "committee/1": {"meeting_ids": [1], "manager_ids": [11], "user_ids": [4, 5, 6, 11]},
            "meeting/1": {"admin_group_id": 10, "enable_anonymous": true,
                "anonymous_group_id": 13, "committee_id": 1},
            "group/10": {"meeting_id": 1, "admin_group_for_meeting_id": 1, "permissions": []},
            "group/11": {"meeting_id": 1, "permissions": []},
            "group/12": {"meeting_id": 1, "permissions": ["user.can_see"]},
            "group/13": {"meeting_id": 1, "anonymous_group_for_meeting_id": 1, "permissions": []},
            "group/14": {"meeting_id": 1, "permissions": ["user.can_see_sensitive_data"]},
            "group/15": {"meeting_id": 1, "permissions": ["user.can_manage"]},
            "meeting/2": {"admin_group_id": 20, "locked_from_inside": true},
            "group/20": {"meeting_id": 2, "admin_group_for_meeting_id": 2, "permissions": []},
            "group/21": {"meeting_id": 2, "permissions": ["user.can_see"]},
            "group/22": {"meeting_id": 2, "permissions": []},

            "user/1": {"organization_management_level": "superadmin"},
            "user/2": {"organization_management_level": "can_manage_users"},
            "user/3": {"organization_management_level": "can_manage_organization"},
            "user/4": {"meeting_user_ids": [40]},
            "user/5": {"meeting_user_ids": [50]},
            "user/6": {"meeting_user_ids": [60]},
            "user/7": {"meeting_user_ids": [70]},
            "user/8": {"meeting_user_ids": [80]},
            "user/9": {"meeting_user_ids": [90]},
            "user/11": {"committee_management_ids": [1], "committee_ids": [1]},
            "user/12": {"meeting_user_ids": [120]},
            "user/14": {"meeting_user_ids": [140]},

            "meeting_user/40": {"user_id": 4, "meeting_id": 1, "group_ids": [10]},
            "meeting_user/50": {"user_id": 5, "meeting_id": 1, "group_ids": [11]},
            "meeting_user/60": {"user_id": 6, "meeting_id": 1, "group_ids": [12]},
            "meeting_user/70": {"user_id": 7, "meeting_id": 1, "group_ids": [14]},
            "meeting_user/80": {"user_id": 8, "meeting_id": 1, "group_ids": [15]},
            "meeting_user/90": {"user_id": 9, "meeting_id": 1, "group_ids": [12],
                "locked_out": true},
            "meeting_user/120": {"user_id": 12, "meeting_id": 2, "group_ids": [21]},
            "meeting_user/140": {"user_id": 14, "meeting_id": 2, "group_ids": [22]}
        })
    }

    const MEETING_1: [Id; 6] = [40, 50, 60, 70, 80, 90];
    const ALL: [Id; 8] = [40, 50, 60, 70, 80, 90, 120, 140];

    #[tokio::test]
    async fn meeting_user_a_can_see_or_own() {
        assert_cases(
            &data(),
            "A",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin outside the locked meeting", 1, &MEETING_1),
                ("user manager without membership", 2, &[]),
                ("organization manager", 3, &MEETING_1),
                ("meeting admin", 4, &MEETING_1),
                ("member without permissions", 5, &[50]),
                ("member with user.can_see", 6, &MEETING_1),
                ("member with user.can_see_sensitive_data", 7, &MEETING_1),
                ("locked-out member with user.can_see", 9, &[90]),
                ("committee manager", 11, &[]),
                (
                    "member of the locked meeting with user.can_see",
                    12,
                    &[120, 140],
                ),
                (
                    "member of the locked meeting without permissions",
                    14,
                    &[140],
                ),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_a_public_access_can_see() {
        let anonymous_can_see = with(
            data(),
            json!({"group/13": {"permissions": ["user.can_see"]}}),
        );
        assert_cases(
            &anonymous_can_see,
            "A",
            &ALL,
            &[("public access", 0, &MEETING_1)],
        )
        .await;

        let disabled_in_organization = with(
            anonymous_can_see,
            json!({"organization/1": {"enable_anonymous": false}}),
        );
        assert_cases(
            &disabled_in_organization,
            "A",
            &ALL,
            &[("public access", 0, &[])],
        )
        .await;
    }

    /// User 5 delegates the vote to user 52, and user 51 delegates to user 5. Nobody in
    /// meeting 1 has user.can_see here.
    fn delegation_data() -> Value {
        with(
            data(),
            json!({
                "user/51": {"meeting_user_ids": [51]},
                "user/52": {"meeting_user_ids": [52]},
                "user/53": {"meeting_user_ids": [53]},
                "meeting_user/50": {"vote_delegated_to_id": 52, "vote_delegations_from_ids": [51]},
                "meeting_user/51": {"user_id": 51, "meeting_id": 1, "group_ids": [11],
                    "vote_delegated_to_id": 50},
                "meeting_user/52": {"user_id": 52, "meeting_id": 1, "group_ids": [11],
                    "vote_delegations_from_ids": [50]},
                "meeting_user/53": {"user_id": 53, "meeting_id": 1, "group_ids": [11]}
            }),
        )
    }

    #[tokio::test]
    async fn meeting_user_a_visible_through_vote_delegation() {
        assert_cases(
            &delegation_data(),
            "A",
            &[50, 51, 52, 53, 140],
            &[
                ("member with delegations both ways", 5, &[50, 51, 52]),
                ("member who delegated to user 5", 51, &[50, 51]),
                ("member who received user 5's vote", 52, &[50, 52]),
                ("member without delegations", 53, &[53]),
                ("member of another meeting", 14, &[140]),
            ],
        )
        .await;
    }

    /// Meeting 2 is locked from inside. Superadmin 1 is a member there (membership 10).
    /// The superadmin's group grants motion, assignment and list of speakers rights and
    /// reads chat group 1, but lacks user.can_see. User 4 is a member without permissions.
    /// Memberships 101 to 110 each link to one kind of object and membership 111 to none.
    /// Each membership belongs to the user with the same id.
    ///
    /// The expected ids depend on the rules of motion_submitter, motion (mode C),
    /// motion_editor, motion_working_group_speaker, option, assignment_candidate, speaker,
    /// poll, vote and chat_message. The viewers are chosen so that the answer is the same
    /// with those rules as with a rule that shows everything to superadmins only.
    fn related_data() -> Value {
        let mut data = json!({
            "meeting/2": {"admin_group_id": 20, "locked_from_inside": true},
            "group/20": {"meeting_id": 2, "admin_group_for_meeting_id": 2, "permissions": []},
            "group/21": {"meeting_id": 2, "permissions": ["motion.can_see",
                "motion.can_manage_metadata", "assignment.can_see", "list_of_speakers.can_see"]},
            "group/22": {"meeting_id": 2, "permissions": []},
            "user/1": {"organization_management_level": "superadmin", "meeting_user_ids": [10]},
            "meeting_user/10": {"user_id": 1, "meeting_id": 2, "group_ids": [21]},
            "user/4": {"meeting_user_ids": [40]},
            "meeting_user/40": {"user_id": 4, "meeting_id": 2, "group_ids": [22]},

            "motion_state/5": {"meeting_id": 2, "restrictions": []},
            "motion/7": {"meeting_id": 2, "state_id": 5, "submitter_ids": [1],
                "supporter_meeting_user_ids": [102], "editor_ids": [1],
                "working_group_speaker_ids": [1], "poll_ids": [1], "list_of_speakers_id": 1},
            "motion_submitter/1": {"meeting_id": 2, "motion_id": 7, "meeting_user_id": 101},
            "motion_editor/1": {"meeting_id": 2, "motion_id": 7, "meeting_user_id": 103},
            "motion_working_group_speaker/1": {"meeting_id": 2, "motion_id": 7,
                "meeting_user_id": 104},
            "poll/1": {"meeting_id": 2, "content_object_id": "motion/7", "state": "published",
                "option_ids": [1], "voted_ids": [108]},
            "option/1": {"meeting_id": 2, "poll_id": 1, "content_object_id": "user/105",
                "vote_ids": [1]},
            "vote/1": {"meeting_id": 2, "option_id": 1, "user_id": 109},
            "assignment/1": {"meeting_id": 2, "candidate_ids": [1]},
            "assignment_candidate/1": {"meeting_id": 2, "assignment_id": 1,
                "meeting_user_id": 106},
            "list_of_speakers/1": {"meeting_id": 2, "content_object_id": "motion/7",
                "speaker_ids": [1]},
            "speaker/1": {"meeting_id": 2, "list_of_speakers_id": 1, "meeting_user_id": 107},
            "chat_group/1": {"meeting_id": 2, "read_group_ids": [21], "chat_message_ids": [1]},
            "chat_message/1": {"meeting_id": 2, "chat_group_id": 1, "meeting_user_id": 110}
        });
        for id in 101..=111 {
            data = with(
                data,
                json!({
                    format!("user/{id}"): {"meeting_user_ids": [id]},
                    format!("meeting_user/{id}"): {"user_id": id, "meeting_id": 2, "group_ids": [22]}
                }),
            );
        }
        with(
            data,
            json!({
                "meeting_user/101": {"motion_submitter_ids": [1]},
                "meeting_user/102": {"supported_motion_ids": [7]},
                "meeting_user/103": {"motion_editor_ids": [1]},
                "meeting_user/104": {"motion_working_group_speaker_ids": [1]},
                "user/105": {"option_ids": [1]},
                "meeting_user/106": {"assignment_candidate_ids": [1]},
                "meeting_user/107": {"speaker_ids": [1]},
                "user/108": {"poll_voted_ids": [1]},
                "user/109": {"vote_ids": [1]},
                "meeting_user/110": {"chat_message_ids": [1]}
            }),
        )
    }

    #[tokio::test]
    async fn meeting_user_a_visible_through_related_objects() {
        let related: Vec<Id> = (101..=111).collect();
        assert_cases(
            &related_data(),
            "A",
            &related,
            &[
                (
                    "superadmin member of the locked meeting",
                    1,
                    &[101, 102, 103, 104, 105, 106, 107, 108, 109, 110],
                ),
                ("member without permissions", 4, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_a_without_meeting_is_hidden() {
        let orphan = with(
            data(),
            json!({
                "user/5": {"meeting_user_ids": [50, 99]},
                "meeting_user/99": {"user_id": 5}
            }),
        );
        assert_cases(
            &orphan,
            "A",
            &[99],
            &[("superadmin", 1, &[]), ("its own user", 5, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_b_only_for_its_user() {
        let orphan = with(
            data(),
            json!({
                "user/5": {"meeting_user_ids": [50, 99]},
                "meeting_user/99": {"user_id": 5}
            }),
        );
        let ids = [40, 50, 60, 99, 120];
        assert_cases(
            &orphan,
            "B",
            &ids,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &[]),
                ("meeting admin", 4, &[40]),
                ("member with a membership without meeting", 5, &[50, 99]),
                ("locked-out member", 9, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_c_organization_managers_or_a() {
        assert_cases(
            &data(),
            "C",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin outside the locked meeting", 1, &ALL),
                ("user manager without membership", 2, &[]),
                ("organization manager outside the locked meeting", 3, &ALL),
                ("meeting admin", 4, &MEETING_1),
                ("member without permissions", 5, &[50]),
                (
                    "member of the locked meeting with user.can_see",
                    12,
                    &[120, 140],
                ),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_d_needs_user_can_manage() {
        assert_cases(
            &data(),
            "D",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &ALL),
                ("user manager", 2, &ALL),
                ("meeting admin", 4, &MEETING_1),
                ("member without permissions", 5, &[]),
                ("member with user.can_see_sensitive_data", 7, &[]),
                ("member with user.can_manage", 8, &MEETING_1),
                ("committee manager", 11, &[]),
                ("member of the locked meeting with user.can_see", 12, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_e_sensitive_data_or_own() {
        assert_cases(
            &data(),
            "E",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin outside the locked meeting", 1, &MEETING_1),
                ("user manager without membership", 2, &[]),
                ("organization manager", 3, &MEETING_1),
                ("member without permissions", 5, &[50]),
                ("member with user.can_see", 6, &[60]),
                ("member with user.can_see_sensitive_data", 7, &MEETING_1),
                ("member with user.can_manage", 8, &MEETING_1),
                ("locked-out member", 9, &[90]),
                ("member of the locked meeting with user.can_see", 12, &[120]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_e_public_access_sensitive_data() {
        let anonymous_sensitive = with(
            data(),
            json!({"group/13": {"permissions": ["user.can_see_sensitive_data"]}}),
        );
        assert_cases(
            &anonymous_sensitive,
            "E",
            &ALL,
            &[("public access", 0, &MEETING_1)],
        )
        .await;
    }

    #[tokio::test]
    async fn meeting_user_e_without_meeting_is_hidden() {
        let orphan = with(
            data(),
            json!({
                "user/5": {"meeting_user_ids": [50, 99]},
                "meeting_user/99": {"user_id": 5}
            }),
        );
        assert_cases(&orphan, "E", &[50, 99], &[("its own user", 5, &[50])]).await;
    }
}
