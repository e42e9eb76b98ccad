//! Restriction rules of `tag`.

use super::super::context::Context;
use super::super::permission::OrganizationManagementLevel;
use super::super::RestrictError;
use super::meeting::in_visible_meetings;
use crate::models::collections::Tag;
use crate::models::Id;
use futures::future::BoxFuture;

/// Organization managers see every tag, even of meetings locked from inside. Other
/// users see the tags of the meetings they can see (meeting mode B).
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        if ctx
            .has_oml(OrganizationManagementLevel::CanManageOrganization)
            .await?
        {
            return Ok(ids);
        }
        in_visible_meetings(ctx, Tag::MEETING_ID, &ids).await
    })
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    const NONE: Vec<Id> = Vec::new();

    /// Tag 1 of meeting 5, tag 2 of meeting 6 and tag 3 without a meeting. User 4 is a
    /// member of meeting 5, user 5 manages the committee of meeting 6.
    fn data(meeting_5: Value) -> Value {
        let mut meeting = json!({"id": 5, "committee_id": 300, "group_ids": [51]});
        for (key, value) in meeting_5.as_object().expect("object") {
            meeting[key] = value.clone();
        }
        json!({
            "organization/1": {"id": 1, "enable_anonymous": true},
            "meeting/5": meeting,
            "meeting/6": {"id": 6, "committee_id": 301},
            "group/51": {"id": 51, "meeting_id": 5, "meeting_user_ids": [10]},
            "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 5, "group_ids": [51]},
            "tag/1": {"id": 1, "meeting_id": 5},
            "tag/2": {"id": 2, "meeting_id": 6},
            "tag/3": {"id": 3},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2, "organization_management_level": "can_manage_organization"},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4, "meeting_user_ids": [10]},
            "user/5": {"id": 5, "committee_management_ids": [301]},
            "user/6": {"id": 6}
        })
    }

    async fn visible(data: &Value, user_id: Id) -> Vec<Id> {
        visible_ids(data, user_id, "tag", "A", &[1, 2, 3]).await
    }

    #[tokio::test]
    async fn tag_a_follows_meeting_visibility() {
        let data = data(json!({}));
        assert_eq!(visible(&data, 4).await, vec![1], "member of 5");
        assert_eq!(visible(&data, 5).await, vec![2], "committee manager of 6");
        assert_eq!(visible(&data, 6).await, NONE, "no meeting");
        assert_eq!(visible(&data, 3).await, NONE, "can_manage_users");
        assert_eq!(visible(&data, 0).await, NONE, "public access disabled");
    }

    #[tokio::test]
    async fn tag_a_with_public_access() {
        let data = data(json!({"enable_anonymous": true}));
        assert_eq!(visible(&data, 0).await, vec![1], "public access");
        assert_eq!(visible(&data, 6).await, vec![1], "logged-in non-member");
    }

    #[tokio::test]
    async fn tag_a_for_organization_managers_even_when_locked() {
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
