//! The tool subcommands: health check, loading data, generating data and the demo.

use crate::datastore::schema;
use crate::generate::{generate as generate_data, GenerateOptions};
use anyhow::{bail, Context};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Logs to standard error. `RUST_LOG` sets the filter; by default it is `info`, with
/// PostgreSQL's notices (such as "relation already exists") left out.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tokio_postgres=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Asks the service on this machine for its health and fails unless it is healthy.
pub async fn health() -> anyhow::Result<()> {
    let port = std::env::var("AUTOUPDATE_PORT").unwrap_or_else(|_| "9012".into());
    let tls = std::env::var("CERT_FILE").is_ok_and(|file| !file.trim().is_empty());
    if tls {
        return health_https(&port).await;
    }
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>()?))
            .await
            .with_context(|| format!("connect to 127.0.0.1:{port}"))?;
        stream
            .write_all(b"GET /system/autoupdate/health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        anyhow::Ok(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(5), check)
        .await
        .context("health check timed out after 5s")??;

    let status_ok = response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200");
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().trim();
    if !status_ok || body != r#"{"healthy": true}"# {
        bail!(
            "service is not healthy: {}",
            response.lines().next().unwrap_or_default()
        );
    }
    Ok(())
}

/// Asks a service that serves HTTPS (CERT_FILE is set) for its health. The certificate
/// is not checked: the request goes to this machine only, and the certificate is issued
/// for the public host name, not for 127.0.0.1.
async fn health_https(port: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(5))
        .build()?;
    let url = format!("https://127.0.0.1:{port}/system/autoupdate/health");
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("request {url}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() || body.trim() != r#"{"healthy": true}"# {
        bail!(
            "service is not healthy: status {status}, body {:?}",
            body.trim()
        );
    }
    Ok(())
}

/// Loads an export file into the datastore named by the DATABASE_* variables.
pub async fn load(file: &std::path::Path, replace: bool) -> anyhow::Result<()> {
    let text = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let export: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("parse {}", file.display()))?;
    let postgres = crate::config::postgres_from_env()?;
    let mut client = postgres.connect().await.with_context(|| {
        format!(
            "connect to PostgreSQL at {}:{} as {}",
            postgres.host, postgres.port, postgres.user
        )
    })?;
    let count = schema::load_export(&mut client, &export, replace).await?;
    tracing::info!(objects = count, database = %postgres.database, "export loaded");
    Ok(())
}

/// The options of `generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Number of meetings.
    #[arg(long, default_value_t = 1)]
    pub meetings: usize,
    /// Participants per meeting.
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    /// Motions per meeting.
    #[arg(long, default_value_t = 10)]
    pub motions: usize,
    /// Seed of the random choices; the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use the large-meeting scale of the benchmarks; the other options are ignored.
    #[arg(long)]
    pub large: bool,
}

/// Prints generated data as JSON.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let options = if args.large {
        GenerateOptions::large_meeting()
    } else {
        GenerateOptions {
            meetings: args.meetings,
            users: args.users,
            motions: args.motions,
            seed: args.seed,
            ..GenerateOptions::small()
        }
    };
    let data = generate_data(&options);
    let stdout = std::io::stdout();
    serde_json::to_writer(stdout.lock(), &data)?;
    println!();
    Ok(())
}

/// The options of `token`.
#[derive(clap::Args)]
pub struct TokenArgs {
    /// The user the token is for.
    #[arg(long)]
    pub user_id: i64,
    /// The session id in the token.
    #[arg(long, default_value = "development-session")]
    pub session_id: String,
    /// Seconds until the access token expires; negative gives an expired token.
    #[arg(long, default_value_t = 600, allow_hyphen_values = true)]
    pub expires_in: i64,
}

/// Prints an access token and a refresh cookie as curl header arguments, signed with the
/// keys of AUTH_TOKEN_KEY_FILE and AUTH_COOKIE_KEY_FILE (or the development keys with
/// OPENSLIDES_DEVELOPMENT=true).
pub fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let settings = crate::config::auth_settings_from_env()?;
    if settings.fake {
        bail!("AUTH_FAKE is set, so no token is checked; unset it to make a token");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let claims = crate::auth::Claims {
        user_id: args.user_id,
        session_id: args.session_id.clone(),
        exp: Some((now + args.expires_in).max(0) as u64),
    };
    let token = crate::auth::sign(&claims, &settings.token_key)?;
    let cookie_claims = serde_json::json!({"sessionId": args.session_id, "exp": now + 3600 * 24});
    let cookie = crate::auth::sign(&cookie_claims, &settings.cookie_key)?;
    println!("-H 'Authentication: bearer {token}' -H 'Cookie: refreshId=bearer%20{cookie}'");
    Ok(())
}

/// Runs the demo on 127.0.0.1 and the port of AUTOUPDATE_PORT.
/// The demo's streams get an empty message after this long without one.
const DEMO_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(300);

pub async fn demo() -> anyhow::Result<()> {
    let port: u16 = std::env::var("AUTOUPDATE_PORT")
        .ok()
        .map(|text| text.parse())
        .transpose()
        .context("AUTOUPDATE_PORT is not a port number")?
        .unwrap_or(9012);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("listen on 127.0.0.1:{port}"))?;
    let (autoupdate, list_id) = crate::demo::start();
    eprintln!(
        "Demo meeting on http://127.0.0.1:{port}. Requests without a token are public access; \
         tokens are checked with the development keys (see `token --help`). The demo has no \
         restriction rules, so every user sees every value."
    );
    if let Some(list_id) = list_id {
        eprintln!(
            "Watch its list of speakers move:\n  curl -N localhost:{port}/system/autoupdate -d \
             '[{{\"ids\": [{list_id}], \"collection\": \"list_of_speakers\", \"fields\": \
             {{\"speaker_ids\": {{\"type\": \"relation-list\", \"collection\": \"speaker\", \
             \"fields\": {{\"begin_time\": null, \"end_time\": null}}}}}}}}]'"
        );
    }
    crate::service::serve(
        listener,
        autoupdate,
        crate::auth::Auth::development(),
        DEMO_HEARTBEAT,
        None,
        crate::service::shutdown_signal(),
    )
    .await?;
    Ok(())
}
