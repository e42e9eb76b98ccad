//! Restriction rules of `chat_message`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use crate::models::collections::{ChatGroup, ChatMessage, MeetingUser};
use crate::models::Id;
use futures::future::BoxFuture;
use hashbrown::HashMap;

/// Users with `chat.can_manage` in the meeting see its chat messages. Other users see
/// the messages they wrote and those of chat groups that list one of their groups as
/// read group.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let chat_groups = ctx.get(ChatMessage::CHAT_GROUP_ID, &ids).await?;
        let mut by_chat_group: HashMap<Id, Vec<Id>> = HashMap::new();
        for (id, chat_group) in ids.into_iter().zip(chat_groups) {
            if let Some(chat_group) = chat_group {
                by_chat_group.entry(chat_group).or_default().push(id);
            }
        }

        let chat_group_ids: Vec<Id> = by_chat_group.keys().copied().collect();
        let meetings = ctx.get(ChatGroup::MEETING_ID, &chat_group_ids).await?;
        let read_groups = ctx.get(ChatGroup::READ_GROUP_IDS, &chat_group_ids).await?;

        let mut allowed = Vec::new();
        let mut by_others = Vec::new();
        for ((chat_group, meeting), read_groups) in
            chat_group_ids.iter().zip(meetings).zip(read_groups)
        {
            let Some(ids) = by_chat_group.remove(chat_group) else {
                continue;
            };
            let perms = match meeting {
                Some(meeting) => ctx.perms(meeting).await?,
                None => None,
            };
            let reads = perms.is_some_and(|perms| {
                perms.has(Permission::ChatCanManage)
                    || perms.in_group(&read_groups.unwrap_or_default())
            });
            if reads {
                allowed.extend(ids);
            } else {
                by_others.extend(ids);
            }
        }

        allowed.extend(written_by_viewer(ctx, by_others).await?);
        Ok(allowed)
    })
}

/// Selects the messages among `ids` whose author (`meeting_user_id`) belongs to the
/// viewer.
async fn written_by_viewer(ctx: &mut Context, ids: Vec<Id>) -> Result<Vec<Id>, RestrictError> {
    let user_id = ctx.user_id();
    if user_id == 0 || ids.is_empty() {
        return Ok(Vec::new());
    }
    let authors = ctx.get(ChatMessage::MEETING_USER_ID, &ids).await?;
    let (ids, authors): (Vec<Id>, Vec<Id>) = ids
        .into_iter()
        .zip(authors)
        .filter_map(|(id, author)| Some((id, author?)))
        .unzip();
    let author_users = ctx.get(MeetingUser::USER_ID, &authors).await?;
    Ok(ids
        .into_iter()
        .zip(author_users)
        .filter(|(_, author)| *author == Some(user_id))
        .map(|(id, _)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    const NONE: Vec<Id> = Vec::new();

    /// Meeting 30 with the admin group 31, group 32 (chat.can_manage), groups 33 and 34
    /// (no permissions) and the public access group 35. Chat group 5 is read by 33 and
    /// written by 34, chat group 6 is read by 35, chat group 7 has no meeting. Messages:
    /// 1 in 5 by meeting_user 13 (user 7), 2 in 5 without author, 3 in 6 by
    /// meeting_user 13, 4 in 7 by meeting_user 13, 8 without chat group.
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
            "chat_group/5": {"id": 5, "meeting_id": 30, "read_group_ids": [33],
                "write_group_ids": [34]},
            "chat_group/6": {"id": 6, "meeting_id": 30, "read_group_ids": [35]},
            "chat_group/7": {"id": 7},
            "chat_message/1": {"id": 1, "chat_group_id": 5, "meeting_user_id": 13},
            "chat_message/2": {"id": 2, "chat_group_id": 5},
            "chat_message/3": {"id": 3, "chat_group_id": 6, "meeting_user_id": 13},
            "chat_message/4": {"id": 4, "chat_group_id": 7, "meeting_user_id": 13},
            "chat_message/8": {"id": 8, "meeting_user_id": 13},
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
        visible_ids(data, user_id, "chat_message", "A", &[1, 2, 3, 4, 8]).await
    }

    #[tokio::test]
    async fn chat_message_a_for_chat_managers() {
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
    async fn chat_message_a_for_read_groups() {
        let data = data();
        assert_eq!(visible(&data, 6).await, vec![1, 2], "in read group 33");
        assert_eq!(visible(&data, 8).await, NONE, "locked out of read group 33");
        assert_eq!(visible(&data, 9).await, NONE, "no meeting_user");
        assert_eq!(visible(&data, 3).await, NONE, "can_manage_users");
    }

    #[tokio::test]
    async fn chat_message_a_for_author() {
        // User 7 is only in the write group 34 and sees just its own messages, even in
        // a chat group without meeting, but not one without chat group.
        let data = data();
        assert_eq!(visible(&data, 7).await, vec![1, 3, 4]);
    }

    #[tokio::test]
    async fn chat_message_a_for_locked_out_author() {
        let mut data = data();
        data["meeting_user/13"]["locked_out"] = json!(true);
        assert_eq!(visible(&data, 7).await, vec![1, 3, 4]);
    }

    #[tokio::test]
    async fn chat_message_a_for_public_access_group() {
        let mut data = data();
        assert_eq!(visible(&data, 0).await, NONE, "public access disabled");
        data["meeting/30"]["enable_anonymous"] = json!(true);
        assert_eq!(
            visible(&data, 0).await,
            vec![3],
            "public access group 35 reads 6"
        );
    }

    #[tokio::test]
    async fn chat_message_a_locked_meeting_hides_from_superadmin() {
        let mut data = data();
        data["meeting/30"]["locked_from_inside"] = json!(true);
        assert_eq!(visible(&data, 1).await, NONE, "superadmin");
        assert_eq!(
            visible(&data, 6).await,
            vec![1, 2],
            "member in read group 33"
        );
    }
}
