//! Reads the datastore as it was at a position, by replaying the `events` table.

use super::replay::{self, EventType, ObjectState};
use crate::datastore::{DatastoreError, PostgresSource, Source, Value};
use crate::models::Key;
use bytes::Bytes;
use futures::future::BoxFuture;
use hashbrown::HashMap;
use tokio_postgres::types::Json;

/// Objects per events query, so that no query grows without bound.
const MAX_OBJECTS_PER_QUERY: usize = 1_000;

/// A `Source` with the values of the datastore at one position: every event up to and
/// including that position is applied, later ones are not.
#[derive(Clone)]
pub struct PositionSource {
    postgres: PostgresSource,
    position: i32,
}

impl PositionSource {
    pub fn new(postgres: PostgresSource, position: i32) -> PositionSource {
        PositionSource { postgres, position }
    }

    async fn fetch(self, keys: Vec<Key>) -> Result<Vec<Value>, DatastoreError> {
        let mut fqids: Vec<String> = keys.iter().map(|key| key.fqid().to_string()).collect();
        fqids.sort_unstable();
        fqids.dedup();

        let client = self.postgres.client().await?;
        let mut objects: HashMap<String, Option<ObjectState>> = HashMap::new();
        for chunk in fqids.chunks(MAX_OBJECTS_PER_QUERY) {
            let rows = client
                .query(
                    "SELECT fqid, type::text, data FROM events \
                     WHERE fqid = ANY($1) AND position <= $2 \
                     ORDER BY position, weight, id",
                    &[&chunk, &self.position],
                )
                .await
                .map_err(|err| DatastoreError::Query(query_error(&err)))?;
            for row in rows {
                let fqid: String = row.get(0);
                let type_name: String = row.get(1);
                let data: Option<Json<serde_json::Value>> = row
                    .try_get(2)
                    .map_err(|err| DatastoreError::Query(format!("read event of {fqid}: {err}")))?;
                let Some(event) = EventType::from_name(&type_name) else {
                    return Err(DatastoreError::Query(format!(
                        "event of {fqid} has the unknown type {type_name:?}"
                    )));
                };
                let state = objects.entry(fqid).or_default();
                replay::apply(state, event, data.map(|Json(value)| value));
            }
        }

        Ok(keys
            .iter()
            .map(|key| {
                let object = objects.get(&key.fqid().to_string())?.as_ref()?;
                if object.deleted {
                    return None;
                }
                let value = object.fields.get(key.field().name())?;
                if value.is_null() {
                    return None;
                }
                serde_json::to_vec(value).ok().map(Bytes::from)
            })
            .collect())
    }
}

impl Source for PositionSource {
    fn get(&self, keys: Vec<Key>) -> BoxFuture<'static, Result<Vec<Value>, DatastoreError>> {
        Box::pin(self.clone().fetch(keys))
    }
}

pub(super) fn query_error(error: &tokio_postgres::Error) -> String {
    crate::datastore::postgres_error_chain(error)
}
