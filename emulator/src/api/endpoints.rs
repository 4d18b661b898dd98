//! Handlers of endpoints: CRUD, test sends and reactivation.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, Query, Reply};
use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::requests::{CreateEndpointRequest, TestEndpointRequest, UpdateEndpointRequest};
use crate::url_policy;
use crate::views::{EmptyView, EndpointView, Page, ReactivateView, TestEndpointView};
use crate::wire::parse_id;

/// Default page size of the endpoint list.
const DEFAULT_LIMIT: i64 = 100;
/// Largest page of the endpoint list.
const MAX_LIMIT: i64 = 1000;
/// The fixed body of the production service's asynchronous test answer.
const TEST_RESPONSE_BODY: &str = "Test webhook initiated. Check delivery history for results.";

fn endpoint_id(raw: &str) -> ApiResult<i64> {
    parse_id(raw).ok_or_else(|| ApiError::not_found("Webhook endpoint not found"))
}

impl Ctx {
    /// Applies the URL policy: any http(s) URL, or the strict production rules.
    async fn check_url(&self, raw: &str) -> ApiResult<()> {
        let url = url_policy::parse(raw).map_err(ApiError::bad_request)?;
        if self.strict_urls && !crate::inbox::is_own_inbox(&url, self.own_addr) {
            url_policy::check_strict(&url, (!self.loopback_only).then_some(&*self.resolver))
                .await
                .map_err(ApiError::bad_request)?;
        }
        Ok(())
    }
}

/// `POST /webhooks/apps/{app_slug}/endpoints`.
pub async fn create(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<CreateEndpointRequest>,
) -> Reply<EndpointView> {
    ctx.check_url(&body.url).await?;
    Ok(JsonOk(ctx.store.create_endpoint(&slug, body)?))
}

/// `GET /webhooks/apps/{app_slug}/endpoints`.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<Page<EndpointView>> {
    let page = query.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let include_inactive = query.flag("include_inactive")?;
    Ok(JsonOk(ctx.store.list_endpoints(
        &slug,
        include_inactive,
        page,
    )?))
}

/// `PATCH /webhooks/apps/{app_slug}/endpoints/{endpoint_id}`.
pub async fn update(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<UpdateEndpointRequest>,
) -> Reply<EndpointView> {
    let id = endpoint_id(&id)?;
    if let Some(url) = &body.url {
        ctx.check_url(url).await?;
    }
    Ok(JsonOk(ctx.store.update_endpoint(&slug, id, body)?))
}

/// `DELETE /webhooks/apps/{app_slug}/endpoints/{endpoint_id}`.
pub async fn delete(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Reply<EmptyView> {
    ctx.store.delete_endpoint(&slug, endpoint_id(&id)?)?;
    Ok(JsonOk(EmptyView {}))
}

/// `POST /webhooks/apps/{app_slug}/endpoints/{endpoint_id}/test`: queues a real `test.webhook` delivery.
pub async fn test(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<TestEndpointRequest>,
) -> Reply<TestEndpointView> {
    let id = endpoint_id(&id)?;
    let delivery_id = ctx
        .store
        .queue_test_delivery(&slug, id, body.event_name, body.payload)?;
    ctx.engine.dispatch(delivery_id);
    Ok(JsonOk(TestEndpointView {
        success: true,
        status_code: 202,
        response_time_ms: 0,
        response_body: TEST_RESPONSE_BODY.to_string(),
        error: None,
    }))
}

/// `POST /webhooks/endpoints/{endpoint_id}/reactivate`.
pub async fn reactivate(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<String>,
) -> Reply<ReactivateView> {
    let url = ctx.store.reactivate_endpoint(endpoint_id(&id)?)?;
    Ok(JsonOk(ReactivateView {
        success: true,
        message: format!("Endpoint {url} reactivated successfully"),
    }))
}
