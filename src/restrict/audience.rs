//! `Audience`: whom a restriction run decides for, one user or a permission class.
//!
//! Most restriction results depend on a user only through a few personal facts: the
//! organization management level, the managed committees, and per meeting whether the
//! membership is locked out and which groups it has. Users who share these facts form a
//! `PermissionClass`. The rules run for a class as for a stand-in member who owns
//! nothing: user and membership ids that no stored object has, with the class's facts
//! as the values of their fields.
//!
//! A real member may see more than the stand-in only where the rules compare the viewer
//! with stored ids: the own user, a submitter, a speaker, the author of a note, a voter.
//! The run therefore collects, from every rule call that hid something, the user and
//! membership ids it read or decided about (`Personal`). A member whose ids are not among
//! them gets exactly the stand-in's values, and the others need a run of their own.

use super::RestrictError;
use crate::datastore::Datastore;
use crate::models::collections::{MeetingUser, User};
use crate::models::{Collection, FieldKind, FieldValue, Id, Key, MAX_ID};
use bytes::Bytes;
use hashbrown::HashSet;
use std::sync::Arc;

/// The user id of a class's stand-in member: the largest id a key can contain.
// NOTE: stored ids are counters far below it; a stored user or membership id this large
// would be taken for the stand-in's.
pub const STAND_IN_USER: Id = MAX_ID;

/// The membership ids of the stand-in count down from here, one per membership.
const FIRST_STAND_IN_MEMBERSHIP: Id = MAX_ID - 1;

/// Ids this far below the first stand-in membership are the stand-in's too.
const STAND_IN_MEMBERSHIP_RANGE: Id = 1 << 16;

fn stand_in_membership(index: usize) -> Id {
    FIRST_STAND_IN_MEMBERSHIP - index as Id
}

/// Whom a restriction run decides for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// One user; 0 is public access.
    User(Id),
    /// Every member of a permission class who is not personal for the run.
    Class(Arc<PermissionClass>),
}

impl Audience {
    /// Returns the user id the rules see: the user's, or the stand-in's for a class.
    pub fn user_id(&self) -> Id {
        match self {
            Audience::User(id) => *id,
            Audience::Class(_) => STAND_IN_USER,
        }
    }
}

impl From<super::Viewer> for Audience {
    fn from(viewer: super::Viewer) -> Audience {
        Audience::User(viewer.user_id)
    }
}

/// One membership of a permission class.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ClassMembership {
    meeting_id: Option<Id>,
    locked_out: Option<bool>,
    /// Sorted; the rules only ask whether a group is among them.
    group_ids: Vec<Id>,
}

/// The personal facts the rules read about a viewer, apart from comparing ids.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PermissionClass {
    organization_management_level: Option<String>,
    committee_management_ids: Vec<Id>,
    /// In the order of the user's `meeting_user_ids`.
    memberships: Vec<ClassMembership>,
}

/// A user, with the ids that make the user personal for a class run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Id,
    pub membership_ids: Vec<Id>,
}

/// The class of a user, with the user's identity and the keys it was read from.
pub struct ClassOf {
    pub class: Arc<PermissionClass>,
    pub identity: Identity,
    /// The keys read; when one changes, the user may be in another class.
    pub keys: Vec<Key>,
}

impl PermissionClass {
    /// Reads the class of a logged-in user.
    pub async fn load(datastore: &Datastore, user_id: Id) -> Result<ClassOf, RestrictError> {
        let user_keys = [
            User::ORGANIZATION_MANAGEMENT_LEVEL.key(user_id),
            User::COMMITTEE_MANAGEMENT_IDS.key(user_id),
            User::MEETING_USER_IDS.key(user_id),
        ];
        let values = datastore.get(&user_keys).await?;
        let level: Option<String> = decode(user_keys[0], &values[0])?;
        let mut committees: Vec<Id> = decode(user_keys[1], &values[1])?.unwrap_or_default();
        committees.sort_unstable();
        let membership_ids: Vec<Id> = decode(user_keys[2], &values[2])?.unwrap_or_default();

        let mut keys = user_keys.to_vec();
        let membership_keys: Vec<Key> = membership_ids
            .iter()
            .flat_map(|id| {
                [
                    MeetingUser::MEETING_ID.key(*id),
                    MeetingUser::LOCKED_OUT.key(*id),
                    MeetingUser::GROUP_IDS.key(*id),
                ]
            })
            .collect();
        let values = datastore.get(&membership_keys).await?;
        let mut memberships = Vec::with_capacity(membership_ids.len());
        for (keys, values) in membership_keys.chunks(3).zip(values.chunks(3)) {
            let mut group_ids: Vec<Id> = decode(keys[2], &values[2])?.unwrap_or_default();
            group_ids.sort_unstable();
            memberships.push(ClassMembership {
                meeting_id: decode(keys[0], &values[0])?,
                locked_out: decode(keys[1], &values[1])?,
                group_ids,
            });
        }
        keys.extend(membership_keys);

        Ok(ClassOf {
            class: Arc::new(PermissionClass {
                organization_management_level: level,
                committee_management_ids: committees,
                memberships,
            }),
            identity: Identity {
                user_id,
                membership_ids,
            },
            keys,
        })
    }

    /// Returns the stored value the stand-in has for a key of its own user or
    /// memberships. `None` when the key is not the stand-in's; `Some(Err(()))` when it
    /// is, but the class does not know the field.
    pub(super) fn stand_in_value(&self, key: Key) -> Option<Result<Option<Bytes>, ()>> {
        let field = key.field();
        let collection = field.collection();
        let json = match collection {
            Collection::User if key.id() == STAND_IN_USER => {
                if field == User::ORGANIZATION_MANAGEMENT_LEVEL.id() {
                    encode(&self.organization_management_level)
                } else if field == User::COMMITTEE_MANAGEMENT_IDS.id() {
                    encode(&non_empty(&self.committee_management_ids))
                } else if field == User::MEETING_USER_IDS.id() {
                    let ids: Vec<Id> = (0..self.memberships.len())
                        .map(stand_in_membership)
                        .collect();
                    encode(&non_empty(&ids))
                } else if field == Collection::User.id_field() {
                    encode(&Some(STAND_IN_USER))
                } else {
                    return Some(Err(()));
                }
            }
            Collection::MeetingUser => {
                let index = FIRST_STAND_IN_MEMBERSHIP.checked_sub(key.id())?;
                if index >= STAND_IN_MEMBERSHIP_RANGE {
                    return None;
                }
                let membership = usize::try_from(index)
                    .ok()
                    .and_then(|index| self.memberships.get(index));
                let Some(membership) = membership else {
                    // Above the stand-in's ids, but not one of them: no stored object.
                    return Some(Ok(None));
                };
                if field == MeetingUser::MEETING_ID.id() {
                    encode(&membership.meeting_id)
                } else if field == MeetingUser::LOCKED_OUT.id() {
                    encode(&membership.locked_out)
                } else if field == MeetingUser::GROUP_IDS.id() {
                    encode(&non_empty(&membership.group_ids))
                } else if field == MeetingUser::USER_ID.id() {
                    encode(&Some(STAND_IN_USER))
                } else if field == Collection::MeetingUser.id_field() {
                    encode(&Some(key.id()))
                } else {
                    return Some(Err(()));
                }
            }
            _ => return None,
        };
        Some(Ok(json))
    }
}

fn non_empty(ids: &[Id]) -> Option<&[Id]> {
    (!ids.is_empty()).then_some(ids)
}

fn encode<T: serde::Serialize>(value: &Option<T>) -> Option<Bytes> {
    value
        .as_ref()
        .and_then(|value| serde_json::to_vec(value).ok())
        .map(Bytes::from)
}

fn decode<V: FieldValue>(key: Key, value: &Option<Bytes>) -> Result<Option<V>, RestrictError> {
    match value {
        None => Ok(None),
        Some(raw) => V::decode(raw)
            .map(Some)
            .map_err(|error| RestrictError::Value { key, error }),
    }
}

/// The ids that make a member's results differ from a class run's, collected from the
/// rule calls that hid something.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Personal {
    pub user_ids: HashSet<Id>,
    pub membership_ids: HashSet<Id>,
    /// A rule read a personal field the class does not hold, so no member may share
    /// the run.
    pub everyone: bool,
}

impl Personal {
    /// Checks whether `identity` may differ from the class run.
    pub fn covers(&self, identity: &Identity) -> bool {
        self.everyone
            || self.user_ids.contains(&identity.user_id)
            || identity
                .membership_ids
                .iter()
                .any(|id| self.membership_ids.contains(id))
    }

    pub fn is_empty(&self) -> bool {
        !self.everyone && self.user_ids.is_empty() && self.membership_ids.is_empty()
    }

    /// Adds `other`; returns whether anything was new.
    pub fn extend(&mut self, other: &Personal) -> bool {
        let before = (
            self.user_ids.len(),
            self.membership_ids.len(),
            self.everyone,
        );
        self.user_ids.extend(other.user_ids.iter().copied());
        self.membership_ids
            .extend(other.membership_ids.iter().copied());
        self.everyone |= other.everyone;
        before
            != (
                self.user_ids.len(),
                self.membership_ids.len(),
                self.everyone,
            )
    }

    /// Notes the user and membership ids in a value a rule read.
    pub(super) fn note_value(&mut self, key: Key, raw: &[u8]) {
        let mut note = |collection: Collection, id: Id| match collection {
            Collection::User => {
                self.user_ids.insert(id);
            }
            Collection::MeetingUser => {
                self.membership_ids.insert(id);
            }
            _ => {}
        };
        match key.field().def().kind {
            FieldKind::Relation(target) if is_personal(target) => {
                if let Ok(id) = serde_json::from_slice::<Id>(raw) {
                    note(target, id);
                }
            }
            FieldKind::RelationList(target) if is_personal(target) => {
                if let Ok(ids) = serde_json::from_slice::<Vec<Id>>(raw) {
                    for id in ids {
                        note(target, id);
                    }
                }
            }
            FieldKind::GenericRelation(targets) if targets.iter().any(|c| is_personal(*c)) => {
                if let Ok(fqid) = serde_json::from_slice::<String>(raw) {
                    if let Some((collection, id)) = parse_fqid(&fqid) {
                        note(collection, id);
                    }
                }
            }
            FieldKind::GenericRelationList(targets) if targets.iter().any(|c| is_personal(*c)) => {
                if let Ok(fqids) = serde_json::from_slice::<Vec<String>>(raw) {
                    for (collection, id) in fqids.iter().filter_map(|f| parse_fqid(f)) {
                        note(collection, id);
                    }
                }
            }
            _ => {}
        }
    }

    /// Notes the objects a rule call hid when they are users or memberships.
    pub(super) fn note_objects(&mut self, collection: Collection, ids: impl Iterator<Item = Id>) {
        match collection {
            Collection::User => self.user_ids.extend(ids),
            Collection::MeetingUser => self.membership_ids.extend(ids),
            _ => {}
        }
    }
}

fn is_personal(collection: Collection) -> bool {
    matches!(collection, Collection::User | Collection::MeetingUser)
}

fn parse_fqid(text: &str) -> Option<(Collection, Id)> {
    let (collection, id) = text.split_once('/')?;
    Some((Collection::from_name(collection)?, id.parse().ok()?))
}
