//! Soak run: long-lived and short streams, long polling, bad requests and changes for a
//! bounded time, with the service's memory over time. At the end, the values of a sample
//! of long-lived streams are compared with a fresh request.

use crate::changes::{self, Kind, Models, Targets};
use crate::client::{self, Connection, Event, Received, StreamRequest, Values};
use crate::{multipart, prepare, procfs, unix_now, write_postgres, Prepared, Processes, Setup};
use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::unbounded_channel;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Seconds the tool may need besides --duration: preparing the data, opening the
/// long-lived streams, settling and the check.
const EXTRA_SECONDS: u64 = 900;

/// Time the long-lived streams have for their first messages before the load starts
/// anyway.
const FIRST_MESSAGES_TIMEOUT: Duration = Duration::from_secs(300);

/// Differences kept per checked stream for the JSON output; the rest are only counted.
const LISTED_DIFFERENCES: usize = 200;

/// Differences printed per checked stream.
const PRINTED_DIFFERENCES: usize = 5;

#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// Seconds of mixed load.
    #[arg(long, default_value_t = 600)]
    duration: u64,
    /// Seconds between two progress lines.
    #[arg(long, default_value_t = 10)]
    interval: u64,
    /// Long-lived streams, opened at the start and kept open to the end.
    #[arg(long, default_value_t = 200)]
    streams: usize,
    /// Long-lived streams whose values are compared with a fresh request at the end.
    #[arg(long, default_value_t = 20)]
    check_streams: usize,
    /// Short streams opened per second. Each is reset after a random time up to
    /// --short-max-seconds; a third of them within 20 ms, mostly before the first
    /// message.
    #[arg(long, default_value_t = 2.0)]
    short_per_second: f64,
    /// Maximum life of a short stream in seconds.
    #[arg(long, default_value_t = 10)]
    short_max_seconds: u64,
    /// Clients that long poll in a loop, each polling again with the hash of its last
    /// response.
    #[arg(long, default_value_t = 4)]
    long_pollers: usize,
    /// Seconds a long poll may wait for a change before the client gives up and starts
    /// over without a hash.
    #[arg(long, default_value_t = 120)]
    long_poll_timeout: u64,
    /// Bad requests per minute: invalid JSON, unknown fields and collections, invalid
    /// keys, a multipart body without hash and a body over the size limit, in turn.
    #[arg(long, default_value_t = 30)]
    bad_per_minute: u32,
    /// Changes per second, of the kinds in turn: motion title, speaker, poll, motion
    /// state, user group, group permission, unrelated field.
    #[arg(long, default_value_t = 1.0)]
    changes_per_second: f64,
    /// Groups of the meeting whose users open the streams, comma separated. The users
    /// are spread over the members of these groups.
    #[arg(
        long,
        default_value = "Delegates,Default,Staff,Admin",
        value_delimiter = ','
    )]
    users: Vec<String>,
    /// The request bodies, comma separated; long-lived stream i sends file i modulo
    /// their number, the short streams and long polls take them in turn.
    #[arg(
        long,
        default_value = "benches/requests/motion_list.json,benches/requests/agenda.json,benches/requests/projector.json,benches/requests/meeting_detail.json,benches/requests/speakers_and_polls.json,benches/requests/motion_list_without_usernames.json",
        value_delimiter = ','
    )]
    request: Vec<PathBuf>,
    /// Write the samples and the summary as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    pub setup: Setup,
}

impl SoakArgs {
    /// Returns the seconds after which the whole run stops.
    pub fn timeout(&self) -> u64 {
        self.duration + EXTRA_SECONDS
    }
}

/// Counters that every part of the load updates.
#[derive(Default)]
struct Counters {
    /// Streams and long polls opened.
    opened: AtomicU64,
    /// Streams and long polls that ended or were reset.
    closed: AtomicU64,
    /// Short streams reset before their first message.
    closed_before_first: AtomicU64,
    changes: AtomicU64,
    /// Stream messages and long polling responses received.
    messages: AtomicU64,
    /// Bad requests that got a 4xx status.
    rejected: AtomicU64,
    /// Errors by kind, with the first message of each kind.
    errors: Mutex<BTreeMap<&'static str, (u64, String)>>,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts an error and prints the first of each kind.
    fn error(&self, kind: &'static str, detail: String) {
        let Ok(mut errors) = self.errors.lock() else {
            return;
        };
        let entry = errors.entry(kind).or_insert_with(|| {
            eprintln!("error {kind}: {detail}");
            (0, detail)
        });
        entry.0 += 1;
    }

    fn errors(&self) -> BTreeMap<&'static str, (u64, String)> {
        self.errors
            .lock()
            .map(|errors| errors.clone())
            .unwrap_or_default()
    }
}

/// One progress line.
#[derive(Debug, Clone, Serialize)]
struct Sample {
    elapsed_seconds: f64,
    rss_bytes: u64,
    cpu_seconds: f64,
    open_streams: u64,
    opened: u64,
    closed: u64,
    closed_before_first: u64,
    changes: u64,
    messages: u64,
    bad_requests_rejected: u64,
    errors: BTreeMap<&'static str, u64>,
}

/// RSS over the whole run.
#[derive(Debug, Default, Serialize)]
struct Memory {
    first_bytes: u64,
    min_bytes: u64,
    max_bytes: u64,
    last_bytes: u64,
    /// Least-squares slope over the samples of the second half of the run.
    growth_bytes_per_hour: f64,
}

/// The comparison of one long-lived stream with a fresh request by the same user.
#[derive(Debug, Serialize)]
struct StreamCheck {
    stream: usize,
    user_id: u64,
    request: String,
    keys: usize,
    /// Messages the stream received, the first included.
    messages: u64,
    /// Keys that a `null` in a message removed.
    deleted: u64,
    fresh_keys: usize,
    /// Keys the fresh request has and the stream lacks.
    missing: usize,
    /// Keys the stream has and the fresh request lacks.
    extra: usize,
    /// Those of the `extra` keys whose object has no key in the fresh request at all.
    /// The service sends no `null` for keys that leave the view because no relation
    /// reaches their object anymore, so the stream keeps them.
    extra_of_absent_objects: usize,
    /// Keys with different values.
    different: usize,
    /// Up to `LISTED_DIFFERENCES` differences as `KEY: stream VALUE, fresh VALUE`.
    examples: Vec<String>,
}

#[derive(Debug, Serialize)]
struct SoakReport {
    duration_seconds: u64,
    streams: usize,
    users: usize,
    request: Vec<String>,
    service_pid: u32,
    samples: Vec<Sample>,
    memory: Memory,
    errors: BTreeMap<&'static str, (u64, String)>,
    checks: Vec<StreamCheck>,
    failures: Vec<String>,
}

/// The purpose of a stream: a long-lived stream must not end, a short one is reset.
#[derive(Clone, Copy, PartialEq)]
enum Life {
    Long,
    Short(Duration),
}

/// A user and the request body it sends.
#[derive(Clone)]
struct Client {
    user_id: u64,
    token: String,
    cookie: String,
    body: Bytes,
}

/// Shared state of the tasks that generate load.
#[derive(Clone)]
struct Load {
    counters: Arc<Counters>,
    short: Arc<ShortConnection>,
    clients: Arc<Vec<Client>>,
    stop: watch::Receiver<bool>,
}

/// The HTTP/2 connection of the short streams, long polls and bad requests, opened again
/// when the server closed it.
struct ShortConnection {
    authority: String,
    connection: tokio::sync::Mutex<Connection>,
}

impl ShortConnection {
    async fn get(&self, counters: &Counters) -> anyhow::Result<Connection> {
        let mut connection = self.connection.lock().await;
        if !connection.is_open().await {
            counters.error(
                "connection closed",
                "the server closed the connection of the short streams".into(),
            );
            *connection = Connection::open(&self.authority).await?;
        }
        Ok(connection.clone())
    }
}

pub async fn run(args: &SoakArgs, processes: &mut Processes) -> anyhow::Result<()> {
    if args.short_per_second <= 0.0 || args.changes_per_second <= 0.0 {
        bail!("--short-per-second and --changes-per-second must be greater than 0");
    }
    let prepared = prepare(&args.setup, &args.users, &args.request, processes).await?;
    let pid = prepared.pid;
    let expires = unix_now() + args.timeout() as i64 + 3600;
    let clients = clients(&prepared, args.streams.max(1), expires)?;
    let counters = Arc::new(Counters::default());

    // Long-lived streams.
    let tracked: Vec<Arc<Mutex<Received>>> = (0..args.check_streams.min(args.streams))
        .map(|_| Arc::new(Mutex::new(Received::default())))
        .collect();
    let mut long_lived = open_long_lived(args, &prepared, &clients, &tracked, &counters).await?;

    // Mixed load.
    let (stop_sender, stop) = watch::channel(false);
    let load = Load {
        counters: counters.clone(),
        short: Arc::new(ShortConnection {
            authority: prepared.authority.clone(),
            connection: tokio::sync::Mutex::new(Connection::open(&prepared.authority).await?),
        }),
        clients: Arc::new(clients.clone()),
        stop,
    };
    let Prepared {
        postgres,
        models,
        redis,
        targets,
        members,
        ..
    } = prepared;
    let targets = with_permission_group(targets, &models, &members)?;
    let mut drivers = JoinSet::new();
    drivers.spawn(short_streams(
        load.clone(),
        args.short_per_second,
        args.short_max_seconds,
    ));
    for poller in 0..args.long_pollers {
        drivers.spawn(long_poller(
            load.clone(),
            poller,
            Duration::from_secs(args.long_poll_timeout),
        ));
    }
    drivers.spawn(bad_requests(load.clone(), args.bad_per_minute));
    let writer = tokio::spawn(write_changes(
        load.clone(),
        postgres,
        redis,
        models,
        targets,
        args.changes_per_second,
    ));

    let samples = sample_until(args, pid, &counters).await?;
    let _ = stop_sender.send(true);
    drivers.abort_all();
    while drivers.join_next().await.is_some() {}
    if let Err(error) = writer.await {
        counters.error("change failed", format!("the change task failed: {error}"));
    }

    // Check.
    eprintln!("load stopped, waiting until the service is idle");
    settle(pid, &counters).await?;
    let short = load.short.get(&counters).await?;
    let mut checks = Vec::new();
    for (index, received) in tracked.iter().enumerate() {
        let check = check_stream(&short, index, &clients[index], received, args).await?;
        checks.push(check);
    }
    long_lived.abort_all();

    let report = SoakReport {
        duration_seconds: args.duration,
        streams: args.streams,
        users: distinct_users(&clients),
        request: args
            .request
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
        service_pid: pid,
        memory: memory(&samples),
        samples,
        errors: counters.errors(),
        failures: failures(&counters, &checks),
        checks,
    };
    print_summary(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("write {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    if !report.failures.is_empty() {
        bail!("the soak run failed: {}", report.failures.join("; "));
    }
    Ok(())
}

/// Returns the targets of the first member who is in a group besides the admin group, so
/// that the group permission change has a group. The measurement run takes the first
/// member, which may be the superadmin, who is only in the admin group.
fn with_permission_group(
    targets: Targets,
    models: &Models,
    members: &[(u64, String)],
) -> anyhow::Result<Targets> {
    if targets.permission_group.is_some() {
        return Ok(targets);
    }
    members
        .iter()
        .filter_map(|(_, member)| Targets::choose(models, member).ok())
        .find(|targets| targets.permission_group.is_some())
        .ok_or_else(|| anyhow!("no member of the groups is in a group besides Admin"))
}

/// Chooses one client per long-lived stream, spread over the members of the groups so
/// that every group takes part, with the request files in turn.
fn clients(prepared: &Prepared, count: usize, expires: i64) -> anyhow::Result<Vec<Client>> {
    let members = &prepared.members;
    let mut clients = Vec::with_capacity(count);
    for index in 0..count {
        let user_id = members[index * members.len() / count % members.len()].0;
        let (token, cookie) = client::credentials(user_id, &format!("soak-{index}"), expires)?;
        clients.push(Client {
            user_id,
            token,
            cookie,
            body: prepared.bodies[index % prepared.bodies.len()].clone(),
        });
    }
    Ok(clients)
}

fn distinct_users(clients: &[Client]) -> usize {
    let mut users: Vec<u64> = clients.iter().map(|client| client.user_id).collect();
    users.sort_unstable();
    users.dedup();
    users.len()
}

/// Opens the long-lived streams and waits for their first messages. The first
/// `tracked.len()` streams keep their values for the check.
async fn open_long_lived(
    args: &SoakArgs,
    prepared: &Prepared,
    clients: &[Client],
    tracked: &[Arc<Mutex<Received>>],
    counters: &Arc<Counters>,
) -> anyhow::Result<JoinSet<()>> {
    let first_connection = Connection::open(&prepared.authority).await?;
    let per_connection = args
        .setup
        .per_connection
        .min(first_connection.max_streams())
        .max(1);
    let mut connections = vec![first_connection];
    while connections.len() < args.streams.div_ceil(per_connection) {
        connections.push(Connection::open(&prepared.authority).await?);
    }

    let (first_in, mut firsts) = unbounded_channel();
    let mut streams = JoinSet::new();
    for (index, client) in clients.iter().enumerate().take(args.streams) {
        let request = StreamRequest {
            index,
            token: client.token.clone(),
            cookie: client.cookie.clone(),
            query: String::new(),
            body: client.body.clone(),
            received: tracked.get(index).cloned(),
        };
        streams.spawn(watch_stream(
            connections[index / per_connection].clone(),
            request,
            Life::Long,
            counters.clone(),
            Some(first_in.clone()),
        ));
    }
    drop(first_in);

    let opened = Instant::now();
    let mut waiting = args.streams;
    while waiting > 0 && opened.elapsed() < FIRST_MESSAGES_TIMEOUT {
        match tokio::time::timeout(Duration::from_secs(10), firsts.recv()).await {
            Ok(Some(_)) => waiting -= 1,
            Ok(None) => break,
            Err(_) => eprintln!(
                "waiting for {waiting} first messages after {:.0}s",
                opened.elapsed().as_secs_f64()
            ),
        }
    }
    eprintln!(
        "{} long-lived streams on {} connections received their first message in {:.1}s",
        args.streams - waiting,
        connections.len(),
        opened.elapsed().as_secs_f64()
    );
    Ok(streams)
}

/// Runs one stream and counts what it receives until it ends or, for a short stream,
/// until its life is over and the tool resets it. `first` gets the stream's index at its
/// first message.
async fn watch_stream(
    connection: Connection,
    request: StreamRequest,
    life: Life,
    counters: Arc<Counters>,
    first: Option<tokio::sync::mpsc::UnboundedSender<usize>>,
) {
    let index = request.index;
    let (events_in, mut events) = unbounded_channel();
    Counters::add(&counters.opened);
    let stream = connection.spawn_stream(request, events_in);

    let reset = async {
        match life {
            Life::Long => std::future::pending().await,
            Life::Short(after) => tokio::time::sleep(after).await,
        }
    };
    tokio::pin!(reset);

    let mut got_first = false;
    let mut ended = None;
    loop {
        tokio::select! {
            () = &mut reset => break,
            event = events.recv() => match event {
                Some(Event::Message { .. }) => {
                    Counters::add(&counters.messages);
                    if !got_first {
                        got_first = true;
                        if let Some(first) = &first {
                            let _ = first.send(index);
                        }
                    }
                }
                Some(Event::Closed { error, .. }) => {
                    ended = Some(error);
                    break;
                }
                None => {
                    ended = Some("the stream task ended".into());
                    break;
                }
            },
        }
    }

    stream.abort();
    Counters::add(&counters.closed);
    if !got_first && ended.is_none() {
        Counters::add(&counters.closed_before_first);
    }
    if let Some(error) = ended {
        let kind = match life {
            Life::Long => "long-lived stream ended",
            Life::Short(_) => "short stream ended",
        };
        counters.error(kind, format!("stream {index}: {error}"));
    }
}

/// Opens `per_second` short streams per second with random lives.
async fn short_streams(load: Load, per_second: f64, max_seconds: u64) {
    let mut streams = JoinSet::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    let mut random = Random::new(0x5eed);
    let mut next = 0usize;
    loop {
        ticker.tick().await;
        while streams.try_join_next().is_some() {}
        let connection = match load.short.get(&load.counters).await {
            Ok(connection) => connection,
            Err(error) => {
                load.counters
                    .error("connect failed", format!("short streams: {error:#}"));
                continue;
            }
        };
        let client = &load.clients[next % load.clients.len()];
        let life = if next.is_multiple_of(3) {
            Duration::from_millis(random.below(20))
        } else {
            Duration::from_millis(random.below(max_seconds.max(1) * 1000))
        };
        let request = StreamRequest {
            index: next,
            token: client.token.clone(),
            cookie: client.cookie.clone(),
            query: String::new(),
            body: client.body.clone(),
            received: None,
        };
        streams.spawn(watch_stream(
            connection,
            request,
            Life::Short(life),
            load.counters.clone(),
            None,
        ));
        next += 1;
    }
}

/// Long polls in a loop: the first poll with `?longpolling=1` and a JSON body, each
/// following one with a multipart body of the request and the hash of the last response.
async fn long_poller(load: Load, poller: usize, timeout: Duration) {
    // Long pollers use the clients from the end, so they differ from the checked streams.
    let client = &load.clients[load.clients.len() - 1 - poller % load.clients.len()];
    let mut hash: Option<Vec<u8>> = None;
    loop {
        let connection = match load.short.get(&load.counters).await {
            Ok(connection) => connection,
            Err(error) => {
                load.counters
                    .error("connect failed", format!("long poller {poller}: {error:#}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (path, content_type, body) = match &hash {
            None => (
                "/system/autoupdate?longpolling=1",
                "application/json".to_string(),
                client.body.clone(),
            ),
            Some(hash) => {
                let (content_type, body) =
                    multipart::body(&[("request", &client.body), ("hash", hash)]);
                ("/system/autoupdate", content_type, body)
            }
        };
        Counters::add(&load.counters.opened);
        let poll = connection.request(path, &client.token, &client.cookie, &content_type, body);
        let response = tokio::time::timeout(timeout, poll).await;
        Counters::add(&load.counters.closed);
        hash = match response {
            Err(_) => {
                let detail = format!("long poller {poller}: no response within {timeout:?}");
                load.counters.error("long poll timed out", detail);
                None
            }
            Ok(Err(error)) => {
                let detail = format!("long poller {poller}: {error:#}");
                load.counters.error("long poll failed", detail);
                tokio::time::sleep(Duration::from_secs(1)).await;
                None
            }
            Ok(Ok(response)) => match long_poll_hash(&response) {
                Ok(hash) => {
                    Counters::add(&load.counters.messages);
                    Some(hash)
                }
                Err(error) => {
                    let detail = format!("long poller {poller}: {error:#}");
                    load.counters.error("long poll failed", detail);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    None
                }
            },
        };
    }
}

/// Checks a long polling response and returns its hash.
fn long_poll_hash(response: &client::CompleteResponse) -> anyhow::Result<Vec<u8>> {
    if !response.status.is_success() {
        bail!(
            "status {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body).trim()
        );
    }
    let data = multipart::part(&response.content_type, &response.body, "data")?;
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(data)
        .context("the data part is not a JSON object")?;
    Ok(multipart::part(&response.content_type, &response.body, "hash")?.to_vec())
}

/// A request the service must reject with a 4xx status.
struct BadRequest {
    name: &'static str,
    query: &'static str,
    content_type: String,
    body: Bytes,
}

fn bad_request_kinds() -> Vec<BadRequest> {
    let json = |name, query, body: &'static str| BadRequest {
        name,
        query,
        content_type: "application/json".into(),
        body: Bytes::from_static(body.as_bytes()),
    };
    let request = br#"[{"collection": "motion", "ids": [1], "fields": {"title": null}}]"#;
    let (multipart_type, multipart_body) = multipart::body(&[("request", request)]);
    let mut oversized = vec![b' '; openslides_autoupdate::http::MAX_BODY_BYTES + 1];
    oversized[0] = b'[';
    if let Some(last) = oversized.last_mut() {
        *last = b']';
    }
    vec![
        json("invalid JSON", "", r#"[{"collection": "motion", "ids": [1"#),
        json(
            "unknown field",
            "",
            r#"[{"collection": "motion", "ids": [1], "fields": {"no_such_field": null}}]"#,
        ),
        json(
            "unknown collection",
            "",
            r#"[{"collection": "no_such_collection", "ids": [1], "fields": {"title": null}}]"#,
        ),
        json("invalid key", "?k=motion/x/title", ""),
        BadRequest {
            name: "multipart without hash",
            query: "",
            content_type: multipart_type,
            body: multipart_body,
        },
        BadRequest {
            name: "oversized body",
            query: "",
            content_type: "application/json".into(),
            body: Bytes::from(oversized),
        },
    ]
}

/// Sends `per_minute` bad requests per minute, of the kinds in turn.
async fn bad_requests(load: Load, per_minute: u32) {
    if per_minute == 0 {
        return;
    }
    let kinds = bad_request_kinds();
    let client = &load.clients[0];
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(60.0 / per_minute as f64));
    for round in 0usize.. {
        ticker.tick().await;
        let kind = &kinds[round % kinds.len()];
        let connection = match load.short.get(&load.counters).await {
            Ok(connection) => connection,
            Err(error) => {
                load.counters
                    .error("connect failed", format!("bad requests: {error:#}"));
                continue;
            }
        };
        let path = format!("/system/autoupdate{}", kind.query);
        let response = connection
            .request(
                &path,
                &client.token,
                &client.cookie,
                &kind.content_type,
                kind.body.clone(),
            )
            .await;
        match response {
            Ok(response) if response.status.is_client_error() => {
                Counters::add(&load.counters.rejected)
            }
            Ok(response) => load.counters.error(
                "bad request not rejected",
                format!("{}: status {}", kind.name, response.status),
            ),
            Err(error) => load
                .counters
                .error("bad request failed", format!("{}: {error:#}", kind.name)),
        }
    }
}

/// Writes `per_second` changes per second, of the kinds in `Kind::SOAK` in turn, until
/// the load stops.
async fn write_changes(
    load: Load,
    postgres: tokio_postgres::Client,
    mut redis: redis::aio::MultiplexedConnection,
    mut models: Models,
    targets: Targets,
    per_second: f64,
) {
    let mut stop = load.stop.clone();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    let mut rounds = [0usize; Kind::SOAK.len()];
    for turn in 0usize.. {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let slot = turn % Kind::SOAK.len();
        let kind = Kind::SOAK[slot];
        let round = rounds[slot];
        rounds[slot] += 1;
        let result = async {
            let change = changes::build_repeating(kind, &models, &targets, round, unix_now())?;
            write_postgres(&postgres, &change).await?;
            let mut xadd = redis::cmd("XADD");
            xadd.arg(crate::STREAM).arg("*");
            for (key, value) in changes::stream_fields(&change) {
                xadd.arg(key).arg(value);
            }
            let _: String = xadd.query_async(&mut redis).await.context("XADD")?;
            changes::apply(&mut models, &change);
            anyhow::Ok(())
        }
        .await;
        match result {
            Ok(()) => Counters::add(&load.counters.changes),
            Err(error) => load
                .counters
                .error("change failed", format!("{}: {error:#}", kind.name())),
        }
    }
}

/// Prints a progress line every --interval seconds until --duration is over, and
/// returns the samples.
async fn sample_until(
    args: &SoakArgs,
    pid: u32,
    counters: &Counters,
) -> anyhow::Result<Vec<Sample>> {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(args.interval.max(1)));
    let mut samples = Vec::new();
    print_header();
    loop {
        ticker.tick().await;
        let sample = sample(started, pid, counters)?;
        print_sample(&sample);
        samples.push(sample);
        if started.elapsed() >= Duration::from_secs(args.duration) {
            return Ok(samples);
        }
    }
}

fn sample(started: Instant, pid: u32, counters: &Counters) -> anyhow::Result<Sample> {
    let opened = Counters::get(&counters.opened);
    let closed = Counters::get(&counters.closed);
    Ok(Sample {
        elapsed_seconds: started.elapsed().as_secs_f64(),
        rss_bytes: procfs::rss_bytes(pid)?,
        cpu_seconds: procfs::cpu_seconds(pid)?,
        open_streams: opened.saturating_sub(closed),
        opened,
        closed,
        closed_before_first: Counters::get(&counters.closed_before_first),
        changes: Counters::get(&counters.changes),
        messages: Counters::get(&counters.messages),
        bad_requests_rejected: Counters::get(&counters.rejected),
        errors: counters
            .errors()
            .into_iter()
            .map(|(kind, (count, _))| (kind, count))
            .collect(),
    })
}

/// Waits until, for two seconds, no stream received anything and the service was idle,
/// at most two minutes.
async fn settle(pid: u32, counters: &Counters) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut messages = Counters::get(&counters.messages);
    let mut cpu = procfs::cpu_seconds(pid)?;
    while started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now_messages = Counters::get(&counters.messages);
        let now_cpu = procfs::cpu_seconds(pid)?;
        if now_messages == messages && now_cpu - cpu <= crate::IDLE_CPU_SECONDS {
            return Ok(());
        }
        messages = now_messages;
        cpu = now_cpu;
    }
    eprintln!("the service was still busy after 120s; checking anyway");
    Ok(())
}

/// Compares the values a stream accumulated with a fresh `single` request by the same
/// user.
async fn check_stream(
    connection: &Connection,
    index: usize,
    client: &Client,
    received: &Mutex<Received>,
    args: &SoakArgs,
) -> anyhow::Result<StreamCheck> {
    let response = connection
        .request(
            "/system/autoupdate?single=1",
            &client.token,
            &client.cookie,
            "application/json",
            client.body.clone(),
        )
        .await
        .with_context(|| format!("fresh request for stream {index}"))?;
    if !response.status.is_success() {
        bail!(
            "fresh request for stream {index}: status {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body).trim()
        );
    }
    let fresh: Values = serde_json::from_slice(response.body.trim_ascii_end())
        .with_context(|| format!("fresh response for stream {index} is not a JSON object"))?;
    let fresh: Values = fresh.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let received = received
        .lock()
        .map_err(|_| anyhow!("the values of stream {index} were poisoned"))?;

    let differences = compare(&received.values, &fresh);
    Ok(StreamCheck {
        stream: index,
        user_id: client.user_id,
        request: args.request[index % args.request.len()]
            .display()
            .to_string(),
        keys: received.values.len(),
        messages: received.messages,
        deleted: received.deleted,
        fresh_keys: fresh.len(),
        missing: differences.missing,
        extra: differences.extra,
        extra_of_absent_objects: differences.extra_of_absent_objects,
        different: differences.different,
        examples: differences.examples,
    })
}

/// Returns the `collection/id` part of a key.
fn fqid_of(key: &str) -> &str {
    key.rsplit_once('/').map_or(key, |(fqid, _)| fqid)
}

/// The keys in which the values of a stream and of a fresh request differ.
#[derive(Debug, Default, PartialEq)]
struct Differences {
    missing: usize,
    extra: usize,
    extra_of_absent_objects: usize,
    different: usize,
    examples: Vec<String>,
}

fn compare(values: &Values, fresh: &Values) -> Differences {
    let mut differences = Differences::default();
    let fresh_objects: HashSet<&str> = fresh.keys().map(|key| fqid_of(key)).collect();
    let mut keys: Vec<&String> = fresh.keys().chain(values.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let (stream_value, fresh_value) = (values.get(key), fresh.get(key));
        match (stream_value, fresh_value) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => differences.different += 1,
            (None, Some(_)) => differences.missing += 1,
            (Some(_), None) => {
                differences.extra += 1;
                if !fresh_objects.contains(fqid_of(key)) {
                    differences.extra_of_absent_objects += 1;
                }
            }
            (None, None) => continue,
        }
        if differences.examples.len() < LISTED_DIFFERENCES {
            let show = |value: Option<&serde_json::Value>| {
                value.map_or("no value".to_string(), |v| v.to_string())
            };
            differences.examples.push(format!(
                "{key}: stream {}, fresh {}",
                show(stream_value),
                show(fresh_value)
            ));
        }
    }
    differences
}

fn failures(counters: &Counters, checks: &[StreamCheck]) -> Vec<String> {
    let mut failures = Vec::new();
    for check in checks {
        // Keys of objects that left the request stay with the client by design, as in
        // the Go service; they are reported but are no failure.
        let extra = check.extra - check.extra_of_absent_objects;
        let differences = check.missing + extra + check.different;
        if differences > 0 || check.keys == 0 {
            failures.push(format!(
                "stream {} (user {}, {}) differs from a fresh request in {differences} keys",
                check.stream, check.user_id, check.request
            ));
        }
    }
    let errors = counters.errors();
    for kind in ["long-lived stream ended", "bad request not rejected"] {
        if let Some((count, first)) = errors.get(kind) {
            failures.push(format!("{count} times {kind}, first: {first}"));
        }
    }
    failures
}

fn memory(samples: &[Sample]) -> Memory {
    let rss: Vec<u64> = samples.iter().map(|s| s.rss_bytes).collect();
    let second_half: Vec<(f64, f64)> = samples[samples.len() / 2..]
        .iter()
        .map(|s| (s.elapsed_seconds, s.rss_bytes as f64))
        .collect();
    Memory {
        first_bytes: rss.first().copied().unwrap_or_default(),
        min_bytes: rss.iter().copied().min().unwrap_or_default(),
        max_bytes: rss.iter().copied().max().unwrap_or_default(),
        last_bytes: rss.last().copied().unwrap_or_default(),
        growth_bytes_per_hour: slope(&second_half) * 3600.0,
    }
}

/// Returns the least-squares slope of y over x, 0 for fewer than two points.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points
        .iter()
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let variance: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    if variance == 0.0 {
        0.0
    } else {
        covariance / variance
    }
}

fn mb(bytes: f64) -> f64 {
    bytes / 1024.0 / 1024.0
}

fn print_header() {
    println!(
        "{:>7} {:>9} {:>8} {:>6} {:>8} {:>8} {:>7} {:>8} {:>8}  errors",
        "time s", "RSS MB", "CPU s", "open", "opened", "closed", "changes", "messages", "rejected"
    );
}

fn print_sample(sample: &Sample) {
    let errors = if sample.errors.is_empty() {
        "-".to_string()
    } else {
        sample
            .errors
            .iter()
            .map(|(kind, count)| format!("{kind}: {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{:>7.0} {:>9.1} {:>8.1} {:>6} {:>8} {:>8} {:>7} {:>8} {:>8}  {errors}",
        sample.elapsed_seconds,
        mb(sample.rss_bytes as f64),
        sample.cpu_seconds,
        sample.open_streams,
        sample.opened,
        sample.closed,
        sample.changes,
        sample.messages,
        sample.bad_requests_rejected,
    );
}

fn print_summary(report: &SoakReport) {
    let memory = &report.memory;
    println!();
    println!(
        "RSS: first {:.1} MB, min {:.1} MB, max {:.1} MB, last {:.1} MB; growth {:.1} MB per hour (least squares over the second half)",
        mb(memory.first_bytes as f64),
        mb(memory.min_bytes as f64),
        mb(memory.max_bytes as f64),
        mb(memory.last_bytes as f64),
        mb(memory.growth_bytes_per_hour)
    );
    if let Some(last) = report.samples.last() {
        println!(
            "{} streams and long polls opened, {} closed ({} short streams before their first message), {} changes, {} messages, {} bad requests rejected",
            last.opened, last.closed, last.closed_before_first, last.changes, last.messages, last.bad_requests_rejected
        );
    }
    for (kind, (count, first)) in &report.errors {
        println!("error {kind}: {count} times, first: {first}");
    }
    let equal = report
        .checks
        .iter()
        .filter(|c| c.missing + c.extra + c.different == 0 && c.keys > 0)
        .count();
    let later_messages: u64 = report
        .checks
        .iter()
        .map(|c| c.messages.saturating_sub(1))
        .sum();
    let deleted: u64 = report.checks.iter().map(|c| c.deleted).sum();
    println!(
        "check: {equal} of {} long-lived streams equal a fresh request by the same user; they received {later_messages} messages after the first, which deleted {deleted} keys",
        report.checks.len()
    );
    for check in &report.checks {
        if check.missing + check.extra + check.different == 0 && check.keys > 0 {
            continue;
        }
        println!(
            "stream {} (user {}, {}): {} keys, fresh {}; {} missing, {} extra ({} of objects the fresh request lacks), {} different",
            check.stream,
            check.user_id,
            check.request,
            check.keys,
            check.fresh_keys,
            check.missing,
            check.extra,
            check.extra_of_absent_objects,
            check.different
        );
        for example in check.examples.iter().take(PRINTED_DIFFERENCES) {
            println!("    {example}");
        }
    }
}

/// A xorshift generator for the lives of short streams; the run needs variety, not
/// statistical quality.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Random {
        Random(seed.max(1))
    }

    /// Returns a number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slope_of_a_line() {
        let points = [(0.0, 10.0), (1.0, 12.0), (2.0, 14.0)];
        assert!((slope(&points) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[(1.0, 5.0)]), 0.0);
        assert_eq!(slope(&[(1.0, 5.0), (1.0, 6.0)]), 0.0);
    }

    fn values(pairs: &[(&str, serde_json::Value)]) -> Values {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.clone()))
            .collect()
    }

    #[test]
    fn compare_equal_values() {
        let a = values(&[("motion/1/title", json!("A")), ("motion/1/id", json!(1))]);
        assert_eq!(compare(&a, &a.clone()), Differences::default());
    }

    #[test]
    fn compare_counts_each_kind_of_difference() {
        let stream = values(&[
            ("motion/1/title", json!("A")),
            ("motion/1/number", json!("1")),
        ]);
        let fresh = values(&[("motion/1/title", json!("B")), ("motion/1/id", json!(1))]);
        let differences = compare(&stream, &fresh);
        assert_eq!(differences.different, 1);
        assert_eq!(differences.missing, 1);
        assert_eq!(differences.extra, 1);
        assert_eq!(differences.extra_of_absent_objects, 0);
        assert_eq!(
            differences.examples,
            vec![
                "motion/1/id: stream no value, fresh 1",
                "motion/1/number: stream \"1\", fresh no value",
                "motion/1/title: stream \"A\", fresh \"B\"",
            ]
        );
    }

    #[test]
    fn compare_counts_keys_of_absent_objects() {
        let stream = values(&[
            ("motion/1/title", json!("A")),
            ("motion/2/title", json!("B")),
        ]);
        let fresh = values(&[("motion/1/title", json!("A"))]);
        let differences = compare(&stream, &fresh);
        assert_eq!(differences.extra, 1);
        assert_eq!(differences.extra_of_absent_objects, 1);
    }

    #[test]
    fn random_stays_below_the_bound() {
        let mut random = Random::new(7);
        assert!((0..1000).all(|_| random.below(20) < 20));
        assert_eq!(random.below(0), 0);
    }

    #[test]
    fn bad_requests_cover_each_kind_once() {
        let kinds = bad_request_kinds();
        let mut names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), kinds.len());
        let oversized = kinds.iter().find(|k| k.name == "oversized body").unwrap();
        assert!(oversized.body.len() > openslides_autoupdate::http::MAX_BODY_BYTES);
    }
}
