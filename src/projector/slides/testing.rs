//! Test support for slides: small datastores written as
//! `{"collection/id": {"field": value}}`, where every listed object gets its `id`.

use super::super::{Fetch, SlideError};
use crate::datastore::{Datastore, MemorySource};
use crate::models::{Fqid, Key};
use serde_json::Value as Json;
use std::sync::Arc;

pub use super::super::Projection;

/// Builds a datastore that contains exactly `data`, with an `id` field for each object.
pub fn datastore(data: &Json) -> Arc<Datastore> {
    let mut export = serde_json::Map::new();
    for (fqid, fields) in data.as_object().expect("data is an object of fqids") {
        let parsed = Fqid::parse(fqid).expect("valid fqid");
        let mut fields = fields.as_object().expect("fields are an object").clone();
        fields.insert("id".into(), Json::from(parsed.id));
        export
            .entry(parsed.collection.name().to_string())
            .or_insert_with(|| Json::Object(Default::default()))
            .as_object_mut()
            .expect("collections are objects")
            .insert(parsed.id.to_string(), Json::Object(fields));
    }
    let source = MemorySource::from_export(&Json::Object(export));
    Arc::new(Datastore::new(Arc::new(source)))
}

fn ignore_reads(_: &[Key]) {}

/// Creates a fetch on `datastore` that does not track what it reads.
pub fn fetch(datastore: &Datastore) -> Fetch<'_> {
    Fetch::new(datastore, &ignore_reads)
}

/// Builds a projection of `content_object_id` on projector 1 of meeting 1, with id 1, no type
/// and no options.
pub fn slide_projection(content_object_id: &str) -> Projection {
    Projection {
        id: 1,
        kind: String::new(),
        content_object_id: Fqid::parse(content_object_id).expect("valid fqid"),
        meeting_id: 1,
        options: Json::Null,
        current_projector_id: 1,
    }
}

/// Renders the slide the projection names on `data`, without the `collection`
/// attribute the projector adds.
pub async fn render(data: &Json, p7on: &Projection) -> Result<Json, SlideError> {
    let store = datastore(data);
    let name = p7on.slide_name().to_owned();
    super::render(&name, &mut fetch(&store), p7on)
        .await
        .map(|content| content.unwrap_or_else(|| panic!("no slide named {name}")))
}
