//! Restriction rules of `chat_group`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::ChatGroup;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `chat.can_manage` in the meeting see its chat groups. Other users see the
/// chat groups that list one of their groups as read or write group.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = Vec::new();
        for (meeting, ids) in by_meeting(ctx, ChatGroup::MEETING_ID, &ids).await? {
            let Some(perms) = ctx.perms(meeting).await? else {
                continue;
            };
            if perms.has(Permission::ChatCanManage) {
                allowed.extend(ids);
                continue;
            }

            let read = ctx.get(ChatGroup::READ_GROUP_IDS, &ids).await?;
            let write = ctx.get(ChatGroup::WRITE_GROUP_IDS, &ids).await?;
            for ((id, read), write) in ids.into_iter().zip(read).zip(write) {
                let in_read = perms.in_group(&read.unwrap_or_default());
                if in_read || perms.in_group(&write.unwrap_or_default()) {
                    allowed.push(id);
                }
            }
        }
        Ok(allowed)
    })
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    const NONE: Vec<Id> = Vec::new();

    /// Meeting 30 with the admin group 31, group 32 (chat.can_manage), groups 33 and 34
    /// (no permissions) and the public access group 35. Chat group 1 is read by 33,
    /// chat group 2 written by 34, chat group 3 read by 35, chat group 4 has no meeting.
    fn data() -> Value {
        json!({
            "organization/1": {"id": 1, "enable_anonymous": true},
            "meeting/30": {"id": 30, "committee_id": 40, "admin_group_id": 31,
                "group_ids": [31, 32, 33, 34, 35], "anonymous_group_id": 35},
            "group/31": {"id": 31, "meeting_id": 30, "admin_group_for_meeting_id": 30},
            "group/32": {"id": 32, "meeting_id": 30, "permissions": ["chat.can_manage"]},
            "group/33": {"id": 33, "meeting_id": 30, "permissions": []},
            "group/34": {"id": 34, "meeting_id": 30, "permissions": []},
            "group/35": {"id": 35, "meeting_id": 30, "permissions": []},
            "chat_group/1": {"id": 1, "meeting_id": 30, "read_group_ids": [33]},
            "chat_group/2": {"id": 2, "meeting_id": 30, "write_group_ids": [34]},
            "chat_group/3": {"id": 3, "meeting_id": 30, "read_group_ids": [35]},
            "chat_group/4": {"id": 4, "read_group_ids": [33]},
            "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 30, "group_ids": [31]},
            "meeting_user/11": {"id": 11, "user_id": 5, "meeting_id": 30, "group_ids": [32]},
            "meeting_user/12": {"id": 12, "user_id": 6, "meeting_id": 30, "group_ids": [33]},
            "meeting_user/13": {"id": 13, "user_id": 7, "meeting_id": 30, "group_ids": [34]},
            "meeting_user/14": {"id": 14, "user_id": 8, "meeting_id": 30, "group_ids": [33],
                "locked_out": true},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2, "organization_management_level": "can_manage_organization"},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4, "meeting_user_ids": [10]},
            "user/5": {"id": 5, "meeting_user_ids": [11]},
            "user/6": {"id": 6, "meeting_user_ids": [12]},
            "user/7": {"id": 7, "meeting_user_ids": [13]},
            "user/8": {"id": 8, "meeting_user_ids": [14]},
            "user/9": {"id": 9}
        })
    }

    async fn visible(data: &Value, user_id: Id) -> Vec<Id> {
        visible_ids(data, user_id, "chat_group", "A", &[1, 2, 3, 4]).await
    }

    #[tokio::test]
    async fn chat_group_a_for_chat_managers() {
        let data = data();
        assert_eq!(visible(&data, 5).await, vec![1, 2, 3], "chat.can_manage");
        assert_eq!(visible(&data, 4).await, vec![1, 2, 3], "meeting admin");
        assert_eq!(
            visible(&data, 2).await,
            vec![1, 2, 3],
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 1).await, vec![1, 2, 3], "superadmin");
    }

    #[tokio::test]
    async fn chat_group_a_for_read_and_write_groups() {
        let data = data();
        assert_eq!(visible(&data, 6).await, vec![1], "in read group 33");
        assert_eq!(visible(&data, 7).await, vec![2], "in write group 34");
        assert_eq!(visible(&data, 8).await, NONE, "locked out of read group 33");
        assert_eq!(visible(&data, 9).await, NONE, "no meeting_user");
        assert_eq!(visible(&data, 3).await, NONE, "can_manage_users");
    }

    #[tokio::test]
    async fn chat_group_a_for_public_access_group() {
        let mut data = data();
        assert_eq!(visible(&data, 0).await, NONE, "public access disabled");
        data["meeting/30"]["enable_anonymous"] = json!(true);
        assert_eq!(
            visible(&data, 0).await,
            vec![3],
            "public access group 35 reads 3"
        );
    }

    #[tokio::test]
    async fn chat_group_a_locked_meeting_hides_from_superadmin() {
        let mut data = data();
        data["meeting/30"]["locked_from_inside"] = json!(true);
        assert_eq!(visible(&data, 1).await, NONE, "superadmin");
        assert_eq!(visible(&data, 6).await, vec![1], "member in read group 33");
    }
}
