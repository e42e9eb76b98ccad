//! The visibility rules of old data. Organization managers see everything except
//! passwords and the personal notes of others. Meeting admins see the objects of their
//! meetings and the users in them, and everyone else sees nothing.

use crate::datastore::{Datastore, Value};
use crate::models::{collections, Collection, FieldId, Id, Key};
use crate::restrict::permission::OrganizationManagementLevel;
use crate::restrict::{Context, Dependencies, RestrictError, Restricter, Viewer};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A user's history permissions, read from the current datastore.
#[derive(Debug, Default)]
pub struct Access {
    pub organization_manager: bool,
    /// The meetings the user is an admin of.
    pub admin_meetings: HashSet<Id>,
}

impl Access {
    /// Reads the permissions of `viewer`. Public access has none.
    pub async fn load(current: Arc<Datastore>, viewer: Viewer) -> Result<Access, RestrictError> {
        let user_id = viewer.user_id;
        if user_id == 0 {
            return Ok(Access::default());
        }
        let mut ctx = Context::new(current, viewer);
        let organization_manager = ctx
            .has_oml(OrganizationManagementLevel::CanManageOrganization)
            .await?;
        // `user/meeting_ids` is a `number[]` field, so it decodes as signed numbers.
        let meeting_ids: Vec<i64> = ctx
            .get_one(collections::User::MEETING_IDS, user_id)
            .await?
            .unwrap_or_default();
        let mut admin_meetings = HashSet::new();
        for meeting_id in meeting_ids
            .into_iter()
            .filter_map(|id| Id::try_from(id).ok())
        {
            if ctx
                .perms(meeting_id)
                .await?
                .is_some_and(|perms| perms.is_admin())
            {
                admin_meetings.insert(meeting_id);
            }
        }
        Ok(Access {
            organization_manager,
            admin_meetings,
        })
    }

    pub fn sees_nothing(&self) -> bool {
        !self.organization_manager && self.admin_meetings.is_empty()
    }
}

/// What decides whether a key is visible.
enum Check {
    Visible,
    Hidden,
    /// Visible to admins of the meeting in this `meeting_id` key.
    MeetingOf(Key),
    /// A personal note, visible to its owner only: the key is its `meeting_user_id`.
    PersonalNote(Key),
    /// A user, visible to admins of a meeting the user was in: the key is the user's
    /// `meeting_user_ids`.
    User(Key),
}

/// The restriction of old data. Permissions come from the current datastore, while the
/// meeting of an object is read from the old state, so that deleted or moved objects
/// are judged by where they were at that position.
pub struct HistoryRestricter {
    pub access: Access,
    pub old: Arc<Datastore>,
}

impl HistoryRestricter {
    fn check(&self, key: Key, user_id: Id) -> Check {
        let collection = key.collection();
        let name = collection.name();
        if user_id == 0 || (name == "user" && key.field().name() == "password") {
            return Check::Hidden;
        }
        if name == "personal_note" {
            return field_key(collection, "meeting_user_id", key.id())
                .map_or(Check::Hidden, Check::PersonalNote);
        }
        if self.access.organization_manager {
            return Check::Visible;
        }
        match name {
            "theme" | "organization" | "organization_tag" | "mediafile" => Check::Visible,
            "committee" => Check::Hidden,
            "meeting" if self.access.admin_meetings.contains(&key.id()) => Check::Visible,
            "meeting" => Check::Hidden,
            "user" => field_key(collection, "meeting_user_ids", key.id())
                .map_or(Check::Hidden, Check::User),
            _ => field_key(collection, "meeting_id", key.id())
                .map_or(Check::Hidden, Check::MeetingOf),
        }
    }

    async fn restrict_values(
        &self,
        viewer: Viewer,
        values: &mut [(Key, Value)],
    ) -> Result<(), RestrictError> {
        let checks: Vec<Check> = values
            .iter()
            .map(|(key, _)| self.check(*key, viewer.user_id))
            .collect();

        // The first round reads the keys the checks name, the second the meeting users
        // they point to.
        let mut first: Vec<Key> = checks
            .iter()
            .filter_map(|check| match check {
                Check::MeetingOf(key) | Check::PersonalNote(key) | Check::User(key) => Some(*key),
                _ => None,
            })
            .collect();
        first.sort_unstable();
        first.dedup();
        let first_values = self.read(&first).await?;

        let meeting_user_user = field_key(Collection::MeetingUser, "user_id", 0);
        let meeting_user_meeting = field_key(Collection::MeetingUser, "meeting_id", 0);
        let mut second: Vec<Key> = Vec::new();
        for check in &checks {
            match check {
                Check::PersonalNote(key) => {
                    if let (Some(field), Some(id)) =
                        (meeting_user_user, decode::<Id>(&first_values, *key))
                    {
                        second.push(Key::new(field.field(), id));
                    }
                }
                Check::User(key) => {
                    let ids = decode::<Vec<Id>>(&first_values, *key).unwrap_or_default();
                    if let Some(field) = meeting_user_meeting {
                        second.extend(ids.into_iter().map(|id| Key::new(field.field(), id)));
                    }
                }
                _ => {}
            }
        }
        second.sort_unstable();
        second.dedup();
        let second_values = self.read(&second).await?;

        for ((_, value), check) in values.iter_mut().zip(checks) {
            let visible = match check {
                Check::Visible => true,
                Check::Hidden => false,
                Check::MeetingOf(key) => self.meeting_of(&first_values, key),
                Check::PersonalNote(key) => {
                    let owner = decode::<Id>(&first_values, key).and_then(|meeting_user| {
                        let field = meeting_user_user?.field();
                        decode::<Id>(&second_values, Key::new(field, meeting_user))
                    });
                    owner == Some(viewer.user_id)
                }
                Check::User(key) => {
                    let meeting_users = decode::<Vec<Id>>(&first_values, key).unwrap_or_default();
                    meeting_users.into_iter().any(|meeting_user| {
                        meeting_user_meeting
                            .and_then(|field| {
                                decode::<Id>(&second_values, Key::new(field.field(), meeting_user))
                            })
                            .is_some_and(|meeting| self.access.admin_meetings.contains(&meeting))
                    })
                }
            };
            if !visible {
                *value = None;
            }
        }
        Ok(())
    }

    /// Checks whether the viewer is an admin of the meeting that `key`, a `meeting_id`,
    /// points to.
    // NOTE: an object that did not exist at the position has no meeting, so it is hidden.
    // The Go service failed the whole request in that case.
    fn meeting_of(&self, values: &HashMap<Key, Value>, key: Key) -> bool {
        decode::<Id>(values, key)
            .is_some_and(|meeting| self.access.admin_meetings.contains(&meeting))
    }

    async fn read(&self, keys: &[Key]) -> Result<HashMap<Key, Value>, RestrictError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let values = self.old.get(keys).await?;
        Ok(keys.iter().copied().zip(values).collect())
    }
}

impl Restricter for HistoryRestricter {
    fn restrict<'a>(
        &'a self,
        viewer: Viewer,
        values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<Dependencies, RestrictError>> {
        Box::pin(async move {
            self.restrict_values(viewer, values).await?;
            Ok(Dependencies::new())
        })
    }
}

/// Looks up the key of a field by name; `None` when the collection has no such field.
fn field_key(collection: Collection, field: &str, id: Id) -> Option<Key> {
    let field: FieldId = collection.field(field)?;
    Some(Key::new(field, id))
}

/// Decodes a read value; a missing or malformed value is `None`.
fn decode<T: DeserializeOwned>(values: &HashMap<Key, Value>, key: Key) -> Option<T> {
    let raw = values.get(&key)?.as_ref()?;
    serde_json::from_slice(raw).ok()
}
