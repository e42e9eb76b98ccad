//! The demo: the service on a generated meeting held in memory, with a simulated live
//! meeting (a moving list of speakers, a restarting countdown), without PostgreSQL or
//! Redis.

use crate::autoupdate::Autoupdate;
use crate::datastore::{Datastore, MemorySource, Value};
use crate::generate::{generate, GenerateOptions};
use crate::models::Key;
use crate::restrict::AllVisible;
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds between two steps of the simulated meeting.
const STEP: Duration = Duration::from_secs(3);

/// Builds the demo's core on the generated demo meeting and starts the simulation.
/// Returns the core and the id of the list of speakers that moves.
pub fn start() -> (Autoupdate, Option<u64>) {
    let export = generate(&GenerateOptions::small());
    let source = MemorySource::from_export(&export);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let autoupdate = Autoupdate::new(datastore, Arc::new(AllVisible));

    let simulation = Simulation::from_export(&export, source, autoupdate.clone());
    let list_id = simulation.list_id;
    tokio::spawn(simulation.run());
    (autoupdate, list_id)
}

/// The objects the simulation changes.
struct Simulation {
    source: MemorySource,
    autoupdate: Autoupdate,
    /// The list of speakers that moves.
    list_id: Option<u64>,
    /// Its speakers, in order.
    speakers: Vec<u64>,
    countdown: Option<(u64, f64)>,
}

impl Simulation {
    fn from_export(
        export: &serde_json::Value,
        source: MemorySource,
        autoupdate: Autoupdate,
    ) -> Self {
        let list = export["list_of_speakers"]
            .as_object()
            .into_iter()
            .flat_map(|lists| lists.values())
            .find(|list| {
                list["speaker_ids"]
                    .as_array()
                    .is_some_and(|ids| ids.len() >= 2)
            });
        let list_id = list.and_then(|list| list["id"].as_u64());
        let speakers = list
            .and_then(|list| list["speaker_ids"].as_array())
            .map(|ids| ids.iter().filter_map(serde_json::Value::as_u64).collect())
            .unwrap_or_default();
        let countdown = export["projector_countdown"]
            .as_object()
            .into_iter()
            .flat_map(|countdowns| countdowns.values())
            .find_map(|countdown| {
                let id = countdown["id"].as_u64()?;
                let default_time = countdown["default_time"].as_f64().unwrap_or(60.0);
                Some((id, default_time))
            });
        Simulation {
            source,
            autoupdate,
            list_id,
            speakers,
            countdown,
        }
    }

    async fn run(self) {
        let mut step = 0u64;
        loop {
            tokio::time::sleep(STEP).await;
            step += 1;
            let mut changes = self.speaker_changes(step);
            changes.extend(self.countdown_changes(step));
            if changes.is_empty() {
                continue;
            }
            self.source.apply(&changes);
            self.autoupdate.apply_update(&changes);
        }
    }

    /// Moves the list of speakers: the next speaker starts and the one before ends. After
    /// the last speaker, the list starts over with everyone waiting.
    fn speaker_changes(&self, step: u64) -> Vec<(Key, Value)> {
        let count = self.speakers.len() as u64;
        if count == 0 {
            return Vec::new();
        }
        let round = count + 1;
        let position = step % round;
        let now = unix_now();
        let mut changes = Vec::new();
        if position == 0 {
            for id in &self.speakers {
                changes.push((field("speaker", *id, "begin_time"), None));
                changes.push((field("speaker", *id, "end_time"), None));
            }
            return changes;
        }
        let current = self.speakers[(position - 1) as usize];
        changes.push((field("speaker", current, "begin_time"), value(json!(now))));
        changes.push((field("speaker", current, "end_time"), None));
        if position >= 2 {
            let previous = self.speakers[(position - 2) as usize];
            changes.push((field("speaker", previous, "end_time"), value(json!(now))));
        }
        changes
    }

    /// Starts the countdown every tenth step and stops it five steps later.
    fn countdown_changes(&self, step: u64) -> Vec<(Key, Value)> {
        let Some((id, default_time)) = self.countdown else {
            return Vec::new();
        };
        match step % 10 {
            0 => vec![
                (
                    field("projector_countdown", id, "running"),
                    value(json!(true)),
                ),
                (
                    field("projector_countdown", id, "countdown_time"),
                    value(json!(unix_now() as f64 + default_time)),
                ),
            ],
            5 => vec![
                (
                    field("projector_countdown", id, "running"),
                    value(json!(false)),
                ),
                (
                    field("projector_countdown", id, "countdown_time"),
                    value(json!(default_time)),
                ),
            ],
            _ => Vec::new(),
        }
    }
}

fn field(collection: &str, id: u64, name: &str) -> Key {
    let field = crate::models::FieldId::from_names(collection, name)
        .unwrap_or_else(|| panic!("models.yml has no field {collection}/{name}"));
    Key::new(field, id)
}

fn value(json: serde_json::Value) -> Value {
    Some(Bytes::from(json.to_string()))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
