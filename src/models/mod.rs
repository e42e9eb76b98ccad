//! The OpenSlides schema as Rust types: collections, fields and keys.
//!
//! `Collection`, `RestrictionMode`, `FIELD_DEFS` and one marker type per collection (such
//! as `collections::Motion` with `Motion::TITLE`) are generated from models.yml at build time.

mod key;
mod value;

pub use key::{parse_id, Fqid, Id, Key, KeyParseError, MAX_ID};
pub use value::{DecodeError, FieldValue};

use std::marker::PhantomData;

/// Index of a field in `FIELD_DEFS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

/// One field of models.yml.
#[derive(Debug)]
pub struct FieldDef {
    pub collection: Collection,
    pub name: &'static str,
    pub kind: FieldKind,
    /// For relations: each target collection with its field that points back here.
    pub reverse: &'static [(Collection, &'static str)],
    pub restriction_mode: RestrictionMode,
    /// The value is computed by a service instead of being stored by the backend.
    pub calculated: bool,
    pub required: bool,
    /// The allowed values when models.yml lists them (`enum`, or `items.enum` for each
    /// item of a list). Numbers are written as their JSON text.
    pub enum_values: &'static [&'static str],
}

/// The type of a field and, for relations, the collections it points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Scalar(ScalarType),
    Relation(Collection),
    RelationList(Collection),
    GenericRelation(&'static [Collection]),
    GenericRelationList(&'static [Collection]),
}

/// The non-relation field types of models.yml.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarType {
    String,
    Text,
    HtmlStrict,
    HtmlPermissive,
    Color,
    Number,
    Float,
    Boolean,
    Json,
    Decimal,
    Timestamp,
    NumberList,
    StringList,
}

impl FieldKind {
    /// The name models.yml uses for this type.
    pub fn type_name(self) -> &'static str {
        match self {
            FieldKind::Relation(_) => "relation",
            FieldKind::RelationList(_) => "relation-list",
            FieldKind::GenericRelation(_) => "generic-relation",
            FieldKind::GenericRelationList(_) => "generic-relation-list",
            FieldKind::Scalar(ScalarType::NumberList) => "number[]",
            FieldKind::Scalar(ScalarType::StringList) => "string[]",
            FieldKind::Scalar(ScalarType::Number) => "number",
            FieldKind::Scalar(_) => "scalar",
        }
    }
}

impl FieldId {
    /// The definition of this field.
    pub fn def(self) -> &'static FieldDef {
        &FIELD_DEFS[usize::from(self.0)]
    }

    pub fn collection(self) -> Collection {
        self.def().collection
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Looks up `collection/field`.
    pub fn from_names(collection: &str, field: &str) -> Option<FieldId> {
        Collection::from_name(collection)?.field(field)
    }
}

impl std::fmt::Display for FieldId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.collection().name(), self.name())
    }
}

impl std::fmt::Display for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A collection as a type, for typed access to its fields.
pub trait Model {
    const COLLECTION: Collection;
}

/// A field of collection `M` whose values decode to `V`, such as `collections::Motion::TITLE`.
pub struct Field<M, V> {
    id: FieldId,
    marker: PhantomData<fn() -> (M, V)>,
}

impl<M, V> Clone for Field<M, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, V> Copy for Field<M, V> {}

impl<M: Model, V: FieldValue> Field<M, V> {
    pub const fn new(id: FieldId) -> Self {
        Field {
            id,
            marker: PhantomData,
        }
    }

    pub const fn id(self) -> FieldId {
        self.id
    }

    /// The key of this field on the object with the given id.
    pub fn key(self, id: Id) -> Key {
        Key::new(self.id, id)
    }
}

#[allow(clippy::all)]
mod generated {
    use super::*;
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}

pub use generated::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_have_all_collections() {
        assert_eq!(Collection::ALL.len(), 46);
        assert_eq!(Collection::from_name("motion"), Some(Collection::Motion));
        assert_eq!(Collection::from_name("nope"), None);
        assert_eq!(
            Collection::MotionChangeRecommendation.name(),
            "motion_change_recommendation"
        );
    }

    #[test]
    fn field_lookup_matches_definitions() {
        for collection in Collection::ALL {
            for field in collection.field_ids() {
                assert_eq!(field.collection(), collection);
                assert_eq!(collection.field(field.name()), Some(field));
            }
        }
        assert!(Collection::User.field("nope").is_none());
    }

    #[test]
    fn field_kinds_follow_models_yml() {
        let state = FieldId::from_names("motion", "state_id").unwrap();
        assert_eq!(
            state.def().kind,
            FieldKind::Relation(Collection::MotionState)
        );
        assert_eq!(state.def().restriction_mode, RestrictionMode::C);

        let tagged = FieldId::from_names("tag", "tagged_ids").unwrap();
        assert_eq!(
            tagged.def().kind,
            FieldKind::GenericRelationList(&[
                Collection::AgendaItem,
                Collection::Assignment,
                Collection::Motion
            ])
        );

        assert_eq!(
            state.def().reverse,
            &[(Collection::MotionState, "motion_ids")]
        );

        let permissions = FieldId::from_names("group", "permissions").unwrap();
        assert!(permissions.def().enum_values.contains(&"motion.can_see"));
        let font_size = FieldId::from_names("meeting", "export_pdf_fontsize").unwrap();
        assert_eq!(font_size.def().enum_values, &["10", "11", "12"]);

        let content = FieldId::from_names("projection", "content").unwrap();
        assert!(content.def().calculated);

        let meeting_ids = FieldId::from_names("user", "meeting_ids").unwrap();
        assert_eq!(
            meeting_ids.def().kind,
            FieldKind::Scalar(ScalarType::NumberList)
        );
    }

    #[test]
    fn typed_fields_point_to_their_definition() {
        assert_eq!(collections::Motion::TITLE.id().name(), "title");
        assert_eq!(
            collections::Motion::TITLE.id().collection(),
            Collection::Motion
        );
        assert_eq!(
            collections::Motion::TITLE.key(5).to_string(),
            "motion/5/title"
        );
    }
}
