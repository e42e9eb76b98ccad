//! `Perms`: a user's permissions in one meeting, computed as OpenSlides does.

use super::context::Context;
use super::permission::{OrganizationManagementLevel, Permission};
use super::RestrictError;
use crate::models::collections::{Group, Meeting, MeetingUser, Organization, User};
use crate::models::Id;

/// The permissions of a user in a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perms {
    /// Meeting admins have every permission.
    admin: bool,
    group_ids: Vec<Id>,
    /// One bit per `Permission::ALL` index, with implied permissions set.
    bits: u64,
}

fn bit(permission: Permission) -> u64 {
    let index = Permission::ALL
        .iter()
        .position(|p| *p == permission)
        .unwrap_or_default();
    1 << index
}

impl Perms {
    /// Permissions of a meeting admin.
    pub fn admin() -> Perms {
        Perms {
            admin: true,
            group_ids: Vec::new(),
            bits: u64::MAX,
        }
    }

    /// Permissions from group permission lists, with the permissions they imply.
    pub fn from_permissions<'a>(
        group_ids: Vec<Id>,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Perms {
        let mut bits = 0;
        for permission in names.into_iter().filter_map(Permission::from_name) {
            bits |= bit(permission);
            for implied in permission.implied() {
                bits |= bit(*implied);
            }
        }
        Perms {
            admin: false,
            group_ids,
            bits,
        }
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.admin || self.bits & bit(permission) != 0
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// Checks whether the user is in one of the groups; admins are in every group.
    pub fn in_group(&self, group_ids: &[Id]) -> bool {
        self.admin || group_ids.iter().any(|id| self.group_ids.contains(id))
    }

    /// Computes the viewer's permissions in a meeting. `None` means no permissions:
    /// public access in a meeting or organization without it, a user who is not a member,
    /// or a member who is locked out. Organization managers and superadmins are admins of
    /// every meeting that is not locked from inside.
    pub async fn load(ctx: &mut Context, meeting_id: Id) -> Result<Option<Perms>, RestrictError> {
        let user_id = ctx.user_id();
        if user_id == 0 {
            return public_access(ctx, meeting_id).await;
        }

        let locked = ctx
            .get_one(Meeting::LOCKED_FROM_INSIDE, meeting_id)
            .await?
            .unwrap_or(false);
        if !locked
            && ctx
                .has_oml(OrganizationManagementLevel::CanManageOrganization)
                .await?
        {
            return Ok(Some(Perms::admin()));
        }

        let meeting_user_ids = ctx
            .get_one(User::MEETING_USER_IDS, user_id)
            .await?
            .unwrap_or_default();
        let meetings = ctx.get(MeetingUser::MEETING_ID, &meeting_user_ids).await?;
        let Some(meeting_user_id) = meeting_user_ids
            .iter()
            .zip(meetings)
            .find(|(_, meeting)| *meeting == Some(meeting_id))
            .map(|(id, _)| *id)
        else {
            return Ok(None);
        };

        if ctx
            .get_one(MeetingUser::LOCKED_OUT, meeting_user_id)
            .await?
            .unwrap_or(false)
        {
            return Ok(None);
        }

        let group_ids = ctx
            .get_one(MeetingUser::GROUP_IDS, meeting_user_id)
            .await?
            .unwrap_or_default();
        let admin_group = ctx.get_one(Meeting::ADMIN_GROUP_ID, meeting_id).await?;
        if admin_group.is_some_and(|admin| group_ids.contains(&admin)) {
            return Ok(Some(Perms::admin()));
        }
        permissions_of_groups(ctx, group_ids).await.map(Some)
    }
}

async fn public_access(ctx: &mut Context, meeting_id: Id) -> Result<Option<Perms>, RestrictError> {
    let organization = ctx.get_one(Organization::ENABLE_ANONYMOUS, 1).await?;
    let meeting = ctx.get_one(Meeting::ENABLE_ANONYMOUS, meeting_id).await?;
    if organization != Some(true) || meeting != Some(true) {
        return Ok(None);
    }
    let Some(group_id) = ctx.get_one(Meeting::ANONYMOUS_GROUP_ID, meeting_id).await? else {
        return Ok(None);
    };
    permissions_of_groups(ctx, vec![group_id]).await.map(Some)
}

async fn permissions_of_groups(
    ctx: &mut Context,
    group_ids: Vec<Id>,
) -> Result<Perms, RestrictError> {
    let lists = ctx.get(Group::PERMISSIONS, &group_ids).await?;
    let names: Vec<String> = lists.into_iter().flatten().flatten().collect();
    Ok(Perms::from_permissions(
        group_ids,
        names.iter().map(String::as_str),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_permissions_include_implied_ones() {
        let perms = Perms::from_permissions(vec![3], ["motion.can_manage", "unknown.permission"]);
        assert!(perms.has(Permission::MotionCanManage));
        assert!(perms.has(Permission::MotionCanSee));
        assert!(perms.has(Permission::MotionCanSeeInternal));
        assert!(!perms.has(Permission::AgendaItemCanSee));
        assert!(perms.in_group(&[2, 3]));
        assert!(!perms.in_group(&[2]));
        assert!(!perms.is_admin());
    }

    #[test]
    fn admin_has_everything() {
        let perms = Perms::admin();
        for permission in Permission::ALL {
            assert!(perms.has(permission));
        }
        assert!(perms.in_group(&[99]));
    }
}
