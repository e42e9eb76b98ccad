//! HTTP/2 streams that the client resets before the service accepted them, as a proxy
//! does when many browsers reload at once: they must not end the shared connection.

mod support;

use axum::http::Request;
use serde_json::json;
use support::{TestDb, TestService};

#[tokio::test]
async fn reset_streams_keep_connection_open() {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    let service = TestService::start_with(db).await;
    let address = service.url.trim_start_matches("http://").to_string();
    let url = format!("{}/system/autoupdate?k=organization/1/name", service.url);

    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let connection = tokio::spawn(connection);

    // 100 streams, each reset right after its headers, in one burst.
    let mut client = client.ready().await.unwrap();
    let mut responses = Vec::new();
    for _ in 0..100 {
        let request = Request::get(url.as_str()).body(()).unwrap();
        let (response, mut stream) = client.send_request(request, false).unwrap();
        stream.send_reset(h2::Reason::CANCEL);
        responses.push(response);
        client = client.ready().await.unwrap();
    }
    drop(responses);

    // The same connection still serves a stream.
    let request = Request::get(url.as_str()).body(()).unwrap();
    let (response, _stream) = client
        .send_request(request, true)
        .expect("the connection takes a new stream");
    let response = response.await.expect("a response on the same connection");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let chunk = body
        .data()
        .await
        .expect("a first message")
        .expect("a first message without error");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&chunk).unwrap(),
        json!({"organization/1/name": "Org"})
    );
    assert!(!connection.is_finished(), "the connection ended");
}
