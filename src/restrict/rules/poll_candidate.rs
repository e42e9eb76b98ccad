//! Restriction rules of `poll_candidate`: a candidate follows its list of candidates.

use super::super::context::Context;
use super::super::RestrictError;
use super::assignment_candidate::visible_through;
use crate::models::collections::PollCandidate;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;

/// Users who may see the candidate's list see all its fields.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        visible_through(
            ctx,
            PollCandidate::POLL_CANDIDATE_LIST_ID,
            &ids,
            Collection::PollCandidateList,
            RestrictionMode::A,
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::super::poll::test_polls::*;
    use serde_json::json;

    /// Adds option 1 of poll 1 with list 23 and option 6 of poll 6 in meeting 2 with list
    /// 24. Candidate 42 is on list 23 and 43 on list 24. Candidate 44 has no list, and the
    /// list of candidate 45 does not exist.
    fn candidates(permissions: &[&str]) -> serde_json::Value {
        let mut data = meeting_with_polls(permissions);
        insert(
            &mut data,
            json!({
                "option/1": {"meeting_id": 1, "poll_id": 1, "content_object_id": "poll_candidate_list/23"},
                "option/6": {"meeting_id": 2, "poll_id": 6, "content_object_id": "poll_candidate_list/24"},
                "poll_candidate_list/23": {"meeting_id": 1, "option_id": 1, "poll_candidate_ids": [42]},
                "poll_candidate_list/24": {"meeting_id": 2, "option_id": 6, "poll_candidate_ids": [43]},
                "poll_candidate/42": {"meeting_id": 1, "poll_candidate_list_id": 23, "user_id": MEMBER},
                "poll_candidate/43": {"meeting_id": 2, "poll_candidate_list_id": 24, "user_id": OUTSIDER},
                "poll_candidate/44": {"meeting_id": 1, "user_id": MEMBER},
                "poll_candidate/45": {"meeting_id": 1, "poll_candidate_list_id": 99},
            }),
        );
        data
    }

    #[tokio::test]
    async fn poll_candidate_a_follows_list() {
        let data = candidates(&["assignment.can_see"]);
        assert_visible(
            &data,
            "poll_candidate",
            "A",
            &[42, 43, 44, 45],
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[42, 43]),
                (MEMBER, &[]),
                (PERMITTED, &[42]),
                (ADMIN, &[42]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_candidate_a_public_access() {
        let mut data = candidates(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(&data, "poll_candidate", "A", &[42, 43], &[(PUBLIC, &[42])]).await;
    }

    #[tokio::test]
    async fn poll_candidate_a_locked_meeting() {
        let mut data = candidates(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "poll_candidate",
            "A",
            &[42, 43],
            &[(SUPERADMIN, &[43]), (PERMITTED, &[42])],
        )
        .await;
    }
}
