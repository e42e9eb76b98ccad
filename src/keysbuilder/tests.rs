use super::*;
use crate::models::FieldId;
use serde_json::json;

fn parse(body: serde_json::Value) -> Result<Request, RequestError> {
    Request::parse(body.to_string().as_bytes(), "")
}

fn syntax_error(body: serde_json::Value) -> String {
    match parse(body) {
        Err(RequestError::Syntax(message)) => message,
        other => panic!("expected a SyntaxError, got {other:?}"),
    }
}

fn field(collection: &str, name: &str) -> FieldId {
    FieldId::from_names(collection, name).unwrap()
}

#[test]
fn parse_plain_fields() {
    let request = parse(json!([
        {"ids": [1, 2], "collection": "user", "fields": {"username": null, "first_name": null}}
    ]))
    .unwrap();

    let root = &request.roots()[0];
    assert_eq!(root.collection, Collection::User);
    assert_eq!(root.ids, vec![1, 2]);
    let fields = request
        .field_set(root.field_set)
        .fields_for(Collection::User);
    let names: Vec<&str> = fields.iter().map(|f| f.field.name()).collect();
    assert_eq!(names, vec!["first_name", "username"]);
    assert!(fields.iter().all(|f| f.follow.is_none()));
}

#[test]
fn parse_nested_relations() {
    let request = parse(json!([{
        "ids": [1], "collection": "meeting",
        "fields": {
            "committee_id": {"type": "relation", "collection": "committee", "fields": {"name": null}},
            "motion_ids": {"type": "relation-list", "collection": "motion", "fields": {
                "agenda_item_id": {"type": "relation", "collection": "agenda_item", "fields": {
                    "content_object_id": {"type": "generic-relation", "fields": {"title": null}}
                }}
            }}
        }
    }]))
    .unwrap();

    let root = request.field_set(request.roots()[0].field_set);
    let fields = root.fields_for(Collection::Meeting);
    let committee = fields
        .iter()
        .find(|f| f.field == field("meeting", "committee_id"))
        .unwrap();
    let committee_set = request.field_set(committee.follow.unwrap());
    assert_eq!(
        committee_set.follow,
        Some(Follow::Relation(Collection::Committee))
    );
    assert_eq!(
        committee_set.fields_for(Collection::Committee)[0].field,
        field("committee", "name")
    );

    let motions = fields
        .iter()
        .find(|f| f.field == field("meeting", "motion_ids"))
        .unwrap();
    let motion_set = request.field_set(motions.follow.unwrap());
    assert_eq!(
        motion_set.follow,
        Some(Follow::RelationList(Collection::Motion))
    );
    let agenda = motion_set.fields_for(Collection::Motion)[0];
    let agenda_set = request.field_set(agenda.follow.unwrap());
    let content = agenda_set.fields_for(Collection::AgendaItem)[0];
    let generic = request.field_set(content.follow.unwrap());
    assert_eq!(generic.follow, Some(Follow::GenericRelation));
    assert_eq!(
        generic.fields_for(Collection::Topic)[0].field,
        field("topic", "title")
    );
    assert_eq!(
        generic.fields_for(Collection::Motion)[0].field,
        field("motion", "title")
    );
}

#[test]
fn generic_field_missing_in_target_is_skipped() {
    let request = parse(json!([{
        "ids": [1], "collection": "tag",
        "fields": {"tagged_ids": {"type": "generic-relation-list", "fields": {
            "title": null, "description": null
        }}}
    }]))
    .unwrap();

    let tag_set = request.field_set(request.roots()[0].field_set);
    let generic = request.field_set(tag_set.fields_for(Collection::Tag)[0].follow.unwrap());
    let names = |c| -> Vec<&str> {
        generic
            .fields_for(c)
            .iter()
            .map(|f| f.field.name())
            .collect()
    };
    assert_eq!(names(Collection::Assignment), vec!["description", "title"]);
    assert_eq!(names(Collection::Motion), vec!["title"]);
    assert!(names(Collection::Group).is_empty());
}

#[test]
fn generic_field_missing_in_every_target_is_rejected() {
    let message = syntax_error(json!([{
        "ids": [1], "collection": "tag",
        "fields": {"tagged_ids": {"type": "generic-relation-list", "fields": {"nope": null}}}
    }]));
    assert!(
        message.starts_with("field \"tagged_ids.nope\":"),
        "{message}"
    );
}

#[test]
fn number_fields_may_be_followed_as_relations() {
    let request = parse(json!([{
        "ids": [1], "collection": "user",
        "fields": {"meeting_ids": {"type": "relation-list", "collection": "meeting", "fields": {"name": null}}}
    }]))
    .unwrap();
    let user_set = request.field_set(request.roots()[0].field_set);
    let follow = user_set.fields_for(Collection::User)[0].follow.unwrap();
    assert_eq!(
        request.field_set(follow).follow,
        Some(Follow::RelationList(Collection::Meeting))
    );

    parse(json!([{
        "ids": [1], "collection": "action_worker",
        "fields": {"user_id": {"type": "relation", "collection": "user", "fields": {"username": null}}}
    }]))
    .unwrap();
}

#[test]
fn relation_type_must_match_models() {
    let message = syntax_error(json!([{
        "ids": [1], "collection": "meeting",
        "fields": {"motion_ids": {"type": "relation", "collection": "motion", "fields": {"title": null}}}
    }]));
    assert_eq!(
        message,
        "field \"motion_ids\": meeting/motion_ids is a relation-list field and cannot be followed as relation"
    );

    let message = syntax_error(json!([{
        "ids": [1], "collection": "meeting",
        "fields": {"motion_ids": {"type": "relation-list", "collection": "topic", "fields": {"title": null}}}
    }]));
    assert_eq!(
        message,
        "field \"motion_ids\": meeting/motion_ids points to motion, not to topic"
    );

    let message = syntax_error(json!([{
        "ids": [1], "collection": "meeting",
        "fields": {"name": {"type": "generic-relation", "fields": {"title": null}}}
    }]));
    assert_eq!(
        message,
        "field \"name\": meeting/name is a scalar field and cannot be followed as generic-relation"
    );

    let message = syntax_error(json!([{
        "ids": [1], "collection": "agenda_item",
        "fields": {"content_object_id": {"type": "generic-relation-list", "fields": {"title": null}}}
    }]));
    assert!(message.contains("is a generic-relation field"), "{message}");
}

#[test]
fn nested_unknown_field_names_its_path() {
    let message = syntax_error(json!([{
        "ids": [1], "collection": "meeting",
        "fields": {"motion_ids": {"type": "relation-list", "collection": "motion", "fields": {"nope": null}}}
    }]));
    assert_eq!(
        message,
        "field \"motion_ids.nope\": motion/nope does not exist"
    );
}

/// The error messages of the Go service that clients and the reference answers know.
#[test]
fn syntax_errors_name_the_problem() {
    let cases = [
        (
            json!([{"collection": "user", "ids": [null], "fields": {"username": null}}]),
            "id has to be a positive number",
        ),
        (
            json!([{"collection": "user", "ids": [0], "fields": {"username": null}}]),
            "id has to be a positive number",
        ),
        (
            json!([{"collection": "user", "ids": [-3], "fields": {"username": null}}]),
            "id has to be a positive number",
        ),
        (
            json!([{"collection": "user", "ids": [], "fields": {"username": null}}]),
            "no ids",
        ),
        (
            json!([{"collection": "user", "ids": ["1"], "fields": {"username": null}}]),
            "wrong type at field `ids`. Got string, expected number",
        ),
        (json!([]), "No data"),
        (
            json!({"collection": "user", "ids": [1], "fields": {"username": null}}),
            "wrong type at field ``. Got object, expected list",
        ),
        (
            json!([{"collection": "user", "ids": [1], "fields": {"nope": null}}]),
            "field \"nope\": user/nope does not exist",
        ),
        (
            json!([{"collection": "nope", "ids": [1], "fields": {"id": null}}]),
            "field \"id\": nope/id does not exist",
        ),
        (
            json!([{"collection": "user", "ids": [1], "fields": {"meeting_user_ids": {"type": "relation-list", "collection": "meeting_user"}}}]),
            "field \"meeting_user_ids\": no fields",
        ),
        (
            json!([{"collection": "user", "ids": [1], "fields": {"meeting_user_ids": {"type": "bogus", "collection": "meeting_user", "fields": {"id": null}}}}]),
            "field \"meeting_user_ids\": unknown type bogus",
        ),
        (
            json!([{"collection": "user", "ids": [1], "fields": {"meeting_user_ids": {"collection": "meeting_user", "fields": {"id": null}}}}]),
            "field \"meeting_user_ids\": no type",
        ),
        (
            json!([{"collection": "user", "ids": [1], "fields": {"meeting_user_ids": {"type": "relation-list", "fields": {"id": null}}}}]),
            "field \"meeting_user_ids\": no collection",
        ),
        (
            json!([{"ids": [1], "fields": {"id": null}}]),
            "attribute collection is missing",
        ),
        (
            json!([{"ids": [1], "collection": "user"}]),
            "attribute fields is missing",
        ),
        (
            json!([{"collection": "user", "ids": [1.5], "fields": {"id": null}}]),
            "wrong type at field `ids`. Got number 1.5, expected integer",
        ),
        (
            json!([{"collection": "user", "ids": [1], "fields": {"id": 5}}]),
            "field \"id\": wrong type, got number 5, expected object or null",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(syntax_error(body.clone()), expected, "body {body}");
    }
}

#[test]
fn incomplete_body_is_a_syntax_error() {
    let body = br#"[{"collection": "user", "ids": [1], "fields": {"username": null"#;
    assert_eq!(
        Request::parse(body, "").unwrap_err(),
        RequestError::Syntax("Body is not complete".into())
    );
}

#[test]
fn invalid_json_is_a_json_error() {
    let error = Request::parse(b"[{]", "").unwrap_err();
    assert_eq!(error.error_type(), "JsonError");
}

#[test]
fn empty_body_is_an_empty_request() {
    assert!(Request::parse(b"", "").unwrap().is_empty());
    assert!(Request::parse(b"  \n", "").unwrap().is_empty());
}

#[test]
fn keys_parameter_adds_plain_keys() {
    let request = Request::parse(b"", "user/1/username,user/2/username,motion/3/title").unwrap();
    assert_eq!(request.roots().len(), 2);
    let user_root = request
        .roots()
        .iter()
        .find(|r| r.collection == Collection::User)
        .unwrap();
    assert_eq!(user_root.ids, vec![1, 2]);
}

#[test]
fn keys_parameter_rejects_invalid_keys() {
    for keys in [
        "user/1",
        "user/x/username",
        "user/1/nope",
        "nope/1/id",
        "user/0/username",
        "user/1/username,",
    ] {
        let error = Request::parse(b"", keys).unwrap_err();
        assert_eq!(error.error_type(), "SyntaxError", "keys {keys}");
    }
}

#[test]
fn body_and_keys_combine() {
    let body = json!([{"collection": "meeting", "ids": [1], "fields": {"name": null}}]).to_string();
    let request = Request::parse(body.as_bytes(), "motion/5/title").unwrap();
    assert_eq!(request.roots().len(), 2);
}

#[test]
fn canonical_text_ignores_order() {
    let first = parse(json!([
        {"collection": "meeting", "ids": [2, 1], "fields": {"name": null, "description": null}},
        {"collection": "user", "ids": [1], "fields": {"username": null}}
    ]))
    .unwrap();
    let second = parse(json!([
        {"collection": "user", "ids": [1], "fields": {"username": null}},
        {"collection": "meeting", "ids": [1], "fields": {"description": null, "name": null}},
        {"collection": "meeting", "ids": [2], "fields": {"description": null, "name": null}}
    ]))
    .unwrap();
    let other = parse(json!([
        {"collection": "meeting", "ids": [1, 2], "fields": {"name": null}},
        {"collection": "user", "ids": [1], "fields": {"username": null}}
    ]))
    .unwrap();
    assert_eq!(first.canonical(), second.canonical());
    assert_ne!(first.canonical(), other.canonical());
}

#[test]
fn targets_follow_values() {
    let motion = Collection::Motion;
    let ids = |follow, raw: &str| -> Vec<String> {
        Request::targets(follow, raw.as_bytes())
            .unwrap()
            .iter()
            .map(|f| f.to_string())
            .collect()
    };
    assert_eq!(ids(Follow::Relation(motion), "5"), vec!["motion/5"]);
    assert!(ids(Follow::Relation(motion), "0").is_empty());
    assert!(ids(Follow::Relation(motion), "null").is_empty());
    assert_eq!(
        ids(Follow::RelationList(motion), "[1,-1,2]"),
        vec!["motion/1", "motion/2"]
    );
    assert_eq!(ids(Follow::GenericRelation, "\"topic/4\""), vec!["topic/4"]);
    assert!(ids(Follow::GenericRelation, "\"nope/4\"").is_empty());
    assert_eq!(
        ids(Follow::GenericRelationList, r#"["topic/4","motion/2"]"#),
        vec!["topic/4", "motion/2"]
    );
}

#[test]
fn targets_reject_wrong_shapes() {
    assert!(Request::targets(Follow::Relation(Collection::Motion), b"\"5\"").is_err());
    assert!(Request::targets(Follow::Relation(Collection::Motion), b"[5]").is_err());
    assert!(Request::targets(Follow::RelationList(Collection::Motion), b"5").is_err());
    assert!(Request::targets(Follow::RelationList(Collection::Motion), b"[\"x\"]").is_err());
    assert!(Request::targets(Follow::GenericRelation, b"\"topic\"").is_err());
    assert!(Request::targets(Follow::GenericRelation, b"\"topic/x\"").is_err());
    assert!(Request::targets(Follow::GenericRelationList, b"\"topic/1\"").is_err());
    assert!(Request::targets(Follow::GenericRelation, b"\"topic/281474976710656\"").is_err());
    assert!(Request::targets(Follow::Relation(Collection::Motion), b"281474976710656").is_err());
}

fn limits() -> Limits {
    Limits {
        max_objects: 2,
        max_ids: 3,
        max_depth: 2,
        max_keys: 10,
        max_k_bytes: 40,
    }
}

fn limit_error(body: &serde_json::Value, keys: &str) -> String {
    match Request::parse_with(body.to_string().as_bytes(), keys, &limits()) {
        Err(error @ RequestError::Limit(_)) => {
            assert_eq!(error.error_type(), "invalid_request");
            error.to_string()
        }
        other => panic!("expected a limit error, got {other:?}"),
    }
}

/// Builds a request of motions that follows `lead_motion_id` `depth` times.
fn nested_motions(depth: usize) -> serde_json::Value {
    let mut fields = json!({"title": null});
    for _ in 0..depth {
        fields = json!({
            "title": null,
            "lead_motion_id": {"type": "relation", "collection": "motion", "fields": fields}
        });
    }
    json!([{"ids": [1], "collection": "motion", "fields": fields}])
}

#[test]
fn default_limits_admit_large_requests() {
    let ids: Vec<u32> = (1..=100_000).collect();
    let objects: Vec<serde_json::Value> = (0..1_000)
        .map(|_| json!({"ids": ids[..100], "collection": "user", "fields": {"username": null}}))
        .collect();
    assert!(parse(json!(objects)).is_ok());
    assert!(
        parse(json!([{"ids": ids, "collection": "user", "fields": {"username": null}}])).is_ok()
    );
    assert!(parse(nested_motions(20)).is_ok());
    let request = parse(json!([{"ids": [1], "collection": "user", "fields": {"username": null}}]));
    assert_eq!(request.unwrap().max_keys(), 1_000_000);
}

#[test]
fn too_many_objects_are_rejected() {
    let object = json!({"ids": [1], "collection": "user", "fields": {"username": null}});
    assert!(Request::parse_with(
        json!([object, object]).to_string().as_bytes(),
        "",
        &limits()
    )
    .is_ok());
    assert_eq!(
        limit_error(&json!([object, object, object]), ""),
        "Invalid request: the body has 3 request objects, more than the limit of 2"
    );
}

#[test]
fn too_many_ids_are_rejected() {
    let body = |ids: serde_json::Value| json!([{"ids": ids, "collection": "user", "fields": {"username": null}}]);
    assert!(
        Request::parse_with(body(json!([1, 2, 3])).to_string().as_bytes(), "", &limits()).is_ok()
    );
    assert_eq!(
        limit_error(&body(json!([1, 2, 3, 4])), ""),
        "Invalid request: a request object has 4 ids, more than the limit of 3"
    );
}

#[test]
fn too_deep_descriptions_are_rejected() {
    let parse_deep =
        |depth| Request::parse_with(nested_motions(depth).to_string().as_bytes(), "", &limits());
    assert!(parse_deep(2).is_ok());
    assert_eq!(
        limit_error(&nested_motions(3), ""),
        "Invalid request: field \"lead_motion_id.lead_motion_id.lead_motion_id\": relation \
         descriptions nest deeper than the limit of 2"
    );
}

#[test]
fn depth_limit_precedes_json_parser_limit() {
    // serde_json stops at 128 nested JSON values, about 60 relation levels.
    let limits = Limits {
        max_depth: 50,
        ..Limits::DEFAULT
    };
    let parse_deep =
        |depth| Request::parse_with(nested_motions(depth).to_string().as_bytes(), "", &limits);
    assert!(parse_deep(50).is_ok());
    assert!(matches!(parse_deep(51), Err(RequestError::Limit(_))));
}

#[test]
fn too_long_k_is_rejected() {
    let keys = "user/1/username,user/2/username,user/3/us";
    assert_eq!(keys.len(), 41);
    assert!(Request::parse_with(b"", &keys[..31], &limits()).is_ok());
    let error = Request::parse_with(b"", keys, &limits()).unwrap_err();
    assert_eq!(error.error_type(), "invalid_request");
    assert_eq!(
        error.to_string(),
        "Invalid request: the parameter k has 41 bytes, more than the limit of 40"
    );
}

#[test]
fn parsed_request_carries_the_key_limit() {
    let request = Request::parse_with(b"", "user/1/username", &limits()).unwrap();
    assert_eq!(request.max_keys(), 10);
}
