//! A client that stops reading its stream over HTTP/2 or HTTP/1.1 while many changes
//! arrive: the service merges what the client has not taken, sends the latest values
//! when it reads again, and its memory stays bounded meanwhile. The service runs as a
//! process of its own on example-data.json in PostgreSQL, with changes through Redis.

mod support;

use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};
use support::{example_data, post, ServiceProcess, Stream, TestDb};

/// Title changes of motion/1 written while the slow client does not read.
const CHANGES: usize = 2_000;

/// The size of each new title. Queuing every message for the slow client would hold
/// CHANGES × TITLE_BYTES (31 MiB), far above `RSS_GROWTH_LIMIT_KIB`.
const TITLE_BYTES: usize = 16 * 1024;

/// The HTTP/2 flow control window of the slow client's stream. It is smaller than one
/// message, so at most part of one message is in flight while the client does not read.
const SLOW_STREAM_WINDOW: u32 = 4 * 1024;

/// The connection window every HTTP/2 connection starts with. A client can only raise
/// it.
const SLOW_CONNECTION_WINDOW: u32 = 65_535;

/// The maximum number of messages a slow HTTP/2 client may get after it reads again: the one that
/// was in flight, the merged rest, and room for a merge that happened while it read.
/// It got 3 in a debug build; without merging it would get one message per change.
const SLOW_HTTP2_MESSAGE_LIMIT: usize = 10;

/// The maximum number of messages a slow HTTP/1.1 client may get after it reads again. HTTP/1.1 has
/// no flow control of its own, so the TCP buffers of the kernel decide how much is in
/// flight: 265 messages (4.3 MiB) on loopback under Linux with default buffer sizes.
/// Without merging the client would get one message per change.
// NOTE: the number in flight grows with the TCP buffer sizes of the machine
// (net.ipv4.tcp_rmem and tcp_wmem), so this limit is loose.
const SLOW_HTTP1_MESSAGE_LIMIT: usize = CHANGES / 2;

/// The maximum growth of the service's resident memory while the slow client is blocked.
/// The growth measured with merging is about 1.3 MiB in a debug build. With merging
/// turned off, the service held every message for the slow client and grew by 92 MiB.
const RSS_GROWTH_LIMIT_KIB: u64 = 8 * 1024;

fn motion_request() -> Value {
    json!([{
        "ids": [1, 2, 3], "collection": "motion",
        "fields": {"title": null, "state_extension": null}
    }])
}

fn long_title(index: usize) -> String {
    format!("Title {index} {}", "x".repeat(TITLE_BYTES))
}

/// Writes changes as the datastore writer does, on one PostgreSQL and one Redis
/// connection, so that thousands of changes take seconds.
struct Writer {
    postgres: tokio_postgres::Client,
    redis: redis::aio::MultiplexedConnection,
}

impl Writer {
    async fn connect(service: &ServiceProcess) -> Writer {
        Writer {
            postgres: service.db.client().await,
            redis: service.redis.connection().await.expect("connect to Redis"),
        }
    }

    /// Sets one field (`null` removes it) and announces it on the message bus.
    async fn set(&mut self, key: &str, value: Value) {
        let (fqid, field) = key.rsplit_once('/').expect("key has a field");
        if value.is_null() {
            self.postgres
                .execute(
                    "UPDATE models SET data = data - $2 WHERE fqid = $1",
                    &[&fqid, &field],
                )
                .await
                .expect("remove field");
        } else {
            self.postgres
                .execute(
                    "UPDATE models SET data = jsonb_set(data, ARRAY[$2], $3) WHERE fqid = $1",
                    &[&fqid, &field, &tokio_postgres::types::Json(&value)],
                )
                .await
                .expect("set field");
        }
        let _: String = redis::cmd("XADD")
            .arg("ModifiedFields")
            .arg("*")
            .arg(key)
            .arg(value.to_string())
            .query_async(&mut self.redis)
            .await
            .expect("add to the message bus");
    }
}

/// Applies a message to a client's values, where `null` removes a key.
fn apply(values: &mut Map<String, Value>, message: Value) {
    let Value::Object(message) = message else {
        panic!("message is not an object: {message}");
    };
    for (key, value) in message {
        if value.is_null() {
            values.remove(&key);
        } else {
            values.insert(key, value);
        }
    }
}

/// Reads messages until motion/1 has `title` and returns the number read.
/// Fails the test when the title has not come within `limit` messages.
async fn read_until_title(
    stream: &mut Stream,
    values: &mut Map<String, Value>,
    title: &str,
    limit: usize,
) -> usize {
    let mut messages = 0;
    while values.get("motion/1/title") != Some(&json!(title)) {
        assert!(
            messages < limit,
            "{messages} messages came without the last title, {limit} are allowed"
        );
        let line = stream
            .next_line(Duration::from_secs(20))
            .await
            .expect("a message within 20 seconds");
        messages += 1;
        apply(
            values,
            serde_json::from_slice(&line).expect("message is JSON"),
        );
    }
    messages
}

async fn open_stream(
    client: &reqwest::Client,
    service: &ServiceProcess,
    version: reqwest::Version,
) -> Stream {
    let response = client
        .post(format!("{}/system/autoupdate", service.url))
        .body(motion_request().to_string())
        .send()
        .await
        .expect("open stream");
    assert_eq!(response.version(), version);
    Stream::from_response(response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_http2_reader_gets_merged_latest_values() {
    let slow_client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .http2_initial_stream_window_size(SLOW_STREAM_WINDOW)
        .http2_initial_connection_window_size(SLOW_CONNECTION_WINDOW)
        .build()
        .unwrap();
    check_slow_reader(
        slow_client,
        reqwest::Version::HTTP_2,
        SLOW_HTTP2_MESSAGE_LIMIT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_http1_reader_gets_merged_latest_values() {
    let slow_client = reqwest::Client::builder().http1_only().build().unwrap();
    check_slow_reader(
        slow_client,
        reqwest::Version::HTTP_11,
        SLOW_HTTP1_MESSAGE_LIMIT,
    )
    .await;
}

/// Opens a stream on `slow_client` that stops reading after the first message while
/// CHANGES changes are written and a fast HTTP/2 client reads every message, then reads
/// the slow stream again. Checks that the slow client gets at most `message_limit`
/// messages and the latest values, and that the service's memory stays bounded.
async fn check_slow_reader(
    slow_client: reqwest::Client,
    version: reqwest::Version,
    message_limit: usize,
) {
    let Some(data) = example_data() else { return };
    let db = TestDb::new().await;
    db.load(&data).await;
    let service = ServiceProcess::start(db, &[]).await;
    let started = Instant::now();

    let fast_client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let mut slow = open_stream(&slow_client, &service, version).await;
    let mut fast = open_stream(&fast_client, &service, reqwest::Version::HTTP_2).await;
    let mut slow_values = Map::new();
    apply(&mut slow_values, slow.next_json().await);
    let mut fast_values = Map::new();
    apply(&mut fast_values, fast.next_json().await);
    assert_eq!(slow_values["motion/2/state_extension"], "<p>regeer</p>");
    assert_eq!(slow_values, fast_values);

    // The fast client reads every message while the writer runs; the slow one reads
    // nothing from here on.
    let last_title = long_title(CHANGES);
    let fast_reader = tokio::spawn({
        let last_title = last_title.clone();
        async move {
            let messages =
                read_until_title(&mut fast, &mut fast_values, &last_title, usize::MAX).await;
            (fast, fast_values, messages)
        }
    });

    let rss_before = service.rss_kib();
    let mut rss_max = rss_before;
    let mut writer = Writer::connect(&service).await;
    let writing_started = Instant::now();
    for index in 1..=CHANGES {
        writer.set("motion/1/title", json!(long_title(index))).await;
        if index == 10 {
            writer.set("motion/3/title", json!("Changed once")).await;
        }
        if index == 20 {
            writer.set("motion/2/state_extension", Value::Null).await;
        }
        if index % 100 == 0 {
            rss_max = rss_max.max(service.rss_kib());
        }
    }
    let writing = writing_started.elapsed();
    let (_fast, fast_values, fast_messages) = fast_reader.await.unwrap();
    rss_max = rss_max.max(service.rss_kib());
    let rss_blocked = service.rss_kib();
    eprintln!(
        "{CHANGES} changes written in {writing:?}, the fast client got {fast_messages} \
         messages; service RSS {rss_before} KiB before, {rss_max} KiB at most, \
         {rss_blocked} KiB with the slow client blocked"
    );
    assert!(
        rss_max - rss_before < RSS_GROWTH_LIMIT_KIB,
        "the service's RSS grew from {rss_before} KiB to {rss_max} KiB while a client \
         did not read"
    );

    // The slow client reads again.
    let slow_messages =
        read_until_title(&mut slow, &mut slow_values, &last_title, message_limit).await;
    eprintln!(
        "the slow client got {slow_messages} messages, {:?} in all",
        started.elapsed()
    );
    slow.expect_quiet(Duration::from_millis(300)).await;
    let fresh = post(
        &format!("{}/system/autoupdate?single=1", service.url),
        &motion_request(),
    )
    .await
    .json();

    let Value::Object(fresh) = fresh else {
        panic!("the fresh answer is not an object: {fresh}");
    };
    assert_eq!(fresh["motion/1/title"], json!(last_title));
    assert_eq!(fresh["motion/3/title"], "Changed once");
    assert!(!fresh.contains_key("motion/2/state_extension"));
    assert!(
        slow_values == fresh,
        "the slow client's values differ from a fresh request's"
    );
    assert!(
        fast_values == fresh,
        "the fast client's values differ from a fresh request's"
    );
}
