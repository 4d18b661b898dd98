//! Handlers of event catalogs and of the catalog and events of an app.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, Query, Reply};
use super::Ctx;
use crate::requests::{
    AppendEventsRequest, ArchiveEventRequest, CreateCatalogRequest, UpdateCatalogRequest,
};
use crate::views::{AppEventsView, CatalogListView, CatalogView};

/// `GET /webhooks/event-catalogs`: `limit`/`offset` are accepted (when well-formed) and ignored.
pub async fn list(State(ctx): State<Ctx>, query: Query) -> Reply<CatalogListView> {
    query.parse::<i64>("limit")?;
    query.parse::<i64>("offset")?;
    Ok(JsonOk(ctx.store.list_catalogs()))
}

/// `POST /webhooks/event-catalogs`.
pub async fn create(
    State(ctx): State<Ctx>,
    JsonBody(body): JsonBody<CreateCatalogRequest>,
) -> Reply<CatalogView> {
    Ok(JsonOk(ctx.store.create_catalog(body)?))
}

/// `GET /webhooks/event-catalogs/{slug}`.
pub async fn get(State(ctx): State<Ctx>, ApiPath(slug): ApiPath<String>) -> Reply<CatalogView> {
    Ok(JsonOk(ctx.store.get_catalog(&slug)?))
}

/// `PUT /webhooks/event-catalogs/{slug}`.
pub async fn update(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<UpdateCatalogRequest>,
) -> Reply<CatalogView> {
    Ok(JsonOk(ctx.store.update_catalog(&slug, body)?))
}

/// `POST /webhooks/event-catalogs/{slug}/append-events`.
pub async fn append_events(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<AppendEventsRequest>,
) -> Reply<CatalogView> {
    Ok(JsonOk(ctx.store.append_events(&slug, body)?))
}

/// `POST /webhooks/event-catalogs/{slug}/archive-event`.
pub async fn archive_event(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<ArchiveEventRequest>,
) -> Reply<CatalogView> {
    Ok(JsonOk(ctx.store.archive_event(&slug, body)?))
}

/// `GET /webhooks/apps/{app_slug}/catalog`.
pub async fn app_catalog(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
) -> Reply<CatalogView> {
    Ok(JsonOk(ctx.store.app_catalog(&slug)?))
}

/// `GET /webhooks/apps/{app_slug}/events`.
pub async fn app_events(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
) -> Reply<AppEventsView> {
    Ok(JsonOk(ctx.store.app_events(&slug)?))
}
