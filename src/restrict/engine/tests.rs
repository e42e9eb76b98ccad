use crate::restrict::rules::testing::{restricted, visible_ids};
use serde_json::json;

fn data() -> serde_json::Value {
    json!({
        "organization/1": {"id": 1, "name": "Org", "limit_of_users": 5, "gender_ids": [1, 2],
            "organization_tag_ids": [3], "vote_decrypt_public_main_key": "k", "enable_anonymous": false},
        "gender/1": {"id": 1, "name": "female", "organization_id": 1},
        "gender/2": {"id": 2, "name": "male", "organization_id": 1},
        "organization_tag/3": {"id": 3, "name": "red", "organization_id": 1},
        "user/1": {"id": 1, "organization_management_level": "superadmin"},
        "user/2": {"id": 2, "organization_management_level": "can_manage_users"},
        "user/3": {"id": 3},
        "theme/1": {"id": 1, "name": "standard"}
    })
}

#[tokio::test]
async fn organization_modes_follow_management_level() {
    let data = data();
    // Mode A: everyone, mode B: logged in, mode C: user managers, mode D: superadmins.
    assert_eq!(
        visible_ids(&data, 0, "organization", "A", &[1]).await,
        vec![1]
    );
    assert_eq!(
        visible_ids(&data, 0, "organization", "B", &[1]).await,
        Vec::<u64>::new()
    );
    assert_eq!(
        visible_ids(&data, 3, "organization", "B", &[1]).await,
        vec![1]
    );
    assert_eq!(
        visible_ids(&data, 3, "organization", "C", &[1]).await,
        Vec::<u64>::new()
    );
    assert_eq!(
        visible_ids(&data, 2, "organization", "C", &[1]).await,
        vec![1]
    );
    assert_eq!(
        visible_ids(&data, 2, "organization", "D", &[1]).await,
        Vec::<u64>::new()
    );
    assert_eq!(
        visible_ids(&data, 1, "organization", "D", &[1]).await,
        vec![1]
    );
}

#[tokio::test]
async fn hidden_values_are_removed() {
    let got = restricted(
        &data(),
        3,
        &["organization/1/name", "organization/1/limit_of_users"],
    )
    .await;
    assert_eq!(got, json!({"organization/1/name": "Org"}));
}

#[tokio::test]
async fn relation_lists_keep_only_visible_targets() {
    // organization_tag is visible to logged-in users only, gender to everyone.
    let keys = [
        "organization/1/organization_tag_ids",
        "organization/1/gender_ids",
    ];
    let public = restricted(&data(), 0, &keys).await;
    assert_eq!(
        public,
        json!({"organization/1/organization_tag_ids": [], "organization/1/gender_ids": [1, 2]})
    );
    let member = restricted(&data(), 3, &keys).await;
    assert_eq!(member["organization/1/organization_tag_ids"], json!([3]));
}
