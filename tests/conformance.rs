//! Sends the OpenSlides client's real requests (the conformance suite in
//! OPENSLIDES_CONFORMANCE_DIR) to the service on example-data.json, as users 1, 2, 3 and
//! public access, and compares each answer with the Go service's.

mod support;

use serde_json::Value;
use support::{example_data, post, TestDb, TestService};

/// Answers that need features this service does not have yet: (request, user, what is
/// missing). A listed answer must differ; when one matches, the test asks to remove it.
const PENDING: &[(&str, u64, &str)] = &[];

fn pending_reason(request: &str, user: u64) -> Option<&'static str> {
    PENDING
        .iter()
        .find(|(name, pending_user, _)| *name == request && *pending_user == user)
        .map(|(_, _, reason)| *reason)
}

#[tokio::test]
async fn client_requests_match_reference() {
    let Some(folder) = support::shared_path("OPENSLIDES_CONFORMANCE_DIR") else {
        return;
    };
    let Some(data) = example_data() else { return };
    let db = TestDb::new().await;
    db.load(&data).await;
    let service = TestService::start_with(db).await;

    let mut expected_files: Vec<_> = std::fs::read_dir(folder.join("expected"))
        .expect("read expected answers")
        .map(|entry| entry.unwrap().path())
        .collect();
    expected_files.sort();

    let mut problems = Vec::new();
    let mut matched = 0;
    for path in &expected_files {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let (request, user) = stem
            .rsplit_once("__u")
            .expect("expected file named REQUEST__uUSER");
        let user: u64 = user.parse().unwrap();
        let want: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let body: Value = serde_json::from_slice(
            &std::fs::read(folder.join("requests").join(format!("{request}.json"))).unwrap(),
        )
        .unwrap();

        let answer = post(
            &format!(
                "{}/internal/autoupdate?user_id={user}&single=1",
                service.url
            ),
            &body,
        )
        .await;
        let got = serde_json::json!({"status": answer.status, "body": answer.json()});
        let equal = got == want;
        matched += usize::from(equal);

        match (equal, pending_reason(request, user)) {
            (true, None) | (false, Some(_)) => {}
            (true, Some(_)) => problems.push(format!(
                "{stem}: matches now; remove it from the pending answers"
            )),
            (false, None) => {
                problems.push(format!("{stem}: {}", describe(&want["body"], &got["body"])))
            }
        }
    }

    eprintln!(
        "{matched} of {} answers equal the reference",
        expected_files.len()
    );
    assert!(
        expected_files.len() >= 50,
        "only {} expected answers found",
        expected_files.len()
    );
    assert!(
        problems.is_empty(),
        "answers differ:\n{}",
        problems.join("\n")
    );
}

/// Names the keys that are missing, extra or different.
fn describe(want: &Value, got: &Value) -> String {
    let (Some(want), Some(got)) = (want.as_object(), got.as_object()) else {
        return format!("got {got}");
    };
    let missing: Vec<&String> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .take(8)
        .collect();
    let extra: Vec<&String> = got
        .keys()
        .filter(|k| !want.contains_key(*k))
        .take(8)
        .collect();
    let differ: Vec<&String> = want
        .keys()
        .filter(|k| got.get(*k).is_some_and(|v| v != &want[*k]))
        .take(8)
        .collect();
    format!("missing {missing:?} extra {extra:?} differ {differ:?}")
}
