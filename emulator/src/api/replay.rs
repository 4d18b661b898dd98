//! Handlers of replay requests and replay tasks.

use axum::extract::State;
use axum::http::StatusCode;

use super::extract::{ApiPath, JsonBody, JsonOk, PageParams, Query, Reply};
use super::{Ctx, map};
use crate::behaviour::Behaviour;
use crate::error::{ApiError, ApiResult};
use crate::spec::query::list_webhook_replay_tasks as params;
use crate::spec::rules;
use crate::spec::{
    CancelReplayTaskResponse, ReplayTaskState, ReplayTaskStatus, ReplayTaskStatusPage,
    ReplayWebhookDeliveriesRequest, ReplayWebhookDeliveryResponse,
};
use crate::store::{ReplayCreated, ReplayStart};
use crate::wire::parse_id;

fn task_id(raw: &str) -> ApiResult<i64> {
    parse_id(raw).ok_or_else(|| ApiError::not_found("Replay task not found"))
}

/// `replay_webhook_deliveries`: by ids or by date range.
///
/// Queuing takes the replay runner's queue delay. In production behaviour the idempotency key is
/// reserved during that time, so a repeat of the request meanwhile answers without a task id.
pub async fn create(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(request): JsonBody<ReplayWebhookDeliveriesRequest>,
) -> Reply<ReplayWebhookDeliveryResponse> {
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
fn queued_view(created: ReplayCreated, behaviour: Behaviour) -> ReplayWebhookDeliveryResponse {
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
    ReplayWebhookDeliveryResponse {
        status: ReplayTaskState::Queued,
        message: message.to_string(),
        task_id: task_id.map(|id| id.to_string()),
    }
}

/// `list_webhook_replay_tasks`.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<ReplayTaskStatusPage> {
    let names = PageParams {
        limit: params::LIMIT,
        offset: params::OFFSET,
    };
    let page = query.page(
        names,
        rules::REPLAY_TASKS_LIMIT_DEFAULT,
        rules::REPLAY_TASKS_LIMIT_MIN..=rules::REPLAY_TASKS_LIMIT_MAX,
    )?;
    let page = ctx
        .store
        .list_replay_tasks(&slug, page)?
        .map(map::replay_task);
    Ok(JsonOk(ReplayTaskStatusPage {
        data: page.data,
        has_more: page.has_more,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// `get_webhook_replay_task_status`.
pub async fn get(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Reply<ReplayTaskStatus> {
    let task = ctx.store.get_replay_task(&slug, task_id(&id)?)?;
    Ok(JsonOk(map::replay_task(task)))
}

/// `cancel_webhook_replay_task`.
pub async fn cancel(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Reply<CancelReplayTaskResponse> {
    ctx.store.cancel_replay_task(&slug, task_id(&id)?)?;
    Ok(JsonOk(CancelReplayTaskResponse {
        status: ReplayTaskState::Cancelled,
        message: "Replay task cancellation requested".to_string(),
    }))
}
