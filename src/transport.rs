//! The path every request takes: retries with backoff, `Retry-After`, tracing, and error bodies
//! made readable.
//!
//! The generated client hands each built request to [`Transport::execute`] through progenitor's
//! `exec` hook, so retries and tracing apply to every operation without touching generated code.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, USER_AGENT};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use tracing::Instrument;

use crate::generated;
use crate::generated::types::ErrorBody;
use crate::{ErrorKind, RetryPolicy};

/// Marks an error response whose body was not the API's error envelope; the envelope the
/// generated client reads was made from a snippet of the body instead.
pub(crate) const NOT_ENVELOPE_HEADER: &str = "x-wacht-webhooks-not-envelope";

/// How much of a non-envelope error body is kept for the error message.
const SNIPPET_CHARS: usize = 200;

/// The most of an error body that is read. The API's envelopes are far smaller; a longer body
/// (a proxy's page, a hostile server) is cut here and its connection dropped rather than drained,
/// so that an error never costs more memory than this.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

/// Retry settings of a [`crate::Client`], the most bytes of a success body it reads, and what each
/// request gets when the HTTP client is the caller's own.
#[derive(Clone)]
pub struct Transport {
    pub(crate) policy: RetryPolicy,
    pub(crate) max_response_body: usize,
    /// Set when the caller brought the HTTP client: that client has none of the headers and
    /// timeouts the builder would have configured, so each request carries them.
    pub(crate) per_request: Option<PerRequest>,
}

/// What each request carries when the HTTP client was not built by the client builder.
#[derive(Clone)]
pub(crate) struct PerRequest {
    /// `Authorization`, marked sensitive.
    pub(crate) auth: HeaderValue,
    pub(crate) user_agent: HeaderValue,
    /// The builder's timeout when one was set; the HTTP client's own otherwise.
    pub(crate) timeout: Option<Duration>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("policy", &self.policy)
            .field("max_response_body", &self.max_response_body)
            .field("own_http_client", &self.per_request.is_some())
            .finish()
    }
}

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        check_path(&self.baseurl, request.url().path(), info.operation_id)
            .map_err(progenitor_client::Error::InvalidRequest)?;
        if let Some(extra) = &self.inner().per_request {
            let headers = request.headers_mut();
            headers.insert(AUTHORIZATION, extra.auth.clone());
            headers
                .entry(USER_AGENT)
                .or_insert_with(|| extra.user_agent.clone());
            if extra.timeout.is_some() {
                *request.timeout_mut() = extra.timeout;
            }
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner()
            .execute(self.client(), request, info.operation_id)
            .await
    }
}

/// What to do after an attempt.
enum Next {
    Done,
    RetryAfter(Duration),
}

impl Transport {
    /// Sends `request`, retrying what is safe to retry, inside a tracing span that records the
    /// operation, the status, the attempt and the duration (never headers, so never the key).
    pub(crate) async fn execute(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        operation: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::debug_span!(
            "wacht_webhooks.request",
            operation,
            method = %request.method(),
            path = request.url().path(),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let attempts = self.attempts(client, request, operation, span.clone());
        attempts.instrument(span).await
    }

    async fn attempts(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static str,
        span: tracing::Span,
    ) -> reqwest::Result<reqwest::Response> {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            // Bodies are bytes, so a copy shares them; a streaming body could not be retried.
            let spare = (attempt <= self.policy.max_retries)
                .then(|| request.try_clone())
                .flatten();
            let result = match client.execute(request).await {
                Ok(response) => read_error_body(response, self.max_response_body).await,
                Err(err) => Err(err),
            };
            span.record("attempt", attempt);
            span.record("duration_ms", started.elapsed().as_millis() as u64);
            if let Ok(answer) = &result {
                span.record("status", answer.response.status().as_u16());
            }
            let next = match (&spare, &result) {
                (Some(_), _) => self.within_budget(self.next(&result, operation, attempt), started),
                (None, _) => Next::Done,
            };
            match (next, spare) {
                (Next::RetryAfter(delay), Some(copy)) => {
                    tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                    request = copy;
                }
                _ => return result.map(|answer| answer.response),
            }
        }
    }

    /// Whether the attempt's outcome calls for another attempt, and after how long.
    fn next(&self, result: &reqwest::Result<Answer>, operation: &str, attempt: u32) -> Next {
        let policy = &self.policy;
        // Whether a repeat is harmless, looked up only for outcomes that may call for one.
        let idempotent = || generated::is_idempotent(operation);
        let backoff = || Next::RetryAfter(policy.backoff(attempt));
        match result {
            // A request that never connected never reached the server: any operation may retry.
            Err(err) if err.is_connect() && policy.retries(ErrorKind::Transport) => backoff(),
            Err(err) if err.is_timeout() && policy.retries(ErrorKind::Timeout) && idempotent() => {
                backoff()
            }
            Err(err)
                if err.is_request()
                    && !err.is_timeout()
                    && policy.retries(ErrorKind::Transport)
                    && idempotent() =>
            {
                backoff()
            }
            Err(_) => Next::Done,
            Ok(answer) if retried_status(policy, answer.response.status()) && idempotent() => {
                let header = retry_after(answer.response.headers().get(RETRY_AFTER));
                match header.or(answer.message_wait) {
                    Some(wait) if wait > policy.max_retry_after => Next::Done,
                    Some(wait) => Next::RetryAfter(wait),
                    None => backoff(),
                }
            }
            Ok(_) => Next::Done,
        }
    }

    /// `next`, unless its wait would end after the policy's budget for the call.
    fn within_budget(&self, next: Next, started: Instant) -> Next {
        match (next, self.policy.budget) {
            (Next::RetryAfter(wait), Some(budget))
                if started.elapsed().saturating_add(wait) > budget =>
            {
                Next::Done
            }
            (next, _) => next,
        }
    }
}

/// Whether the policy retries an answer with this status.
fn retried_status(policy: &RetryPolicy, status: StatusCode) -> bool {
    match status.as_u16() {
        429 => policy.retries(ErrorKind::RateLimited),
        502..=504 => policy.retries(ErrorKind::Server),
        _ => false,
    }
}

/// Refuses a request whose path lost the shape of its operation's template.
///
/// Path parameters are percent-encoded, but a URL parser still removes a `.` or `..` segment, and an
/// empty parameter leaves an empty segment: sent as they are, they address another resource than the
/// operation's (`delete_webhook_endpoint(app, "..")` would be `DELETE /webhooks/apps/{app}`, the
/// whole app). The path must be the base URL's path followed by the template's segments, each literal
/// segment as written and each parameter non-empty.
fn check_path(base_url: &str, path: &str, operation: &str) -> Result<(), String> {
    let Some(&(_, _, template)) = generated::OPERATIONS
        .iter()
        .find(|(id, _, _)| *id == operation)
    else {
        return Ok(());
    };
    let base = base_path(base_url);
    let matches = path
        .strip_prefix(base.trim_end_matches('/'))
        .is_some_and(|rest| has_shape(rest.as_bytes(), template.as_bytes()));
    if matches {
        Ok(())
    } else {
        Err(format!(
            "a path parameter of {template} is empty, `.` or `..`, which would address another resource; nothing was sent"
        ))
    }
}

/// The path of a base URL as the URL parser leaves it.
fn base_path(base_url: &str) -> String {
    reqwest::Url::parse(base_url).map_or_else(|_| String::new(), |url| url.path().to_string())
}

/// Whether `path` is `template` with each `{param}` replaced by one or more characters other than
/// `/` (parameters are percent-encoded, so they never contain one).
fn has_shape(path: &[u8], template: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    while t < template.len() {
        if template[t] == b'{' {
            let start = p;
            while p < path.len() && path[p] != b'/' {
                p += 1;
            }
            if p == start {
                return false;
            }
            while t < template.len() && template[t] != b'}' {
                t += 1;
            }
            t += 1;
        } else if p < path.len() && path[p] == template[t] {
            p += 1;
            t += 1;
        } else {
            return false;
        }
    }
    p == path.len()
}

/// 429 and the gateway errors that say "try again": 502, 503, 504.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// The longest wait a server's answer is read as; a longer one is reported as this. No client
/// retries after a day, and a bounded value is safe to add to an `Instant`.
pub(crate) const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses `Retry-After` as delay-seconds or an HTTP date.
pub(crate) fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(LONGEST_RETRY_AFTER));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    let wait = date
        .duration_since(std::time::SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(wait.min(LONGEST_RETRY_AFTER))
}

/// Reads the wait out of the API's rate-limit message, "Rate limit exceeded. Retry after N
/// seconds": the API sends no `Retry-After` header. Case and spacing are not significant; the
/// number must be whole seconds followed by "second(s)"; a huge number reads as
/// [`LONGEST_RETRY_AFTER`].
pub(crate) fn retry_after_in_message(message: &str) -> Option<Duration> {
    const LEAD: &str = "retry after";
    let lower = message.to_ascii_lowercase();
    lower.match_indices(LEAD).find_map(|(at, _)| {
        let rest = lower[at + LEAD.len()..].trim_start();
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || !rest[digits..].trim_start().starts_with("second") {
            return None;
        }
        let seconds = rest[..digits].bytes().fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        Some(Duration::from_secs(seconds).min(LONGEST_RETRY_AFTER))
    })
}

/// A response whose error body, if any, has been read.
struct Answer {
    response: reqwest::Response,
    /// The wait an error message asks for (the API's 429 says it only there).
    message_wait: Option<Duration>,
}

/// Reads an error response's body so that its message can say how long to wait, and makes it
/// readable: error bodies that are not the `{"errors":[...]}` envelope (an HTML page from a
/// proxy, an empty 500) would otherwise reach the generated client as an undecodable body,
/// losing the status. Such bodies are replaced by an envelope carrying a snippet of the original
/// text and marked with [`NOT_ENVELOPE_HEADER`]; the status and headers stay as they were.
///
/// Error bodies are read up to [`MAX_ERROR_BODY`]; any other body is left to the generated client,
/// capped at `max_body` bytes (see [`cap_body`]).
async fn read_error_body(response: reqwest::Response, max_body: usize) -> reqwest::Result<Answer> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(Answer {
            response: cap_body(response, max_body),
            message_wait: None,
        });
    }
    let mut headers = response.headers().clone();
    let body = read_capped(response, MAX_ERROR_BODY).await?;
    let (body, message_wait) = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(envelope) => {
            let wait = (status == StatusCode::TOO_MANY_REQUESTS)
                .then(|| {
                    let mut messages = envelope.errors.iter();
                    messages.find_map(|e| retry_after_in_message(&e.message))
                })
                .flatten();
            (body, wait)
        }
        Err(_) => {
            headers.insert(NOT_ENVELOPE_HEADER, HeaderValue::from_static("1"));
            headers.remove(http::header::CONTENT_LENGTH);
            let envelope = serde_json::json!({
                "errors": [{"message": snippet(&body), "code": status.as_u16()}]
            });
            (Bytes::from(envelope.to_string()), None)
        }
    };
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.headers_mut() = headers;
    Ok(Answer {
        response: reqwest::Response::from(rebuilt),
        message_wait,
    })
}

/// The body of `response` up to `cap` bytes, read chunk by chunk. Reading stops at the cap and
/// the response is dropped with the rest unread, which closes its connection.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> reqwest::Result<Bytes> {
    let expected = response.content_length().unwrap_or(0).min(cap as u64) as usize;
    let mut body = Vec::with_capacity(expected);
    while body.len() < cap {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(Bytes::from(body))
}

/// `response` with a body that fails with [`BodyTooLarge`] once it passes `limit` bytes: the
/// generated client reads success bodies whole, and a server must not be able to make that
/// unbounded. A body whose declared length is within the limit is left as it is (the connection
/// reads no more than the declared length), so that the usual answer costs nothing extra.
fn cap_body(response: reqwest::Response, limit: usize) -> reqwest::Response {
    if response
        .content_length()
        .is_some_and(|length| length <= limit as u64)
    {
        return response;
    }
    let response = http::Response::<reqwest::Body>::from(response);
    reqwest::Response::from(response.map(|inner| {
        reqwest::Body::wrap(Capped {
            inner,
            left: limit,
            limit,
        })
    }))
}

/// A success body that passed the client's limit; see `ClientBuilder::max_response_body`.
#[derive(Debug)]
pub(crate) struct BodyTooLarge {
    pub(crate) limit: usize,
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the response body is longer than the client's limit of {} bytes (ClientBuilder::max_response_body)",
            self.limit
        )
    }
}

impl std::error::Error for BodyTooLarge {}

/// A body that fails once more than `limit` bytes have come through, or at once when its
/// declared length is already more.
struct Capped {
    inner: reqwest::Body,
    left: usize,
    limit: usize,
}

impl http_body::Body for Capped {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let limit = self.limit;
        let too_large = || Box::new(BodyTooLarge { limit }) as Self::Error;
        if http_body::Body::size_hint(&self.inner).lower() > self.left as u64 {
            return Poll::Ready(Some(Err(too_large())));
        }
        let frame = match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            Some(Err(err)) => return Poll::Ready(Some(Err(err.into()))),
            None => return Poll::Ready(None),
        };
        if let Some(data) = frame.data_ref() {
            match self.left.checked_sub(data.len()) {
                Some(left) => self.left = left,
                None => return Poll::Ready(Some(Err(too_large()))),
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// The start of a body as text, whitespace collapsed, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > SNIPPET_CHARS {
        let cut: String = collapsed.chars().take(SNIPPET_CHARS).collect();
        format!("{cut}…")
    } else {
        collapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_policy() {
        let all = RetryPolicy::new();
        for status in [429, 502, 503, 504] {
            assert!(retried_status(&all, StatusCode::from_u16(status).unwrap()));
        }
        for status in [400, 404, 500, 501] {
            assert!(!retried_status(&all, StatusCode::from_u16(status).unwrap()));
        }
        let limits_only = RetryPolicy::new().retry_on([ErrorKind::RateLimited]);
        assert!(retried_status(&limits_only, StatusCode::TOO_MANY_REQUESTS));
        assert!(!retried_status(
            &limits_only,
            StatusCode::SERVICE_UNAVAILABLE
        ));
    }

    #[test]
    fn a_budget_stops_a_retry_that_would_end_after_it() {
        let transport = Transport {
            policy: RetryPolicy::new().budget(Duration::from_secs(1)),
            max_response_body: 1024,
            per_request: None,
        };
        let started = Instant::now();
        let short = transport.within_budget(Next::RetryAfter(Duration::from_millis(10)), started);
        assert!(matches!(short, Next::RetryAfter(_)));
        let long = transport.within_budget(Next::RetryAfter(Duration::from_secs(2)), started);
        assert!(matches!(long, Next::Done));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let secs = HeaderValue::from_static("7");
        assert_eq!(retry_after(Some(&secs)), Some(Duration::from_secs(7)));
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(Some(&past)), Some(Duration::ZERO));
        // The two obsolete forms HTTP still requires recipients to accept.
        let rfc850 = HeaderValue::from_static("Wednesday, 21-Oct-15 07:28:00 GMT");
        assert_eq!(retry_after(Some(&rfc850)), Some(Duration::ZERO));
        let asctime = HeaderValue::from_static("Wed Oct 21 07:28:00 2015");
        assert_eq!(retry_after(Some(&asctime)), Some(Duration::ZERO));
        let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(90));
        let wait = retry_after(Some(&HeaderValue::from_str(&soon).unwrap())).unwrap();
        assert!(
            wait > Duration::from_secs(80) && wait <= Duration::from_secs(90),
            "{wait:?}"
        );
        let junk = HeaderValue::from_static("soon");
        assert_eq!(retry_after(Some(&junk)), None);
        assert_eq!(retry_after(None), None);
        let huge = HeaderValue::from_static("18446744073709551615");
        assert_eq!(retry_after(Some(&huge)), Some(LONGEST_RETRY_AFTER));
    }

    #[test]
    fn retry_after_is_read_from_the_rate_limit_message() {
        let secs = Duration::from_secs;
        let read = retry_after_in_message;
        assert_eq!(
            read("Rate limit exceeded. Retry after 60 seconds"),
            Some(secs(60))
        );
        assert_eq!(
            read("rate limit exceeded. RETRY AFTER  1 second"),
            Some(secs(1))
        );
        assert_eq!(read("Retry after 0 seconds"), Some(Duration::ZERO));
        assert_eq!(read("ÄÖ: retry after 7 seconds."), Some(secs(7)));
        assert_eq!(
            read("Retry after soon. Retry after 3 seconds"),
            Some(secs(3))
        );
        let huge = format!("Retry after {} seconds", "9".repeat(400));
        assert_eq!(read(&huge), Some(LONGEST_RETRY_AFTER));
        assert_eq!(read("Retry after 86401 seconds"), Some(LONGEST_RETRY_AFTER));
        for other in [
            "Rate limit exceeded",
            "Retry after",
            "Retry after seconds",
            "Retry after -5 seconds",
            "Retry after 1.5 seconds",
            "Retry after 5 minutes",
            "Retry after 5",
            "",
        ] {
            assert_eq!(read(other), None, "{other:?}");
        }
    }

    #[test]
    fn paths_must_keep_the_shape_of_their_template() {
        let op = "delete_webhook_endpoint";
        let base = "http://127.0.0.1:8787";
        assert_eq!(
            check_path(base, "/webhooks/apps/a%2Fb/endpoints/1", op),
            Ok(())
        );
        assert_eq!(
            check_path(base, "/webhooks/apps/a/endpoints/..x", op),
            Ok(())
        );
        // `..` was removed by the URL parser; `.` too; an empty id leaves an empty segment.
        assert!(check_path(base, "/webhooks/apps/a", op).is_err());
        assert!(check_path(base, "/webhooks/apps/a/endpoints/", op).is_err());
        assert!(check_path(base, "/webhooks/apps/endpoints/1", op).is_err());
        // A base URL with a path.
        let base = "http://127.0.0.1:8787/api/";
        assert_eq!(
            check_path(base, "/api/webhooks/apps/a/endpoints/1", op),
            Ok(())
        );
        assert!(check_path(base, "/webhooks/apps/a/endpoints/1", op).is_err());
        assert!(check_path(base, "/api/webhooks/apps/a", op).is_err());
        // A base URL that needs parsing to know its path.
        let base = "http://127.0.0.1:8787/a/./api%2f";
        assert_eq!(
            check_path(base, "/a/api%2f/webhooks/apps/a/endpoints/1", op),
            Ok(())
        );
        assert!(check_path(base, "/a/api%2f/webhooks/apps/a", op).is_err());
        // Operations without parameters must match their path too.
        let base = "https://api.wacht.dev";
        assert_eq!(
            check_path(base, "/webhooks/apps", "list_webhook_apps"),
            Ok(())
        );
        assert_eq!(check_path(base, "/anything", "no_such_operation"), Ok(()));
        assert!(has_shape(b"/x/ab/y", b"/x/{p}/y"));
        assert!(!has_shape(b"/x//y", b"/x/{p}/y"));
        assert!(!has_shape(b"/x/ab/y/", b"/x/{p}/y"));
        assert!(!has_shape(b"/x/ab", b"/x/{p}/y"));
    }

    #[test]
    fn snippets_are_short_and_single_line() {
        let html = format!("<html>\n  <body>{}</body></html>", "x".repeat(500));
        let s = snippet(html.as_bytes());
        assert!(s.starts_with("<html> <body>xxx"));
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert_eq!(snippet(b""), "");
    }
}
