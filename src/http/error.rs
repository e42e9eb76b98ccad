//! The one place that turns errors into HTTP statuses and the error JSON of OpenSlides:
//! `{"error": {"type": ..., "msg": ...}}`.

use crate::auth::AuthError;
use crate::autoupdate::AutoupdateError;
use crate::datastore::DatastoreError;
use crate::history::HistoryError;
use crate::keysbuilder::RequestError;
use crate::repeats::{self, Repeats};
use crate::restrict::RestrictError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// The message of internal errors; their details go to the log only.
const INTERNAL_MESSAGE: &str = "Something went wrong on the server. The admin is already informed.";

/// An error as the client gets it.
#[derive(Debug)]
pub struct ErrorResponse {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub message: String,
}

impl ErrorResponse {
    pub fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        ErrorResponse {
            status,
            error_type,
            message: message.into(),
        }
    }

    /// An internal error: logged with its cause, sent without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            INTERNAL_MESSAGE,
        )
    }

    /// The error JSON followed by a newline, with `type` before `msg` as in the Go
    /// service.
    pub fn body(&self) -> Bytes {
        let quote = |text: &str| serde_json::Value::from(text).to_string();
        let text = format!(
            "{{\"error\": {{\"type\": {}, \"msg\": {}}}}}\n",
            quote(self.error_type),
            quote(&self.message)
        );
        Bytes::from(text)
    }
}

impl From<RequestError> for ErrorResponse {
    fn from(error: RequestError) -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            error.error_type(),
            error.to_string(),
        )
    }
}

impl From<AuthError> for ErrorResponse {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Denied(message) => {
                ErrorResponse::new(StatusCode::FORBIDDEN, "auth", message)
            }
            AuthError::Unavailable(message) => {
                ErrorResponse::new(StatusCode::SERVICE_UNAVAILABLE, "auth", message)
            }
        }
    }
}

impl From<AutoupdateError> for ErrorResponse {
    fn from(error: AutoupdateError) -> Self {
        match error {
            AutoupdateError::Value { .. }
            | AutoupdateError::Restrict(crate::restrict::RestrictError::Value { .. }) => {
                ErrorResponse::new(StatusCode::BAD_REQUEST, "ValueError", error.to_string())
            }
            AutoupdateError::TooManyKeys { .. } => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                error.to_string(),
            ),
            AutoupdateError::Datastore(DatastoreError::Unavailable(_))
            | AutoupdateError::Restrict(RestrictError::Datastore(DatastoreError::Unavailable(_))) =>
            {
                // Clients retry during an outage, so the warning is logged once per
                // interval with the number of failures held back.
                static FAILURES: Repeats = Repeats::new(repeats::WARNING_INTERVAL);
                if let Some(held_back) = FAILURES.check(std::time::Instant::now()) {
                    tracing::warn!(%error, held_back, "request failed: the datastore is unavailable");
                }
                ErrorResponse::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The datastore is unavailable. Try again later.",
                )
            }
            AutoupdateError::Datastore(_) | AutoupdateError::Restrict(_) => {
                ErrorResponse::internal(&error)
            }
        }
    }
}

impl From<HistoryError> for ErrorResponse {
    fn from(error: HistoryError) -> Self {
        // The Go service returns these client errors with status 400 as well.
        let error_type = match &error {
            HistoryError::PositionNotFound { .. } => "invalid_request",
            HistoryError::InvalidFqid(_) => "invalid_input",
            HistoryError::NotExist(_) => "not_exist",
            HistoryError::PermissionDenied(_) => "permission_denied",
            HistoryError::Autoupdate(error) => return error.clone().into(),
        };
        ErrorResponse::new(StatusCode::BAD_REQUEST, error_type, error.to_string())
    }
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_escapes_the_message() {
        let error = ErrorResponse::new(StatusCode::BAD_REQUEST, "SyntaxError", "field \"a\": x\ny");
        assert_eq!(
            &error.body()[..],
            b"{\"error\": {\"type\": \"SyntaxError\", \"msg\": \"field \\\"a\\\": x\\ny\"}}\n"
        );
        let parsed: serde_json::Value = serde_json::from_slice(&error.body()).unwrap();
        assert_eq!(parsed["error"]["msg"], "field \"a\": x\ny");
    }
}
