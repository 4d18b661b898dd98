//! The one error type of every call, with the server's own words.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use progenitor_client::ResponseValue;

use crate::generated::types::ErrorBody;
use crate::transport::{
    BodyTooLarge, NOT_ENVELOPE_HEADER, retry_after, retry_after_in_message, snippet,
};

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400 (or another 4xx without a kind of its own): the server rejected the request.
    BadRequest,
    /// 401: the API key is missing or wrong.
    Unauthorized,
    /// 403: the key may not do this.
    Forbidden,
    /// 404: no such app, endpoint, delivery, task or catalog (or a route the server lacks).
    NotFound,
    /// 409: the resource already exists (e.g. an app slug that is taken).
    Conflict,
    /// 422: the body is missing fields or has ill-typed ones.
    Unprocessable,
    /// 429: too many requests; see [`Error::retry_after`].
    RateLimited,
    /// 5xx: the server failed.
    Server,
    /// The request or a wait did not finish in time.
    Timeout,
    /// The request could not be sent or the response not read (DNS, connect, TLS, reset).
    Transport,
    /// A response did not match what the spec promises: a body of another shape, a body longer
    /// than the client reads (`ClientBuilder::max_response_body`), or a status the API does not
    /// use (201, 204, or a redirect: the API never redirects, so the client follows none and
    /// reports the 3xx with its `Location`).
    Decode,
    /// The call's arguments were rejected before anything was sent.
    InvalidInput,
    /// The client is misconfigured (no API key, bad base URL).
    Config,
}

impl ErrorKind {
    fn from_status(status: u16) -> ErrorKind {
        match status {
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            422 => ErrorKind::Unprocessable,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::BadRequest,
        }
    }
}

/// An error of a Wacht Webhooks call.
///
/// `Display` names the operation, the HTTP status and the server's messages, e.g.
/// `get_webhook_app: 404 Not Found: Webhook app not found`.
///
/// ```
/// # fn handle(err: wacht_webhooks::Error) {
/// use wacht_webhooks::ErrorKind;
/// match err.kind() {
///     ErrorKind::NotFound => println!("gone: {}", err.messages().join("; ")),
///     ErrorKind::RateLimited => println!("retry in {:?}", err.retry_after()),
///     _ if err.is_retryable() => println!("transient: {err}"),
///     _ => println!("failed: {err}"),
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    operation: Option<&'static str>,
    status: Option<u16>,
    messages: Vec<String>,
    body_snippet: Option<String>,
    retry_after: Option<Duration>,
    detail: Option<String>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    fn new(kind: ErrorKind, operation: Option<&'static str>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                operation,
                status: None,
                messages: Vec::new(),
                body_snippet: None,
                retry_after: None,
                detail: None,
                source: None,
            }),
        }
    }

    fn with_detail(mut self, detail: impl Into<String>) -> Error {
        self.inner.detail = Some(detail.into());
        self
    }

    fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// An error for arguments rejected before any request.
    pub(crate) fn invalid_input(operation: &'static str, detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput, Some(operation)).with_detail(detail)
    }

    /// An error for a bad client configuration.
    pub(crate) fn config(detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, None).with_detail(detail)
    }

    /// An error for a wait that ran out of time.
    pub(crate) fn timeout(operation: &'static str, detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Timeout, Some(operation)).with_detail(detail)
    }

    /// An error for pages that break the paging contract (they would loop forever).
    pub(crate) fn pagination(operation: &'static str, detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Decode, Some(operation)).with_detail(detail)
    }

    /// An error for a request that could not complete.
    pub(crate) fn transport(operation: &'static str, detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Transport, Some(operation)).with_detail(detail)
    }

    /// Maps an error of the generated client.
    pub(crate) fn from_generated(
        operation: &'static str,
        err: progenitor_client::Error<ErrorBody>,
    ) -> Error {
        use progenitor_client::Error as E;
        let op = Some(operation);
        match err {
            E::ErrorResponse(response) => Error::from_error_response(operation, response),
            E::ResponseBodyError(e) if is_body_too_large(&e) => {
                Error::new(ErrorKind::Decode, op).with_source(e.without_url())
            }
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                let kind = if e.is_timeout() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Transport
                };
                let status = e.status().map(|s| s.as_u16());
                let mut error = Error::new(kind, op).with_source(e.without_url());
                error.inner.status = status;
                error
            }
            E::InvalidResponsePayload(body, e) => {
                let mut error = Error::new(ErrorKind::Decode, op).with_source(e);
                error.inner.body_snippet = Some(snippet(&body));
                error
            }
            E::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                // Only 4xx and 5xx say the request failed; any other status the API does not use
                // (201, 204, a 3xx that was not followed) is an answer the client cannot read.
                let kind = match status {
                    400..=599 => ErrorKind::from_status(status),
                    _ => ErrorKind::Decode,
                };
                let detail = match status {
                    300..=399 => redirect_detail(response.headers().get(http::header::LOCATION)),
                    _ => "the server answered with a status the API does not use".to_string(),
                };
                let mut error = Error::new(kind, op).with_detail(detail);
                error.inner.status = Some(status);
                error.inner.retry_after =
                    retry_after(response.headers().get(http::header::RETRY_AFTER));
                error
            }
            E::InvalidRequest(detail) => {
                Error::new(ErrorKind::InvalidInput, op).with_detail(detail)
            }
            E::Custom(detail) => Error::new(ErrorKind::Transport, op).with_detail(detail),
        }
    }

    fn from_error_response(operation: &'static str, response: ResponseValue<ErrorBody>) -> Error {
        let status = response.status().as_u16();
        let mut error = Error::new(ErrorKind::from_status(status), Some(operation));
        error.inner.status = Some(status);
        error.inner.retry_after = retry_after(response.headers().get(http::header::RETRY_AFTER));
        let raw = response.headers().contains_key(NOT_ENVELOPE_HEADER);
        let messages = response.into_inner().errors.into_iter().map(|e| e.message);
        if raw {
            error.inner.body_snippet = messages.into_iter().next().filter(|s| !s.is_empty());
        } else {
            error.inner.messages = messages.collect();
        }
        if error.inner.retry_after.is_none() && status == 429 {
            // The API's 429 has no `Retry-After` header; its message says how long to wait.
            let mut messages = error.inner.messages.iter();
            error.inner.retry_after = messages.find_map(|m| retry_after_in_message(m));
        }
        error
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The messages of the server's `{"errors":[{"message":...}]}` body, in order; empty when the
    /// body was not that envelope (see [`Error::body_snippet`]) or there was no response.
    pub fn messages(&self) -> &[String] {
        &self.inner.messages
    }

    /// The start of a response body that was not the API's error envelope (an HTML page from a
    /// proxy, plain text), or of a success body that did not decode.
    pub fn body_snippet(&self) -> Option<&str> {
        self.inner.body_snippet.as_deref()
    }

    /// How long the server asked to wait, if it did: its `Retry-After` header, else (on a 429)
    /// the seconds its message names ("Rate limit exceeded. Retry after N seconds", the only
    /// place the API says it). At most a day: a longer wait reads as one day.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The operation that failed, e.g. `get_webhook_app`.
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation
    }

    /// Whether trying again later may succeed: rate limiting, gateway errors (502, 503, 504),
    /// timeouts and transport failures.
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::RateLimited | ErrorKind::Timeout | ErrorKind::Transport => true,
            ErrorKind::Server => self
                .inner
                .status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .is_some_and(crate::transport::is_retryable_status),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        if let Some(operation) = inner.operation {
            write!(f, "{operation}: ")?;
        }
        match inner.status.and_then(|s| StatusCode::from_u16(s).ok()) {
            Some(status) => write!(f, "{status}")?,
            None => f.write_str(kind_phrase(inner.kind))?,
        }
        let words: Vec<&str> = inner
            .messages
            .iter()
            .map(String::as_str)
            .chain(inner.detail.as_deref())
            .collect();
        if !words.is_empty() {
            write!(f, ": {}", words.join("; "))?;
        }
        if let Some(snippet) = &inner.body_snippet {
            write!(f, " (body: {snippet})")?;
        }
        // The whole chain, so that "error sending request" comes with its cause (refused, DNS...).
        let mut source = inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static));
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Whether reading a body failed because it passed the client's limit (not a transport failure:
/// asking again brings the same body).
fn is_body_too_large(err: &reqwest::Error) -> bool {
    let mut source = err.source();
    while let Some(cause) = source {
        if cause.is::<BodyTooLarge>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// What an error says about a redirect: where it pointed, and that it was not followed (the API
/// never redirects, so one comes from something in between, and following it could turn a write
/// into a read that looks like success).
fn redirect_detail(location: Option<&http::HeaderValue>) -> String {
    match location {
        Some(location) => format!(
            "the server redirected to {}; the API never redirects, so the redirect was not followed",
            snippet(location.as_bytes())
        ),
        None => "the server answered with a redirect (no Location); the API never redirects, so it was not followed".to_string(),
    }
}

fn kind_phrase(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout => "timed out",
        ErrorKind::Transport => "request failed",
        ErrorKind::Decode => "unexpected response body",
        ErrorKind::InvalidInput => "invalid input",
        ErrorKind::Config => "invalid client configuration",
        _ => "request failed",
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Error")
            .field("kind", &inner.kind)
            .field("operation", &inner.operation)
            .field("status", &inner.status)
            .field("messages", &inner.messages)
            .field("body_snippet", &inner.body_snippet)
            .field("retry_after", &inner.retry_after)
            .field("detail", &inner.detail)
            .field("source", &inner.source)
            .finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_carries_operation_status_and_messages() {
        let mut err = Error::new(ErrorKind::NotFound, Some("get_webhook_app"));
        err.inner.status = Some(404);
        err.inner.messages = vec!["Webhook app not found".into()];
        assert_eq!(
            err.to_string(),
            "get_webhook_app: 404 Not Found: Webhook app not found"
        );
    }

    #[test]
    fn display_of_a_non_envelope_body_shows_the_snippet() {
        let mut err = Error::new(ErrorKind::Server, Some("list_webhook_apps"));
        err.inner.status = Some(502);
        err.inner.body_snippet = Some("<html>Bad gateway</html>".into());
        assert_eq!(
            err.to_string(),
            "list_webhook_apps: 502 Bad Gateway (body: <html>Bad gateway</html>)"
        );
        assert!(err.is_retryable());
    }

    #[test]
    fn kinds_follow_statuses() {
        assert_eq!(ErrorKind::from_status(400), ErrorKind::BadRequest);
        assert_eq!(ErrorKind::from_status(415), ErrorKind::BadRequest);
        assert_eq!(ErrorKind::from_status(409), ErrorKind::Conflict);
        assert_eq!(ErrorKind::from_status(422), ErrorKind::Unprocessable);
        assert_eq!(ErrorKind::from_status(503), ErrorKind::Server);
    }

    #[test]
    fn errors_are_send_sync_and_std_errors() {
        fn assert_traits<T: StdError + Send + Sync + 'static>() {}
        assert_traits::<Error>();
    }
}
