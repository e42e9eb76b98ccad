//! Restriction rules of `structure_level`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::StructureLevel;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users with `list_of_speakers.can_see` in the meeting see its structure levels. Other
/// users see a structure level when they can see one of its meeting_users (mode A).
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = Vec::new();
        let mut undecided = Vec::new();
        for (meeting, ids) in by_meeting(ctx, StructureLevel::MEETING_ID, &ids).await? {
            let perms = ctx.perms(meeting).await?;
            if perms.is_some_and(|perms| perms.has(Permission::ListOfSpeakersCanSee)) {
                allowed.extend(ids);
            } else {
                undecided.extend(ids);
            }
        }
        if undecided.is_empty() {
            return Ok(allowed);
        }

        let member_lists = ctx
            .get(StructureLevel::MEETING_USER_IDS, &undecided)
            .await?;
        let all_members: Vec<Id> = member_lists.iter().flatten().flatten().copied().collect();
        let visible: HashSet<Id> = ctx
            .visible(Collection::MeetingUser, RestrictionMode::A, &all_members)
            .await?
            .into_iter()
            .collect();
        for (id, members) in undecided.into_iter().zip(member_lists) {
            if members
                .unwrap_or_default()
                .iter()
                .any(|m| visible.contains(m))
            {
                allowed.push(id);
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

    /// Meeting 30 with the admin group 31, group 32 (list_of_speakers.can_see) and group
    /// 33 (no permissions). Structure level 1 lists meeting_user 12 of user 6, 2 lists
    /// meeting_user 11 of user 5, 3 lists nobody, 4 has no meeting.
    fn data(meeting_30: Value) -> Value {
        let mut meeting = json!({
            "id": 30, "committee_id": 40, "admin_group_id": 31, "group_ids": [31, 32, 33]
        });
        for (key, value) in meeting_30.as_object().expect("object") {
            meeting[key] = value.clone();
        }
        json!({
            "organization/1": {"id": 1, "enable_anonymous": true},
            "meeting/30": meeting,
            "group/31": {"id": 31, "meeting_id": 30, "admin_group_for_meeting_id": 30,
                "meeting_user_ids": [10]},
            "group/32": {"id": 32, "meeting_id": 30, "meeting_user_ids": [11],
                "permissions": ["list_of_speakers.can_see"]},
            "group/33": {"id": 33, "meeting_id": 30, "meeting_user_ids": [12],
                "permissions": []},
            "group/34": {"id": 34, "meeting_id": 30,
                "permissions": ["list_of_speakers.can_see"]},
            "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 30, "group_ids": [31]},
            "meeting_user/11": {"id": 11, "user_id": 5, "meeting_id": 30, "group_ids": [32],
                "structure_level_ids": [2]},
            "meeting_user/12": {"id": 12, "user_id": 6, "meeting_id": 30, "group_ids": [33],
                "structure_level_ids": [1]},
            "structure_level/1": {"id": 1, "meeting_id": 30, "meeting_user_ids": [12]},
            "structure_level/2": {"id": 2, "meeting_id": 30, "meeting_user_ids": [11]},
            "structure_level/3": {"id": 3, "meeting_id": 30},
            "structure_level/4": {"id": 4},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2, "organization_management_level": "can_manage_organization"},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4, "meeting_user_ids": [10]},
            "user/5": {"id": 5, "meeting_user_ids": [11]},
            "user/6": {"id": 6, "meeting_user_ids": [12]},
            "user/7": {"id": 7}
        })
    }

    async fn visible(data: &Value, user_id: Id) -> Vec<Id> {
        visible_ids(data, user_id, "structure_level", "A", &[1, 2, 3, 4]).await
    }

    #[tokio::test]
    async fn structure_level_a_with_list_of_speakers_permission() {
        let data = data(json!({}));
        assert_eq!(
            visible(&data, 5).await,
            vec![1, 2, 3],
            "list_of_speakers.can_see"
        );
        assert_eq!(visible(&data, 4).await, vec![1, 2, 3], "meeting admin");
        assert_eq!(
            visible(&data, 2).await,
            vec![1, 2, 3],
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 7).await, NONE, "no meeting_user");
        assert_eq!(visible(&data, 3).await, NONE, "can_manage_users");
        assert_eq!(visible(&data, 0).await, NONE, "public access disabled");
    }

    #[tokio::test]
    async fn structure_level_a_for_public_access_group() {
        let data = data(json!({"enable_anonymous": true, "anonymous_group_id": 34}));
        assert_eq!(visible(&data, 0).await, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn structure_level_a_through_visible_meeting_user() {
        // User 6 has no permission in the meeting but may see its own meeting_user 12.
        // As a superadmin it may also see every meeting_user while meeting_user has no
        // rules yet, so only levels 1 (lists 12) and 3 (lists nobody) are asked.
        let mut data = data(json!({"locked_from_inside": true}));
        data["user/6"]["organization_management_level"] = json!("superadmin");
        assert_eq!(
            visible_ids(&data, 6, "structure_level", "A", &[1, 3]).await,
            vec![1]
        );
    }

    #[tokio::test]
    async fn structure_level_a_hidden_without_visible_meeting_user() {
        // User 8 is a member without permissions whose meeting_user 13 no level lists.
        let mut data = data(json!({}));
        data["meeting_user/13"] =
            json!({"id": 13, "user_id": 8, "meeting_id": 30, "group_ids": [33]});
        data["group/33"]["meeting_user_ids"] = json!([12, 13]);
        data["user/8"] = json!({"id": 8, "meeting_user_ids": [13]});
        assert_eq!(visible(&data, 8).await, NONE);
    }
}
