//! The user slide and the title information of users.
//!
//! `UserName` is public so that other slides that show users (speakers, submitters,
//! candidates) can name them the same way.

use super::super::{Fetch, Object, Projection, SlideError};
use crate::models::collections::{MeetingUser, StructureLevel, User};
use crate::models::{Collection, FieldId, Fqid, Id};
use serde_json::{json, Value as Json};

/// The user fields that `UserName::from_object` reads.
pub const USER_NAME_FIELDS: [FieldId; 5] = [
    User::USERNAME.id(),
    User::TITLE.id(),
    User::FIRST_NAME.id(),
    User::LAST_NAME.id(),
    User::MEETING_USER_IDS.id(),
];

/// The parts of a user's name that slides show, with the user's structure levels in
/// one meeting.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserName {
    pub username: String,
    pub title: String,
    pub first_name: String,
    pub last_name: String,
    /// The names of the user's structure levels in the meeting, joined by ", ". Empty
    /// without a meeting.
    pub structure_level: String,
}

impl UserName {
    /// Reads the name of user `id` and, when `meeting_id` is not 0, the user's structure
    /// levels in that meeting.
    ///
    /// Fails when the user does not exist or has neither a first name, a last name nor a
    /// username.
    pub async fn load(
        fetch: &mut Fetch<'_>,
        id: Id,
        meeting_id: Id,
    ) -> Result<UserName, SlideError> {
        let user = fetch
            .object(Fqid::new(Collection::User, id), &USER_NAME_FIELDS)
            .await?;
        UserName::from_object(fetch, &user, meeting_id).await
    }

    /// Like `load` for many users, in the order of `ids`, with their fields read in one
    /// call.
    pub async fn load_many(
        fetch: &mut Fetch<'_>,
        ids: &[Id],
        meeting_id: Id,
    ) -> Result<Vec<UserName>, SlideError> {
        let users = fetch
            .objects(Collection::User, ids, &USER_NAME_FIELDS)
            .await?;
        let mut names = Vec::with_capacity(users.len());
        for user in &users {
            names.push(UserName::from_object(fetch, user, meeting_id).await?);
        }
        Ok(names)
    }

    /// Builds the name from a user read with `USER_NAME_FIELDS`.
    pub async fn from_object(
        fetch: &mut Fetch<'_>,
        user: &Object,
        meeting_id: Id,
    ) -> Result<UserName, SlideError> {
        let mut name = UserName {
            username: user.get_or_default(User::USERNAME)?,
            title: user.get_or_default(User::TITLE)?,
            first_name: user.get_or_default(User::FIRST_NAME)?,
            last_name: user.get_or_default(User::LAST_NAME)?,
            structure_level: String::new(),
        };
        if name.first_name.is_empty() && name.last_name.is_empty() && name.username.is_empty() {
            return Err(SlideError::invalid(format!(
                "{} has neither a first_name, a last_name nor a username",
                user.fqid()
            )));
        }

        if meeting_id == 0 {
            return Ok(name);
        }
        let Some(meeting_user_ids) = user.get(User::MEETING_USER_IDS)? else {
            return Ok(name);
        };
        name.structure_level = structure_level(fetch, &meeting_user_ids, meeting_id).await?;
        Ok(name)
    }

    /// Returns "title first_name last_name" without the empty parts. A user without
    /// first and last name is shown by the username alone, without the title.
    pub fn short_name(&self) -> String {
        let names: Vec<&str> = [self.first_name.as_str(), self.last_name.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect();
        if names.is_empty() {
            return self.username.clone();
        }
        if self.title.is_empty() {
            names.join(" ")
        } else {
            format!("{} {}", self.title, names.join(" "))
        }
    }

    /// Returns the short name followed by the structure levels in brackets, if there
    /// are any.
    pub fn representation(&self) -> String {
        let name = self.short_name();
        if self.structure_level.is_empty() {
            name
        } else {
            format!("{name} ({})", self.structure_level)
        }
    }
}

/// Joins the names of the structure levels of the first meeting user in
/// `meeting_user_ids` that belongs to the meeting. A missing structure level counts as
/// an empty name.
async fn structure_level(
    fetch: &mut Fetch<'_>,
    meeting_user_ids: &[Id],
    meeting_id: Id,
) -> Result<String, SlideError> {
    let meetings = fetch
        .get_many(MeetingUser::MEETING_ID, meeting_user_ids)
        .await?;
    let Some(meeting_user_id) = meeting_user_ids
        .iter()
        .zip(meetings)
        .find(|(_, meeting)| *meeting == Some(meeting_id))
        .map(|(id, _)| *id)
    else {
        return Ok(String::new());
    };

    let level_ids = fetch
        .get_if_exists(MeetingUser::STRUCTURE_LEVEL_IDS, meeting_user_id)
        .await?
        .unwrap_or_default();
    let names: Vec<String> = fetch
        .get_many(StructureLevel::NAME, &level_ids)
        .await?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    Ok(names.join(", "))
}

/// Renders a user: the name with the structure levels in the projection's meeting.
pub async fn user(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let name = UserName::load(fetch, p7on.content_object_id.id, p7on.meeting_id).await?;
    Ok(json!({ "user": name.representation() }))
}

/// Describes a user for slides that list it, with the structure levels in the given
/// meeting. The item number is not used.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    _item_number: &str,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let name = UserName::load(fetch, fqid.id, meeting_id).await?;
    Ok(json!({
        "collection": "user",
        "content_object_id": fqid.to_string(),
        "username": name.representation(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::super::SlideError;
    use super::super::testing::{datastore, fetch, render, slide_projection, Projection};
    use crate::models::Fqid;
    use serde_json::{json, Value as Json};

    fn user_in_meeting(meeting_id: u64) -> Projection {
        Projection {
            meeting_id,
            ..slide_projection("user/1")
        }
    }

    async fn title_information(data: &Json, meeting_id: u64) -> Result<Json, SlideError> {
        let store = datastore(data);
        let fqid = Fqid::parse("user/1").unwrap();
        super::title_information(&mut fetch(&store), fqid, "", meeting_id).await
    }

    #[tokio::test]
    async fn short_name_from_name_parts() {
        let cases = [
            ("only username", json!({"username": "jonny123"}), "jonny123"),
            ("only first name", json!({"first_name": "Jonny"}), "Jonny"),
            ("only last name", json!({"last_name": "Bo"}), "Bo"),
            (
                "first and last name",
                json!({"first_name": "Jonny", "last_name": "Bo"}),
                "Jonny Bo",
            ),
            (
                "title, first and last name",
                json!({"title": "Dr.", "first_name": "Jonny", "last_name": "Bo"}),
                "Dr. Jonny Bo",
            ),
            (
                "title, names and username",
                json!({"username": "jonny123", "title": "Dr.", "first_name": "Jonny", "last_name": "Bo"}),
                "Dr. Jonny Bo",
            ),
            (
                "title and username",
                json!({"username": "jonny123", "title": "Dr."}),
                "jonny123",
            ),
            (
                "title and last name",
                json!({"username": "jonny123", "title": "Dr.", "last_name": "Bo"}),
                "Dr. Bo",
            ),
        ];
        for (case, fields, expected) in cases {
            let data = json!({ "user/1": fields });
            let content = render(&data, &user_in_meeting(222)).await;
            assert_eq!(content.unwrap(), json!({ "user": expected }), "{case}");
        }
    }

    #[tokio::test]
    async fn without_meeting_has_no_structure_level() {
        let data = json!({
            "user/1": {
                "username": "jonny123",
                "title": "Dr.",
                "first_name": "Jonny",
                "last_name": "Bo",
                "meeting_user_ids": [10],
            },
            "meeting_user/10": {"meeting_id": 1, "structure_level_ids": [1]},
            "structure_level/1": {"name": "Level A"},
        });
        assert_eq!(
            render(&data, &user_in_meeting(0)).await.unwrap(),
            json!({"user": "Dr. Jonny Bo"})
        );
    }

    #[tokio::test]
    async fn without_any_name_fails() {
        let data = json!({"user/1": {}});
        let error = render(&data, &user_in_meeting(222)).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("has neither a first_name, a last_name nor a username"),
            "{error}"
        );

        let data = json!({"user/1": {"title": "Dr."}});
        assert!(render(&data, &user_in_meeting(222)).await.is_err());
    }

    #[tokio::test]
    async fn missing_user_fails() {
        let data = json!({"user/2": {"username": "other"}});
        let error = render(&data, &user_in_meeting(1)).await.unwrap_err();
        assert!(
            matches!(error, SlideError::DoesNotExist(fqid) if fqid.to_string() == "user/1"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn shows_structure_levels_of_the_meeting() {
        let data = json!({
            "user/1": {"first_name": "Jonny", "last_name": "Bo", "meeting_user_ids": [10, 11]},
            "meeting_user/10": {"meeting_id": 2, "structure_level_ids": [3]},
            "meeting_user/11": {"meeting_id": 1, "structure_level_ids": [2, 1]},
            "structure_level/1": {"name": "Level A"},
            "structure_level/2": {"name": "Level B"},
            "structure_level/3": {"name": "Level C"},
        });
        assert_eq!(
            render(&data, &user_in_meeting(1)).await.unwrap(),
            json!({"user": "Jonny Bo (Level B, Level A)"})
        );
        assert_eq!(
            render(&data, &user_in_meeting(2)).await.unwrap(),
            json!({"user": "Jonny Bo (Level C)"})
        );
        assert_eq!(
            render(&data, &user_in_meeting(3)).await.unwrap(),
            json!({"user": "Jonny Bo"})
        );
    }

    #[tokio::test]
    async fn meeting_user_without_structure_levels() {
        let data = json!({
            "user/1": {"username": "jonny123", "meeting_user_ids": [10]},
            "meeting_user/10": {"meeting_id": 1},
        });
        assert_eq!(
            render(&data, &user_in_meeting(1)).await.unwrap(),
            json!({"user": "jonny123"})
        );
    }

    #[tokio::test]
    async fn missing_meeting_user_is_skipped() {
        let data = json!({
            "user/1": {"username": "jonny123", "meeting_user_ids": [10, 11]},
            "meeting_user/11": {"meeting_id": 1, "structure_level_ids": [1]},
            "structure_level/1": {"name": "Level A"},
        });
        assert_eq!(
            render(&data, &user_in_meeting(1)).await.unwrap(),
            json!({"user": "jonny123 (Level A)"})
        );
    }

    #[tokio::test]
    async fn missing_structure_level_has_empty_name() {
        let data = json!({
            "user/1": {"username": "jonny123", "meeting_user_ids": [10]},
            "meeting_user/10": {"meeting_id": 1, "structure_level_ids": [1, 2]},
            "structure_level/2": {"name": "Level B"},
        });
        assert_eq!(
            render(&data, &user_in_meeting(1)).await.unwrap(),
            json!({"user": "jonny123 (, Level B)"})
        );
    }

    #[tokio::test]
    async fn wrongly_typed_name_fails() {
        let data = json!({"user/1": {"username": 5}});
        let error = render(&data, &user_in_meeting(1)).await.unwrap_err();
        assert!(matches!(error, SlideError::Value { .. }), "{error}");
    }

    #[tokio::test]
    async fn title_information_names_the_user() {
        let data = json!({
            "user/1": {
                "username": "jonny123",
                "title": "Dr.",
                "first_name": "Jonny",
                "last_name": "Bo",
                "meeting_user_ids": [10],
            },
            "meeting_user/10": {"meeting_id": 1, "structure_level_ids": [1]},
            "structure_level/1": {"name": "Level A"},
        });
        assert_eq!(
            title_information(&data, 1).await.unwrap(),
            json!({
                "collection": "user",
                "content_object_id": "user/1",
                "username": "Dr. Jonny Bo (Level A)",
            })
        );
        assert_eq!(
            title_information(&data, 2).await.unwrap(),
            json!({
                "collection": "user",
                "content_object_id": "user/1",
                "username": "Dr. Jonny Bo",
            })
        );
    }

    #[tokio::test]
    async fn title_information_of_missing_user_fails() {
        let data = json!({"user/2": {"username": "other"}});
        assert!(title_information(&data, 1).await.is_err());

        let data = json!({"user/1": {}});
        assert!(title_information(&data, 1).await.is_err());
    }
}
