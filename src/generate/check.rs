//! Consistency check of an OpenSlides JSON export against models.yml: known collections and
//! fields, value types and enum values, ids, required fields and relations that point back.

use hashbrown::HashSet;

use serde_json::{Map, Value};

use super::MIGRATION_INDEX_KEY;
use crate::models::{parse_id, Collection, FieldDef, FieldId, FieldKind, Fqid, Id, ScalarType};

/// Checks an export of the shape `{"<collection>": {"<id>": {"<field>": value}}}` and returns
/// one message per problem, empty when the export is consistent.
///
/// The rules:
/// - Every collection and field exists in models.yml.
/// - Every value has its field's JSON type and, where models.yml lists an enum, an allowed
///   value.
/// - Every object's `id` equals its key.
/// - Every required field, except calculated ones, is set and not empty.
/// - Every relation points to an existing object whose reverse field (the `to` of
///   models.yml) points back.
///
/// A `null` value counts as an unset field, because OpenSlides' own example data writes
/// unset fields as `null`.
///
/// Problems of single objects come first, in collection, id and field order, followed by
/// the relation problems.
pub fn check_export(data: &Value) -> Vec<String> {
    let Some(root) = data.as_object() else {
        return vec![format!(
            "the export is {}, expected an object",
            describe(data)
        )];
    };

    let mut checker = Checker::default();
    for (name, objects) in root {
        if name == MIGRATION_INDEX_KEY {
            if !objects.is_u64() {
                checker.problems.push(format!(
                    "{name}: got {}, expected a non-negative integer",
                    describe(objects)
                ));
            }
            continue;
        }
        let Some(collection) = Collection::from_name(name) else {
            checker.problems.push(format!("{name}: unknown collection"));
            continue;
        };
        let Some(objects) = objects.as_object() else {
            checker.problems.push(format!(
                "{name}: got {}, expected an object of objects by id",
                describe(objects)
            ));
            continue;
        };
        for (key, object) in objects {
            checker.check_object(collection, key, object);
        }
    }
    checker.check_relations();
    checker.problems
}

/// One relation value: the field, the id of the object that contains it, and the target.
type Relation = (FieldId, Id, Fqid);

#[derive(Default)]
struct Checker {
    problems: Vec<String>,
    objects: HashSet<Fqid>,
    /// Every relation value in the order found, for deterministic messages.
    relations: Vec<Relation>,
    /// The same relations, for the reverse lookup.
    relation_set: HashSet<Relation>,
}

impl Checker {
    fn check_object(&mut self, collection: Collection, key: &str, object: &Value) {
        let Some(id) = parse_id(key) else {
            self.problems
                .push(format!("{collection}/{key}: the key is not a positive id"));
            return;
        };
        let Some(fields) = object.as_object() else {
            self.problems.push(format!(
                "{collection}/{id}: got {}, expected an object",
                describe(object)
            ));
            return;
        };
        self.objects.insert(Fqid::new(collection, id));

        if let Some(value) = fields.get("id") {
            if !value.is_null() && value.as_u64() != Some(id) {
                self.problems.push(format!(
                    "{collection}/{id}/id: {value} does not match the key {id}"
                ));
            }
        }

        for (name, value) in fields {
            let Some(field) = collection.field(name) else {
                self.problems
                    .push(format!("{collection}/{id}/{name}: unknown field"));
                continue;
            };
            if value.is_null() {
                continue;
            }
            self.check_value(id, field, value);
        }

        self.check_required(collection, id, fields);
    }

    fn check_required(&mut self, collection: Collection, id: Id, fields: &Map<String, Value>) {
        for field in collection.field_ids() {
            let def = field.def();
            if !def.required || def.calculated {
                continue;
            }
            match fields.get(def.name) {
                None | Some(Value::Null) => self.problems.push(format!(
                    "{collection}/{id}/{}: missing required field",
                    def.name
                )),
                Some(Value::String(text)) if text.is_empty() => self.problems.push(format!(
                    "{collection}/{id}/{}: required field is an empty string",
                    def.name
                )),
                Some(Value::Array(items)) if items.is_empty() => self.problems.push(format!(
                    "{collection}/{id}/{}: required field is an empty list",
                    def.name
                )),
                Some(_) => {}
            }
        }
    }

    /// Checks type and enum values of one set value and records its relations.
    fn check_value(&mut self, id: Id, field: FieldId, value: &Value) {
        let def = field.def();
        let location = || format!("{}/{id}/{}", def.collection, def.name);

        let type_problem = match def.kind {
            FieldKind::Scalar(scalar) => scalar_type_problem(scalar, value),
            FieldKind::Relation(target) => match as_id(value) {
                Some(to) => {
                    self.add_relation(field, id, Fqid::new(target, to));
                    None
                }
                None => Some(format!("got {}, expected a positive id", describe(value))),
            },
            FieldKind::RelationList(target) => {
                self.check_list(field, id, value, "a list of positive ids", |item| {
                    as_id(item).map(|to| Fqid::new(target, to))
                })
            }
            FieldKind::GenericRelation(targets) => match as_fqid(value, targets) {
                Some(to) => {
                    self.add_relation(field, id, to);
                    None
                }
                None => Some(format!(
                    "got {}, expected \"collection/id\" with a collection of: {}",
                    describe(value),
                    collection_names(targets)
                )),
            },
            FieldKind::GenericRelationList(targets) => {
                let expected = format!(
                    "a list of \"collection/id\" with collections of: {}",
                    collection_names(targets)
                );
                self.check_list(field, id, value, &expected, |item| as_fqid(item, targets))
            }
        };
        if let Some(problem) = type_problem {
            self.problems.push(format!("{}: {problem}", location()));
            return;
        }

        let allowed = def.enum_values;
        if !allowed.is_empty() {
            let items = match value {
                Value::Array(items) => items.as_slice(),
                single => std::slice::from_ref(single),
            };
            for item in items {
                if !is_allowed(item, allowed) {
                    self.problems.push(format!(
                        "{}: {item} is not an allowed value ({})",
                        location(),
                        describe_allowed(allowed)
                    ));
                }
            }
        }
    }

    /// Checks a relation list item by item, records its relations and returns the type
    /// problem, if any. An id that occurs twice is reported directly and recorded once.
    fn check_list(
        &mut self,
        field: FieldId,
        id: Id,
        value: &Value,
        expected: &str,
        parse_item: impl Fn(&Value) -> Option<Fqid>,
    ) -> Option<String> {
        let Some(items) = value.as_array() else {
            return Some(format!("got {}, expected {expected}", describe(value)));
        };
        let mut targets = Vec::with_capacity(items.len());
        let mut seen = HashSet::with_capacity(items.len());
        for item in items {
            let Some(to) = parse_item(item) else {
                return Some(format!(
                    "got a list with {}, expected {expected}",
                    describe(item)
                ));
            };
            if seen.insert(to) {
                targets.push(to);
            } else {
                let def = field.def();
                self.problems.push(format!(
                    "{}/{id}/{}: contains {item} more than once",
                    def.collection, def.name
                ));
            }
        }
        for to in targets {
            self.add_relation(field, id, to);
        }
        None
    }

    fn add_relation(&mut self, field: FieldId, id: Id, to: Fqid) {
        self.relations.push((field, id, to));
        self.relation_set.insert((field, id, to));
    }

    /// Checks that every relation target exists and points back through its reverse field.
    fn check_relations(&mut self) {
        for &(field, id, to) in &self.relations {
            let def = field.def();
            let source = Fqid::new(def.collection, id);
            if !self.objects.contains(&to) {
                self.problems.push(format!(
                    "{source}/{}: points to {to}, which does not exist",
                    def.name
                ));
                continue;
            }
            let Some(back) = reverse_field(def, to.collection) else {
                self.problems.push(format!(
                    "{source}/{}: models.yml names no field of {} that points back",
                    def.name, to.collection
                ));
                continue;
            };
            if !self.relation_set.contains(&(back, to.id, source)) {
                self.problems.push(format!(
                    "{source}/{}: {to}/{} does not point back to {source}",
                    def.name,
                    back.name()
                ));
            }
        }
    }
}

/// Returns the field of `target` that models.yml names as the reverse of `def`.
fn reverse_field(def: &FieldDef, target: Collection) -> Option<FieldId> {
    def.reverse
        .iter()
        .find(|(collection, _)| *collection == target)
        .and_then(|(collection, name)| collection.field(name))
}

/// Returns what is wrong with a scalar value, or `None` when it fits its type.
fn scalar_type_problem(scalar: ScalarType, value: &Value) -> Option<String> {
    let fits = match scalar {
        ScalarType::String
        | ScalarType::Text
        | ScalarType::HtmlStrict
        | ScalarType::HtmlPermissive => value.is_string(),
        ScalarType::Color => value.as_str().is_some_and(is_color),
        ScalarType::Number | ScalarType::Timestamp => value.is_i64() || value.is_u64(),
        ScalarType::Float => value.is_number(),
        ScalarType::Boolean => value.is_boolean(),
        ScalarType::Json => true,
        ScalarType::Decimal => value.as_str().is_some_and(is_decimal),
        ScalarType::NumberList => value
            .as_array()
            .is_some_and(|items| items.iter().all(|item| item.is_i64())),
        ScalarType::StringList => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
    };
    if fits {
        return None;
    }
    let expected = match scalar {
        ScalarType::String
        | ScalarType::Text
        | ScalarType::HtmlStrict
        | ScalarType::HtmlPermissive => "a string",
        ScalarType::Color => "a color string like \"#317796\"",
        ScalarType::Number => "an integer",
        ScalarType::Timestamp => "an integer timestamp",
        ScalarType::Float => "a number",
        ScalarType::Boolean => "a boolean",
        ScalarType::Json => "JSON",
        ScalarType::Decimal => "a decimal string with six places like \"1.000000\"",
        ScalarType::NumberList => "a list of integers",
        ScalarType::StringList => "a list of strings",
    };
    Some(format!("got {}, expected {expected}", describe(value)))
}

/// Returns the value as an id: a positive integer.
fn as_id(value: &Value) -> Option<Id> {
    value.as_u64().filter(|id| *id > 0)
}

/// Parses `"collection/id"` with a collection from `targets`.
fn as_fqid(value: &Value, targets: &[Collection]) -> Option<Fqid> {
    let fqid = Fqid::parse(value.as_str()?).ok()?;
    targets.contains(&fqid.collection).then_some(fqid)
}

/// Matches `^#[0-9a-f]{6}$`, the color format of models.yml.
fn is_color(text: &str) -> bool {
    let Some(hex) = text.strip_prefix('#') else {
        return false;
    };
    hex.len() == 6
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Matches the `decimal(6)` format: an optional minus, digits, a dot and six digits.
fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let Some((whole, fraction)) = unsigned.split_once('.') else {
        return false;
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() == 6
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

fn is_allowed(value: &Value, allowed: &[&str]) -> bool {
    match value {
        Value::String(text) => allowed.contains(&text.as_str()),
        Value::Number(number) => allowed.contains(&number.to_string().as_str()),
        _ => false,
    }
}

fn describe_allowed(allowed: &[&str]) -> String {
    const MAX_LISTED: usize = 12;
    if allowed.len() > MAX_LISTED {
        return format!("models.yml allows {} values", allowed.len());
    }
    let quoted: Vec<String> = allowed.iter().map(|value| format!("{value:?}")).collect();
    format!("allowed: {}", quoted.join(", "))
}

fn collection_names(collections: &[Collection]) -> String {
    let names: Vec<&str> = collections.iter().map(|c| c.name()).collect();
    names.join(", ")
}

/// Names the JSON type of a value for messages, with the value itself when it is short.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => format!("boolean {flag}"),
        Value::Number(number) => format!("number {number}"),
        Value::String(text) if text.len() <= 40 => format!("string {text:?}"),
        Value::String(_) => "a long string".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Returns an export with the fewest objects that models.yml allows: an organization and
    /// its theme.
    fn minimal_export() -> Value {
        json!({
            "_migration_index": 67,
            "organization": {"1": {"id": 1, "name": "Org", "theme_id": 1, "theme_ids": [1]}},
            "theme": {"1": {
                "id": 1,
                "name": "Blue",
                "accent_500": "#2196f3",
                "organization_id": 1,
                "theme_for_organization_id": 1
            }},
        })
    }

    fn assert_one_problem(data: &Value, expected: &str) {
        let problems = check_export(data);
        assert_eq!(problems.len(), 1, "problems: {problems:#?}");
        assert!(
            problems[0].contains(expected),
            "expected a problem containing {expected:?}, got {problems:#?}"
        );
    }

    #[test]
    fn check_accepts_minimal_export() {
        let problems = check_export(&minimal_export());
        assert!(problems.is_empty(), "problems: {problems:#?}");
    }

    #[test]
    fn check_finds_broken_back_relation() {
        let mut data = minimal_export();
        data["organization"]["1"]["theme_ids"] = json!([]);
        assert_one_problem(
            &data,
            "theme/1/organization_id: organization/1/theme_ids does not point back to theme/1",
        );
    }

    #[test]
    fn check_finds_missing_target() {
        let mut data = minimal_export();
        data["organization"]["1"]["theme_ids"] = json!([1, 2]);
        assert_one_problem(
            &data,
            "organization/1/theme_ids: points to theme/2, which does not exist",
        );
    }

    #[test]
    fn check_finds_unknown_field() {
        let mut data = minimal_export();
        data["theme"]["1"]["colour"] = json!("#000000");
        assert_one_problem(&data, "theme/1/colour: unknown field");
    }

    #[test]
    fn check_finds_unknown_collection() {
        let mut data = minimal_export();
        data["nope"] = json!({});
        assert_one_problem(&data, "nope: unknown collection");
    }

    #[test]
    fn check_finds_wrong_type() {
        let mut data = minimal_export();
        data["theme"]["1"]["name"] = json!(5);
        assert_one_problem(&data, "theme/1/name: got number 5, expected a string");
    }

    #[test]
    fn check_finds_bad_color_and_decimal() {
        let mut data = minimal_export();
        data["theme"]["1"]["accent_500"] = json!("#2196F3");
        assert_one_problem(&data, "theme/1/accent_500: got string \"#2196F3\"");

        let mut data = minimal_export();
        data["user"] = json!({"1": {
            "id": 1, "username": "admin", "organization_id": 1, "default_vote_weight": "1.0"
        }});
        data["organization"]["1"]["user_ids"] = json!([1]);
        assert_one_problem(&data, "user/1/default_vote_weight: got string \"1.0\"");
    }

    #[test]
    fn check_finds_wrong_generic_collection() {
        let mut data = minimal_export();
        data["organization"]["1"]["organization_tag_ids"] = json!([1]);
        data["organization_tag"] = json!({"1": {
            "id": 1,
            "name": "Tag",
            "color": "#317796",
            "organization_id": 1,
            "tagged_ids": ["theme/1"]
        }});
        assert_one_problem(
            &data,
            "organization_tag/1/tagged_ids: got a list with string \"theme/1\", expected a list \
             of \"collection/id\" with collections of: committee, meeting",
        );
    }

    #[test]
    fn check_finds_invalid_enum_value() {
        let mut data = minimal_export();
        data["organization"]["1"]["default_language"] = json!("xx");
        assert_one_problem(
            &data,
            "organization/1/default_language: \"xx\" is not an allowed value",
        );
    }

    #[test]
    fn check_finds_missing_required_field() {
        let mut data = minimal_export();
        data["theme"]["1"].as_object_mut().unwrap().remove("name");
        assert_one_problem(&data, "theme/1/name: missing required field");
    }

    #[test]
    fn check_finds_empty_required_field() {
        let mut data = minimal_export();
        data["theme"]["1"]["name"] = json!("");
        assert_one_problem(&data, "theme/1/name: required field is an empty string");
    }

    #[test]
    fn check_finds_id_that_differs_from_key() {
        let mut data = minimal_export();
        data["organization"]["1"]["id"] = json!(2);
        assert_one_problem(&data, "organization/1/id: 2 does not match the key 1");
    }

    #[test]
    fn check_finds_duplicate_list_id() {
        let mut data = minimal_export();
        data["organization"]["1"]["theme_ids"] = json!([1, 1]);
        assert_one_problem(&data, "organization/1/theme_ids: contains 1 more than once");
    }

    #[test]
    fn check_treats_null_as_unset() {
        let mut data = minimal_export();
        data["theme"]["1"]["accent_100"] = Value::Null;
        assert!(check_export(&data).is_empty());

        data["theme"]["1"]["name"] = Value::Null;
        assert_one_problem(&data, "theme/1/name: missing required field");
    }
}
