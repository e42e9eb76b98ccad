//! Connections opened and dropped in a loop leave nothing behind in the core: no view,
//! no watched key, no watch on a permission class and no task.

mod support;

use openslides_autoupdate::autoupdate::Autoupdate;
use openslides_autoupdate::datastore::{Datastore, MemorySource};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::restrict::{RuleRestricter, Viewer};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connections_leave_nothing_behind() {
    let Some(export) = support::example_data() else {
        return;
    };
    let source = MemorySource::from_export(&export);
    let datastore = Arc::new(Datastore::new(Arc::new(source)));
    let autoupdate = Autoupdate::new(
        datastore.clone(),
        Arc::new(RuleRestricter::new(datastore.clone())),
    );
    let request = Arc::new(
        Request::parse(
            br#"[{"ids": [1], "collection": "meeting", "fields": {
                "name": null,
                "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {
                    "title": null,
                    "submitter_ids": {"type": "relation-list", "collection": "motion_submitter", "fields": {
                        "meeting_user_id": {"type": "relation", "collection": "meeting_user", "fields": {
                            "user_id": {"type": "relation", "collection": "user", "fields": {"username": null}}
                        }}
                    }}
                }}
            }}]"#,
            "",
        )
        .expect("valid request"),
    );
    let runtime = tokio::runtime::Handle::current();
    let tasks_before = runtime.metrics().num_alive_tasks();

    // Users 2 and 3 share a class view, user 1 is the submitter of every motion and
    // user 0 is public access.
    let mut open = Vec::new();
    for index in 0..CONNECTIONS {
        let viewer = Viewer {
            user_id: (index % 4) as u64,
        };
        let mut connection = autoupdate
            .connect(viewer, request.clone())
            .await
            .expect("connect");
        assert!(connection.take_first().is_some());
        open.push(connection);
        // Up to 100 connections are open at a time, in different orders of leaving.
        if open.len() == 100 {
            if index % 200 < 100 {
                open.clear();
            } else {
                while open.pop().is_some() {}
            }
        }
    }
    drop(open);

    // Closing a view happens in a task of its own.
    let deadline = Instant::now() + Duration::from_secs(10);
    while autoupdate.stats() != (0, 0) || autoupdate.identity_watches() != 0 {
        assert!(
            Instant::now() < deadline,
            "left behind: {:?} views and keys, {} class watches",
            autoupdate.stats(),
            autoupdate.identity_watches()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    while runtime.metrics().num_alive_tasks() > tasks_before {
        assert!(
            Instant::now() < deadline,
            "{} tasks alive, {tasks_before} before",
            runtime.metrics().num_alive_tasks()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
