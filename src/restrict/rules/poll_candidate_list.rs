//! Restriction rules of `poll_candidate_list`: a list of candidates follows the option it
//! belongs to.

use super::super::context::Context;
use super::super::RestrictError;
use super::assignment_candidate::visible_through;
use crate::models::collections::PollCandidateList;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;

/// Users who may see the list's option (mode A) see all its fields.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        visible_through(
            ctx,
            PollCandidateList::OPTION_ID,
            &ids,
            Collection::Option,
            RestrictionMode::A,
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::super::poll::test_polls::*;
    use serde_json::json;

    /// Adds to the polls of `meeting_with_polls` option 1 of poll 1, option 6 of poll 6
    /// in meeting 2, and list 23 of option 1 and list 24 of option 6. List 25 has no
    /// option, and the option of list 26 does not exist.
    fn candidate_lists(permissions: &[&str]) -> serde_json::Value {
        let mut data = meeting_with_polls(permissions);
        insert(
            &mut data,
            json!({
                "option/1": {"meeting_id": 1, "poll_id": 1, "content_object_id": "poll_candidate_list/23"},
                "option/6": {"meeting_id": 2, "poll_id": 6, "content_object_id": "poll_candidate_list/24"},
                "poll_candidate_list/23": {"meeting_id": 1, "option_id": 1},
                "poll_candidate_list/24": {"meeting_id": 2, "option_id": 6},
                "poll_candidate_list/25": {"meeting_id": 1},
                "poll_candidate_list/26": {"meeting_id": 1, "option_id": 99},
            }),
        );
        data
    }

    #[tokio::test]
    async fn poll_candidate_list_a_follows_option() {
        let data = candidate_lists(&["assignment.can_see"]);
        assert_visible(
            &data,
            "poll_candidate_list",
            "A",
            &[23, 24, 25, 26],
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[23, 24]),
                (MEMBER, &[]),
                (PERMITTED, &[23]),
                (ADMIN, &[23]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_candidate_list_a_public_access() {
        let mut data = candidate_lists(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(
            &data,
            "poll_candidate_list",
            "A",
            &[23, 24],
            &[(PUBLIC, &[23])],
        )
        .await;
    }

    #[tokio::test]
    async fn poll_candidate_list_a_locked_meeting() {
        let mut data = candidate_lists(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "poll_candidate_list",
            "A",
            &[23, 24],
            &[(SUPERADMIN, &[24]), (PERMITTED, &[23])],
        )
        .await;
    }
}
