//! Restriction rules of `poll`. A poll follows its content object (a motion, an
//! assignment or a topic), and its state decides who sees its results and progress.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::RestrictError;
use super::meeting_permission;
use crate::models::collections::{Assignment, Motion, Poll, Topic};
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};

// The values of `poll/state` that the rules tell apart. A poll without a state, or in
// state `created`, shows neither results nor progress.
const STARTED: &str = "started";
pub(super) const FINISHED: &str = "finished";
pub(super) const PUBLISHED: &str = "published";

/// Users who may see the poll's motion (mode C), assignment or topic see these fields.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = Vec::new();
        for (collection, polls) in by_content_collection(ctx, &ids).await? {
            let mode = match collection {
                Collection::Motion => RestrictionMode::C,
                Collection::Assignment | Collection::Topic => RestrictionMode::A,
                // A poll of any other collection is broken data: hide it.
                _ => continue,
            };
            let objects: Vec<Id> = polls.iter().map(|(_, object)| *object).collect();
            let visible: HashSet<Id> = ctx
                .visible(collection, mode, &objects)
                .await?
                .into_iter()
                .collect();
            allowed.extend(
                polls
                    .iter()
                    .filter(|(_, object)| visible.contains(object))
                    .map(|(poll, _)| *poll),
            );
        }
        Ok(allowed)
    })
}

/// The results of a published poll are seen by those who see the poll, those of a
/// finished poll only by its managers, and nobody sees them before.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let (finished, published) = finished_and_published(ctx, &ids).await?;
        let mut allowed = ctx
            .visible(Collection::Poll, RestrictionMode::A, &published)
            .await?;
        allowed.extend(manageable_polls(ctx, &finished).await?);
        Ok(allowed)
    })
}

/// Managers of a started poll see its voting progress, as do users with
/// `poll.can_see_progress`, or with both `user.can_see` and
/// `list_of_speakers.can_manage`, in the poll's meeting.
pub fn mode_c(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let states = ctx.get(Poll::STATE, &ids).await?;
        let started: Vec<Id> = ids
            .iter()
            .zip(states)
            .filter(|(_, state)| state.as_deref() == Some(STARTED))
            .map(|(id, _)| *id)
            .collect();

        let meetings = ctx.get(Poll::MEETING_ID, &started).await?;
        let mut by_meeting: HashMap<Id, Vec<Id>> = HashMap::new();
        for (poll, meeting) in started.iter().zip(meetings) {
            // A poll without a meeting is broken data: hide it.
            if let Some(meeting) = meeting {
                by_meeting.entry(meeting).or_default().push(*poll);
            }
        }

        let mut allowed = Vec::new();
        let mut need_manage = Vec::new();
        for (meeting, polls) in by_meeting {
            let sees_progress = ctx.perms(meeting).await?.is_some_and(|perms| {
                perms.has(Permission::PollCanSeeProgress)
                    || (perms.has(Permission::UserCanSee)
                        && perms.has(Permission::ListOfSpeakersCanManage))
            });
            if sees_progress {
                allowed.extend(polls);
            } else {
                need_manage.extend(polls);
            }
        }
        allowed.extend(manageable_polls(ctx, &need_manage).await?);
        Ok(allowed)
    })
}

/// Like mode B, but users with `list_of_speakers.can_manage` in the poll's meeting also
/// see these fields of a finished poll.
pub fn mode_d(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let (finished, published) = finished_and_published(ctx, &ids).await?;
        let mut allowed = ctx
            .visible(Collection::Poll, RestrictionMode::A, &published)
            .await?;

        let managed = manageable_polls(ctx, &finished).await?;
        let others: Vec<Id> = finished
            .iter()
            .copied()
            .filter(|id| !managed.contains(id))
            .collect();
        allowed.extend(managed);
        allowed.extend(
            meeting_permission(
                ctx,
                Poll::MEETING_ID,
                &others,
                &[Permission::ListOfSpeakersCanManage],
            )
            .await?,
        );
        Ok(allowed)
    })
}

/// Returns the polls among `ids` that the viewer may manage. That takes, in the meeting
/// of the poll's content object, `motion.can_manage_polls` for a motion,
/// `assignment.can_manage` for an assignment and `poll.can_manage` for a topic.
pub(super) async fn manageable_polls(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<Vec<Id>, RestrictError> {
    let mut allowed = Vec::new();
    for (collection, polls) in by_content_collection(ctx, ids).await? {
        let objects: Vec<Id> = polls.iter().map(|(_, object)| *object).collect();
        let (meetings, permission) = match collection {
            Collection::Motion => (
                ctx.get(Motion::MEETING_ID, &objects).await?,
                Permission::MotionCanManagePolls,
            ),
            Collection::Assignment => (
                ctx.get(Assignment::MEETING_ID, &objects).await?,
                Permission::AssignmentCanManage,
            ),
            Collection::Topic => (
                ctx.get(Topic::MEETING_ID, &objects).await?,
                Permission::PollCanManage,
            ),
            _ => continue,
        };
        for ((poll, _), meeting) in polls.iter().zip(meetings) {
            let Some(meeting) = meeting else {
                continue;
            };
            if let Some(perms) = ctx.perms(meeting).await? {
                if perms.has(permission) {
                    allowed.push(*poll);
                }
            }
        }
    }
    Ok(allowed)
}

/// Groups polls by the collection of their content object, each as (poll id, content
/// object id). Polls without a content object are left out.
async fn by_content_collection(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<HashMap<Collection, Vec<(Id, Id)>>, RestrictError> {
    let contents = ctx.get(Poll::CONTENT_OBJECT_ID, ids).await?;
    let mut grouped: HashMap<Collection, Vec<(Id, Id)>> = HashMap::new();
    for (poll, content) in ids.iter().zip(contents) {
        if let Some(content) = content {
            grouped
                .entry(content.collection)
                .or_default()
                .push((*poll, content.id));
        }
    }
    Ok(grouped)
}

/// Splits the finished and the published polls out of `ids` and drops the others.
async fn finished_and_published(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<(Vec<Id>, Vec<Id>), RestrictError> {
    let states = ctx.get(Poll::STATE, ids).await?;
    let mut finished = Vec::new();
    let mut published = Vec::new();
    for (id, state) in ids.iter().zip(states) {
        match state.as_deref() {
            Some(FINISHED) => finished.push(*id),
            Some(PUBLISHED) => published.push(*id),
            _ => {}
        }
    }
    Ok((finished, published))
}

/// Polls of assignments in every state, shared by the tests of polls and the
/// collections that follow them.
#[cfg(test)]
pub(super) mod test_polls {
    pub use super::super::assignment::test_meeting::*;
    use serde_json::{json, Value};

    /// `meeting(permissions)` with assignment 1 in meeting 1 and its polls 1 (created),
    /// 2 (started), 3 (finished), 4 (published) and 5 (without state), and assignment 2
    /// in meeting 2 with the published poll 6.
    pub fn meeting_with_polls(permissions: &[&str]) -> Value {
        let mut data = meeting_with(
            permissions,
            json!({
                "assignment/1": {"meeting_id": 1, "poll_ids": [1, 2, 3, 4, 5]},
                "assignment/2": {"meeting_id": 2, "poll_ids": [6]},
            }),
        );
        let polls = [
            (1, 1, Some("created")),
            (2, 1, Some("started")),
            (3, 1, Some("finished")),
            (4, 1, Some("published")),
            (5, 1, None),
            (6, 2, Some("published")),
        ];
        for (poll, meeting, state) in polls {
            let mut fields = json!({
                "meeting_id": meeting,
                "content_object_id": format!("assignment/{meeting}"),
                "title": format!("Poll {poll}"),
                "votesvalid": "3.000000",
                "votescast": "4.000000",
                "has_voted_user_ids": [3],
            });
            if let Some(state) = state {
                fields["state"] = json!(state);
            }
            insert(&mut data, json!({ format!("poll/{poll}"): fields }));
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::test_polls::*;
    use crate::restrict::rules::testing::restricted;
    use serde_json::json;

    const ALL_POLLS: [u64; 6] = [1, 2, 3, 4, 5, 6];

    /// Meeting 1 with a motion, a topic and an assignment, and the polls 11, 12 and 13
    /// of them in `state`.
    fn polls_of_each_content(permissions: &[&str], state: &str) -> serde_json::Value {
        meeting_with(
            permissions,
            json!({
                "motion/1": {"meeting_id": 1, "state_id": 1, "poll_ids": [11]},
                "motion_state/1": {"meeting_id": 1, "restrictions": []},
                "topic/1": {"meeting_id": 1, "agenda_item_id": 1, "poll_ids": [12]},
                "agenda_item/1": {"meeting_id": 1, "content_object_id": "topic/1"},
                "assignment/1": {"meeting_id": 1, "poll_ids": [13]},
                "poll/11": {"meeting_id": 1, "content_object_id": "motion/1", "state": state},
                "poll/12": {"meeting_id": 1, "content_object_id": "topic/1", "state": state},
                "poll/13": {"meeting_id": 1, "content_object_id": "assignment/1", "state": state},
            }),
        )
    }

    #[tokio::test]
    async fn poll_a_follows_assignment() {
        let data = meeting_with_polls(&["assignment.can_see"]);
        assert_visible(
            &data,
            "poll",
            "A",
            &ALL_POLLS,
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[1, 2, 3, 4, 5, 6]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2, 3, 4, 5]),
                (ADMIN, &[1, 2, 3, 4, 5]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_a_hidden_without_assignment_can_see() {
        let data = meeting_with_polls(&["motion.can_see", "agenda_item.can_see"]);
        assert_visible(&data, "poll", "A", &ALL_POLLS, &[(PERMITTED, &[])]).await;
    }

    #[tokio::test]
    async fn poll_a_public_access_follows_anonymous_group() {
        let mut data = meeting_with_polls(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(
            &data,
            "poll",
            "A",
            &ALL_POLLS,
            &[(PUBLIC, &[1, 2, 3, 4, 5])],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_a_locked_meeting_hides_from_outside() {
        let mut data = meeting_with_polls(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "poll",
            "A",
            &ALL_POLLS,
            &[(SUPERADMIN, &[6]), (PERMITTED, &[1, 2, 3, 4, 5])],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_a_follows_each_content_collection() {
        // Holds whether or not the motion and topic rules grant more than superadmins.
        let data = polls_of_each_content(&[], "created");
        assert_visible(
            &data,
            "poll",
            "A",
            &[11, 12, 13],
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[11, 12, 13]),
                (MEMBER, &[]),
                (PERMITTED, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_a_hidden_without_valid_content_object() {
        let mut data = meeting_with_polls(&[]);
        insert(
            &mut data,
            json!({
                "poll/7": {"meeting_id": 1, "state": "published"},
                "poll/8": {"meeting_id": 1, "content_object_id": "meeting/1", "state": "published"},
            }),
        );
        assert_visible(
            &data,
            "poll",
            "A",
            &[7, 8],
            &[(SUPERADMIN, &[]), (ADMIN, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_b_results_follow_state() {
        let data = meeting_with_polls(&["assignment.can_see"]);
        assert_visible(
            &data,
            "poll",
            "B",
            &ALL_POLLS,
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[3, 4, 6]),
                (MEMBER, &[]),
                (PERMITTED, &[4]),
                (ADMIN, &[3, 4]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_b_finished_visible_to_managers() {
        let data = meeting_with_polls(&["assignment.can_manage"]);
        assert_visible(&data, "poll", "B", &ALL_POLLS, &[(PERMITTED, &[3, 4])]).await;
    }

    #[tokio::test]
    async fn poll_b_public_access_sees_published() {
        let mut data = meeting_with_polls(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(&data, "poll", "B", &ALL_POLLS, &[(PUBLIC, &[4])]).await;
    }

    #[tokio::test]
    async fn poll_b_locked_meeting_hides_from_outside() {
        let mut data = meeting_with_polls(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "poll",
            "B",
            &ALL_POLLS,
            &[(SUPERADMIN, &[6]), (ADMIN, &[3, 4]), (PERMITTED, &[4])],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_b_manage_permission_depends_on_content() {
        let cases: [(&[&str], &[u64]); 5] = [
            (&[], &[]),
            (&["motion.can_manage_polls"], &[11]),
            (&["poll.can_manage"], &[12]),
            (&["assignment.can_manage"], &[13]),
            (&["list_of_speakers.can_manage"], &[]),
        ];
        for (permissions, expected) in cases {
            let data = polls_of_each_content(permissions, "finished");
            assert_eq!(
                crate::restrict::rules::testing::visible_ids(
                    &data,
                    PERMITTED,
                    "poll",
                    "B",
                    &[11, 12, 13]
                )
                .await,
                expected.to_vec(),
                "with permissions {permissions:?}",
            );
        }
    }

    #[tokio::test]
    async fn poll_b_manage_permission_of_content_meeting() {
        // The poll claims meeting 1, but its assignment is in meeting 2.
        let mut data = meeting_with_polls(&["assignment.can_manage"]);
        insert(
            &mut data,
            json!({"poll/7": {"meeting_id": 1, "content_object_id": "assignment/2", "state": "finished"}}),
        );
        assert_visible(&data, "poll", "B", &[3, 7], &[(PERMITTED, &[3])]).await;
    }

    #[tokio::test]
    async fn poll_c_progress_only_while_started() {
        let data = meeting_with_polls(&["poll.can_see_progress"]);
        assert_visible(
            &data,
            "poll",
            "C",
            &ALL_POLLS,
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[2]),
                (MEMBER, &[]),
                (PERMITTED, &[2]),
                (ADMIN, &[2]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_c_permissions_for_progress() {
        let cases: [(&[&str], &[u64]); 8] = [
            (&[], &[]),
            (&["poll.can_see_progress"], &[2]),
            (&["poll.can_manage"], &[2]),
            (&["user.can_see"], &[]),
            (&["list_of_speakers.can_manage"], &[]),
            (&["user.can_see", "list_of_speakers.can_manage"], &[2]),
            (&["assignment.can_manage"], &[2]),
            (&["motion.can_manage_polls", "assignment.can_see"], &[]),
        ];
        for (permissions, expected) in cases {
            let data = meeting_with_polls(permissions);
            assert_eq!(
                crate::restrict::rules::testing::visible_ids(
                    &data, PERMITTED, "poll", "C", &ALL_POLLS
                )
                .await,
                expected.to_vec(),
                "with permissions {permissions:?}",
            );
        }
    }

    #[tokio::test]
    async fn poll_c_manage_permission_depends_on_content() {
        let cases: [(&[&str], &[u64]); 3] = [
            (&["motion.can_manage_polls"], &[11]),
            (&["assignment.can_manage"], &[13]),
            (&["poll.can_manage"], &[11, 12, 13]),
        ];
        for (permissions, expected) in cases {
            let data = polls_of_each_content(permissions, "started");
            assert_eq!(
                crate::restrict::rules::testing::visible_ids(
                    &data,
                    PERMITTED,
                    "poll",
                    "C",
                    &[11, 12, 13]
                )
                .await,
                expected.to_vec(),
                "with permissions {permissions:?}",
            );
        }
    }

    #[tokio::test]
    async fn poll_c_public_access_with_progress_permission() {
        let mut data = meeting_with_polls(&["poll.can_see_progress"]);
        assert_visible(&data, "poll", "C", &ALL_POLLS, &[(PUBLIC, &[])]).await;
        enable_public_access(&mut data);
        assert_visible(&data, "poll", "C", &ALL_POLLS, &[(PUBLIC, &[2])]).await;
    }

    #[tokio::test]
    async fn poll_c_hidden_without_meeting() {
        let mut data = meeting_with_polls(&[]);
        insert(
            &mut data,
            json!({"poll/7": {"content_object_id": "assignment/1", "state": "started"}}),
        );
        assert_visible(
            &data,
            "poll",
            "C",
            &[2, 7],
            &[(SUPERADMIN, &[2]), (ADMIN, &[2])],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_d_results_follow_state() {
        let data = meeting_with_polls(&["assignment.can_see"]);
        assert_visible(
            &data,
            "poll",
            "D",
            &ALL_POLLS,
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[3, 4, 6]),
                (MEMBER, &[]),
                (PERMITTED, &[4]),
                (ADMIN, &[3, 4]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_d_finished_visible_to_speaker_managers() {
        let cases: [(&[&str], &[u64]); 5] = [
            (&[], &[]),
            (&["list_of_speakers.can_manage"], &[3]),
            (
                &["list_of_speakers.can_manage", "assignment.can_see"],
                &[3, 4],
            ),
            (&["assignment.can_manage"], &[3, 4]),
            (&["poll.can_manage"], &[]),
        ];
        for (permissions, expected) in cases {
            let data = meeting_with_polls(permissions);
            assert_eq!(
                crate::restrict::rules::testing::visible_ids(
                    &data, PERMITTED, "poll", "D", &ALL_POLLS
                )
                .await,
                expected.to_vec(),
                "with permissions {permissions:?}",
            );
        }
    }

    #[tokio::test]
    async fn poll_d_speaker_managers_of_poll_meeting() {
        // The poll claims meeting 2, where the user has no permissions, for an
        // assignment of meeting 1.
        let mut data = meeting_with_polls(&["list_of_speakers.can_manage"]);
        insert(
            &mut data,
            json!({"poll/7": {"meeting_id": 2, "content_object_id": "assignment/1", "state": "finished"}}),
        );
        assert_visible(&data, "poll", "D", &[3, 7], &[(PERMITTED, &[3])]).await;
    }

    #[tokio::test]
    async fn poll_results_hidden_from_admin_until_finished() {
        let data = meeting_with_polls(&[]);
        let keys = [
            "poll/1/title",
            "poll/1/votesvalid",
            "poll/1/votescast",
            "poll/2/votesvalid",
            "poll/2/votescast",
            "poll/2/has_voted_user_ids",
            "poll/3/votesvalid",
            "poll/3/votescast",
            "poll/3/has_voted_user_ids",
            "poll/4/votesvalid",
        ];
        let got = restricted(&data, ADMIN, &keys).await;
        assert_eq!(
            got,
            json!({
                "poll/1/title": "Poll 1",
                "poll/2/has_voted_user_ids": [3],
                "poll/3/votesvalid": "3.000000",
                "poll/3/votescast": "4.000000",
                "poll/4/votesvalid": "3.000000",
            })
        );
    }
}
