//! The service's settings: every environment variable with its default and help text in
//! one table, read once at start-up into a typed `Config`.

use crate::auth::{AuthSettings, DEVELOPMENT_COOKIE_KEY, DEVELOPMENT_TOKEN_KEY};
use crate::datastore::PostgresConfig;
use crate::http::RequestLimits;
use crate::keysbuilder::Limits;
use crate::messagebus::RedisConfig;
use std::time::Duration;

/// An environment variable the service reads.
pub struct Variable {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Every variable, in the order the documentation lists them.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "AUTOUPDATE_HOST",
        default: "0.0.0.0",
        help: "Address the service listens on.",
    },
    Variable {
        name: "AUTOUPDATE_PORT",
        default: "9012",
        help: "Port the service listens on.",
    },
    Variable {
        name: "MESSAGE_BUS_HOST",
        default: "localhost",
        help: "Host of the Redis server.",
    },
    Variable {
        name: "MESSAGE_BUS_PORT",
        default: "6379",
        help: "Port of the Redis server.",
    },
    Variable {
        name: "DATABASE_HOST",
        default: "localhost",
        help: "Host of the PostgreSQL datastore.",
    },
    Variable {
        name: "DATABASE_PORT",
        default: "5432",
        help: "Port of the PostgreSQL datastore.",
    },
    Variable {
        name: "DATABASE_NAME",
        default: "openslides",
        help: "Name of the PostgreSQL database.",
    },
    Variable {
        name: "DATABASE_USER",
        default: "openslides",
        help: "PostgreSQL user.",
    },
    Variable {
        name: "DATABASE_QUERY_TIMEOUT",
        default: "10s",
        help: "How long one read of PostgreSQL may take, as seconds or a duration such as `30s`; at least one second. A connection that does not answer within it is closed and the read fails as unavailable, so a PostgreSQL that stops answering cannot hang requests.",
    },
    Variable {
        name: "DATABASE_PASSWORD_FILE",
        default: "/run/secrets/postgres_password",
        help: "File that contains the PostgreSQL password. With OPENSLIDES_DEVELOPMENT the password is `openslides` and the file is not read.",
    },
    Variable {
        name: "OPENSLIDES_DEVELOPMENT",
        default: "false",
        help: "Use the public development secrets instead of reading secret files.",
    },
    Variable {
        name: "AUTH_FAKE",
        default: "false",
        help: "Serve every request as user 1 and skip authentication; the other AUTH_ variables are not read. For development only.",
    },
    Variable {
        name: "AUTH_PROTOCOL",
        default: "http",
        help: "Protocol of the auth service, which refreshes expired access tokens.",
    },
    Variable {
        name: "AUTH_HOST",
        default: "localhost",
        help: "Host of the auth service.",
    },
    Variable {
        name: "AUTH_PORT",
        default: "9004",
        help: "Port of the auth service.",
    },
    Variable {
        name: "AUTH_TOKEN_KEY_FILE",
        default: "/run/secrets/auth_token_key",
        help: "File with the key that signs access tokens. With OPENSLIDES_DEVELOPMENT and no file, the development key `auth-dev-token-key` is used.",
    },
    Variable {
        name: "AUTH_COOKIE_KEY_FILE",
        default: "/run/secrets/auth_cookie_key",
        help: "File with the key that signs refresh tokens (the `refreshId` cookie). With OPENSLIDES_DEVELOPMENT and no file, the development key `auth-dev-cookie-key` is used.",
    },
    Variable {
        name: "VOTE_PROTOCOL",
        default: "http",
        help: "Protocol of the vote service, which streams the field `poll/has_voted_user_ids`.",
    },
    Variable {
        name: "VOTE_HOST",
        default: "localhost",
        help: "Host of the vote service.",
    },
    Variable {
        name: "VOTE_PORT",
        default: "9013",
        help: "Port of the vote service.",
    },
    Variable {
        name: "OPENSLIDES_PUBLIC_ACCESS_ONLY",
        default: "false",
        help: "Run for public access only: the service does not connect to the vote service, so `poll/has_voted_user_ids` has no value, and writes nothing to Redis, so the connection count covers this instance only.",
    },
    Variable {
        name: "CERT_FILE",
        default: "",
        help: "PEM file with the TLS certificate chain. With KEY_FILE the service serves HTTPS with HTTP/2; without both it serves plain HTTP (HTTP/1.1, and HTTP/2 with prior knowledge).",
    },
    Variable {
        name: "KEY_FILE",
        default: "",
        help: "PEM file with the private key of CERT_FILE.",
    },
    Variable {
        name: "OPENSLIDES_HEARTBEAT_INTERVAL",
        default: "5m",
        help: "How long a stream may stay silent before the service sends an empty message (`{}`), so that proxies keep it open; 0 turns it off.",
    },
    Variable {
        name: "CACHE_MAX_KEYS",
        default: "5000000",
        help: "The maximum number of datastore keys in the cache; it is emptied before it would contain more.",
    },
    Variable {
        name: "CACHE_RESET",
        default: "24h",
        help: "How often the cache of datastore values is emptied and every open stream is read again from the datastore (sending only what differs), as seconds or a duration such as `90m`; 0 turns it off.",
    },
    Variable {
        name: "CONCURENT_WORKER",
        default: "0",
        help: "The maximum number of connections that compute their first message at the same time; 0 means the number of CPU cores. Admins of a meeting are not bound. The spelling is the Go service's.",
    },
    Variable {
        name: "METRIC_INTERVAL",
        default: "5m",
        help: "How often the service logs its metric line (open connections, cache size, runtime tasks); 0 turns it off.",
    },
    Variable {
        name: "METRIC_SAVE_INTERVAL",
        default: "5m",
        help: "How often the service saves its connection count to Redis, at least one second. Counts of instances that did not save within twice this interval are ignored.",
    },
    Variable {
        name: "DISABLE_CONNECTION_COUNT",
        default: "false",
        help: "Do not save the connection count to Redis; `connection_count` and the metric then show the connections of this instance only.",
    },
    Variable {
        name: "REQUEST_MAX_BODY_BYTES",
        default: "2097152",
        help: "The largest autoupdate request body in bytes (2 MiB); a larger body gets 413. The largest requests of the OpenSlides client have about 15 KB.",
    },
    Variable {
        name: "REQUEST_MAX_OBJECTS",
        default: "1000",
        help: "The maximum number of request objects (entries of the body's list) in one autoupdate request. The OpenSlides client sends at most 4.",
    },
    Variable {
        name: "REQUEST_MAX_IDS",
        default: "100000",
        help: "The maximum number of ids in one request object.",
    },
    Variable {
        name: "REQUEST_MAX_DEPTH",
        default: "20",
        help: "The maximum number of relation descriptions nested in each other in a request. The OpenSlides client nests at most 6.",
    },
    Variable {
        name: "REQUEST_MAX_KEYS",
        default: "1000000",
        help: "The maximum number of keys a request may resolve to. In a generated meeting with 2,000 users, 1,000 motions and 50 polls, the motion list of the OpenSlides client resolves to about 58,000 and its poll list to about 197,000. A view costs about 500 bytes per key, so one request at the limit holds about 500 MB. A request that grows past the limit gets a 400 error, or an error line that ends its stream.",
    },
    Variable {
        name: "REQUEST_MAX_K_BYTES",
        default: "16384",
        help: "The longest `k` query parameter in bytes, after URL decoding. URLs longer than 65,534 bytes get 414 before this check.",
    },
];

/// Renders the table of variables as Markdown: the content of `environment.md`.
pub fn environment_markdown() -> String {
    let mut out = String::from(
        "# Environment variables\n\n\
         The service reads these variables at start-up. This file is generated by \
         `openslides-autoupdate environment` from the table the service reads its settings \
         from; a test fails when it is out of date.\n\n\
         | variable | default | meaning |\n| --- | --- | --- |\n",
    );
    for variable in VARIABLES {
        let default = if variable.default.is_empty() {
            String::new()
        } else {
            format!("`{}`", variable.default)
        };
        out.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            variable.name,
            variable.help.replace('|', "\\|")
        ));
    }
    out.push_str(
        "\nThe log filter is set with `RUST_LOG` (default `info`), such as `debug` or \
         `openslides_autoupdate=debug`.\n",
    );
    out
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid value {value:?} for {name}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("read the PostgreSQL password from {path} (set by DATABASE_PASSWORD_FILE): {error}. Provide the file or set OPENSLIDES_DEVELOPMENT=true")]
    PasswordFile { path: String, error: std::io::Error },
    #[error("read the auth key from {path} (set by {variable}): {error}. Provide the file or set OPENSLIDES_DEVELOPMENT=true to use the development key")]
    KeyFile {
        variable: &'static str,
        path: String,
        error: std::io::Error,
    },
}

/// The typed settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub redis: RedisConfig,
    pub postgres: PostgresConfig,
    pub development: bool,
    pub auth: AuthSettings,
    /// The vote service's base URL, such as `http://localhost:9013`.
    pub vote_url: String,
    /// With public access only, the service makes no connection to the vote service.
    pub public_access_only: bool,
    pub cache_reset: Duration,
    pub cache_max_keys: usize,
    /// How long a stream may stay silent; zero turns the empty messages off.
    pub heartbeat: Duration,
    /// PEM certificate chain and key for HTTPS; both or neither are set.
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// The maximum number of first messages computed at the same time; 0 means one per
    /// CPU core.
    pub concurrent_workers: usize,
    /// How often the metric line is logged; zero turns it off.
    pub metric_interval: Duration,
    /// How often the connection count is saved to Redis.
    pub metric_save_interval: Duration,
    /// Whether the connection count is shared through Redis.
    pub count_in_redis: bool,
    /// The bounds on autoupdate requests.
    pub limits: RequestLimits,
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which returns a variable's value if it is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let reader = Reader { lookup: &lookup };
        let development = reader.bool("OPENSLIDES_DEVELOPMENT")?;
        let postgres = reader.postgres(development)?;
        let public_access_only = reader.bool("OPENSLIDES_PUBLIC_ACCESS_ONLY")?;

        Ok(Config {
            host: reader.text("AUTOUPDATE_HOST"),
            port: reader.port("AUTOUPDATE_PORT")?,
            redis: RedisConfig {
                host: reader.text("MESSAGE_BUS_HOST"),
                port: reader.port("MESSAGE_BUS_PORT")?,
            },
            postgres,
            development,
            auth: reader.auth_settings(development)?,
            vote_url: format!(
                "{}://{}:{}",
                reader.text("VOTE_PROTOCOL"),
                reader.text("VOTE_HOST"),
                reader.port("VOTE_PORT")?
            ),
            cache_reset: reader.interval("CACHE_RESET")?,
            cache_max_keys: reader
                .text("CACHE_MAX_KEYS")
                .parse()
                .map_err(|_| reader.invalid("CACHE_MAX_KEYS", "expected a number of keys"))?,
            heartbeat: reader.duration("OPENSLIDES_HEARTBEAT_INTERVAL")?,
            cert_file: reader.optional("CERT_FILE"),
            key_file: reader.optional("KEY_FILE"),
            concurrent_workers: reader.text("CONCURENT_WORKER").parse().map_err(|_| {
                reader.invalid(
                    "CONCURENT_WORKER",
                    "expected a number of connections, 0 for one per CPU core",
                )
            })?,
            metric_interval: reader.interval("METRIC_INTERVAL")?,
            metric_save_interval: reader.save_interval("METRIC_SAVE_INTERVAL")?,
            count_in_redis: !reader.bool("DISABLE_CONNECTION_COUNT")? && !public_access_only,
            limits: RequestLimits {
                body_bytes: reader.limit("REQUEST_MAX_BODY_BYTES")?,
                request: Limits {
                    max_objects: reader.limit("REQUEST_MAX_OBJECTS")?,
                    max_ids: reader.limit("REQUEST_MAX_IDS")?,
                    max_depth: reader.limit("REQUEST_MAX_DEPTH")?,
                    max_keys: reader.limit("REQUEST_MAX_KEYS")?,
                    max_k_bytes: reader.limit("REQUEST_MAX_K_BYTES")?,
                },
            },
            public_access_only,
        })
        .and_then(|config| match (&config.cert_file, &config.key_file) {
            (Some(_), None) => {
                Err(reader.invalid("KEY_FILE", "CERT_FILE is set, so KEY_FILE is needed too"))
            }
            (None, Some(_)) => {
                Err(reader.invalid("CERT_FILE", "KEY_FILE is set, so CERT_FILE is needed too"))
            }
            _ => Ok(config),
        })
    }
}

/// Reads only the PostgreSQL settings, for tools that need nothing else.
pub fn postgres_from_env() -> Result<PostgresConfig, ConfigError> {
    let lookup = |name: &str| std::env::var(name).ok();
    let reader = Reader { lookup: &lookup };
    let development = reader.bool("OPENSLIDES_DEVELOPMENT")?;
    reader.postgres(development)
}

/// Reads only the authentication settings, for tools that need no database.
pub fn auth_settings_from_env() -> Result<AuthSettings, ConfigError> {
    let lookup = |name: &str| std::env::var(name).ok();
    let reader = Reader { lookup: &lookup };
    let development = reader.bool("OPENSLIDES_DEVELOPMENT")?;
    reader.auth_settings(development)
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn variable(name: &str) -> &'static Variable {
        VARIABLES
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("{name} is missing in config::VARIABLES"))
    }

    /// Returns the value, or the default when the variable is unset or empty.
    fn text(&self, name: &str) -> String {
        match (self.lookup)(name) {
            Some(value) if !value.is_empty() => value,
            _ => Reader::variable(name).default.to_string(),
        }
    }

    fn invalid(&self, name: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            name: Reader::variable(name).name,
            value: self.text(name),
            reason: reason.into(),
        }
    }

    fn bool(&self, name: &str) -> Result<bool, ConfigError> {
        parse_bool(&self.text(name)).ok_or_else(|| self.invalid(name, "expected true or false"))
    }

    /// Reads a limit: a positive whole number.
    fn limit(&self, name: &str) -> Result<usize, ConfigError> {
        self.text(name)
            .parse()
            .ok()
            .filter(|limit| *limit > 0)
            .ok_or_else(|| self.invalid(name, "expected a positive whole number"))
    }

    fn port(&self, name: &str) -> Result<u16, ConfigError> {
        self.text(name)
            .parse()
            .map_err(|_| self.invalid(name, "expected a port number"))
    }

    fn postgres(&self, development: bool) -> Result<PostgresConfig, ConfigError> {
        let password = if development {
            "openslides".to_string()
        } else {
            let path = self.text("DATABASE_PASSWORD_FILE");
            std::fs::read_to_string(&path)
                .map_err(|error| ConfigError::PasswordFile { path, error })?
        };
        Ok(PostgresConfig {
            host: self.text("DATABASE_HOST"),
            port: self.port("DATABASE_PORT")?,
            database: self.text("DATABASE_NAME"),
            user: self.text("DATABASE_USER"),
            password,
            query_timeout: self.save_interval("DATABASE_QUERY_TIMEOUT")?,
        })
    }

    fn auth_settings(&self, development: bool) -> Result<AuthSettings, ConfigError> {
        let fake = self.bool("AUTH_FAKE")?;
        let service_url = format!(
            "{}://{}:{}",
            self.text("AUTH_PROTOCOL"),
            self.text("AUTH_HOST"),
            self.port("AUTH_PORT")?
        );
        if fake {
            return Ok(AuthSettings {
                fake,
                token_key: String::new(),
                cookie_key: String::new(),
                service_url,
            });
        }
        Ok(AuthSettings {
            fake,
            token_key: self.key("AUTH_TOKEN_KEY_FILE", DEVELOPMENT_TOKEN_KEY, development)?,
            cookie_key: self.key("AUTH_COOKIE_KEY_FILE", DEVELOPMENT_COOKIE_KEY, development)?,
            service_url,
        })
    }

    /// Reads a key file. In development, a missing file means the public development key.
    fn key(
        &self,
        name: &'static str,
        development_key: &str,
        development: bool,
    ) -> Result<String, ConfigError> {
        let path = self.text(name);
        match std::fs::read_to_string(&path) {
            Ok(key) => Ok(key),
            Err(error) if development => {
                tracing::warn!(%path, %error, "{name}: no key file; using the public development key");
                Ok(development_key.to_string())
            }
            Err(error) => Err(ConfigError::KeyFile {
                variable: name,
                path,
                error,
            }),
        }
    }

    fn duration(&self, name: &str) -> Result<Duration, ConfigError> {
        parse_duration(&self.text(name)).map_err(|reason| self.invalid(name, reason))
    }

    /// Reads a duration of at least one second, or zero to turn the feature off.
    /// Returns the value of a variable whose default is empty, `None` when empty.
    fn optional(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|value| !value.trim().is_empty())
    }

    fn interval(&self, name: &str) -> Result<Duration, ConfigError> {
        let duration = self.duration(name)?;
        if !duration.is_zero() && duration < Duration::from_secs(1) {
            return Err(self.invalid(name, "expected 0 (off) or at least one second"));
        }
        Ok(duration)
    }

    /// Reads a duration of at least one second.
    fn save_interval(&self, name: &str) -> Result<Duration, ConfigError> {
        let duration = self.duration(name)?;
        if duration < Duration::from_secs(1) {
            return Err(self.invalid(name, "expected at least one second"));
        }
        Ok(duration)
    }
}

/// Parses a boolean the way Go's `strconv.ParseBool` does.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Parses a duration: a plain integer is seconds; otherwise a sequence of numbers with
/// the units `ns`, `us`, `ms`, `s`, `m` and `h`, such as `1h30m` or `1.5s`, as in Go.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    if text.is_empty() {
        return Err("empty duration".into());
    }

    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in {text:?}"))?;
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("invalid number in {text:?}"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("unknown unit {unit:?} in {text:?}")),
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn config_defaults_match_the_go_service() {
        let config = config(&[("OPENSLIDES_DEVELOPMENT", "true")]).unwrap();
        assert_eq!(config.port, 9012);
        assert_eq!(config.redis.host, "localhost");
        assert_eq!(config.redis.port, 6379);
        assert_eq!(config.postgres.host, "localhost");
        assert_eq!(config.postgres.port, 5432);
        assert_eq!(config.postgres.database, "openslides");
        assert_eq!(config.postgres.user, "openslides");
        assert_eq!(config.postgres.password, "openslides");
        assert_eq!(config.cache_reset, Duration::from_secs(24 * 3600));
        assert!(!config.auth.fake);
        assert_eq!(config.auth.service_url, "http://localhost:9004");
        assert_eq!(config.vote_url, "http://localhost:9013");
        assert_eq!(config.concurrent_workers, 0);
        assert_eq!(config.metric_interval, Duration::from_secs(300));
        assert_eq!(config.metric_save_interval, Duration::from_secs(300));
        assert!(config.count_in_redis);
        assert!(!config.public_access_only);
        assert_eq!(config.limits, RequestLimits::default());
    }

    #[test]
    fn config_reads_request_limits() {
        let dev = ("OPENSLIDES_DEVELOPMENT", "true");
        let limits = config(&[
            dev,
            ("REQUEST_MAX_BODY_BYTES", "100"),
            ("REQUEST_MAX_OBJECTS", "2"),
            ("REQUEST_MAX_IDS", "3"),
            ("REQUEST_MAX_DEPTH", "4"),
            ("REQUEST_MAX_KEYS", "5"),
            ("REQUEST_MAX_K_BYTES", "6"),
        ])
        .unwrap()
        .limits;
        assert_eq!(limits.body_bytes, 100);
        assert_eq!(
            limits.request,
            Limits {
                max_objects: 2,
                max_ids: 3,
                max_depth: 4,
                max_keys: 5,
                max_k_bytes: 6,
            }
        );
        assert!(config(&[dev, ("REQUEST_MAX_KEYS", "0")]).is_err());
        assert!(config(&[dev, ("REQUEST_MAX_IDS", "many")]).is_err());
    }

    #[test]
    fn config_connection_count_settings() {
        let dev = ("OPENSLIDES_DEVELOPMENT", "true");
        let disabled = config(&[dev, ("DISABLE_CONNECTION_COUNT", "true")]).unwrap();
        assert!(!disabled.count_in_redis);
        let public = config(&[dev, ("OPENSLIDES_PUBLIC_ACCESS_ONLY", "true")]).unwrap();
        assert!(!public.count_in_redis);
        assert!(public.public_access_only);
        assert!(config(&[dev, ("METRIC_SAVE_INTERVAL", "0")]).is_err());
        assert!(config(&[dev, ("CONCURENT_WORKER", "-1")]).is_err());
        let metric_off = config(&[dev, ("METRIC_INTERVAL", "0")]).unwrap();
        assert!(metric_off.metric_interval.is_zero());
        let workers = config(&[dev, ("CONCURENT_WORKER", "3")]).unwrap();
        assert_eq!(workers.concurrent_workers, 3);
    }

    #[test]
    fn config_uses_development_keys_without_key_files() {
        let config = config(&[
            ("OPENSLIDES_DEVELOPMENT", "true"),
            ("AUTH_TOKEN_KEY_FILE", "/nonexistent/token"),
            ("AUTH_COOKIE_KEY_FILE", "/nonexistent/cookie"),
        ])
        .unwrap();
        assert_eq!(config.auth.token_key, "auth-dev-token-key");
        assert_eq!(config.auth.cookie_key, "auth-dev-cookie-key");
    }

    #[test]
    fn config_reads_key_files() {
        let dir = std::env::temp_dir().join(format!("autoupdate-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), "real-token-key").unwrap();
        std::fs::write(dir.join("cookie"), "real-cookie-key").unwrap();
        let config = config(&[
            ("OPENSLIDES_DEVELOPMENT", "true"),
            ("AUTH_TOKEN_KEY_FILE", dir.join("token").to_str().unwrap()),
            ("AUTH_COOKIE_KEY_FILE", dir.join("cookie").to_str().unwrap()),
        ])
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(config.auth.token_key, "real-token-key");
        assert_eq!(config.auth.cookie_key, "real-cookie-key");
    }

    #[test]
    fn config_missing_key_file_names_variable() {
        let dir = std::env::temp_dir().join(format!("autoupdate-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("password"), "pw").unwrap();
        let error = config(&[
            (
                "DATABASE_PASSWORD_FILE",
                dir.join("password").to_str().unwrap(),
            ),
            ("AUTH_TOKEN_KEY_FILE", "/nonexistent/token"),
        ])
        .unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let message = error.to_string();
        assert!(message.contains("/nonexistent/token"), "{message}");
        assert!(message.contains("AUTH_TOKEN_KEY_FILE"), "{message}");
    }

    #[test]
    fn config_with_auth_fake_reads_no_key_files() {
        let config = config(&[
            ("OPENSLIDES_DEVELOPMENT", "true"),
            ("AUTH_FAKE", "true"),
            ("AUTH_TOKEN_KEY_FILE", "/nonexistent/token"),
        ])
        .unwrap();
        assert!(config.auth.fake);
    }

    #[test]
    fn config_reads_password_file() {
        let path = std::env::temp_dir().join(format!("autoupdate-password-{}", std::process::id()));
        std::fs::write(&path, "secret").unwrap();
        let config = config(&[
            ("DATABASE_PASSWORD_FILE", path.to_str().unwrap()),
            ("AUTH_FAKE", "true"),
        ])
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(config.postgres.password, "secret");
    }

    #[test]
    fn config_missing_password_file_names_variable() {
        let error = config(&[("DATABASE_PASSWORD_FILE", "/nonexistent/password")]).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("/nonexistent/password"), "{message}");
        assert!(message.contains("DATABASE_PASSWORD_FILE"), "{message}");
    }

    #[test]
    fn config_rejects_invalid_values() {
        let dev = ("OPENSLIDES_DEVELOPMENT", "true");
        assert!(config(&[dev, ("AUTOUPDATE_PORT", "abc")]).is_err());
        assert!(config(&[dev, ("AUTH_FAKE", "yes")]).is_err());
        assert!(config(&[dev, ("VOTE_PORT", "x")]).is_err());
        assert!(config(&[dev, ("OPENSLIDES_PUBLIC_ACCESS_ONLY", "yes")]).is_err());
        let error = config(&[dev, ("CACHE_RESET", "10x")]).unwrap_err();
        assert!(error.to_string().contains("CACHE_RESET"), "{error}");
        assert!(config(&[dev, ("CACHE_RESET", "1ns")]).is_err());
        assert!(config(&[dev, ("CACHE_RESET", "0")])
            .unwrap()
            .cache_reset
            .is_zero());
    }

    #[test]
    fn duration_parses_go_forms() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5").is_ok());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("99999999999999999999999999s").is_err());
    }

    #[test]
    fn every_variable_is_documented_once() {
        let mut names: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len());
        assert!(VARIABLES.iter().all(|v| !v.help.is_empty()));
    }
}

#[cfg(test)]
mod readme_tests {
    use super::VARIABLES;

    #[test]
    fn environment_md_is_current() {
        let committed = include_str!("../environment.md");
        assert!(
            committed == super::environment_markdown(),
            "environment.md is out of date; run `cargo run -- environment > environment.md`"
        );
    }

    #[test]
    fn readme_documents_every_variable() {
        let readme = include_str!("../README.md");
        for variable in VARIABLES {
            let row = if variable.default.is_empty() {
                format!("| `{}` | |", variable.name)
            } else {
                format!("| `{}` | `{}` |", variable.name, variable.default)
            };
            assert!(
                readme.contains(&row),
                "README lacks the row for {}: {row}",
                variable.name
            );
        }
    }
}
