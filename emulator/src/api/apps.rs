//! Handlers of `/webhooks/apps` and `/webhooks/apps/{app_slug}`.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, Query, Reply};
use super::Ctx;
use crate::requests::{CreateAppRequest, UpdateAppRequest};
use crate::views::{AppView, EmptyView, Page};

/// Default page size of the app list.
const DEFAULT_LIMIT: i64 = 50;
/// Largest page of the app list.
const MAX_LIMIT: i64 = 1000;

/// `POST /webhooks/apps`.
pub async fn create(
    State(ctx): State<Ctx>,
    JsonBody(body): JsonBody<CreateAppRequest>,
) -> Reply<AppView> {
    Ok(JsonOk(ctx.store.create_app(body)?))
}

/// `GET /webhooks/apps`.
pub async fn list(State(ctx): State<Ctx>, query: Query) -> Reply<Page<AppView>> {
    let page = query.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let include_inactive = query.flag("include_inactive")?;
    Ok(JsonOk(ctx.store.list_apps(
        include_inactive,
        query.text("search"),
        page,
    )))
}

/// `GET /webhooks/apps/{app_slug}`.
pub async fn get(State(ctx): State<Ctx>, ApiPath(slug): ApiPath<String>) -> Reply<AppView> {
    Ok(JsonOk(ctx.store.get_app(&slug)?))
}

/// `PATCH /webhooks/apps/{app_slug}`.
pub async fn update(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<UpdateAppRequest>,
) -> Reply<AppView> {
    Ok(JsonOk(ctx.store.update_app(&slug, body)?))
}

/// `DELETE /webhooks/apps/{app_slug}`.
pub async fn delete(State(ctx): State<Ctx>, ApiPath(slug): ApiPath<String>) -> Reply<EmptyView> {
    ctx.store.delete_app(&slug)?;
    Ok(JsonOk(EmptyView {}))
}

/// `POST /webhooks/apps/{app_slug}/rotate-secret`.
pub async fn rotate_secret(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
) -> Reply<AppView> {
    Ok(JsonOk(ctx.store.rotate_secret(&slug)?))
}
