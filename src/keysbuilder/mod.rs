//! The keysbuilder request: which fields of which objects a client asks for, and which
//! relations to follow. `Request::parse` checks a request against models.yml before any
//! datastore access.

mod parse;

pub use parse::RequestError;

/// Bounds on the size and shape of a request, against hostile or broken clients. The
/// defaults leave ample room above the largest requests of the OpenSlides client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Request objects in the body's list.
    pub max_objects: usize,
    /// Ids of one request object.
    pub max_ids: usize,
    /// Relation descriptions nested in each other.
    pub max_depth: usize,
    /// Keys the resolved request may contain at any time. A view costs about 500 bytes
    /// per key, measured with a request of 2.56 million keys on a release build.
    // NOTE: this bounds one request only. The streams of one user together are bounded
    // by nothing but their number, which the reverse proxy has to limit.
    pub max_keys: usize,
    /// Bytes of the decoded `k` query parameter.
    pub max_k_bytes: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_objects: 1_000,
        max_ids: 100_000,
        max_depth: 20,
        max_keys: 1_000_000,
        max_k_bytes: 16_384,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

use crate::models::{Collection, FieldId, FieldKind, Fqid, Id};
use smallvec::SmallVec;
use std::sync::Arc;

/// Index of a `FieldSet` in its `Request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldSetId(pub u32);

/// The way the value of a key leads to the objects of a nested field set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Follow {
    /// An id of the given collection.
    Relation(Collection),
    /// A list of ids of the given collection.
    RelationList(Collection),
    /// One `collection/id` string.
    GenericRelation,
    /// A list of `collection/id` strings.
    GenericRelationList,
}

/// One requested field of a field set, resolved for one collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestedField {
    pub field: FieldId,
    /// The field set to apply to the objects this field's value points to.
    pub follow: Option<FieldSetId>,
}

/// The fields requested of every object that one part of the request reaches.
#[derive(Debug)]
pub struct FieldSet {
    /// The way a parent key's value leads here; `None` for the roots.
    pub follow: Option<Follow>,
    /// The requested fields per collection. A typed field set has one entry; a field set
    /// below a generic relation has one per collection that has any of its fields.
    by_collection: SmallVec<[(Collection, Box<[RequestedField]>); 1]>,
}

impl FieldSet {
    /// Returns the requested fields of an object of `collection`, or an empty slice when
    /// the collection has none of them.
    pub fn fields_for(&self, collection: Collection) -> &[RequestedField] {
        self.by_collection
            .iter()
            .find(|(c, _)| *c == collection)
            .map_or(&[], |(_, fields)| fields)
    }
}

/// Objects of one collection that a request starts from.
#[derive(Debug)]
pub struct Root {
    pub collection: Collection,
    pub ids: Vec<Id>,
    pub field_set: FieldSetId,
}

/// A checked keysbuilder request.
#[derive(Debug)]
pub struct Request {
    field_sets: Vec<FieldSet>,
    roots: Vec<Root>,
    /// A text form that is equal for requests that ask for the same keys in the same way,
    /// whatever the order of their fields and ids.
    canonical: Arc<str>,
    /// The maximum number of keys the request may resolve to; see `Limits::max_keys`.
    max_keys: usize,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            field_sets: Vec::new(),
            roots: Vec::new(),
            canonical: Arc::from(""),
            max_keys: Limits::DEFAULT.max_keys,
        }
    }
}

impl Request {
    pub fn field_set(&self, id: FieldSetId) -> &FieldSet {
        &self.field_sets[id.0 as usize]
    }

    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Returns the maximum number of keys a view of this request may contain. More keys
    /// end the view with `AutoupdateError::TooManyKeys`.
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Returns the request's canonical text. Two requests with the same text resolve to
    /// the same keys for the same user.
    pub fn canonical(&self) -> &Arc<str> {
        &self.canonical
    }

    /// The objects a key's value points to when followed as `follow`. Ids of zero or
    /// less end the branch silently, as null values do.
    pub fn targets(follow: Follow, raw: &[u8]) -> Result<SmallVec<[Fqid; 4]>, TargetError> {
        parse::targets(follow, raw)
    }
}

/// A value that cannot be followed the way the request describes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("got {got}, expected {expected}")]
pub struct TargetError {
    pub got: String,
    pub expected: &'static str,
}

impl Follow {
    /// Checks whether `kind`, the type of a field in models.yml, can be followed like this. Plain
    /// `number` and `number[]` fields that hold ids may be followed as relations, because
    /// the OpenSlides client does so (for example `user/meeting_ids`).
    fn fits(self, kind: FieldKind) -> bool {
        use crate::models::ScalarType;
        match (self, kind) {
            (Follow::Relation(c), FieldKind::Relation(to)) => c == to,
            (Follow::RelationList(c), FieldKind::RelationList(to)) => c == to,
            (Follow::Relation(_), FieldKind::Scalar(ScalarType::Number)) => true,
            (Follow::RelationList(_), FieldKind::Scalar(ScalarType::NumberList)) => true,
            (Follow::GenericRelation, FieldKind::GenericRelation(_)) => true,
            (Follow::GenericRelationList, FieldKind::GenericRelationList(_)) => true,
            _ => false,
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Follow::Relation(_) => "relation",
            Follow::RelationList(_) => "relation-list",
            Follow::GenericRelation => "generic-relation",
            Follow::GenericRelationList => "generic-relation-list",
        }
    }
}

#[cfg(test)]
mod tests;
