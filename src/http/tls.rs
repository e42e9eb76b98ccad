//! HTTPS: the service terminates TLS itself when CERT_FILE and KEY_FILE are set, and
//! offers HTTP/2 through ALPN, because browsers allow only a few HTTP/1.1 connections per
//! host and the OpenSlides client opens many streams.

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// A certificate or key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("read the TLS certificate from {path} (set by CERT_FILE): {reason}")]
    Certificate { path: String, reason: String },
    #[error("read the TLS key from {path} (set by KEY_FILE): {reason}")]
    Key { path: String, reason: String },
    #[error("the TLS key in {key} does not fit the certificate in {certificate}: {reason}")]
    Mismatch {
        certificate: String,
        key: String,
        reason: String,
    },
}

/// Loads a PEM certificate chain and private key into a server configuration that
/// offers HTTP/2 and HTTP/1.1.
pub fn server_config(certificate: &str, key: &str) -> Result<Arc<ServerConfig>, TlsError> {
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .and_then(|certificates| certificates.collect::<Result<_, _>>())
        .map_err(|error| TlsError::Certificate {
            path: certificate.to_string(),
            reason: error.to_string(),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Certificate {
            path: certificate.to_string(),
            reason: "the file contains no PEM certificate".into(),
        });
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|error| TlsError::Key {
        path: key.to_string(),
        reason: error.to_string(),
    })?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(certificates, private_key)
        })
        .map_err(|error| TlsError::Mismatch {
            certificate: certificate.to_string(),
            key: key.to_string(),
            reason: error.to_string(),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
