//! The datastore tables, and loading an OpenSlides export into them.

use crate::models::Collection;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio_postgres::types::Json;

/// The tables this service reads, in the layout of the OpenSlides datastore: the current
/// state in `models`, the history in `positions` and `events`.
const SCHEMA: &str = r#"
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'event_type') THEN
        CREATE TYPE event_type AS ENUM
            ('create', 'update', 'delete', 'deletefields', 'listfields', 'restore');
    END IF;
END$$;

CREATE TABLE IF NOT EXISTS positions (
    position INTEGER PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    timestamp TIMESTAMPTZ,
    user_id INTEGER NOT NULL,
    information JSON,
    migration_index INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
    id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    position INTEGER REFERENCES positions(position) ON DELETE CASCADE,
    fqid VARCHAR(48) NOT NULL,
    type event_type NOT NULL,
    data JSONB,
    weight INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS event_position_idx ON events (position);
CREATE INDEX IF NOT EXISTS event_fqid_idx ON events (fqid);

CREATE TABLE IF NOT EXISTS id_sequences (
    collection VARCHAR(32) PRIMARY KEY,
    id INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS models (
    fqid VARCHAR(48) PRIMARY KEY,
    data JSONB NOT NULL,
    deleted BOOLEAN NOT NULL
);
"#;

/// Rows written per INSERT.
const BATCH: usize = 1_000;

/// Loading an export failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the export is not a JSON object of collections")]
    NotAnExport,
    #[error("the export contains unknown collections: {0}")]
    UnknownCollections(String),
    #[error("{0} is not an object with a positive integer id matching its key")]
    InvalidObject(String),
    #[error("the datastore already holds {0} models; load with --replace to delete them first")]
    NotEmpty(i64),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}

/// Creates the datastore tables that do not exist yet.
pub async fn create_schema(client: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    client.batch_execute(SCHEMA).await
}

/// Writes an export (`{collection: {id: {field: value}}}`) into the datastore as one
/// position with a `create` event per object. Refuses a datastore that holds models,
/// unless `replace` is set, which deletes the whole datastore content first. Returns the
/// number of objects written.
pub async fn load_export(
    client: &mut tokio_postgres::Client,
    export: &Value,
    replace: bool,
) -> Result<usize, LoadError> {
    let objects = export_objects(export)?;
    create_schema(client).await?;

    let transaction = client.transaction().await?;
    let existing: i64 = transaction
        .query_one("SELECT count(*) FROM models", &[])
        .await?
        .get(0);
    if existing > 0 {
        if !replace {
            return Err(LoadError::NotEmpty(existing));
        }
        transaction
            .batch_execute("TRUNCATE models, events, positions, id_sequences RESTART IDENTITY")
            .await?;
    }

    let migration_index = export
        .get("_migration_index")
        .and_then(Value::as_i64)
        .unwrap_or(-1) as i32;
    let position: i32 = transaction
        .query_one(
            "INSERT INTO positions (timestamp, user_id, information, migration_index) \
             VALUES (now(), 0, NULL, $1) RETURNING position",
            &[&migration_index],
        )
        .await?
        .get(0);

    for (batch_index, batch) in objects.chunks(BATCH).enumerate() {
        let fqids: Vec<&str> = batch.iter().map(|(fqid, _)| fqid.as_str()).collect();
        let data: Vec<Json<&Value>> = batch.iter().map(|(_, data)| Json(*data)).collect();
        let weights: Vec<i32> = (0..batch.len())
            .map(|i| (batch_index * BATCH + i + 1) as i32)
            .collect();
        transaction
            .execute(
                "INSERT INTO models (fqid, data, deleted) \
                 SELECT fqid, data, false FROM UNNEST($1::varchar[], $2::jsonb[]) AS t(fqid, data)",
                &[&fqids, &data],
            )
            .await?;
        transaction
            .execute(
                "INSERT INTO events (position, fqid, type, data, weight) \
                 SELECT $1, fqid, 'create', data, weight \
                 FROM UNNEST($2::varchar[], $3::jsonb[], $4::int[]) AS t(fqid, data, weight)",
                &[&position, &fqids, &data, &weights],
            )
            .await?;
    }

    let mut max_ids: BTreeMap<&str, i64> = BTreeMap::new();
    for (fqid, data) in &objects {
        let collection = fqid.split('/').next().unwrap_or_default();
        let id = data.get("id").and_then(Value::as_i64).unwrap_or(0);
        let max = max_ids.entry(collection).or_insert(0);
        *max = (*max).max(id);
    }
    for (collection, max_id) in max_ids {
        transaction
            .execute(
                "INSERT INTO id_sequences (collection, id) VALUES ($1, $2) \
                 ON CONFLICT (collection) DO UPDATE SET id = GREATEST(id_sequences.id, EXCLUDED.id)",
                &[&collection, &((max_id + 1) as i32)],
            )
            .await?;
    }

    transaction.commit().await?;
    Ok(objects.len())
}

/// Checks an export and lists its objects as (fqid, data), sorted by fqid.
fn export_objects(export: &Value) -> Result<Vec<(String, &Value)>, LoadError> {
    let collections = export.as_object().ok_or(LoadError::NotAnExport)?;
    let unknown: Vec<&str> = collections
        .keys()
        .filter(|name| !name.starts_with('_') && Collection::from_name(name).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(LoadError::UnknownCollections(unknown.join(", ")));
    }

    let mut objects = Vec::new();
    for (collection, models) in collections {
        if collection.starts_with('_') {
            continue;
        }
        let models = models
            .as_object()
            .ok_or_else(|| LoadError::InvalidObject(collection.clone()))?;
        for (id, data) in models {
            let fqid = format!("{collection}/{id}");
            let id_matches = data
                .get("id")
                .and_then(Value::as_u64)
                .is_some_and(|value| value > 0 && value.to_string() == *id);
            if !data.is_object() || !id_matches {
                return Err(LoadError::InvalidObject(fqid));
            }
            objects.push((fqid, data));
        }
    }
    objects.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn export_objects_lists_every_object() {
        let export = json!({
            "_migration_index": 67,
            "motion": {"2": {"id": 2}, "1": {"id": 1}},
            "topic": {"3": {"id": 3, "title": "T"}}
        });
        let objects = export_objects(&export).unwrap();
        let fqids: Vec<&str> = objects.iter().map(|(fqid, _)| fqid.as_str()).collect();
        assert_eq!(fqids, vec!["motion/1", "motion/2", "topic/3"]);
    }

    #[test]
    fn export_objects_rejects_unknown_collections() {
        let error = export_objects(&json!({"nope": {}})).unwrap_err();
        assert!(matches!(error, LoadError::UnknownCollections(names) if names == "nope"));
    }

    #[test]
    fn export_objects_rejects_mismatched_ids() {
        assert!(export_objects(&json!({"motion": {"1": {"id": 2}}})).is_err());
        assert!(export_objects(&json!({"motion": {"1": {"title": "x"}}})).is_err());
        assert!(export_objects(&json!({"motion": {"1": 5}})).is_err());
        assert!(export_objects(&json!({"motion": {"0": {"id": 0}}})).is_err());
        assert!(export_objects(&json!([1])).is_err());
    }
}
