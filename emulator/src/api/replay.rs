//! Handlers of replay requests and replay tasks.

use axum::extract::State;
use serde_json::Value;

use super::extract::{ApiPath, JsonBody, JsonOk, Query, Reply};
use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::requests::ReplayRequest;
use crate::store::ReplayCreated;
use crate::views::{CancelView, Page, ReplayQueuedView, ReplayTaskView};
use crate::wire::parse_id;

/// Default page size of the task list.
const DEFAULT_LIMIT: i64 = 20;
/// Largest page of the task list (larger limits are clamped).
const MAX_LIMIT: i64 = 100;

fn task_id(raw: &str) -> ApiResult<i64> {
    parse_id(raw).ok_or_else(|| ApiError::not_found("Replay task not found"))
}

/// `POST /webhooks/apps/{app_slug}/deliveries/replay`: by ids or by date range.
pub async fn create(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<Value>,
) -> Reply<ReplayQueuedView> {
    let request = ReplayRequest::from_value(body).ok_or_else(ApiError::invalid_payload)?;
    let view = match ctx.store.create_replay(&slug, request)? {
        ReplayCreated::Queued(id) => {
            ctx.replayer.start(id);
            ReplayQueuedView {
                status: "queued",
                message: "Replay task queued",
                task_id: Some(id.to_string()),
            }
        }
        ReplayCreated::Repeat(id) => ReplayQueuedView {
            status: "queued",
            message: "Replay already queued for this idempotency key",
            task_id: Some(id.to_string()),
        },
    };
    Ok(JsonOk(view))
}

/// `GET /webhooks/apps/{app_slug}/deliveries/replay`.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<Page<ReplayTaskView>> {
    let page = query.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    Ok(JsonOk(ctx.store.list_replay_tasks(&slug, page)?))
}

/// `GET /webhooks/apps/{app_slug}/deliveries/replay/{task_id}`.
pub async fn get(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Reply<ReplayTaskView> {
    Ok(JsonOk(ctx.store.get_replay_task(&slug, task_id(&id)?)?))
}

/// `POST /webhooks/apps/{app_slug}/deliveries/replay/{task_id}/cancel`.
pub async fn cancel(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Reply<CancelView> {
    ctx.store.cancel_replay_task(&slug, task_id(&id)?)?;
    Ok(JsonOk(CancelView {
        status: "cancelled",
        message: "Replay task cancellation requested",
    }))
}
