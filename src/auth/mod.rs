//! Authentication as OpenSlides' auth service defines it: an access token in the
//! `Authentication` header and a refresh token in the `refreshId` cookie, both HS256
//! JWTs. `Auth::authenticate` turns a request's headers into a user id, refreshing an
//! expired access token through the auth service.

mod logout;

pub use logout::{Logouts, REMEMBER_LOGOUTS};

use axum::http::{header, HeaderMap};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// The signing keys OpenSlides uses in development setups.
pub const DEVELOPMENT_TOKEN_KEY: &str = "auth-dev-token-key";
pub const DEVELOPMENT_COOKIE_KEY: &str = "auth-dev-cookie-key";

/// The header with the access token, and the one the refreshed token is returned in.
pub const AUTH_HEADER: &str = "authentication";
const COOKIE_NAME: &str = "refreshId";
const REFRESH_PATH: &str = "/internal/auth/authenticate";

/// How long a refresh through the auth service may take.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(5);

/// The authentication settings of this instance.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Every request is user 1, without checks.
    pub fake: bool,
    pub token_key: String,
    pub cookie_key: String,
    /// Base URL of the auth service, such as `http://localhost:9004`.
    pub service_url: String,
}

/// The reasons a request is not authenticated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The credentials are missing, invalid or logged out (403).
    #[error("{0}")]
    Denied(String),
    /// The auth service could not refresh an expired token (503).
    #[error("{0}")]
    Unavailable(String),
}

/// The user and session that sent a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user id; 0 is public access.
    pub user_id: u64,
    /// The session of a logged-in user.
    pub session_id: Option<String>,
    /// A new access token from the auth service, for the response's `Authentication`
    /// header.
    pub new_token: Option<String>,
}

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "userId", default)]
    pub user_id: i64,
    #[serde(rename = "sessionId", default)]
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
}

/// Authenticates requests.
#[derive(Clone)]
pub struct Auth {
    settings: Arc<AuthSettings>,
    http: reqwest::Client,
    logouts: Logouts,
}

impl Auth {
    pub fn new(settings: AuthSettings) -> Auth {
        let http = reqwest::Client::builder()
            .timeout(REFRESH_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Auth {
            settings: Arc::new(settings),
            http,
            logouts: Logouts::default(),
        }
    }

    /// Authentication with OpenSlides' public development keys and the auth service on
    /// its default address, as in a development setup.
    pub fn development() -> Auth {
        Auth::new(AuthSettings {
            fake: false,
            token_key: DEVELOPMENT_TOKEN_KEY.into(),
            cookie_key: DEVELOPMENT_COOKIE_KEY.into(),
            service_url: "http://localhost:9004".into(),
        })
    }

    /// Sessions that were logged out.
    pub fn logouts(&self) -> &Logouts {
        &self.logouts
    }

    pub fn is_fake(&self) -> bool {
        self.settings.fake
    }

    /// Finds the user of a request. No token and no cookie is public access (user 0).
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Authenticated, AuthError> {
        if self.settings.fake {
            return Ok(Authenticated {
                user_id: 1,
                session_id: None,
                new_token: None,
            });
        }

        // A header that is not text is a malformed credential, not a missing one.
        let header = match headers.get(AUTH_HEADER).map(|value| value.to_str()) {
            None => None,
            Some(Ok(value)) => Some(value),
            Some(Err(_)) => return Err(denied("Invalid auth token")),
        };
        let token = header.and_then(|value| value.strip_prefix("bearer "));
        if headers
            .get_all(header::COOKIE)
            .iter()
            .any(|value| value.to_str().is_err())
        {
            return Err(denied("Invalid auth token"));
        }
        let cookie = refresh_cookie(headers);
        let (token, cookie) = match (token, cookie) {
            (None, None) => {
                return Ok(Authenticated {
                    user_id: 0,
                    session_id: None,
                    new_token: None,
                })
            }
            (Some(_), None) => return Err(denied("Can not find auth cookie")),
            (None, Some(_)) => return Err(denied("Can not find auth token")),
            (Some(token), Some(cookie)) => (token, cookie),
        };

        verify(&cookie, &self.settings.cookie_key).map_err(|_| denied("Invalid auth token"))?;
        let (claims, new_token) = match verify(token, &self.settings.token_key) {
            Ok(claims) => (claims, None),
            Err(Invalid::Expired(claims)) => {
                let new_token = self.refresh(token, &cookie).await?;
                (claims, Some(new_token))
            }
            Err(Invalid::Other) => return Err(denied("Invalid auth token")),
        };

        if claims.user_id as u64 > crate::models::MAX_ID && claims.user_id > 0 {
            return Err(denied("Invalid auth token"));
        }
        if claims.user_id <= 0 {
            return Ok(Authenticated {
                user_id: 0,
                session_id: None,
                new_token,
            });
        }
        if self.logouts.is_logged_out(&claims.session_id) {
            return Err(denied("invalid session"));
        }
        Ok(Authenticated {
            user_id: claims.user_id as u64,
            session_id: Some(claims.session_id),
            new_token,
        })
    }

    /// Asks the auth service for a new access token.
    async fn refresh(&self, token: &str, cookie: &str) -> Result<String, AuthError> {
        let url = format!("{}{REFRESH_PATH}", self.settings.service_url);
        let unavailable = |reason: String| {
            tracing::warn!(%url, reason, "refreshing an access token failed");
            AuthError::Unavailable(
                "the auth service could not refresh the access token; try again later".into(),
            )
        };

        let response = self
            .http
            .post(&url)
            .header(AUTH_HEADER, format!("bearer {token}"))
            .header(header::COOKIE, format!("{COOKIE_NAME}=bearer%20{cookie}"))
            .send()
            .await
            .map_err(|err| unavailable(err.to_string()))?;

        match response.status().as_u16() {
            200 => {}
            403 => return Err(denied("Invalid Session")),
            status => return Err(unavailable(format!("status {status}"))),
        }
        if let Some(new_token) = response
            .headers()
            .get(AUTH_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty())
        {
            return Ok(new_token.to_string());
        }

        #[derive(Deserialize)]
        struct Message {
            #[serde(default)]
            message: String,
        }
        let body = response.bytes().await.unwrap_or_default();
        let message = serde_json::from_slice::<Message>(&body)
            .map(|body| body.message)
            .unwrap_or_default();
        if message.is_empty() {
            return Err(denied("Can not refresh token"));
        }
        Err(AuthError::Denied(message))
    }
}

fn denied(message: &str) -> AuthError {
    AuthError::Denied(message.to_string())
}

/// Extracts the refresh token of the `refreshId` cookie, without its `bearer%20` prefix.
fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| {
            let value = value.trim_matches('"');
            let value = value
                .strip_prefix("bearer%20")
                .or_else(|| value.strip_prefix("bearer "))
                .unwrap_or(value);
            value.to_string()
        })
}

enum Invalid {
    /// The signature is valid, but the token expired or is not valid yet.
    Expired(Claims),
    Other,
}

/// Checks an HS256 token's signature and its `exp` and `nbf` claims, when present.
fn verify(token: &str, key: &str) -> Result<Claims, Invalid> {
    let key = DecodingKey::from_secret(key.as_bytes());
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_nbf = true;
    validation.leeway = 0;

    match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature
            ) =>
        {
            validation.validate_exp = false;
            validation.validate_nbf = false;
            match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
                Ok(data) => Err(Invalid::Expired(data.claims)),
                Err(_) => Err(Invalid::Other),
            }
        }
        Err(_) => Err(Invalid::Other),
    }
}

/// Signs claims as an HS256 token, as the auth service does.
pub fn sign(claims: &impl Serialize, key: &str) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
}

#[cfg(test)]
mod tests;
