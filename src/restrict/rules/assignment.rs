//! Restriction rules of `assignment`: elections, visible with `assignment.can_see`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::meeting_permission;
use crate::models::collections::Assignment;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `assignment.can_see` in the assignment's meeting see all its fields.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            Assignment::MEETING_ID,
            &ids,
            &[Permission::AssignmentCanSee],
        )
        .await
    })
}

/// A meeting with one user of each kind that the rules of assignments, polls and their
/// children tell apart, shared by the tests of these collections.
#[cfg(test)]
pub(super) mod test_meeting {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    /// Public access.
    pub const PUBLIC: Id = 0;
    /// A superadmin who is not a member of any meeting.
    pub const SUPERADMIN: Id = 1;
    /// A member of meeting 1 whose group has no permissions.
    pub const MEMBER: Id = 2;
    /// A member of meeting 1 whose group has the permissions the test passes.
    pub const PERMITTED: Id = 3;
    /// A member of meeting 1's admin group.
    pub const ADMIN: Id = 4;
    /// A manager of meeting 1's committee who is not a member of the meeting.
    pub const COMMITTEE_MANAGER: Id = 5;
    /// A user with `can_manage_users` who is not a member of any meeting.
    pub const USER_MANAGER: Id = 6;
    /// A user without any meeting.
    pub const OUTSIDER: Id = 7;

    /// Builds meeting 1 (committee 60) with the users above, and meeting 2 (committee
    /// 61) without members. The permitted member's group 12 and the anonymous group 13
    /// of meeting 1 have `permissions`. Public access is enabled in the organization but
    /// not in meeting 1.
    pub fn meeting(permissions: &[&str]) -> Value {
        json!({
            "organization/1": {"enable_anonymous": true},
            "committee/60": {"meeting_ids": [1], "manager_ids": [COMMITTEE_MANAGER]},
            "committee/61": {"meeting_ids": [2]},
            "meeting/1": {
                "committee_id": 60,
                "admin_group_id": 10,
                "anonymous_group_id": 13,
                "enable_anonymous": false,
                "group_ids": [10, 11, 12, 13],
            },
            "meeting/2": {"committee_id": 61, "admin_group_id": 20, "group_ids": [20]},
            "group/10": {"meeting_id": 1, "admin_group_for_meeting_id": 1, "permissions": []},
            "group/11": {"meeting_id": 1, "permissions": []},
            "group/12": {"meeting_id": 1, "permissions": permissions},
            "group/13": {"meeting_id": 1, "anonymous_group_for_meeting_id": 1, "permissions": permissions},
            "group/20": {"meeting_id": 2, "admin_group_for_meeting_id": 2, "permissions": []},
            "user/1": {"organization_management_level": "superadmin"},
            "user/2": {"meeting_user_ids": [21]},
            "user/3": {"meeting_user_ids": [31]},
            "user/4": {"meeting_user_ids": [41]},
            "user/5": {"committee_management_ids": [60]},
            "user/6": {"organization_management_level": "can_manage_users"},
            "user/7": {},
            "meeting_user/21": {"user_id": 2, "meeting_id": 1, "group_ids": [11]},
            "meeting_user/31": {"user_id": 3, "meeting_id": 1, "group_ids": [12]},
            "meeting_user/41": {"user_id": 4, "meeting_id": 1, "group_ids": [10]},
        })
    }

    /// Builds `meeting(permissions)` and adds `objects` to it with `insert`.
    pub fn meeting_with(permissions: &[&str], objects: Value) -> Value {
        let mut data = meeting(permissions);
        insert(&mut data, objects);
        data
    }

    /// Adds objects to `data`, merging the fields of objects that already exist.
    pub fn insert(data: &mut Value, objects: Value) {
        let Value::Object(objects) = objects else {
            panic!("objects must be a JSON object of fqids");
        };
        let data = data.as_object_mut().expect("data is a JSON object");
        for (fqid, fields) in objects {
            let Value::Object(fields) = fields else {
                panic!("the fields of {fqid} must be a JSON object");
            };
            let object = data
                .entry(fqid)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("objects are JSON objects");
            object.extend(fields);
        }
    }

    /// Enables public access in meeting 1, whose anonymous group then grants the
    /// permissions of the test.
    pub fn enable_public_access(data: &mut Value) {
        insert(data, json!({"meeting/1": {"enable_anonymous": true}}));
    }

    /// Checks, for each user in `expected`, which of `ids` the user sees in
    /// `collection` and `mode`.
    pub async fn assert_visible(
        data: &Value,
        collection: &str,
        mode: &str,
        ids: &[Id],
        expected: &[(Id, &[Id])],
    ) {
        for (user_id, visible) in expected {
            assert_eq!(
                visible_ids(data, *user_id, collection, mode, ids).await,
                visible.to_vec(),
                "{collection} mode {mode} for user {user_id}",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_meeting::*;
    use serde_json::json;

    fn assignments(permissions: &[&str]) -> serde_json::Value {
        meeting_with(
            permissions,
            json!({
                "assignment/1": {"meeting_id": 1, "title": "Board"},
                "assignment/2": {"meeting_id": 1, "title": "Treasurer"},
                "assignment/3": {"meeting_id": 2, "title": "Other meeting"},
                "assignment/4": {"title": "Without meeting"},
            }),
        )
    }

    #[tokio::test]
    async fn assignment_a_needs_assignment_can_see() {
        let data = assignments(&["assignment.can_see"]);
        assert_visible(
            &data,
            "assignment",
            "A",
            &[1, 2, 3, 4],
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[1, 2, 3]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2]),
                (ADMIN, &[1, 2]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn assignment_a_granted_by_higher_permission() {
        for permission in ["assignment.can_manage", "assignment.can_nominate_self"] {
            let data = assignments(&[permission]);
            assert_visible(&data, "assignment", "A", &[1, 3], &[(PERMITTED, &[1])]).await;
        }
    }

    #[tokio::test]
    async fn assignment_a_hidden_with_unrelated_permission() {
        let data = assignments(&["motion.can_see", "agenda_item.can_see"]);
        assert_visible(&data, "assignment", "A", &[1, 2], &[(PERMITTED, &[])]).await;
    }

    #[tokio::test]
    async fn assignment_a_public_access_needs_anonymous_enabled() {
        let mut data = assignments(&["assignment.can_see"]);
        assert_visible(&data, "assignment", "A", &[1, 3], &[(PUBLIC, &[])]).await;

        enable_public_access(&mut data);
        assert_visible(&data, "assignment", "A", &[1, 3], &[(PUBLIC, &[1])]).await;

        insert(
            &mut data,
            json!({"organization/1": {"enable_anonymous": false}}),
        );
        assert_visible(&data, "assignment", "A", &[1, 3], &[(PUBLIC, &[])]).await;
    }

    #[tokio::test]
    async fn assignment_a_public_access_needs_anonymous_permission() {
        let mut data = assignments(&[]);
        enable_public_access(&mut data);
        assert_visible(&data, "assignment", "A", &[1, 3], &[(PUBLIC, &[])]).await;
    }

    #[tokio::test]
    async fn assignment_a_locked_meeting_hides_from_outside() {
        let mut data = assignments(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "assignment",
            "A",
            &[1, 3],
            &[(SUPERADMIN, &[3]), (PERMITTED, &[1]), (ADMIN, &[1])],
        )
        .await;
    }

    #[tokio::test]
    async fn assignment_a_hidden_from_locked_out_member() {
        let mut data = assignments(&["assignment.can_see"]);
        insert(&mut data, json!({"meeting_user/31": {"locked_out": true}}));
        assert_visible(&data, "assignment", "A", &[1], &[(PERMITTED, &[])]).await;
    }
}
