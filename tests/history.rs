//! History: `position` returns the data at an old position, rebuilt from the
//! `events` table, and `history_information` lists the positions of one object. The
//! tests write positions and events into PostgreSQL themselves.

mod support;

use openslides_autoupdate::auth::{sign, Claims, DEVELOPMENT_COOKIE_KEY, DEVELOPMENT_TOKEN_KEY};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{send, Answer, TestDb, TestService};

const SUPERADMIN: u64 = 1;
const ADMIN_OF_MEETING_1: u64 = 2;
const MEMBER_OF_MEETING_1: u64 = 3;
const ADMIN_OF_MEETING_2: u64 = 4;
const USER_MANAGER: u64 = 5;
const ORGANIZATION_MANAGER: u64 = 6;

/// The newest position that `history_service` writes.
const NEWEST: i32 = 7;

/// Position 1 (from `load`): the organization, two meetings with admin groups, users
/// with different rights and motion/50 in meeting 2.
fn initial_data() -> Value {
    json!({
        "organization/1": {"id": 1, "name": "Org", "enable_anonymous": true, "committee_ids": [1]},
        "committee/1": {"id": 1, "name": "Board", "meeting_ids": [1, 2]},
        "meeting/1": {
            "id": 1, "name": "Meeting 1", "committee_id": 1, "admin_group_id": 1,
            "default_group_id": 2, "group_ids": [1, 2], "enable_anonymous": true,
            "anonymous_group_id": 2, "meeting_user_ids": [2, 3]
        },
        "meeting/2": {
            "id": 2, "name": "Meeting 2", "committee_id": 1, "admin_group_id": 3,
            "default_group_id": 3, "group_ids": [3], "meeting_user_ids": [4],
            "motion_ids": [50]
        },
        "group/1": {"id": 1, "meeting_id": 1, "name": "Admin", "meeting_user_ids": [2]},
        "group/2": {
            "id": 2, "meeting_id": 1, "name": "Delegates", "meeting_user_ids": [3],
            "permissions": ["motion.can_see", "user.can_see"]
        },
        "group/3": {"id": 3, "meeting_id": 2, "name": "Admin", "meeting_user_ids": [4]},
        "user/1": {"id": 1, "username": "superadmin", "organization_management_level": "superadmin", "password": "secret"},
        "user/2": {"id": 2, "username": "admin1", "meeting_ids": [1], "meeting_user_ids": [2]},
        "user/3": {"id": 3, "username": "member1", "meeting_ids": [1], "meeting_user_ids": [3]},
        "user/4": {"id": 4, "username": "admin2", "meeting_ids": [2], "meeting_user_ids": [4]},
        "user/5": {"id": 5, "username": "usermanager", "organization_management_level": "can_manage_users"},
        "user/6": {"id": 6, "username": "orgmanager", "organization_management_level": "can_manage_organization"},
        "meeting_user/2": {"id": 2, "user_id": 2, "meeting_id": 1, "group_ids": [1]},
        "meeting_user/3": {"id": 3, "user_id": 3, "meeting_id": 1, "group_ids": [2]},
        "meeting_user/4": {"id": 4, "user_id": 4, "meeting_id": 2, "group_ids": [3]},
        "motion/50": {"id": 50, "meeting_id": 2, "title": "Other meeting"}
    })
}

/// Writes one position with its events (`(fqid, type, data)`, in order).
async fn write_position(
    client: &tokio_postgres::Client,
    user_id: i32,
    information: Value,
    events: &[(&str, &str, Value)],
) -> i32 {
    let position: i32 = client
        .query_one(
            "INSERT INTO positions (timestamp, user_id, information, migration_index) \
             VALUES (to_timestamp(1700000000) + make_interval(secs => (SELECT count(*) FROM positions)), \
                     $1, $2, 1) RETURNING position",
            &[&user_id, &tokio_postgres::types::Json(&information)],
        )
        .await
        .unwrap()
        .get(0);
    for (weight, (fqid, event_type, data)) in events.iter().enumerate() {
        let data = if data.is_null() {
            None
        } else {
            Some(tokio_postgres::types::Json(data))
        };
        client
            .execute(
                "INSERT INTO events (position, fqid, type, data, weight) \
                 VALUES ($1, $2, $3::text::event_type, $4, $5)",
                &[&position, fqid, event_type, &data, &(weight as i32 + 1)],
            )
            .await
            .unwrap();
    }
    position
}

/// Starts a service whose datastore has the history of motion/42 in meeting 1:
///
/// 1. `load` of the initial data; motion/42 does not exist.
/// 2. create: title "First", text "T", tag_ids [1]; meeting/1 gets motion_ids [42].
/// 3. update: title "Second".
/// 4. deletefields: text (the position has no information).
/// 5. listfields: tag_ids add [2, 3], remove [1].
/// 6. delete.
/// 7. restore.
async fn history_service() -> TestService {
    let db = TestDb::new().await;
    db.load_fqids(&initial_data()).await;
    let client = db.client().await;
    let created = write_position(
        &client,
        2,
        json!(["Motion created"]),
        &[
            (
                "motion/42",
                "create",
                json!({"id": 42, "meeting_id": 1, "title": "First", "text": "T", "tag_ids": [1]}),
            ),
            ("meeting/1", "update", json!({"motion_ids": [42]})),
        ],
    )
    .await;
    assert_eq!(created, 2);
    write_position(
        &client,
        2,
        json!(["Motion updated"]),
        &[("motion/42", "update", json!({"title": "Second"}))],
    )
    .await;
    write_position(
        &client,
        1,
        Value::Null,
        &[("motion/42", "deletefields", json!(["text"]))],
    )
    .await;
    write_position(
        &client,
        2,
        json!(["Tags changed"]),
        &[(
            "motion/42",
            "listfields",
            json!({"add": {"tag_ids": [2, 3]}, "remove": {"tag_ids": [1]}}),
        )],
    )
    .await;
    write_position(
        &client,
        1,
        json!(["Motion deleted"]),
        &[("motion/42", "delete", Value::Null)],
    )
    .await;
    let newest = write_position(
        &client,
        1,
        json!(["Motion restored"]),
        &[("motion/42", "restore", Value::Null)],
    )
    .await;
    assert_eq!(newest, NEWEST);

    // The current state, which the permission checks read.
    client
        .execute(
            "INSERT INTO models (fqid, data, deleted) VALUES ('motion/42', $1, false)",
            &[&tokio_postgres::types::Json(
                json!({"id": 42, "meeting_id": 1, "title": "Second", "tag_ids": [2, 3]}),
            )],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE models SET data = jsonb_set(data, '{motion_ids}', '[42]') WHERE fqid = 'meeting/1'",
            &[],
        )
        .await
        .unwrap();

    // Real authentication with the development keys; tokens never expire during a test,
    // so the auth service on AUTH_PORT is never asked.
    TestService::start_with_env(
        db,
        &[
            ("AUTH_HOST", "127.0.0.1".to_string()),
            ("AUTH_PORT", support::free_port().to_string()),
        ],
    )
    .await
}

fn auth_headers(user_id: u64) -> Vec<(&'static str, String)> {
    if user_id == 0 {
        return Vec::new();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let session = format!("session-{user_id}");
    let claims = Claims {
        user_id: user_id as i64,
        session_id: session.clone(),
        exp: Some((now + 600) as u64),
    };
    let token = sign(&claims, DEVELOPMENT_TOKEN_KEY).unwrap();
    let cookie = sign(
        &json!({"sessionId": session, "exp": now + 3600}),
        DEVELOPMENT_COOKIE_KEY,
    )
    .unwrap();
    vec![
        ("authentication", format!("bearer {token}")),
        ("cookie", format!("refreshId=bearer%20{cookie}")),
    ]
}

/// Sends a GET as `user_id` (0: without credentials) to `path` of the service.
async fn get_as(service: &TestService, user_id: u64, path: &str) -> Answer {
    let mut request = support::client()
        .get(format!("{}{path}", service.url))
        .timeout(Duration::from_secs(30));
    for (name, value) in auth_headers(user_id) {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("send request");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("read body").to_vec(),
    }
}

/// Requests `keys` from `/internal/autoupdate` for `user_id` at `position`.
async fn at_position(service: &TestService, user_id: u64, position: i32, keys: &str) -> Value {
    let url = format!(
        "{}/internal/autoupdate?user_id={user_id}&position={position}&k={keys}",
        service.url
    );
    let answer = send(reqwest::Method::GET, &url, None).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

const MOTION_42: &str = "motion/42/title,motion/42/text,motion/42/tag_ids";

#[tokio::test]
async fn position_replays_every_event_type() {
    let service = history_service().await;
    let expected = [
        (1, json!({})),
        (
            2,
            json!({"motion/42/title": "First", "motion/42/text": "T", "motion/42/tag_ids": [1]}),
        ),
        (
            3,
            json!({"motion/42/title": "Second", "motion/42/text": "T", "motion/42/tag_ids": [1]}),
        ),
        (
            4,
            json!({"motion/42/title": "Second", "motion/42/tag_ids": [1]}),
        ),
        (
            5,
            json!({"motion/42/title": "Second", "motion/42/tag_ids": [2, 3]}),
        ),
        (6, json!({})),
        (
            7,
            json!({"motion/42/title": "Second", "motion/42/tag_ids": [2, 3]}),
        ),
    ];
    for (position, answer) in expected {
        assert_eq!(
            at_position(&service, SUPERADMIN, position, MOTION_42).await,
            answer,
            "position {position}"
        );
    }
}

#[tokio::test]
async fn position_follows_relations_of_old_data() {
    let service = history_service().await;
    let body = json!([{
        "ids": [1], "collection": "meeting",
        "fields": {"motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"title": null}}}
    }])
    .to_string()
    .into_bytes();
    let url = |position: i32| {
        format!(
            "{}/internal/autoupdate?user_id={SUPERADMIN}&position={position}",
            service.url
        )
    };

    let before = send(reqwest::Method::POST, &url(1), Some(body.clone())).await;
    assert_eq!(before.status, 200);
    assert_eq!(before.json(), json!({}));

    let after = send(reqwest::Method::POST, &url(2), Some(body)).await;
    assert_eq!(after.status, 200);
    assert_eq!(
        after.json(),
        json!({"meeting/1/motion_ids": [42], "motion/42/title": "First"})
    );
}

#[tokio::test]
async fn position_answers_once_on_public_route() {
    let service = history_service().await;
    let answer = get_as(
        &service,
        SUPERADMIN,
        "/system/autoupdate?position=3&k=motion/42/title",
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body.last(), Some(&b'\n'));
    assert_eq!(answer.json(), json!({"motion/42/title": "Second"}));
}

#[tokio::test]
async fn organization_managers_see_everything_but_passwords() {
    let service = history_service().await;
    let keys = "motion/42/title,motion/50/title,committee/1/name,user/3/username,user/1/password";
    let expected = json!({
        "motion/42/title": "Second",
        "motion/50/title": "Other meeting",
        "committee/1/name": "Board",
        "user/3/username": "member1"
    });
    for user_id in [SUPERADMIN, ORGANIZATION_MANAGER] {
        assert_eq!(
            at_position(&service, user_id, 3, keys).await,
            expected,
            "user {user_id}"
        );
    }
}

#[tokio::test]
async fn meeting_admins_see_their_meetings_only() {
    let service = history_service().await;
    let keys = "motion/42/title,motion/50/title,committee/1/name,meeting/1/name,\
                meeting/2/name,user/3/username,user/4/username,organization/1/name";
    assert_eq!(
        at_position(&service, ADMIN_OF_MEETING_1, 3, keys).await,
        json!({
            "motion/42/title": "Second",
            "meeting/1/name": "Meeting 1",
            "user/3/username": "member1",
            "organization/1/name": "Org"
        })
    );
    assert_eq!(
        at_position(&service, ADMIN_OF_MEETING_2, 3, keys).await,
        json!({
            "motion/50/title": "Other meeting",
            "meeting/2/name": "Meeting 2",
            "user/4/username": "admin2",
            "organization/1/name": "Org"
        })
    );
}

#[tokio::test]
async fn other_users_get_an_empty_answer() {
    let service = history_service().await;
    let keys = "motion/42/title,meeting/1/name,organization/1/name,user/3/username";
    for user_id in [0, MEMBER_OF_MEETING_1, USER_MANAGER, 99] {
        assert_eq!(
            at_position(&service, user_id, 3, keys).await,
            json!({}),
            "user {user_id}"
        );
    }
    let public = get_as(
        &service,
        0,
        "/system/autoupdate?position=3&k=organization/1/name",
    )
    .await;
    assert_eq!(public.status, 200);
    assert_eq!(public.json(), json!({}));
}

#[tokio::test]
async fn invalid_positions_get_400() {
    let service = history_service().await;
    for position in ["abc", "0", "-1", "1.5", ""] {
        let url = format!(
            "{}/internal/autoupdate?user_id=1&position={position}&k=motion/42/title",
            service.url
        );
        let answer = send(reqwest::Method::GET, &url, None).await;
        assert_eq!(answer.status, 400, "position {position:?}");
        assert_eq!(
            answer.json()["error"]["type"],
            json!("invalid_request"),
            "position {position:?}"
        );
    }
}

#[tokio::test]
async fn position_after_newest_gets_400() {
    let service = history_service().await;
    let url = format!(
        "{}/internal/autoupdate?user_id=1&position={}&k=motion/42/title",
        service.url,
        NEWEST + 1
    );
    let answer = send(reqwest::Method::GET, &url, None).await;
    assert_eq!(answer.status, 400);
    let error = answer.json();
    assert_eq!(error["error"]["type"], json!("invalid_request"));
    let message = error["error"]["msg"].as_str().unwrap();
    assert!(message.contains("position 8 does not exist"), "{message}");
    assert!(message.contains("newest position is 7"), "{message}");
}

#[tokio::test]
async fn history_information_lists_positions_with_information() {
    let service = history_service().await;
    let answer = get_as(
        &service,
        ADMIN_OF_MEETING_1,
        "/system/autoupdate/history_information?fqid=motion/42",
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.body.last(), Some(&b'\n'));
    let entries = answer.json()["motion/42"].clone();
    let positions: Vec<i64> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, vec![2, 3, 5, 6, 7]);
    assert_eq!(
        entries[0],
        json!({"position": 2, "timestamp": 1700000001, "user_id": 2, "information": ["Motion created"]})
    );
    assert_eq!(entries[4]["information"], json!(["Motion restored"]));
    assert_eq!(entries[4]["user_id"], json!(1));

    // The Go service's field order.
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        text.starts_with(r#"{"motion/42":[{"position":2,"timestamp":"#),
        "{text}"
    );
}

#[tokio::test]
async fn history_information_needs_permission() {
    let service = history_service().await;
    let path = "/system/autoupdate/history_information?fqid=motion/42";
    for user_id in [SUPERADMIN, ORGANIZATION_MANAGER, ADMIN_OF_MEETING_1] {
        let answer = get_as(&service, user_id, path).await;
        assert_eq!(answer.status, 200, "user {user_id}");
    }
    for user_id in [0, MEMBER_OF_MEETING_1, ADMIN_OF_MEETING_2, USER_MANAGER] {
        let answer = get_as(&service, user_id, path).await;
        assert_eq!(answer.status, 400, "user {user_id}");
        assert_eq!(
            answer.json()["error"]["type"],
            json!("permission_denied"),
            "user {user_id}"
        );
    }

    // Objects outside meetings need the organization management level.
    let committee = "/system/autoupdate/history_information?fqid=committee/1";
    let allowed = get_as(&service, ORGANIZATION_MANAGER, committee).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.json(), json!({}));
    let denied = get_as(&service, ADMIN_OF_MEETING_1, committee).await;
    assert_eq!(denied.status, 400);
    assert_eq!(denied.json()["error"]["type"], json!("permission_denied"));
}

#[tokio::test]
async fn history_information_rejects_bad_fqids() {
    let service = history_service().await;
    let cases = [
        ("", "invalid_request"),
        ("?fqid=", "invalid_request"),
        ("?fqid=motion", "invalid_input"),
        ("?fqid=motion/abc", "invalid_input"),
        ("?fqid=motion/0", "invalid_input"),
        ("?fqid=nope/1", "invalid_input"),
        ("?fqid=motion/999", "not_exist"),
    ];
    for (query, error_type) in cases {
        let answer = get_as(
            &service,
            SUPERADMIN,
            &format!("/system/autoupdate/history_information{query}"),
        )
        .await;
        assert_eq!(answer.status, 400, "query {query:?}");
        assert_eq!(
            answer.json()["error"]["type"],
            json!(error_type),
            "query {query:?}"
        );
    }
}
