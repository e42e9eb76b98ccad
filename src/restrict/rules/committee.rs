//! Restriction rules of `committee`.

use super::super::context::Context;
use super::super::permission::OrganizationManagementLevel;
use super::super::RestrictError;
use crate::models::collections::{Committee, User};
use crate::models::Id;
use futures::future::BoxFuture;

/// User managers (and higher) see every committee. Other users see the committees whose
/// `user_ids` list them.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let user_id = ctx.user_id();
        if user_id == 0 {
            return Ok(Vec::new());
        }
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageUsers)
            .await?
        {
            return Ok(ids);
        }

        let members = ctx.get(Committee::USER_IDS, &ids).await?;
        Ok(ids
            .into_iter()
            .zip(members)
            .filter(|(_, members)| members.as_ref().is_some_and(|m| m.contains(&user_id)))
            .map(|(id, _)| id)
            .collect())
    })
}

/// Organization managers see the managing fields of every committee. Other users see
/// them for the committees listed in their `committee_management_ids`.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let user_id = ctx.user_id();
        if user_id == 0 {
            return Ok(Vec::new());
        }
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageOrganization)
            .await?
        {
            return Ok(ids);
        }

        let managed = ctx
            .get_one(User::COMMITTEE_MANAGEMENT_IDS, user_id)
            .await?
            .unwrap_or_default();
        Ok(ids.into_iter().filter(|id| managed.contains(id)).collect())
    })
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    /// Committee 1 has the members 2 and 6. User 4 manages committee 2, and user 6
    /// manages committee 1.
    fn data() -> Value {
        json!({
            "organization/1": {"id": 1},
            "committee/1": {"id": 1, "user_ids": [2, 6], "manager_ids": [6]},
            "committee/2": {"id": 2, "manager_ids": [4]},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4, "committee_management_ids": [2]},
            "user/5": {"id": 5, "organization_management_level": "can_manage_organization"},
            "user/6": {"id": 6, "committee_management_ids": [1]},
            "user/7": {"id": 7}
        })
    }

    async fn visible(user_id: Id, mode: &str) -> Vec<Id> {
        visible_ids(&data(), user_id, "committee", mode, &[1, 2]).await
    }

    #[tokio::test]
    async fn committee_a_for_members_and_user_managers() {
        assert_eq!(visible(0, "A").await, Vec::<Id>::new(), "public access");
        assert_eq!(visible(7, "A").await, Vec::<Id>::new(), "no committee");
        assert_eq!(visible(2, "A").await, vec![1], "member of 1");
        assert_eq!(visible(6, "A").await, vec![1], "member and manager of 1");
        assert_eq!(visible(3, "A").await, vec![1, 2], "can_manage_users");
        assert_eq!(visible(5, "A").await, vec![1, 2], "can_manage_organization");
        assert_eq!(visible(1, "A").await, vec![1, 2], "superadmin");
    }

    #[tokio::test]
    async fn committee_a_ignores_management_without_membership() {
        // Only `committee/user_ids` counts, and user 4 is not in that of committee 2.
        assert_eq!(visible(4, "A").await, Vec::<Id>::new());
    }

    #[tokio::test]
    async fn committee_b_for_managers_and_organization_managers() {
        assert_eq!(visible(0, "B").await, Vec::<Id>::new(), "public access");
        assert_eq!(visible(2, "B").await, Vec::<Id>::new(), "member of 1");
        assert_eq!(visible(3, "B").await, Vec::<Id>::new(), "can_manage_users");
        assert_eq!(visible(4, "B").await, vec![2], "manager of 2");
        assert_eq!(visible(6, "B").await, vec![1], "manager of 1");
        assert_eq!(visible(5, "B").await, vec![1, 2], "can_manage_organization");
        assert_eq!(visible(1, "B").await, vec![1, 2], "superadmin");
    }
}
