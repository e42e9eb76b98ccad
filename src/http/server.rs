//! The accept loop: HTTP/1.1 and HTTP/2 (h2c with prior knowledge, or through TLS with
//! ALPN) on one listener, with graceful shutdown.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// How long a connection may stay open before its first request starts (including the
/// TLS handshake), and how long an HTTP/1.1 client may take to send a request's
/// headers. Connections that send nothing or never finish would otherwise hold a file
/// descriptor each until the service runs out of them.
const REQUEST_START_TIMEOUT: Duration = Duration::from_secs(10);

/// The streams a client may reset on one HTTP/2 connection before the service accepted
/// them. Beyond it, the connection ends with GOAWAY. h2's default of 20 guards against
/// rapid-reset floods, but one proxy connection can carry the streams of many browsers,
/// and a burst of reloads while the service is busy would end every stream on it.
const MAX_PENDING_RESET_STREAMS: usize = 1_000;

/// Accepts connections until `shutdown` completes, then waits for open connections to
/// finish. With `tls`, each connection first completes a TLS handshake.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(REQUEST_START_TIMEOUT);
    builder
        .http2()
        .max_pending_accept_reset_streams(Some(MAX_PENDING_RESET_STREAMS));
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
        let connection = serve_connection(
            tcp,
            acceptor.clone(),
            builder.clone(),
            app.clone(),
            graceful.watcher(),
        );
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection: the TLS handshake when `acceptor` is set, then HTTP. The
/// connection is closed when no request has started within `REQUEST_START_TIMEOUT`.
fn serve_connection(
    tcp: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    app: Router,
    watcher: hyper_util::server::graceful::Watcher,
) -> impl Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send + 'static {
    let started = Arc::new(AtomicBool::new(false));
    let service = {
        let started = started.clone();
        hyper::service::service_fn(move |request| {
            started.store(true, Ordering::Relaxed);
            app.clone().oneshot(request)
        })
    };
    let serve = async move {
        match acceptor {
            None => {
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
                watcher.watch(connection.into_owned()).await
            }
            Some(acceptor) => {
                let stream = acceptor.accept(tcp).await?;
                let connection =
                    builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                watcher.watch(connection.into_owned()).await
            }
        }
    };
    let idle = async move {
        tokio::time::sleep(REQUEST_START_TIMEOUT).await;
        if started.load(Ordering::Relaxed) {
            std::future::pending::<()>().await;
        }
    };
    async move {
        tokio::select! {
            result = serve => result,
            () = idle => Err(format!("no request within {REQUEST_START_TIMEOUT:?}").into()),
        }
    }
}
