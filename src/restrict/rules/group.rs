//! Restriction rules of `group`.

use super::super::context::Context;
use super::super::permission::OrganizationManagementLevel;
use super::super::RestrictError;
use super::meeting::in_visible_meetings;
use crate::models::collections::Group;
use crate::models::Id;
use futures::future::BoxFuture;

/// Organization managers see every group, even of meetings locked from inside. Other
/// users see the groups of the meetings they can see (meeting mode B).
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageOrganization)
            .await?
        {
            return Ok(ids);
        }
        in_visible_meetings(ctx, Group::MEETING_ID, &ids).await
    })
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    const NONE: Vec<Id> = Vec::new();

    /// Group 1 of meeting 30, group 2 of meeting 50 and group 3 without a meeting. User 4
    /// is in group 1, user 7 is a locked-out member of meeting 50, user 5 manages the
    /// committee of meeting 50.
    fn data(meeting_30: Value) -> Value {
        let mut meeting = json!({"id": 30, "committee_id": 40, "group_ids": [1]});
        for (key, value) in meeting_30.as_object().expect("object") {
            meeting[key] = value.clone();
        }
        json!({
            "organization/1": {"id": 1, "enable_anonymous": true},
            "meeting/30": meeting,
            "meeting/50": {"id": 50, "committee_id": 41, "group_ids": [2]},
            "group/1": {"id": 1, "meeting_id": 30, "meeting_user_ids": [10]},
            "group/2": {"id": 2, "meeting_id": 50, "meeting_user_ids": [11]},
            "group/3": {"id": 3},
            "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 30, "group_ids": [1]},
            "meeting_user/11": {"id": 11, "user_id": 7, "meeting_id": 50, "group_ids": [2],
                "locked_out": true},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2, "organization_management_level": "can_manage_organization"},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4, "meeting_user_ids": [10]},
            "user/5": {"id": 5, "committee_management_ids": [41]},
            "user/6": {"id": 6},
            "user/7": {"id": 7, "meeting_user_ids": [11]}
        })
    }

    async fn visible(data: &Value, user_id: Id) -> Vec<Id> {
        visible_ids(data, user_id, "group", "A", &[1, 2, 3]).await
    }

    #[tokio::test]
    async fn group_a_follows_meeting_visibility() {
        let data = data(json!({}));
        assert_eq!(visible(&data, 4).await, vec![1], "member of 30");
        assert_eq!(visible(&data, 5).await, vec![2], "committee manager of 50");
        assert_eq!(visible(&data, 6).await, NONE, "no meeting");
        assert_eq!(visible(&data, 7).await, NONE, "locked out of 50");
        assert_eq!(visible(&data, 3).await, NONE, "can_manage_users");
        assert_eq!(visible(&data, 0).await, NONE, "public access disabled");
    }

    #[tokio::test]
    async fn group_a_with_public_access() {
        let data = data(json!({"enable_anonymous": true}));
        assert_eq!(visible(&data, 0).await, vec![1], "public access");
        assert_eq!(visible(&data, 6).await, vec![1], "logged-in non-member");
    }

    #[tokio::test]
    async fn group_a_for_organization_managers_even_when_locked() {
        let data = data(json!({"locked_from_inside": true}));
        assert_eq!(
            visible(&data, 2).await,
            vec![1, 2, 3],
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 1).await, vec![1, 2, 3], "superadmin");
        assert_eq!(
            visible(&data, 4).await,
            vec![1],
            "member of the locked meeting"
        );
    }
}
