//! The wifi_access_data slide, which projects a meeting.

use super::super::{Fetch, Projection, SlideError};
use crate::models::collections::Meeting;
use serde_json::{Map, Value as Json};

/// Renders the meeting's WLAN access data; fields that are empty are left out.
pub async fn wifi_access_data(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let fields = [
        ("users_pdf_wlan_ssid", Meeting::USERS_PDF_WLAN_SSID),
        ("users_pdf_wlan_password", Meeting::USERS_PDF_WLAN_PASSWORD),
        (
            "users_pdf_wlan_encryption",
            Meeting::USERS_PDF_WLAN_ENCRYPTION,
        ),
    ];
    let ids: Vec<_> = fields.iter().map(|(_, field)| field.id()).collect();
    let meeting = fetch.object(p7on.content_object_id, &ids).await?;

    let mut out = Map::new();
    for (name, field) in fields {
        let value = meeting.get_or_default(field)?;
        if !value.is_empty() {
            out.insert(name.into(), Json::String(value));
        }
    }
    Ok(Json::Object(out))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{render, Projection};
    use serde_json::json;

    fn wifi() -> Projection {
        let mut p7on = super::super::testing::slide_projection("meeting/1");
        p7on.kind = "wifi_access_data".into();
        p7on
    }

    #[tokio::test]
    async fn shows_all_access_data() {
        let data = json!({"meeting/1": {
            "users_pdf_wlan_encryption": "WPA",
            "users_pdf_wlan_password": "Super&StrongP455Word",
            "users_pdf_wlan_ssid": "RandomWiWi",
        }});
        assert_eq!(
            render(&data, &wifi()).await.unwrap(),
            json!({
                "users_pdf_wlan_encryption": "WPA",
                "users_pdf_wlan_password": "Super&StrongP455Word",
                "users_pdf_wlan_ssid": "RandomWiWi",
            })
        );
    }

    #[tokio::test]
    async fn leaves_out_a_missing_password() {
        let data = json!({"meeting/1": {
            "users_pdf_wlan_encryption": "WPA",
            "users_pdf_wlan_ssid": "RandomWiWi",
        }});
        assert_eq!(
            render(&data, &wifi()).await.unwrap(),
            json!({"users_pdf_wlan_encryption": "WPA", "users_pdf_wlan_ssid": "RandomWiWi"})
        );
    }

    #[tokio::test]
    async fn missing_meeting_fails() {
        assert!(render(&json!({}), &wifi()).await.is_err());
    }
}
