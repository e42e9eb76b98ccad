//! HTTPS with HTTP/2, with a certificate made for each test run.

mod support;

use serde_json::json;
use std::path::PathBuf;
use support::{TestDb, TestService};

/// Creates a self-signed certificate for `localhost` in a fresh folder and returns
/// (folder, certificate path, key path, certificate PEM).
fn certificate() -> (tempdir::Folder, PathBuf, PathBuf, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let folder = tempdir::Folder::new();
    let cert_path = folder.path.join("cert.pem");
    let key_path = folder.path.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (folder, cert_path, key_path, cert.pem())
}

mod tempdir {
    /// A folder under the system's temporary folder, removed on drop.
    pub struct Folder {
        pub path: std::path::PathBuf,
    }

    impl Folder {
        pub fn new() -> Folder {
            let path = std::env::temp_dir().join(format!(
                "autoupdate-tls-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Folder { path }
        }
    }

    fn rand_suffix() -> u64 {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[tokio::test]
async fn https_serves_http2_streams() {
    let (_folder, cert, key, pem) = certificate();
    let db = TestDb::new().await;
    db.load_fqids(&json!({"organization/1": {"id": 1, "name": "Org"}}))
        .await;
    let service = TestService::start_with_env(
        db,
        &[
            ("AUTH_FAKE", "true".to_string()),
            ("CERT_FILE", cert.display().to_string()),
            ("KEY_FILE", key.display().to_string()),
        ],
    )
    .await;
    let port = service.url.rsplit(':').next().unwrap().to_string();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/system/autoupdate?k=organization/1/name");
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let mut stream = support::Stream::from_response(response);
    assert_eq!(
        stream.next_json().await,
        json!({"organization/1/name": "Org"})
    );

    // Many streams share the one HTTP/2 connection.
    let mut streams = Vec::new();
    for _ in 0..20 {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        streams.push(support::Stream::from_response(response));
    }
    for stream in &mut streams {
        stream.next_json().await;
    }
    service.change(&json!({"organization/1/name": "New"})).await;
    for stream in &mut streams {
        assert_eq!(
            stream.next_json().await,
            json!({"organization/1/name": "New"})
        );
    }

    // Plain HTTP on the TLS port fails instead of being served.
    let plain = support::client()
        .get(format!("http://127.0.0.1:{port}/system/autoupdate/health"))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

async fn start_error(extra: &[(&str, String)]) -> String {
    let db = TestDb::new().await;
    let mut vars: std::collections::HashMap<&str, String> = std::collections::HashMap::from([
        ("OPENSLIDES_DEVELOPMENT", "true".to_string()),
        ("AUTH_FAKE", "true".to_string()),
        ("DATABASE_HOST", db.host.clone()),
        ("DATABASE_PORT", db.port.to_string()),
        ("DATABASE_USER", db.user.clone()),
        ("DATABASE_NAME", db.name.clone()),
    ]);
    vars.extend(extra.iter().map(|(name, value)| (*name, value.clone())));
    let config =
        match openslides_autoupdate::config::Config::from_lookup(|name| vars.get(name).cloned()) {
            Ok(config) => config,
            Err(error) => return error.to_string(),
        };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        openslides_autoupdate::service::run(config, listener, std::future::pending()),
    )
    .await
    .expect("start-up fails at once");
    result.expect_err("start-up fails").to_string()
}

#[tokio::test]
async fn bad_certificate_file_stops_start_up() {
    let (folder, cert, key, _) = certificate();
    let garbage = folder.path.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();

    let error = start_error(&[
        ("CERT_FILE", garbage.display().to_string()),
        ("KEY_FILE", key.display().to_string()),
    ])
    .await;
    assert!(error.contains("garbage.pem"), "{error}");
    assert!(error.contains("CERT_FILE"), "{error}");

    let missing = folder.path.join("missing.pem");
    let error = start_error(&[
        ("CERT_FILE", cert.display().to_string()),
        ("KEY_FILE", missing.display().to_string()),
    ])
    .await;
    assert!(error.contains("missing.pem"), "{error}");
    assert!(error.contains("KEY_FILE"), "{error}");

    let error = start_error(&[("CERT_FILE", cert.display().to_string())]).await;
    assert!(error.contains("KEY_FILE"), "{error}");
}

#[tokio::test]
async fn health_subcommand_checks_https() {
    let (_folder, cert, key, _) = certificate();
    let db = TestDb::new().await;
    let service = TestService::start_with_env(
        db,
        &[
            ("AUTH_FAKE", "true".to_string()),
            ("CERT_FILE", cert.display().to_string()),
            ("KEY_FILE", key.display().to_string()),
        ],
    )
    .await;
    let port = service.url.rsplit(':').next().unwrap().to_string();
    let health = tokio::process::Command::new(env!("CARGO_BIN_EXE_openslides-autoupdate"))
        .arg("health")
        .env("AUTOUPDATE_PORT", &port)
        .env("CERT_FILE", &cert)
        .output()
        .await
        .unwrap();
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
}
