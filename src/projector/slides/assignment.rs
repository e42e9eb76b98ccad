//! The assignment slide and the title information of assignments.

use super::super::{Fetch, Projection, SlideError};
use super::user::UserName;
use crate::models::collections::{Assignment, AssignmentCandidate, MeetingUser};
use crate::models::{Collection, Fqid, Id};
use serde_json::{json, Value as Json};

/// Renders an election: title, description, whether the candidates are numbered, and
/// the names of the candidates sorted by their weight.
pub async fn assignment(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let assignment = fetch
        .object(
            p7on.content_object_id,
            &[
                Assignment::TITLE.id(),
                Assignment::DESCRIPTION.id(),
                Assignment::NUMBER_POLL_CANDIDATES.id(),
                Assignment::CANDIDATE_IDS.id(),
            ],
        )
        .await?;

    let candidate_ids = assignment.get_or_default(Assignment::CANDIDATE_IDS)?;
    let candidates = fetch
        .objects(
            Collection::AssignmentCandidate,
            &candidate_ids,
            &[
                AssignmentCandidate::MEETING_USER_ID.id(),
                AssignmentCandidate::WEIGHT.id(),
            ],
        )
        .await?;
    let mut weighted = Vec::with_capacity(candidates.len());
    for candidate in &candidates {
        let weight = candidate.get_or_default(AssignmentCandidate::WEIGHT)?;
        // NOTE: models.yml allows a candidate without a meeting user. Such a candidate
        // fails the slide instead of being left out.
        let meeting_user_id = candidate
            .get(AssignmentCandidate::MEETING_USER_ID)?
            .ok_or_else(|| {
                SlideError::invalid(format!("{} has no meeting user", candidate.fqid()))
            })?;
        weighted.push((weight, meeting_user_id));
    }
    // A stable sort keeps candidates of equal weight in the order of `candidate_ids`.
    weighted.sort_by_key(|(weight, _)| *weight);

    let meeting_user_ids: Vec<Id> = weighted.iter().map(|(_, id)| *id).collect();
    let meeting_users = fetch
        .objects(
            Collection::MeetingUser,
            &meeting_user_ids,
            &[MeetingUser::USER_ID.id()],
        )
        .await?;
    let mut user_ids = Vec::with_capacity(meeting_users.len());
    for meeting_user in &meeting_users {
        let user_id = meeting_user
            .get(MeetingUser::USER_ID)?
            .ok_or_else(|| SlideError::invalid(format!("{} has no user", meeting_user.fqid())))?;
        user_ids.push(user_id);
    }
    let names: Vec<String> = UserName::load_many(fetch, &user_ids, p7on.meeting_id)
        .await?
        .iter()
        .map(UserName::representation)
        .collect();

    Ok(json!({
        "title": assignment.get_or_default(Assignment::TITLE)?,
        "description": assignment.get_or_default(Assignment::DESCRIPTION)?,
        "number_poll_candidates": assignment.get_or_default(Assignment::NUMBER_POLL_CANDIDATES)?,
        // An election without candidates gives `null`, not an empty list.
        "candidates": if names.is_empty() { Json::Null } else { json!(names) },
    }))
}

/// Describes an assignment for slides that list it. An empty `item_number` is replaced
/// by the number of the assignment's agenda item.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    item_number: &str,
    _meeting_id: Id,
) -> Result<Json, SlideError> {
    let assignment = fetch
        .object(
            fqid,
            &[Assignment::TITLE.id(), Assignment::AGENDA_ITEM_ID.id()],
        )
        .await?;
    let number = super::item_number_or_agenda(
        fetch,
        item_number,
        assignment.get(Assignment::AGENDA_ITEM_ID)?,
    )
    .await?;
    Ok(json!({
        "collection": "assignment",
        "content_object_id": fqid.to_string(),
        "title": assignment.get_or_default(Assignment::TITLE)?,
        "agenda_item_number": number,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{datastore, fetch, render, slide_projection};
    use super::super::SlideError;
    use crate::models::Fqid;
    use serde_json::{json, Value as Json};

    /// Returns an election with two candidates whose weights reverse their order.
    fn election() -> Json {
        json!({
            "assignment/1": {
                "title": "title 1",
                "description": "description 1",
                "number_poll_candidates": true,
                "candidate_ids": [10, 11],
            },
            "assignment_candidate/10": {"meeting_user_id": 1100, "weight": 10},
            "assignment_candidate/11": {"meeting_user_id": 1110, "weight": 3},
            "meeting_user/1100": {"user_id": 110},
            "meeting_user/1110": {"user_id": 111},
            "user/110": {"username": "user110"},
            "user/111": {"username": "user111"},
        })
    }

    fn set(data: &mut Json, fqid: &str, field: &str, value: Json) {
        data[fqid][field] = value;
    }

    async fn render_assignment(data: &Json) -> Result<Json, SlideError> {
        render(data, &slide_projection("assignment/1")).await
    }

    #[tokio::test]
    async fn complete_election_sorts_candidates_by_weight() {
        let mut p7on = slide_projection("assignment/1");
        p7on.meeting_id = 0;
        assert_eq!(
            render(&election(), &p7on).await.unwrap(),
            json!({
                "title": "title 1",
                "description": "description 1",
                "number_poll_candidates": true,
                "candidates": ["user111", "user110"],
            })
        );
    }

    #[tokio::test]
    async fn candidates_of_equal_weight_keep_their_order() {
        let mut data = election();
        set(&mut data, "assignment_candidate/10", "weight", json!(3));
        assert_eq!(
            render_assignment(&data).await.unwrap()["candidates"],
            json!(["user110", "user111"])
        );

        set(&mut data, "assignment/1", "candidate_ids", json!([11, 10]));
        assert_eq!(
            render_assignment(&data).await.unwrap()["candidates"],
            json!(["user111", "user110"])
        );
    }

    #[tokio::test]
    async fn candidate_without_weight_comes_first() {
        let mut data = election();
        data["assignment_candidate/10"] = json!({"meeting_user_id": 1100});
        assert_eq!(
            render_assignment(&data).await.unwrap()["candidates"],
            json!(["user110", "user111"])
        );
    }

    #[tokio::test]
    async fn without_candidates_gives_null() {
        let data = json!({"assignment/1": {"title": "title 1", "candidate_ids": []}});
        assert_eq!(
            render_assignment(&data).await.unwrap(),
            json!({
                "title": "title 1",
                "description": "",
                "number_poll_candidates": false,
                "candidates": null,
            })
        );

        let data = json!({"assignment/1": {}});
        assert_eq!(
            render_assignment(&data).await.unwrap(),
            json!({
                "title": "",
                "description": "",
                "number_poll_candidates": false,
                "candidates": null,
            })
        );
    }

    #[tokio::test]
    async fn candidate_names_use_title_and_full_name() {
        let mut data = election();
        data["user/110"] = json!({
            "username": "user110",
            "title": "Dr.",
            "first_name": "Ada",
            "last_name": "Lovelace",
        });
        data["user/111"] = json!({"username": "user111", "title": "Dr.", "last_name": "Byron"});
        assert_eq!(
            render_assignment(&data).await.unwrap()["candidates"],
            json!(["Dr. Byron", "Dr. Ada Lovelace"])
        );
    }

    #[tokio::test]
    async fn candidate_without_full_name_shows_username() {
        let mut data = election();
        data["user/111"] = json!({"username": "user111", "title": "Dr."});
        assert_eq!(
            render_assignment(&data).await.unwrap()["candidates"],
            json!(["user111", "user110"])
        );
    }

    #[tokio::test]
    async fn candidate_names_show_structure_levels_of_the_meeting() {
        let mut data = election();
        set(
            &mut data,
            "user/110",
            "meeting_user_ids",
            json!([1200, 1100]),
        );
        set(&mut data, "meeting_user/1200", "meeting_id", json!(2));
        set(
            &mut data,
            "meeting_user/1200",
            "structure_level_ids",
            json!([3]),
        );
        set(&mut data, "meeting_user/1100", "meeting_id", json!(1));
        set(
            &mut data,
            "meeting_user/1100",
            "structure_level_ids",
            json!([1, 2]),
        );
        set(&mut data, "user/111", "meeting_user_ids", json!([1110]));
        set(&mut data, "meeting_user/1110", "meeting_id", json!(1));
        set(&mut data, "structure_level/1", "name", json!("Berlin"));
        set(&mut data, "structure_level/2", "name", json!("Hamburg"));
        set(
            &mut data,
            "structure_level/3",
            "name",
            json!("Other meeting"),
        );
        assert_eq!(
            render_assignment(&data).await.unwrap()["candidates"],
            json!(["user111", "user110 (Berlin, Hamburg)"])
        );

        let mut p7on = slide_projection("assignment/1");
        p7on.meeting_id = 0;
        assert_eq!(
            render(&data, &p7on).await.unwrap()["candidates"],
            json!(["user111", "user110"])
        );
    }

    #[tokio::test]
    async fn structure_level_without_name_counts_as_empty() {
        let mut data = election();
        set(&mut data, "user/110", "meeting_user_ids", json!([1100]));
        set(&mut data, "meeting_user/1100", "meeting_id", json!(1));
        set(
            &mut data,
            "meeting_user/1100",
            "structure_level_ids",
            json!([1, 2]),
        );
        set(&mut data, "structure_level/2", "name", json!("Hamburg"));
        assert_eq!(
            render_assignment(&data).await.unwrap()["candidates"],
            json!(["user111", "user110 (, Hamburg)"])
        );
    }

    #[tokio::test]
    async fn missing_assignment_fails() {
        let err = render_assignment(&json!({"assignment/2": {}}))
            .await
            .unwrap_err();
        assert!(matches!(err, SlideError::DoesNotExist(_)), "{err}");
    }

    #[tokio::test]
    async fn missing_related_objects_fail() {
        for fqid in ["assignment_candidate/10", "meeting_user/1110", "user/110"] {
            let mut data = election();
            data.as_object_mut().unwrap().remove(fqid);
            let err = render_assignment(&data).await.unwrap_err();
            assert!(
                matches!(err, SlideError::DoesNotExist(f) if f == Fqid::parse(fqid).unwrap()),
                "{fqid}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn candidate_without_meeting_user_fails() {
        let mut data = election();
        data["assignment_candidate/11"] = json!({"weight": 3});
        let err = render_assignment(&data).await.unwrap_err();
        assert!(err.to_string().contains("assignment_candidate/11"), "{err}");
    }

    #[tokio::test]
    async fn meeting_user_without_user_fails() {
        let mut data = election();
        data["meeting_user/1100"] = json!({"meeting_id": 1});
        let err = render_assignment(&data).await.unwrap_err();
        assert!(err.to_string().contains("meeting_user/1100"), "{err}");
    }

    #[tokio::test]
    async fn candidate_without_any_name_fails() {
        let mut data = election();
        data["user/111"] = json!({"title": "Dr."});
        let err = render_assignment(&data).await.unwrap_err();
        assert!(err.to_string().contains("user/111"), "{err}");
    }

    async fn title_information(data: &Json, item_number: &str) -> Result<Json, SlideError> {
        let store = datastore(data);
        let fqid = Fqid::parse("assignment/1").unwrap();
        super::title_information(&mut fetch(&store), fqid, item_number, 1).await
    }

    #[tokio::test]
    async fn title_information_reads_agenda_item_number() {
        let data = json!({
            "assignment/1": {"title": "Board", "agenda_item_id": 5},
            "agenda_item/5": {"item_number": "TOP 5"},
        });
        assert_eq!(
            title_information(&data, "").await.unwrap(),
            json!({
                "collection": "assignment",
                "content_object_id": "assignment/1",
                "title": "Board",
                "agenda_item_number": "TOP 5",
            })
        );
        assert_eq!(
            title_information(&data, "given").await.unwrap()["agenda_item_number"],
            "given"
        );
    }

    #[tokio::test]
    async fn title_information_without_agenda_item_has_empty_number() {
        let data = json!({"assignment/1": {"title": "Board"}});
        assert_eq!(
            title_information(&data, "").await.unwrap(),
            json!({
                "collection": "assignment",
                "content_object_id": "assignment/1",
                "title": "Board",
                "agenda_item_number": "",
            })
        );

        let data =
            json!({"assignment/1": {"title": "Board", "agenda_item_id": 5}, "agenda_item/5": {}});
        assert_eq!(
            title_information(&data, "").await.unwrap()["agenda_item_number"],
            ""
        );
    }

    #[tokio::test]
    async fn title_information_of_missing_objects_fails() {
        let data = json!({"assignment/1": {"title": "Board", "agenda_item_id": 5}});
        let err = title_information(&data, "").await.unwrap_err();
        assert!(matches!(err, SlideError::DoesNotExist(_)), "{err}");

        let data = json!({"assignment/2": {"title": "Board"}});
        let err = title_information(&data, "").await.unwrap_err();
        assert!(matches!(err, SlideError::DoesNotExist(_)), "{err}");
    }

    #[tokio::test]
    async fn dispatch_finds_title_information() {
        let store = datastore(&json!({"assignment/1": {"title": "Board"}}));
        let fqid = Fqid::parse("assignment/1").unwrap();
        let info = super::super::title_information(&mut fetch(&store), fqid, "7", 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(info["agenda_item_number"], "7");
    }
}
