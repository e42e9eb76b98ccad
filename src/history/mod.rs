//! History: the data of a request as it was at an earlier datastore position, rebuilt
//! from the `events` table, and the list of positions that changed one object.

mod access;
mod replay;
mod source;

pub use access::{Access, HistoryRestricter};
pub use replay::{EventType, ObjectState};
pub use source::PositionSource;

use crate::autoupdate::{encode_message, AutoupdateError, Reader, ViewState};
use crate::datastore::{Datastore, DatastoreError, PostgresSource};
use crate::keysbuilder::Request;
use crate::models::{Collection, Fqid, Id, Key};
use crate::restrict::permission::{OrganizationManagementLevel, Permission};
use crate::restrict::{Context, RestrictError, Viewer};
use bytes::Bytes;
use std::sync::Arc;

/// The reasons a history request fails.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("position {position} does not exist; the newest position is {newest}")]
    PositionNotFound { position: i32, newest: i32 },
    #[error("fqid {0:?} is invalid: expected collection/id, such as motion/42")]
    InvalidFqid(String),
    #[error("{0} does not exist")]
    NotExist(Fqid),
    #[error("you are not allowed to see the history of {0}")]
    PermissionDenied(Fqid),
    #[error(transparent)]
    Autoupdate(#[from] AutoupdateError),
}

impl From<DatastoreError> for HistoryError {
    fn from(error: DatastoreError) -> Self {
        HistoryError::Autoupdate(error.into())
    }
}

impl From<RestrictError> for HistoryError {
    fn from(error: RestrictError) -> Self {
        HistoryError::Autoupdate(error.into())
    }
}

/// Old data from the PostgreSQL datastore, with permissions from the current data.
pub struct History {
    postgres: PostgresSource,
    current: Arc<Datastore>,
}

impl History {
    /// `current` is the cache of current values that permissions are read from.
    pub fn new(postgres: PostgresSource, current: Arc<Datastore>) -> History {
        History { postgres, current }
    }

    /// Returns the message for `request` with the values at `position`. Users who are
    /// neither organization managers nor meeting admins get an empty message.
    pub async fn data(
        &self,
        viewer: Viewer,
        request: Arc<Request>,
        position: i32,
    ) -> Result<Bytes, HistoryError> {
        let newest = self.newest_position().await?;
        if position > newest {
            return Err(HistoryError::PositionNotFound { position, newest });
        }

        let access = Access::load(self.current.clone(), viewer).await?;
        if access.sees_nothing() {
            return Ok(encode_message(&[]));
        }
        // A cache of its own per request, since values at a position are not shared.
        let old = Arc::new(Datastore::new(Arc::new(PositionSource::new(
            self.postgres.clone(),
            position,
        ))));
        let restricter = HistoryRestricter {
            access,
            old: old.clone(),
        };
        let reader = Reader {
            datastore: &old,
            restricter: &restricter,
            projector: None,
            votes: None,
        };
        let mut state = ViewState::new(request, viewer);
        let changes = state.resolve(&reader, &mut |_| {}).await?;
        Ok(encode_message(&changes.values))
    }

    /// Returns the newest position, or 0 when the datastore has none.
    async fn newest_position(&self) -> Result<i32, HistoryError> {
        let client = self.postgres.client().await?;
        let row = client
            .query_one("SELECT max(position) FROM positions", &[])
            .await
            .map_err(|err| DatastoreError::Query(source::query_error(&err)))?;
        let newest: Option<i32> = row.get(0);
        Ok(newest.unwrap_or(0))
    }

    /// Returns `{"collection/id": [{"position", "timestamp", "user_id", "information"}]}`
    /// with every position that changed the object and has information, oldest first,
    /// followed by a newline. Objects of a meeting need the permission
    /// `meeting.can_see_history` there, other objects the organization management level
    /// `can_manage_organization`.
    pub async fn information(&self, viewer: Viewer, raw_fqid: &str) -> Result<Bytes, HistoryError> {
        let fqid =
            Fqid::parse(raw_fqid).map_err(|_| HistoryError::InvalidFqid(raw_fqid.to_string()))?;
        let mut ctx = Context::new(self.current.clone(), viewer);
        let allowed = match self.meeting_of(fqid).await? {
            Some(meeting_id) => ctx
                .perms(meeting_id)
                .await?
                .is_some_and(|perms| perms.has(Permission::MeetingCanSeeHistory)),
            None => {
                ctx.has_oml(OrganizationManagementLevel::CanManageOrganization)
                    .await?
            }
        };
        if !allowed {
            return Err(HistoryError::PermissionDenied(fqid));
        }

        let client = self.postgres.client().await?;
        let rows = client
            .query(
                "SELECT DISTINCT ON (p.position) p.position, \
                        extract(epoch FROM p.timestamp)::bigint, p.user_id, p.information::text \
                 FROM positions p JOIN events e ON e.position = p.position \
                 WHERE e.fqid = $1 AND p.information IS NOT NULL \
                   AND p.information::text <> 'null' \
                 ORDER BY p.position",
                &[&fqid.to_string()],
            )
            .await
            .map_err(|err| DatastoreError::Query(source::query_error(&err)))?;

        // Written by hand to keep the field order of the Go service.
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let position: i32 = row.get(0);
            let timestamp: Option<i64> = row.get(1);
            let user_id: i32 = row.get(2);
            let information: String = row.get(3);
            entries.push(format!(
                "{{\"position\":{position},\"timestamp\":{},\"user_id\":{user_id},\"information\":{}}}",
                timestamp.unwrap_or(0),
                information.trim()
            ));
        }
        let text = if entries.is_empty() {
            "{}\n".to_string()
        } else {
            format!("{{\"{fqid}\":[{}]}}\n", entries.join(","))
        };
        Ok(Bytes::from(text))
    }

    /// Returns the meeting of an object in the current data, `None` for objects outside
    /// meetings. A missing object of a meeting collection is `NotExist`.
    async fn meeting_of(&self, fqid: Fqid) -> Result<Option<Id>, HistoryError> {
        if fqid.collection == Collection::Meeting {
            return Ok(Some(fqid.id));
        }
        let (field_name, is_owner) = if fqid.collection == Collection::Mediafile {
            ("owner_id", true)
        } else {
            ("meeting_id", false)
        };
        let Some(field) = fqid.collection.field(field_name) else {
            return Ok(None);
        };
        let value = self
            .current
            .get(&[Key::new(field, fqid.id)])
            .await?
            .pop()
            .flatten()
            .ok_or(HistoryError::NotExist(fqid))?;
        let meeting = if is_owner {
            serde_json::from_slice::<String>(&value)
                .ok()
                .and_then(|owner| owner.strip_prefix("meeting/")?.parse::<Id>().ok())
        } else {
            serde_json::from_slice::<Id>(&value).ok()
        };
        Ok(meeting)
    }
}
