//! The PostgreSQL datastore of OpenSlides: one row per object in `models(fqid, data,
//! deleted)`, with all fields in the JSONB column `data`.

use super::{compact_json, DatastoreError, Source, Value};
use crate::models::{Collection, FieldId, Key};
use crate::repeats::{self, Repeats};
use bytes::Bytes;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::future::BoxFuture;
use hashbrown::HashMap;
use std::time::Duration;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::NoTls;

/// Objects per query. Larger reads are split so that no query grows without bound.
const MAX_OBJECTS_PER_QUERY: usize = 2_000;

/// Fields per query, for the same reason.
const MAX_FIELDS_PER_QUERY: usize = 500;

/// How to reach PostgreSQL.
#[derive(Clone, Debug)]
pub struct PostgresConfig {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: String,
    /// The maximum time one query may take before its connection is closed.
    pub query_timeout: Duration,
}

impl PostgresConfig {
    fn pg_config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .dbname(&self.database)
            .user(&self.user)
            .password(&self.password)
            .application_name("openslides-autoupdate")
            .connect_timeout(Duration::from_secs(5));
        config
    }

    /// Opens one connection, for tools such as `load`.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = self.pg_config().connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::warn!(error = %err, "PostgreSQL connection closed");
            }
        });
        Ok(client)
    }
}

/// Reads values from the `models` table through a connection pool.
#[derive(Clone)]
pub struct PostgresSource {
    pool: Pool,
    query_timeout: Duration,
}

impl PostgresSource {
    /// Creates the pool. Connections are opened on first use.
    pub fn new(config: &PostgresConfig) -> Result<PostgresSource, DatastoreError> {
        let manager = Manager::from_config(
            config.pg_config(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(8)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|err| DatastoreError::Unavailable(format!("create pool: {err}")))?;
        Ok(PostgresSource {
            pool,
            query_timeout: config.query_timeout,
        })
    }

    /// Checks that PostgreSQL answers.
    pub async fn ping(&self) -> Result<(), DatastoreError> {
        let client = self.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|err| DatastoreError::Query(err.to_string()))?;
        Ok(())
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, DatastoreError> {
        self.pool.get().await.map_err(|err| {
            DatastoreError::Unavailable(format!("connect to PostgreSQL: {}", error_chain(&err)))
        })
    }

    async fn fetch(self, keys: Vec<Key>) -> Result<Vec<Value>, DatastoreError> {
        let client = self.client().await?;

        // Fields differ per collection, so one query per collection selects only the
        // columns its objects can have.
        let mut by_collection: HashMap<Collection, (Vec<u64>, Vec<FieldId>)> = HashMap::new();
        for key in &keys {
            let (ids, fields) = by_collection.entry(key.collection()).or_default();
            ids.push(key.id());
            fields.push(key.field());
        }

        let mut found: HashMap<Key, Bytes> = HashMap::with_capacity(keys.len());
        for (collection, (mut ids, mut fields)) in by_collection {
            ids.sort_unstable();
            ids.dedup();
            fields.sort_unstable();
            fields.dedup();
            for id_chunk in ids.chunks(MAX_OBJECTS_PER_QUERY) {
                for field_chunk in fields.chunks(MAX_FIELDS_PER_QUERY) {
                    let query = query_chunk(&client, collection, id_chunk, field_chunk, &mut found);
                    match tokio::time::timeout(self.query_timeout, query).await {
                        Ok(result) => result?,
                        Err(_) => {
                            // The connection may never respond again, so it must not
                            // go back to the pool.
                            drop(deadpool_postgres::Object::take(client));
                            return Err(DatastoreError::Unavailable(format!(
                                "PostgreSQL did not respond within {:?}",
                                self.query_timeout
                            )));
                        }
                    }
                }
            }
        }

        Ok(keys.iter().map(|key| found.remove(key)).collect())
    }
}

async fn query_chunk(
    client: &tokio_postgres::Client,
    collection: Collection,
    ids: &[u64],
    fields: &[FieldId],
    found: &mut HashMap<Key, Bytes>,
) -> Result<(), DatastoreError> {
    // Field names come from models.yml and are plain identifiers, so they are safe to
    // write into the query text.
    let columns: Vec<String> = fields
        .iter()
        .map(|field| format!("data->'{}'", field.name()))
        .collect();
    let sql = format!(
        "SELECT fqid, jsonb_typeof(data), {} FROM models WHERE fqid = ANY($1) AND deleted = false",
        columns.join(", ")
    );
    let fqids: Vec<String> = ids
        .iter()
        .map(|id| format!("{}/{id}", collection.name()))
        .collect();

    let rows = client
        .query(&sql, &[&fqids])
        .await
        .map_err(|err| query_error(&err))?;

    for row in rows {
        let fqid: &str = row.get(0);
        let Some(id) = fqid.rsplit('/').next().and_then(crate::models::parse_id) else {
            continue;
        };
        let kind: Option<&str> = row.get(1);
        if kind != Some("object") {
            // Its fields read as missing, as if the object had none.
            static BROKEN: Repeats = Repeats::new(repeats::WARNING_INTERVAL);
            if let Some(held_back) = BROKEN.check(std::time::Instant::now()) {
                tracing::warn!(fqid, data = ?kind, held_back, "models row whose data is not a JSON object; reading it as empty");
            }
            continue;
        }
        for (index, field) in fields.iter().enumerate() {
            let value: Option<RawJson> = row
                .try_get(index + 2)
                .map_err(|err| DatastoreError::Query(format!("read {fqid}: {err}")))?;
            if let Some(RawJson(bytes)) = value {
                if &bytes[..] != b"null" {
                    found.insert(Key::new(*field, id), bytes);
                }
            }
        }
    }
    Ok(())
}

/// Converts a failed query into an error: unavailable when the connection was lost, so
/// that the read can be tried again on a new connection.
fn query_error(error: &tokio_postgres::Error) -> DatastoreError {
    let lost = error.is_closed()
        || (error.as_db_error().is_none()
            && std::error::Error::source(error).is_some_and(|cause| cause.is::<std::io::Error>()));
    if lost {
        DatastoreError::Unavailable(error_chain(error))
    } else {
        DatastoreError::Query(error_chain(error))
    }
}

/// An error with all its causes, such as "error connecting to server: Connection refused".
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl Source for PostgresSource {
    fn get(&self, keys: Vec<Key>) -> BoxFuture<'static, Result<Vec<Value>, DatastoreError>> {
        Box::pin(self.clone().fetch(keys))
    }

    fn ping(&self) -> BoxFuture<'static, Result<(), DatastoreError>> {
        let source = self.clone();
        Box::pin(async move { source.ping().await })
    }
}

/// A JSON or JSONB column as compact JSON text, without parsing it.
struct RawJson(Bytes);

impl<'a> FromSql<'a> for RawJson {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            // Binary JSONB is a version byte, then the JSON text.
            match raw.split_first() {
                Some((1, text)) => text,
                _ => return Err("unsupported JSONB format version".into()),
            }
        } else {
            raw
        };
        Ok(RawJson(compact_json(text)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }
}
