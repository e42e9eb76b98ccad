//! An export under construction: objects per collection with sequential ids, and a relation
//! setter that also writes the reverse field that models.yml names.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::MIGRATION_INDEX_KEY;
use crate::models::{Collection, FieldId, FieldKind, Fqid, Id};

/// Objects by collection. The object with id `n` sits at index `n - 1`.
#[derive(Default)]
pub(super) struct Store {
    collections: BTreeMap<Collection, Vec<Map<String, Value>>>,
}

impl Store {
    /// Creates an object with the next free id of its collection and sets its `id` field.
    pub fn create(&mut self, collection: Collection) -> Fqid {
        let objects = self.collections.entry(collection).or_default();
        let id = objects.len() as Id + 1;
        let mut object = Map::new();
        object.insert("id".to_string(), Value::from(id));
        objects.push(object);
        Fqid::new(collection, id)
    }

    /// Sets a non-relation field. Relations go through `link`, which keeps both sides equal.
    pub fn set(&mut self, object: Fqid, field: &str, value: impl Into<Value>) {
        debug_assert!(
            matches!(
                field_id(object.collection, field).def().kind,
                FieldKind::Scalar(_)
            ),
            "{}/{field} is a relation, set it with link",
            object.collection
        );
        self.object_mut(object)
            .insert(field.to_string(), value.into());
    }

    /// Points `field` of `from` to `to` and adds `from` to the reverse field of `to`.
    ///
    /// A relation-list field gets `to` appended. Generic relations store `"collection/id"`.
    /// Panics when `field` is no relation to the collection of `to` in models.yml, which is a
    /// bug in the generator.
    pub fn link(&mut self, from: Fqid, field: &str, to: Fqid) {
        let forward = field_id(from.collection, field);
        let def = forward.def();
        let Some((_, back_name)) = def.reverse.iter().find(|(c, _)| *c == to.collection) else {
            panic!(
                "{}/{field} can not point to {}",
                from.collection, to.collection
            );
        };
        let back = field_id(to.collection, back_name);
        self.write_relation(from, forward, to);
        self.write_relation(to, back, from);
    }

    /// Converts the store into the export shape `{"<collection>": {"<id>": {...}}}` with the
    /// migration index at the top level.
    pub fn into_export(self, migration_index: u64) -> Value {
        let mut root = Map::new();
        root.insert(
            MIGRATION_INDEX_KEY.to_string(),
            Value::from(migration_index),
        );
        for (collection, objects) in self.collections {
            let by_id: Map<String, Value> = objects
                .into_iter()
                .enumerate()
                .map(|(i, object)| ((i + 1).to_string(), Value::Object(object)))
                .collect();
            root.insert(collection.name().to_string(), Value::Object(by_id));
        }
        Value::Object(root)
    }

    fn write_relation(&mut self, object: Fqid, field: FieldId, target: Fqid) {
        let def = field.def();
        let value = match def.kind {
            FieldKind::Relation(_) | FieldKind::RelationList(_) => Value::from(target.id),
            FieldKind::GenericRelation(_) | FieldKind::GenericRelationList(_) => {
                Value::from(target.to_string())
            }
            FieldKind::Scalar(_) => panic!("{field} is not a relation"),
        };
        let fields = self.object_mut(object);
        match def.kind {
            FieldKind::RelationList(_) | FieldKind::GenericRelationList(_) => {
                let list = fields
                    .entry(def.name)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(value);
                }
            }
            _ => {
                fields.insert(def.name.to_string(), value);
            }
        }
    }

    fn object_mut(&mut self, object: Fqid) -> &mut Map<String, Value> {
        self.collections
            .get_mut(&object.collection)
            .and_then(|objects| objects.get_mut(index(object.id)))
            .unwrap_or_else(|| panic!("{object} was not created"))
    }
}

fn index(id: Id) -> usize {
    (id - 1) as usize
}

/// Looks up a field that the generator names in code. Panics when models.yml lacks it.
fn field_id(collection: Collection, name: &str) -> FieldId {
    collection
        .field(name)
        .unwrap_or_else(|| panic!("models.yml has no field {collection}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_link_writes_both_sides() {
        let mut store = Store::default();
        let meeting = store.create(Collection::Meeting);
        let motion = store.create(Collection::Motion);
        let item = store.create(Collection::AgendaItem);
        store.link(motion, "meeting_id", meeting);
        store.link(item, "content_object_id", motion);

        let export = store.into_export(67);
        assert_eq!(export["motion"]["1"]["meeting_id"], 1);
        assert_eq!(export["meeting"]["1"]["motion_ids"], serde_json::json!([1]));
        assert_eq!(export["agenda_item"]["1"]["content_object_id"], "motion/1");
        assert_eq!(export["motion"]["1"]["agenda_item_id"], 1);
        assert_eq!(export["_migration_index"], 67);
    }
}
