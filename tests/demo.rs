//! The demo: a generated meeting in memory whose list of speakers moves by itself.

mod support;

use serde_json::json;
use std::time::Duration;
use support::Stream;

#[tokio::test]
async fn demo_stream_updates_by_itself() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (autoupdate, list_id) = openslides_autoupdate::demo::start();
    let list_id = list_id.expect("the demo meeting has a list with speakers");
    tokio::spawn(openslides_autoupdate::service::serve(
        listener,
        autoupdate,
        openslides_autoupdate::auth::Auth::development(),
        std::time::Duration::ZERO,
        None,
        std::future::pending(),
    ));

    let request = json!([{"ids": [list_id], "collection": "list_of_speakers", "fields": {
        "speaker_ids": {"type": "relation-list", "collection": "speaker", "fields": {
            "begin_time": null, "end_time": null
        }}
    }}]);
    let mut stream = Stream::open(&format!("{url}/system/autoupdate"), Some(&request)).await;
    let first = stream.next_json().await;
    assert!(first[format!("list_of_speakers/{list_id}/speaker_ids")].is_array());

    let line = stream
        .next_line(Duration::from_secs(8))
        .await
        .expect("the simulation changes a speaker within 8 seconds");
    let change: serde_json::Value = serde_json::from_slice(&line).unwrap();
    let keys: Vec<&String> = change.as_object().unwrap().keys().collect();
    assert!(
        keys.iter().all(|key| key.starts_with("speaker/")),
        "unexpected keys {keys:?}"
    );
}
