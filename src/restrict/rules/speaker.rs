//! Restriction rules of `speaker`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::{MeetingUser, Speaker};
use crate::models::Id;
use futures::future::BoxFuture;

/// Users with `list_of_speakers.can_see` see every speaker of the meeting. Users with
/// only `list_of_speakers.can_be_speaker` see only their own speaker entries.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut visible = Vec::new();
        let mut own_candidates = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, Speaker::MEETING_ID, &ids).await? {
            let Some(perms) = ctx.perms(meeting_id).await? else {
                continue;
            };
            if perms.has(Permission::ListOfSpeakersCanSee) {
                visible.extend(ids);
            } else if perms.has(Permission::ListOfSpeakersCanBeSpeaker) {
                own_candidates.extend(ids);
            }
        }
        if own_candidates.is_empty() {
            return Ok(visible);
        }

        let meeting_users = ctx.get(Speaker::MEETING_USER_ID, &own_candidates).await?;
        let with_meeting_user: Vec<(Id, Id)> = own_candidates
            .into_iter()
            .zip(meeting_users)
            .filter_map(|(id, meeting_user)| Some((id, meeting_user?)))
            .collect();
        let meeting_user_ids: Vec<Id> = with_meeting_user.iter().map(|(_, mu)| *mu).collect();
        let users = ctx.get(MeetingUser::USER_ID, &meeting_user_ids).await?;

        let viewer = ctx.user_id();
        for ((id, _), user) in with_meeting_user.into_iter().zip(users) {
            if user == Some(viewer) {
                visible.push(id);
            }
        }
        Ok(visible)
    })
}

#[cfg(test)]
mod tests {
    use super::super::agenda_item::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    /// Speakers on list 1 of meeting 1: 1 is `PERMITTED`, 2 is `MEMBER`, 3 has no
    /// meeting user. Speaker 4 is `PERMITTED` on list 2 of meeting 2.
    fn speakers(meetings_data: Value) -> Value {
        let first = TestMeeting::new(1, &[]);
        let second = TestMeeting::new(2, &[]);
        with(
            meetings_data,
            json!({
                "list_of_speakers/1": {"meeting_id": 1, "content_object_id": "topic/1", "speaker_ids": [1, 2, 3]},
                "list_of_speakers/2": {"meeting_id": 2, "content_object_id": "topic/2", "speaker_ids": [4]},
                "topic/1": {"meeting_id": 1, "list_of_speakers_id": 1},
                "topic/2": {"meeting_id": 2, "list_of_speakers_id": 2},
                "speaker/1": {"meeting_id": 1, "list_of_speakers_id": 1, "meeting_user_id": first.meeting_user(PERMITTED)},
                "speaker/2": {"meeting_id": 1, "list_of_speakers_id": 1, "meeting_user_id": first.meeting_user(MEMBER)},
                "speaker/3": {"meeting_id": 1, "list_of_speakers_id": 1},
                "speaker/4": {"meeting_id": 2, "list_of_speakers_id": 2, "meeting_user_id": second.meeting_user(PERMITTED)},
            }),
        )
    }

    const ALL: &[Id] = &[1, 2, 3, 4];

    #[tokio::test]
    async fn speaker_a_can_see_shows_all_speakers_of_meeting() {
        let data = speakers(meetings(&[
            TestMeeting {
                anonymous: Some(&["list_of_speakers.can_see"]),
                ..TestMeeting::new(1, &["list_of_speakers.can_see"])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "speaker",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2, 3]),
                (LOCKED_OUT, &[]),
                (ADMIN, ALL),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, ALL),
                (PUBLIC, &[1, 2, 3]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn speaker_a_can_be_speaker_shows_only_own_speakers() {
        let data = speakers(meetings(&[
            TestMeeting::new(1, &["list_of_speakers.can_be_speaker"]),
            TestMeeting::new(2, &["list_of_speakers.can_be_speaker"]),
        ]));
        assert_visible(
            &data,
            "speaker",
            "A",
            ALL,
            &[(MEMBER, &[]), (PERMITTED, &[1, 4]), (ADMIN, ALL)],
        )
        .await;
    }

    #[tokio::test]
    async fn speaker_a_own_speaker_needs_can_be_speaker() {
        let data = speakers(meetings(&[
            TestMeeting::new(1, &["list_of_speakers.can_be_speaker"]),
            TestMeeting::new(2, &[]),
        ]));
        assert_eq!(
            visible_ids(&data, PERMITTED, "speaker", "A", ALL).await,
            [1]
        );
    }

    #[tokio::test]
    async fn speaker_a_public_can_be_speaker_sees_none() {
        let data = speakers(meetings(&[
            TestMeeting {
                anonymous: Some(&["list_of_speakers.can_be_speaker"]),
                ..TestMeeting::new(1, &[])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_eq!(
            visible_ids(&data, PUBLIC, "speaker", "A", ALL).await,
            NOTHING
        );
    }

    #[tokio::test]
    async fn speaker_a_locked_meeting_hides_outsiders() {
        let data = speakers(meetings(&[
            TestMeeting {
                locked_from_inside: true,
                ..TestMeeting::new(1, &["list_of_speakers.can_see"])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "speaker",
            "A",
            ALL,
            &[(PERMITTED, &[1, 2, 3]), (SUPERADMIN, &[4])],
        )
        .await;
    }

    #[tokio::test]
    async fn speaker_a_hides_speaker_without_meeting() {
        let data = with(
            speakers(meetings(&[
                TestMeeting::new(1, &["list_of_speakers.can_see"]),
                TestMeeting::new(2, &[]),
            ])),
            json!({"speaker/5": {"list_of_speakers_id": 1}}),
        );
        assert_visible(
            &data,
            "speaker",
            "A",
            &[1, 5],
            &[(PERMITTED, &[1]), (SUPERADMIN, &[1])],
        )
        .await;
    }

    #[tokio::test]
    async fn speaker_list_shows_only_visible_speakers() {
        let data = speakers(meetings(&[
            TestMeeting::new(1, &["list_of_speakers.can_be_speaker"]),
            TestMeeting::new(2, &[]),
        ]));
        assert_eq!(
            restricted(&data, PERMITTED, &["list_of_speakers/1/speaker_ids"]).await,
            json!({"list_of_speakers/1/speaker_ids": [1]}),
        );
    }
}
