//! Restriction rules of `vote`: a vote follows the poll of its option, the poll's state
//! and whether the viewer cast it.

use super::super::context::Context;
use super::super::RestrictError;
use super::option::poll_of_options;
use super::poll::{manageable_polls, FINISHED, PUBLISHED};
use crate::models::collections::{Poll, Vote};
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users who may see the vote's poll see these fields once the poll is published. Before
/// that, only the poll's managers, the voter and the user who voted for the voter by
/// delegation see them.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let votes = votes_with_poll(ctx, &ids).await?;
        let poll_ids = unique_polls(&votes);
        let visible: HashSet<Id> = ctx
            .visible(Collection::Poll, RestrictionMode::A, &poll_ids)
            .await?
            .into_iter()
            .collect();
        let seen_polls: Vec<Id> = poll_ids
            .into_iter()
            .filter(|poll| visible.contains(poll))
            .collect();

        // All who see a published poll see its votes, and managers see the votes of
        // every poll.
        let states = ctx.get(Poll::STATE, &seen_polls).await?;
        let mut all_votes_visible = HashSet::new();
        let mut unpublished = Vec::new();
        for (poll, state) in seen_polls.into_iter().zip(states) {
            if state.as_deref() == Some(PUBLISHED) {
                all_votes_visible.insert(poll);
            } else {
                unpublished.push(poll);
            }
        }
        all_votes_visible.extend(manageable_polls(ctx, &unpublished).await?);

        let mut allowed = Vec::new();
        let mut own_candidates = Vec::new();
        for (vote, poll) in votes {
            if all_votes_visible.contains(&poll) {
                allowed.push(vote);
            } else if visible.contains(&poll) {
                own_candidates.push(vote);
            }
        }

        let user_id = ctx.user_id();
        let voters = ctx.get(Vote::USER_ID, &own_candidates).await?;
        let delegates = ctx.get(Vote::DELEGATED_USER_ID, &own_candidates).await?;
        for ((vote, voter), delegate) in own_candidates.into_iter().zip(voters).zip(delegates) {
            if voter == Some(user_id) || delegate == Some(user_id) {
                allowed.push(vote);
            }
        }
        Ok(allowed)
    })
}

/// Users who see a vote of a published poll see its token. In a finished poll only the
/// poll's managers see it, and before that no user does.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let votes = votes_with_poll(ctx, &ids).await?;
        let poll_ids = unique_polls(&votes);
        let states = ctx.get(Poll::STATE, &poll_ids).await?;
        let mut finished = Vec::new();
        let mut published = HashSet::new();
        for (poll, state) in poll_ids.into_iter().zip(states) {
            match state.as_deref() {
                Some(FINISHED) => finished.push(poll),
                Some(PUBLISHED) => {
                    published.insert(poll);
                }
                _ => {}
            }
        }
        let managed: HashSet<Id> = manageable_polls(ctx, &finished)
            .await?
            .into_iter()
            .collect();

        let mut allowed = Vec::new();
        let mut published_votes = Vec::new();
        for (vote, poll) in votes {
            if managed.contains(&poll) {
                allowed.push(vote);
            } else if published.contains(&poll) {
                published_votes.push(vote);
            }
        }
        allowed.extend(
            ctx.visible(Collection::Vote, RestrictionMode::A, &published_votes)
                .await?,
        );
        Ok(allowed)
    })
}

/// Pairs each vote with the poll of its option. Votes without an option, or whose
/// option has no poll, are left out.
async fn votes_with_poll(ctx: &mut Context, ids: &[Id]) -> Result<Vec<(Id, Id)>, RestrictError> {
    let options = ctx.get(Vote::OPTION_ID, ids).await?;
    let (vote_ids, option_ids): (Vec<Id>, Vec<Id>) = ids
        .iter()
        .zip(options)
        .filter_map(|(vote, option)| option.map(|option| (*vote, option)))
        .unzip();
    let polls = poll_of_options(ctx, &option_ids).await?;
    Ok(vote_ids
        .into_iter()
        .zip(polls)
        .filter_map(|(vote, poll)| poll.map(|poll| (vote, poll)))
        .collect())
}

/// Lists the polls of `votes`, each once.
fn unique_polls(votes: &[(Id, Id)]) -> Vec<Id> {
    let mut seen = HashSet::new();
    votes
        .iter()
        .map(|(_, poll)| *poll)
        .filter(|poll| seen.insert(*poll))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::poll::test_polls::*;
    use serde_json::json;

    const ALL_VOTES: [u64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    /// Adds to the polls of `meeting_with_polls` option N of poll N, the global option 5
    /// of poll 2, and these votes:
    ///
    /// | vote | poll (state)      | voter     | delegate  |
    /// |------|-------------------|-----------|-----------|
    /// | 1    | 2 (started)       | PERMITTED |           |
    /// | 2    | 2 (started)       | MEMBER    | PERMITTED |
    /// | 3    | 2 (started)       | OUTSIDER  |           |
    /// | 4    | 4 (published)     | OUTSIDER  |           |
    /// | 5    | 2, global option  | PERMITTED |           |
    /// | 6    | 3 (finished)      | OUTSIDER  |           |
    /// | 7    | 6 (meeting 2)     | OUTSIDER  |           |
    /// | 8    | 1 (created)       | MEMBER    |           |
    /// | 9    | no option         | PERMITTED |           |
    /// | 10   | 1 (created)       |           |           |
    fn votes(permissions: &[&str]) -> serde_json::Value {
        let mut data = meeting_with_polls(permissions);
        insert(
            &mut data,
            json!({
                "option/1": {"meeting_id": 1, "poll_id": 1},
                "option/2": {"meeting_id": 1, "poll_id": 2},
                "option/3": {"meeting_id": 1, "poll_id": 3},
                "option/4": {"meeting_id": 1, "poll_id": 4},
                "option/5": {"meeting_id": 1, "used_as_global_option_in_poll_id": 2},
                "option/6": {"meeting_id": 2, "poll_id": 6},
                "vote/1": {"meeting_id": 1, "option_id": 2, "user_id": PERMITTED, "user_token": "t1"},
                "vote/2": {"meeting_id": 1, "option_id": 2, "user_id": MEMBER, "delegated_user_id": PERMITTED},
                "vote/3": {"meeting_id": 1, "option_id": 2, "user_id": OUTSIDER},
                "vote/4": {"meeting_id": 1, "option_id": 4, "user_id": OUTSIDER},
                "vote/5": {"meeting_id": 1, "option_id": 5, "user_id": PERMITTED},
                "vote/6": {"meeting_id": 1, "option_id": 3, "user_id": OUTSIDER},
                "vote/7": {"meeting_id": 2, "option_id": 6, "user_id": OUTSIDER},
                "vote/8": {"meeting_id": 1, "option_id": 1, "user_id": MEMBER},
                "vote/9": {"meeting_id": 1, "user_id": PERMITTED},
                "vote/10": {"meeting_id": 1, "option_id": 1},
            }),
        );
        data
    }

    #[tokio::test]
    async fn vote_a_own_votes_before_publishing() {
        let data = votes(&["assignment.can_see"]);
        assert_visible(
            &data,
            "vote",
            "A",
            &ALL_VOTES,
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[1, 2, 3, 4, 5, 6, 7, 8, 10]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2, 4, 5]),
                (ADMIN, &[1, 2, 3, 4, 5, 6, 8, 10]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn vote_a_managers_see_all_votes() {
        let data = votes(&["assignment.can_manage"]);
        assert_visible(
            &data,
            "vote",
            "A",
            &ALL_VOTES,
            &[(PERMITTED, &[1, 2, 3, 4, 5, 6, 8, 10])],
        )
        .await;
    }

    #[tokio::test]
    async fn vote_a_voter_needs_to_see_poll() {
        // The member cast votes 2 and 8 but may not see the assignment.
        let data = votes(&[]);
        assert_visible(
            &data,
            "vote",
            "A",
            &ALL_VOTES,
            &[(MEMBER, &[]), (PERMITTED, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn vote_a_public_access_sees_published() {
        let mut data = votes(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(&data, "vote", "A", &ALL_VOTES, &[(PUBLIC, &[4])]).await;
    }

    #[tokio::test]
    async fn vote_a_locked_meeting_hides_from_outside() {
        let mut data = votes(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "vote",
            "A",
            &ALL_VOTES,
            &[(SUPERADMIN, &[7]), (PERMITTED, &[1, 2, 4, 5])],
        )
        .await;
    }

    #[tokio::test]
    async fn vote_b_token_after_finishing() {
        let data = votes(&["assignment.can_see"]);
        assert_visible(
            &data,
            "vote",
            "B",
            &ALL_VOTES,
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[4, 6, 7]),
                (MEMBER, &[]),
                (PERMITTED, &[4]),
                (ADMIN, &[4, 6]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn vote_b_managers_see_finished() {
        let data = votes(&["assignment.can_manage"]);
        assert_visible(&data, "vote", "B", &ALL_VOTES, &[(PERMITTED, &[4, 6])]).await;
    }

    #[tokio::test]
    async fn vote_b_public_access_sees_published() {
        let mut data = votes(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(&data, "vote", "B", &ALL_VOTES, &[(PUBLIC, &[4])]).await;
    }

    #[tokio::test]
    async fn vote_b_finished_needs_manage_not_see() {
        // poll.can_manage manages the poll of a topic. Seeing the topic is not needed
        // for a finished poll, but it is for a published one. Holds whether or not the
        // topic rule grants more than superadmins.
        let mut data = meeting_with(
            &["poll.can_manage"],
            json!({
                "topic/1": {"meeting_id": 1, "agenda_item_id": 1, "poll_ids": [1]},
                "agenda_item/1": {"meeting_id": 1, "content_object_id": "topic/1"},
                "poll/1": {"meeting_id": 1, "content_object_id": "topic/1", "state": "finished"},
                "option/1": {"meeting_id": 1, "poll_id": 1},
                "vote/1": {"meeting_id": 1, "option_id": 1, "user_id": MEMBER},
            }),
        );
        assert_visible(
            &data,
            "vote",
            "B",
            &[1],
            &[(PERMITTED, &[1]), (MEMBER, &[])],
        )
        .await;

        insert(&mut data, json!({"poll/1": {"state": "published"}}));
        assert_visible(&data, "vote", "B", &[1], &[(PERMITTED, &[])]).await;
    }
}
