//! The accept loop: HTTP/1.1 and HTTP/2 (h2c with prior knowledge, or through TLS with
//! ALPN) on one listener, with graceful shutdown.

use axum::body::Body;
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

/// How long a connection may stay open without an open request: before its first request
/// (including the TLS handshake) and after its last one. It is also the time an HTTP/1.1
/// client may take to send a request's headers. Connections that send nothing, never
/// finish or stay idle would otherwise hold a file descriptor each until the service runs
/// out of them.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The streams a client may reset on one HTTP/2 connection before the service accepted
/// them. Beyond it, the connection ends with GOAWAY. h2's default of 20 guards against
/// rapid-reset floods, but one proxy connection can carry the streams of many browsers,
/// and a burst of reloads while the service is busy would end every stream on it.
const MAX_PENDING_RESET_STREAMS: usize = 1_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Accepts connections until `shutdown` completes, then waits for open connections to
/// finish. With `tls`, each connection first completes a TLS handshake.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT);
    builder
        .http2()
        .max_pending_accept_reset_streams(Some(MAX_PENDING_RESET_STREAMS));

    let (stop, stopping) = watch::channel(false);
    // Every connection task keeps a sender, so the receiver ends when the last task ends.
    let (running, mut all_done) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);

    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Running out of file descriptors must not end the service.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);

        let connection = Connection {
            builder: builder.clone(),
            app: app.clone(),
            stopping: stopping.clone(),
        };
        let acceptor = acceptor.clone();
        let running = running.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.serve(tcp, acceptor).await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(running);
        });
    }

    drop(listener);
    stop.send_replace(true);
    drop(running);
    let _ = all_done.recv().await;
    Ok(())
}

/// The settings and state one connection's task needs besides its socket.
struct Connection {
    builder: auto::Builder<TokioExecutor>,
    app: Router,
    /// Turns true when the service shuts down.
    stopping: watch::Receiver<bool>,
}

impl Connection {
    /// Serves one connection: the TLS handshake when `acceptor` is set, then HTTP.
    async fn serve(
        self,
        tcp: tokio::net::TcpStream,
        acceptor: Option<tokio_rustls::TlsAcceptor>,
    ) -> Result<(), BoxError> {
        match acceptor {
            None => self.serve_http(tcp).await,
            Some(acceptor) => {
                let handshake = tokio::time::timeout(IDLE_TIMEOUT, acceptor.accept(tcp));
                let stream = handshake
                    .await
                    .map_err(|_| format!("no TLS handshake within {IDLE_TIMEOUT:?}"))??;
                self.serve_http(stream).await
            }
        }
    }

    /// Serves HTTP on `io` until the client closes it. The connection ends gracefully when
    /// the service shuts down or after `IDLE_TIMEOUT` without an open request.
    async fn serve_http<I>(self, io: I) -> Result<(), BoxError>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            builder,
            app,
            mut stopping,
        } = self;
        let requests = Arc::new(watch::Sender::new(Requests::default()));
        let service = {
            let requests = requests.clone();
            hyper::service::service_fn(move |request| {
                let open = OpenRequest::start(requests.clone());
                let response = app.clone().oneshot(request);
                async move {
                    let response = response.await?;
                    // The request counts as open until its response body is gone.
                    Ok::<_, std::convert::Infallible>(response.map(|body| {
                        Body::new(body.map_frame(move |frame| {
                            let _open = &open;
                            frame
                        }))
                    }))
                }
            })
        };
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        tokio::pin!(connection);
        tokio::select! {
            result = connection.as_mut() => return result,
            _ = stopping.wait_for(|stop| *stop) => {}
            () = idle(requests.subscribe()) => {
                if requests.borrow().started == 0 {
                    // Nothing to end gracefully with a client that never made a request.
                    return Err(format!("no request within {IDLE_TIMEOUT:?}").into());
                }
                tracing::debug!("closing a connection idle for {IDLE_TIMEOUT:?}");
            }
        }
        connection.as_mut().graceful_shutdown();
        // An HTTP/2 client that ignores the GOAWAY and its ping would keep the connection
        // open; one idle period later it is dropped. Open streams still keep it.
        tokio::select! {
            result = connection.as_mut() => result,
            () = idle(requests.subscribe()) => Ok(()),
        }
    }
}

/// The requests of one connection. Every start and end notifies the receivers, so the
/// idle timer starts again after each.
#[derive(Default)]
struct Requests {
    /// Requests whose response body is not yet gone.
    open: usize,
    /// Requests started so far.
    started: u64,
}

/// A request counted in `Requests::open` until it is dropped.
struct OpenRequest(Arc<watch::Sender<Requests>>);

impl OpenRequest {
    fn start(requests: Arc<watch::Sender<Requests>>) -> OpenRequest {
        requests.send_modify(|requests| {
            requests.open += 1;
            requests.started += 1;
        });
        OpenRequest(requests)
    }
}

impl Drop for OpenRequest {
    fn drop(&mut self) {
        self.0.send_modify(|requests| requests.open -= 1);
    }
}

/// Completes once the connection has had no open request for `IDLE_TIMEOUT`.
async fn idle(mut requests: watch::Receiver<Requests>) {
    loop {
        let open = requests.borrow_and_update().open;
        let changed = if open == 0 {
            tokio::select! {
                () = tokio::time::sleep(IDLE_TIMEOUT) => return,
                changed = requests.changed() => changed,
            }
        } else {
            requests.changed().await
        };
        if changed.is_err() {
            // The service that counts requests is gone with its connection.
            return std::future::pending().await;
        }
    }
}
