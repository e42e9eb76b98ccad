//! Runs the service: the datastore, the message bus reader, background tasks and the
//! HTTP server, until shutdown.

use crate::autoupdate::Autoupdate;
use crate::config::Config;
use crate::datastore::{Datastore, PostgresSource};
use crate::http::{self, AppState};
use crate::messagebus;
use crate::restrict::AllVisible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long open streams get to end after shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Starting the service failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("authentication and restriction are not implemented yet, so every request would be served as the superadmin: set AUTH_FAKE=true to run the service this way")]
    AuthFakeRequired,
    #[error(transparent)]
    Datastore(#[from] crate::datastore::DatastoreError),
    #[error("HTTP server: {0}")]
    Http(#[from] std::io::Error),
}

/// Checks whether the configuration can be run, before anything is started.
pub fn check(config: &Config) -> Result<(), ServiceError> {
    if !config.auth_fake {
        return Err(ServiceError::AuthFakeRequired);
    }
    Ok(())
}

/// Runs the service on `listener` until `shutdown` completes, then ends open streams and
/// returns within a few seconds.
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    check(&config)?;
    let source = PostgresSource::new(&config.postgres)?;
    let datastore = Arc::new(Datastore::new(Arc::new(source)));
    let autoupdate = Autoupdate::new(datastore, Arc::new(AllVisible));

    let background = vec![
        tokio::spawn(messagebus::run(config.redis.clone(), autoupdate.clone())),
        spawn_cache_reset(autoupdate.clone(), config.cache_reset),
    ];

    let result = serve(listener, autoupdate, config.auth_fake, shutdown).await;
    for task in background {
        task.abort();
    }
    result
}

/// Serves HTTP with the given core until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    autoupdate: Autoupdate,
    auth_fake: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = AppState {
        autoupdate,
        auth_fake,
        shutdown: stop_rx.clone(),
    };
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "listening");
    }

    let stop = async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    let server = http::serve(listener, state, stop);
    tokio::pin!(server);

    let mut stopped = stop_rx;
    let deadline = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = &mut server => Ok(result?),
        () = deadline => {
            tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; stopping anyway");
            Ok(())
        }
    }
}

/// Empties the datastore cache every `interval`. Views keep their values, so clients
/// get nothing they already have.
fn spawn_cache_reset(autoupdate: Autoupdate, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        if interval.is_zero() {
            return;
        }
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let keys = autoupdate.datastore().len();
            autoupdate.datastore().reset();
            tracing::info!(keys, "cache reset");
        }
    })
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
