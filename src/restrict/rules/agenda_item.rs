//! Restriction rules of `agenda_item`: hidden and internal items need more permissions.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::{by_meeting, meeting_permission};
use crate::models::collections::AgendaItem;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `agenda_item.can_manage` see every item, `agenda_item.can_see_internal`
/// adds internal items that are not hidden, and `agenda_item.can_see` shows only items
/// that are neither hidden nor internal.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut visible = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, AgendaItem::MEETING_ID, &ids).await? {
            let Some(perms) = ctx.perms(meeting_id).await? else {
                continue;
            };
            if perms.has(Permission::AgendaItemCanManage) {
                visible.extend(ids);
                continue;
            }
            let can_see_internal = perms.has(Permission::AgendaItemCanSeeInternal);
            if !can_see_internal && !perms.has(Permission::AgendaItemCanSee) {
                continue;
            }

            let hidden = ctx.get(AgendaItem::IS_HIDDEN, &ids).await?;
            let internal = ctx.get(AgendaItem::IS_INTERNAL, &ids).await?;
            for ((id, hidden), internal) in ids.into_iter().zip(hidden).zip(internal) {
                if hidden.unwrap_or(false) {
                    continue;
                }
                if can_see_internal || !internal.unwrap_or(false) {
                    visible.push(id);
                }
            }
        }
        Ok(visible)
    })
}

/// Users with `agenda_item.can_see_internal` see the item's duration.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            AgendaItem::MEETING_ID,
            &ids,
            &[Permission::AgendaItemCanSeeInternal],
        )
        .await
    })
}

/// Users with `agenda_item.can_manage` see the item's comment.
pub fn mode_c(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            AgendaItem::MEETING_ID,
            &ids,
            &[Permission::AgendaItemCanManage],
        )
        .await
    })
}

/// Test data shared by the rule tests of agenda items, speakers, topics and projectors:
/// meetings with one group per kind of member and the same users in each.
#[cfg(test)]
pub(super) mod test_meetings {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Map, Value};

    /// A user without membership in any meeting.
    pub(in crate::restrict::rules) const NON_MEMBER: Id = 2;
    /// A member of each meeting's group without permissions.
    pub(in crate::restrict::rules) const MEMBER: Id = 3;
    /// A member of each meeting's group with the permissions under test.
    pub(in crate::restrict::rules) const PERMITTED: Id = 4;
    /// A member of each meeting's admin group.
    pub(in crate::restrict::rules) const ADMIN: Id = 5;
    /// The manager of every meeting's committee, without membership.
    pub(in crate::restrict::rules) const COMMITTEE_MANAGER: Id = 6;
    /// A user with the organization management level `can_manage_users`.
    pub(in crate::restrict::rules) const USER_MANAGER: Id = 7;
    /// A superadmin without membership.
    pub(in crate::restrict::rules) const SUPERADMIN: Id = 8;
    /// A member of the group with the permissions under test, locked out of each meeting.
    pub(in crate::restrict::rules) const LOCKED_OUT: Id = 9;
    /// Public access.
    pub(in crate::restrict::rules) const PUBLIC: Id = 0;

    /// No ids, for comparing with an empty result.
    pub(in crate::restrict::rules) const NOTHING: &[Id] = &[];

    const MEETING_USERS: [Id; 4] = [MEMBER, PERMITTED, ADMIN, LOCKED_OUT];

    /// One meeting of the test data.
    pub(in crate::restrict::rules) struct TestMeeting {
        pub id: Id,
        /// The permissions of the group of `PERMITTED` and `LOCKED_OUT`.
        pub permissions: &'static [&'static str],
        /// The permissions of the anonymous group, or `None` to disable public access.
        pub anonymous: Option<&'static [&'static str]>,
        pub locked_from_inside: bool,
    }

    impl TestMeeting {
        /// An unlocked meeting without public access.
        pub(in crate::restrict::rules) fn new(
            id: Id,
            permissions: &'static [&'static str],
        ) -> Self {
            TestMeeting {
                id,
                permissions,
                anonymous: None,
                locked_from_inside: false,
            }
        }

        /// The id of the meeting user of `user_id` in this meeting.
        pub(in crate::restrict::rules) fn meeting_user(&self, user_id: Id) -> Id {
            self.id * 100 + user_id
        }

        fn admin_group(&self) -> Id {
            self.id * 10 + 1
        }

        fn permitted_group(&self) -> Id {
            self.id * 10 + 2
        }

        fn member_group(&self) -> Id {
            self.id * 10 + 3
        }

        fn anonymous_group(&self) -> Id {
            self.id * 10 + 4
        }

        fn group_of(&self, user_id: Id) -> Id {
            match user_id {
                ADMIN => self.admin_group(),
                MEMBER => self.member_group(),
                _ => self.permitted_group(),
            }
        }
    }

    /// The users, groups and meeting users of `meetings`, in both directions of each
    /// relation. The committee of meeting N has id N.
    pub(in crate::restrict::rules) fn meetings(meetings: &[TestMeeting]) -> Value {
        let mut data = json!({
            "organization/1": {
                "enable_anonymous": meetings.iter().any(|m| m.anonymous.is_some()),
            },
            format!("user/{NON_MEMBER}"): {},
            format!("user/{COMMITTEE_MANAGER}"): {
                "committee_management_ids": meetings.iter().map(|m| m.id).collect::<Vec<_>>(),
            },
            format!("user/{USER_MANAGER}"): {"organization_management_level": "can_manage_users"},
            format!("user/{SUPERADMIN}"): {"organization_management_level": "superadmin"},
        });
        for user_id in MEETING_USERS {
            let meeting_user_ids: Vec<Id> =
                meetings.iter().map(|m| m.meeting_user(user_id)).collect();
            insert(
                &mut data,
                &format!("user/{user_id}"),
                json!({"meeting_user_ids": meeting_user_ids}),
            );
        }

        for meeting in meetings {
            let id = meeting.id;
            let mut group_ids = vec![
                meeting.admin_group(),
                meeting.permitted_group(),
                meeting.member_group(),
            ];
            if meeting.anonymous.is_some() {
                group_ids.push(meeting.anonymous_group());
            }
            let meeting_user_ids: Vec<Id> = MEETING_USERS
                .iter()
                .map(|user_id| meeting.meeting_user(*user_id))
                .collect();
            insert(
                &mut data,
                &format!("meeting/{id}"),
                json!({
                    "committee_id": id,
                    "admin_group_id": meeting.admin_group(),
                    "group_ids": group_ids,
                    "meeting_user_ids": meeting_user_ids,
                    "locked_from_inside": meeting.locked_from_inside,
                    "enable_anonymous": meeting.anonymous.is_some(),
                }),
            );
            insert(
                &mut data,
                &format!("committee/{id}"),
                json!({"meeting_ids": [id], "manager_ids": [COMMITTEE_MANAGER]}),
            );

            insert(
                &mut data,
                &format!("group/{}", meeting.admin_group()),
                json!({
                    "meeting_id": id,
                    "admin_group_for_meeting_id": id,
                    "meeting_user_ids": [meeting.meeting_user(ADMIN)],
                }),
            );
            insert(
                &mut data,
                &format!("group/{}", meeting.permitted_group()),
                json!({
                    "meeting_id": id,
                    "permissions": meeting.permissions,
                    "meeting_user_ids": [meeting.meeting_user(PERMITTED), meeting.meeting_user(LOCKED_OUT)],
                }),
            );
            insert(
                &mut data,
                &format!("group/{}", meeting.member_group()),
                json!({
                    "meeting_id": id,
                    "permissions": [],
                    "meeting_user_ids": [meeting.meeting_user(MEMBER)],
                }),
            );
            if let Some(permissions) = meeting.anonymous {
                insert(
                    &mut data,
                    &format!("meeting/{id}"),
                    json!({"anonymous_group_id": meeting.anonymous_group()}),
                );
                insert(
                    &mut data,
                    &format!("group/{}", meeting.anonymous_group()),
                    json!({
                        "meeting_id": id,
                        "permissions": permissions,
                        "anonymous_group_for_meeting_id": id,
                    }),
                );
            }

            for user_id in MEETING_USERS {
                insert(
                    &mut data,
                    &format!("meeting_user/{}", meeting.meeting_user(user_id)),
                    json!({
                        "user_id": user_id,
                        "meeting_id": id,
                        "group_ids": [meeting.group_of(user_id)],
                        "locked_out": user_id == LOCKED_OUT,
                    }),
                );
            }
        }
        data
    }

    /// `data` with the fields of `objects` added, object by object.
    pub(in crate::restrict::rules) fn with(mut data: Value, objects: Value) -> Value {
        if let Value::Object(objects) = objects {
            for (fqid, fields) in objects {
                insert(&mut data, &fqid, fields);
            }
        }
        data
    }

    fn insert(data: &mut Value, fqid: &str, fields: Value) {
        let Some(data) = data.as_object_mut() else {
            panic!("test data is an object of fqids");
        };
        let object = data
            .entry(fqid.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let (Some(object), Value::Object(fields)) = (object.as_object_mut(), fields) {
            object.extend(fields);
        }
    }

    /// Asserts, for each user, exactly which of `ids` the user sees in `collection` and
    /// `mode`.
    pub(in crate::restrict::rules) async fn assert_visible(
        data: &Value,
        collection: &str,
        mode: &str,
        ids: &[Id],
        expected: &[(Id, &[Id])],
    ) {
        for (user_id, visible) in expected {
            assert_eq!(
                visible_ids(data, *user_id, collection, mode, ids).await,
                *visible,
                "{collection}/{mode} for user {user_id}",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    /// Items of meeting 1: 1 is plain, 2 internal, 3 hidden, 4 hidden and internal.
    fn items(meeting: TestMeeting) -> Value {
        with(
            meetings(&[meeting]),
            json!({
                "agenda_item/1": {"meeting_id": 1, "is_hidden": false, "is_internal": false},
                "agenda_item/2": {"meeting_id": 1, "is_internal": true},
                "agenda_item/3": {"meeting_id": 1, "is_hidden": true},
                "agenda_item/4": {"meeting_id": 1, "is_hidden": true, "is_internal": true},
            }),
        )
    }

    const ALL: &[Id] = &[1, 2, 3, 4];

    #[tokio::test]
    async fn agenda_item_a_can_see_hides_hidden_and_internal() {
        let data = items(TestMeeting {
            anonymous: Some(&["agenda_item.can_see"]),
            ..TestMeeting::new(1, &["agenda_item.can_see"])
        });
        assert_visible(
            &data,
            "agenda_item",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (PERMITTED, &[1]),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[1]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_a_can_see_internal_adds_internal_items() {
        let data = items(TestMeeting::new(1, &["agenda_item.can_see_internal"]));
        assert_visible(
            &data,
            "agenda_item",
            "A",
            ALL,
            &[(MEMBER, &[]), (PERMITTED, &[1, 2]), (PUBLIC, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_a_can_manage_adds_hidden_items() {
        let data = items(TestMeeting::new(1, &["agenda_item.can_manage"]));
        assert_visible(
            &data,
            "agenda_item",
            "A",
            ALL,
            &[(MEMBER, &[]), (PERMITTED, ALL)],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_a_public_access_needs_anonymous_enabled() {
        let data = items(TestMeeting {
            anonymous: Some(&["agenda_item.can_see"]),
            ..TestMeeting::new(1, &[])
        });
        assert_eq!(
            visible_ids(&data, PUBLIC, "agenda_item", "A", ALL).await,
            [1]
        );

        let organization_off = with(
            data.clone(),
            json!({"organization/1": {"enable_anonymous": false}}),
        );
        assert_eq!(
            visible_ids(&organization_off, PUBLIC, "agenda_item", "A", ALL).await,
            NOTHING
        );

        let meeting_off = with(data, json!({"meeting/1": {"enable_anonymous": false}}));
        assert_eq!(
            visible_ids(&meeting_off, PUBLIC, "agenda_item", "A", ALL).await,
            NOTHING
        );
    }

    #[tokio::test]
    async fn agenda_item_a_locked_meeting_hides_outsiders() {
        let data = items(TestMeeting {
            locked_from_inside: true,
            ..TestMeeting::new(1, &["agenda_item.can_see"])
        });
        assert_visible(
            &data,
            "agenda_item",
            "A",
            ALL,
            &[(PERMITTED, &[1]), (ADMIN, ALL), (SUPERADMIN, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_a_batch_across_meetings() {
        let data = with(
            meetings(&[
                TestMeeting::new(1, &["agenda_item.can_see"]),
                TestMeeting::new(2, &[]),
            ]),
            json!({
                "agenda_item/1": {"meeting_id": 1},
                "agenda_item/2": {"meeting_id": 2},
                "agenda_item/3": {"meeting_id": 1, "is_internal": true},
                "agenda_item/4": {"meeting_id": 2, "is_internal": true},
            }),
        );
        assert_visible(
            &data,
            "agenda_item",
            "A",
            ALL,
            &[(PERMITTED, &[1]), (ADMIN, ALL), (MEMBER, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_a_hides_item_without_meeting() {
        let data = with(
            meetings(&[TestMeeting::new(1, &["agenda_item.can_manage"])]),
            json!({"agenda_item/1": {"is_hidden": false}, "agenda_item/2": {"meeting_id": 1}}),
        );
        assert_visible(
            &data,
            "agenda_item",
            "A",
            &[1, 2],
            &[(PERMITTED, &[2]), (SUPERADMIN, &[2])],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_b_needs_can_see_internal() {
        for (permission, visible) in [
            ("agenda_item.can_see", NOTHING),
            ("agenda_item.can_see_internal", ALL),
            ("agenda_item.can_manage", ALL),
        ] {
            let data = items(TestMeeting::new(1, &[]));
            let data = with(data, json!({"group/12": {"permissions": [permission]}}));
            assert_eq!(
                visible_ids(&data, PERMITTED, "agenda_item", "B", ALL).await,
                visible,
                "agenda_item/B with {permission}",
            );
        }

        let data = items(TestMeeting::new(1, &["agenda_item.can_see_internal"]));
        assert_visible(
            &data,
            "agenda_item",
            "B",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_c_needs_can_manage() {
        for (permission, visible) in [
            ("agenda_item.can_see", NOTHING),
            ("agenda_item.can_see_internal", NOTHING),
            ("agenda_item.can_manage", ALL),
        ] {
            let data = items(TestMeeting::new(1, &[]));
            let data = with(data, json!({"group/12": {"permissions": [permission]}}));
            assert_eq!(
                visible_ids(&data, PERMITTED, "agenda_item", "C", ALL).await,
                visible,
                "agenda_item/C with {permission}",
            );
        }

        let data = items(TestMeeting::new(1, &["agenda_item.can_manage"]));
        assert_visible(
            &data,
            "agenda_item",
            "C",
            ALL,
            &[
                (MEMBER, &[]),
                (ADMIN, ALL),
                (SUPERADMIN, ALL),
                (PUBLIC, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn agenda_item_fields_follow_their_modes() {
        let data = with(
            items(TestMeeting::new(1, &["agenda_item.can_see_internal"])),
            json!({"agenda_item/2": {"duration": 60, "comment": "late"}}),
        );
        let keys = [
            "agenda_item/2/is_internal",
            "agenda_item/2/duration",
            "agenda_item/2/comment",
        ];

        assert_eq!(
            restricted(&data, PERMITTED, &keys).await,
            json!({"agenda_item/2/is_internal": true, "agenda_item/2/duration": 60}),
        );
        assert_eq!(
            restricted(&data, ADMIN, &keys).await,
            json!({
                "agenda_item/2/is_internal": true,
                "agenda_item/2/duration": 60,
                "agenda_item/2/comment": "late",
            }),
        );
        assert_eq!(restricted(&data, MEMBER, &keys).await, json!({}));
    }
}
