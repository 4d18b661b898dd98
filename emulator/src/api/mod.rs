//! The HTTP API: routes, authentication and request logging.

mod apps;
mod catalogs;
mod deliveries;
mod endpoints;
mod extract;
mod rate_limit;
mod replay;
mod stats;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::delivery::Engine;
use crate::error::ApiError;
use crate::replay::Replayer;
use crate::store::Store;

pub use rate_limit::RateLimiter;

/// What every handler can reach.
#[derive(Clone)]
pub struct Ctx {
    /// All state.
    pub store: Arc<Store>,
    /// The delivery engine.
    pub engine: Engine,
    /// The replay runner.
    pub replayer: Replayer,
    /// The accepted API key.
    pub api_key: Arc<str>,
    /// Whether endpoint URLs follow the production service's strict policy.
    pub strict_urls: bool,
    /// Whether deliveries stay on loopback (then strict checks resolve no hostnames).
    pub loopback_only: bool,
    /// The API rate limit, when one is configured.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// The resolver deliveries use, so the strict check at save time sees the same addresses.
    pub resolver: Arc<dyn reqwest::dns::Resolve>,
    /// The emulator's own address: its inboxes pass every URL policy.
    pub own_addr: std::net::SocketAddr,
}

/// The router serving every route of the wire reference.
pub fn router(ctx: Ctx) -> Router {
    let apps = "/webhooks/apps/{app_slug}";
    Router::new()
        .route("/webhooks/apps", get(apps::list).post(apps::create))
        .route(
            apps,
            get(apps::get).patch(apps::update).delete(apps::delete),
        )
        .route(&format!("{apps}/rotate-secret"), post(apps::rotate_secret))
        .route(
            &format!("{apps}/endpoints"),
            get(endpoints::list).post(endpoints::create),
        )
        .route(
            &format!("{apps}/endpoints/{{endpoint_id}}"),
            axum::routing::patch(endpoints::update).delete(endpoints::delete),
        )
        .route(
            &format!("{apps}/endpoints/{{endpoint_id}}/test"),
            post(endpoints::test),
        )
        .route(
            "/webhooks/endpoints/{endpoint_id}/reactivate",
            post(endpoints::reactivate),
        )
        .route(&format!("{apps}/trigger"), post(deliveries::trigger))
        .route(&format!("{apps}/deliveries"), get(deliveries::list))
        .route(
            &format!("{apps}/deliveries/{{delivery_id}}"),
            get(deliveries::get),
        )
        .route(
            &format!("{apps}/deliveries/replay"),
            get(replay::list).post(replay::create),
        )
        .route(
            &format!("{apps}/deliveries/replay/{{task_id}}"),
            get(replay::get),
        )
        .route(
            &format!("{apps}/deliveries/replay/{{task_id}}/cancel"),
            post(replay::cancel),
        )
        .route(&format!("{apps}/stats"), get(stats::stats))
        .route(&format!("{apps}/analytics"), get(stats::analytics))
        .route(&format!("{apps}/timeseries"), get(stats::timeseries))
        .route(&format!("{apps}/events"), get(catalogs::app_events))
        .route(&format!("{apps}/catalog"), get(catalogs::app_catalog))
        .route(
            "/webhooks/event-catalogs",
            get(catalogs::list).post(catalogs::create),
        )
        .route(
            "/webhooks/event-catalogs/{slug}",
            get(catalogs::get).put(catalogs::update),
        )
        .route(
            "/webhooks/event-catalogs/{slug}/append-events",
            post(catalogs::append_events),
        )
        .route(
            "/webhooks/event-catalogs/{slug}/archive-event",
            post(catalogs::archive_event),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        // Around the fallbacks too: without the key, unknown routes and methods answer 401 like
        // known ones, so an unauthenticated caller cannot map the API.
        .layer(middleware::from_fn_with_state(ctx.clone(), require_api_key))
        .layer(middleware::from_fn(log_request))
        .with_state(ctx)
}

async fn not_found() -> Response {
    ApiError::not_found("Not found").into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::method_not_allowed().into_response()
}

/// `Authorization: Bearer <key>`: anything else is a 401. An authenticated request over the API
/// rate limit is a 429.
pub(crate) async fn require_api_key(
    State(ctx): State<Ctx>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    match presented {
        Some(key) if constant_time_eq(key.as_bytes(), ctx.api_key.as_bytes()) => {
            let limited = ctx
                .rate_limiter
                .as_ref()
                .and_then(|limiter| limiter.check(Instant::now()));
            match limited {
                Some(wait) => rate_limit::too_many_requests(wait, ctx.store.behaviour()),
                None => next.run(request).await,
            }
        }
        _ => ApiError::unauthorized().into_response(),
    }
}

/// Compares without an early exit, so response times do not reveal how much of a key matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Logs method, route template (never headers or bodies, which carry secrets), status and duration.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
