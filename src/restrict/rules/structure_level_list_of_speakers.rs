//! Restriction rules of `structure_level_list_of_speakers`: each is as visible as its
//! list of speakers.

use super::super::context::Context;
use super::super::RestrictError;
use crate::models::collections::StructureLevelListOfSpeakers;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users who may see the linked list of speakers (`list_of_speakers` mode A) see its
/// structure level entries. An entry without a list of speakers is hidden.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let lists = ctx
            .get(StructureLevelListOfSpeakers::LIST_OF_SPEAKERS_ID, &ids)
            .await?;
        let list_ids: Vec<Id> = lists.iter().flatten().copied().collect();
        let visible_lists: HashSet<Id> = ctx
            .visible(Collection::ListOfSpeakers, RestrictionMode::A, &list_ids)
            .await?
            .into_iter()
            .collect();

        Ok(ids
            .into_iter()
            .zip(lists)
            .filter(|(_, list)| list.is_some_and(|list| visible_lists.contains(&list)))
            .map(|(id, _)| id)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::super::agenda_item::test_meetings::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::{restricted, visible_ids};
    use serde_json::{json, Value};

    /// Entries 1 and 2 on list 5 of meeting 1, entry 3 on list 6 of meeting 2, entry 4
    /// without a list.
    fn entries(meetings_data: Value) -> Value {
        with(
            meetings_data,
            json!({
                "structure_level_list_of_speakers/1": {"meeting_id": 1, "list_of_speakers_id": 5, "structure_level_id": 1, "initial_time": 60},
                "structure_level_list_of_speakers/2": {"meeting_id": 1, "list_of_speakers_id": 5, "structure_level_id": 2},
                "structure_level_list_of_speakers/3": {"meeting_id": 2, "list_of_speakers_id": 6, "structure_level_id": 3},
                "structure_level_list_of_speakers/4": {"meeting_id": 1, "structure_level_id": 1},
                "list_of_speakers/5": {"meeting_id": 1, "content_object_id": "topic/5", "structure_level_list_of_speakers_ids": [1, 2]},
                "list_of_speakers/6": {"meeting_id": 2, "content_object_id": "topic/6", "structure_level_list_of_speakers_ids": [3]},
                "topic/5": {"meeting_id": 1, "list_of_speakers_id": 5},
                "topic/6": {"meeting_id": 2, "list_of_speakers_id": 6},
            }),
        )
    }

    const ALL: &[Id] = &[1, 2, 3, 4];

    #[tokio::test]
    async fn structure_level_list_of_speakers_a_follows_list_of_speakers() {
        let data = entries(meetings(&[
            TestMeeting {
                anonymous: Some(&["list_of_speakers.can_see"]),
                ..TestMeeting::new(1, &["list_of_speakers.can_see"])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "structure_level_list_of_speakers",
            "A",
            ALL,
            &[
                (NON_MEMBER, &[]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2]),
                (LOCKED_OUT, &[]),
                (ADMIN, &[1, 2, 3]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (SUPERADMIN, &[1, 2, 3]),
                (PUBLIC, &[1, 2]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn structure_level_list_of_speakers_a_can_be_speaker_suffices() {
        let data = entries(meetings(&[
            TestMeeting::new(1, &["list_of_speakers.can_be_speaker"]),
            TestMeeting::new(2, &["user.can_see"]),
        ]));
        assert_eq!(
            visible_ids(
                &data,
                PERMITTED,
                "structure_level_list_of_speakers",
                "A",
                ALL
            )
            .await,
            [1, 2]
        );
    }

    #[tokio::test]
    async fn structure_level_list_of_speakers_a_locked_meeting_hides_outsiders() {
        let data = entries(meetings(&[
            TestMeeting {
                locked_from_inside: true,
                ..TestMeeting::new(1, &["list_of_speakers.can_see"])
            },
            TestMeeting::new(2, &[]),
        ]));
        assert_visible(
            &data,
            "structure_level_list_of_speakers",
            "A",
            ALL,
            &[(PERMITTED, &[1, 2]), (SUPERADMIN, &[3])],
        )
        .await;
    }

    #[tokio::test]
    async fn structure_level_list_of_speakers_relation_is_filtered() {
        let data = entries(meetings(&[
            TestMeeting::new(1, &["list_of_speakers.can_see"]),
            TestMeeting::new(2, &[]),
        ]));
        assert_eq!(
            restricted(
                &data,
                PERMITTED,
                &[
                    "structure_level_list_of_speakers/1/initial_time",
                    "list_of_speakers/5/structure_level_list_of_speakers_ids",
                ],
            )
            .await,
            json!({
                "structure_level_list_of_speakers/1/initial_time": 60,
                "list_of_speakers/5/structure_level_list_of_speakers_ids": [1, 2],
            }),
        );
        assert_eq!(
            restricted(
                &data,
                MEMBER,
                &["structure_level_list_of_speakers/1/initial_time"]
            )
            .await,
            json!({}),
        );
    }
}
