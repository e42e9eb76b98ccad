//! Restriction rules of `user`.
//!
//! Committee managers are the users with a committee in `user/committee_management_ids`.
//! Mode A finds the members of those committees through `user/committee_ids`, the other
//! modes through `committee/user_ids`.

use super::super::context::Context;
use super::super::permission::{OrganizationManagementLevel, Permission};
use super::super::RestrictError;
use crate::models::collections::{Committee, MeetingUser, User};
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};

/// Nobody sees these fields.
pub use super::never as mode_g;

/// The user themselves, user managers of the organization, managers of a committee the
/// user is in, and viewers who can see one of the user's memberships see the user.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageUsers)
            .await?
        {
            return Ok(ids);
        }
        let viewer = ctx.user_id();
        let mut allowed = Vec::new();
        let mut others = Vec::new();
        for id in ids {
            if id == viewer {
                allowed.push(id);
            } else {
                others.push(id);
            }
        }
        if others.is_empty() {
            return Ok(allowed);
        }

        let managed: HashSet<Id> = managed_committees(ctx).await?.into_iter().collect();
        let mut rest = Vec::new();
        if managed.is_empty() {
            rest = others;
        } else {
            let committees = ctx.get(User::COMMITTEE_IDS, &others).await?;
            for (id, committees) in others.into_iter().zip(committees) {
                let in_managed = committees
                    .unwrap_or_default()
                    .iter()
                    .any(|committee| managed.contains(committee));
                if in_managed {
                    allowed.push(id);
                } else {
                    rest.push(id);
                }
            }
        }
        if rest.is_empty() {
            return Ok(allowed);
        }

        let memberships = ctx.get(User::MEETING_USER_IDS, &rest).await?;
        let memberships: Vec<Vec<Id>> = memberships
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let all: Vec<Id> = memberships.iter().flatten().copied().collect();
        let visible: HashSet<Id> = ctx
            .visible(Collection::MeetingUser, RestrictionMode::A, &all)
            .await?
            .into_iter()
            .collect();
        allowed.extend(
            rest.into_iter()
                .zip(memberships)
                .filter(|(_, memberships)| memberships.iter().any(|id| visible.contains(id)))
                .map(|(id, _)| id),
        );
        Ok(allowed)
    })
}

/// The user themselves, user managers of the organization, managers of a committee the
/// user is in, and members with `user.can_see_sensitive_data` in one of the user's
/// meetings see these fields.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageUsers)
            .await?
        {
            return Ok(ids);
        }
        let viewer = ctx.user_id();
        let mut known = committee_members(ctx).await?;
        if viewer != 0 {
            known.insert(viewer);
        }
        let (mut allowed, others): (Vec<Id>, Vec<Id>) =
            ids.into_iter().partition(|id| known.contains(id));
        allowed.extend(
            in_meeting_with_permission(ctx, others, Permission::UserCanSeeSensitiveData).await?,
        );
        Ok(allowed)
    })
}

/// User managers of the organization and members with `user.can_manage` in one of the
/// user's meetings see these fields.
pub fn mode_d(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageUsers)
            .await?
        {
            return Ok(ids);
        }
        in_meeting_with_permission(ctx, ids, Permission::UserCanManage).await
    })
}

/// The user themselves, user managers of the organization, managers of a committee the
/// user is in, and members with `user.can_manage` in one of the user's meetings see these
/// fields. Public access sees none.
pub fn mode_e(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let viewer = ctx.user_id();
        if viewer == 0 {
            return Ok(Vec::new());
        }
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageUsers)
            .await?
        {
            return Ok(ids);
        }
        let mut known = committee_members(ctx).await?;
        known.insert(viewer);
        let (mut allowed, others): (Vec<Id>, Vec<Id>) =
            ids.into_iter().partition(|id| known.contains(id));
        allowed.extend(in_meeting_with_permission(ctx, others, Permission::UserCanManage).await?);
        Ok(allowed)
    })
}

/// Only user managers of the organization (and higher levels) see these fields.
pub fn mode_f(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageUsers)
            .await?
        {
            return Ok(ids);
        }
        Ok(Vec::new())
    })
}

/// Viewers who see the user in mode D or manage a committee the user is in see these
/// fields, unless the user has a higher organization management level than the viewer.
/// Public access sees none.
pub fn mode_h(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let viewer = ctx.user_id();
        if viewer == 0 {
            return Ok(Vec::new());
        }
        let own_level = ctx
            .get_one(User::ORGANIZATION_MANAGEMENT_LEVEL, viewer)
            .await?;
        let own_rank = level_rank(own_level.as_deref());
        let levels = ctx.get(User::ORGANIZATION_MANAGEMENT_LEVEL, &ids).await?;

        let mut managed: HashSet<Id> = ctx
            .visible(Collection::User, RestrictionMode::D, &ids)
            .await?
            .into_iter()
            .collect();
        managed.extend(committee_members(ctx).await?);

        Ok(ids
            .into_iter()
            .zip(levels)
            .filter(|(id, level)| own_rank >= level_rank(level.as_deref()) && managed.contains(id))
            .map(|(id, _)| id)
            .collect())
    })
}

/// Ranks a value of `user/organization_management_level` for mode H: no level is lowest,
/// superadmin is highest among the known levels.
///
/// NOTE: Unknown text ranks above superadmin, as in the Go service. A user with such a
/// level is hidden from everyone else, and a viewer with one outranks every user.
fn level_rank(level: Option<&str>) -> u8 {
    match level {
        None | Some("") => 0,
        Some("can_manage_users") => 1,
        Some("can_manage_organization") => 2,
        Some("superadmin") => 3,
        Some(_) => 4,
    }
}

/// Returns the committees the viewer manages, none for public access.
async fn managed_committees(ctx: &mut Context) -> Result<Vec<Id>, RestrictError> {
    let viewer = ctx.user_id();
    if viewer == 0 {
        return Ok(Vec::new());
    }
    Ok(ctx
        .get_one(User::COMMITTEE_MANAGEMENT_IDS, viewer)
        .await?
        .unwrap_or_default())
}

/// Collects the users of the committees the viewer manages from `committee/user_ids`.
async fn committee_members(ctx: &mut Context) -> Result<HashSet<Id>, RestrictError> {
    let committees = managed_committees(ctx).await?;
    if committees.is_empty() {
        return Ok(HashSet::new());
    }
    let members = ctx.get(Committee::USER_IDS, &committees).await?;
    Ok(members.into_iter().flatten().flatten().collect())
}

/// Returns the users with a membership in a meeting where the viewer has `permission`.
/// Memberships without a meeting count for none.
async fn in_meeting_with_permission(
    ctx: &mut Context,
    user_ids: Vec<Id>,
    permission: Permission,
) -> Result<Vec<Id>, RestrictError> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let memberships = ctx.get(User::MEETING_USER_IDS, &user_ids).await?;
    let memberships: Vec<Vec<Id>> = memberships
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    let all: Vec<Id> = memberships.iter().flatten().copied().collect();
    let meetings = ctx.get(MeetingUser::MEETING_ID, &all).await?;
    let meeting_of: HashMap<Id, Id> = all
        .into_iter()
        .zip(meetings)
        .filter_map(|(id, meeting_id)| Some((id, meeting_id?)))
        .collect();

    let mut granted: HashMap<Id, bool> = HashMap::new();
    for meeting_id in meeting_of.values() {
        if granted.contains_key(meeting_id) {
            continue;
        }
        let has = ctx
            .perms(*meeting_id)
            .await?
            .is_some_and(|perms| perms.has(permission));
        granted.insert(*meeting_id, has);
    }

    Ok(user_ids
        .into_iter()
        .zip(memberships)
        .filter(|(_, memberships)| {
            memberships.iter().any(|id| {
                meeting_of
                    .get(id)
                    .is_some_and(|meeting_id| granted.get(meeting_id) == Some(&true))
            })
        })
        .map(|(id, _)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
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
                visible_ids(data, *user_id, "user", mode, ids).await,
                expected.to_vec(),
                "user mode {mode} for {viewer} (user {user_id})"
            );
        }
    }

    /// Meeting 1 is open and has public access. Meeting 2 is locked from inside.
    ///
    /// Users: 1 superadmin, 2 can_manage_users, 3 can_manage_organization, all without
    /// memberships. Members of meeting 1: 4 admin, 5 without permissions, 6 with
    /// user.can_see, 7 with user.can_see_sensitive_data, 8 with user.can_manage, 9 with
    /// user.can_manage but locked out. User 11 manages committee 1, whose users are 4 to
    /// 9 and 11. User 12 is a member of meeting 2 with user.can_see and in committee 2.
    /// User 15 has no membership and no committee.
    fn data() -> Value {
        let mut data = json!({
            "organization/1": {"enable_anonymous": true},
            "committee/1": {"meeting_ids": [1], "manager_ids": [11],
                "user_ids": [4, 5, 6, 7, 8, 9, 11]},
            "committee/2": {"meeting_ids": [2], "user_ids": [12]},
            "meeting/1": {"admin_group_id": 10, "enable_anonymous": true,
                "anonymous_group_id": 13, "committee_id": 1},
            "group/10": {"meeting_id": 1, "admin_group_for_meeting_id": 1, "permissions": []},
            "group/11": {"meeting_id": 1, "permissions": []},
            "group/12": {"meeting_id": 1, "permissions": ["user.can_see"]},
            "group/13": {"meeting_id": 1, "anonymous_group_for_meeting_id": 1, "permissions": []},
            "group/14": {"meeting_id": 1, "permissions": ["user.can_see_sensitive_data"]},
            "group/15": {"meeting_id": 1, "permissions": ["user.can_manage"]},
            "meeting/2": {"admin_group_id": 20, "locked_from_inside": true, "committee_id": 2},
            "group/20": {"meeting_id": 2, "admin_group_for_meeting_id": 2, "permissions": []},
            "group/21": {"meeting_id": 2, "permissions": ["user.can_see"]},

            "user/1": {"organization_management_level": "superadmin"},
            "user/2": {"organization_management_level": "can_manage_users"},
            "user/3": {"organization_management_level": "can_manage_organization"},
            "user/11": {"committee_management_ids": [1], "committee_ids": [1]},
            "user/12": {"meeting_user_ids": [120], "committee_ids": [2]},
            "meeting_user/120": {"user_id": 12, "meeting_id": 2, "group_ids": [21]},
            "user/15": {},
            "meeting_user/90": {"locked_out": true}
        });
        for (user_id, group_id) in [(4, 10), (5, 11), (6, 12), (7, 14), (8, 15), (9, 15)] {
            let meeting_user_id = user_id * 10;
            data = with(
                data,
                json!({
                    format!("user/{user_id}"): {"meeting_user_ids": [meeting_user_id],
                        "committee_ids": [1]},
                    format!("meeting_user/{meeting_user_id}"): {"user_id": user_id,
                        "meeting_id": 1, "group_ids": [group_id]}
                }),
            );
        }
        data
    }

    const ALL: [Id; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15];
    const MEETING_1: [Id; 6] = [4, 5, 6, 7, 8, 9];
    const COMMITTEE_1: [Id; 7] = [4, 5, 6, 7, 8, 9, 11];

    #[tokio::test]
    async fn user_a_self_managers_and_members() {
        assert_cases(
            &data(),
            "A",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &ALL),
                ("user manager", 2, &ALL),
                ("organization manager", 3, &ALL),
                ("meeting admin", 4, &MEETING_1),
                ("member without permissions", 5, &[5]),
                ("member with user.can_see", 6, &MEETING_1),
                ("locked-out member with user.can_manage", 9, &[9]),
                ("committee manager", 11, &COMMITTEE_1),
                ("member of the locked meeting with user.can_see", 12, &[12]),
                ("user without membership", 15, &[15]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn user_a_public_access_with_user_can_see() {
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
    }

    #[tokio::test]
    async fn user_a_committee_manager_sees_only_own_committees() {
        let other_committee = with(
            data(),
            json!({"user/11": {"committee_management_ids": [2], "committee_ids": [2]},
                "committee/1": {"user_ids": [4, 5, 6, 7, 8, 9]},
                "committee/2": {"user_ids": [11, 12]}}),
        );
        assert_cases(
            &other_committee,
            "A",
            &ALL,
            &[("manager of committee 2", 11, &[11, 12])],
        )
        .await;
    }

    /// User 5 delegates the vote to user 8, whose membership 80 lists 50 as delegation.
    /// Users 5 and 16 have no permissions, so only the delegation shows user 8 to user 5.
    #[tokio::test]
    async fn user_a_visible_through_vote_delegation() {
        let delegation = with(
            data(),
            json!({"meeting_user/50": {"vote_delegated_to_id": 80},
                "meeting_user/80": {"vote_delegations_from_ids": [50]},
                "user/16": {"meeting_user_ids": [160]},
                "meeting_user/160": {"user_id": 16, "meeting_id": 1, "group_ids": [11]}}),
        );
        let ids = [5, 8, 16];
        assert_cases(
            &delegation,
            "A",
            &ids,
            &[
                ("member who delegated the vote", 5, &[5, 8]),
                ("member without permissions", 16, &[16]),
            ],
        )
        .await;
        // Mode B ignores vote delegations; user 8 sees everyone by user.can_manage.
        assert_cases(&delegation, "B", &ids, &[("member who delegated", 5, &[5])]).await;
    }

    #[tokio::test]
    async fn user_b_needs_sensitive_data_permission() {
        assert_cases(
            &data(),
            "B",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &ALL),
                ("user manager", 2, &ALL),
                ("organization manager", 3, &ALL),
                ("meeting admin", 4, &MEETING_1),
                ("member without permissions", 5, &[5]),
                ("member with user.can_see", 6, &[6]),
                ("member with user.can_see_sensitive_data", 7, &MEETING_1),
                ("member with user.can_manage", 8, &MEETING_1),
                ("locked-out member with user.can_manage", 9, &[9]),
                ("committee manager", 11, &COMMITTEE_1),
                ("member of the locked meeting with user.can_see", 12, &[12]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn user_b_public_access_sensitive_data() {
        let anonymous_sensitive = with(
            data(),
            json!({"group/13": {"permissions": ["user.can_see_sensitive_data"]}}),
        );
        assert_cases(
            &anonymous_sensitive,
            "B",
            &ALL,
            &[("public access", 0, &MEETING_1)],
        )
        .await;
    }

    #[tokio::test]
    async fn user_b_committee_manager_uses_committee_user_ids() {
        // Committee 1 lists no users, even though the users list committee 1.
        let empty_committee = with(data(), json!({"committee/1": {"user_ids": []}}));
        assert_cases(
            &empty_committee,
            "B",
            &ALL,
            &[("committee manager", 11, &[11])],
        )
        .await;
    }

    #[tokio::test]
    async fn user_d_needs_user_can_manage() {
        assert_cases(
            &data(),
            "D",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &ALL),
                ("user manager", 2, &ALL),
                ("organization manager", 3, &ALL),
                ("meeting admin", 4, &MEETING_1),
                ("member without permissions", 5, &[]),
                ("member with user.can_see_sensitive_data", 7, &[]),
                ("member with user.can_manage", 8, &MEETING_1),
                ("locked-out member with user.can_manage", 9, &[]),
                ("committee manager", 11, &[]),
                ("user without membership", 15, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn user_e_self_committee_and_managers() {
        let mut manager_view = MEETING_1.to_vec();
        manager_view.push(11);
        assert_cases(
            &data(),
            "E",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &ALL),
                ("user manager", 2, &ALL),
                ("organization manager", 3, &ALL),
                ("meeting admin", 4, &MEETING_1),
                ("member without permissions", 5, &[5]),
                ("member with user.can_see_sensitive_data", 7, &[7]),
                ("member with user.can_manage", 8, &MEETING_1),
                ("locked-out member with user.can_manage", 9, &[9]),
                ("committee manager", 11, &manager_view),
                ("member of the locked meeting with user.can_see", 12, &[12]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn user_e_public_access_sees_nothing() {
        // Even an anonymous group with user.can_manage shows no mode E fields.
        let anonymous_manager = with(
            data(),
            json!({"group/13": {"permissions": ["user.can_manage"]}}),
        );
        assert_cases(&anonymous_manager, "E", &ALL, &[("public access", 0, &[])]).await;
        assert_cases(
            &anonymous_manager,
            "D",
            &ALL,
            &[("public access in mode D", 0, &MEETING_1)],
        )
        .await;
    }

    #[tokio::test]
    async fn user_f_only_for_user_managers() {
        assert_cases(
            &data(),
            "F",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &ALL),
                ("user manager", 2, &ALL),
                ("organization manager", 3, &ALL),
                ("meeting admin", 4, &[]),
                ("member with user.can_manage", 8, &[]),
                ("committee manager", 11, &[]),
                ("user without membership", 15, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn user_g_never_visible() {
        assert_cases(
            &data(),
            "G",
            &ALL,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &[]),
                ("meeting admin", 4, &[]),
                ("user without membership", 15, &[]),
            ],
        )
        .await;
    }

    /// Adds members of meeting 1 without permissions that hold organization management
    /// levels: 21 superadmin, 22 can_manage_organization, 23 can_manage_users (also in
    /// committee 1) and 24 an unknown level.
    fn leveled_data() -> Value {
        let mut data = with(
            data(),
            json!({"committee/1": {"user_ids": [4, 5, 6, 7, 8, 9, 11, 23]}}),
        );
        let levels = [
            (21, "superadmin"),
            (22, "can_manage_organization"),
            (23, "can_manage_users"),
            (24, "unknown_level"),
        ];
        for (user_id, level) in levels {
            let meeting_user_id = user_id * 10;
            data = with(
                data,
                json!({
                    format!("user/{user_id}"): {"meeting_user_ids": [meeting_user_id],
                        "organization_management_level": level},
                    format!("meeting_user/{meeting_user_id}"): {"user_id": user_id,
                        "meeting_id": 1, "group_ids": [11]}
                }),
            );
        }
        data
    }

    #[tokio::test]
    async fn user_h_hidden_from_lower_management_levels() {
        let ids = [5, 15, 21, 22, 23, 24];
        assert_cases(
            &leveled_data(),
            "H",
            &ids,
            &[
                ("public access", 0, &[]),
                ("superadmin", 1, &[5, 15, 21, 22, 23]),
                ("user manager", 2, &[5, 15, 23]),
                ("organization manager", 3, &[5, 15, 22, 23]),
                ("meeting admin", 4, &[5]),
                ("member with user.can_manage", 8, &[5]),
                ("user manager in meeting 1", 23, &[5, 15, 23]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn user_h_committee_members_without_level() {
        assert_cases(
            &leveled_data(),
            "H",
            &[5, 11, 12, 15, 23],
            &[("committee manager", 11, &[5, 11])],
        )
        .await;
    }

    #[tokio::test]
    async fn user_h_hidden_from_self_without_management() {
        assert_cases(
            &data(),
            "H",
            &ALL,
            &[
                ("member without permissions", 5, &[]),
                ("user without membership", 15, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn user_fields_follow_their_modes() {
        let data = with(
            data(),
            json!({"user/7": {"first_name": "Ada", "email": "ada@example.org",
                "default_password": "secret", "password": "hash"}}),
        );
        let keys = [
            "user/7/first_name",
            "user/7/email",
            "user/7/default_password",
            "user/7/password",
        ];
        assert_eq!(
            restricted(&data, 6, &keys).await,
            json!({"user/7/first_name": "Ada"}),
            "member with user.can_see"
        );
        assert_eq!(
            restricted(&data, 7, &keys).await,
            json!({"user/7/first_name": "Ada", "user/7/email": "ada@example.org"}),
            "the user themselves"
        );
        assert_eq!(
            restricted(&data, 8, &keys).await,
            json!({"user/7/first_name": "Ada", "user/7/email": "ada@example.org",
                "user/7/default_password": "secret"}),
            "member with user.can_manage"
        );
        assert_eq!(
            restricted(&data, 0, &keys).await,
            json!({}),
            "public access"
        );
    }
}
