//! Handlers of triggers and the delivery log.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, PageParams, Query, Reply};
use super::{Ctx, map};
use crate::error::ApiError;
use crate::spec::query::{get_webhook_delivery, list_webhook_deliveries as params};
use crate::spec::rules;
use crate::spec::{
    TriggerWebhookEventRequest, TriggerWebhookEventResponse, WebhookDeliveryDetails,
    WebhookDeliveryPage,
};
use crate::store::DeliveryFilter;
use crate::wire::parse_id;

/// Largest page of the delivery list: the emulator's own bound (the spec states none).
const MAX_LIMIT: i64 = 1000;

/// `trigger_webhook_event`.
pub async fn trigger(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<TriggerWebhookEventRequest>,
) -> Reply<TriggerWebhookEventResponse> {
    let outcome = ctx.store.trigger(&slug, &body.event_name, body.payload)?;
    outcome
        .delivery_ids
        .iter()
        .for_each(|id| ctx.engine.dispatch(*id));
    let delivered = outcome.delivery_ids.len() as i64;
    Ok(JsonOk(TriggerWebhookEventResponse {
        delivery_ids: outcome.delivery_ids.iter().map(i64::to_string).collect(),
        filtered_count: outcome.filtered_count as i64,
        delivered_count: delivered,
    }))
}

/// `list_webhook_deliveries`.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<WebhookDeliveryPage> {
    let names = PageParams {
        limit: params::LIMIT,
        offset: params::OFFSET,
    };
    let page = query.page(names, rules::DELIVERIES_LIMIT_DEFAULT, 1..=MAX_LIMIT)?;
    let filter = DeliveryFilter {
        status: query.text(params::STATUS).map(map::parse_row_status),
        event_name: query.text(params::EVENT_NAME).map(str::to_string),
        endpoint_id: query.id_filter(params::ENDPOINT_ID),
        since: query.time(params::SINCE)?,
        until: query.time(params::UNTIL)?,
    };
    let deployment_id = ctx.store.deployment_id();
    let page = ctx
        .store
        .list_deliveries(&slug, &filter, page)?
        .map(|row| map::delivery(deployment_id, row));
    Ok(JsonOk(WebhookDeliveryPage {
        data: page.data,
        has_more: page.has_more,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// `get_webhook_delivery`.
pub async fn get(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    query: Query,
) -> Reply<WebhookDeliveryDetails> {
    let id = parse_id(&id).ok_or_else(|| ApiError::bad_request("Invalid delivery ID"))?;
    let status = query
        .text(get_webhook_delivery::STATUS)
        .map(map::parse_row_status);
    let details = ctx.store.get_delivery(&slug, id, status)?;
    Ok(JsonOk(map::delivery_details(
        ctx.store.deployment_id(),
        details,
    )))
}
