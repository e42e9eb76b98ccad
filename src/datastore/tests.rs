use super::*;
use crate::models::Key;
use std::sync::atomic::AtomicUsize;

/// A source that counts the keys it was asked for and can be told to fail.
#[derive(Default)]
struct CountingSource {
    memory: MemorySource,
    fetched: AtomicUsize,
    calls: AtomicUsize,
    fail: std::sync::atomic::AtomicBool,
    delay_ms: u64,
}

impl Source for Arc<CountingSource> {
    fn get(&self, keys: Vec<Key>) -> BoxFuture<'static, Result<Vec<Value>, DatastoreError>> {
        let this = self.clone();
        Box::pin(async move {
            tokio::time::sleep(std::time::Duration::from_millis(this.delay_ms)).await;
            this.calls.fetch_add(1, Ordering::SeqCst);
            this.fetched.fetch_add(keys.len(), Ordering::SeqCst);
            if this.fail.load(Ordering::SeqCst) {
                return Err(DatastoreError::Unavailable("test failure".into()));
            }
            this.memory.get(keys).await
        })
    }
}

fn key(text: &str) -> Key {
    Key::parse(text).unwrap()
}

fn source_with(values: &[(&str, &str)], delay_ms: u64) -> Arc<CountingSource> {
    let source = CountingSource {
        delay_ms,
        ..Default::default()
    };
    let changes: Vec<(Key, Value)> = values
        .iter()
        .map(|(k, v)| (key(k), Some(Bytes::copy_from_slice(v.as_bytes()))))
        .collect();
    source.memory.apply(&changes);
    Arc::new(source)
}

#[tokio::test]
async fn datastore_reads_each_key_once() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 0);
    let datastore = Datastore::new(Arc::new(source.clone()));

    let keys = [key("user/1/username"), key("user/2/username")];
    let first = datastore.get(&keys).await.unwrap();
    let second = datastore.get(&keys).await.unwrap();

    assert_eq!(first[0].as_deref(), Some(&b"\"admin\""[..]));
    assert_eq!(first[1], None);
    assert_eq!(first, second);
    assert_eq!(source.fetched.load(Ordering::SeqCst), 2);
    assert_eq!(datastore.len(), 2);
    assert_eq!(datastore.size(), 7);
}

#[tokio::test]
async fn datastore_shares_parallel_fetches() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 50);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));

    let keys = vec![key("user/1/username")];
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let datastore = datastore.clone();
            let keys = keys.clone();
            tokio::spawn(async move { datastore.get(&keys).await })
        })
        .collect();
    for task in tasks {
        let values = task.await.unwrap().unwrap();
        assert_eq!(values[0].as_deref(), Some(&b"\"admin\""[..]));
    }
    assert_eq!(source.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn datastore_update_changes_only_cached_keys() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 0);
    let datastore = Datastore::new(Arc::new(source.clone()));
    datastore.get(&[key("user/1/username")]).await.unwrap();

    datastore.update(&[
        (
            key("user/1/username"),
            Some(Bytes::from_static(b"\"root\"")),
        ),
        (
            key("user/2/username"),
            Some(Bytes::from_static(b"\"other\"")),
        ),
    ]);

    assert_eq!(datastore.len(), 1);
    let values = datastore.get(&[key("user/1/username")]).await.unwrap();
    assert_eq!(values[0].as_deref(), Some(&b"\"root\""[..]));
    assert_eq!(datastore.size(), 6);
}

#[tokio::test]
async fn datastore_update_wins_over_running_fetch() {
    let source = source_with(&[("user/1/username", "\"old\"")], 100);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let reader = {
        let datastore = datastore.clone();
        tokio::spawn(async move { datastore.get(&[key("user/1/username")]).await })
    };

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    datastore.update(&[(key("user/1/username"), Some(Bytes::from_static(b"\"new\"")))]);

    let values = reader.await.unwrap().unwrap();
    assert_eq!(values[0].as_deref(), Some(&b"\"new\""[..]));
}

#[tokio::test]
async fn datastore_reset_forgets_values() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 0);
    let datastore = Datastore::new(Arc::new(source.clone()));
    datastore.get(&[key("user/1/username")]).await.unwrap();

    datastore.reset();

    assert!(datastore.is_empty());
    assert_eq!(datastore.size(), 0);
    datastore.get(&[key("user/1/username")]).await.unwrap();
    assert_eq!(source.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn datastore_failed_fetch_is_not_cached() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 0);
    let datastore = Datastore::new(Arc::new(source.clone()));
    source.fail.store(true, Ordering::SeqCst);

    assert!(datastore.get(&[key("user/1/username")]).await.is_err());
    assert!(datastore.is_empty());

    source.fail.store(false, Ordering::SeqCst);
    let values = datastore.get(&[key("user/1/username")]).await.unwrap();
    assert_eq!(values[0].as_deref(), Some(&b"\"admin\""[..]));
}

#[tokio::test]
async fn datastore_fetch_finishes_after_caller_left() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 50);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let keys = [key("user/1/username")];

    let cancelled =
        tokio::time::timeout(std::time::Duration::from_millis(10), datastore.get(&keys));
    assert!(cancelled.await.is_err(), "the first read should time out");

    let values = datastore.get(&keys).await.unwrap();
    assert_eq!(values[0].as_deref(), Some(&b"\"admin\""[..]));
    assert_eq!(source.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn datastore_empties_itself_at_max_keys() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 0);
    let datastore = Datastore::with_max_keys(Arc::new(source.clone()), 3);
    let keys: Vec<Key> = (1..=3)
        .map(|id| key(&format!("user/{id}/username")))
        .collect();
    datastore.get(&keys).await.unwrap();
    assert_eq!(datastore.len(), 3);

    let values = datastore.get(&[key("user/4/username")]).await.unwrap();

    assert_eq!(values, vec![None]);
    assert_eq!(datastore.len(), 1);
    let again = datastore.get(&[key("user/1/username")]).await.unwrap();
    assert_eq!(again[0].as_deref(), Some(&b"\"admin\""[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datastore_full_cache_does_not_fail_parallel_reads() {
    let values: Vec<(String, String)> = (1..=50)
        .map(|id| (format!("user/{id}/username"), format!("\"u{id}\"")))
        .collect();
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let source = source_with(&pairs, 1);
    let datastore = Arc::new(Datastore::with_max_keys(Arc::new(source.clone()), 8));

    let readers: Vec<_> = (0..300)
        .map(|reader| {
            let datastore = datastore.clone();
            tokio::spawn(async move {
                let keys: Vec<Key> = (1..=8)
                    .map(|i| key(&format!("user/{}/username", (reader * 3 + i) % 50 + 1)))
                    .collect();
                let values = datastore.get(&keys).await.unwrap();
                (keys, values)
            })
        })
        .collect();
    for reader in readers {
        let (keys, values) = reader.await.unwrap();
        for (key, value) in keys.iter().zip(values) {
            let expected = format!("\"u{}\"", key.id());
            assert_eq!(value.as_deref(), Some(expected.as_bytes()), "{key}");
        }
    }
}

fn patience() -> (Patience, watch::Receiver<bool>, watch::Sender<bool>) {
    let waiting = watch::Sender::new(false);
    let waiting_rx = waiting.subscribe();
    let give_up = watch::Sender::new(false);
    let patience = Patience::new(waiting, give_up.subscribe());
    (patience, waiting_rx, give_up)
}

#[tokio::test]
async fn unavailable_source_outside_scope_fails() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 0);
    source.fail.store(true, Ordering::SeqCst);
    let datastore = Datastore::new(Arc::new(source.clone()));

    let result = datastore.get(&[key("user/1/username")]).await;
    assert!(matches!(result, Err(DatastoreError::Unavailable(_))));
    assert_eq!(source.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unavailable_source_in_scope_waits() {
    let source = source_with(&[("user/1/username", "\"admin\"")], 0);
    source.fail.store(true, Ordering::SeqCst);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let (patience, mut waiting, _give_up) = patience();

    let reader = datastore.clone();
    let read = tokio::spawn(wait_for_source(patience, async move {
        reader.get(&[key("user/1/username")]).await
    }));
    waiting.wait_for(|waiting| *waiting).await.unwrap();
    // The delays grow: tries at 0, 100, 300, 700 and 1500 ms.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tries = source.calls.load(Ordering::SeqCst);
    assert!((2..=4).contains(&tries), "{tries} tries");
    assert!(!read.is_finished());

    source.fail.store(false, Ordering::SeqCst);
    let values = read.await.unwrap().unwrap();
    assert_eq!(values[0].as_deref(), Some(&b"\"admin\""[..]));
    assert!(!*waiting.borrow());
}

#[tokio::test]
async fn waiting_read_gives_up() {
    let source = source_with(&[], 0);
    source.fail.store(true, Ordering::SeqCst);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let (patience, mut waiting, give_up) = patience();

    let reader = datastore.clone();
    let read = tokio::spawn(wait_for_source(patience, async move {
        reader.get(&[key("user/1/username")]).await
    }));
    waiting.wait_for(|waiting| *waiting).await.unwrap();
    give_up.send_replace(true);
    let result = read.await.unwrap();
    assert!(matches!(result, Err(DatastoreError::Unavailable(_))));
    assert!(!*waiting.borrow());
}

#[tokio::test]
async fn query_error_in_scope_fails() {
    struct Broken;
    impl Source for Broken {
        fn get(&self, _: Vec<Key>) -> BoxFuture<'static, Result<Vec<Value>, DatastoreError>> {
            Box::pin(async { Err(DatastoreError::Query("broken".into())) })
        }
    }
    let datastore = Datastore::new(Arc::new(Broken));
    let (patience, _waiting, _give_up) = patience();
    let result = wait_for_source(patience, datastore.get(&[key("user/1/username")])).await;
    assert!(matches!(result, Err(DatastoreError::Query(_))));
}
