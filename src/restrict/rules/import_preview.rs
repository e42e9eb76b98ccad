//! Restriction rules of `import_preview`: data of an import that the backend stores
//! until the user confirms it.

/// Nobody sees an import preview through the autoupdate service, not even superadmins.
pub use super::never as mode_a;

#[cfg(test)]
mod tests {
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::json;

    #[tokio::test]
    async fn import_preview_a_never_visible() {
        let data = json!({
            "user/1": {"organization_management_level": "superadmin"},
            "user/2": {"organization_management_level": "can_manage_organization"},
            "user/3": {},
            "import_preview/1": {"name": "account", "state": "done", "created": 1}
        });
        for user_id in [0, 1, 2, 3] {
            assert!(
                visible_ids(&data, user_id, "import_preview", "A", &[1])
                    .await
                    .is_empty(),
                "import_preview mode A for user {user_id}"
            );
        }
    }
}
