//! Handlers of event catalogs and of the catalog and events of an app.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, Query, Reply};
use super::{Ctx, map};
use crate::spec::query::list_webhook_event_catalogs as params;
use crate::spec::{
    AppendWebhookEventCatalogEventsRequest, ArchiveWebhookEventRequest,
    CreateWebhookEventCatalogRequest, UpdateWebhookEventCatalogRequest, WebhookAppEventList,
    WebhookEventCatalog, WebhookEventCatalogPage,
};
use crate::store::model::Catalog;

impl Ctx {
    fn catalog(&self, catalog: Catalog) -> WebhookEventCatalog {
        map::catalog(self.store.deployment_id(), catalog)
    }
}

/// `list_webhook_event_catalogs`: `limit`/`offset` are accepted (when well-formed) and ignored.
pub async fn list(State(ctx): State<Ctx>, query: Query) -> Reply<WebhookEventCatalogPage> {
    query.parse::<i64>(params::LIMIT)?;
    query.parse::<i64>(params::OFFSET)?;
    let data = ctx
        .store
        .list_catalogs()
        .into_iter()
        .map(|c| ctx.catalog(c))
        .collect();
    Ok(JsonOk(WebhookEventCatalogPage {
        data,
        has_more: false,
        limit: None,
        offset: None,
    }))
}

/// `create_webhook_event_catalog`.
pub async fn create(
    State(ctx): State<Ctx>,
    JsonBody(body): JsonBody<CreateWebhookEventCatalogRequest>,
) -> Reply<WebhookEventCatalog> {
    Ok(JsonOk(ctx.catalog(ctx.store.create_catalog(body)?)))
}

/// `get_webhook_event_catalog`.
pub async fn get(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
) -> Reply<WebhookEventCatalog> {
    Ok(JsonOk(ctx.catalog(ctx.store.get_catalog(&slug)?)))
}

/// `update_webhook_event_catalog`.
pub async fn update(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<UpdateWebhookEventCatalogRequest>,
) -> Reply<WebhookEventCatalog> {
    Ok(JsonOk(ctx.catalog(ctx.store.update_catalog(&slug, body)?)))
}

/// `append_webhook_event_catalog_events`.
pub async fn append_events(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<AppendWebhookEventCatalogEventsRequest>,
) -> Reply<WebhookEventCatalog> {
    Ok(JsonOk(ctx.catalog(ctx.store.append_events(&slug, body)?)))
}

/// `archive_webhook_event_in_catalog`.
pub async fn archive_event(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<ArchiveWebhookEventRequest>,
) -> Reply<WebhookEventCatalog> {
    Ok(JsonOk(ctx.catalog(ctx.store.archive_event(&slug, body)?)))
}

/// `get_webhook_catalog`.
pub async fn app_catalog(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
) -> Reply<WebhookEventCatalog> {
    Ok(JsonOk(ctx.catalog(ctx.store.app_catalog(&slug)?)))
}

/// `list_webhook_events`.
pub async fn app_events(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
) -> Reply<WebhookAppEventList> {
    let (app, catalog) = ctx.store.app_events(&slug)?;
    Ok(JsonOk(WebhookAppEventList {
        events: map::app_events(ctx.store.deployment_id(), &app, catalog),
    }))
}
