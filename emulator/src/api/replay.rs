//! Handlers of replay requests and replay tasks.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::extract::{ApiPath, JsonBody, JsonOk, Query, Reply};
use super::Ctx;
use crate::behaviour::Behaviour;
use crate::error::{ApiError, ApiResult};
use crate::requests::ReplayRequest;
use crate::store::{ReplayCreated, ReplayStart};
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
///
/// Queuing takes the replay runner's queue delay. In production behaviour the idempotency key is
/// reserved during that time, so a repeat of the request meanwhile answers without a task id.
pub async fn create(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<Value>,
) -> Reply<ReplayQueuedView> {
    let request = ReplayRequest::from_value(body).ok_or_else(ApiError::invalid_payload)?;
    let behaviour = ctx.store.behaviour();
    let created = match ctx.store.start_replay(&slug, request)? {
        ReplayStart::Done(created) => {
            if let ReplayCreated::Queued(id) = created {
                ctx.replayer.start(id);
                ctx.replayer.queue_pause().await;
            }
            created
        }
        ReplayStart::Reserved(pending) => {
            // Queuing goes on if the client leaves, so the reserved key is always resolved.
            let queuing = tokio::spawn(async move {
                ctx.replayer.queue_pause().await;
                let id = ctx.store.finish_replay(pending)?;
                ctx.replayer.start(id);
                Ok::<_, ApiError>(id)
            });
            let id = queuing.await.map_err(|_| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
            })??;
            ReplayCreated::Queued(id)
        }
    };
    Ok(JsonOk(queued_view(created, behaviour)))
}

/// The answer to a replay request.
fn queued_view(created: ReplayCreated, behaviour: Behaviour) -> ReplayQueuedView {
    let (message, task_id) = match created {
        ReplayCreated::Queued(id) if behaviour.is_production() => {
            ("Webhook deliveries queued for replay", Some(id))
        }
        ReplayCreated::Queued(id) => ("Replay task queued", Some(id)),
        ReplayCreated::Repeat(id) => ("Replay already queued for this idempotency key", Some(id)),
        ReplayCreated::BeingQueued => (
            "Replay request is already being queued for this idempotency key",
            None,
        ),
    };
    ReplayQueuedView {
        status: "queued",
        message,
        task_id: task_id.map(|id| id.to_string()),
    }
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
