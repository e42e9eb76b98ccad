//! One change reaching many subscribers through the core, on the generated large meeting
//! held in memory with the restriction rules: every delegate of the meeting subscribes
//! to the motion list as a different user.
//!
//! Measures, per change, the work from `Autoupdate::apply_update` until every
//! subscriber has its next message: a motion title all of them see, and a change no
//! subscriber depends on. HTTP is not part of it; the load tool measures that.
//!
//! Run with `cargo bench --bench fanout`.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use futures::future::join_all;
use openslides_autoupdate::autoupdate::{Autoupdate, Connection};
use openslides_autoupdate::datastore::{Datastore, MemorySource};
use openslides_autoupdate::generate::{generate, GenerateOptions};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::models::Key;
use openslides_autoupdate::restrict::{RuleRestricter, Viewer};
use std::sync::Arc;
use std::time::Instant;

/// The client's motion list without `username`, which every user sees of their own
/// account only, so that the delegates who are not personal share one view.
const MOTION_LIST: &str = include_str!("requests/motion_list_without_usernames.json");

/// Lists the user ids of the members of the group named `name`.
fn group_members(export: &serde_json::Value, name: &str) -> Vec<u64> {
    let group = export["group"]
        .as_object()
        .and_then(|groups| groups.values().find(|group| group["name"] == name))
        .unwrap_or_else(|| panic!("the generated meeting has a {name} group"));
    group["meeting_user_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| id.as_u64())
        .filter_map(|id| export["meeting_user"][id.to_string()]["user_id"].as_u64())
        .collect()
}

/// Finds a motion whose state has no restrictions, so that every delegate may see it.
fn visible_motion(export: &serde_json::Value) -> u64 {
    let motions = export["motion"].as_object().unwrap();
    let mut ids: Vec<u64> = motions.keys().filter_map(|id| id.parse().ok()).collect();
    ids.sort_unstable();
    ids.into_iter()
        .find(|id| {
            let state = motions[&id.to_string()]["state_id"].as_u64().unwrap_or(0);
            export["motion_state"][state.to_string()]["restrictions"]
                .as_array()
                .is_none_or(|restrictions| restrictions.is_empty())
        })
        .expect("a motion in a state without restrictions")
}

fn benchmarks(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for motions in [1000, 100] {
        let options = GenerateOptions {
            motions,
            ..GenerateOptions::large_meeting()
        };
        fanout(c, &runtime, &options);
    }
}

/// Subscribes every delegate of a generated meeting to the motion list and measures one
/// change that all of them see and one that none of them depends on.
fn fanout(c: &mut Criterion, runtime: &tokio::runtime::Runtime, options: &GenerateOptions) {
    let export = generate(options);
    let source = MemorySource::from_export(&export);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let autoupdate = Autoupdate::new(
        datastore.clone(),
        Arc::new(RuleRestricter::new(datastore.clone())),
    );
    let request = Arc::new(Request::parse(MOTION_LIST.as_bytes(), "").unwrap());

    let delegates = group_members(&export, "Delegates");
    let started = Instant::now();
    let mut connections: Vec<Connection> = runtime.block_on(async {
        let mut connections = Vec::new();
        for user_id in &delegates {
            let mut connection = autoupdate
                .connect(Viewer { user_id: *user_id }, request.clone())
                .await
                .unwrap();
            connection.take_first();
            connections.push(connection);
        }
        connections
    });
    let (views, keys) = autoupdate.stats();
    eprintln!(
        "{} motions: {} delegates subscribed in {:?}: {views} views watching {keys} keys",
        options.motions,
        connections.len(),
        started.elapsed()
    );

    let motion = visible_motion(&export);
    let title = Key::parse(&format!("motion/{motion}/title")).unwrap();
    let mut counter = 0u64;
    let name = format!(
        "title change to {} delegates, {} motions",
        connections.len(),
        options.motions
    );
    c.bench_function(&name, |b| {
        b.iter(|| {
            counter += 1;
            let value = Some(Bytes::from(format!("\"Title {counter}\"")));
            source.apply(&[(title, value.clone())]);
            runtime.block_on(async {
                autoupdate.apply_update(&[(title, value)]);
                let messages = join_all(connections.iter_mut().map(Connection::next)).await;
                assert!(messages.iter().all(Result::is_ok));
            })
        })
    });

    // A field no request contains, so no connection is woken.
    let text = Key::parse(&format!("motion/{motion}/text")).unwrap();
    let name = format!("change no delegate depends on, {} motions", options.motions);
    c.bench_function(&name, |b| {
        b.iter(|| {
            counter += 1;
            let value = Some(Bytes::from(format!("\"<p>{counter}</p>\"")));
            source.apply(&[(text, value.clone())]);
            autoupdate.apply_update(&[(text, value)]);
        })
    });
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
