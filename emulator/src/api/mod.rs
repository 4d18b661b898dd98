//! The HTTP API: routes, authentication and request logging.

mod apps;
mod catalogs;
#[cfg(all(feature = "validate-responses", debug_assertions))]
mod conformance;
mod deliveries;
mod endpoints;
mod extract;
pub(crate) mod map;
mod rate_limit;
mod replay;
mod stats;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::delivery::Engine;
use crate::error::ApiError;
use crate::replay::Replayer;
use crate::spec::{Handlers, handler};
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

/// The router serving every operation of the spec, each on the method and path the spec gives it.
pub fn router(ctx: Ctx) -> Router {
    let handlers = Handlers {
        create_webhook_app: handler(apps::create),
        list_webhook_apps: handler(apps::list),
        get_webhook_app: handler(apps::get),
        update_webhook_app: handler(apps::update),
        delete_webhook_app: handler(apps::delete),
        rotate_webhook_secret: handler(apps::rotate_secret),
        create_webhook_endpoint: handler(endpoints::create),
        list_webhook_endpoints: handler(endpoints::list),
        update_webhook_endpoint: handler(endpoints::update),
        delete_webhook_endpoint: handler(endpoints::delete),
        test_webhook_endpoint: handler(endpoints::test),
        reactivate_webhook_endpoint: handler(endpoints::reactivate),
        list_webhook_deliveries: handler(deliveries::list),
        get_webhook_delivery: handler(deliveries::get),
        replay_webhook_deliveries: handler(replay::create),
        list_webhook_replay_tasks: handler(replay::list),
        get_webhook_replay_task_status: handler(replay::get),
        cancel_webhook_replay_task: handler(replay::cancel),
        trigger_webhook_event: handler(deliveries::trigger),
        list_webhook_events: handler(catalogs::app_events),
        get_webhook_catalog: handler(catalogs::app_catalog),
        get_webhook_stats: handler(stats::stats),
        get_webhook_analytics: handler(stats::analytics),
        get_webhook_timeseries: handler(stats::timeseries),
        list_webhook_event_catalogs: handler(catalogs::list),
        create_webhook_event_catalog: handler(catalogs::create),
        get_webhook_event_catalog: handler(catalogs::get),
        update_webhook_event_catalog: handler(catalogs::update),
        append_webhook_event_catalog_events: handler(catalogs::append_events),
        archive_webhook_event_in_catalog: handler(catalogs::archive_event),
    };
    let router = handlers
        .router()
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found);
    #[cfg(all(feature = "validate-responses", debug_assertions))]
    let router = router.layer(middleware::from_fn(conformance::validate));
    router
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
        // Constant time, so response times do not reveal how much of a key matched.
        Some(key) if bool::from(key.as_bytes().ct_eq(ctx.api_key.as_bytes())) => {
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

#[cfg(test)]
mod tests {
    use crate::Emulator;
    use crate::spec::OPERATIONS;

    /// A second net behind `Handlers` (where a missing operation does not compile): every
    /// operation answers on its method and path, not with the unknown-route or wrong-method answer.
    #[tokio::test]
    async fn every_operation_of_the_spec_has_an_emulator_route() {
        let emu = Emulator::builder()
            .api_key("routes_key")
            .start()
            .await
            .unwrap();
        let client = reqwest::Client::new();
        for op in OPERATIONS {
            let path = op.path.replace('{', "p_").replace('}', "");
            let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
            let response = client
                .request(method, format!("{}{path}", emu.base_url()))
                .bearer_auth("routes_key")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let unrouted = status == 405 || (status == 404 && body.contains(r#""Not found""#));
            assert!(
                !unrouted,
                "operation `{}` ({} {}) has no emulator route: {status} {body}",
                op.id, op.method, op.path
            );
        }
        emu.shutdown().await;
    }
}
