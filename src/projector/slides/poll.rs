//! The poll slide.
//!
//! A poll shows its title, its state and its options in every state. The results (vote
//! counts of the options and of the global option, the valid, invalid and cast votes and
//! the entitled users at stop) are read and shown only once the poll is `published`.
//!
//! With the projection option `single_votes`, every option also lists its votes with the
//! voters' names, and each entitled user at stop gets the name of its user. The votes are
//! listed in every state, the entitled users only when the poll is published.

use super::super::{Fetch, Object, Projection, SlideError};
use crate::models::collections::{Option as PollOption, Poll, User, Vote};
use crate::models::{Collection, FieldId, FieldValue, Fqid, Id, Key, MAX_ID};
use serde_json::{json, Map, Value as Json};

/// The poll state in which the results are shown.
const PUBLISHED: &str = "published";

/// Renders a poll with the title information of its content object and of its options.
pub async fn poll(fetch: &mut Fetch<'_>, p7on: &Projection) -> Result<Json, SlideError> {
    let single_votes = single_votes_option(&p7on.options)?;
    let poll_id = p7on.content_object_id.id;
    let state = fetch
        .get_if_exists(Poll::STATE, poll_id)
        .await?
        .unwrap_or_default();
    let published = state == PUBLISHED;

    let poll = fetch
        .object(p7on.content_object_id, &poll_fields(published))
        .await?;

    let content_object_id = string_field(&poll, Poll::CONTENT_OBJECT_ID.id())?;
    let title_information =
        content_object_title(fetch, &content_object_id, p7on.meeting_id).await?;

    let option_ids = poll.get_or_default(Poll::OPTION_IDS)?;
    let mut options = read_options(fetch, &option_ids, published, p7on.meeting_id).await?;
    if single_votes {
        add_votes(fetch, &mut options).await?;
    }

    let mut out = Map::new();
    out.insert("id".into(), json!(poll.id()));
    out.insert("content_object_id".into(), json!(content_object_id));
    out.insert("title_information".into(), title_information);
    out.insert("title".into(), json!(poll.get_or_default(Poll::TITLE)?));
    out.insert(
        "description".into(),
        json!(poll.get_or_default(Poll::DESCRIPTION)?),
    );
    out.insert("type".into(), json!(poll.get_or_default(Poll::TYPE)?));
    out.insert("state".into(), json!(poll.get_or_default(Poll::STATE)?));
    out.insert(
        "global_yes".into(),
        json!(poll.get_or_default(Poll::GLOBAL_YES)?),
    );
    out.insert(
        "global_no".into(),
        json!(poll.get_or_default(Poll::GLOBAL_NO)?),
    );
    out.insert(
        "global_abstain".into(),
        json!(poll.get_or_default(Poll::GLOBAL_ABSTAIN)?),
    );
    // No options give `null`, not an empty list.
    let options: Vec<Json> = options.into_iter().map(|o| Json::Object(o.out)).collect();
    out.insert(
        "options".into(),
        if options.is_empty() {
            Json::Null
        } else {
            Json::Array(options)
        },
    );

    if published {
        add_results(fetch, &poll, &mut out).await?;
        if single_votes {
            if let Some(entitled) = out.get_mut("entitled_users_at_stop") {
                *entitled = entitled_users_with_names(fetch, entitled).await?;
            }
        }
    }
    Ok(Json::Object(out))
}

/// Returns the poll fields the slide reads, with the result fields only when the poll
/// is published.
fn poll_fields(published: bool) -> Vec<FieldId> {
    let mut fields = vec![
        Poll::CONTENT_OBJECT_ID.id(),
        Poll::TITLE.id(),
        Poll::DESCRIPTION.id(),
        Poll::TYPE.id(),
        Poll::STATE.id(),
        Poll::GLOBAL_YES.id(),
        Poll::GLOBAL_NO.id(),
        Poll::GLOBAL_ABSTAIN.id(),
        Poll::OPTION_IDS.id(),
    ];
    if published {
        fields.extend([
            Poll::ENTITLED_USERS_AT_STOP.id(),
            Poll::IS_PSEUDOANONYMIZED.id(),
            Poll::POLLMETHOD.id(),
            Poll::ONEHUNDRED_PERCENT_BASE.id(),
            Poll::VOTESVALID.id(),
            Poll::VOTESINVALID.id(),
            Poll::VOTESCAST.id(),
            Poll::GLOBAL_OPTION_ID.id(),
        ]);
    }
    fields
}

/// Reads the projection option `single_votes`, which is false when unset or `null`.
/// Options that are not an object, or a value that is not a boolean, are invalid.
fn single_votes_option(options: &Json) -> Result<bool, SlideError> {
    let options = match options {
        Json::Null => return Ok(false),
        Json::Object(options) => options,
        other => {
            return Err(SlideError::invalid(format!(
                "invalid projection options {other}: expected an object"
            )))
        }
    };
    match options.get("single_votes") {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(value)) => Ok(*value),
        Some(other) => Err(SlideError::invalid(format!(
            "invalid projection option single_votes {other}: expected a boolean"
        ))),
    }
}

/// Decodes a string field that was read, with "" when unset. The slide shows generic
/// relations as stored.
fn string_field(object: &Object, field: FieldId) -> Result<String, SlideError> {
    match object.raw(field)? {
        None => Ok(String::new()),
        Some(raw) => String::decode(raw).map_err(|error| SlideError::Value {
            key: Key::new(field, object.id()),
            error,
        }),
    }
}

/// Returns the title information of a poll's or option's content object. An empty or
/// invalid fqid, or a collection without title information, is an error.
async fn content_object_title(
    fetch: &mut Fetch<'_>,
    content_object_id: &str,
    meeting_id: Id,
) -> Result<Json, SlideError> {
    let fqid = Fqid::parse(content_object_id).map_err(|error| {
        SlideError::invalid(format!(
            "invalid content_object_id {content_object_id:?}: {error}"
        ))
    })?;
    super::title_information(fetch, fqid, "", meeting_id)
        .await?
        .ok_or_else(|| {
            SlideError::invalid(format!(
                "collection {} of {fqid} has no title information",
                fqid.collection
            ))
        })
}

/// One option as shown on the slide, with what it is sorted by.
struct OptionEntry {
    id: Id,
    weight: i64,
    out: Map<String, Json>,
}

/// Reads the options, sorted by weight and then by id. An option without a weight is
/// an error, because models.yml gives the weight a default of 10000.
async fn read_options(
    fetch: &mut Fetch<'_>,
    option_ids: &[Id],
    published: bool,
    meeting_id: Id,
) -> Result<Vec<OptionEntry>, SlideError> {
    let mut fields = vec![
        PollOption::TEXT.id(),
        PollOption::CONTENT_OBJECT_ID.id(),
        PollOption::WEIGHT.id(),
    ];
    if published {
        fields.extend([
            PollOption::YES.id(),
            PollOption::NO.id(),
            PollOption::ABSTAIN.id(),
        ]);
    }
    let objects = fetch
        .objects(Collection::Option, option_ids, &fields)
        .await?;

    let mut options = Vec::with_capacity(objects.len());
    for option in objects {
        let weight = option
            .get(PollOption::WEIGHT)?
            .ok_or_else(|| SlideError::invalid(format!("{} has no weight", option.fqid())))?;

        let mut out = Map::new();
        let text = option.get(PollOption::TEXT)?.unwrap_or_default();
        if !text.is_empty() {
            out.insert("text".into(), json!(text));
        }
        let content_object_id = string_field(&option, PollOption::CONTENT_OBJECT_ID.id())?;
        if !content_object_id.is_empty() {
            let title = content_object_title(fetch, &content_object_id, meeting_id).await?;
            out.insert("content_object_id".into(), json!(content_object_id));
            out.insert("content_object".into(), title);
        }
        if published {
            for (name, field) in [
                ("yes", PollOption::YES),
                ("no", PollOption::NO),
                ("abstain", PollOption::ABSTAIN),
            ] {
                if let Some(value) = option.get(field)? {
                    out.insert(name.into(), json!(value));
                }
            }
        }
        options.push(OptionEntry {
            id: option.id(),
            weight,
            out,
        });
    }
    options.sort_by_key(|option| (option.weight, option.id));
    Ok(options)
}

/// Adds the fields a published poll shows: each only when it is set, except the global
/// option, which a published poll has to have.
async fn add_results(
    fetch: &mut Fetch<'_>,
    poll: &Object,
    out: &mut Map<String, Json>,
) -> Result<(), SlideError> {
    let entitled = poll.json(Poll::ENTITLED_USERS_AT_STOP.id())?;
    if !entitled.is_null() {
        out.insert("entitled_users_at_stop".into(), entitled);
    }
    if let Some(value) = poll.get(Poll::IS_PSEUDOANONYMIZED)? {
        out.insert("is_pseudoanonymized".into(), json!(value));
    }
    for (name, field) in [
        ("pollmethod", Poll::POLLMETHOD),
        ("onehundred_percent_base", Poll::ONEHUNDRED_PERCENT_BASE),
        ("votesvalid", Poll::VOTESVALID),
        ("votesinvalid", Poll::VOTESINVALID),
        ("votescast", Poll::VOTESCAST),
    ] {
        if let Some(value) = poll.get(field)? {
            out.insert(name.into(), json!(value));
        }
    }

    let Some(global_option_id) = poll.get(Poll::GLOBAL_OPTION_ID)? else {
        return Err(SlideError::invalid(format!(
            "published {} has no global option",
            poll.fqid()
        )));
    };
    let global_option = fetch
        .object(
            Fqid::new(Collection::Option, global_option_id),
            &[
                PollOption::YES.id(),
                PollOption::NO.id(),
                PollOption::ABSTAIN.id(),
            ],
        )
        .await?;
    out.insert(
        "global_option".into(),
        json!({
            "yes": global_option.get_or_default(PollOption::YES)?,
            "no": global_option.get_or_default(PollOption::NO)?,
            "abstain": global_option.get_or_default(PollOption::ABSTAIN)?,
        }),
    );
    Ok(())
}

/// Adds to each option its votes with their voters. Options without votes get no
/// `votes` field.
async fn add_votes(fetch: &mut Fetch<'_>, options: &mut [OptionEntry]) -> Result<(), SlideError> {
    for option in options {
        let vote_ids = fetch
            .get_if_exists(PollOption::VOTE_IDS, option.id)
            .await?
            .unwrap_or_default();
        let votes = fetch
            .objects(
                Collection::Vote,
                &vote_ids,
                &[Vote::USER_ID.id(), Vote::VALUE.id()],
            )
            .await?;
        if votes.is_empty() {
            continue;
        }

        let mut voters = Vec::with_capacity(votes.len());
        for vote in &votes {
            voters.push(vote.get(Vote::USER_ID)?);
        }
        let user_ids: Vec<Id> = voters.iter().flatten().copied().collect();
        let mut users = read_users(fetch, &user_ids).await?.into_iter();

        let mut out = Vec::with_capacity(votes.len());
        for (vote, user_id) in votes.iter().zip(voters) {
            // `read_users` returns one user per id, in order.
            let user = match user_id {
                Some(_) => users.next().unwrap_or_default(),
                None => Json::Null,
            };
            out.push(json!({
                "user_id": user_id,
                "user": user,
                "value": vote.get_or_default(Vote::VALUE)?,
            }));
        }
        option.out.insert("votes".into(), Json::Array(out));
    }
    Ok(())
}

/// Reads the users in one call as `{"id", "title", "first_name", "last_name"}`, where
/// each name field is left out when it is unset. Every user has to exist.
async fn read_users(fetch: &mut Fetch<'_>, user_ids: &[Id]) -> Result<Vec<Json>, SlideError> {
    let users = fetch
        .objects(
            Collection::User,
            user_ids,
            &[
                User::TITLE.id(),
                User::FIRST_NAME.id(),
                User::LAST_NAME.id(),
            ],
        )
        .await?;
    users
        .iter()
        .map(|user| {
            let mut out = Map::new();
            out.insert("id".into(), json!(user.id()));
            for (name, field) in [
                ("title", User::TITLE),
                ("first_name", User::FIRST_NAME),
                ("last_name", User::LAST_NAME),
            ] {
                if let Some(value) = user.get(field)? {
                    out.insert(name.into(), json!(value));
                }
            }
            Ok(Json::Object(out))
        })
        .collect()
}

/// Adds to each entry of `entitled_users_at_stop` its user as `user`. That is the user
/// the entry's user was merged into, if any, else its `user_id`. Entries with neither
/// are left out, and a list that ends up empty becomes `null`. A value that is not a
/// list of objects, or a user id that is not a positive integer, is an error.
async fn entitled_users_with_names(
    fetch: &mut Fetch<'_>,
    entitled: &Json,
) -> Result<Json, SlideError> {
    let Json::Array(entries) = entitled else {
        return Err(SlideError::invalid(format!(
            "invalid entitled_users_at_stop {entitled}: expected a list"
        )));
    };

    let mut kept = Vec::new();
    let mut user_ids = Vec::new();
    for entry in entries {
        let entry = match entry {
            Json::Object(entry) => entry,
            Json::Null => continue,
            other => {
                return Err(SlideError::invalid(format!(
                    "invalid entry {other} in entitled_users_at_stop: expected an object"
                )))
            }
        };
        let user_id = match (entry.get("user_merged_into_id"), entry.get("user_id")) {
            (Some(merged), _) => merged,
            (None, Some(user_id)) => user_id,
            (None, None) => continue,
        };
        let user_id = user_id
            .as_u64()
            .filter(|id| (1..=MAX_ID).contains(id))
            .ok_or_else(|| {
                SlideError::invalid(format!(
                    "invalid user id {user_id} in entitled_users_at_stop: expected a positive integer"
                ))
            })?;
        kept.push(entry.clone());
        user_ids.push(user_id);
    }
    if kept.is_empty() {
        return Ok(Json::Null);
    }

    let users = read_users(fetch, &user_ids).await?;
    let entries = kept
        .into_iter()
        .zip(users)
        .map(|(mut entry, user)| {
            entry.insert("user".into(), user);
            Json::Object(entry)
        })
        .collect();
    Ok(Json::Array(entries))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{render, slide_projection, Projection};
    use super::super::SlideError;
    use crate::models::Fqid;
    use serde_json::{json, Value as Json};

    /// Returns a published analog poll of an election, with two topic options in
    /// reverse weight order and a global option.
    fn poll_data() -> Json {
        json!({
            "poll/1": {
                "content_object_id": "assignment/1",
                "title": "Poll Title 1",
                "description": "Poll description 1",
                "type": "analog",
                "state": "published",
                "global_yes": false,
                "global_no": true,
                "global_abstain": false,
                "option_ids": [1, 2],
                "is_pseudoanonymized": false,
                "pollmethod": "YNA",
                "onehundred_percent_base": "YNA",
                "votesvalid": "2.000000",
                "votesinvalid": "9.000000",
                "votescast": "2.000000",
                "global_option_id": 3,
                "meeting_id": 111,
                "entitled_users_at_stop": {"A": "bcd", "B": "def"},
            },
            "assignment/1": {"title": "Assignment title 1", "agenda_item_id": 1},
            "option/1": {
                "text": "Option text",
                "content_object_id": "topic/1",
                "yes": "4.000000",
                "no": "5.000000",
                "abstain": "6.000000",
                "weight": 10,
            },
            "option/2": {
                "text": "Option text",
                "content_object_id": "topic/2",
                "yes": "5.000000",
                "no": "4.000000",
                "abstain": "3.000000",
                "weight": 3,
            },
            "option/3": {"yes": "14.000000", "no": "15.000000", "abstain": "16.000000"},
            "topic/1": {"title": "Topic title 1", "text": "Topic text 1", "agenda_item_id": 2},
            "topic/2": {"title": "Topic title 2", "text": "Topic text 2", "agenda_item_id": 3},
            "agenda_item/1": {"item_number": "itemNr. Assignment1"},
            "agenda_item/2": {"item_number": "itemNr. Topic1"},
            "agenda_item/3": {"item_number": "itemNr. Topic2"},
        })
    }

    /// Returns the poll data with two entitled users: one who delegated the vote and
    /// one who was merged into user 6.
    fn single_votes_data() -> Json {
        let mut data = poll_data();
        data["poll/1"]["entitled_users_at_stop"] = json!([
            {"voted": false, "present": true, "user_id": 1, "vote_delegated_to_user_id": 2},
            {"voted": false, "present": true, "user_id": 4, "user_merged_into_id": 6},
        ]);
        data["user/1"] = json!({
            "title": "Billy",
            "first_name": "Bob",
            "last_name": "Buckingham",
            "username": "BillyBobBuckingham",
            "member_number": "123456789abcdef",
            "meeting_user_ids": [1111],
            "meeting_ids": [1],
        });
        data["user/2"] = json!({
            "first_name": "Johnny",
            "last_name": "Johnson",
            "username": "JohnnySonOfJohn",
            "meeting_user_ids": [1112],
            "meeting_ids": [1],
        });
        data["user/6"] = json!({
            "title": "Sir",
            "first_name": "Shawn Stanley Sheldon",
            "last_name": "Sinclair",
            "username": "SirSinclair",
            "meeting_user_ids": [1111],
            "meeting_ids": [1],
        });
        data["structure_level/1"] = json!({"name": "Birmingham", "meeting_id": 111});
        data["meeting/111"] = json!({
            "poll_ids": [1],
            "meeting_user_ids": [1111, 1112, 1116],
            "user_ids": [1, 2, 6],
            "structure_level_ids": [1],
        });
        data
    }

    fn assignment_title() -> Json {
        json!({
            "content_object_id": "assignment/1",
            "collection": "assignment",
            "title": "Assignment title 1",
            "agenda_item_number": "itemNr. Assignment1",
        })
    }

    fn topic_option(id: u64) -> Json {
        json!({
            "content_object_id": format!("topic/{id}"),
            "text": "Option text",
            "content_object": {
                "content_object_id": format!("topic/{id}"),
                "collection": "topic",
                "title": format!("Topic title {id}"),
                "agenda_item_number": format!("itemNr. Topic{id}"),
            },
        })
    }

    /// Returns the options of `poll_data` in weight order, with their vote counts.
    fn published_options() -> Json {
        let mut second = topic_option(2);
        second["yes"] = json!("5.000000");
        second["no"] = json!("4.000000");
        second["abstain"] = json!("3.000000");
        let mut first = topic_option(1);
        first["yes"] = json!("4.000000");
        first["no"] = json!("5.000000");
        first["abstain"] = json!("6.000000");
        json!([second, first])
    }

    /// Returns the slide of `poll_data` in a state before it is published.
    fn unpublished_slide(state: &str) -> Json {
        json!({
            "id": 1,
            "content_object_id": "assignment/1",
            "title_information": assignment_title(),
            "title": "Poll Title 1",
            "description": "Poll description 1",
            "type": "analog",
            "state": state,
            "global_yes": false,
            "global_no": true,
            "global_abstain": false,
            "options": [topic_option(2), topic_option(1)],
        })
    }

    fn single_votes_projection() -> Projection {
        let mut p7on = slide_projection("poll/1");
        p7on.options = json!({"single_votes": true});
        p7on
    }

    async fn render_poll(data: &Json) -> Result<Json, SlideError> {
        render(data, &slide_projection("poll/1")).await
    }

    async fn render_single_votes(data: &Json) -> Result<Json, SlideError> {
        render(data, &single_votes_projection()).await
    }

    #[tokio::test]
    async fn published_poll_shows_results() {
        assert_eq!(
            render_poll(&poll_data()).await.unwrap(),
            json!({
                "id": 1,
                "content_object_id": "assignment/1",
                "title_information": assignment_title(),
                "title": "Poll Title 1",
                "description": "Poll description 1",
                "type": "analog",
                "state": "published",
                "global_yes": false,
                "global_no": true,
                "global_abstain": false,
                "options": published_options(),
                "entitled_users_at_stop": {"A": "bcd", "B": "def"},
                "is_pseudoanonymized": false,
                "pollmethod": "YNA",
                "onehundred_percent_base": "YNA",
                "votesvalid": "2.000000",
                "votesinvalid": "9.000000",
                "votescast": "2.000000",
                "global_option": {"yes": "14.000000", "no": "15.000000", "abstain": "16.000000"},
            })
        );
    }

    #[tokio::test]
    async fn unpublished_poll_hides_results() {
        for state in ["created", "started", "finished"] {
            let mut data = poll_data();
            data["poll/1"]["state"] = json!(state);
            assert_eq!(
                render_poll(&data).await.unwrap(),
                unpublished_slide(state),
                "state {state}"
            );
        }
    }

    #[tokio::test]
    async fn poll_without_state_hides_results() {
        let mut data = poll_data();
        data["poll/1"]["state"] = Json::Null;
        assert_eq!(render_poll(&data).await.unwrap(), unpublished_slide(""));
    }

    #[tokio::test]
    async fn single_votes_name_the_entitled_users() {
        assert_eq!(
            render_single_votes(&single_votes_data()).await.unwrap(),
            json!({
                "id": 1,
                "content_object_id": "assignment/1",
                "title_information": assignment_title(),
                "title": "Poll Title 1",
                "description": "Poll description 1",
                "type": "analog",
                "state": "published",
                "global_yes": false,
                "global_no": true,
                "global_abstain": false,
                "options": published_options(),
                "entitled_users_at_stop": [
                    {
                        "voted": false,
                        "present": true,
                        "user_id": 1,
                        "vote_delegated_to_user_id": 2,
                        "user": {
                            "id": 1,
                            "title": "Billy",
                            "first_name": "Bob",
                            "last_name": "Buckingham",
                        },
                    },
                    {
                        "voted": false,
                        "present": true,
                        "user_id": 4,
                        "user_merged_into_id": 6,
                        "user": {
                            "id": 6,
                            "title": "Sir",
                            "first_name": "Shawn Stanley Sheldon",
                            "last_name": "Sinclair",
                        },
                    },
                ],
                "is_pseudoanonymized": false,
                "pollmethod": "YNA",
                "onehundred_percent_base": "YNA",
                "votesvalid": "2.000000",
                "votesinvalid": "9.000000",
                "votescast": "2.000000",
                "global_option": {"yes": "14.000000", "no": "15.000000", "abstain": "16.000000"},
            })
        );
    }

    #[tokio::test]
    async fn single_votes_of_finished_poll_hide_results() {
        let mut data = single_votes_data();
        data["poll/1"]["state"] = json!("finished");
        assert_eq!(
            render_single_votes(&data).await.unwrap(),
            unpublished_slide("finished")
        );
    }

    /// Gives option 2 a vote of user 2 and an anonymous vote, and option 1 none.
    fn with_votes(mut data: Json) -> Json {
        data["option/2"]["vote_ids"] = json!([21, 22]);
        data["option/1"]["vote_ids"] = json!([]);
        data["vote/21"] = json!({"user_id": 2, "value": "Y", "weight": "1.000000"});
        data["vote/22"] = json!({"value": "N"});
        data
    }

    fn expected_votes() -> Json {
        json!([
            {
                "user_id": 2,
                "user": {"id": 2, "first_name": "Johnny", "last_name": "Johnson"},
                "value": "Y",
            },
            {"user_id": null, "user": null, "value": "N"},
        ])
    }

    #[tokio::test]
    async fn single_votes_list_votes_of_each_option() {
        let data = with_votes(single_votes_data());
        let content = render_single_votes(&data).await.unwrap();
        let options = content["options"].as_array().unwrap();
        assert_eq!(options.len(), 2);
        assert_eq!(options[0]["content_object_id"], "topic/2");
        assert_eq!(options[0]["votes"], expected_votes());
        assert_eq!(options[1]["content_object_id"], "topic/1");
        assert!(options[1].get("votes").is_none(), "{}", options[1]);
    }

    #[tokio::test]
    async fn single_votes_are_listed_before_publishing() {
        let mut data = with_votes(single_votes_data());
        data["poll/1"]["state"] = json!("finished");
        let content = render_single_votes(&data).await.unwrap();
        let mut expected = unpublished_slide("finished");
        expected["options"][0]["votes"] = expected_votes();
        assert_eq!(content, expected);
    }

    #[tokio::test]
    async fn votes_are_left_out_without_single_votes() {
        let data = with_votes(single_votes_data());
        for options in [json!(null), json!({}), json!({"single_votes": false})] {
            let mut p7on = slide_projection("poll/1");
            p7on.options = options.clone();
            let content = render(&data, &p7on).await.unwrap();
            assert!(
                content["options"][0].get("votes").is_none(),
                "options {options}"
            );
            assert_eq!(
                content["entitled_users_at_stop"], data["poll/1"]["entitled_users_at_stop"],
                "options {options}"
            );
        }
    }

    #[tokio::test]
    async fn vote_of_missing_user_fails() {
        let mut data = with_votes(single_votes_data());
        data["vote/21"]["user_id"] = json!(99);
        let err = render_single_votes(&data).await.unwrap_err();
        assert!(
            matches!(err, SlideError::DoesNotExist(f) if f == Fqid::parse("user/99").unwrap()),
            "{err}"
        );
    }

    #[tokio::test]
    async fn missing_vote_fails() {
        let mut data = with_votes(single_votes_data());
        data.as_object_mut().unwrap().remove("vote/22");
        let err = render_single_votes(&data).await.unwrap_err();
        assert!(matches!(err, SlideError::DoesNotExist(_)), "{err}");
    }

    #[tokio::test]
    async fn entitled_user_without_names_shows_only_id() {
        let mut data = single_votes_data();
        data["poll/1"]["entitled_users_at_stop"] = json!([{"user_id": 7}]);
        data["user/7"] = json!({"username": "u7"});
        assert_eq!(
            render_single_votes(&data).await.unwrap()["entitled_users_at_stop"],
            json!([{"user_id": 7, "user": {"id": 7}}])
        );
    }

    #[tokio::test]
    async fn entitled_entries_without_user_are_left_out() {
        let mut data = single_votes_data();
        data["poll/1"]["entitled_users_at_stop"] =
            json!([{"voted": true}, null, {"user_id": 2, "user": "replaced"}]);
        assert_eq!(
            render_single_votes(&data).await.unwrap()["entitled_users_at_stop"],
            json!([{
                "user_id": 2,
                "user": {"id": 2, "first_name": "Johnny", "last_name": "Johnson"},
            }])
        );
    }

    #[tokio::test]
    async fn entitled_users_without_entries_give_null() {
        for entitled in [json!([]), json!([{"voted": true}, null])] {
            let mut data = single_votes_data();
            data["poll/1"]["entitled_users_at_stop"] = entitled.clone();
            let content = render_single_votes(&data).await.unwrap();
            assert_eq!(
                content.get("entitled_users_at_stop"),
                Some(&Json::Null),
                "entitled {entitled}"
            );
        }
    }

    #[tokio::test]
    async fn unset_entitled_users_are_left_out() {
        let mut data = single_votes_data();
        data["poll/1"]["entitled_users_at_stop"] = Json::Null;
        let content = render_single_votes(&data).await.unwrap();
        assert!(content.get("entitled_users_at_stop").is_none(), "{content}");
    }

    #[tokio::test]
    async fn invalid_entitled_users_fail_with_single_votes() {
        for entitled in [
            json!({"A": "bcd"}),
            json!([1]),
            json!([{"user_id": "1"}]),
            json!([{"user_id": 1.5}]),
            json!([{"user_id": -1}]),
            json!([{"user_id": 0}]),
            json!([{"user_id": 1, "user_merged_into_id": null}]),
        ] {
            let mut data = single_votes_data();
            data["poll/1"]["entitled_users_at_stop"] = entitled.clone();
            let err = render_single_votes(&data).await.unwrap_err();
            assert!(
                matches!(err, SlideError::Invalid(_)),
                "entitled {entitled}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn entitled_user_missing_fails() {
        let mut data = single_votes_data();
        data["poll/1"]["entitled_users_at_stop"] = json!([{"user_id": 99}]);
        let err = render_single_votes(&data).await.unwrap_err();
        assert!(matches!(err, SlideError::DoesNotExist(_)), "{err}");
    }

    #[tokio::test]
    async fn invalid_projection_options_fail() {
        for options in [
            json!("single_votes"),
            json!([true]),
            json!(true),
            json!({"single_votes": "yes"}),
            json!({"single_votes": 1}),
        ] {
            let mut p7on = slide_projection("poll/1");
            p7on.options = options.clone();
            let err = render(&poll_data(), &p7on).await.unwrap_err();
            assert!(
                matches!(err, SlideError::Invalid(_)),
                "options {options}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn options_sort_by_weight_then_id() {
        let mut data = poll_data();
        data["poll/1"]["option_ids"] = json!([4, 1, 2, 5]);
        data["option/1"] = json!({"text": "one", "weight": 2});
        data["option/2"] = json!({"text": "two", "weight": 1});
        data["option/4"] = json!({"text": "four", "weight": 2});
        data["option/5"] = json!({"text": "five", "weight": -1});
        data["poll/1"]["state"] = json!("started");
        assert_eq!(
            render_poll(&data).await.unwrap()["options"],
            json!([{"text": "five"}, {"text": "two"}, {"text": "one"}, {"text": "four"}])
        );
    }

    #[tokio::test]
    async fn option_without_text_and_content_object_is_empty() {
        let mut data = poll_data();
        data["option/1"] = json!({"text": "", "weight": 1});
        data["option/2"] = json!({"weight": 2, "yes": "1.000000"});
        assert_eq!(
            render_poll(&data).await.unwrap()["options"],
            json!([{}, {"yes": "1.000000"}])
        );
    }

    #[tokio::test]
    async fn option_shows_poll_candidate_list() {
        let mut data = poll_data();
        data["poll/1"]["option_ids"] = json!([1]);
        data["option/1"] = json!({
            "content_object_id": "poll_candidate_list/4",
            "weight": 1,
            "yes": "3.500000",
        });
        data["poll_candidate_list/4"] = json!({"poll_candidate_ids": [1, 2, 3]});
        assert_eq!(
            render_poll(&data).await.unwrap()["options"],
            json!([{
                "content_object_id": "poll_candidate_list/4",
                "content_object": {
                    "collection": "poll_candidate_list",
                    "content_object_id": "poll_candidate_list/4",
                    "entries_amount": 3,
                },
                "yes": "3.500000",
            }])
        );
    }

    #[tokio::test]
    async fn poll_without_options_gives_null() {
        for option_ids in [json!([]), Json::Null] {
            let mut data = poll_data();
            data["poll/1"]["option_ids"] = option_ids.clone();
            let content = render_poll(&data).await.unwrap();
            assert_eq!(
                content.get("options"),
                Some(&Json::Null),
                "option_ids {option_ids}"
            );
        }
    }

    #[tokio::test]
    async fn option_without_weight_fails() {
        let mut data = poll_data();
        data["option/2"]["weight"] = Json::Null;
        let err = render_poll(&data).await.unwrap_err();
        assert!(err.to_string().contains("option/2"), "{err}");
    }

    #[tokio::test]
    async fn missing_option_fails() {
        let mut data = poll_data();
        data["poll/1"]["option_ids"] = json!([1, 2, 9]);
        let err = render_poll(&data).await.unwrap_err();
        assert!(
            matches!(err, SlideError::DoesNotExist(f) if f == Fqid::parse("option/9").unwrap()),
            "{err}"
        );
    }

    #[tokio::test]
    async fn option_of_missing_topic_fails() {
        let mut data = poll_data();
        data.as_object_mut().unwrap().remove("topic/1");
        let err = render_poll(&data).await.unwrap_err();
        assert!(matches!(err, SlideError::DoesNotExist(_)), "{err}");
    }

    #[tokio::test]
    async fn content_object_without_title_information_fails() {
        let mut data = poll_data();
        data["option/1"]["content_object_id"] = json!("agenda_item/1");
        let err = render_poll(&data).await.unwrap_err();
        assert!(err.to_string().contains("agenda_item"), "{err}");

        let mut data = poll_data();
        data["poll/1"]["content_object_id"] = json!("agenda_item/1");
        let err = render_poll(&data).await.unwrap_err();
        assert!(err.to_string().contains("agenda_item"), "{err}");
    }

    #[tokio::test]
    async fn poll_without_content_object_fails() {
        let mut data = poll_data();
        data["poll/1"]["content_object_id"] = Json::Null;
        let err = render_poll(&data).await.unwrap_err();
        assert!(matches!(err, SlideError::Invalid(_)), "{err}");
    }

    #[tokio::test]
    async fn poll_of_a_topic_shows_its_title() {
        let mut data = poll_data();
        data["poll/1"]["content_object_id"] = json!("topic/1");
        let content = render_poll(&data).await.unwrap();
        assert_eq!(content["content_object_id"], "topic/1");
        assert_eq!(
            content["title_information"],
            json!({
                "collection": "topic",
                "content_object_id": "topic/1",
                "title": "Topic title 1",
                "agenda_item_number": "itemNr. Topic1",
            })
        );
    }

    #[tokio::test]
    async fn missing_poll_fails() {
        let err = render(&poll_data(), &slide_projection("poll/2"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, SlideError::DoesNotExist(f) if f == Fqid::parse("poll/2").unwrap()),
            "{err}"
        );
    }

    #[tokio::test]
    async fn published_poll_leaves_out_unset_results() {
        let mut data = poll_data();
        for field in [
            "entitled_users_at_stop",
            "is_pseudoanonymized",
            "pollmethod",
            "onehundred_percent_base",
            "votesvalid",
            "votesinvalid",
            "votescast",
        ] {
            data["poll/1"][field] = Json::Null;
        }
        data["poll/1"]["option_ids"] = json!([]);
        data["option/3"] = json!({"yes": "1.000000"});
        assert_eq!(
            render_poll(&data).await.unwrap(),
            json!({
                "id": 1,
                "content_object_id": "assignment/1",
                "title_information": assignment_title(),
                "title": "Poll Title 1",
                "description": "Poll description 1",
                "type": "analog",
                "state": "published",
                "global_yes": false,
                "global_no": true,
                "global_abstain": false,
                "options": null,
                "global_option": {"yes": "1.000000", "no": "", "abstain": ""},
            })
        );
    }

    #[tokio::test]
    async fn published_poll_without_global_option_fails() {
        let mut data = poll_data();
        data["poll/1"]["global_option_id"] = Json::Null;
        let err = render_poll(&data).await.unwrap_err();
        assert!(err.to_string().contains("global option"), "{err}");

        let mut data = poll_data();
        data.as_object_mut().unwrap().remove("option/3");
        let err = render_poll(&data).await.unwrap_err();
        assert!(
            matches!(err, SlideError::DoesNotExist(f) if f == Fqid::parse("option/3").unwrap()),
            "{err}"
        );
    }

    #[tokio::test]
    async fn decimal_stored_as_number_fails() {
        let mut data = poll_data();
        data["poll/1"]["votesvalid"] = json!(2);
        let err = render_poll(&data).await.unwrap_err();
        assert!(matches!(err, SlideError::Value { .. }), "{err}");
    }
}
