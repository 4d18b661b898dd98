//! The axum extractor (cargo feature `axum`).

use std::fmt;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::{VerifyError, Webhook, WebhookEvent};

/// An axum extractor that accepts only verified deliveries.
///
/// It takes the [`Webhook`] from the router's state (`Webhook: FromRef<S>`), reads the raw body (within axum's
/// body limit, 2 MB unless changed with `axum::extract::DefaultBodyLimit`), verifies it against the system
/// clock with [`Webhook::verify_as`] and yields the event. Refused requests get a short plain-text reason:
/// 400 for missing or malformed headers and for payloads that do not fit `T`, 401 for a signature that does
/// not match or a timestamp outside the window, and axum's own status (such as 413) when the body cannot be
/// read.
///
/// The window is the state's [`Webhook`]'s: by default every retry of a delivery is accepted, up to
/// [`DEFAULT_MAX_AGE`](super::DEFAULT_MAX_AGE) after the trigger (Wacht never retries a 401, so a refused
/// retry would be lost), and timestamps at most [`DEFAULT_MAX_FUTURE_SKEW`](super::DEFAULT_MAX_FUTURE_SKEW)
/// ahead. Retries carry the same [`WebhookEvent::id`]: de-duplicate by it in the handler. Replayed
/// deliveries arrive unwrapped, with the original payload in `data` (see [`WebhookEvent::is_replay`]).
///
/// ```
/// use axum::{routing::post, Router};
/// use wacht_webhooks::{VerifiedWebhook, Webhook};
///
/// async fn receive(VerifiedWebhook(event): VerifiedWebhook) -> &'static str {
///     println!("{} {}: {}", event.id, event.event_type, event.data);
///     "ok"
/// }
///
/// # fn main() -> Result<(), wacht_webhooks::VerifyError> {
/// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// let app: Router = Router::new().route("/webhooks/wacht", post(receive)).with_state(webhook);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedWebhook<T = serde_json::Value>(pub WebhookEvent<T>);

impl<S, T> FromRequest<S> for VerifiedWebhook<T>
where
    Webhook: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = VerifiedWebhookRejection;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let webhook = Webhook::from_ref(state);
        // The headers are moved out rather than cloned; the body limit lives in the extensions, which stay.
        let headers = std::mem::take(req.headers_mut());
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| VerifiedWebhookRejection(Reason::Body(rejection)))?;
        webhook
            .verify_as(&headers, &body)
            .map(VerifiedWebhook)
            .map_err(|error| VerifiedWebhookRejection(Reason::Verify(error)))
    }
}

/// Why [`VerifiedWebhook`] refused a request; it becomes a plain-text response with [`status`](Self::status).
#[derive(Debug)]
pub struct VerifiedWebhookRejection(Reason);

#[derive(Debug)]
enum Reason {
    Body(BytesRejection),
    Verify(VerifyError),
}

impl VerifiedWebhookRejection {
    /// The response status: 400, 401, or the status axum gives to an unreadable body.
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Reason::Body(rejection) => rejection.status(),
            Reason::Verify(error) => status_of(error),
        }
    }

    /// The verification error, unless the body could not be read at all.
    pub fn verify_error(&self) -> Option<&VerifyError> {
        match &self.0 {
            Reason::Body(_) => None,
            Reason::Verify(error) => Some(error),
        }
    }
}

fn status_of(error: &VerifyError) -> StatusCode {
    match error {
        VerifyError::NoMatchingSignature
        | VerifyError::TimestampTooOld
        | VerifyError::TimestampTooNew => StatusCode::UNAUTHORIZED,
        VerifyError::MissingHeader(_)
        | VerifyError::InvalidHeader { .. }
        | VerifyError::InvalidPayload(_) => StatusCode::BAD_REQUEST,
        // Only construction reports a bad secret, so verification cannot; anything else is our fault.
        VerifyError::InvalidSecret(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl fmt::Display for VerifiedWebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Reason::Body(rejection) => f.write_str(&rejection.body_text()),
            Reason::Verify(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for VerifiedWebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Reason::Body(rejection) => Some(rejection),
            Reason::Verify(error) => Some(error),
        }
    }
}

impl IntoResponse for VerifiedWebhookRejection {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;
    use chrono::Utc;
    use serde::Deserialize;

    use super::*;
    use crate::webhook::{DEFAULT_MAX_AGE, DEFAULT_MAX_FUTURE_SKEW};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &str =
        r#"{"type":"order.paid","timestamp":"2024-05-01T12:00:00.000Z","data":{"amount":4200}}"#;

    #[derive(Debug, Deserialize, PartialEq)]
    struct OrderPaid {
        amount: u64,
    }

    /// A request as Wacht would send it; `tweak` may spoil it afterwards.
    fn delivery(body: &str, tweak: impl FnOnce(&mut http::HeaderMap)) -> Request {
        let webhook = Webhook::new(SECRET).unwrap();
        let now = Utc::now().timestamp();
        let mut req = Request::post("/hook")
            .header("content-type", "application/json")
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", now)
            .header(
                "webhook-signature",
                webhook.sign("msg_1", now, body.as_bytes()),
            )
            .body(Body::from(body.to_owned()))
            .unwrap();
        tweak(req.headers_mut());
        req
    }

    async fn extract<T: DeserializeOwned>(
        req: Request,
    ) -> Result<VerifiedWebhook<T>, VerifiedWebhookRejection> {
        VerifiedWebhook::<T>::from_request(req, &Webhook::new(SECRET).unwrap()).await
    }

    async fn rejection_of(req: Request) -> (StatusCode, String) {
        let response = extract::<serde_json::Value>(req)
            .await
            .unwrap_err()
            .into_response();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_signed_delivery_is_extracted() {
        let VerifiedWebhook(event) = extract::<OrderPaid>(delivery(BODY, |_| {})).await.unwrap();
        assert_eq!(event.id, "msg_1");
        assert_eq!(event.event_type, "order.paid");
        assert_eq!(event.data, OrderPaid { amount: 4200 });
    }

    #[tokio::test]
    async fn bad_signatures_and_stale_timestamps_are_401() {
        let tampered = delivery(BODY, |_| {});
        let tampered = tampered.map(|_| Body::from(BODY.replace("4200", "9999")));
        let (status, text) = rejection_of(tampered).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(text, "no matching webhook signature");

        let max_age = DEFAULT_MAX_AGE.as_secs() as i64;
        let (status, text) = rejection_of(signed_at(BODY, -max_age - 5)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(text, "webhook timestamp is too old");

        let skew = DEFAULT_MAX_FUTURE_SKEW.as_secs() as i64;
        let (status, text) = rejection_of(signed_at(BODY, skew + 5)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(text, "webhook timestamp is too far in the future");
    }

    /// A delivery of `body` signed `offset` seconds from now.
    fn signed_at(body: &str, offset: i64) -> Request {
        let webhook = Webhook::new(SECRET).unwrap();
        delivery(body, |headers| {
            let then = Utc::now().timestamp() + offset;
            headers.insert("webhook-timestamp", then.into());
            let signature = webhook.sign("msg_1", then, body.as_bytes());
            headers.insert("webhook-signature", signature.parse().unwrap());
        })
    }

    #[tokio::test]
    async fn the_last_retry_of_a_delivery_is_extracted() {
        // Wacht's 32nd attempt comes 584,490 s after the trigger, signed with the trigger's time.
        let VerifiedWebhook(event) = extract::<OrderPaid>(signed_at(BODY, -584_490))
            .await
            .unwrap();
        assert_eq!(event.data, OrderPaid { amount: 4200 });
        assert!(extract::<OrderPaid>(signed_at(BODY, 60)).await.is_ok());
    }

    #[tokio::test]
    async fn a_replayed_delivery_is_extracted_with_its_original_payload() {
        let replay = format!(
            r#"{{"type":"order.paid","timestamp":"2024-05-02T08:00:00.000Z","data":{BODY}}}"#
        );
        let VerifiedWebhook(event) = extract::<OrderPaid>(delivery(&replay, |_| {}))
            .await
            .unwrap();
        assert_eq!(event.data, OrderPaid { amount: 4200 });
        assert!(event.is_replay());
        assert_eq!(event.timestamp.to_rfc3339(), "2024-05-01T12:00:00+00:00");
        assert_eq!(
            event.replayed_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-05-02T08:00:00+00:00")
        );
    }

    #[tokio::test]
    async fn missing_or_malformed_headers_and_wrong_payloads_are_400() {
        let missing = delivery(BODY, |headers| {
            headers.remove("webhook-id");
        });
        assert_eq!(
            rejection_of(missing).await,
            (
                StatusCode::BAD_REQUEST,
                "missing `webhook-id` header".to_owned()
            )
        );
        let malformed = delivery(BODY, |headers| {
            headers.insert("webhook-timestamp", "soon".parse().unwrap());
        });
        assert_eq!(rejection_of(malformed).await.0, StatusCode::BAD_REQUEST);

        let rejection = extract::<String>(delivery(BODY, |_| {})).await.unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        assert!(matches!(
            rejection.verify_error(),
            Some(VerifyError::InvalidPayload(_))
        ));
    }

    async fn receive(VerifiedWebhook(event): VerifiedWebhook<OrderPaid>) -> String {
        format!("{} {}", event.event_type, event.data.amount)
    }

    /// Serves the extractor on a real socket with a 4 KiB body limit; returns its URL.
    async fn serve() -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
        let app = Router::new()
            .route("/hook", post(receive))
            .layer(DefaultBodyLimit::max(4096))
            .with_state(Webhook::new(SECRET).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        (
            url,
            tokio::spawn(async move { axum::serve(listener, app).await }),
        )
    }

    /// Posts `body` with the headers of a genuine delivery of `signed_body` (spoiled by `tweak`).
    async fn post_to(
        url: &str,
        signed_body: &str,
        body: &str,
        tweak: impl FnOnce(&mut http::HeaderMap),
    ) -> (u16, String) {
        let headers = delivery(signed_body, tweak).headers().clone();
        let response = reqwest::Client::new()
            .post(url)
            .headers(headers)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn a_router_answers_200_400_401_and_413() {
        let (url, server) = serve().await;
        let ok = post_to(&url, BODY, BODY, |_| {}).await;
        assert_eq!(ok, (200, "order.paid 4200".to_owned()));

        let tampered = BODY.replace("4200", "4201");
        assert_eq!(post_to(&url, BODY, &tampered, |_| {}).await.0, 401);

        let unsigned = post_to(&url, BODY, BODY, |headers| {
            headers.remove("webhook-signature");
        });
        assert_eq!(
            unsigned.await,
            (400, "missing `webhook-signature` header".to_owned())
        );

        let huge = BODY.replace("4200", &format!("4200,\"pad\":\"{}\"", "x".repeat(5000)));
        assert_eq!(post_to(&url, &huge, &huge, |_| {}).await.0, 413);
        server.abort();
    }
}
