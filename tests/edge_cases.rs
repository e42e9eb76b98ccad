//! Runs every case of the conformance suite's edge-cases.json (from the folder in
//! OPENSLIDES_CONFORMANCE_DIR) against the service: each case on its own datastore,
//! Redis and service instance, each step compared with the answer of the Go service.

mod support;

use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use support::{send, Answer, Stream, TestDb, TestService};

/// Cases that need features this service does not have yet, with what is missing. A
/// case listed here must fail; when one passes, the test asks to remove it.
const PENDING: &[(&str, &str)] = &[];

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

    let mut state = CaseState::default();
    for (index, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let deviation = DEVIATIONS
            .iter()
            .find(|(case, step, ..)| *case == name && *step == index);
        run_step(&service, step, &mut state, deviation)
            .await
            .map_err(|error| format!("step {index}: {error}"))?;
    }
    Ok(())
}

/// What the steps of one case share: the open stream and the last long polling hash.
#[derive(Default)]
struct CaseState {
    stream: Option<Stream>,
    hash: Option<String>,
}

async fn run_step(
    service: &TestService,
    step: &Value,
    state: &mut CaseState,
    deviation: Option<&(&str, usize, u16, &str, &str)>,
) -> Result<(), String> {
    let mut expect = step["expect"].clone();
    if let Some((_, _, status, error_type, _)) = deviation {
        expect = serde_json::json!({"status": status, "body": {"error": {"type": error_type}}});
    }
    if let Some(request) = step.get("request") {
        let answer = request_answer(service, request).await;
        return compare_answer(&expect, &answer, &mut state.hash);
    }

    if let Some(poll) = step.get("longpoll") {
        let answer = long_poll(service, poll, step.get("while_waiting"), &state.hash).await?;
        return compare_answer(&expect, &answer, &mut state.hash);
    }
    let stream = &mut state.stream;

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

    Err(format!("unknown step {step}"))
}

/// Sends one long polling request. With `while_waiting`, the request must still wait
/// after the quiet period; then the change is applied and the answer must follow.
async fn long_poll(
    service: &TestService,
    poll: &Value,
    while_waiting: Option<&Value>,
    previous: &Option<String>,
) -> Result<Answer, String> {
    let url = format!("{}{}", service.url, poll["path"].as_str().unwrap());
    let request = poll["body"].to_string();
    let mut builder = support::client().post(&url);
    match poll.get("hash").and_then(Value::as_str) {
        None => builder = builder.body(request),
        Some(hash) => {
            let hash = match hash {
                "$previous" => previous.clone().ok_or("no previous hash")?,
                literal => literal.to_string(),
            };
            let boundary = "edgecaseboundary7d1f";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{request}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\n{hash}\r\n\
                 --{boundary}--\r\n"
            );
            builder = builder
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body);
        }
    }
    let mut pending = tokio::spawn(async move {
        let response = builder.send().await.expect("long polling request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("long polling body").to_vec();
        Answer {
            status,
            headers,
            body,
        }
    });
    if let Some(waiting) = while_waiting {
        if tokio::time::timeout(QUIET, &mut pending).await.is_ok() {
            return Err("the long polling request did not wait for a change".into());
        }
        service.change(&waiting["xadd"]).await;
    }
    tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .map_err(|_| "no long polling answer within 5 seconds".to_string())?
        .map_err(|error| error.to_string())
}

async fn request_answer(service: &TestService, request: &Value) -> Answer {
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
    send(method, &url, body).await
}

/// Compares an answer with an expectation, decoding the body as its `format` says. A
/// multipart answer's hash is stored for later steps.
fn compare_answer(
    expect: &Value,
    answer: &Answer,
    hash: &mut Option<String>,
) -> Result<(), String> {
    let want_status = expect["status"].as_u64().unwrap_or(200) as u16;
    let status = answer.status;
    let text = String::from_utf8_lossy(&answer.body).to_string();
    if status != want_status {
        return Err(format!("status {status}, expected {want_status}: {text}"));
    }
    let body = match expect.get("format").and_then(Value::as_str) {
        None | Some("json") => answer.body.clone(),
        Some("zstd_base64") => decode_zstd_base64(&answer.body)?,
        Some("multipart") => {
            let (data, new_hash) = split_multipart(answer)?;
            *hash = Some(new_hash);
            data
        }
        Some(format) => return Err(format!("response format {format} is not supported")),
    };
    let text = String::from_utf8_lossy(&body);
    let got: Value =
        serde_json::from_slice(&body).map_err(|err| format!("body is not JSON ({err}): {text}"))?;

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

/// Decodes one line of unpadded base64 holding one zstd frame.
fn decode_zstd_base64(body: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let line = body
        .strip_suffix(b"\n")
        .ok_or("the compressed body does not end with a newline")?;
    if line.contains(&b'\n') || line.contains(&b'=') {
        return Err("the compressed body is not one unpadded base64 line".into());
    }
    let raw = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(line)
        .map_err(|error| format!("invalid base64: {error}"))?;
    let json = zstd::decode_all(&raw[..]).map_err(|error| format!("invalid zstd: {error}"))?;
    if !json.ends_with(b"\n") {
        return Err("the decompressed JSON does not end with a newline".into());
    }
    Ok(json)
}

/// Splits a multipart answer into its `data` and `hash` parts, in that order.
fn split_multipart(answer: &Answer) -> Result<(Vec<u8>, String), String> {
    let content_type = answer
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("multipart/form-data") {
        return Err(format!(
            "content type {content_type}, expected multipart/form-data"
        ));
    }
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .ok_or("multipart without boundary")?
        .trim_matches('"');
    let text = String::from_utf8_lossy(&answer.body).to_string();
    let mut parts = Vec::new();
    for part in text.split(&format!("--{boundary}")).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let (head, content) = part
            .split_once("\r\n\r\n")
            .ok_or("a part without headers")?;
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or("a part without name")?;
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        parts.push((name.to_string(), content.to_string()));
    }
    match parts.as_slice() {
        [(data, body), (hash, state)] if data == "data" && hash == "hash" => {
            if state.is_empty() {
                return Err("empty hash part".into());
            }
            Ok((body.clone().into_bytes(), state.clone()))
        }
        _ => Err(format!("parts {parts:?}, expected data and hash")),
    }
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
