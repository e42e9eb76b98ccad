//! The requests of the benchmarks in `benches/requests/`: each one parses, so every field
//! it names exists in models.yml, and each one reaches keys on a generated meeting.

use openslides_autoupdate::autoupdate::{Reader, ViewState};
use openslides_autoupdate::datastore::{Datastore, MemorySource};
use openslides_autoupdate::generate::{generate, GenerateOptions};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::restrict::{AllVisible, Viewer};
use std::path::PathBuf;
use std::sync::Arc;

fn request_files() -> Vec<PathBuf> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/requests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|err| panic!("read {}: {err}", folder.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bench_request_parses() {
    let files = request_files();
    assert!(files.len() >= 4, "expected the requests of four views");
    for path in files {
        let body = std::fs::read(&path).expect("read request");
        if let Err(err) = Request::parse(&body, "") {
            panic!("{}: {err}", path.display());
        }
    }
}

#[tokio::test]
async fn every_bench_request_reaches_keys() {
    let export = generate(&GenerateOptions::small());
    let source = MemorySource::from_export(&export);
    let datastore = Datastore::new(Arc::new(source));
    let reader = Reader {
        datastore: &datastore,
        restricter: &AllVisible,
        projector: None,
        votes: None,
    };
    for path in request_files() {
        let body = std::fs::read(&path).expect("read request");
        let request = Arc::new(Request::parse(&body, "").expect("valid request"));
        let mut view = ViewState::new(request, Viewer { user_id: 1 });
        let changes = view
            .resolve(&reader, &mut |_| {})
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        // Each request follows at least one relation from its root object.
        assert!(
            changes.values.len() > 30,
            "{}: only {} keys have a value",
            path.display(),
            changes.values.len()
        );
    }
}
