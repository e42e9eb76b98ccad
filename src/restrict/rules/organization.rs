//! Restriction rules of `organization`.

use super::super::context::Context;
use super::super::permission::OrganizationManagementLevel;
use super::super::RestrictError;
use super::helpers::is_admin_in_any_meeting_or_organization_manager;
use crate::models::Id;
use futures::future::BoxFuture;

pub use super::always as mode_a;
pub use super::logged_in as mode_b;

/// User managers (and higher) see the organization's user limits.
pub fn mode_c(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
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

/// Only superadmins see these fields.
pub use super::superadmin_only as mode_d;

/// Organization managers and meeting admins see these fields.
pub fn mode_e(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if is_admin_in_any_meeting_or_organization_manager(ctx).await? {
            return Ok(ids);
        }
        Ok(Vec::new())
    })
}
