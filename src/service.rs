//! Runs the service: the datastore, the message bus reader, background tasks and the
//! HTTP server, until shutdown.

use crate::auth::Auth;
use crate::autoupdate::{Autoupdate, WorkPool};
use crate::config::Config;
use crate::datastore::{Datastore, PostgresSource};
use crate::history::History;
use crate::http::{self, AppState, RequestLimits};
use crate::messagebus;
use crate::metric::{self, ConnectionCounter};
use crate::restrict::RuleRestricter;
use crate::vote;
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
    #[error(transparent)]
    Datastore(#[from] crate::datastore::DatastoreError),
    #[error("HTTP server: {0}")]
    Http(#[from] std::io::Error),
    #[error(transparent)]
    Tls(#[from] http::TlsError),
}

/// Runs the service on `listener` until `shutdown` completes, then ends open streams and
/// returns within a few seconds.
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let tls = match (&config.cert_file, &config.key_file) {
        (Some(certificate), Some(key)) => Some(http::server_config(certificate, key)?),
        _ => None,
    };
    let source = PostgresSource::new(&config.postgres)?;
    let datastore = Arc::new(Datastore::with_max_keys(
        Arc::new(source.clone()),
        config.cache_max_keys,
    ));
    let restricter = Arc::new(RuleRestricter::new(datastore.clone()));
    let history = History::new(source, datastore.clone());
    let autoupdate = Autoupdate::new(datastore, restricter).with_history(history);

    let auth = Auth::new(config.auth.clone());

    let bus = messagebus::Connected::default();
    let mut background = vec![
        tokio::spawn(messagebus::run(
            config.redis.clone(),
            autoupdate.clone(),
            bus.clone(),
        )),
        spawn_cache_reset(autoupdate.clone(), config.cache_reset),
    ];
    if config.public_access_only {
        tracing::info!("public access only: no connection to the vote service");
    } else {
        background.push(tokio::spawn(vote::run(
            config.vote_url.clone(),
            autoupdate.clone(),
        )));
    }
    if !auth.is_fake() {
        background.extend(spawn_logout_reader(config.redis.clone(), &auth));
    }

    let connections = if config.count_in_redis {
        ConnectionCounter::with_redis(config.redis.clone(), config.metric_save_interval)
    } else {
        ConnectionCounter::local()
    };
    background.extend(connections.spawn_saver(config.metric_save_interval));
    if !config.metric_interval.is_zero() {
        background.push(metric::spawn_metric_log(
            connections.clone(),
            autoupdate.datastore().clone(),
            config.metric_interval,
        ));
    }

    let options = ServeOptions {
        heartbeat: config.heartbeat,
        tls,
        connections,
        pool: WorkPool::new(config.concurrent_workers),
        limits: config.limits,
        bus: Some(bus),
    };
    let result = serve_with(listener, autoupdate, auth, options, shutdown).await;
    for task in background {
        task.abort();
    }
    result
}

/// Serves HTTP with the given core until `shutdown` completes. Connections are counted
/// in this instance only, and first messages are bounded to one per CPU core.
pub async fn serve(
    listener: tokio::net::TcpListener,
    autoupdate: Autoupdate,
    auth: Auth,
    heartbeat: Duration,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let options = ServeOptions {
        heartbeat,
        tls,
        connections: ConnectionCounter::local(),
        pool: WorkPool::new(0),
        limits: RequestLimits::default(),
        bus: None,
    };
    serve_with(listener, autoupdate, auth, options, shutdown).await
}

/// The HTTP settings besides the core and authentication.
pub struct ServeOptions {
    /// How long a stream may stay silent before it gets an empty message; zero never.
    pub heartbeat: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub connections: ConnectionCounter,
    pub pool: WorkPool,
    /// The bounds on autoupdate requests.
    pub limits: RequestLimits,
    /// The state of the reader of changes, when there is one; health reports it.
    pub bus: Option<messagebus::Connected>,
}

/// Serves HTTP with the given core and options until `shutdown` completes.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    autoupdate: Autoupdate,
    auth: Auth,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let ServeOptions {
        heartbeat,
        tls,
        connections,
        pool,
        limits,
        bus,
    } = options;
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = AppState {
        autoupdate,
        auth,
        shutdown: stop_rx.clone(),
        heartbeat,
        connections,
        pool,
        limits,
        bus,
    };
    if let Ok(address) = listener.local_addr() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%address, scheme, "listening");
    }

    let stop = async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    let server = http::serve(listener, state, tls, stop);
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

/// Reads the Redis stream `logout` from the last `REMEMBER_LOGOUTS` on, and drops old
/// logouts every minute.
fn spawn_logout_reader(redis: crate::messagebus::RedisConfig, auth: &Auth) -> [JoinHandle<()>; 2] {
    let logouts = auth.logouts().clone();
    let reader = tokio::spawn(messagebus::follow(
        redis,
        messagebus::LOGOUT,
        messagebus::Start::Since(crate::auth::REMEMBER_LOGOUTS),
        messagebus::Connected::default(),
        move |entry| {
            for (field, value) in &entry.fields {
                if field == b"sessionId" {
                    let session = String::from_utf8_lossy(value);
                    tracing::debug!(entry = %entry.id, "session logged out");
                    logouts.log_out(&session);
                }
            }
        },
        |_| {},
    ));
    let logouts = auth.logouts().clone();
    let pruner = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(60));
        loop {
            ticker.tick().await;
            logouts.prune();
        }
    });
    [reader, pruner]
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
            autoupdate.resync();
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
