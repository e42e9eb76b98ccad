//! `Key` (`collection/id/field`) and `Fqid` (`collection/id`) as small copyable values.

use super::{Collection, FieldId};
use std::fmt;

/// An object id. OpenSlides ids are positive.
pub type Id = u64;

/// The largest id a `Key` can hold (48 bits).
pub const MAX_ID: Id = (1 << 48) - 1;

/// A field of one object, `collection/id/field`, packed into 64 bits: the field id in the
/// upper 16 bits and the object id in the lower 48.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(u64);

/// An object, `collection/id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fqid {
    pub collection: Collection,
    pub id: Id,
}

/// Why a string is not a valid key or fqid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("{0:?} is not of the form collection/id/field")]
    Form(String),
    #[error("{0:?}: the id is not a positive integer")]
    Id(String),
    #[error("{0:?}: unknown collection")]
    Collection(String),
    #[error("{0:?}: {1} does not exist")]
    Field(String, String),
}

impl Key {
    /// Builds a key. Panics in debug builds when `id` exceeds `MAX_ID`; callers check ids
    /// with `parse_id` first.
    pub fn new(field: FieldId, id: Id) -> Key {
        debug_assert!(id <= MAX_ID);
        Key((u64::from(field.0) << 48) | (id & MAX_ID))
    }

    pub fn field(self) -> FieldId {
        FieldId((self.0 >> 48) as u16)
    }

    pub fn id(self) -> Id {
        self.0 & MAX_ID
    }

    pub fn collection(self) -> Collection {
        self.field().collection()
    }

    pub fn fqid(self) -> Fqid {
        Fqid {
            collection: self.collection(),
            id: self.id(),
        }
    }

    /// The packed form, for hashing and compact state.
    pub fn to_u64(self) -> u64 {
        self.0
    }

    /// Reads the packed form back; `None` when it names no field or a zero id.
    pub fn from_u64(packed: u64) -> Option<Key> {
        let field = usize::try_from(packed >> 48).ok()?;
        (field < super::FIELD_DEFS.len() && packed & MAX_ID != 0).then_some(Key(packed))
    }

    /// Parses `collection/id/field`, checking collection and field against models.yml.
    pub fn parse(text: &str) -> Result<Key, KeyParseError> {
        let mut parts = text.split('/');
        let (Some(collection), Some(id), Some(field), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyParseError::Form(text.to_string()));
        };
        let id = parse_id(id).ok_or_else(|| KeyParseError::Id(text.to_string()))?;
        let collection = Collection::from_name(collection).ok_or_else(|| {
            KeyParseError::Field(text.to_string(), format!("{collection}/{field}"))
        })?;
        let field = collection.field(field).ok_or_else(|| {
            KeyParseError::Field(text.to_string(), format!("{collection}/{field}"))
        })?;
        Ok(Key::new(field, id))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.collection().name(),
            self.id(),
            self.field().name()
        )
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Fqid {
    pub fn new(collection: Collection, id: Id) -> Fqid {
        Fqid { collection, id }
    }

    /// Parses `collection/id`.
    pub fn parse(text: &str) -> Result<Fqid, KeyParseError> {
        let (collection, id) = text
            .split_once('/')
            .ok_or_else(|| KeyParseError::Form(text.to_string()))?;
        let id = parse_id(id).ok_or_else(|| KeyParseError::Id(text.to_string()))?;
        let collection = Collection::from_name(collection)
            .ok_or_else(|| KeyParseError::Collection(text.to_string()))?;
        Ok(Fqid { collection, id })
    }
}

impl fmt::Display for Fqid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.collection.name(), self.id)
    }
}

/// Parses a positive decimal id of at most `MAX_ID`, without sign or leading zeros.
pub fn parse_id(text: &str) -> Option<Id> {
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<Id>().ok().filter(|id| *id <= MAX_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_roundtrips_through_text() {
        let key = Key::parse("motion/42/title").unwrap();
        assert_eq!(key.id(), 42);
        assert_eq!(key.collection(), Collection::Motion);
        assert_eq!(key.field().name(), "title");
        assert_eq!(key.to_string(), "motion/42/title");
    }

    #[test]
    fn key_parse_rejects_bad_forms() {
        assert!(matches!(
            Key::parse("motion/42"),
            Err(KeyParseError::Form(_))
        ));
        assert!(matches!(
            Key::parse("motion/1/title/x"),
            Err(KeyParseError::Form(_))
        ));
        assert!(matches!(
            Key::parse("motion/0/title"),
            Err(KeyParseError::Id(_))
        ));
        assert!(matches!(
            Key::parse("motion/-1/title"),
            Err(KeyParseError::Id(_))
        ));
        assert!(matches!(
            Key::parse("motion/abc/title"),
            Err(KeyParseError::Id(_))
        ));
        assert!(matches!(
            Key::parse("motion/1/nope"),
            Err(KeyParseError::Field(..))
        ));
        assert!(matches!(
            Key::parse("nope/1/id"),
            Err(KeyParseError::Field(..))
        ));
        assert!(matches!(
            Key::parse("motion/281474976710656/title"),
            Err(KeyParseError::Id(_))
        ));
    }

    #[test]
    fn key_holds_max_id() {
        let key = Key::parse("motion/281474976710655/title").unwrap();
        assert_eq!(key.id(), MAX_ID);
        assert_eq!(key.field().name(), "title");
    }

    #[test]
    fn fqid_parses_collection_and_id() {
        let fqid = Fqid::parse("topic/7").unwrap();
        assert_eq!(fqid, Fqid::new(Collection::Topic, 7));
        assert_eq!(fqid.to_string(), "topic/7");
        assert!(Fqid::parse("topic").is_err());
        assert!(Fqid::parse("topic/x").is_err());
        assert!(Fqid::parse("nope/1").is_err());
    }
}
