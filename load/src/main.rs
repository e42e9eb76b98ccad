//! Load tool for the autoupdate service: prepares a large meeting in PostgreSQL, starts
//! the service, opens many streams as different users, writes a series of changes
//! through PostgreSQL and Redis, and measures delivery, CPU time and memory.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod changes;
mod client;
mod message;
mod multipart;
mod procfs;
mod soak;
mod stats;

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use changes::{Change, Kind, Models, Targets};
use clap::Parser;
use client::{Connection, Event, StreamRequest};
use openslides_autoupdate::auth::{DEVELOPMENT_COOKIE_KEY, DEVELOPMENT_TOKEN_KEY};
use openslides_autoupdate::generate::{generate, GenerateOptions};
use serde::Serialize;
use stats::{fmt_ms, Summary};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// The Redis stream the service reads changes from; the service has no setting for it.
const STREAM: &str = "ModifiedFields";

/// CPU time of the service in one settle window that still counts as idle: three clock
/// ticks of 10 ms.
const IDLE_CPU_SECONDS: f64 = 0.03;

#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    #[command(flatten)]
    run: Args,
}

#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Keeps a mix of streams, long polling, bad requests and changes going for
    /// --duration seconds, prints the service's memory over time and checks the values
    /// of a sample of streams at the end.
    Soak(soak::SoakArgs),
}

/// Options of the measurement run: many streams, then each kind of change in turn.
#[derive(clap::Args, Debug)]
struct Args {
    /// Number of streams to open.
    #[arg(long, default_value_t = 100)]
    streams: usize,
    /// Groups of the meeting whose users open the streams, comma separated
    /// (Default, Admin, Delegates, Staff). Users are reused when there are fewer users
    /// than streams.
    #[arg(long, default_value = "Delegates", value_delimiter = ',')]
    users: Vec<String>,
    /// The request bodies, comma separated. Stream i sends file i modulo their number.
    #[arg(
        long,
        default_value = "benches/requests/motion_list.json",
        value_delimiter = ','
    )]
    request: Vec<PathBuf>,
    /// How often each kind of change is written.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// The whole run stops after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// A change has settled when, for this many milliseconds, no stream received
    /// anything and the service was idle.
    #[arg(long, default_value_t = 1000)]
    settle_ms: u64,
    /// Seconds after which the next change is written even if the service is still busy.
    #[arg(long, default_value_t = 120)]
    change_timeout: u64,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    setup: Setup,
}

/// Options shared by the measurement run and `soak`: the database, Redis, the service
/// and the tool's own connections.
#[derive(clap::Args, Debug)]
struct Setup {
    /// Use the data already in the database instead of generating and loading the large
    /// meeting.
    #[arg(long)]
    no_prepare: bool,
    /// PostgreSQL database; created if missing, its content replaced unless --no-prepare.
    #[arg(long, default_value = "autoupdate_load")]
    database: String,
    #[arg(long, default_value = "127.0.0.1")]
    database_host: String,
    #[arg(long, default_value_t = 5432)]
    database_port: u16,
    #[arg(long, default_value = "postgres")]
    database_user: String,

    /// Redis as HOST:PORT. Without it the tool starts its own redis-server on a free
    /// port, because the service's stream name is fixed and another service reading the
    /// same Redis would receive the changes too.
    #[arg(long)]
    redis: Option<String>,
    /// The redis-server binary started without --redis.
    #[arg(long, default_value = "redis-server")]
    redis_server: PathBuf,

    /// The service binary to start.
    #[arg(long, default_value = "target/release/openslides-autoupdate")]
    service: PathBuf,
    /// Measure an already running service at this address (HOST:PORT) instead of
    /// starting one; it must read the same database and Redis. Needs --pid.
    #[arg(long, requires = "pid")]
    url: Option<String>,
    /// Process id of the service at --url, for its memory and CPU time.
    #[arg(long, requires = "url")]
    pid: Option<u32>,
    /// Streams per HTTP/2 connection, at most the server's limit.
    #[arg(long, default_value_t = 100)]
    per_connection: usize,
    /// Worker threads of the tool itself; one leaves the other cores to the service.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
}

/// The processes the tool started; each is stopped at the end.
#[derive(Default)]
struct Processes {
    redis: Option<Child>,
    service: Option<Child>,
}

impl Processes {
    async fn stop(&mut self) {
        for child in [self.service.take(), self.redis.take()]
            .into_iter()
            .flatten()
        {
            stop_child(child).await;
        }
    }
}

/// Sends SIGTERM to a child, and SIGKILL if it has not ended after five seconds.
async fn stop_child(mut child: Child) {
    if let Some(pid) = child.id() {
        // SAFETY: kill only sends a signal, to a process this tool started and has not
        // reaped yet, so the id still names that process.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let setup = match &cli.mode {
        Some(Mode::Soak(soak)) => &soak.setup,
        None => &cli.run.setup,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(setup.client_threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut processes = Processes::default();
        let timeout = match &cli.mode {
            Some(Mode::Soak(soak)) => soak.timeout(),
            None => cli.run.timeout,
        };
        let limit = Duration::from_secs(timeout);
        let result = match &cli.mode {
            Some(Mode::Soak(soak)) => {
                tokio::time::timeout(limit, soak::run(soak, &mut processes)).await
            }
            None => tokio::time::timeout(limit, run(&cli.run, &mut processes)).await,
        };
        processes.stop().await;
        match result {
            Ok(result) => result,
            Err(_) => bail!("stopped after the timeout of {timeout}s"),
        }
    })
}

/// Everything the tool measured.
#[derive(Debug, Default, Serialize)]
struct Report {
    streams: usize,
    connections: usize,
    streams_per_connection: usize,
    server_stream_limit: usize,
    users: usize,
    request: String,
    service_pid: u32,
    first_message: Summary,
    first_message_bytes: u64,
    first_message_cpu_seconds: f64,
    /// CPU time of this tool while the first messages arrived; it shares the cores with
    /// the service.
    first_message_tool_cpu_seconds: f64,
    first_messages_seconds: f64,
    rss_before_bytes: u64,
    rss_after_bytes: u64,
    rss_per_stream_bytes: f64,
    failed_streams: usize,
    stream_errors: Vec<String>,
    changes: Vec<ChangeResult>,
}

/// The measurement of one change.
#[derive(Debug, Serialize)]
struct ChangeResult {
    kind: Kind,
    round: usize,
    description: String,
    key: String,
    keys_written: Vec<String>,
    /// Streams that received a message with `key`.
    streams_with_key: usize,
    /// Streams that received any message.
    streams_with_message: usize,
    /// From the XADD to the arrival of `key` at each stream that received it.
    latency: Summary,
    /// From the XADD to the arrival of the first message at each stream that got one.
    latency_any: Summary,
    cpu_seconds: f64,
    bytes: u64,
    messages: u64,
    postgres_write_ms: f64,
    /// From the XADD to the last message.
    last_message_ms: f64,
    /// Up to ten keys of the first message that arrived for this change.
    sample_keys: Vec<String>,
    /// False when the service was still busy after --change-timeout.
    settled: bool,
    skipped: Option<String>,
}

struct StreamState {
    started: Instant,
    first: Option<Instant>,
    closed: Option<String>,
}

/// The state both modes need before they open streams: the request bodies, the data, Redis,
/// the running service and the users and objects of the meeting.
struct Prepared {
    bodies: Vec<Bytes>,
    postgres: tokio_postgres::Client,
    models: Models,
    redis: redis::aio::MultiplexedConnection,
    /// HOST:PORT of the service.
    authority: String,
    /// Process id of the service.
    pid: u32,
    /// Meeting users of the requested groups as (user id, meeting user fqid).
    members: Vec<(u64, String)>,
    targets: Targets,
}

/// Reads the request files, loads the large meeting unless --no-prepare, and starts
/// Redis and the service unless the setup names running ones.
async fn prepare(
    setup: &Setup,
    users: &[String],
    request: &[PathBuf],
    processes: &mut Processes,
) -> anyhow::Result<Prepared> {
    let mut bodies = Vec::new();
    for path in request {
        let body = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_slice::<serde_json::Value>(&body)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        bodies.push(Bytes::from(body));
    }
    if bodies.is_empty() {
        bail!("--request names no file");
    }

    let postgres = postgres_connect(setup, &setup.database).await;
    let mut postgres = match postgres {
        Ok(client) => client,
        Err(_) if !setup.no_prepare => {
            create_database(setup).await?;
            postgres_connect(setup, &setup.database).await?
        }
        Err(error) => return Err(error),
    };
    if !setup.no_prepare {
        let started = Instant::now();
        let export = generate(&GenerateOptions::large_meeting());
        let count =
            openslides_autoupdate::datastore::schema::load_export(&mut postgres, &export, true)
                .await
                .context("load the large meeting")?;
        eprintln!(
            "loaded the large meeting ({count} objects) into {} in {:.1}s",
            setup.database,
            started.elapsed().as_secs_f64()
        );
    }
    let models = read_models(&postgres).await?;

    let (redis_host, redis_port) = match &setup.redis {
        Some(address) => split_address(address)?,
        None => {
            let port = free_port()?;
            processes.redis = Some(start_redis(&setup.redis_server, port).await?);
            ("127.0.0.1".to_string(), port)
        }
    };
    let mut redis = redis::Client::open(format!("redis://{redis_host}:{redis_port}/"))?
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("connect to Redis at {redis_host}:{redis_port}"))?;
    let readers = stream_readers(&mut redis).await?;

    let (authority, pid) = match (&setup.url, setup.pid) {
        (Some(url), Some(pid)) => {
            let authority = url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string();
            if readers > 1 {
                eprintln!("warning: {readers} clients read streams of this Redis; another service may receive the changes");
            }
            (authority, pid)
        }
        _ => {
            if readers > 0 {
                bail!("{readers} clients already read streams of Redis {redis_host}:{redis_port}; they would receive the changes too. Leave out --redis to use a Redis of the tool's own");
            }
            let port = free_port()?;
            let (child, log) = start_service(setup, &redis_host, redis_port, port).await?;
            let pid = child
                .id()
                .ok_or_else(|| anyhow!("the service ended at once"))?;
            processes.service = Some(child);
            let authority = format!("127.0.0.1:{port}");
            wait_healthy(&authority, processes).await?;
            eprintln!("service pid {pid} on {authority}, log {}", log.display());
            (authority, pid)
        }
    };

    let meeting = models
        .keys()
        .filter_map(|fqid| fqid.strip_prefix("meeting/")?.parse::<u64>().ok())
        .min()
        .map(|id| format!("meeting/{id}"))
        .ok_or_else(|| anyhow!("the database contains no meeting"))?;
    let members = changes::group_members(&models, &meeting, users)?;
    if members.is_empty() {
        bail!("the groups {users:?} of {meeting} have no users");
    }
    let targets = Targets::choose(&models, &members[0].1)?;

    Ok(Prepared {
        bodies,
        postgres,
        models,
        redis,
        authority,
        pid,
        members,
        targets,
    })
}

async fn run(args: &Args, processes: &mut Processes) -> anyhow::Result<()> {
    let Prepared {
        bodies,
        postgres,
        mut models,
        mut redis,
        authority,
        pid,
        members,
        targets,
    } = prepare(&args.setup, &args.users, &args.request, processes).await?;

    let mut report = Report {
        streams: args.streams,
        users: members.len().min(args.streams),
        request: args
            .request
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(","),
        service_pid: pid,
        ..Report::default()
    };

    // Streams.
    let first_connection = Connection::open(&authority).await?;
    report.server_stream_limit = first_connection.max_streams();
    let per_connection = args
        .setup
        .per_connection
        .min(report.server_stream_limit)
        .max(1);
    report.streams_per_connection = per_connection;
    let connection_count = args.streams.div_ceil(per_connection);
    let mut connections = vec![first_connection];
    while connections.len() < connection_count {
        connections.push(Connection::open(&authority).await?);
    }
    report.connections = connections.len();

    report.rss_before_bytes = procfs::rss_bytes(pid)?;
    let cpu_before = procfs::cpu_seconds(pid)?;
    let tool_cpu_before = procfs::cpu_seconds(std::process::id())?;
    let expires = unix_now() + args.timeout as i64 + 3600;
    let (events_in, mut events) = unbounded_channel();
    let mut streams = Vec::with_capacity(args.streams);
    let opened = Instant::now();
    for index in 0..args.streams {
        let user_id = members[index % members.len()].0;
        let (token, cookie) = client::credentials(user_id, &format!("load-{index}"), expires)?;
        streams.push(StreamState {
            started: Instant::now(),
            first: None,
            closed: None,
        });
        connections[index / per_connection].spawn_stream(
            StreamRequest {
                index,
                token,
                cookie,
                query: String::new(),
                body: bodies[index % bodies.len()].clone(),
                received: None,
            },
            events_in.clone(),
        );
    }
    drop(events_in);
    eprintln!(
        "opened {} streams as {} users on {} HTTP/2 connections ({} per connection, server limit {})",
        args.streams,
        report.users,
        connections.len(),
        per_connection,
        report.server_stream_limit
    );

    let mut progress = Instant::now();
    loop {
        let waiting = streams
            .iter()
            .filter(|s| s.first.is_none() && s.closed.is_none())
            .count();
        if waiting == 0 {
            break;
        }
        if progress.elapsed() > Duration::from_secs(5) {
            progress = Instant::now();
            eprintln!(
                "waiting for {waiting} first messages after {:.0}s",
                opened.elapsed().as_secs_f64()
            );
        }
        let Ok(event) = tokio::time::timeout(Duration::from_secs(1), events.recv()).await else {
            continue;
        };
        let Some(event) = event else {
            bail!("every stream ended");
        };
        match event {
            Event::Message {
                stream, at, bytes, ..
            } => {
                let state = &mut streams[stream];
                if state.first.is_none() {
                    state.first = Some(at);
                    report.first_message_bytes += bytes as u64;
                }
            }
            Event::Closed { stream, error } => streams[stream].closed = Some(error),
        }
    }
    report.first_messages_seconds = opened.elapsed().as_secs_f64();
    report.first_message_cpu_seconds = procfs::cpu_seconds(pid)? - cpu_before;
    report.first_message_tool_cpu_seconds =
        procfs::cpu_seconds(std::process::id())? - tool_cpu_before;
    report.rss_after_bytes = procfs::rss_bytes(pid)?;
    report.first_message = Summary::of(
        streams
            .iter()
            .filter_map(|s| Some(s.first? - s.started))
            .collect(),
    );
    let open = streams.iter().filter(|s| s.closed.is_none()).count();
    report.rss_per_stream_bytes =
        (report.rss_after_bytes as f64 - report.rss_before_bytes as f64) / open.max(1) as f64;
    collect_errors(&streams, &mut report);
    print_first(&report);

    // Changes.
    print_change_header();
    for kind in Kind::ALL {
        for round in 0..args.repeat {
            let result = match changes::build(kind, &models, &targets, round, unix_now()) {
                Ok(change) => {
                    let result = measure_change(
                        &change,
                        round,
                        &postgres,
                        &mut redis,
                        &mut events,
                        &mut streams,
                        pid,
                        Duration::from_millis(args.settle_ms),
                        Duration::from_secs(args.change_timeout),
                    )
                    .await?;
                    changes::apply(&mut models, &change);
                    result
                }
                Err(error) => skipped(kind, round, error.to_string()),
            };
            print_change(&result);
            report.changes.push(result);
        }
    }
    collect_errors(&streams, &mut report);
    if report.failed_streams > 0 {
        eprintln!(
            "{} streams failed or ended; first errors: {:?}",
            report.failed_streams, report.stream_errors
        );
    }

    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("write {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}

fn collect_errors(streams: &[StreamState], report: &mut Report) {
    report.failed_streams = streams.iter().filter(|s| s.closed.is_some()).count();
    let mut errors: Vec<String> = streams.iter().filter_map(|s| s.closed.clone()).collect();
    errors.sort();
    errors.dedup();
    errors.truncate(5);
    report.stream_errors = errors;
}

fn skipped(kind: Kind, round: usize, reason: String) -> ChangeResult {
    ChangeResult {
        kind,
        round,
        description: String::new(),
        key: String::new(),
        keys_written: Vec::new(),
        streams_with_key: 0,
        streams_with_message: 0,
        latency: Summary::default(),
        latency_any: Summary::default(),
        cpu_seconds: 0.0,
        bytes: 0,
        messages: 0,
        postgres_write_ms: 0.0,
        last_message_ms: 0.0,
        sample_keys: Vec::new(),
        settled: true,
        skipped: Some(reason),
    }
}

/// Writes one change to PostgreSQL, then to Redis, and collects what the streams
/// receive until nothing arrived for `settle`.
#[allow(clippy::too_many_arguments)]
async fn measure_change(
    change: &Change,
    round: usize,
    postgres: &tokio_postgres::Client,
    redis: &mut redis::aio::MultiplexedConnection,
    events: &mut UnboundedReceiver<Event>,
    streams: &mut [StreamState],
    pid: u32,
    settle: Duration,
    max_wait: Duration,
) -> anyhow::Result<ChangeResult> {
    // Whatever arrived before this change belongs to no change.
    while let Ok(event) = events.try_recv() {
        if let Event::Closed { stream, error } = event {
            streams[stream].closed = Some(error);
        }
    }

    let cpu_before = procfs::cpu_seconds(pid)?;
    let write_start = Instant::now();
    write_postgres(postgres, change).await?;
    let postgres_write = write_start.elapsed();

    let mut xadd = redis::cmd("XADD");
    xadd.arg(STREAM).arg("*");
    for (key, value) in changes::stream_fields(change) {
        xadd.arg(key).arg(value);
    }
    let xadd_at = Instant::now();
    let _: String = xadd.query_async(redis).await.context("XADD")?;

    let mut first_key: HashMap<usize, Instant> = HashMap::new();
    let mut first_any: HashMap<usize, Instant> = HashMap::new();
    let mut bytes = 0u64;
    let mut messages = 0u64;
    let mut last = xadd_at;
    let mut sample_keys = Vec::new();
    // The change has settled when, for a whole window, no stream received anything and
    // the service used (almost) no CPU time. Waiting for messages alone is not enough:
    // the service may compute for seconds before it sends the first one.
    let mut window_start = Instant::now();
    let mut window_cpu = procfs::cpu_seconds(pid)?;
    let mut settled = true;
    loop {
        let deadline = tokio::time::Instant::from_std(window_start + settle);
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(_) => {
                let cpu = procfs::cpu_seconds(pid)?;
                if cpu - window_cpu <= IDLE_CPU_SECONDS {
                    break;
                }
                if xadd_at.elapsed() > max_wait {
                    settled = false;
                    break;
                }
                window_start = Instant::now();
                window_cpu = cpu;
                continue;
            }
        };
        window_start = Instant::now();
        window_cpu = procfs::cpu_seconds(pid)?;
        match event {
            Event::Message {
                stream,
                at,
                bytes: size,
                keys,
            } => {
                bytes += size as u64;
                messages += 1;
                last = last.max(at);
                first_any.entry(stream).or_insert(at);
                if sample_keys.is_empty() {
                    if let Some(keys) = &keys {
                        sample_keys = keys.iter().take(10).cloned().collect();
                    }
                }
                if keys.is_some_and(|keys| keys.contains(&change.key)) {
                    first_key.entry(stream).or_insert(at);
                }
            }
            Event::Closed { stream, error } => streams[stream].closed = Some(error),
        }
    }
    let cpu_seconds = procfs::cpu_seconds(pid)? - cpu_before;
    let latencies = |firsts: &HashMap<usize, Instant>| {
        Summary::of(
            firsts
                .values()
                .map(|at| at.saturating_duration_since(xadd_at))
                .collect(),
        )
    };
    Ok(ChangeResult {
        kind: change.kind,
        round,
        description: change.description.clone(),
        key: change.key.clone(),
        keys_written: change.writes.iter().map(changes::Write::key).collect(),
        streams_with_key: first_key.len(),
        streams_with_message: first_any.len(),
        latency: latencies(&first_key),
        latency_any: latencies(&first_any),
        cpu_seconds,
        bytes,
        messages,
        postgres_write_ms: postgres_write.as_secs_f64() * 1000.0,
        last_message_ms: (last - xadd_at).as_secs_f64() * 1000.0,
        sample_keys,
        settled,
        skipped: None,
    })
}

async fn write_postgres(client: &tokio_postgres::Client, change: &Change) -> anyhow::Result<()> {
    let statement = client
        .prepare("UPDATE models SET data = (data || $2::jsonb) - $3::text[] WHERE fqid = $1")
        .await?;
    client.batch_execute("BEGIN").await?;
    for (fqid, (set, deleted)) in changes::by_object(change) {
        let data = tokio_postgres::types::Json(serde_json::Value::Object(set));
        let rows = client
            .execute(&statement, &[&fqid, &data, &deleted])
            .await
            .with_context(|| format!("update {fqid}"))?;
        if rows != 1 {
            client.batch_execute("ROLLBACK").await?;
            bail!("{fqid} is not in the datastore");
        }
    }
    client.batch_execute("COMMIT").await?;
    Ok(())
}

fn print_first(report: &Report) {
    let mb = |bytes: f64| bytes / 1024.0 / 1024.0;
    println!();
    println!(
        "streams {} ({} users, {} connections), request {}",
        report.streams, report.users, report.connections, report.request
    );
    println!(
        "first message: p50 {} ms, p99 {} ms, max {} ms; all within {:.2}s; {:.1} MB received; CPU {:.2}s service, {:.2}s this tool",
        fmt_ms(report.first_message.p50_ms),
        fmt_ms(report.first_message.p99_ms),
        fmt_ms(report.first_message.max_ms),
        report.first_messages_seconds,
        mb(report.first_message_bytes as f64),
        report.first_message_cpu_seconds,
        report.first_message_tool_cpu_seconds
    );
    println!(
        "service RSS: {:.1} MB before, {:.1} MB after, {:.1} KB per open stream",
        mb(report.rss_before_bytes as f64),
        mb(report.rss_after_bytes as f64),
        report.rss_per_stream_bytes / 1024.0
    );
    if report.failed_streams > 0 {
        println!(
            "{} streams failed: {:?}",
            report.failed_streams, report.stream_errors
        );
    }
    println!();
}

fn print_change_header() {
    println!(
        "{:<26} {:>2} {:<34} {:>6} {:>6} {:>8} {:>8} {:>8} {:>9} {:>7} {:>10}",
        "change",
        "#",
        "key",
        "w/ key",
        "any",
        "p50 ms",
        "p99 ms",
        "max ms",
        "any max",
        "CPU s",
        "bytes"
    );
}

fn print_change(result: &ChangeResult) {
    if let Some(reason) = &result.skipped {
        println!(
            "{:<26} {:>2} skipped: {reason}",
            result.kind.name(),
            result.round + 1
        );
        return;
    }
    println!(
        "{:<26} {:>2} {:<34} {:>6} {:>6} {:>8} {:>8} {:>8} {:>9} {:>7.2} {:>10}{}",
        result.kind.name(),
        result.round + 1,
        result.key,
        result.streams_with_key,
        result.streams_with_message,
        fmt_ms(result.latency.p50_ms),
        fmt_ms(result.latency.p99_ms),
        fmt_ms(result.latency.max_ms),
        fmt_ms(result.latency_any.max_ms),
        result.cpu_seconds,
        result.bytes,
        if result.settled { "" } else { " (not settled)" }
    );
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn split_address(address: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("{address} is not HOST:PORT"))?;
    Ok((host.to_string(), port.parse().context("invalid port")?))
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

async fn postgres_connect(args: &Setup, database: &str) -> anyhow::Result<tokio_postgres::Client> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&args.database_host)
        .port(args.database_port)
        .user(&args.database_user)
        .dbname(database)
        .application_name("autoupdate-load");
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connect to database {database}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn create_database(args: &Setup) -> anyhow::Result<()> {
    if !args
        .database
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!("the database name may contain letters, digits and _ only");
    }
    let client = postgres_connect(args, "postgres").await?;
    client
        .batch_execute(&format!("CREATE DATABASE \"{}\"", args.database))
        .await
        .with_context(|| format!("create database {}", args.database))?;
    eprintln!("created database {}", args.database);
    Ok(())
}

async fn read_models(client: &tokio_postgres::Client) -> anyhow::Result<Models> {
    let rows = client
        .query("SELECT fqid, data FROM models WHERE NOT deleted", &[])
        .await
        .context("read the models")?;
    let mut models = Models::new();
    for row in rows {
        let fqid: String = row.get(0);
        let data: serde_json::Value = row.get(1);
        if let serde_json::Value::Object(object) = data {
            models.insert(fqid, object);
        }
    }
    Ok(models)
}

/// Number of Redis clients blocked in or last running XREAD.
async fn stream_readers(redis: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<usize> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(redis)
        .await
        .context("CLIENT LIST")?;
    Ok(list
        .lines()
        .filter(|line| line.contains("cmd=xread"))
        .count())
}

fn work_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("autoupdate-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    Ok(dir)
}

async fn start_redis(binary: &PathBuf, port: u16) -> anyhow::Result<Child> {
    let child = Command::new(binary)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("start {}", binary.display()))?;
    let url = format!("redis://127.0.0.1:{port}/");
    for _ in 0..50 {
        if let Ok(mut connection) = redis::Client::open(url.as_str())?
            .get_multiplexed_async_connection()
            .await
        {
            let pong: redis::RedisResult<String> =
                redis::cmd("PING").query_async(&mut connection).await;
            if pong.is_ok() {
                return Ok(child);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("redis-server on port {port} did not respond to PING within 5s")
}

async fn start_service(
    args: &Setup,
    redis_host: &str,
    redis_port: u16,
    port: u16,
) -> anyhow::Result<(Child, PathBuf)> {
    let dir = work_dir()?;
    let token_key = dir.join("auth_token_key");
    let cookie_key = dir.join("auth_cookie_key");
    std::fs::write(&token_key, DEVELOPMENT_TOKEN_KEY)?;
    std::fs::write(&cookie_key, DEVELOPMENT_COOKIE_KEY)?;
    // Nothing listens on this port, so the service's vote connection fails locally.
    let vote_port = free_port()?;
    let log = dir.join("service.log");
    let log_file = std::fs::File::create(&log)?;
    let child = Command::new(&args.service)
        .env("AUTOUPDATE_HOST", "127.0.0.1")
        .env("AUTOUPDATE_PORT", port.to_string())
        .env("MESSAGE_BUS_HOST", redis_host)
        .env("MESSAGE_BUS_PORT", redis_port.to_string())
        .env("DATABASE_HOST", &args.database_host)
        .env("DATABASE_PORT", args.database_port.to_string())
        .env("DATABASE_NAME", &args.database)
        .env("DATABASE_USER", &args.database_user)
        .env("OPENSLIDES_DEVELOPMENT", "true")
        .env("AUTH_FAKE", "false")
        .env("AUTH_TOKEN_KEY_FILE", &token_key)
        .env("AUTH_COOKIE_KEY_FILE", &cookie_key)
        .env("DISABLE_CONNECTION_COUNT", "true")
        .env("METRIC_INTERVAL", "0")
        .env("VOTE_HOST", "127.0.0.1")
        .env("VOTE_PORT", vote_port.to_string())
        .env_remove("CERT_FILE")
        .env_remove("KEY_FILE")
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("start {}", args.service.display()))?;
    Ok((child, log))
}

async fn wait_healthy(authority: &str, processes: &mut Processes) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Some(child) = processes.service.as_mut() {
            if let Some(status) = child.try_wait()? {
                bail!("the service ended with {status}");
            }
        }
        match Connection::open(authority).await {
            Ok(_) => return Ok(()),
            Err(error) if started.elapsed() > Duration::from_secs(30) => {
                return Err(error.context("the service did not become healthy within 30s"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
