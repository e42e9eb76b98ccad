//! Clients that open a connection and never finish their request headers. Each such
//! connection uses a file descriptor of the service, so enough of them would keep every
//! other client out once the service reaches its limit of open files. The service
//! closes them.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{TestDb, TestService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long the test waits for the service to close a connection that started no
/// request: the service allows ten seconds.
const HEADER_WAIT: Duration = Duration::from_secs(15);

async fn service() -> TestService {
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    TestService::start_with(db).await
}

/// Reads from `stream` until the peer closes it or `wait` passes, and returns whether
/// the peer closed it.
async fn closed_within(stream: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let read_until_closed = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(wait, read_until_closed).await.is_ok()
}

#[tokio::test]
async fn unfinished_headers_are_closed() {
    let service = service().await;
    let address = service.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /system/autoupdate/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    assert!(
        closed_within(&mut stream, HEADER_WAIT).await,
        "a connection whose request headers never end is still open after {HEADER_WAIT:?}"
    );
}

#[tokio::test]
async fn silent_connection_is_closed() {
    let service = service().await;
    let address = service.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();

    assert!(
        closed_within(&mut stream, HEADER_WAIT).await,
        "a connection that never sends a byte is still open after {HEADER_WAIT:?}"
    );
}

#[tokio::test]
async fn http2_preface_without_request_is_closed() {
    let service = service().await;
    let address = service.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();

    assert!(
        closed_within(&mut stream, HEADER_WAIT).await,
        "an HTTP/2 connection without a request is still open after {HEADER_WAIT:?}"
    );
}

#[tokio::test]
async fn connection_with_request_stays_open() {
    let service = service().await;
    let address = service.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /system/autoupdate?k=organization/1/name HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    // The stream's response goes on past the time a silent connection is closed.
    assert!(
        !closed_within(&mut stream, HEADER_WAIT).await,
        "a connection with an open stream was closed"
    );
}

/// Builds an HTTP/2 frame: a 9-byte header (length, type, flags, stream id), then `payload`.
fn http2_frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut frame = length[1..].to_vec();
    frame.extend([kind, flags]);
    frame.extend(stream_id.to_be_bytes());
    frame.extend(payload);
    frame
}

/// After one finished request, an HTTP/2 connection that opens no further stream uses a
/// file descriptor as much as one that never started a request. Like an idle HTTP/1.1
/// keep-alive connection, it must not stay open for good, or a client that sends one
/// health request per connection could still use up the service's open files.
#[tokio::test]
async fn idle_http2_connection_is_closed() {
    let service = service().await;
    let address = service.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let path = b"/system/autoupdate/health";
    // HPACK: GET, http, the path as a literal with the indexed name :path, and
    // :authority as a literal with an indexed name.
    let mut block = vec![0x82, 0x86, 0x04, u8::try_from(path.len()).unwrap()];
    block.extend(path);
    block.extend([0x01, 1, b'x']);
    let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    bytes.extend(http2_frame(0x4, 0, 0, &[]));
    // HEADERS with END_STREAM and END_HEADERS.
    bytes.extend(http2_frame(0x1, 0x5, 1, &block));
    stream.write_all(&bytes).await.unwrap();

    // The health response arrives at once, and then the connection is idle.
    let wait = HEADER_WAIT + Duration::from_secs(10);
    assert!(
        closed_within(&mut stream, wait).await,
        "an HTTP/2 connection without open streams is still open {wait:?} after its only request"
    );
}

#[tokio::test]
async fn unfinished_body_gets_error() {
    let service = service().await;
    let address = service.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"POST /system/autoupdate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[")
        .await
        .unwrap();

    let mut response = Vec::new();
    let mut buffer = [0u8; 1024];
    let read = async {
        while !String::from_utf8_lossy(&response).contains("within 10s") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => response.extend_from_slice(&buffer[..read]),
            }
        }
    };
    assert!(
        tokio::time::timeout(HEADER_WAIT, read).await.is_ok(),
        "no response {HEADER_WAIT:?} after a body that never ends"
    );
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(
        text.contains("the body did not arrive within 10s"),
        "{text}"
    );
}
