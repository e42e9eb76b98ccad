//! Test support: a fresh PostgreSQL database and a private Redis server per test, the
//! service started in-process on a free port, and helpers to talk to it.
//!
//! PostgreSQL is reached at TEST_DATABASE_HOST (127.0.0.1), TEST_DATABASE_PORT (5432) and
//! TEST_DATABASE_USER (postgres), with trust authentication. `redis-server` must be on
//! the PATH.

#![allow(dead_code)]

use futures::StreamExt;
use openslides_autoupdate::config::Config;
use openslides_autoupdate::datastore::schema;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// A file or folder from the environment. Missing: the test is skipped, or fails when
/// CI=true, so that CI cannot pass without it.
pub fn shared_path(variable: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{variable} is not set, but CI=true requires it")
        }
        None => {
            eprintln!("skipped: set {variable} to run this test");
            None
        }
    }
}

/// OpenSlides' example-data.json, from OPENSLIDES_EXAMPLE_DATA.
pub fn example_data() -> Option<Value> {
    let path = shared_path("OPENSLIDES_EXAMPLE_DATA")?;
    let text = std::fs::read(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    Some(serde_json::from_slice(&text).expect("example data is JSON"))
}

/// A database of its own, dropped at the end of the test.
pub struct TestDb {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let name = format!(
            "autoupdate_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let db = TestDb {
            name,
            host: env_or("TEST_DATABASE_HOST", "127.0.0.1"),
            port: env_or("TEST_DATABASE_PORT", "5432").parse().unwrap(),
            user: env_or("TEST_DATABASE_USER", "postgres"),
        };
        let admin = db.connect_to("postgres").await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {}", db.name))
            .await
            .expect("drop old test database");
        admin
            .batch_execute(&format!("CREATE DATABASE {}", db.name))
            .await
            .expect("create test database");
        let client = db.client().await;
        schema::create_schema(&client).await.expect("create schema");
        db
    }

    async fn connect_to(&self, database: &str) -> tokio_postgres::Client {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(database);
        let (client, connection) =
            config
                .connect(tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|err| {
                    panic!(
                        "connect to PostgreSQL at {}:{}: {err}",
                        self.host, self.port
                    )
                });
        tokio::spawn(connection);
        client
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        self.connect_to(&self.name).await
    }

    /// Loads an export (`{collection: {id: {field: value}}}`).
    pub async fn load(&self, export: &Value) {
        let mut client = self.client().await;
        schema::load_export(&mut client, export, false)
            .await
            .expect("load export");
    }

    /// Loads data in the form `{"collection/id": {field: value}}`.
    pub async fn load_fqids(&self, data: &Value) {
        let mut export = serde_json::Map::new();
        for (fqid, fields) in data.as_object().unwrap() {
            let (collection, id) = fqid.split_once('/').unwrap();
            export
                .entry(collection.to_string())
                .or_insert_with(|| Value::Object(Default::default()))
                .as_object_mut()
                .unwrap()
                .insert(id.to_string(), fields.clone());
        }
        self.load(&Value::Object(export)).await;
    }

    /// Writes changed fields into `models` as the datastore writer does: `null` removes a
    /// field, an `id` set to null deletes the model, an `id` set on a missing model
    /// creates it.
    pub async fn write(&self, changes: &Value) {
        let client = self.client().await;
        let mut by_fqid: HashMap<String, Vec<(String, Value)>> = HashMap::new();
        for (key, value) in changes.as_object().unwrap() {
            let (fqid, field) = key.rsplit_once('/').unwrap();
            by_fqid
                .entry(fqid.to_string())
                .or_default()
                .push((field.to_string(), value.clone()));
        }
        for (fqid, fields) in by_fqid {
            let deleted = fields.iter().any(|(f, v)| f == "id" && v.is_null());
            if deleted {
                client
                    .execute("UPDATE models SET deleted = true WHERE fqid = $1", &[&fqid])
                    .await
                    .unwrap();
                continue;
            }
            client
                .execute(
                    "INSERT INTO models (fqid, data, deleted) VALUES ($1, '{}', false) \
                     ON CONFLICT (fqid) DO UPDATE SET deleted = false",
                    &[&fqid],
                )
                .await
                .unwrap();
            for (field, value) in fields {
                if value.is_null() {
                    client
                        .execute(
                            "UPDATE models SET data = data - $2 WHERE fqid = $1",
                            &[&fqid, &field],
                        )
                        .await
                        .unwrap();
                } else {
                    client
                        .execute(
                            "UPDATE models SET data = jsonb_set(data, ARRAY[$2], $3) WHERE fqid = $1",
                            &[&fqid, &field, &tokio_postgres::types::Json(&value)],
                        )
                        .await
                        .unwrap();
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let (host, port, user) = (self.host.clone(), self.port, self.user.clone());
        // Dropping needs a runtime of its own, because the test's runtime is shutting
        // down or busy.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut config = tokio_postgres::Config::new();
                config.host(&host).port(port).user(&user).dbname("postgres");
                if let Ok((client, connection)) = config.connect(tokio_postgres::NoTls).await {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A Redis server of its own on a free port of 127.0.0.1, stopped at the end of the test.
pub struct TestRedis {
    pub port: u16,
    process: std::sync::Mutex<Child>,
}

impl TestRedis {
    pub async fn start() -> TestRedis {
        TestRedis::start_on(free_port()).await
    }

    /// Stops the server; its data is gone.
    pub fn kill(&self) {
        let mut process = self.process.lock().unwrap();
        let _ = process.kill();
        let _ = process.wait();
    }

    /// Starts an empty server on the same port again, as after a restart without
    /// persistence.
    pub async fn restart(&self) {
        self.kill();
        *self.process.lock().unwrap() = spawn_redis(self.port);
        self.wait_ready().await;
    }

    async fn start_on(port: u16) -> TestRedis {
        let redis = TestRedis {
            port,
            process: std::sync::Mutex::new(spawn_redis(port)),
        };
        redis.wait_ready().await;
        redis
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(mut connection) = self.connection().await {
                let pong: redis::RedisResult<String> =
                    redis::cmd("PING").query_async(&mut connection).await;
                if pong.is_ok() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    pub async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        client.get_multiplexed_async_connection().await
    }

    /// Waits until a client blocks in XREAD, so that entries added afterwards reach it.
    pub async fn wait_for_reader(&self) {
        for _ in 0..500 {
            let mut connection = self.connection().await.unwrap();
            let clients: String = redis::cmd("CLIENT")
                .arg("LIST")
                .query_async(&mut connection)
                .await
                .unwrap();
            if clients.contains("cmd=xread") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("nobody started reading the message bus");
    }

    /// Adds one entry to `ModifiedFields` with each key and its JSON-encoded value.
    pub async fn xadd(&self, changes: &Value) {
        let mut command = redis::cmd("XADD");
        command.arg("ModifiedFields").arg("*");
        for (key, value) in changes.as_object().unwrap() {
            command.arg(key).arg(value.to_string());
        }
        let mut connection = self.connection().await.unwrap();
        let _: String = command.query_async(&mut connection).await.unwrap();
    }

    /// Adds raw field-value pairs to `ModifiedFields`.
    pub async fn xadd_raw(&self, pairs: &[(&str, &str)]) {
        let mut command = redis::cmd("XADD");
        command.arg("ModifiedFields").arg("*");
        for (key, value) in pairs {
            command.arg(*key).arg(*value);
        }
        let mut connection = self.connection().await.unwrap();
        let _: String = command.query_async(&mut connection).await.unwrap();
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `redis-server` on 127.0.0.1 at `port`, keeping nothing on disk.
fn spawn_redis(port: u16) -> Child {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server; is it installed?")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The service, started in-process on 127.0.0.1 with AUTH_FAKE.
pub struct TestService {
    pub url: String,
    pub db: TestDb,
    /// The service's Redis; services started with `start_on_redis` share one.
    pub redis: Arc<TestRedis>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestService {
    /// Starts the service on the given database and a Redis server of its own, with
    /// AUTH_FAKE.
    pub async fn start_with(db: TestDb) -> TestService {
        TestService::start_with_env(db, &[("AUTH_FAKE", "true".to_string())]).await
    }

    /// Starts the service with additional environment variables. Without AUTH_FAKE it
    /// authenticates with the development keys.
    pub async fn start_with_env(db: TestDb, extra: &[(&str, String)]) -> TestService {
        let redis = Arc::new(TestRedis::start().await);
        TestService::start_on_redis(db, redis, extra).await
    }

    /// Like `start_with_env`, on a given Redis server, which several services may share.
    pub async fn start_on_redis(
        db: TestDb,
        redis: Arc<TestRedis>,
        extra: &[(&str, String)],
    ) -> TestService {
        let service = TestService::start_without_message_bus(db, redis, extra).await;
        service.wait_for_message_bus().await;
        service
    }

    /// Like `start_on_redis`, without waiting until the service reads from Redis, which
    /// may be down.
    pub async fn start_without_message_bus(
        db: TestDb,
        redis: Arc<TestRedis>,
        extra: &[(&str, String)],
    ) -> TestService {
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("OPENSLIDES_DEVELOPMENT", "true".to_string()),
            ("DATABASE_HOST", db.host.clone()),
            ("DATABASE_PORT", db.port.to_string()),
            ("DATABASE_USER", db.user.clone()),
            ("DATABASE_NAME", db.name.clone()),
            ("MESSAGE_BUS_HOST", "127.0.0.1".to_string()),
            ("MESSAGE_BUS_PORT", redis.port.to_string()),
            // A port nothing listens on, so that the service's vote reader never reaches
            // a vote service outside the test. Tests of the vote reader set their own.
            ("VOTE_HOST", "127.0.0.1".to_string()),
            ("VOTE_PORT", free_port().to_string()),
            (
                "AUTH_TOKEN_KEY_FILE",
                "/nonexistent/auth_token_key".to_string(),
            ),
            (
                "AUTH_COOKIE_KEY_FILE",
                "/nonexistent/auth_cookie_key".to_string(),
            ),
        ]);
        vars.extend(extra.iter().map(|(name, value)| (*name, value.clone())));
        let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            openslides_autoupdate::service::run(config, listener, shutdown)
                .await
                .expect("service runs");
        });
        TestService {
            url,
            db,
            redis,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Waits until the service blocks in XREAD, so that entries added afterwards reach it.
    /// On a shared Redis, another service's reader may satisfy this check.
    async fn wait_for_message_bus(&self) {
        for _ in 0..200 {
            let mut connection = self.redis.connection().await.unwrap();
            let clients: String = redis::cmd("CLIENT")
                .arg("LIST")
                .query_async(&mut connection)
                .await
                .unwrap();
            if clients.contains("cmd=xread") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the service did not start reading the message bus");
    }

    /// Stops the service and waits until it has ended.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("service stops within 10s")
                .expect("service task ends cleanly");
        }
    }

    /// Writes changes to PostgreSQL, then announces them on the message bus.
    pub async fn change(&self, changes: &Value) {
        self.db.write(changes).await;
        self.redis.xadd(changes).await;
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP response: status and body bytes.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body is not JSON ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// Sends one request and reads the whole response.
pub async fn send(method: reqwest::Method, url: &str, body: Option<Vec<u8>>) -> Answer {
    let mut request = client()
        .request(method, url)
        .timeout(Duration::from_secs(30));
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("send request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("read body").to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn post(url: &str, body: &Value) -> Answer {
    send(
        reqwest::Method::POST,
        url,
        Some(body.to_string().into_bytes()),
    )
    .await
}

/// An open stream, read line by line.
pub struct Stream {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    chunks: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
}

impl Stream {
    pub async fn open(url: &str, body: Option<&Value>) -> Stream {
        let mut request = client().post(url);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.expect("open stream");
        Stream::from_response(response)
    }

    pub fn from_response(response: reqwest::Response) -> Stream {
        Stream {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            chunks: response.bytes_stream().boxed(),
            buffer: Vec::new(),
        }
    }

    /// The next line, or `None` when the stream ended or nothing came within `wait`.
    pub async fn next_line(&mut self, wait: Duration) -> Option<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(line);
            }
            let chunk = tokio::time::timeout_at(deadline, self.chunks.next())
                .await
                .ok()??;
            self.buffer.extend_from_slice(&chunk.expect("read stream"));
        }
    }

    /// The next message as JSON; fails the test when none comes within five seconds.
    pub async fn next_json(&mut self) -> Value {
        self.next_json_within(Duration::from_secs(5)).await
    }

    /// The next message as JSON; fails the test when none comes within `wait`.
    pub async fn next_json_within(&mut self, wait: Duration) -> Value {
        let line = self
            .next_line(wait)
            .await
            .unwrap_or_else(|| panic!("no message within {wait:?}"));
        serde_json::from_slice(&line).unwrap_or_else(|err| {
            panic!(
                "message is not JSON ({err}): {}",
                String::from_utf8_lossy(&line)
            )
        })
    }

    /// Fails the test when a message comes within `wait`.
    pub async fn expect_quiet(&mut self, wait: Duration) {
        if let Some(line) = self.next_line(wait).await {
            panic!("unexpected message: {}", String::from_utf8_lossy(&line));
        }
    }

    /// Whether the server ended the stream within `wait`.
    pub async fn ended(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.chunks.next()).await {
                Err(_) => return false,
                Ok(None) => return true,
                Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(chunk))) => self.buffer.extend_from_slice(&chunk),
            }
        }
    }
}

/// A TCP proxy on 127.0.0.1 in front of another port, which a test cuts off and restores
/// to play an outage of the server behind it.
pub struct Proxy {
    pub port: u16,
    upstream: (String, u16),
    /// A counter that `cut` increments. Every connection of the proxy closes when it changes.
    epoch: tokio::sync::watch::Sender<u64>,
    /// While true, connections stay open but forward nothing, like a peer that stopped
    /// responding.
    frozen: tokio::sync::watch::Sender<bool>,
    listener: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Proxy {
    /// Starts a proxy to `host`:`port` on a free port of 127.0.0.1.
    pub async fn start(host: &str, port: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            upstream: (host.to_string(), port),
            epoch: tokio::sync::watch::Sender::new(0),
            frozen: tokio::sync::watch::Sender::new(false),
            listener: std::sync::Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    /// Closes every connection and rejects new ones until `restore`.
    pub async fn cut(&self) {
        let task = self.listener.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            // The listening socket is closed when the aborted task is gone.
            let _ = task.await;
        }
        self.epoch.send_modify(|epoch| *epoch += 1);
    }

    /// Stops forwarding bytes on every connection, old and new, without closing any.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Forwards bytes again, including those read while frozen.
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// Accepts connections again on the same port.
    pub async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap_or_else(|err| panic!("listen on port {} again: {err}", self.port));
        self.serve(listener);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let upstream = self.upstream.clone();
        let epoch = self.epoch.subscribe();
        let frozen = self.frozen.subscribe();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let mut cut = epoch.clone();
                cut.mark_unchanged();
                let upstream = upstream.clone();
                let frozen = frozen.clone();
                tokio::spawn(async move {
                    let Ok(server) =
                        tokio::net::TcpStream::connect((upstream.0.as_str(), upstream.1)).await
                    else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::select! {
                        () = forward(client_read, server_write, frozen.clone()) => {}
                        () = forward(server_read, client_write, frozen) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        *self.listener.lock().unwrap() = Some(task);
    }
}

/// Copies bytes from `from` to `to` until either side closes, holding them while
/// `frozen` is true.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if frozen.wait_for(|frozen| !*frozen).await.is_err() {
            break;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = self.listener.lock().unwrap().take() {
            task.abort();
        }
        self.epoch.send_modify(|epoch| *epoch += 1);
    }
}

/// Parses every `.json` request file of a folder, sorted by name, each with its path.
pub fn request_files(
    folder: &std::path::Path,
) -> Vec<(String, Arc<openslides_autoupdate::keysbuilder::Request>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|err| panic!("read {}: {err}", folder.display()))
        .map(|entry| entry.expect("folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read(&path).expect("request file");
            let request = openslides_autoupdate::keysbuilder::Request::parse(&text, "")
                .unwrap_or_else(|err| panic!("{} is no valid request: {err}", path.display()));
            (path.display().to_string(), Arc::new(request))
        })
        .collect()
}

/// The service binary, run as a process of its own on 127.0.0.1 with AUTH_FAKE and a
/// Redis server of its own, so that a test can read its memory use and its log. The
/// process is killed when the value is dropped.
pub struct ServiceProcess {
    pub url: String,
    pub db: TestDb,
    pub redis: TestRedis,
    child: Child,
    /// Every line the service logged to standard error so far.
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServiceProcess {
    /// Starts the binary on `db` with additional environment variables and waits until
    /// it listens and reads the message bus.
    pub async fn start(db: TestDb, extra: &[(&str, &str)]) -> ServiceProcess {
        let redis = TestRedis::start().await;
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_openslides-autoupdate"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("OPENSLIDES_DEVELOPMENT", "true")
            .env("AUTH_FAKE", "true")
            .env("AUTOUPDATE_HOST", "127.0.0.1")
            .env("AUTOUPDATE_PORT", port.to_string())
            .env("DATABASE_HOST", &db.host)
            .env("DATABASE_PORT", db.port.to_string())
            .env("DATABASE_USER", &db.user)
            .env("DATABASE_NAME", &db.name)
            .env("MESSAGE_BUS_HOST", "127.0.0.1")
            .env("MESSAGE_BUS_PORT", redis.port.to_string())
            // A port nothing listens on, so that the vote reader reaches no vote service
            // outside the test.
            .env("VOTE_HOST", "127.0.0.1")
            .env("VOTE_PORT", free_port().to_string())
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start openslides-autoupdate");

        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped standard error");
        let lines = log.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });

        let service = ServiceProcess {
            url: format!("http://127.0.0.1:{port}"),
            db,
            redis,
            child,
            log,
        };
        service.wait_for_port(port).await;
        service.redis.wait_for_reader().await;
        service
    }

    async fn wait_for_port(&self, port: u16) {
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the service does not listen on port {port}; its log:\n{}",
            self.log().join("\n")
        );
    }

    /// Returns the process id of the service.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns the resident set size of the service process in KiB (`VmRSS` of
    /// /proc/<pid>/status, so Linux only).
    pub fn rss_kib(&self) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status =
            std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {path}: {err}"));
        let line = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .unwrap_or_else(|| panic!("no VmRSS in {path}"));
        line.split_whitespace()
            .nth(1)
            .and_then(|kib| kib.parse().ok())
            .unwrap_or_else(|| panic!("invalid line in {path}: {line}"))
    }

    /// Returns the lines the service logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits for the next metric line the service logs (every METRIC_INTERVAL) and
    /// returns its values. Fails the test when none comes within 10 seconds.
    pub async fn next_metric(&self) -> serde_json::Map<String, Value> {
        let seen = self.log.lock().unwrap().len();
        for _ in 0..1000 {
            let metric = self.log.lock().unwrap()[seen..].iter().find_map(|line| {
                line.split_once("Metric: ")
                    .map(|(_, json)| json.to_string())
            });
            if let Some(json) = metric {
                return serde_json::from_str(&json)
                    .unwrap_or_else(|err| panic!("metric is not a JSON object ({err}): {json}"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no metric line within 10 seconds; is METRIC_INTERVAL set?");
    }

    /// Writes changes to PostgreSQL, then announces them on the message bus.
    pub async fn change(&self, changes: &Value) {
        self.db.write(changes).await;
        self.redis.xadd(changes).await;
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
