//! Restriction rules of `option`: an option follows its poll, and its vote counts follow
//! the poll's state.

use super::super::context::Context;
use super::super::RestrictError;
use super::poll::{manageable_polls, PUBLISHED};
use crate::models::collections::{Option as PollOption, Poll};
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users who may see the option's poll see these fields.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let polls = poll_of_options(ctx, &ids).await?;
        let visible = visible_polls(ctx, &polls).await?;
        Ok(ids
            .iter()
            .zip(polls)
            .filter(|(_, poll)| poll.is_some_and(|poll| visible.contains(&poll)))
            .map(|(id, _)| *id)
            .collect())
    })
}

/// Users who may see the option's poll see the vote counts once the poll is published;
/// its managers see them in every state.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let polls = poll_of_options(ctx, &ids).await?;
        let visible = visible_polls(ctx, &polls).await?;
        let seen: Vec<(Id, Id)> = ids
            .iter()
            .zip(polls)
            .filter_map(|(id, poll)| poll.map(|poll| (*id, poll)))
            .filter(|(_, poll)| visible.contains(poll))
            .collect();

        let seen_polls: Vec<Id> = unique(seen.iter().map(|(_, poll)| *poll));
        let managed: HashSet<Id> = manageable_polls(ctx, &seen_polls)
            .await?
            .into_iter()
            .collect();
        let unmanaged: Vec<Id> = seen_polls
            .iter()
            .copied()
            .filter(|poll| !managed.contains(poll))
            .collect();
        let states = ctx.get(Poll::STATE, &unmanaged).await?;
        let published: HashSet<Id> = unmanaged
            .iter()
            .zip(states)
            .filter(|(_, state)| state.as_deref() == Some(PUBLISHED))
            .map(|(poll, _)| *poll)
            .collect();

        Ok(seen
            .into_iter()
            .filter(|(_, poll)| managed.contains(poll) || published.contains(poll))
            .map(|(id, _)| id)
            .collect())
    })
}

/// Returns the poll of each option: `option/poll_id`, or for a global option
/// `option/used_as_global_option_in_poll_id`. `None` when both are empty.
pub(super) async fn poll_of_options(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<Vec<Option<Id>>, RestrictError> {
    let mut polls = ctx.get(PollOption::POLL_ID, ids).await?;
    let (global_indexes, global_ids): (Vec<usize>, Vec<Id>) = ids
        .iter()
        .zip(&polls)
        .enumerate()
        .filter(|(_, (_, poll))| poll.is_none())
        .map(|(index, (id, _))| (index, *id))
        .unzip();
    if global_ids.is_empty() {
        return Ok(polls);
    }
    let global_polls = ctx
        .get(PollOption::USED_AS_GLOBAL_OPTION_IN_POLL_ID, &global_ids)
        .await?;
    for (index, poll) in global_indexes.into_iter().zip(global_polls) {
        polls[index] = poll;
    }
    Ok(polls)
}

/// Returns the polls among `polls` that the viewer may see.
async fn visible_polls(
    ctx: &mut Context,
    polls: &[Option<Id>],
) -> Result<HashSet<Id>, RestrictError> {
    let poll_ids = unique(polls.iter().flatten().copied());
    Ok(ctx
        .visible(Collection::Poll, RestrictionMode::A, &poll_ids)
        .await?
        .into_iter()
        .collect())
}

/// Removes repeated ids and keeps the first occurrence of each.
fn unique(ids: impl Iterator<Item = Id>) -> Vec<Id> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::poll::test_polls::*;
    use serde_json::json;

    const ALL_OPTIONS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    /// Adds options to the polls of `meeting_with_polls`: options 1 to 4 of polls 1 to
    /// 4, the global option 5 of poll 4 and option 6 of poll 6 in meeting 2. Option 7
    /// has no poll, and the poll of option 8 does not exist.
    fn options(permissions: &[&str]) -> serde_json::Value {
        let mut data = meeting_with_polls(permissions);
        insert(
            &mut data,
            json!({
                "option/1": {"meeting_id": 1, "poll_id": 1, "yes": "1.000000"},
                "option/2": {"meeting_id": 1, "poll_id": 2, "yes": "1.000000"},
                "option/3": {"meeting_id": 1, "poll_id": 3, "yes": "1.000000"},
                "option/4": {"meeting_id": 1, "poll_id": 4, "yes": "1.000000"},
                "option/5": {"meeting_id": 1, "used_as_global_option_in_poll_id": 4},
                "option/6": {"meeting_id": 2, "poll_id": 6},
                "option/7": {"meeting_id": 1},
                "option/8": {"meeting_id": 1, "poll_id": 99},
            }),
        );
        data
    }

    #[tokio::test]
    async fn option_a_follows_poll() {
        let data = options(&["assignment.can_see"]);
        assert_visible(
            &data,
            "option",
            "A",
            &ALL_OPTIONS,
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
    async fn option_a_public_access_follows_anonymous_group() {
        let mut data = options(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(
            &data,
            "option",
            "A",
            &ALL_OPTIONS,
            &[(PUBLIC, &[1, 2, 3, 4, 5])],
        )
        .await;
    }

    #[tokio::test]
    async fn option_a_locked_meeting_hides_from_outside() {
        let mut data = options(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "option",
            "A",
            &ALL_OPTIONS,
            &[(SUPERADMIN, &[6]), (PERMITTED, &[1, 2, 3, 4, 5])],
        )
        .await;
    }

    #[tokio::test]
    async fn option_b_counts_after_publishing() {
        let data = options(&["assignment.can_see"]);
        assert_visible(
            &data,
            "option",
            "B",
            &ALL_OPTIONS,
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[1, 2, 3, 4, 5, 6]),
                (MEMBER, &[]),
                (PERMITTED, &[4, 5]),
                (ADMIN, &[1, 2, 3, 4, 5]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn option_b_managers_see_counts_in_every_state() {
        let data = options(&["assignment.can_manage"]);
        assert_visible(
            &data,
            "option",
            "B",
            &ALL_OPTIONS,
            &[(PERMITTED, &[1, 2, 3, 4, 5])],
        )
        .await;
    }

    #[tokio::test]
    async fn option_b_public_access_sees_published() {
        let mut data = options(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(&data, "option", "B", &ALL_OPTIONS, &[(PUBLIC, &[4, 5])]).await;
    }

    #[tokio::test]
    async fn option_b_managers_need_to_see_poll() {
        // poll.can_manage manages the poll of a topic, but without agenda_item.can_see
        // the user may not see the topic. Holds whether or not the topic rule grants
        // more than superadmins.
        let mut data = meeting_with(
            &["poll.can_manage"],
            json!({
                "topic/1": {"meeting_id": 1, "agenda_item_id": 1, "poll_ids": [1]},
                "agenda_item/1": {"meeting_id": 1, "content_object_id": "topic/1"},
                "poll/1": {"meeting_id": 1, "content_object_id": "topic/1", "state": "finished"},
                "option/1": {"meeting_id": 1, "poll_id": 1},
            }),
        );
        assert_visible(
            &data,
            "option",
            "B",
            &[1],
            &[(PERMITTED, &[]), (SUPERADMIN, &[1])],
        )
        .await;

        insert(&mut data, json!({"poll/1": {"state": "published"}}));
        assert_visible(&data, "option", "B", &[1], &[(PERMITTED, &[])]).await;
    }
}
