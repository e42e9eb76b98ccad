//! Parsing and checking of request bodies, the `k` query parameter, and relation values.

use super::{FieldSet, FieldSetId, Follow, Limits, Request, RequestedField, Root, TargetError};
use crate::models::{Collection, FieldKind, Fqid, Id, Key, MAX_ID};
use serde_json::{Map, Value};
use smallvec::SmallVec;
use std::collections::{BTreeMap, BTreeSet};

/// A request that cannot be used, with the error type the client receives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is JSON, but not a valid request (type `SyntaxError`).
    #[error("{0}")]
    Syntax(String),
    /// The body is not JSON (type `JsonError`).
    #[error("{0}")]
    Json(String),
    /// The request exceeds one of the `Limits` (type `invalid_request`).
    #[error("Invalid request: {0}")]
    Limit(String),
}

impl RequestError {
    /// Returns the error type of the JSON error shape.
    pub fn error_type(&self) -> &'static str {
        match self {
            RequestError::Syntax(_) => "SyntaxError",
            RequestError::Json(_) => "JsonError",
            RequestError::Limit(_) => "invalid_request",
        }
    }

    fn at(path: &[&str], message: impl Into<String>) -> RequestError {
        let message = message.into();
        if path.is_empty() {
            RequestError::Syntax(message)
        } else {
            RequestError::Syntax(format!("field \"{}\": {message}", path.join(".")))
        }
    }
}

impl Request {
    /// Parses a request from a body (a JSON list of `{ids, collection, fields}`, or empty)
    /// and the comma separated keys of the `k` query parameter. Both may be given. The
    /// default `Limits` apply.
    pub fn parse(body: &[u8], keys: &str) -> Result<Request, RequestError> {
        Request::parse_with(body, keys, &Limits::DEFAULT)
    }

    /// Like `parse`, within the given limits.
    pub fn parse_with(body: &[u8], keys: &str, limits: &Limits) -> Result<Request, RequestError> {
        let mut builder = Builder {
            limits: *limits,
            field_sets: Vec::new(),
            roots: Vec::new(),
            canonical_sets: Vec::new(),
        };
        builder.add_keys(keys)?;
        builder.add_body(body)?;
        Ok(builder.finish())
    }
}

struct Builder {
    limits: Limits,
    field_sets: Vec<FieldSet>,
    roots: Vec<Root>,
    /// Canonical text of each field set, by id.
    canonical_sets: Vec<String>,
}

/// Names the kind of a JSON value in the words of the Go service's errors.
fn json_type(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
    }
}

fn wrong_type(field: &str, value: &Value, expected: &str) -> RequestError {
    let got = match value {
        Value::Number(_) => "number".to_string(),
        other => json_type(other),
    };
    RequestError::Syntax(format!(
        "wrong type at field `{field}`. Got {got}, expected {expected}"
    ))
}

impl Builder {
    fn add_keys(&mut self, keys: &str) -> Result<(), RequestError> {
        if keys.is_empty() {
            return Ok(());
        }
        if keys.len() > self.limits.max_k_bytes {
            return Err(RequestError::Limit(format!(
                "the parameter k has {} bytes, more than the limit of {}",
                keys.len(),
                self.limits.max_k_bytes
            )));
        }

        // One root per field, so a long `k` list needs few field sets.
        let mut by_field: BTreeMap<crate::models::FieldId, Vec<Id>> = BTreeMap::new();
        for text in keys.split(',') {
            let key = Key::parse(text)
                .map_err(|err| RequestError::Syntax(format!("invalid key in k: {err}")))?;
            by_field.entry(key.field()).or_default().push(key.id());
        }

        for (field, ids) in by_field {
            let collection = field.collection();
            let fields = vec![RequestedField {
                field,
                follow: None,
            }];
            let canonical = field.name().to_string();
            let field_set = self.push_set(None, collection, fields, canonical);
            self.roots.push(Root {
                collection,
                ids,
                field_set,
            });
        }
        Ok(())
    }

    fn add_body(&mut self, body: &[u8]) -> Result<(), RequestError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }

        let value: Value = serde_json::from_slice(body).map_err(|err| {
            if err.is_eof() {
                RequestError::Syntax("Body is not complete".into())
            } else {
                RequestError::Json(err.to_string())
            }
        })?;
        let Value::Array(items) = value else {
            return Err(wrong_type("", &value, "list"));
        };
        if items.is_empty() {
            return Err(RequestError::Syntax("No data".into()));
        }
        if items.len() > self.limits.max_objects {
            return Err(RequestError::Limit(format!(
                "the body has {} request objects, more than the limit of {}",
                items.len(),
                self.limits.max_objects
            )));
        }

        for item in &items {
            self.add_root(item)?;
        }
        Ok(())
    }

    fn add_root(&mut self, item: &Value) -> Result<(), RequestError> {
        let Value::Object(object) = item else {
            return Err(wrong_type("", item, "object"));
        };

        if let Some(Value::Array(ids)) = object.get("ids") {
            if ids.len() > self.limits.max_ids {
                return Err(RequestError::Limit(format!(
                    "a request object has {} ids, more than the limit of {}",
                    ids.len(),
                    self.limits.max_ids
                )));
            }
        }
        let ids = parse_ids(object.get("ids"))?;
        let collection_name = match object.get("collection") {
            None | Some(Value::Null) => "",
            Some(Value::String(name)) => name.as_str(),
            Some(other) => return Err(wrong_type("collection", other, "string")),
        };
        let fields = match object.get("fields") {
            None | Some(Value::Null) => None,
            Some(Value::Object(fields)) => Some(fields),
            Some(other) => return Err(wrong_type("fields", other, "object")),
        };
        let descriptions = match fields {
            Some(fields) => Some(parse_descriptions(
                fields,
                &mut Vec::new(),
                self.limits.max_depth,
            )?),
            None => None,
        };

        if ids.is_empty() {
            return Err(RequestError::Syntax("no ids".into()));
        }
        if ids.iter().any(|id| *id <= 0) {
            return Err(RequestError::Syntax(
                "id has to be a positive number".into(),
            ));
        }
        if ids.iter().any(|id| *id as u64 > MAX_ID) {
            return Err(RequestError::Syntax(format!(
                "id has to be at most {MAX_ID}"
            )));
        }
        if collection_name.is_empty() {
            return Err(RequestError::Syntax(
                "attribute collection is missing".into(),
            ));
        }
        let Some(descriptions) = descriptions else {
            return Err(RequestError::Syntax("attribute fields is missing".into()));
        };

        let collection = match Collection::from_name(collection_name) {
            Some(collection) => collection,
            None => {
                let first = descriptions.keys().next().map_or("", String::as_str);
                return Err(RequestError::at(
                    &[first],
                    format!("{collection_name}/{first} does not exist"),
                ));
            }
        };

        let field_set = self.build_typed(None, collection, &descriptions, &mut Vec::new())?;
        self.roots.push(Root {
            collection,
            ids: ids.into_iter().map(|id| id as Id).collect(),
            field_set,
        });
        Ok(())
    }

    /// Adds a field set for objects of one collection; every field must exist there.
    fn build_typed<'a>(
        &mut self,
        follow: Option<Follow>,
        collection: Collection,
        descriptions: &'a BTreeMap<String, Description>,
        path: &mut Vec<&'a str>,
    ) -> Result<FieldSetId, RequestError> {
        let mut fields = Vec::with_capacity(descriptions.len());
        let mut canonical = Vec::with_capacity(descriptions.len());
        for (name, description) in descriptions {
            path.push(name);
            let Some(field) = collection.field(name) else {
                return Err(RequestError::at(
                    path,
                    format!("{collection}/{name} does not exist"),
                ));
            };
            let (follow, text) = self.build_follow(field, description, path)?;
            fields.push(RequestedField { field, follow });
            canonical.push(text);
            path.pop();
        }
        Ok(self.push_set(follow, collection, fields, canonical.join(",")))
    }

    /// Adds a field set for the targets of a generic relation that may point to any of
    /// `candidates`. A field is skipped for a target collection that lacks it, but each
    /// field must exist in at least one candidate.
    fn build_generic<'a>(
        &mut self,
        follow: Follow,
        candidates: &BTreeSet<Collection>,
        descriptions: &'a BTreeMap<String, Description>,
        path: &mut Vec<&'a str>,
    ) -> Result<FieldSetId, RequestError> {
        for name in descriptions.keys() {
            if !candidates.iter().any(|c| c.field(name).is_some()) {
                path.push(name);
                let names: Vec<&str> = candidates.iter().map(|c| c.name()).collect();
                return Err(RequestError::at(
                    path,
                    format!(
                        "none of the collections {} has this field",
                        names.join(", ")
                    ),
                ));
            }
        }

        // Nested descriptions are built once per candidate collection, because the
        // same field name can point to different collections in each.
        let mut by_collection = SmallVec::new();
        let mut canonical = Vec::new();
        for collection in Collection::ALL {
            let mut fields = Vec::new();
            for (name, description) in descriptions {
                let Some(field) = collection.field(name) else {
                    continue;
                };
                path.push(name);
                let built = self.build_follow(field, description, path);
                path.pop();
                match built {
                    Ok((follow, text)) => {
                        fields.push(RequestedField { field, follow });
                        canonical.push(format!("{collection}.{text}"));
                    }
                    // A collection outside the relation's targets may not fit the
                    // description; its objects just do not get the field.
                    Err(_) if !candidates.contains(&collection) => continue,
                    Err(err) => return Err(err),
                }
            }
            if !fields.is_empty() {
                by_collection.push((collection, fields.into_boxed_slice()));
            }
        }

        let id = FieldSetId(self.field_sets.len() as u32);
        self.field_sets.push(FieldSet {
            follow: Some(follow),
            by_collection,
        });
        self.canonical_sets
            .push(format!("{}[{}]", follow.type_name(), canonical.join(",")));
        Ok(id)
    }

    /// Checks how a field is followed against its type in models.yml and builds the
    /// nested field set. Returns it with the field's canonical text.
    fn build_follow<'a>(
        &mut self,
        field: crate::models::FieldId,
        description: &'a Description,
        path: &mut Vec<&'a str>,
    ) -> Result<(Option<FieldSetId>, String), RequestError> {
        let Description::Follow {
            kind,
            collection,
            fields,
        } = description
        else {
            return Ok((None, field.name().to_string()));
        };

        let kind_in_models = field.def().kind;
        let follow = match kind.as_str() {
            "relation" | "relation-list" => {
                let target = Collection::from_name(collection).ok_or_else(|| {
                    let first = fields.keys().next().map_or("", String::as_str);
                    let mut inner = path.clone();
                    inner.push(first);
                    RequestError::at(&inner, format!("{collection}/{first} does not exist"))
                })?;
                if kind == "relation" {
                    Follow::Relation(target)
                } else {
                    Follow::RelationList(target)
                }
            }
            "generic-relation" => Follow::GenericRelation,
            _ => Follow::GenericRelationList,
        };

        if !follow.fits(kind_in_models) {
            let expected = match (follow, kind_in_models) {
                (Follow::Relation(c) | Follow::RelationList(c), FieldKind::Relation(to))
                | (Follow::Relation(c) | Follow::RelationList(c), FieldKind::RelationList(to))
                    if kind_in_models.type_name() == follow.type_name() =>
                {
                    format!("{field} points to {to}, not to {c}")
                }
                _ => format!(
                    "{field} is a {} field and cannot be followed as {}",
                    kind_in_models.type_name(),
                    follow.type_name()
                ),
            };
            return Err(RequestError::at(path, expected));
        }

        let nested = match (follow, kind_in_models) {
            (Follow::Relation(c) | Follow::RelationList(c), _) => {
                self.build_typed(Some(follow), c, fields, path)?
            }
            (_, FieldKind::GenericRelation(targets) | FieldKind::GenericRelationList(targets)) => {
                let candidates = targets.iter().copied().collect();
                self.build_generic(follow, &candidates, fields, path)?
            }
            _ => unreachable!("Follow::fits admits generic follows only on generic fields"),
        };
        let text = format!(
            "{}={}",
            field.name(),
            self.canonical_sets[nested.0 as usize]
        );
        Ok((Some(nested), text))
    }

    fn push_set(
        &mut self,
        follow: Option<Follow>,
        collection: Collection,
        fields: Vec<RequestedField>,
        canonical_fields: String,
    ) -> FieldSetId {
        let id = FieldSetId(self.field_sets.len() as u32);
        let mut by_collection = SmallVec::new();
        by_collection.push((collection, fields.into_boxed_slice()));
        self.field_sets.push(FieldSet {
            follow,
            by_collection,
        });
        let kind = follow.map_or("root", Follow::type_name);
        self.canonical_sets
            .push(format!("{kind}:{collection}[{canonical_fields}]"));
        id
    }

    fn finish(self) -> Request {
        // Roots that share a collection and field set text merge their ids.
        let mut merged: BTreeMap<(&str, Collection), BTreeSet<Id>> = BTreeMap::new();
        for root in &self.roots {
            let text = self.canonical_sets[root.field_set.0 as usize].as_str();
            merged
                .entry((text, root.collection))
                .or_default()
                .extend(root.ids.iter().copied());
        }
        let canonical: Vec<String> = merged
            .iter()
            .map(|((text, _), ids)| {
                let ids: Vec<String> = ids.iter().map(Id::to_string).collect();
                format!("{}:{text}", ids.join(" "))
            })
            .collect();

        Request {
            field_sets: self.field_sets,
            roots: self.roots,
            canonical: canonical.join(";").into(),
            max_keys: self.limits.max_keys,
        }
    }
}

/// A field of a request before it is checked against models.yml.
enum Description {
    Plain,
    Follow {
        kind: String,
        collection: String,
        fields: BTreeMap<String, Description>,
    },
}

fn parse_ids(value: Option<&Value>) -> Result<Vec<i64>, RequestError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(wrong_type("ids", other, "list")),
    };
    items
        .iter()
        .map(|item| match item {
            // Like the Go service, a null id counts as 0 and fails the positive check.
            Value::Null => Ok(0),
            Value::Number(n) => n.as_i64().ok_or_else(|| {
                RequestError::Syntax(format!(
                    "wrong type at field `ids`. Got {}, expected integer",
                    json_type(item)
                ))
            }),
            other => Err(wrong_type("ids", other, "number")),
        })
        .collect()
}

/// Parses the field descriptions of one object. `path` names the fields that lead
/// here; each of them is a relation description, so its length is the nesting depth.
fn parse_descriptions<'a>(
    fields: &'a Map<String, Value>,
    path: &mut Vec<&'a str>,
    max_depth: usize,
) -> Result<BTreeMap<String, Description>, RequestError> {
    let mut out = BTreeMap::new();
    for (name, value) in fields {
        path.push(name);
        let description = parse_description(value, path, max_depth)?;
        path.pop();
        out.insert(name.clone(), description);
    }
    Ok(out)
}

fn parse_description<'a>(
    value: &'a Value,
    path: &mut Vec<&'a str>,
    max_depth: usize,
) -> Result<Description, RequestError> {
    let object = match value {
        Value::Null => return Ok(Description::Plain),
        Value::Object(_) if path.len() > max_depth => {
            return Err(RequestError::Limit(format!(
                "field \"{}\": relation descriptions nest deeper than the limit of {max_depth}",
                path.join(".")
            )))
        }
        Value::Object(object) => object,
        other => {
            return Err(RequestError::at(
                path,
                format!(
                    "wrong type, got {}, expected object or null",
                    json_type(other)
                ),
            ))
        }
    };

    let kind = match object.get("type") {
        None | Some(Value::Null) => "",
        Some(Value::String(kind)) => kind.as_str(),
        Some(other) => {
            return Err(RequestError::at(
                path,
                format!(
                    "wrong type of `type`, got {}, expected string",
                    json_type(other)
                ),
            ))
        }
    };
    let generic = match kind {
        "relation" | "relation-list" => false,
        "generic-relation" | "generic-relation-list" => true,
        "" => return Err(RequestError::at(path, "no type")),
        other => return Err(RequestError::at(path, format!("unknown type {other}"))),
    };

    let collection = match object.get("collection") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(name)) => name.clone(),
        Some(other) => {
            return Err(RequestError::at(
                path,
                format!(
                    "wrong type of `collection`, got {}, expected string",
                    json_type(other)
                ),
            ))
        }
    };
    let fields = match object.get("fields") {
        None | Some(Value::Null) => None,
        Some(Value::Object(fields)) => Some(fields),
        Some(other) => {
            return Err(RequestError::at(
                path,
                format!(
                    "wrong type of `fields`, got {}, expected object",
                    json_type(other)
                ),
            ))
        }
    };

    if !generic && collection.is_empty() {
        return Err(RequestError::at(path, "no collection"));
    }
    let Some(fields) = fields else {
        return Err(RequestError::at(path, "no fields"));
    };

    Ok(Description::Follow {
        kind: kind.to_string(),
        collection,
        fields: parse_descriptions(fields, path, max_depth)?,
    })
}

/// See `Request::targets`.
pub(super) fn targets(follow: Follow, raw: &[u8]) -> Result<SmallVec<[Fqid; 4]>, TargetError> {
    let value: Value = serde_json::from_slice(raw).map_err(|_| TargetError {
        got: "invalid JSON".into(),
        expected: "JSON",
    })?;
    let mut out = SmallVec::new();
    match follow {
        Follow::Relation(collection) => {
            if let Some(id) = relation_id(&value, "id")? {
                out.push(Fqid::new(collection, id));
            }
        }
        Follow::RelationList(collection) => {
            for item in list(&value, "list of ids")? {
                if let Some(id) = relation_id(item, "list of ids")? {
                    out.push(Fqid::new(collection, id));
                }
            }
        }
        Follow::GenericRelation => {
            if let Some(fqid) = generic_id(&value, "fqid")? {
                out.push(fqid);
            }
        }
        Follow::GenericRelationList => {
            for item in list(&value, "list of fqids")? {
                if let Some(fqid) = generic_id(item, "list of fqids")? {
                    out.push(fqid);
                }
            }
        }
    }
    Ok(out)
}

fn list<'a>(value: &'a Value, expected: &'static str) -> Result<&'a [Value], TargetError> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(&[]),
        other => Err(TargetError {
            got: json_type(other),
            expected,
        }),
    }
}

/// Parses an id to follow; `None` for null and ids of zero or less.
fn relation_id(value: &Value, expected: &'static str) -> Result<Option<Id>, TargetError> {
    let invalid = || TargetError {
        got: json_type(value),
        expected,
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(id) if id <= 0 => Ok(None),
            Some(id) if id as u64 <= MAX_ID => Ok(Some(id as Id)),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

/// Parses a `collection/id` to follow. Like the Go service, this skips unknown collections and
/// ids of zero or less, and rejects text that has no integer id.
fn generic_id(value: &Value, expected: &'static str) -> Result<Option<Fqid>, TargetError> {
    let invalid = || TargetError {
        got: json_type(value),
        expected,
    };
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(text) => text,
        _ => return Err(invalid()),
    };
    let (collection, id) = text.split_once('/').ok_or_else(|| TargetError {
        got: format!("string {text:?}"),
        expected,
    })?;
    let id: i64 = id.parse().map_err(|_| TargetError {
        got: format!("string {text:?}"),
        expected,
    })?;
    let Some(collection) = Collection::from_name(collection) else {
        return Ok(None);
    };
    if id <= 0 {
        return Ok(None);
    }
    if id as u64 > MAX_ID {
        return Err(TargetError {
            got: format!("string {text:?} with an id above {MAX_ID}"),
            expected,
        });
    }
    Ok(Some(Fqid::new(collection, id as Id)))
}
