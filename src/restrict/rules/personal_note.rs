//! Restriction rules of `personal_note`: notes a member keeps on motions for themselves.

use super::super::context::Context;
use super::super::RestrictError;
use crate::models::collections::{PersonalNote, User};
use crate::models::Id;
use futures::future::BoxFuture;

/// Only the author of the note sees it: the user of its `meeting_user_id`. Superadmins do
/// not see the notes of others.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let viewer = ctx.user_id();
        if viewer == 0 {
            return Ok(Vec::new());
        }
        let own = ctx
            .get_one(User::MEETING_USER_IDS, viewer)
            .await?
            .unwrap_or_default();
        let authors = ctx.get(PersonalNote::MEETING_USER_ID, &ids).await?;
        Ok(ids
            .into_iter()
            .zip(authors)
            .filter(|(_, author)| author.is_some_and(|author| own.contains(&author)))
            .map(|(id, _)| id)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    /// Notes 1 of superadmin 1, 2 of member 5, 3 of locked-out member 6 and 4 without
    /// author, all in meeting 1. User 4 is the meeting's admin, user 2 an organization
    /// manager without membership.
    fn data() -> Value {
        json!({
            "meeting/1": {"admin_group_id": 10},
            "group/10": {"meeting_id": 1, "admin_group_for_meeting_id": 1},
            "group/11": {"meeting_id": 1, "permissions": []},
            "user/1": {"organization_management_level": "superadmin", "meeting_user_ids": [10]},
            "user/2": {"organization_management_level": "can_manage_organization"},
            "user/4": {"meeting_user_ids": [40]},
            "user/5": {"meeting_user_ids": [50]},
            "user/6": {"meeting_user_ids": [60]},
            "meeting_user/10": {"user_id": 1, "meeting_id": 1, "group_ids": [11],
                "personal_note_ids": [1]},
            "meeting_user/40": {"user_id": 4, "meeting_id": 1, "group_ids": [10]},
            "meeting_user/50": {"user_id": 5, "meeting_id": 1, "group_ids": [11],
                "personal_note_ids": [2]},
            "meeting_user/60": {"user_id": 6, "meeting_id": 1, "group_ids": [11],
                "locked_out": true, "personal_note_ids": [3]},
            "personal_note/1": {"meeting_user_id": 10, "meeting_id": 1, "note": "mine"},
            "personal_note/2": {"meeting_user_id": 50, "meeting_id": 1, "note": "five"},
            "personal_note/3": {"meeting_user_id": 60, "meeting_id": 1, "note": "six"},
            "personal_note/4": {"meeting_id": 1, "note": "orphan"}
        })
    }

    #[tokio::test]
    async fn personal_note_a_only_for_its_author() {
        let data = data();
        let cases: [(&str, Id, &[Id]); 6] = [
            ("public access", 0, &[]),
            ("superadmin", 1, &[1]),
            ("organization manager", 2, &[]),
            ("meeting admin", 4, &[]),
            ("member", 5, &[2]),
            ("locked-out member", 6, &[3]),
        ];
        for (viewer, user_id, expected) in cases {
            assert_eq!(
                visible_ids(&data, user_id, "personal_note", "A", &[1, 2, 3, 4]).await,
                expected.to_vec(),
                "personal_note mode A for {viewer} (user {user_id})"
            );
        }
    }

    #[tokio::test]
    async fn personal_note_ids_show_only_own_notes() {
        let data = data();
        let got = restricted(
            &data,
            5,
            &[
                "meeting_user/50/personal_note_ids",
                "personal_note/2/note",
                "personal_note/1/note",
            ],
        )
        .await;
        assert_eq!(
            got,
            json!({"meeting_user/50/personal_note_ids": [2], "personal_note/2/note": "five"})
        );
    }
}
