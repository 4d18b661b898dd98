//! The error envelope every failure answers with: `{"errors":[{"message":"...","code":<status>}]}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::spec::{ErrorBody, ErrorDetail};

/// A failed request: an HTTP status and the message put into the error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

/// The result type of every handler and store operation.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with any status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The message of the error envelope.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 400: a validation failure.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: a missing, other-scheme or wrong API key.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    /// 404 with the resource-specific message of the wire reference.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500: what production answers when its own query fails.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
    }

    /// 405 for a known path with a method it does not serve.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
    }

    /// 409: a unique constraint (app slug, catalog slug) would be violated.
    pub fn conflict() -> Self {
        Self::new(StatusCode::CONFLICT, "Resource already exists")
    }

    /// 413: the body exceeds the accepted size.
    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
    }

    /// 415: a body that is not declared as JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        )
    }

    /// 422: malformed JSON, or a missing or ill-typed field.
    pub fn invalid_payload() -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request payload")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            errors: vec![ErrorDetail {
                message: self.message,
                code: i32::from(self.status.as_u16()),
            }],
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}
