//! `RuleRestricter`: applies the restriction rules to a batch of values.

use super::context::{CollectionMode, Context};
use super::{Audience, Dependencies, Outcome, RestrictError, Restricter, Viewer};
use crate::datastore::{Datastore, Value};
use crate::keysbuilder::{Follow, Request};
use crate::models::{Collection, FieldId, FieldKind, Id, Key, RestrictionMode};
use bytes::Bytes;
use futures::future::BoxFuture;
use hashbrown::HashMap;
use std::sync::Arc;

/// Restricts values with the rules of `rules`, reading what they need from the datastore.
pub struct RuleRestricter {
    datastore: Arc<Datastore>,
}

impl RuleRestricter {
    pub fn new(datastore: Arc<Datastore>) -> RuleRestricter {
        RuleRestricter { datastore }
    }

    /// See `target_mode`.
    pub fn target_mode(field: FieldId, target: Collection) -> Option<RestrictionMode> {
        target_mode(field, target)
    }
}

impl Restricter for RuleRestricter {
    fn restrict<'a>(
        &'a self,
        viewer: Viewer,
        values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<Dependencies, RestrictError>> {
        Box::pin(async move {
            let audience = Audience::from(viewer);
            let outcome = restrict(self.datastore.clone(), &audience, values).await?;
            Ok(outcome.dependencies)
        })
    }

    fn restrict_for<'a>(
        &'a self,
        audience: &'a Audience,
        values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<Outcome, RestrictError>> {
        Box::pin(restrict(self.datastore.clone(), audience, values))
    }

    fn decide<'a>(
        &'a self,
        audience: &'a Audience,
        objects: Vec<(CollectionMode, Vec<Id>)>,
    ) -> BoxFuture<'a, Result<Option<Outcome>, RestrictError>> {
        Box::pin(async move {
            let mut ctx = Context::for_audience(self.datastore.clone(), audience.clone());
            for ((collection, mode), ids) in objects {
                ctx.visible(collection, mode, &ids).await?;
            }
            Ok(Some(ctx.finish()))
        })
    }

    fn shares_classes(&self) -> bool {
        true
    }
}

async fn restrict(
    datastore: Arc<Datastore>,
    audience: &Audience,
    values: &mut [(Key, Value)],
) -> Result<Outcome, RestrictError> {
    let mut ctx = Context::for_audience(datastore, audience.clone());

    // Every object whose visibility matters: the objects of the keys, and the objects
    // their relations point to.
    let mut needed: HashMap<CollectionMode, Vec<Id>> = HashMap::new();
    for (key, value) in values.iter() {
        let Some(raw) = value else { continue };
        let def = key.field().def();
        needed
            .entry((def.collection, def.restriction_mode))
            .or_default()
            .push(key.id());
        for (mode, id) in relation_targets(key.field(), raw) {
            needed.entry(mode).or_default().push(id);
        }
    }

    for ((collection, mode), ids) in &needed {
        ctx.visible(*collection, *mode, ids).await?;
    }

    for (key, value) in values.iter_mut() {
        let Some(raw) = value else { continue };
        let def = key.field().def();
        if !ctx.is_allowed(def.collection, def.restriction_mode, key.id()) {
            *value = None;
            continue;
        }
        // A relation value of the wrong shape cannot be filtered, and sending it as it
        // is could show hidden ids: the request fails for this key instead.
        if let Some(follow) = follow_of(key.field()) {
            if let Err(error) = Request::targets(follow, raw) {
                return Err(RestrictError::Value {
                    key: *key,
                    error: crate::models::DecodeError {
                        got: error.got,
                        expected: error.expected,
                    },
                });
            }
        }
        if let Some(filtered) = filter_relation(&ctx, key.field(), raw) {
            *value = filtered;
        }
    }
    Ok(ctx.finish())
}

/// Returns the mode that decides whether the objects of `target` are visible through `field`:
/// the mode of the field in `target` that points back, as in the Go service.
pub fn target_mode(field: FieldId, target: Collection) -> Option<RestrictionMode> {
    let (_, back) = field
        .def()
        .reverse
        .iter()
        .find(|(collection, _)| *collection == target)?;
    Some(target.field(back)?.def().restriction_mode)
}

fn follow_of(field: FieldId) -> Option<Follow> {
    match field.def().kind {
        FieldKind::Relation(target) => Some(Follow::Relation(target)),
        FieldKind::RelationList(target) => Some(Follow::RelationList(target)),
        FieldKind::GenericRelation(_) => Some(Follow::GenericRelation),
        FieldKind::GenericRelationList(_) => Some(Follow::GenericRelationList),
        FieldKind::Scalar(_) => None,
    }
}

/// Lists the objects a relation value points to, each with the mode that decides about it.
/// Values of the wrong shape point nowhere here; the keysbuilder reports them.
fn relation_targets(field: FieldId, raw: &[u8]) -> Vec<(CollectionMode, Id)> {
    let Some(follow) = follow_of(field) else {
        return Vec::new();
    };
    let Ok(targets) = Request::targets(follow, raw) else {
        return Vec::new();
    };
    targets
        .into_iter()
        .filter_map(|fqid| {
            let mode = target_mode(field, fqid.collection)?;
            Some(((fqid.collection, mode), fqid.id))
        })
        .collect()
}

/// Removes the objects the viewer may not see from a relation value. Returns
/// `Some(None)` when a single relation points to a hidden object, `Some(filtered list)`
/// when a list lost entries, and `None` when the value stays as it is.
fn filter_relation(ctx: &Context, field: FieldId, raw: &Bytes) -> Option<Value> {
    let follow = follow_of(field)?;
    let visible = |collection: Collection, id: i64| -> bool {
        id > 0
            && target_mode(field, collection)
                .is_some_and(|mode| ctx.is_allowed(collection, mode, id as Id))
    };
    let parsed: serde_json::Value = serde_json::from_slice(raw).ok()?;

    match follow {
        Follow::Relation(target) => {
            let id = parsed.as_i64()?;
            (!visible(target, id)).then_some(None)
        }
        Follow::GenericRelation => {
            let (collection, id) = parse_fqid(parsed.as_str()?)?;
            (!visible(collection, id)).then_some(None)
        }
        Follow::RelationList(target) => {
            let items = parsed.as_array()?;
            let kept: Vec<&serde_json::Value> = items
                .iter()
                .filter(|item| item.as_i64().is_some_and(|id| visible(target, id)))
                .collect();
            (kept.len() != items.len()).then(|| encode_list(&kept))
        }
        Follow::GenericRelationList => {
            let items = parsed.as_array()?;
            let kept: Vec<&serde_json::Value> = items
                .iter()
                .filter(|item| {
                    item.as_str()
                        .and_then(parse_fqid)
                        .is_some_and(|(collection, id)| visible(collection, id))
                })
                .collect();
            (kept.len() != items.len()).then(|| encode_list(&kept))
        }
    }
}

fn parse_fqid(text: &str) -> Option<(Collection, i64)> {
    let (collection, id) = text.split_once('/')?;
    Some((Collection::from_name(collection)?, id.parse().ok()?))
}

fn encode_list(items: &[&serde_json::Value]) -> Value {
    serde_json::to_vec(items).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests;
