//! Meeting administration outside the restriction rules: which meetings a user
//! administers, and which users belong to a set of meetings. The connection count and
//! the bound on concurrent first messages use them.

use super::context::Context;
use super::permission::OrganizationManagementLevel;
use super::{RestrictError, Viewer};
use crate::datastore::Datastore;
use crate::models::collections::{Group, Meeting, MeetingUser, User};
use crate::models::Id;
use hashbrown::HashSet;
use std::sync::Arc;

/// Returns the meetings in which the user is in the admin group, sorted. Public access (user 0) administers none. Like the Go
/// service, this ignores `locked_out` and `locked_from_inside`.
pub async fn admin_meetings(
    datastore: Arc<Datastore>,
    user_id: Id,
) -> Result<Vec<Id>, RestrictError> {
    if user_id == 0 {
        return Ok(Vec::new());
    }
    let mut ctx = Context::new(datastore, Viewer { user_id });
    let meeting_user_ids = ctx
        .get_one(User::MEETING_USER_IDS, user_id)
        .await?
        .unwrap_or_default();
    let group_ids: Vec<Id> = ctx
        .get(MeetingUser::GROUP_IDS, &meeting_user_ids)
        .await?
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    let mut meetings: Vec<Id> = ctx
        .get(Group::ADMIN_GROUP_FOR_MEETING_ID, &group_ids)
        .await?
        .into_iter()
        .flatten()
        .collect();
    meetings.sort_unstable();
    meetings.dedup();
    Ok(meetings)
}

/// Checks whether the user has the organization management level
/// `can_manage_organization` or higher.
pub async fn manages_organization(
    datastore: Arc<Datastore>,
    user_id: Id,
) -> Result<bool, RestrictError> {
    let mut ctx = Context::new(datastore, Viewer { user_id });
    ctx.has_oml(OrganizationManagementLevel::CanManageOrganization)
        .await
}

/// Returns the ids of the users that are members (have a `meeting_user`) of any of the
/// meetings.
pub async fn meeting_members(
    datastore: Arc<Datastore>,
    meeting_ids: &[Id],
) -> Result<HashSet<Id>, RestrictError> {
    let mut ctx = Context::new(datastore, Viewer { user_id: 0 });
    let meeting_user_ids: Vec<Id> = ctx
        .get(Meeting::MEETING_USER_IDS, meeting_ids)
        .await?
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    Ok(ctx
        .get(MeetingUser::USER_ID, &meeting_user_ids)
        .await?
        .into_iter()
        .flatten()
        .collect())
}
