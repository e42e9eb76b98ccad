//! Rules and building blocks that many collections share.

use super::super::context::Context;
use super::super::permission::{OrganizationManagementLevel, Permission};
use super::super::RestrictError;
use crate::models::{Field, Id, Model};
use futures::future::BoxFuture;
use hashbrown::HashMap;

/// Lets everyone see these fields.
pub fn always(_ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move { Ok(ids) })
}

/// Hides these fields from everyone.
pub fn never(_ctx: &mut Context, _ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move { Ok(Vec::new()) })
}

/// Lets every logged-in user see these fields, but not public access.
pub fn logged_in(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx.user_id() == 0 {
            return Ok(Vec::new());
        }
        Ok(ids)
    })
}

/// Only superadmins may see these fields. Collections whose rules are not written yet
/// use this, so that nothing leaks before they are.
pub fn superadmin_only(
    ctx: &mut Context,
    ids: Vec<Id>,
) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx.has_oml(OrganizationManagementLevel::Superadmin).await? {
            return Ok(ids);
        }
        Ok(Vec::new())
    })
}

/// Groups ids by the meeting their object belongs to, read from `meeting_field`. Objects
/// without a meeting are left out.
pub async fn by_meeting<M: Model>(
    ctx: &mut Context,
    meeting_field: Field<M, Id>,
    ids: &[Id],
) -> Result<HashMap<Id, Vec<Id>>, RestrictError> {
    let meetings = ctx.get(meeting_field, ids).await?;
    let mut grouped: HashMap<Id, Vec<Id>> = HashMap::new();
    for (id, meeting) in ids.iter().zip(meetings) {
        if let Some(meeting) = meeting {
            grouped.entry(meeting).or_default().push(*id);
        }
    }
    Ok(grouped)
}

/// Returns the ids whose meeting grants the viewer any of `permissions`.
pub async fn meeting_permission<M: Model>(
    ctx: &mut Context,
    meeting_field: Field<M, Id>,
    ids: &[Id],
    permissions: &[Permission],
) -> Result<Vec<Id>, RestrictError> {
    let mut allowed = Vec::new();
    for (meeting, ids) in by_meeting(ctx, meeting_field, ids).await? {
        let Some(perms) = ctx.perms(meeting).await? else {
            continue;
        };
        if permissions.iter().any(|permission| perms.has(*permission)) {
            allowed.extend(ids);
        }
    }
    Ok(allowed)
}

/// Checks whether the viewer is an organization manager (or higher), or an admin of any
/// meeting: a member of a group that is some meeting's admin group.
pub async fn is_admin_in_any_meeting_or_organization_manager(
    ctx: &mut Context,
) -> Result<bool, RestrictError> {
    use crate::models::collections::{Group, MeetingUser, User};

    let user_id = ctx.user_id();
    if user_id == 0 {
        return Ok(false);
    }
    if ctx
        .has_oml(OrganizationManagementLevel::CanManageOrganization)
        .await?
    {
        return Ok(true);
    }
    let meeting_user_ids = ctx
        .get_one(User::MEETING_USER_IDS, user_id)
        .await?
        .unwrap_or_default();
    let group_lists = ctx.get(MeetingUser::GROUP_IDS, &meeting_user_ids).await?;
    let group_ids: Vec<Id> = group_lists.into_iter().flatten().flatten().collect();
    let admin_of = ctx
        .get(Group::ADMIN_GROUP_FOR_MEETING_ID, &group_ids)
        .await?;
    Ok(admin_of.iter().any(Option::is_some))
}
