//! Runs every case of the conformance suite's edge-cases.json (from the folder in
//! OPENSLIDES_CONFORMANCE_DIR) against the service: each case on its own datastore,
//! Redis and service instance, each step compared with the answer of the Go service.

mod support;

use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use support::{send, Stream, TestDb, TestService};

/// Cases that need features this service does not have yet, with what is missing. A
/// case listed here must fail; when one passes, the test asks to remove it.
const PENDING: &[(&str, &str)] = &[
    ("compressed_response_is_one_base64_zstd_line", "compression"),
    ("long_polling_returns_data_and_hash", "long polling"),
];

/// Steps where this service answers differently from the Go service on purpose:
/// (case, step index, expected status, expected error type, reason).
const DEVIATIONS: &[(&str, usize, u16, &str, &str)] = &[(
    "compressed_response_is_one_base64_zstd_line",
    2,
    400,
    "SyntaxError",
    "an unknown field in `k` is a client error; the Go service answers 500",
)];

/// How long a step waits to be sure that no message comes.
const QUIET: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_cases_match_reference() {
    let Some(folder) = support::shared_path("OPENSLIDES_CONFORMANCE_DIR") else {
        return;
    };
    let text = std::fs::read(folder.join("edge-cases.json")).expect("read edge-cases.json");
    let cases: Vec<Value> = serde_json::from_slice(&text).expect("edge-cases.json is JSON");

    let results: Vec<(String, Result<(), String>)> = futures::stream::iter(cases)
        .map(|case| async move {
            let name = case["name"].as_str().unwrap().to_string();
            let result = run_case(&case).await;
            (name, result)
        })
        .buffer_unordered(4)
        .collect()
        .await;

    let mut problems = Vec::new();
    for (name, result) in &results {
        let pending = PENDING.iter().find(|(pending, _)| pending == name);
        match (result, pending) {
            (Ok(()), None) => {}
            (Ok(()), Some(_)) => {
                problems.push(format!("{name}: passes now; remove it from PENDING"))
            }
            (Err(_), Some((_, missing))) => eprintln!("pending {name}: needs {missing}"),
            (Err(error), None) => problems.push(format!("{name}: {error}")),
        }
    }
    assert!(
        results.len() >= 20,
        "edge-cases.json has only {} cases",
        results.len()
    );
    assert!(
        problems.is_empty(),
        "edge cases differ:\n{}",
        problems.join("\n")
    );
}

async fn run_case(case: &Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap();
    let db = TestDb::new().await;
    db.load_fqids(&case["data"]).await;
    let service = TestService::start_with(db).await;

    let mut stream: Option<Stream> = None;
    for (index, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let deviation = DEVIATIONS
            .iter()
            .find(|(case, step, ..)| *case == name && *step == index);
        run_step(&service, step, &mut stream, deviation)
            .await
            .map_err(|error| format!("step {index}: {error}"))?;
    }
    Ok(())
}

async fn run_step(
    service: &TestService,
    step: &Value,
    stream: &mut Option<Stream>,
    deviation: Option<&(&str, usize, u16, &str, &str)>,
) -> Result<(), String> {
    if let Some(request) = step.get("request") {
        let (status, body) = request_answer(service, request).await;
        let mut expect = step["expect"].clone();
        if let Some((_, _, status, error_type, _)) = deviation {
            expect = serde_json::json!({"status": status, "body": {"error": {"type": error_type}}});
        }
        return compare_answer(&expect, status, &body);
    }

    if let Some(request) = step.get("open_stream") {
        let url = format!("{}{}", service.url, request["path"].as_str().unwrap());
        let body = request.get("body").filter(|body| !body.is_null());
        let mut opened = Stream::open(&url, body).await;
        if opened.status != 200 {
            return Err(format!("stream status {}", opened.status));
        }
        let first = next_message(&mut opened).await?;
        *stream = Some(opened);
        return expect_equal(&step["expect_first"], &first);
    }

    if let Some(change) = step.get("xadd") {
        service.change(change).await;
        let stream = stream.as_mut().ok_or("xadd without an open stream")?;
        if step.get("expect_no_message").is_some() {
            if let Some(line) = stream.next_line(QUIET).await {
                return Err(format!(
                    "unexpected message {}",
                    String::from_utf8_lossy(&line)
                ));
            }
            return Ok(());
        }
        let message = next_message(stream).await?;
        return expect_equal(&step["expect_next"], &message);
    }

    if step.get("longpoll").is_some() {
        return Err("long polling is not supported".into());
    }
    Err(format!("unknown step {step}"))
}

async fn request_answer(service: &TestService, request: &Value) -> (u16, Vec<u8>) {
    let url = format!("{}{}", service.url, request["path"].as_str().unwrap());
    let (method, body) = match (request.get("body_raw"), request.get("body")) {
        (Some(raw), _) => (
            reqwest::Method::POST,
            Some(raw.as_str().unwrap().as_bytes().to_vec()),
        ),
        (None, Some(body)) if !body.is_null() => {
            (reqwest::Method::POST, Some(body.to_string().into_bytes()))
        }
        _ => (reqwest::Method::GET, None),
    };
    let answer = send(method, &url, body).await;
    (answer.status, answer.body)
}

fn compare_answer(expect: &Value, status: u16, body: &[u8]) -> Result<(), String> {
    let want_status = expect["status"].as_u64().unwrap_or(200) as u16;
    let text = String::from_utf8_lossy(body);
    if status != want_status {
        return Err(format!("status {status}, expected {want_status}: {text}"));
    }
    match expect.get("format").and_then(Value::as_str) {
        None | Some("json") => {}
        Some(format) => return Err(format!("response format {format} is not supported")),
    }
    let got: Value =
        serde_json::from_slice(body).map_err(|err| format!("body is not JSON ({err}): {text}"))?;

    let want = &expect["body"];
    if let Some(error) = want.get("error") {
        // Errors match by type; the message only has to name the same problem.
        if got["error"]["type"] != error["type"] {
            return Err(format!("error {got}, expected type {}", error["type"]));
        }
        if !got["error"]["msg"].is_string() {
            return Err(format!("error without a message: {got}"));
        }
        return Ok(());
    }
    expect_equal(want, &got)
}

async fn next_message(stream: &mut Stream) -> Result<Value, String> {
    let line = stream
        .next_line(Duration::from_secs(5))
        .await
        .ok_or("no message within 5 seconds")?;
    serde_json::from_slice(&line).map_err(|err| format!("message is not JSON ({err})"))
}

fn expect_equal(want: &Value, got: &Value) -> Result<(), String> {
    if want == got {
        Ok(())
    } else {
        Err(format!("got {got}, expected {want}"))
    }
}
