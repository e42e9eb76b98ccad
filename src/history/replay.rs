//! Rebuilds objects from the events of the datastore's `events` table.

use serde_json::{Map, Value};

/// An object as the events up to some position left it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ObjectState {
    pub fields: Map<String, Value>,
    pub deleted: bool,
}

/// The event types of the `event_type` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Create,
    Update,
    Delete,
    DeleteFields,
    ListFields,
    Restore,
}

impl EventType {
    pub fn from_name(name: &str) -> Option<EventType> {
        Some(match name {
            "create" => EventType::Create,
            "update" => EventType::Update,
            "delete" => EventType::Delete,
            "deletefields" => EventType::DeleteFields,
            "listfields" => EventType::ListFields,
            "restore" => EventType::Restore,
            _ => return None,
        })
    }
}

/// Applies one event to an object, in the way the OpenSlides datastore writes them:
///
/// - `create`: `data` contains every field of the new object.
/// - `update`: `data` maps fields to their new values; `null` removes a field.
/// - `deletefields`: `data` is a list of the removed field names.
/// - `listfields`: `data` is `{"add": {field: [values]}, "remove": {field: [values]}}`.
///   Added values that the list already contains are not added twice.
/// - `delete` and `restore` hide and show the object again with its fields.
///
/// Events other than `create` on an object that was never created are ignored.
pub fn apply(state: &mut Option<ObjectState>, event: EventType, data: Option<Value>) {
    if event == EventType::Create {
        let fields = match data {
            Some(Value::Object(fields)) => fields,
            _ => Map::new(),
        };
        *state = Some(ObjectState {
            fields,
            deleted: false,
        });
        return;
    }
    let Some(object) = state else {
        return;
    };
    match event {
        EventType::Create => {}
        EventType::Update => {
            let Some(Value::Object(changes)) = data else {
                return;
            };
            for (field, value) in changes {
                if value.is_null() {
                    object.fields.remove(&field);
                } else {
                    object.fields.insert(field, value);
                }
            }
        }
        EventType::DeleteFields => {
            let Some(Value::Array(names)) = data else {
                return;
            };
            for name in names.iter().filter_map(Value::as_str) {
                object.fields.remove(name);
            }
        }
        EventType::ListFields => {
            let Some(Value::Object(changes)) = data else {
                return;
            };
            if let Some(Value::Object(add)) = changes.get("add") {
                for (field, values) in add {
                    add_to_list(&mut object.fields, field, values);
                }
            }
            if let Some(Value::Object(remove)) = changes.get("remove") {
                for (field, values) in remove {
                    remove_from_list(&mut object.fields, field, values);
                }
            }
        }
        EventType::Delete => object.deleted = true,
        EventType::Restore => object.deleted = false,
    }
}

fn add_to_list(fields: &mut Map<String, Value>, field: &str, values: &Value) {
    let Value::Array(values) = values else {
        return;
    };
    let entry = fields
        .entry(field.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    if let Value::Array(list) = entry {
        for value in values {
            if !list.contains(value) {
                list.push(value.clone());
            }
        }
    }
}

fn remove_from_list(fields: &mut Map<String, Value>, field: &str, values: &Value) {
    let Value::Array(values) = values else {
        return;
    };
    if let Some(Value::Array(list)) = fields.get_mut(field) {
        list.retain(|value| !values.contains(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replay(events: &[(EventType, Value)]) -> Option<ObjectState> {
        let mut state = None;
        for (event, data) in events {
            apply(&mut state, *event, Some(data.clone()));
        }
        state
    }

    #[test]
    fn update_sets_and_removes_fields() {
        let state = replay(&[
            (
                EventType::Create,
                json!({"id": 1, "title": "a", "text": "t"}),
            ),
            (EventType::Update, json!({"title": "b", "text": null})),
        ])
        .unwrap();
        assert_eq!(Value::Object(state.fields), json!({"id": 1, "title": "b"}));
    }

    #[test]
    fn deletefields_removes_fields() {
        let state = replay(&[
            (
                EventType::Create,
                json!({"id": 1, "title": "a", "text": "t"}),
            ),
            (EventType::DeleteFields, json!(["text", "missing"])),
        ])
        .unwrap();
        assert_eq!(Value::Object(state.fields), json!({"id": 1, "title": "a"}));
    }

    #[test]
    fn listfields_adds_and_removes_values() {
        let state = replay(&[
            (EventType::Create, json!({"id": 1, "tag_ids": [1, 2]})),
            (
                EventType::ListFields,
                json!({"add": {"tag_ids": [2, 3], "new_ids": [7]}, "remove": {"tag_ids": [1]}}),
            ),
        ])
        .unwrap();
        assert_eq!(state.fields["tag_ids"], json!([2, 3]));
        assert_eq!(state.fields["new_ids"], json!([7]));
    }

    #[test]
    fn delete_and_restore_keep_fields() {
        let deleted = replay(&[
            (EventType::Create, json!({"id": 1})),
            (EventType::Delete, Value::Null),
        ])
        .unwrap();
        assert!(deleted.deleted);
        let restored = replay(&[
            (EventType::Create, json!({"id": 1})),
            (EventType::Delete, Value::Null),
            (EventType::Restore, Value::Null),
        ])
        .unwrap();
        assert!(!restored.deleted);
        assert_eq!(restored.fields["id"], json!(1));
    }

    #[test]
    fn events_before_create_are_ignored() {
        assert_eq!(replay(&[(EventType::Update, json!({"a": 1}))]), None);
    }
}
