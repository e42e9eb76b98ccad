use super::slides::testing::datastore;
use super::*;
use crate::datastore::{DatastoreError, MemorySource, Source};
use futures::future::BoxFuture;
use serde_json::{json, Value as Json};
use std::sync::atomic::{AtomicUsize, Ordering};

type Published = Arc<Mutex<Vec<(Key, Value)>>>;

/// Creates a projector on `data` that records what it publishes.
fn projector(data: &Json) -> (Projector, Published) {
    let published = Published::default();
    let sink = published.clone();
    let projector = Projector::new(
        datastore(data),
        Box::new(move |changes| sink.lock().extend(changes)),
    );
    (projector, published)
}

fn parse(value: &Value) -> Json {
    value
        .as_ref()
        .map(|bytes| serde_json::from_slice(bytes).unwrap())
        .unwrap_or(Json::Null)
}

async fn content(projector: &Projector, id: Id) -> Json {
    parse(&projector.get(&[id]).await[0])
}

/// Waits until the projector published something, and takes it.
async fn next_published(published: &Published) -> Vec<(Key, Json)> {
    for _ in 0..200 {
        let changes: Vec<_> = std::mem::take(&mut *published.lock());
        if !changes.is_empty() {
            return changes.iter().map(|(k, v)| (*k, parse(v))).collect();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("nothing was published");
}

fn topic_meeting() -> Json {
    json!({
        "meeting/1": {},
        "projector/1": {"meeting_id": 1, "current_projection_ids": [1]},
        "projection/1": {
            "meeting_id": 1,
            "current_projector_id": 1,
            "content_object_id": "topic/1",
        },
        "projection/2": {"meeting_id": 1, "preview_projector_id": 1, "content_object_id": "topic/1"},
        "projection/3": {"meeting_id": 1, "current_projector_id": 1, "content_object_id": "topic/404"},
        "projection/4": {"meeting_id": 1, "current_projector_id": 1, "content_object_id": "meeting/1"},
        "projection/5": {"meeting_id": 1, "current_projector_id": 1, "content_object_id": ""},
        "projection/6": {"meeting_id": 1, "current_projector_id": 1, "content_object_id": "organization_tag/1"},
        "topic/1": {"title": "Welcome", "text": "<p>Hello</p>", "meeting_id": 1},
        "organization_tag/1": {"name": "tag"},
    })
}

#[tokio::test]
async fn content_names_the_slide() {
    let (projector, _) = projector(&topic_meeting());
    assert_eq!(
        content(&projector, 1).await,
        json!({"collection": "topic", "title": "Welcome", "text": "<p>Hello</p>", "item_number": ""})
    );
}

#[tokio::test]
async fn projection_off_the_projector_has_no_content() {
    let (projector, _) = projector(&topic_meeting());
    assert_eq!(content(&projector, 2).await, Json::Null);
}

#[tokio::test]
async fn missing_projection_has_no_content() {
    let (projector, _) = projector(&topic_meeting());
    assert_eq!(content(&projector, 99).await, Json::Null);
}

#[tokio::test]
async fn empty_content_object_has_no_content() {
    let (projector, _) = projector(&topic_meeting());
    assert_eq!(content(&projector, 5).await, Json::Null);
}

#[tokio::test]
async fn failing_slide_gives_the_error_object() {
    let (projector, _) = projector(&topic_meeting());
    assert_eq!(
        content(&projector, 3).await,
        json!({"error": "calculating key projection/3/content"})
    );
}

#[tokio::test]
async fn unknown_slide_gives_error_object() {
    let (projector, _) = projector(&topic_meeting());
    assert_eq!(
        content(&projector, 4).await,
        json!({"error": "calculating key projection/4/content"})
    );
    assert_eq!(
        content(&projector, 6).await,
        json!({"error": "calculating key projection/6/content"})
    );
}

#[test]
fn slide_name_is_the_type_only_for_meetings() {
    let mut p7on = super::slides::testing::slide_projection("meeting/1");
    p7on.kind = "agenda_item_list".into();
    assert_eq!(p7on.slide_name(), "agenda_item_list");
    p7on.content_object_id = Fqid::parse("topic/1").unwrap();
    assert_eq!(p7on.slide_name(), "topic");
}

#[tokio::test]
async fn every_slide_name_is_rendered() {
    let store = datastore(&json!({}));
    for name in super::slides::NAMES {
        let p7on = super::slides::testing::slide_projection("meeting/1");
        let result =
            super::slides::render(name, &mut super::slides::testing::fetch(&store), &p7on).await;
        // Every slide fails on an empty datastore or renders; none is unknown.
        assert!(!matches!(result, Ok(None)), "{name} is unknown");
    }
    let p7on = super::slides::testing::slide_projection("meeting/1");
    let result =
        super::slides::render("nope", &mut super::slides::testing::fetch(&store), &p7on).await;
    assert!(matches!(result, Ok(None)));
}

/// A source that counts the reads of one key and can hold them back.
struct CountingSource {
    inner: MemorySource,
    watched: Key,
    reads: Arc<AtomicUsize>,
    delay: Duration,
}

impl Source for CountingSource {
    fn get(&self, keys: Vec<Key>) -> BoxFuture<'static, Result<Vec<Value>, DatastoreError>> {
        let hit = keys.contains(&self.watched);
        if hit {
            self.reads.fetch_add(1, Ordering::SeqCst);
        }
        let delay = if hit { self.delay } else { Duration::ZERO };
        let read = self.inner.get(keys);
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            read.await
        })
    }
}

async fn counting(
    data: &Json,
    watched: &str,
    delay: Duration,
) -> (Arc<Datastore>, MemorySource, Arc<AtomicUsize>) {
    let store = datastore(data);
    let keys: Vec<Key> = data
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(fqid, fields)| {
            let fqid = Fqid::parse(fqid).unwrap();
            let mut keys: Vec<String> = fields
                .as_object()
                .unwrap()
                .keys()
                .map(|field| format!("{fqid}/{field}"))
                .collect();
            keys.push(format!("{fqid}/id"));
            keys
        })
        .map(|key| Key::parse(&key).unwrap())
        .collect();
    let values = store.get(&keys).await.unwrap();
    let memory = MemorySource::default();
    memory.apply(&keys.into_iter().zip(values).collect::<Vec<_>>());
    let reads = Arc::new(AtomicUsize::new(0));
    let source = CountingSource {
        inner: memory.clone(),
        watched: Key::parse(watched).unwrap(),
        reads: reads.clone(),
        delay,
    };
    (Arc::new(Datastore::new(Arc::new(source))), memory, reads)
}

#[tokio::test]
async fn content_is_computed_once_for_many_readers() {
    let (store, _, reads) =
        counting(&topic_meeting(), "topic/1/title", Duration::from_millis(50)).await;
    let projector = Projector::new(store, Box::new(|_| {}));
    let readers: Vec<_> = (0..20)
        .map(|_| {
            let projector = projector.clone();
            tokio::spawn(async move { content(&projector, 1).await })
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.await.unwrap()["title"], "Welcome");
    }
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    assert_eq!(content(&projector, 1).await["title"], "Welcome");
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn read_key_change_publishes_content() {
    let data = topic_meeting();
    let (store, memory, _) = counting(&data, "topic/1/title", Duration::ZERO).await;
    let published = Published::default();
    let sink = published.clone();
    let projector = Projector::new(store.clone(), Box::new(move |c| sink.lock().extend(c)));
    assert_eq!(content(&projector, 1).await["title"], "Welcome");
    // The first value is published too, for readers that stopped waiting.
    next_published(&published).await;

    let title = Key::parse("topic/1/title").unwrap();
    let change = vec![(title, Some(Bytes::from_static(br#""Goodbye""#)))];
    memory.apply(&change);
    store.update(&change);
    projector.invalidate(&change);
    let published = next_published(&published).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].0, content_key(1));
    assert_eq!(published[0].1["title"], "Goodbye");
    assert_eq!(content(&projector, 1).await["title"], "Goodbye");
}

#[tokio::test]
async fn unrelated_or_equal_changes_publish_nothing() {
    let (projector, published) = projector(&topic_meeting());
    content(&projector, 1).await;
    next_published(&published).await;

    let unrelated = Key::parse("organization_tag/1/name").unwrap();
    projector.invalidate(&[(unrelated, Some(Bytes::from_static(br#""x""#)))]);
    // A read key whose value did not change computes the same content.
    let title = Key::parse("topic/1/title").unwrap();
    projector.invalidate(&[(title, Some(Bytes::from_static(br#""Welcome""#)))]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(published.lock().is_empty());
}

#[tokio::test]
async fn projection_off_projector_loses_content() {
    let data = topic_meeting();
    let (store, memory, _) = counting(&data, "topic/1/title", Duration::ZERO).await;
    let published = Published::default();
    let sink = published.clone();
    let projector = Projector::new(store.clone(), Box::new(move |c| sink.lock().extend(c)));
    content(&projector, 1).await;
    next_published(&published).await;

    let change = vec![(
        Key::parse("projection/1/current_projector_id").unwrap(),
        None,
    )];
    memory.apply(&change);
    store.update(&change);
    projector.invalidate(&change);
    assert_eq!(
        next_published(&published).await,
        vec![(content_key(1), Json::Null)]
    );
}

#[tokio::test]
async fn slow_slide_publishes_content_later() {
    let (store, _, _) = counting(
        &topic_meeting(),
        "topic/1/title",
        Duration::from_millis(600),
    )
    .await;
    let published = Published::default();
    let sink = published.clone();
    let projector = Projector::with_wait(
        store,
        Box::new(move |c| sink.lock().extend(c)),
        Duration::from_millis(50),
    );
    let started = Instant::now();
    assert_eq!(content(&projector, 1).await, Json::Null);
    assert!(started.elapsed() < Duration::from_millis(500));
    let published = next_published(&published).await;
    assert_eq!(published[0].1["title"], "Welcome");
}

#[tokio::test]
async fn forgotten_projection_stops_depending_on_its_keys() {
    let (projector, _) = projector(&topic_meeting());
    content(&projector, 1).await;
    let (entries, keys) = projector.stats();
    assert_eq!(entries, 1);
    assert!(keys > 0);
    projector.forget(1);
    assert_eq!(projector.stats(), (0, 0));
}

#[tokio::test]
async fn reset_computes_again_and_publishes_differences() {
    let data = topic_meeting();
    let (store, memory, _) = counting(&data, "topic/1/title", Duration::ZERO).await;
    let published = Published::default();
    let sink = published.clone();
    let projector = Projector::new(store.clone(), Box::new(move |c| sink.lock().extend(c)));
    content(&projector, 1).await;
    next_published(&published).await;

    // A change the message bus did not deliver becomes visible after a reset.
    memory.apply(&[(
        Key::parse("topic/1/title").unwrap(),
        Some(Bytes::from_static(br#""Missed""#)),
    )]);
    store.reset();
    projector.reset();
    assert_eq!(next_published(&published).await[0].1["title"], "Missed");
}
