//! Restriction rules of `list_of_speakers`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::meeting_permission;
use crate::models::collections::ListOfSpeakers;
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `list_of_speakers.can_see` or `list_of_speakers.can_be_speaker` in the
/// list's meeting see the list, whether or not they may see its content object.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        // NOTE: The Go autoupdate service (May 2025) returns every requested list once
        // the viewer has one of the permissions in any of the lists' meetings. This rule
        // checks each list's own meeting instead.
        meeting_permission(
            ctx,
            ListOfSpeakers::MEETING_ID,
            &ids,
            &[
                Permission::ListOfSpeakersCanSee,
                Permission::ListOfSpeakersCanBeSpeaker,
            ],
        )
        .await
    })
}

/// Users with `list_of_speakers.can_see_moderator_notes` see the moderator notes.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            ListOfSpeakers::MEETING_ID,
            &ids,
            &[Permission::ListOfSpeakersCanSeeModeratorNotes],
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::super::agenda_item::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    /// Lists 1 and 2 of meeting 1 and list 3 of meeting 2, each on a topic. The agenda
    /// item of list 1's topic is hidden.
    fn lists(meetings_data: Value) -> Value {
        with(
            meetings_data,
            json!({
                "list_of_speakers/1": {"meeting_id": 1, "content_object_id": "topic/5"},
                "list_of_speakers/2": {"meeting_id": 1, "content_object_id": "topic/6"},
                "list_of_speakers/3": {"meeting_id": 2, "content_object_id": "topic/7"},
                "topic/5": {"meeting_id": 1, "agenda_item_id": 5, "list_of_speakers_id": 1},
                "topic/6": {"meeting_id": 1, "agenda_item_id": 6, "list_of_speakers_id": 2},
                "topic/7": {"meeting_id": 2, "agenda_item_id": 7, "list_of_speakers_id": 3},
                "agenda_item/5": {"meeting_id": 1, "content_object_id": "topic/5", "is_hidden": true},
                "agenda_item/6": {"meeting_id": 1, "content_object_id": "topic/6"},
                "agenda_item/7": {"meeting_id": 2, "content_object_id": "topic/7"},
            }),
        )
    }

    fn one_meeting(meeting: TestMeeting) -> Value {
        lists(meetings(&[meeting, TestMeeting::new(2, &[])]))
    }

    const ALL: &[Id] = &[1, 2, 3];

    #[tokio::test]
    async fn list_of_speakers_a_can_see_shows_lists_of_meeting() {
        let data = one_meeting(TestMeeting {
            anonymous: Some(&["list_of_speakers.can_see"]),
            ..TestMeeting::new(1, &["list_of_speakers.can_see"])
        });
        assert_visible(
            &data,
            "list_of_speakers",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2]),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[1, 2]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn list_of_speakers_a_can_be_speaker_suffices() {
        let data = one_meeting(TestMeeting::new(1, &["list_of_speakers.can_be_speaker"]));
        assert_visible(
            &data,
            "list_of_speakers",
            "A",
            ALL,
            &[(MEMBER, &[]), (PERMITTED, &[1, 2])],
        )
        .await;
    }

    #[tokio::test]
    async fn list_of_speakers_a_ignores_content_object_permissions() {
        let data = one_meeting(TestMeeting::new(1, &["agenda_item.can_see"]));
        assert_eq!(
            visible_ids(&data, PERMITTED, "list_of_speakers", "A", ALL).await,
            NOTHING
        );

        let data = one_meeting(TestMeeting::new(
            1,
            &["list_of_speakers.can_see", "agenda_item.can_see"],
        ));
        assert_eq!(
            visible_ids(&data, PERMITTED, "list_of_speakers", "A", ALL).await,
            [1, 2]
        );
    }

    #[tokio::test]
    async fn list_of_speakers_a_public_access_needs_anonymous_enabled() {
        let data = one_meeting(TestMeeting::new(1, &["list_of_speakers.can_see"]));
        assert_eq!(
            visible_ids(&data, PUBLIC, "list_of_speakers", "A", ALL).await,
            NOTHING
        );
    }

    #[tokio::test]
    async fn list_of_speakers_a_locked_meeting_hides_outsiders() {
        let data = one_meeting(TestMeeting {
            locked_from_inside: true,
            ..TestMeeting::new(1, &["list_of_speakers.can_see"])
        });
        assert_visible(
            &data,
            "list_of_speakers",
            "A",
            ALL,
            &[(PERMITTED, &[1, 2]), (ADMIN, ALL), (SUPERADMIN, &[3])],
        )
        .await;
    }

    #[tokio::test]
    async fn list_of_speakers_a_hides_list_without_meeting() {
        let data = with(
            one_meeting(TestMeeting::new(1, &["list_of_speakers.can_see"])),
            json!({"list_of_speakers/4": {"content_object_id": "topic/5"}}),
        );
        assert_visible(
            &data,
            "list_of_speakers",
            "A",
            &[1, 4],
            &[(PERMITTED, &[1]), (SUPERADMIN, &[1])],
        )
        .await;
    }

    #[tokio::test]
    async fn list_of_speakers_b_needs_can_see_moderator_notes() {
        for (permission, visible) in [
            ("list_of_speakers.can_see", NOTHING),
            ("list_of_speakers.can_manage", NOTHING),
            ("list_of_speakers.can_see_moderator_notes", &[1, 2][..]),
            ("list_of_speakers.can_manage_moderator_notes", &[1, 2][..]),
        ] {
            let data = one_meeting(TestMeeting::new(1, &[]));
            let data = with(data, json!({"group/12": {"permissions": [permission]}}));
            assert_eq!(
                visible_ids(&data, PERMITTED, "list_of_speakers", "B", ALL).await,
                visible,
                "list_of_speakers/B with {permission}",
            );
        }

        let data = one_meeting(TestMeeting {
            anonymous: Some(&["list_of_speakers.can_see_moderator_notes"]),
            ..TestMeeting::new(1, &["list_of_speakers.can_see_moderator_notes"])
        });
        assert_visible(
            &data,
            "list_of_speakers",
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
                (PUBLIC, &[1, 2]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn list_of_speakers_moderator_notes_follow_mode_b() {
        let data = with(
            one_meeting(TestMeeting::new(1, &["list_of_speakers.can_see"])),
            json!({"list_of_speakers/1": {"closed": true, "moderator_notes": "<p>quiet</p>"}}),
        );
        let keys = [
            "list_of_speakers/1/closed",
            "list_of_speakers/1/moderator_notes",
        ];

        assert_eq!(
            restricted(&data, PERMITTED, &keys).await,
            json!({"list_of_speakers/1/closed": true}),
        );
        assert_eq!(
            restricted(&data, ADMIN, &keys).await,
            json!({
                "list_of_speakers/1/closed": true,
                "list_of_speakers/1/moderator_notes": "<p>quiet</p>",
            }),
        );
    }
}
