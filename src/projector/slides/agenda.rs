//! The agenda_item_list slide: the agenda of a meeting as a flat list in tree order.

use super::super::{Fetch, Projection, SlideError};
use crate::models::collections::{AgendaItem, Meeting};
use crate::models::{Collection, FieldValue, Id};
use hashbrown::HashMap;
use serde_json::{json, Value as Json};

/// An agenda item that the slide lists.
struct ListedItem {
    id: Id,
    /// The `parent_id`, with 0 for items at the top level.
    parent: i64,
    weight: i64,
    title_information: Json,
}

/// Renders the agenda of the projected meeting. Each item has the title information of
/// its content object and its depth in the agenda tree.
///
/// Hidden items are left out, and so are internal items unless the meeting shows them on
/// the projector. With the option `only_main_items`, items with a `level` above 0 are
/// left out too. An item whose parent is not listed is left out with its subtree.
pub async fn agenda_item_list(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let meeting = fetch
        .object(
            p7on.content_object_id,
            &[
                Meeting::AGENDA_ITEM_IDS.id(),
                Meeting::AGENDA_SHOW_INTERNAL_ITEMS_ON_PROJECTOR.id(),
            ],
        )
        .await?;
    let item_ids = meeting.get(Meeting::AGENDA_ITEM_IDS)?.unwrap_or_default();
    let show_internal = meeting.get_or_default(Meeting::AGENDA_SHOW_INTERNAL_ITEMS_ON_PROJECTOR)?;
    let only_main_items = only_main_items(&p7on.options)?;

    use AgendaItem as A;
    let items = fetch
        .objects(
            Collection::AgendaItem,
            &item_ids,
            &[
                A::ITEM_NUMBER.id(),
                A::CONTENT_OBJECT_ID.id(),
                A::IS_HIDDEN.id(),
                A::IS_INTERNAL.id(),
                A::LEVEL.id(),
                A::WEIGHT.id(),
                A::PARENT_ID.id(),
            ],
        )
        .await?;

    let mut listed = Vec::new();
    for item in items {
        let is_hidden = item.get_or_default(A::IS_HIDDEN)?;
        let is_internal = item.get_or_default(A::IS_INTERNAL)?;
        let level = item.get_or_default(A::LEVEL)?;
        let weight = item.get_or_default(A::WEIGHT)?;
        let item_number = item.get_or_default(A::ITEM_NUMBER)?;
        // The parent is decoded as a plain number, so a stored 0 means "no parent" like
        // an unset field does.
        let parent = match item.raw(A::PARENT_ID.id())? {
            None => 0,
            Some(raw) => i64::decode(raw).map_err(|error| SlideError::Value {
                key: A::PARENT_ID.key(item.id()),
                error,
            })?,
        };

        if is_hidden || (is_internal && !show_internal) {
            continue;
        }
        if only_main_items && level > 0 {
            continue;
        }

        let Some(content_object_id) = item.get(A::CONTENT_OBJECT_ID)? else {
            return Err(SlideError::invalid(format!(
                "{} has no content_object_id",
                item.fqid()
            )));
        };
        let title_information =
            super::title_information(fetch, content_object_id, &item_number, p7on.meeting_id)
                .await?
                .ok_or_else(|| {
                    SlideError::invalid(format!(
                        "{} has content object {content_object_id}, but the collection {} has no title information",
                        item.fqid(),
                        content_object_id.collection.name(),
                    ))
                })?;
        listed.push(ListedItem {
            id: item.id(),
            parent,
            weight,
            title_information,
        });
    }

    // Only the order among siblings shows in the output: by weight, then by id.
    listed.sort_by_key(|item| (item.parent, item.weight, item.id));
    Ok(json!({ "items": flatten_tree(&listed) }))
}

/// Reads the option `only_main_items`. Missing options or a missing or null value mean
/// false. Options that are not an object and a value that is not a boolean are invalid.
fn only_main_items(options: &Json) -> Result<bool, SlideError> {
    let options = match options {
        Json::Null => return Ok(false),
        Json::Object(options) => options,
        other => {
            return Err(SlideError::invalid(format!(
                "invalid projection options {other}: expected an object"
            )))
        }
    };
    match options.get("only_main_items") {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(value)) => Ok(*value),
        Some(other) => Err(SlideError::invalid(format!(
            "invalid option only_main_items {other}: expected a boolean"
        ))),
    }
}

/// Lists the items in pre-order, starting with the items without a parent, with their
/// depth in the tree. Siblings keep the order of `items`. Items whose parent is not in
/// `items` are not reached and left out.
fn flatten_tree(items: &[ListedItem]) -> Vec<Json> {
    let mut children: HashMap<i64, Vec<usize>> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        children.entry(item.parent).or_default().push(index);
    }

    let mut flat = Vec::with_capacity(items.len());
    // A stack of (index, depth) in place of recursion, so a deep agenda cannot overflow
    // the call stack. Children are pushed in reverse to pop them in order.
    let mut stack: Vec<(usize, u64)> = Vec::new();
    let push_children = |stack: &mut Vec<(usize, u64)>, parent: i64, depth: u64| {
        if let Some(indices) = children.get(&parent) {
            stack.extend(indices.iter().rev().map(|&index| (index, depth)));
        }
    };
    push_children(&mut stack, 0, 0);
    while let Some((index, depth)) = stack.pop() {
        let item = &items[index];
        flat.push(json!({
            "title_information": item.title_information,
            "depth": depth,
        }));
        // Ids are at most `MAX_ID`, so they fit into i64.
        push_children(&mut stack, item.id as i64, depth + 1);
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::super::super::SlideError;
    use super::super::testing::{render, slide_projection, Projection};
    use serde_json::{json, Value as Json};

    fn agenda(options: Json) -> Projection {
        let mut p7on = slide_projection("meeting/1");
        p7on.kind = "agenda_item_list".into();
        p7on.options = options;
        p7on
    }

    fn topic_info(id: u64, item_number: &str, title: &str) -> Json {
        json!({
            "collection": "topic",
            "content_object_id": format!("topic/{id}"),
            "title": title,
            "agenda_item_number": item_number,
        })
    }

    fn listed(depth: u64, title_information: Json) -> Json {
        json!({"depth": depth, "title_information": title_information})
    }

    // Every content object is a topic, so only the title information of topics is used.
    #[tokio::test]
    async fn main_items_sorted_by_weight() {
        let data = json!({
            "meeting/1": {
                "agenda_show_internal_items_on_projector": false,
                "agenda_item_ids": [1, 2, 3, 4, 5, 6, 7],
            },
            "agenda_item/1": {"item_number": "Ino1.2", "content_object_id": "topic/11", "meeting_id": 1, "is_hidden": false, "is_internal": false, "weight": 8, "level": 0},
            "agenda_item/2": {"item_number": "Ino1.1", "content_object_id": "topic/12", "meeting_id": 1, "is_hidden": false, "is_internal": false, "weight": 4, "level": 0},
            "agenda_item/3": {"item_number": "Ino1", "content_object_id": "topic/1", "meeting_id": 1, "is_hidden": false, "is_internal": false, "weight": 2, "level": 0},
            "agenda_item/4": {"item_number": "Ino1.1.1", "content_object_id": "topic/13", "meeting_id": 1, "is_hidden": false, "is_internal": false, "weight": 6, "level": 0},
            "agenda_item/5": {"item_number": "Ino5 misses because of level", "content_object_id": "topic/2", "meeting_id": 1, "is_hidden": false, "is_internal": false, "weight": 10, "level": 1},
            "agenda_item/6": {"item_number": "Ino6 misses because of hidden", "content_object_id": "topic/3", "meeting_id": 1, "is_hidden": true, "is_internal": false, "weight": 12, "level": 0},
            "agenda_item/7": {"item_number": "Ino7 misses because of internal", "content_object_id": "topic/4", "meeting_id": 1, "is_hidden": false, "is_internal": true, "weight": 14, "level": 0},
            "topic/1": {"title": "topic title 1"},
            "topic/2": {"title": "topic title 2"},
            "topic/3": {"title": "topic title 3"},
            "topic/4": {"title": "topic title 4"},
            "topic/11": {"title": "topic title 11"},
            "topic/12": {"title": "topic title 12"},
            "topic/13": {"title": "topic title 13"},
        });
        let content = render(&data, &agenda(json!({"only_main_items": true}))).await;
        assert_eq!(
            content.unwrap(),
            json!({"items": [
                listed(0, topic_info(1, "Ino1", "topic title 1")),
                listed(0, topic_info(12, "Ino1.1", "topic title 12")),
                listed(0, topic_info(13, "Ino1.1.1", "topic title 13")),
                listed(0, topic_info(11, "Ino1.2", "topic title 11")),
            ]})
        );
    }

    fn leveled_agenda() -> Json {
        json!({
            "meeting/1": {
                "agenda_show_internal_items_on_projector": false,
                "agenda_item_ids": [1, 2, 3, 4, 5, 6, 7, 8],
            },
            "agenda_item/1": {"item_number": "Ino1", "content_object_id": "topic/1", "meeting_id": 1, "level": 0, "weight": 2, "child_ids": [2, 3]},
            "agenda_item/2": {"item_number": "Ino1.1", "content_object_id": "topic/2", "meeting_id": 1, "level": 1, "weight": 3, "parent_id": 1, "child_ids": [4, 5]},
            "agenda_item/3": {"item_number": "Ino1.2", "content_object_id": "topic/3", "meeting_id": 1, "level": 1, "weight": 4, "parent_id": 1, "child_ids": []},
            "agenda_item/4": {"item_number": "Ino1.1.1", "content_object_id": "topic/4", "meeting_id": 1, "level": 3, "parent_id": 2, "child_ids": []},
            "agenda_item/5": {"item_number": "Ino1.1.2", "content_object_id": "topic/5", "meeting_id": 1, "level": 2, "parent_id": 2, "child_ids": []},
            "agenda_item/6": {"item_number": "Ino2", "content_object_id": "topic/6", "meeting_id": 1, "level": 0, "weight": 3, "parent_id": 0, "child_ids": [7]},
            "agenda_item/7": {"item_number": "Ino2.1", "content_object_id": "topic/7", "meeting_id": 1, "level": 1, "weight": 4, "parent_id": 6, "child_ids": [8]},
            "agenda_item/8": {"item_number": "Ino2.1.1", "content_object_id": "topic/8", "meeting_id": 1, "level": 2, "weight": 5, "parent_id": 7, "child_ids": []},
            "topic/1": {"title": "topic title 1"},
            "topic/2": {"title": "topic title 1.1"},
            "topic/3": {"title": "topic title 1.2"},
            "topic/4": {"title": "topic title 1.1.1"},
            "topic/5": {"title": "topic title 1.1.2"},
            "topic/6": {"title": "topic title 2"},
            "topic/7": {"title": "topic title 2.1"},
            "topic/8": {"title": "topic title 2.1.1"},
        })
    }

    #[tokio::test]
    async fn tree_order_and_depth() {
        let content = render(&leveled_agenda(), &agenda(Json::Null)).await;
        assert_eq!(
            content.unwrap(),
            json!({"items": [
                listed(0, topic_info(1, "Ino1", "topic title 1")),
                listed(1, topic_info(2, "Ino1.1", "topic title 1.1")),
                listed(2, topic_info(4, "Ino1.1.1", "topic title 1.1.1")),
                listed(2, topic_info(5, "Ino1.1.2", "topic title 1.1.2")),
                listed(1, topic_info(3, "Ino1.2", "topic title 1.2")),
                listed(0, topic_info(6, "Ino2", "topic title 2")),
                listed(1, topic_info(7, "Ino2.1", "topic title 2.1")),
                listed(2, topic_info(8, "Ino2.1.1", "topic title 2.1.1")),
            ]})
        );
    }

    #[tokio::test]
    async fn options_without_only_main_items() {
        let expected = render(&leveled_agenda(), &agenda(Json::Null))
            .await
            .unwrap();
        assert_eq!(expected["items"].as_array().unwrap().len(), 8);
        for options in [
            json!({}),
            json!({"only_main_items": false}),
            json!({"only_main_items": null}),
            json!({"other": 1}),
        ] {
            let content = render(&leveled_agenda(), &agenda(options.clone())).await;
            assert_eq!(content.unwrap(), expected, "options {options}");
        }
    }

    #[tokio::test]
    async fn only_main_items_uses_the_level() {
        let content = render(&leveled_agenda(), &agenda(json!({"only_main_items": true}))).await;
        assert_eq!(
            content.unwrap(),
            json!({"items": [
                listed(0, topic_info(1, "Ino1", "topic title 1")),
                listed(0, topic_info(6, "Ino2", "topic title 2")),
            ]})
        );
    }

    #[tokio::test]
    async fn invalid_options_fail() {
        for options in [
            json!([]),
            json!("only_main_items"),
            json!(true),
            json!({"only_main_items": "yes"}),
            json!({"only_main_items": 1}),
        ] {
            let error = render(&leveled_agenda(), &agenda(options.clone())).await;
            assert!(
                matches!(error, Err(SlideError::Invalid(_))),
                "options {options}: {error:?}"
            );
        }
    }

    #[tokio::test]
    async fn internal_items_when_the_meeting_shows_them() {
        let data = json!({
            "meeting/1": {"agenda_show_internal_items_on_projector": true, "agenda_item_ids": [1, 2, 3]},
            "agenda_item/1": {"item_number": "1", "content_object_id": "topic/1", "is_internal": true, "weight": 1},
            "agenda_item/2": {"item_number": "2", "content_object_id": "topic/2", "is_hidden": true, "weight": 2},
            "agenda_item/3": {"item_number": "3", "content_object_id": "topic/3", "is_hidden": true, "is_internal": true, "weight": 3},
            "topic/1": {"title": "internal"},
            "topic/2": {"title": "hidden"},
            "topic/3": {"title": "hidden and internal"},
        });
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": [listed(0, topic_info(1, "1", "internal"))]})
        );
    }

    #[tokio::test]
    async fn children_of_left_out_items_are_left_out() {
        let data = json!({
            "meeting/1": {"agenda_item_ids": [1, 2, 3, 4, 5]},
            "agenda_item/1": {"item_number": "1", "content_object_id": "topic/1", "is_hidden": true},
            "agenda_item/2": {"item_number": "1.1", "content_object_id": "topic/2", "parent_id": 1, "level": 1},
            "agenda_item/3": {"item_number": "1.1.1", "content_object_id": "topic/3", "parent_id": 2, "level": 2},
            "agenda_item/4": {"item_number": "2", "content_object_id": "topic/4", "weight": 1},
            "agenda_item/5": {"item_number": "x", "content_object_id": "topic/5", "parent_id": 99, "level": 1},
            "topic/1": {"title": "hidden"},
            "topic/2": {"title": "child of hidden"},
            "topic/3": {"title": "grandchild of hidden"},
            "topic/4": {"title": "shown"},
            "topic/5": {"title": "child of an item of another agenda"},
        });
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": [listed(0, topic_info(4, "2", "shown"))]})
        );
    }

    #[tokio::test]
    async fn equal_weights_sort_by_id() {
        let data = json!({
            "meeting/1": {"agenda_item_ids": [5, 3, 4, 2]},
            "agenda_item/2": {"item_number": "w1", "content_object_id": "topic/2", "weight": 1},
            "agenda_item/3": {"item_number": "unset", "content_object_id": "topic/3"},
            "agenda_item/4": {"item_number": "w-1", "content_object_id": "topic/4", "weight": -1},
            "agenda_item/5": {"item_number": "w0", "content_object_id": "topic/5", "weight": 0},
            "topic/2": {"title": "t2"},
            "topic/3": {"title": "t3"},
            "topic/4": {"title": "t4"},
            "topic/5": {"title": "t5"},
        });
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": [
                listed(0, topic_info(4, "w-1", "t4")),
                listed(0, topic_info(3, "unset", "t3")),
                listed(0, topic_info(5, "w0", "t5")),
                listed(0, topic_info(2, "w1", "t2")),
            ]})
        );
    }

    #[tokio::test]
    async fn empty_agenda() {
        let data = json!({"meeting/1": {}});
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": []})
        );

        let data = json!({
            "meeting/1": {"agenda_item_ids": [1]},
            "agenda_item/1": {"content_object_id": "topic/1", "is_hidden": true},
        });
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": []})
        );
    }

    #[tokio::test]
    async fn title_information_of_other_collections() {
        let data = json!({
            "meeting/1": {"agenda_item_ids": [1]},
            "agenda_item/1": {"item_number": "A", "content_object_id": "user/7", "weight": 1},
            "user/7": {"first_name": "Jonny", "meeting_user_ids": [10]},
            "meeting_user/10": {"meeting_id": 1, "structure_level_ids": [1]},
            "structure_level/1": {"name": "Level A"},
        });
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": [
                listed(0, json!({"collection": "user", "content_object_id": "user/7", "username": "Jonny (Level A)"})),
            ]})
        );
    }

    #[tokio::test]
    async fn listed_mediafile_fails_like_the_reference() {
        let data = json!({
            "meeting/1": {"agenda_item_ids": [2]},
            "agenda_item/2": {"item_number": "B", "content_object_id": "meeting_mediafile/3", "weight": 2},
            "meeting_mediafile/3": {"mediafile_id": 4},
            "mediafile/4": {"title": "minutes.pdf"},
        });
        assert!(render(&data, &agenda(Json::Null)).await.is_err());
    }

    #[tokio::test]
    async fn item_number_falls_back_to_the_topic() {
        let data = json!({
            "meeting/1": {"agenda_item_ids": [1]},
            "agenda_item/1": {"content_object_id": "topic/1"},
            "agenda_item/2": {"item_number": "TOP 2"},
            "topic/1": {"title": "t1", "agenda_item_id": 2},
        });
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": [listed(0, topic_info(1, "TOP 2", "t1"))]})
        );
    }

    #[tokio::test]
    async fn collection_without_title_information_fails() {
        let data = json!({
            "meeting/1": {"agenda_item_ids": [1]},
            "agenda_item/1": {"content_object_id": "projector_countdown/1"},
            "projector_countdown/1": {},
        });
        let error = render(&data, &agenda(Json::Null)).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("the collection projector_countdown has no title information"),
            "{error}"
        );

        let data = json!({
            "meeting/1": {"agenda_item_ids": [1]},
            "agenda_item/1": {"content_object_id": "projector_countdown/1", "is_hidden": true},
        });
        assert_eq!(
            render(&data, &agenda(Json::Null)).await.unwrap(),
            json!({"items": []})
        );
    }

    #[tokio::test]
    async fn missing_objects_fail() {
        let data = json!({"meeting/2": {}});
        let error = render(&data, &agenda(Json::Null)).await.unwrap_err();
        assert!(
            matches!(&error, SlideError::DoesNotExist(fqid) if fqid.to_string() == "meeting/1"),
            "{error}"
        );

        let data = json!({"meeting/1": {"agenda_item_ids": [1]}});
        let error = render(&data, &agenda(Json::Null)).await.unwrap_err();
        assert!(
            matches!(&error, SlideError::DoesNotExist(fqid) if fqid.to_string() == "agenda_item/1"),
            "{error}"
        );

        let data = json!({
            "meeting/1": {"agenda_item_ids": [1]},
            "agenda_item/1": {"content_object_id": "topic/1"},
        });
        let error = render(&data, &agenda(Json::Null)).await.unwrap_err();
        assert!(
            matches!(&error, SlideError::DoesNotExist(fqid) if fqid.to_string() == "topic/1"),
            "{error}"
        );

        let data = json!({
            "meeting/1": {"agenda_item_ids": [1]},
            "agenda_item/1": {"item_number": "1"},
        });
        let error = render(&data, &agenda(Json::Null)).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("agenda_item/1 has no content_object_id"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn wrongly_typed_fields_fail() {
        for fields in [
            json!({"content_object_id": "topic/1", "weight": "1"}),
            json!({"content_object_id": "topic/1", "parent_id": "1"}),
            json!({"content_object_id": "topic/1", "is_hidden": 1}),
            json!({"content_object_id": 5}),
        ] {
            let data = json!({
                "meeting/1": {"agenda_item_ids": [1]},
                "agenda_item/1": fields,
                "topic/1": {"title": "t1"},
            });
            let error = render(&data, &agenda(Json::Null)).await;
            assert!(
                matches!(error, Err(SlideError::Value { .. })),
                "fields {fields}: {error:?}"
            );
        }
    }
}
