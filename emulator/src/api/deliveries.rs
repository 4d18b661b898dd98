//! Handlers of triggers and the delivery log.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, Query, Reply};
use super::Ctx;
use crate::error::ApiError;
use crate::requests::TriggerRequest;
use crate::store::DeliveryFilter;
use crate::views::{DeliveryDetailsView, DeliveryView, Page, TriggerView};
use crate::wire::parse_id;

/// Default page size of the delivery list.
const DEFAULT_LIMIT: i64 = 100;
/// Largest page of the delivery list.
const MAX_LIMIT: i64 = 1000;

/// `POST /webhooks/apps/{app_slug}/trigger`.
pub async fn trigger(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<TriggerRequest>,
) -> Reply<TriggerView> {
    let outcome = ctx.store.trigger(&slug, &body.event_name, body.payload)?;
    outcome
        .delivery_ids
        .iter()
        .for_each(|id| ctx.engine.dispatch(*id));
    let delivered = outcome.delivery_ids.len() as u64;
    Ok(JsonOk(TriggerView {
        delivery_ids: outcome.delivery_ids.iter().map(i64::to_string).collect(),
        filtered_count: outcome.filtered_count,
        delivered_count: delivered,
    }))
}

/// `GET /webhooks/apps/{app_slug}/deliveries`.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<Page<DeliveryView>> {
    let page = query.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let filter = DeliveryFilter {
        status: query.text("status").map(str::to_string),
        event_name: query.text("event_name").map(str::to_string),
        endpoint_id: query.id_filter("endpoint_id"),
        since: query.time("since")?,
        until: query.time("until")?,
    };
    Ok(JsonOk(ctx.store.list_deliveries(&slug, &filter, page)?))
}

/// `GET /webhooks/apps/{app_slug}/deliveries/{delivery_id}`.
pub async fn get(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    query: Query,
) -> Reply<DeliveryDetailsView> {
    let id = parse_id(&id).ok_or_else(|| ApiError::bad_request("Invalid delivery ID"))?;
    Ok(JsonOk(ctx.store.get_delivery(
        &slug,
        id,
        query.text("status"),
    )?))
}
