//! Restriction rules of `meeting`.
//!
//! Seeing a meeting (mode B) is the base of the other modes and of the collections that
//! follow their meeting, such as `group` and `tag`.

use super::super::context::Context;
use super::super::permission::{OrganizationManagementLevel, Permission};
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::{Meeting, MeetingUser, Organization, User};
use crate::models::{Collection, Field, Id, Model, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};

/// Everyone, public access included, sees these fields, even of meetings locked from
/// inside.
pub use super::always as mode_a;

/// Users who can see the meeting see these fields. See `can_see_meetings` for who that
/// is.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move { can_see_meetings(ctx, ids).await })
}

/// Users with `meeting.can_see_frontpage` in the meeting see these fields.
pub fn mode_c(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = Vec::new();
        for id in ids {
            let Some(perms) = ctx.perms(id).await? else {
                continue;
            };
            if perms.has(Permission::MeetingCanSeeFrontpage) {
                allowed.push(id);
            }
        }
        Ok(allowed)
    })
}

/// Superadmins see these fields of every meeting, even one locked from inside. Other
/// users see them when they can see the meeting (mode B).
pub fn mode_e(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx.has_oml(OrganizationManagementLevel::Superadmin).await? {
            return Ok(ids);
        }
        ctx.visible(Collection::Meeting, RestrictionMode::B, &ids)
            .await
    })
}

/// Organization managers see these fields of every meeting, even one locked from inside.
/// Other users see them when they can see the meeting (mode B).
pub fn mode_f(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageOrganization)
            .await?
        {
            return Ok(ids);
        }
        ctx.visible(Collection::Meeting, RestrictionMode::B, &ids)
            .await
    })
}

/// Selects the ids whose meeting, read from `meeting_field`, the viewer can see (mode
/// B). Objects without a meeting are left out.
pub(super) async fn in_visible_meetings<M: Model>(
    ctx: &mut Context,
    meeting_field: Field<M, Id>,
    ids: &[Id],
) -> Result<Vec<Id>, RestrictError> {
    let grouped = by_meeting(ctx, meeting_field, ids).await?;
    let meetings: Vec<Id> = grouped.keys().copied().collect();
    let visible = ctx
        .visible(Collection::Meeting, RestrictionMode::B, &meetings)
        .await?;
    Ok(visible
        .iter()
        .filter_map(|meeting| grouped.get(meeting))
        .flatten()
        .copied()
        .collect())
}

/// Selects the meetings among `ids` that the viewer can see.
///
/// A viewer whose meeting_user is locked out never sees the meeting. A viewer whose
/// meeting_user is in one of the meeting's groups always sees it, even when the meeting
/// is locked from inside. Nobody else sees a locked meeting. An unlocked meeting is
/// visible when public access is enabled in the organization and the meeting, to
/// organization managers, to managers of the meeting's committee, and, if it is a
/// template, to managers of any committee.
async fn can_see_meetings(ctx: &mut Context, ids: Vec<Id>) -> Result<Vec<Id>, RestrictError> {
    let user_id = ctx.user_id();
    let own_meeting_users = meeting_users_by_meeting(ctx, user_id).await?;

    let locked = ctx.get(Meeting::LOCKED_FROM_INSIDE, &ids).await?;
    let meeting_public = ctx.get(Meeting::ENABLE_ANONYMOUS, &ids).await?;
    let organization_public = ctx
        .get_one(Organization::ENABLE_ANONYMOUS, 1)
        .await?
        .unwrap_or(false);
    let organization_manager = ctx
        .has_oml(OrganizationManagementLevel::CanManageOrganization)
        .await?;

    let memberships: Vec<(Id, Id)> = ids
        .iter()
        .filter_map(|id| Some((*id, *own_meeting_users.get(id)?)))
        .collect();
    let (locked_out, in_group) = membership_states(ctx, &memberships).await?;

    let mut allowed = Vec::new();
    let mut undecided = Vec::new();
    for ((id, locked), meeting_public) in ids.into_iter().zip(locked).zip(meeting_public) {
        if locked_out.contains(&id) {
            continue;
        }
        if in_group.contains(&id) {
            allowed.push(id);
            continue;
        }
        if locked.unwrap_or(false) {
            continue;
        }
        if (organization_public && meeting_public.unwrap_or(false)) || organization_manager {
            allowed.push(id);
            continue;
        }
        if user_id != 0 {
            undecided.push(id);
        }
    }

    if !undecided.is_empty() {
        allowed.extend(visible_to_committee_managers(ctx, user_id, undecided).await?);
    }
    Ok(allowed)
}

/// Maps each meeting to the viewer's meeting_user there. Public access has none.
async fn meeting_users_by_meeting(
    ctx: &mut Context,
    user_id: Id,
) -> Result<HashMap<Id, Id>, RestrictError> {
    if user_id == 0 {
        return Ok(HashMap::new());
    }
    let meeting_user_ids = ctx
        .get_one(User::MEETING_USER_IDS, user_id)
        .await?
        .unwrap_or_default();
    let meetings = ctx.get(MeetingUser::MEETING_ID, &meeting_user_ids).await?;
    Ok(meeting_user_ids
        .into_iter()
        .zip(meetings)
        .filter_map(|(meeting_user, meeting)| Some((meeting?, meeting_user)))
        .collect())
}

/// Sorts pairs of (meeting, the viewer's meeting_user there) into two sets: the meetings
/// where that meeting_user is locked out, and the other meetings where it is in one of
/// the meeting's groups (`meeting_user/group_ids`, the side of the relation that belongs
/// to the viewer).
async fn membership_states(
    ctx: &mut Context,
    memberships: &[(Id, Id)],
) -> Result<(HashSet<Id>, HashSet<Id>), RestrictError> {
    let meeting_users: Vec<Id> = memberships.iter().map(|(_, mu)| *mu).collect();
    let locked_out_values = ctx.get(MeetingUser::LOCKED_OUT, &meeting_users).await?;

    let mut locked_out = HashSet::new();
    let mut active = Vec::new();
    for (membership, value) in memberships.iter().zip(locked_out_values) {
        if value.unwrap_or(false) {
            locked_out.insert(membership.0);
        } else {
            active.push(*membership);
        }
    }

    let meetings: Vec<Id> = active.iter().map(|(meeting, _)| *meeting).collect();
    let active_users: Vec<Id> = active.iter().map(|(_, mu)| *mu).collect();
    let group_lists = ctx.get(Meeting::GROUP_IDS, &meetings).await?;
    let own_groups = ctx.get(MeetingUser::GROUP_IDS, &active_users).await?;

    let mut in_group = HashSet::new();
    for (((meeting, _), groups), own) in active.into_iter().zip(group_lists).zip(own_groups) {
        let groups = groups.unwrap_or_default();
        if own
            .unwrap_or_default()
            .iter()
            .any(|group| groups.contains(group))
        {
            in_group.insert(meeting);
        }
    }
    Ok((locked_out, in_group))
}

/// Selects the meetings among `ids` whose committee the viewer manages, and, when the
/// viewer manages any committee, the template meetings among them.
async fn visible_to_committee_managers(
    ctx: &mut Context,
    user_id: Id,
    ids: Vec<Id>,
) -> Result<Vec<Id>, RestrictError> {
    let managed = ctx
        .get_one(User::COMMITTEE_MANAGEMENT_IDS, user_id)
        .await?
        .unwrap_or_default();
    if managed.is_empty() {
        return Ok(Vec::new());
    }
    let committees = ctx.get(Meeting::COMMITTEE_ID, &ids).await?;
    let templates = ctx.get(Meeting::TEMPLATE_FOR_ORGANIZATION_ID, &ids).await?;
    Ok(ids
        .into_iter()
        .zip(committees)
        .zip(templates)
        .filter(|((_, committee), template)| {
            committee.is_some_and(|c| managed.contains(&c)) || template.is_some()
        })
        .map(|((id, _), _)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    const NONE: Vec<Id> = Vec::new();

    /// Users and the organization. Each test adds its meetings.
    fn base() -> Value {
        json!({
            "organization/1": {"id": 1, "enable_anonymous": true},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2, "organization_management_level": "can_manage_organization"},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4},
            "user/5": {"id": 5, "committee_management_ids": [40]},
            "user/6": {"id": 6, "committee_management_ids": [41]}
        })
    }

    fn with(mut data: Value, extra: Value) -> Value {
        let object = data.as_object_mut().expect("object");
        for (key, value) in extra.as_object().expect("object") {
            object.insert(key.clone(), value.clone());
        }
        data
    }

    /// Meeting 30 of committee 40 with the admin group 31, the group 32 (frontpage) and
    /// the group 33 (no permissions). User 4 is in group 32 through meeting_user 10.
    fn meeting(fields: Value) -> Value {
        let mut meeting = json!({
            "id": 30, "committee_id": 40, "admin_group_id": 31, "group_ids": [31, 32, 33]
        });
        for (key, value) in fields.as_object().expect("object") {
            meeting[key] = value.clone();
        }
        with(
            base(),
            json!({
                "meeting/30": meeting,
                "committee/40": {"id": 40, "meeting_ids": [30]},
                "group/31": {"id": 31, "meeting_id": 30, "admin_group_for_meeting_id": 30},
                "group/32": {"id": 32, "meeting_id": 30, "meeting_user_ids": [10],
                    "permissions": ["meeting.can_see_frontpage"]},
                "group/33": {"id": 33, "meeting_id": 30, "permissions": []},
                "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 30, "group_ids": [32]},
                "user/4": {"id": 4, "meeting_user_ids": [10]}
            }),
        )
    }

    async fn visible(data: &Value, user_id: Id, mode: &str) -> Vec<Id> {
        visible_ids(data, user_id, "meeting", mode, &[30]).await
    }

    #[tokio::test]
    async fn meeting_a_for_everyone() {
        let data = meeting(json!({"locked_from_inside": true}));
        assert_eq!(visible(&data, 0, "A").await, vec![30], "public access");
        assert_eq!(visible(&data, 3, "A").await, vec![30], "can_manage_users");
        assert_eq!(visible(&data, 1, "A").await, vec![30], "superadmin");
    }

    #[tokio::test]
    async fn meeting_b_for_members() {
        let data = meeting(json!({}));
        assert_eq!(visible(&data, 4, "B").await, vec![30], "member");
        assert_eq!(visible(&data, 3, "B").await, NONE, "can_manage_users");
        assert_eq!(visible(&data, 6, "B").await, NONE, "other committee");
        assert_eq!(visible(&data, 0, "B").await, NONE, "public access");
    }

    #[tokio::test]
    async fn meeting_b_follows_the_groups_of_the_membership() {
        // meeting_user 11 names group 33 of the meeting. The group's own list is not
        // read, so the result depends only on the viewer's side of the relation.
        let data = with(
            meeting(json!({})),
            json!({
                "meeting_user/11": {"id": 11, "user_id": 7, "meeting_id": 30, "group_ids": [33]},
                "user/7": {"id": 7, "meeting_user_ids": [11]}
            }),
        );
        assert_eq!(visible(&data, 7, "B").await, vec![30]);

        // A group of another meeting does not count.
        let data = with(
            meeting(json!({})),
            json!({
                "meeting_user/11": {"id": 11, "user_id": 7, "meeting_id": 30, "group_ids": [99]},
                "user/7": {"id": 7, "meeting_user_ids": [11]}
            }),
        );
        assert_eq!(visible(&data, 7, "B").await, NONE);
    }

    #[tokio::test]
    async fn meeting_b_hidden_from_locked_out_member() {
        let data = with(
            meeting(json!({"enable_anonymous": true})),
            json!({
                "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 30, "group_ids": [32],
                    "locked_out": true}
            }),
        );
        assert_eq!(visible(&data, 4, "B").await, NONE, "despite public access");

        let manager = with(
            data,
            json!({"user/4": {"id": 4, "meeting_user_ids": [10],
                "committee_management_ids": [40],
                "organization_management_level": "can_manage_organization"}}),
        );
        assert_eq!(
            visible(&manager, 4, "B").await,
            NONE,
            "despite managing the committee and the organization"
        );
    }

    #[tokio::test]
    async fn meeting_b_with_public_access() {
        let public = meeting(json!({"enable_anonymous": true}));
        assert_eq!(visible(&public, 0, "B").await, vec![30], "public access");
        assert_eq!(
            visible(&public, 3, "B").await,
            vec![30],
            "logged-in non-member"
        );

        let organization_off = with(
            public.clone(),
            json!({"organization/1": {"id": 1, "enable_anonymous": false}}),
        );
        assert_eq!(
            visible(&organization_off, 0, "B").await,
            NONE,
            "off in organization"
        );

        let meeting_off = meeting(json!({"enable_anonymous": false}));
        assert_eq!(visible(&meeting_off, 0, "B").await, NONE, "off in meeting");
    }

    #[tokio::test]
    async fn meeting_b_for_committee_managers() {
        let data = meeting(json!({}));
        assert_eq!(
            visible(&data, 5, "B").await,
            vec![30],
            "manager of committee 40"
        );
        assert_eq!(
            visible(&data, 6, "B").await,
            NONE,
            "manager of committee 41"
        );
    }

    #[tokio::test]
    async fn meeting_b_template_for_any_committee_manager() {
        let data = meeting(json!({"template_for_organization_id": 1}));
        assert_eq!(
            visible(&data, 6, "B").await,
            vec![30],
            "manager of committee 41"
        );
        assert_eq!(
            visible(&data, 3, "B").await,
            NONE,
            "manager of no committee"
        );
        assert_eq!(visible(&data, 0, "B").await, NONE, "public access");
    }

    #[tokio::test]
    async fn meeting_b_for_organization_managers() {
        let data = meeting(json!({}));
        assert_eq!(
            visible(&data, 2, "B").await,
            vec![30],
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 1, "B").await, vec![30], "superadmin");
    }

    #[tokio::test]
    async fn meeting_b_locked_only_for_members() {
        let data = meeting(json!({
            "locked_from_inside": true, "enable_anonymous": true,
            "template_for_organization_id": 1
        }));
        assert_eq!(visible(&data, 4, "B").await, vec![30], "member");
        assert_eq!(visible(&data, 1, "B").await, NONE, "superadmin");
        assert_eq!(
            visible(&data, 2, "B").await,
            NONE,
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 5, "B").await, NONE, "committee manager");
        assert_eq!(visible(&data, 6, "B").await, NONE, "manager of a template");
        assert_eq!(visible(&data, 0, "B").await, NONE, "public access");
    }

    #[tokio::test]
    async fn meeting_b_decides_each_meeting() {
        // Meeting 50 is public and meeting 60 is not. User 4 is a member of 30 only.
        let data = with(
            meeting(json!({})),
            json!({
                "meeting/50": {"id": 50, "committee_id": 40, "enable_anonymous": true},
                "meeting/60": {"id": 60, "committee_id": 40}
            }),
        );
        assert_eq!(
            visible_ids(&data, 4, "meeting", "B", &[30, 50, 60]).await,
            vec![30, 50]
        );
        assert_eq!(
            visible_ids(&data, 5, "meeting", "B", &[30, 50, 60]).await,
            vec![30, 50, 60]
        );
    }

    #[tokio::test]
    async fn meeting_c_needs_frontpage_permission() {
        let data = with(
            meeting(json!({})),
            json!({
                "meeting_user/11": {"id": 11, "user_id": 7, "meeting_id": 30, "group_ids": [33]},
                "group/33": {"id": 33, "meeting_id": 30, "meeting_user_ids": [11],
                    "permissions": []},
                "meeting_user/12": {"id": 12, "user_id": 8, "meeting_id": 30, "group_ids": [31]},
                "group/31": {"id": 31, "meeting_id": 30, "admin_group_for_meeting_id": 30,
                    "meeting_user_ids": [12]},
                "user/7": {"id": 7, "meeting_user_ids": [11]},
                "user/8": {"id": 8, "meeting_user_ids": [12]}
            }),
        );
        assert_eq!(visible(&data, 4, "C").await, vec![30], "can_see_frontpage");
        assert_eq!(visible(&data, 7, "C").await, NONE, "member without it");
        assert_eq!(visible(&data, 8, "C").await, vec![30], "meeting admin");
        assert_eq!(
            visible(&data, 2, "C").await,
            vec![30],
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 3, "C").await, NONE, "can_manage_users");
        assert_eq!(visible(&data, 5, "C").await, NONE, "committee manager");
        assert_eq!(visible(&data, 0, "C").await, NONE, "public access disabled");
    }

    #[tokio::test]
    async fn meeting_c_for_public_access_group() {
        let data = with(
            meeting(json!({"enable_anonymous": true, "anonymous_group_id": 34})),
            json!({"group/34": {"id": 34, "meeting_id": 30,
                "anonymous_group_for_meeting_id": 30,
                "permissions": ["meeting.can_see_frontpage"]}}),
        );
        assert_eq!(visible(&data, 0, "C").await, vec![30]);
    }

    #[tokio::test]
    async fn meeting_c_locked_hides_from_organization_managers() {
        let data = meeting(json!({"locked_from_inside": true}));
        assert_eq!(visible(&data, 1, "C").await, NONE, "superadmin");
        assert_eq!(
            visible(&data, 2, "C").await,
            NONE,
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 4, "C").await, vec![30], "member");
    }

    #[tokio::test]
    async fn meeting_e_for_superadmin_even_when_locked() {
        let locked = meeting(json!({"locked_from_inside": true}));
        assert_eq!(visible(&locked, 1, "E").await, vec![30], "superadmin");
        assert_eq!(
            visible(&locked, 2, "E").await,
            NONE,
            "can_manage_organization"
        );
        assert_eq!(visible(&locked, 4, "E").await, vec![30], "member");

        let open = meeting(json!({}));
        assert_eq!(
            visible(&open, 2, "E").await,
            vec![30],
            "can_manage_organization"
        );
        assert_eq!(visible(&open, 3, "E").await, NONE, "can_manage_users");
        assert_eq!(visible(&open, 0, "E").await, NONE, "public access");
    }

    #[tokio::test]
    async fn meeting_f_for_organization_managers_even_when_locked() {
        let locked = meeting(json!({"locked_from_inside": true}));
        assert_eq!(visible(&locked, 1, "F").await, vec![30], "superadmin");
        assert_eq!(
            visible(&locked, 2, "F").await,
            vec![30],
            "can_manage_organization"
        );
        assert_eq!(visible(&locked, 3, "F").await, NONE, "can_manage_users");
        assert_eq!(visible(&locked, 5, "F").await, NONE, "committee manager");
        assert_eq!(visible(&locked, 4, "F").await, vec![30], "member");

        let open = meeting(json!({}));
        assert_eq!(visible(&open, 5, "F").await, vec![30], "committee manager");
        assert_eq!(visible(&open, 0, "F").await, NONE, "public access");
    }

    /// One field per mode: name (A), description (B), welcome_title (C), jitsi_domain
    /// (E), language (F).
    const FIELDS: [&str; 5] = [
        "meeting/30/name",
        "meeting/30/description",
        "meeting/30/welcome_title",
        "meeting/30/jitsi_domain",
        "meeting/30/language",
    ];

    fn named(fields: Value) -> Value {
        let mut all = json!({
            "name": "Plenum", "description": "d", "welcome_title": "w",
            "jitsi_domain": "j", "language": "de"
        });
        for (key, value) in fields.as_object().expect("object") {
            all[key] = value.clone();
        }
        meeting(all)
    }

    #[tokio::test]
    async fn meeting_fields_in_locked_meeting() {
        let data = named(json!({"locked_from_inside": true}));
        assert_eq!(
            restricted(&data, 1, &FIELDS).await,
            json!({"meeting/30/name": "Plenum", "meeting/30/jitsi_domain": "j",
                "meeting/30/language": "de"}),
            "superadmin"
        );
        assert_eq!(
            restricted(&data, 2, &FIELDS).await,
            json!({"meeting/30/name": "Plenum", "meeting/30/language": "de"}),
            "can_manage_organization"
        );
        assert_eq!(
            restricted(&data, 3, &FIELDS).await,
            json!({"meeting/30/name": "Plenum"}),
            "can_manage_users"
        );
        assert_eq!(
            restricted(&data, 4, &FIELDS).await,
            json!({"meeting/30/name": "Plenum", "meeting/30/description": "d",
                "meeting/30/welcome_title": "w", "meeting/30/jitsi_domain": "j",
                "meeting/30/language": "de"}),
            "member with can_see_frontpage"
        );
    }

    #[tokio::test]
    async fn meeting_fields_in_unlocked_meeting() {
        let data = named(json!({}));
        let everything = json!({"meeting/30/name": "Plenum", "meeting/30/description": "d",
            "meeting/30/welcome_title": "w", "meeting/30/jitsi_domain": "j",
            "meeting/30/language": "de"});
        assert_eq!(
            restricted(&data, 1, &FIELDS).await,
            everything,
            "superadmin"
        );
        assert_eq!(
            restricted(&data, 2, &FIELDS).await,
            everything,
            "can_manage_organization"
        );
        assert_eq!(
            restricted(&data, 3, &FIELDS).await,
            json!({"meeting/30/name": "Plenum"}),
            "can_manage_users"
        );
        assert_eq!(
            restricted(&data, 0, &FIELDS).await,
            json!({"meeting/30/name": "Plenum"}),
            "public access disabled"
        );
    }
}
