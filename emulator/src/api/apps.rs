//! Handlers of `/webhooks/apps` and `/webhooks/apps/{app_slug}`.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, PageParams, Query, Reply};
use super::{Ctx, map};
use crate::spec::query::list_webhook_apps as params;
use crate::spec::rules;
use crate::spec::{
    CreateWebhookAppRequest, EmptyObject, UpdateWebhookAppRequest, WebhookApp, WebhookAppPage,
};

/// Largest page of the app list: the emulator's own bound (the spec states none).
const MAX_LIMIT: i64 = 1000;

impl Ctx {
    fn app(&self, app: crate::store::model::App) -> WebhookApp {
        map::app(self.store.deployment_id(), app)
    }
}

/// `create_webhook_app`.
pub async fn create(
    State(ctx): State<Ctx>,
    JsonBody(body): JsonBody<CreateWebhookAppRequest>,
) -> Reply<WebhookApp> {
    Ok(JsonOk(ctx.app(ctx.store.create_app(body)?)))
}

/// `list_webhook_apps`.
pub async fn list(State(ctx): State<Ctx>, query: Query) -> Reply<WebhookAppPage> {
    let names = PageParams {
        limit: params::LIMIT,
        offset: params::OFFSET,
    };
    let page = query.page(names, rules::APPS_LIMIT_DEFAULT, 1..=MAX_LIMIT)?;
    let include_inactive = query.flag(params::INCLUDE_INACTIVE)?;
    let page = ctx
        .store
        .list_apps(include_inactive, query.text(params::SEARCH), page)
        .map(|app| ctx.app(app));
    Ok(JsonOk(WebhookAppPage {
        data: page.data,
        has_more: page.has_more,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// `get_webhook_app`.
pub async fn get(State(ctx): State<Ctx>, ApiPath(slug): ApiPath<String>) -> Reply<WebhookApp> {
    Ok(JsonOk(ctx.app(ctx.store.get_app(&slug)?)))
}

/// `update_webhook_app`.
pub async fn update(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<UpdateWebhookAppRequest>,
) -> Reply<WebhookApp> {
    Ok(JsonOk(ctx.app(ctx.store.update_app(&slug, body)?)))
}

/// `delete_webhook_app`.
pub async fn delete(State(ctx): State<Ctx>, ApiPath(slug): ApiPath<String>) -> Reply<EmptyObject> {
    ctx.store.delete_app(&slug)?;
    Ok(JsonOk(EmptyObject {}))
}

/// `rotate_webhook_secret`.
pub async fn rotate_secret(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
) -> Reply<WebhookApp> {
    Ok(JsonOk(ctx.app(ctx.store.rotate_secret(&slug)?)))
}
