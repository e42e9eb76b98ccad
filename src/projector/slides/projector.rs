//! The projector_countdown and projector_message slides.

use super::super::{Fetch, Projection, SlideError};
use crate::models::collections::{Meeting, ProjectorCountdown, ProjectorMessage};
use serde_json::{json, Value as Json};

/// Renders a countdown: its time, whether it runs, and the meeting's warning time.
pub async fn projector_countdown(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    use ProjectorCountdown as C;
    let countdown = fetch
        .object(
            p7on.content_object_id,
            &[
                C::DESCRIPTION.id(),
                C::RUNNING.id(),
                C::DEFAULT_TIME.id(),
                C::COUNTDOWN_TIME.id(),
                C::MEETING_ID.id(),
            ],
        )
        .await?;
    let meeting_id = countdown.get_or_default(C::MEETING_ID)?;
    let warning_time = fetch
        .get_if_exists(Meeting::PROJECTOR_COUNTDOWN_WARNING_TIME, meeting_id)
        .await?
        .unwrap_or(0);

    Ok(json!({
        "description": countdown.get_or_default(C::DESCRIPTION)?,
        "running": countdown.get_or_default(C::RUNNING)?,
        "default_time": countdown.json(C::DEFAULT_TIME.id())?,
        "countdown_time": countdown.json(C::COUNTDOWN_TIME.id())?,
        "warning_time": warning_time,
    }))
}

/// Renders a message.
pub async fn projector_message(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let message = fetch
        .object(p7on.content_object_id, &[ProjectorMessage::MESSAGE.id()])
        .await?;
    Ok(json!({ "message": message.get_or_default(ProjectorMessage::MESSAGE)? }))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{render, slide_projection};
    use serde_json::json;

    #[tokio::test]
    async fn countdown_shows_times_and_warning_time() {
        let data = json!({
            "projector_countdown/1": {
                "description": "description text",
                "running": true,
                "countdown_time": 200.3445678,
                "default_time": 0,
                "meeting_id": 1,
            },
            "meeting/1": {"projector_countdown_warning_time": 100},
        });
        let content = render(&data, &slide_projection("projector_countdown/1")).await;
        assert_eq!(
            content.unwrap(),
            json!({
                "countdown_time": 200.3445678,
                "default_time": 0,
                "description": "description text",
                "running": true,
                "warning_time": 100,
            })
        );
    }

    #[tokio::test]
    async fn countdown_without_values_shows_defaults() {
        let data = json!({
            "projector_countdown/1": {"meeting_id": 1},
            "meeting/1": {},
        });
        let content = render(&data, &slide_projection("projector_countdown/1")).await;
        assert_eq!(
            content.unwrap(),
            json!({
                "countdown_time": null,
                "default_time": null,
                "description": "",
                "running": false,
                "warning_time": 0,
            })
        );
    }

    #[tokio::test]
    async fn countdown_of_missing_meeting_fails() {
        let data = json!({"projector_countdown/1": {"meeting_id": 1}});
        let content = render(&data, &slide_projection("projector_countdown/1")).await;
        assert!(content.is_err());
    }

    #[tokio::test]
    async fn message_shows_text() {
        let data = json!({"projector_message/1": {"message": "Shine on you crazy diamond"}});
        let content = render(&data, &slide_projection("projector_message/1")).await;
        assert_eq!(
            content.unwrap(),
            json!({"message": "Shine on you crazy diamond"})
        );
    }

    #[tokio::test]
    async fn missing_message_fails() {
        let content = render(&json!({}), &slide_projection("projector_message/1")).await;
        assert!(content.is_err());
    }
}
