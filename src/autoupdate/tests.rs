use super::*;
use crate::datastore::MemorySource;
use crate::restrict::AllVisible;
use serde_json::json;
use std::time::Duration;

struct Setup {
    source: MemorySource,
    autoupdate: Autoupdate,
}

fn setup(data: serde_json::Value) -> Setup {
    let source = MemorySource::from_export(&data);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    Setup {
        source,
        autoupdate: Autoupdate::new(datastore, Arc::new(AllVisible)),
    }
}

impl Setup {
    /// Writes changes to the source and announces them, as the datastore writer and the
    /// message bus do.
    fn change(&self, changes: serde_json::Value) {
        let changes: Vec<(Key, Value)> = changes
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| {
                let value = (!value.is_null()).then(|| Bytes::from(value.to_string()));
                (Key::parse(key).unwrap(), value)
            })
            .collect();
        self.source.apply(&changes);
        self.autoupdate.apply_update(&changes);
    }
}

fn viewer() -> Viewer {
    Viewer { user_id: 1 }
}

fn request(body: serde_json::Value) -> Arc<Request> {
    Arc::new(Request::parse(body.to_string().as_bytes(), "").unwrap())
}

fn parse_message(message: &[u8]) -> serde_json::Value {
    assert_eq!(
        message.last(),
        Some(&b'\n'),
        "a message ends with a newline"
    );
    serde_json::from_slice(message).unwrap()
}

async fn next(connection: &mut Connection) -> serde_json::Value {
    let message = tokio::time::timeout(Duration::from_secs(2), connection.next())
        .await
        .expect("a message within two seconds")
        .unwrap();
    parse_message(&message)
}

async fn assert_no_message(connection: &mut Connection) {
    let result = tokio::time::timeout(Duration::from_millis(100), connection.next()).await;
    assert!(result.is_err(), "unexpected message {:?}", result.unwrap());
}

fn organization_data() -> serde_json::Value {
    json!({
        "organization": {"1": {"id": 1, "name": "Org", "organization_tag_ids": [1, 2]}},
        "organization_tag": {
            "1": {"id": 1, "name": "red", "organization_id": 1},
            "2": {"id": 2, "name": "blue", "organization_id": 1},
            "3": {"id": 3, "name": "green", "organization_id": 1}
        }
    })
}

fn tag_request() -> Arc<Request> {
    request(json!([{
        "collection": "organization", "ids": [1],
        "fields": {"organization_tag_ids": {
            "type": "relation-list", "collection": "organization_tag", "fields": {"name": null}
        }}
    }]))
}

#[tokio::test]
async fn first_message_contains_nested_values() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    let first = parse_message(&connection.take_first().unwrap());
    assert_eq!(
        first,
        json!({
            "organization/1/organization_tag_ids": [1, 2],
            "organization_tag/1/name": "red",
            "organization_tag/2/name": "blue"
        })
    );
    assert!(connection.take_first().is_none());
}

#[tokio::test]
async fn changed_value_is_sent_alone() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    setup.change(json!({"organization_tag/1/name": "crimson"}));

    assert_eq!(
        next(&mut connection).await,
        json!({"organization_tag/1/name": "crimson"})
    );
}

#[tokio::test]
async fn unchanged_or_unrequested_values_send_nothing() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    setup.change(json!({"organization_tag/1/name": "red"}));
    setup.change(json!({"organization_tag/1/color": "#ff0000"}));
    setup.change(json!({"organization_tag/3/name": "lime"}));
    assert_no_message(&mut connection).await;
}

#[tokio::test]
async fn deleted_value_is_sent_as_null_once() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    setup.change(json!({"organization_tag/1/name": null}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization_tag/1/name": null})
    );

    setup.change(json!({"organization_tag/1/name": null}));
    assert_no_message(&mut connection).await;
}

#[tokio::test]
async fn relation_change_follows_new_target() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    setup.change(json!({"organization/1/organization_tag_ids": [1, 3]}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization/1/organization_tag_ids": [1, 3], "organization_tag/3/name": "green"})
    );

    // The left object's keys are no longer watched.
    setup.change(json!({"organization_tag/2/name": "navy"}));
    assert_no_message(&mut connection).await;
}

#[tokio::test]
async fn object_that_rejoins_is_sent_again() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    setup.change(json!({"organization/1/organization_tag_ids": [1]}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization/1/organization_tag_ids": [1]})
    );

    setup.change(json!({"organization/1/organization_tag_ids": [1, 2]}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization/1/organization_tag_ids": [1, 2], "organization_tag/2/name": "blue"})
    );
}

#[tokio::test]
async fn reordered_list_sends_only_the_list() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    setup.change(json!({"organization/1/organization_tag_ids": [2, 1]}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization/1/organization_tag_ids": [2, 1]})
    );
}

#[tokio::test]
async fn deeply_nested_relations_resolve() {
    let setup = setup(json!({
        "meeting": {"1": {"id": 1, "assignment_ids": [1]}},
        "assignment": {"1": {"id": 1, "title": "Election", "list_of_speakers_id": 14}},
        "list_of_speakers": {"14": {"id": 14, "closed": false, "speaker_ids": [6, 7]}},
        "speaker": {"6": {"id": 6, "begin_time": 100}, "7": {"id": 7}}
    }));
    let request = request(json!([{
        "collection": "meeting", "ids": [1],
        "fields": {"assignment_ids": {"type": "relation-list", "collection": "assignment", "fields": {
            "title": null,
            "list_of_speakers_id": {"type": "relation", "collection": "list_of_speakers", "fields": {
                "closed": null,
                "speaker_ids": {"type": "relation-list", "collection": "speaker", "fields": {
                    "begin_time": null, "end_time": null
                }}
            }}
        }}}
    }]));

    let values = setup.autoupdate.single(viewer(), request).await.unwrap();
    assert_eq!(
        parse_message(&values),
        json!({
            "assignment/1/list_of_speakers_id": 14,
            "assignment/1/title": "Election",
            "list_of_speakers/14/closed": false,
            "list_of_speakers/14/speaker_ids": [6, 7],
            "meeting/1/assignment_ids": [1],
            "speaker/6/begin_time": 100
        })
    );
}

#[tokio::test]
async fn generic_relations_resolve_per_target_collection() {
    let setup = setup(json!({
        "tag": {
            "1": {"id": 1, "tagged_ids": ["assignment/20"]},
            "2": {"id": 2, "tagged_ids": ["motion/30", "nope/1", "motion/0"]}
        },
        "assignment": {"20": {"id": 20, "title": "Board", "description": "Elect"}},
        "motion": {"30": {"id": 30, "title": "Budget"}}
    }));
    let request = request(json!([{
        "collection": "tag", "ids": [2, 1],
        "fields": {"tagged_ids": {"type": "generic-relation-list", "fields": {"title": null, "description": null}}}
    }]));

    let values = setup.autoupdate.single(viewer(), request).await.unwrap();
    assert_eq!(
        parse_message(&values),
        json!({
            "assignment/20/description": "Elect",
            "assignment/20/title": "Board",
            "motion/30/title": "Budget",
            "tag/1/tagged_ids": ["assignment/20"],
            "tag/2/tagged_ids": ["motion/30", "nope/1", "motion/0"]
        })
    );
}

#[tokio::test]
async fn repeated_relation_field_merges_nested_fields() {
    let setup = setup(json!({
        "meeting": {"1": {"id": 1, "motion_ids": [5]}},
        "motion": {"5": {"id": 5, "title": "Budget"}}
    }));
    let request = request(json!([
        {"collection": "meeting", "ids": [1], "fields": {"motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"title": null}}}},
        {"collection": "meeting", "ids": [1], "fields": {"motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"id": null}}}}
    ]));

    let values = setup.autoupdate.single(viewer(), request).await.unwrap();
    assert_eq!(
        parse_message(&values),
        json!({"meeting/1/motion_ids": [5], "motion/5/id": 5, "motion/5/title": "Budget"})
    );
}

#[tokio::test]
async fn connections_with_equal_requests_share_a_view() {
    let setup = setup(organization_data());
    let mut first = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();
    let mut second = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();
    let other_user = setup
        .autoupdate
        .connect(Viewer { user_id: 2 }, tag_request())
        .await
        .unwrap();

    assert_eq!(setup.autoupdate.stats().0, 2);

    setup.change(json!({"organization_tag/2/name": "navy"}));
    assert_eq!(
        next(&mut first).await,
        json!({"organization_tag/2/name": "navy"})
    );
    assert_eq!(
        next(&mut second).await,
        json!({"organization_tag/2/name": "navy"})
    );
    drop(other_user);
}

#[tokio::test]
async fn second_connection_gets_current_state() {
    let setup = setup(organization_data());
    let mut first = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();
    setup.change(json!({"organization_tag/2/name": "navy"}));
    next(&mut first).await;

    let mut second = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();
    let snapshot = parse_message(&second.take_first().unwrap());
    assert_eq!(snapshot["organization_tag/2/name"], json!("navy"));
}

#[tokio::test]
async fn last_connection_closes_the_view() {
    let setup = setup(organization_data());
    let first = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();
    let second = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();
    assert_eq!(setup.autoupdate.stats(), (1, 3));

    drop(first);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(setup.autoupdate.stats(), (1, 3));

    drop(second);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(setup.autoupdate.stats(), (0, 0));
}

#[tokio::test]
async fn relation_change_unwatches_left_keys() {
    let setup = setup(organization_data());
    let _connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();
    assert_eq!(setup.autoupdate.stats(), (1, 3));

    setup.change(json!({"organization/1/organization_tag_ids": [3]}));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(setup.autoupdate.stats(), (1, 2));
}

#[tokio::test]
async fn wrong_value_shape_is_a_value_error() {
    let setup = setup(json!({"organization": {"1": {"id": 1, "organization_tag_ids": "x"}}}));

    let error = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, AutoupdateError::Value { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "invalid value in key organization/1/organization_tag_ids: got string, expected list of ids"
    );
}

#[tokio::test]
async fn wrong_value_shape_in_update_ends_the_stream() {
    let setup = setup(organization_data());
    let mut connection = setup
        .autoupdate
        .connect(viewer(), tag_request())
        .await
        .unwrap();

    setup.change(json!({"organization/1/organization_tag_ids": 5}));

    let result = tokio::time::timeout(Duration::from_secs(2), connection.next())
        .await
        .unwrap();
    assert!(matches!(result, Err(AutoupdateError::Value { .. })));
}

#[tokio::test]
async fn missing_objects_end_branches_silently() {
    let setup = setup(
        json!({"organization": {"1": {"id": 1, "organization_tag_ids": [1, 9]}},
        "organization_tag": {"1": {"id": 1, "name": "red"}}}),
    );
    let values = setup
        .autoupdate
        .single(viewer(), tag_request())
        .await
        .unwrap();
    assert_eq!(
        parse_message(&values),
        json!({"organization/1/organization_tag_ids": [1, 9], "organization_tag/1/name": "red"})
    );
}

#[tokio::test]
async fn new_list_member_is_sent_with_its_fields() {
    let setup = setup(json!({
        "meeting": {"1": {"id": 1, "topic_ids": [1]}},
        "topic": {"1": {"id": 1, "title": "First"}}
    }));
    let request = request(json!([{
        "collection": "meeting", "ids": [1],
        "fields": {"topic_ids": {"type": "relation-list", "collection": "topic", "fields": {"title": null}}}
    }]));
    let mut connection = setup.autoupdate.connect(viewer(), request).await.unwrap();

    setup
        .change(json!({"topic/2/id": 2, "topic/2/title": "Second", "meeting/1/topic_ids": [1, 2]}));
    assert_eq!(
        next(&mut connection).await,
        json!({"meeting/1/topic_ids": [1, 2], "topic/2/title": "Second"})
    );

    setup.change(json!({"topic/2/title": "Second!"}));
    assert_eq!(
        next(&mut connection).await,
        json!({"topic/2/title": "Second!"})
    );
}

fn setup_restricted(data: serde_json::Value) -> Setup {
    let source = MemorySource::from_export(&data);
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let restricter = Arc::new(crate::restrict::RuleRestricter::new(datastore.clone()));
    Setup {
        source,
        autoupdate: Autoupdate::new(datastore, restricter),
    }
}

#[tokio::test]
async fn permission_change_updates_visibility() {
    let setup = setup_restricted(json!({
        "organization": {"1": {"id": 1, "name": "Org", "limit_of_users": 5}},
        "user": {"2": {"id": 2, "organization_management_level": "can_manage_users"}}
    }));
    let request = request(json!([{
        "collection": "organization", "ids": [1], "fields": {"name": null, "limit_of_users": null}
    }]));
    let mut connection = setup
        .autoupdate
        .connect(Viewer { user_id: 2 }, request)
        .await
        .unwrap();
    assert_eq!(
        parse_message(&connection.take_first().unwrap()),
        json!({"organization/1/name": "Org", "organization/1/limit_of_users": 5})
    );

    // The management level is no key of the request, but the rule of mode C reads it.
    setup.change(json!({"user/2/organization_management_level": null}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization/1/limit_of_users": null})
    );

    setup.change(json!({"user/2/organization_management_level": "superadmin"}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization/1/limit_of_users": 5})
    );

    setup.change(json!({"organization/1/name": "Renamed"}));
    assert_eq!(
        next(&mut connection).await,
        json!({"organization/1/name": "Renamed"})
    );
}

/// A source whose reads wait until the gate `open` turns true.
struct GatedSource {
    memory: MemorySource,
    open: watch::Sender<bool>,
}

impl datastore::Source for Arc<GatedSource> {
    fn get(
        &self,
        keys: Vec<Key>,
    ) -> futures::future::BoxFuture<'static, Result<Vec<Value>, DatastoreError>> {
        let memory = self.memory.clone();
        let mut open = self.open.subscribe();
        Box::pin(async move {
            let _ = open.wait_for(|open| *open).await;
            memory.get(keys).await
        })
    }
}

#[tokio::test]
async fn connection_cancelled_while_resolving_leaves_view_whole() {
    let source = Arc::new(GatedSource {
        memory: MemorySource::from_export(&organization_data()),
        open: watch::Sender::new(false),
    });
    let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
    let autoupdate = Autoupdate::new(datastore, Arc::new(AllVisible));

    // The first connection resolves the new view and waits for the source with the
    // view's lock. The second one joins the same view and waits for that lock.
    let resolving = tokio::spawn({
        let autoupdate = autoupdate.clone();
        async move { autoupdate.connect(viewer(), tag_request()).await.map(drop) }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let joining = tokio::spawn({
        let autoupdate = autoupdate.clone();
        async move { autoupdate.connect(viewer(), tag_request()).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(autoupdate.stats().0, 1);

    // The first client goes away before its first message.
    resolving.abort();
    assert!(resolving.await.unwrap_err().is_cancelled());
    source.open.send_replace(true);

    let mut connection = tokio::time::timeout(Duration::from_secs(2), joining)
        .await
        .expect("the second connection within two seconds")
        .unwrap()
        .unwrap();
    assert_eq!(
        parse_message(&connection.take_first().unwrap()),
        json!({
            "organization/1/organization_tag_ids": [1, 2],
            "organization_tag/1/name": "red",
            "organization_tag/2/name": "blue"
        })
    );
    assert_eq!(autoupdate.stats(), (1, 3));
    assert_change_reaches(&autoupdate, &source.memory, &mut connection).await;

    drop(connection);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(autoupdate.stats(), (0, 0));
}

/// Changes a watched key and checks that the connection gets it.
async fn assert_change_reaches(
    autoupdate: &Autoupdate,
    source: &MemorySource,
    connection: &mut Connection,
) {
    let changes = vec![(
        Key::parse("organization_tag/2/name").unwrap(),
        Some(Bytes::from_static(b"\"navy\"")),
    )];
    source.apply(&changes);
    autoupdate.apply_update(&changes);
    assert_eq!(
        next(connection).await,
        json!({"organization_tag/2/name": "navy"})
    );
}
