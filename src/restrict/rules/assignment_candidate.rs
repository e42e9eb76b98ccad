//! Restriction rules of `assignment_candidate`: a candidate follows its assignment.

use super::super::context::Context;
use super::super::RestrictError;
use crate::models::collections::AssignmentCandidate;
use crate::models::{Collection, Field, Id, Model, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Users who may see the candidate's assignment see all its fields.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        visible_through(
            ctx,
            AssignmentCandidate::ASSIGNMENT_ID,
            &ids,
            Collection::Assignment,
            RestrictionMode::A,
        )
        .await
    })
}

/// Returns the ids whose object in `relation` the viewer may see in `target` and
/// `mode`, asking that rule once for all ids. Objects without the relation are hidden.
pub(super) async fn visible_through<M: Model>(
    ctx: &mut Context,
    relation: Field<M, Id>,
    ids: &[Id],
    target: Collection,
    mode: RestrictionMode,
) -> Result<Vec<Id>, RestrictError> {
    let related = ctx.get(relation, ids).await?;
    let related_ids: Vec<Id> = related.iter().flatten().copied().collect();
    let visible: HashSet<Id> = ctx
        .visible(target, mode, &related_ids)
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .zip(related)
        .filter(|(_, related)| related.is_some_and(|id| visible.contains(&id)))
        .map(|(id, _)| *id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::assignment::test_meeting::*;
    use serde_json::json;

    fn candidates(permissions: &[&str]) -> serde_json::Value {
        meeting_with(
            permissions,
            json!({
                "assignment/7": {"meeting_id": 1, "candidate_ids": [1, 2]},
                "assignment/8": {"meeting_id": 2, "candidate_ids": [3]},
                "assignment_candidate/1": {"assignment_id": 7, "meeting_id": 1},
                "assignment_candidate/2": {"assignment_id": 7, "meeting_id": 1},
                "assignment_candidate/3": {"assignment_id": 8, "meeting_id": 2},
                "assignment_candidate/4": {"meeting_id": 1},
            }),
        )
    }

    #[tokio::test]
    async fn assignment_candidate_a_follows_assignment() {
        let data = candidates(&["assignment.can_see"]);
        assert_visible(
            &data,
            "assignment_candidate",
            "A",
            &[1, 2, 3, 4],
            &[
                (PUBLIC, &[]),
                (SUPERADMIN, &[1, 2, 3]),
                (MEMBER, &[]),
                (PERMITTED, &[1, 2]),
                (ADMIN, &[1, 2]),
                (COMMITTEE_MANAGER, &[]),
                (USER_MANAGER, &[]),
                (OUTSIDER, &[]),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn assignment_candidate_a_hidden_without_assignment_can_see() {
        let data = candidates(&["motion.can_see"]);
        assert_visible(
            &data,
            "assignment_candidate",
            "A",
            &[1],
            &[(PERMITTED, &[])],
        )
        .await;
    }

    #[tokio::test]
    async fn assignment_candidate_a_public_access() {
        let mut data = candidates(&["assignment.can_see"]);
        enable_public_access(&mut data);
        assert_visible(
            &data,
            "assignment_candidate",
            "A",
            &[1, 3],
            &[(PUBLIC, &[1])],
        )
        .await;
    }

    #[tokio::test]
    async fn assignment_candidate_a_locked_meeting_hides_from_outside() {
        let mut data = candidates(&["assignment.can_see"]);
        insert(
            &mut data,
            json!({"meeting/1": {"locked_from_inside": true}}),
        );
        assert_visible(
            &data,
            "assignment_candidate",
            "A",
            &[1, 3],
            &[(SUPERADMIN, &[3]), (PERMITTED, &[1])],
        )
        .await;
    }
}
