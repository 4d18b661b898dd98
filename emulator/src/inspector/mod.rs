//! The inspector page at `/_inspector`: static files embedded in the binary, and two read-only
//! JSON routes for what the API does not show (inboxes, the behaviour in force, every attempt of
//! a delivery).
//!
//! The page is a client of the emulator's own API with the same key as everyone else. The key is
//! never part of what is served: the page reads it from the URL fragment (`#key=...`, which
//! browsers do not send) or asks for it.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::json;

use crate::api::{self, Ctx, map};
use crate::inbox::Inboxes;
use crate::store::SentRequest;
use crate::store::model::RowStatus;
use crate::wire::parse_id;

/// Where the page is served.
pub const INSPECTOR_PATH: &str = "/_inspector";

const INDEX_HTML: &str = include_str!("static/index.html");
const APP_JS: &str = include_str!("static/app.js");
const STYLE_CSS: &str = include_str!("static/style.css");

/// Everything from this origin only: no CDN, no inline script.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

#[derive(Clone)]
struct Inspector {
    ctx: Ctx,
    inboxes: Inboxes,
}

/// The page, its assets and its JSON routes (these need the API key), and the inboxes' routes.
pub(crate) fn router(ctx: Ctx, inboxes: Inboxes) -> Router {
    let inboxes_for_routes = inboxes.clone();
    let data = Router::new()
        .route(&format!("{INSPECTOR_PATH}/api/overview"), get(overview))
        .route(
            &format!("{INSPECTOR_PATH}/api/apps/{{app_slug}}/deliveries/{{delivery_id}}"),
            get(sent_request),
        )
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            api::require_api_key,
        ))
        .with_state(Inspector { ctx, inboxes });
    Router::new()
        .route(INSPECTOR_PATH, get(|| asset(INDEX_HTML, "text/html")))
        .route(
            &format!("{INSPECTOR_PATH}/"),
            get(|| asset(INDEX_HTML, "text/html")),
        )
        .route(
            &format!("{INSPECTOR_PATH}/app.js"),
            get(|| asset(APP_JS, "text/javascript")),
        )
        .route(
            &format!("{INSPECTOR_PATH}/style.css"),
            get(|| asset(STYLE_CSS, "text/css")),
        )
        .merge(data)
        .merge(crate::inbox::router(inboxes_for_routes))
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, format!("{content_type}; charset=utf-8")),
            (CONTENT_SECURITY_POLICY, POLICY.to_string()),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// The behaviour in force and every inbox with what it received, newest first.
async fn overview(State(inspector): State<Inspector>) -> Response {
    let behaviour = if inspector.ctx.store.behaviour().is_production() {
        "production"
    } else {
        "documented"
    };
    let overview = json!({
        "behaviour": behaviour,
        "version": env!("CARGO_PKG_VERSION"),
        "inboxes": inspector.inboxes.overview(),
    });
    json_response(StatusCode::OK, &overview)
}

/// A delivery's body as sent and every attempt it made.
async fn sent_request(
    State(inspector): State<Inspector>,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let sent = parse_id(&id).and_then(|id| inspector.ctx.store.sent_request(&slug, id));
    match sent {
        Some(sent) => json_response(StatusCode::OK, &SentRequestView::from(sent)),
        None => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "no such delivery retained for this app"}),
        ),
    }
}

/// A delivery's request and attempts as the page reads them: times in RFC 3339, statuses by their
/// wire names.
#[derive(Serialize)]
struct SentRequestView {
    body: String,
    attempts: Vec<AttemptView>,
}

#[derive(Serialize)]
struct AttemptView {
    at: String,
    status: &'static str,
    url: String,
    status_code: Option<u16>,
    response_time_ms: u64,
    response_body: Option<String>,
    error: Option<&'static str>,
}

impl From<SentRequest> for SentRequestView {
    fn from(sent: SentRequest) -> Self {
        let attempts = sent
            .attempts
            .into_iter()
            .map(|a| AttemptView {
                at: crate::wire::format_time_millis(a.at),
                status: map::row_status(RowStatus::Delivery(a.status)).as_str(),
                url: a.url,
                status_code: a.status_code,
                response_time_ms: a.response_time_ms,
                response_body: a.response_body,
                error: a.error,
            })
            .collect();
        SentRequestView {
            body: sent.body,
            attempts,
        }
    }
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
