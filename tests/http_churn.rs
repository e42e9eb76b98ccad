//! Streams opened and dropped over HTTP/2 in a loop leave nothing behind in the service
//! process: its tasks return to their number before, and its memory does not grow with
//! the number of streams. The service runs as a process of its own on
//! example-data.json in PostgreSQL.

mod support;

use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use support::{example_data, ServiceProcess, Stream, TestDb};

/// Streams opened and dropped before the baseline is taken, so that caches, pools and
/// allocator arenas have their steady size.
const WARM_UP: usize = 1_000;

/// Streams opened and dropped after the baseline.
const STREAMS: usize = 10_000;

/// HTTP/2 connections the streams are spread over.
const CONNECTIONS: usize = 4;

/// Streams open at the same time.
const CONCURRENT: usize = 40;

/// The maximum growth of the service's resident memory over `STREAMS` streams. A stream's
/// state (its subscription and mailbox, the parsed request, the HTTP/2 stream) takes more
/// than 1 KiB by estimate, so keeping it for each stream would add at least 10,000 KiB.
/// Without a leak the growth measured about 200 KiB in a debug build. With 1 KiB leaked
/// per request it was 12 MiB. A leaked task alone is smaller and shows in the task count.
const RSS_GROWTH_LIMIT_KIB: u64 = 5 * 1024;

fn meeting_request() -> String {
    json!([{
        "ids": [1], "collection": "meeting",
        "fields": {
            "name": null,
            "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {
                "title": null,
                "submitter_ids": {"type": "relation-list", "collection": "motion_submitter", "fields": {
                    "meeting_user_id": {"type": "relation", "collection": "meeting_user", "fields": {
                        "user_id": {"type": "relation", "collection": "user", "fields": {"username": null}}
                    }}
                }}
            }}
        }
    }])
    .to_string()
}

/// How a client leaves a stream.
#[derive(Clone, Copy)]
enum Leave {
    /// Cancels the request after a millisecond, mostly before the response headers,
    /// while the service computes the first message.
    Early,
    /// Drops the response after its headers, without reading the first message.
    AfterHeaders,
    /// Reads the first message, then drops the stream.
    AfterFirstMessage,
}

/// Opens and drops `count` streams, numbered from `first`, and returns how many were
/// cancelled before their response headers.
async fn open_and_drop(
    clients: &[reqwest::Client],
    service: &ServiceProcess,
    first: usize,
    count: usize,
) -> usize {
    let request = meeting_request();
    let streams = futures::stream::iter(first..first + count).map(|index| {
        let client = &clients[index % clients.len()];
        // Users 2 and 3 through the internal route, the AUTH_FAKE user 1 through the
        // public route, so that the streams share some views and not others.
        let url = match index % 3 {
            0 => format!("{}/system/autoupdate", service.url),
            user => format!("{}/internal/autoupdate?user_id={}", service.url, user + 1),
        };
        // Two in five streams are reset before their response. By default h2 ends a
        // connection with GOAWAY ENHANCE_YOUR_CALM when 20 such resets wait to be
        // accepted. The service allows more, so none of these may end one.
        let leave = match index % 5 {
            0 | 1 => Leave::Early,
            2 => Leave::AfterHeaders,
            _ => Leave::AfterFirstMessage,
        };
        let send = client.post(&url).body(request.clone()).send();
        async move {
            let wait = match leave {
                Leave::Early => Duration::from_millis(1),
                _ => Duration::from_secs(20),
            };
            let Ok(response) = tokio::time::timeout(wait, send).await else {
                assert!(
                    matches!(leave, Leave::Early),
                    "stream {index}: no response within {wait:?}"
                );
                return 1;
            };
            let response = response.unwrap_or_else(|err| {
                panic!(
                    "stream {index}: open failed: {err:?}; the service's warnings:\n{}",
                    service_warnings(service)
                )
            });
            assert_eq!(response.status(), 200, "stream {index}");
            assert_eq!(response.version(), reqwest::Version::HTTP_2);
            if let Leave::AfterFirstMessage = leave {
                let mut stream = Stream::from_response(response);
                let first = stream.next_json().await;
                assert!(
                    first.get("meeting/1/motion_ids").is_some(),
                    "stream {index} to {url}: first message {first}"
                );
            }
            0
        }
    });
    streams
        .buffer_unordered(CONCURRENT)
        .fold(0, |cancelled, early| async move { cancelled + early })
        .await
}

/// Returns the lines the service logged at level WARN or ERROR.
fn service_warnings(service: &ServiceProcess) -> String {
    let log = service.log();
    let warnings: Vec<&str> = log
        .iter()
        .map(String::as_str)
        .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
        .collect();
    warnings.join("\n")
}

/// Waits for the next metric line and returns its `runtime_tasks` and its count of
/// open streams of this instance.
async fn tasks_and_streams(service: &ServiceProcess) -> (i64, i64) {
    let metric = service.next_metric().await;
    let value = |name: &str| {
        metric
            .get(name)
            .and_then(serde_json::Value::as_i64)
            .unwrap_or_else(|| panic!("metric without {name}: {metric:?}"))
    };
    (
        value("runtime_tasks"),
        value("connections_stream_current_connections_local"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_http_streams_leave_nothing_behind() {
    let Some(data) = example_data() else { return };
    let db = TestDb::new().await;
    db.load(&data).await;
    let service = ServiceProcess::start(db, &[("METRIC_INTERVAL", "1s")]).await;
    let started = Instant::now();

    // Each client keeps one HTTP/2 connection open for the whole test, so that the
    // connections' tasks are part of the baseline.
    let clients: Vec<reqwest::Client> = (0..CONNECTIONS)
        .map(|_| {
            reqwest::Client::builder()
                .http2_prior_knowledge()
                .build()
                .unwrap()
        })
        .collect();

    open_and_drop(&clients, &service, 0, WARM_UP).await;
    let warm_up = started.elapsed();
    // The first metric line may have been gathered while warm-up streams were closing.
    tasks_and_streams(&service).await;
    let (tasks_before, streams_before) = tasks_and_streams(&service).await;
    let rss_before = service.rss_kib();

    let churn_started = Instant::now();
    let cancelled = open_and_drop(&clients, &service, WARM_UP, STREAMS).await;
    let churn = churn_started.elapsed();

    // A dropped stream's view closes in a task of its own, so the count may take a
    // moment to return.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut tasks_after, mut streams_after) = tasks_and_streams(&service).await;
    while (tasks_after, streams_after) != (tasks_before, streams_before)
        && Instant::now() < deadline
    {
        (tasks_after, streams_after) = tasks_and_streams(&service).await;
    }
    let rss_after = service.rss_kib();
    eprintln!(
        "warm-up of {WARM_UP} streams in {warm_up:?}, {STREAMS} streams in {churn:?} \
         ({cancelled} cancelled before their response); runtime_tasks {tasks_before} before, \
         {tasks_after} after; service RSS {rss_before} KiB before, {rss_after} KiB after; \
         {:?} in all",
        started.elapsed()
    );

    assert_eq!(streams_before, 0);
    assert_eq!(streams_after, 0);
    assert_eq!(tasks_after, tasks_before, "runtime_tasks");
    assert!(
        rss_after.saturating_sub(rss_before) < RSS_GROWTH_LIMIT_KIB,
        "the service's RSS grew from {rss_before} KiB to {rss_after} KiB over {STREAMS} streams"
    );
}
