//! Restriction rules of `action_worker`: the progress of a long-running backend action.

use super::super::context::Context;
use super::super::RestrictError;
use crate::models::collections::ActionWorker;
use crate::models::Id;
use futures::future::BoxFuture;

/// Only the user who started the action (`action_worker/user_id`) sees it. Public access
/// sees none.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let viewer = ctx.user_id();
        if viewer == 0 {
            return Ok(Vec::new());
        }
        let starters = ctx.get(ActionWorker::USER_ID, &ids).await?;
        Ok(ids
            .into_iter()
            .zip(starters)
            .filter(|(_, starter)| {
                starter.is_some_and(|starter| u64::try_from(starter) == Ok(viewer))
            })
            .map(|(id, _)| id)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::json;

    #[tokio::test]
    async fn action_worker_a_only_for_its_starter() {
        let data = json!({
            "user/1": {"organization_management_level": "superadmin"},
            "user/2": {"organization_management_level": "can_manage_organization"},
            "user/5": {},
            "action_worker/1": {"name": "import", "user_id": 5},
            "action_worker/2": {"name": "export", "user_id": 1},
            "action_worker/3": {"name": "anonymous", "user_id": 0},
            "action_worker/4": {"name": "no user"}
        });
        let cases: [(&str, Id, &[Id]); 4] = [
            ("public access", 0, &[]),
            ("superadmin", 1, &[2]),
            ("organization manager", 2, &[]),
            ("user", 5, &[1]),
        ];
        for (viewer, user_id, expected) in cases {
            assert_eq!(
                visible_ids(&data, user_id, "action_worker", "A", &[1, 2, 3, 4]).await,
                expected.to_vec(),
                "action_worker mode A for {viewer} (user {user_id})"
            );
        }
    }
}
