//! Key resolution on a generated large meeting held in memory, on a warm cache: request
//! parsing, the first message of a view, and one motion title change.
//!
//! Run with `cargo bench --bench autoupdate`.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use openslides_autoupdate::autoupdate::{Autoupdate, Reader, ViewState};
use openslides_autoupdate::datastore::{Datastore, MemorySource};
use openslides_autoupdate::generate::{generate, GenerateOptions};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::models::Key;
use openslides_autoupdate::restrict::{AllVisible, RuleRestricter, Viewer};
use std::sync::Arc;

const MOTION_LIST: &str = include_str!("requests/motion_list.json");

fn benchmarks(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let export = generate(&GenerateOptions::large_meeting());
    let source = MemorySource::from_export(&export);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let restricter = AllVisible;
    let viewer = Viewer { user_id: 2 };
    let reader = Reader {
        datastore: &datastore,
        restricter: &restricter,
        projector: None,
        votes: None,
    };

    c.bench_function("parse motion list request", |b| {
        b.iter(|| Request::parse(MOTION_LIST.as_bytes(), "").unwrap())
    });

    let request = Arc::new(Request::parse(MOTION_LIST.as_bytes(), "").unwrap());
    let mut warm = ViewState::new(request.clone(), viewer);
    runtime
        .block_on(warm.resolve(&reader, &mut |_| {}))
        .unwrap();
    eprintln!("motion list view: {} keys", warm.len());

    c.bench_function("resolve motion list (1000 motions)", |b| {
        b.iter(|| {
            let mut state = ViewState::new(request.clone(), viewer);
            runtime
                .block_on(state.resolve(&reader, &mut |_| {}))
                .unwrap()
        })
    });

    let title = Key::parse("motion/1/title").unwrap();
    let mut counter = 0u64;
    c.bench_function("update one motion title in the view", |b| {
        b.iter(|| {
            counter += 1;
            let value = Some(Bytes::from(format!("\"Title {counter}\"")));
            source.apply(&[(title, value.clone())]);
            datastore.update(&[(title, value)]);
            runtime
                .block_on(warm.update(&[title], &reader, &mut |_| {}))
                .unwrap()
        })
    });

    let autoupdate = Autoupdate::new(datastore.clone(), Arc::new(AllVisible));
    c.bench_function("single motion list through the core", |b| {
        b.iter(|| {
            runtime
                .block_on(autoupdate.single(viewer, request.clone()))
                .unwrap()
        })
    });

    // The same request restricted by the rules, for a delegate and for the superadmin.
    let rules = RuleRestricter::new(datastore.clone());
    let restricted = Reader {
        datastore: &datastore,
        restricter: &rules,
        projector: None,
        votes: None,
    };
    let delegate = Viewer {
        user_id: delegate_id(&export),
    };
    for (name, viewer) in [
        ("delegate", delegate),
        ("superadmin", Viewer { user_id: 1 }),
    ] {
        let mut state = ViewState::new(request.clone(), viewer);
        runtime
            .block_on(state.resolve(&restricted, &mut |_| {}))
            .unwrap();
        eprintln!(
            "restricted motion list for the {name}: {} keys",
            state.len()
        );
        c.bench_function(&format!("resolve restricted motion list as {name}"), |b| {
            b.iter(|| {
                let mut state = ViewState::new(request.clone(), viewer);
                runtime
                    .block_on(state.resolve(&restricted, &mut |_| {}))
                    .unwrap()
            })
        });
        c.bench_function(
            &format!("update one title in the restricted view as {name}"),
            |b| {
                b.iter(|| {
                    counter += 1;
                    let value = Some(Bytes::from(format!("\"Title {counter}\"")));
                    source.apply(&[(title, value.clone())]);
                    datastore.update(&[(title, value)]);
                    runtime
                        .block_on(state.update(&[title], &restricted, &mut |_| {}))
                        .unwrap()
                })
            },
        );
    }
}

/// Finds a user in the group named "Delegates" of the generated meeting.
fn delegate_id(export: &serde_json::Value) -> u64 {
    let groups = export["group"].as_object().unwrap();
    let delegates = groups
        .values()
        .find(|group| group["name"] == "Delegates")
        .expect("the generated meeting has a Delegates group");
    let meeting_user = delegates["meeting_user_ids"][0].as_u64().unwrap();
    export["meeting_user"][meeting_user.to_string()]["user_id"]
        .as_u64()
        .unwrap()
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
