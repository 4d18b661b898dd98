//! Handlers of endpoints: CRUD, test sends and reactivation.

use axum::extract::State;

use super::extract::{ApiPath, JsonBody, JsonOk, PageParams, Query, Reply};
use super::{Ctx, map};
use crate::error::{ApiError, ApiResult};
use crate::spec::query::list_webhook_endpoints as params;
use crate::spec::rules;
use crate::spec::{
    CreateWebhookEndpointRequest, EmptyObject, ReactivateEndpointResponse,
    TestWebhookEndpointRequest, TestWebhookEndpointResponse, UpdateWebhookEndpointRequest,
    WebhookEndpoint, WebhookEndpointPage,
};
use crate::store::model::EndpointState;
use crate::url_policy;
use crate::wire::parse_id;

/// Largest page of the endpoint list: the emulator's own bound (the spec states none).
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

    fn endpoint(&self, state: EndpointState) -> WebhookEndpoint {
        map::endpoint(self.store.deployment_id(), state)
    }
}

/// `create_webhook_endpoint`.
pub async fn create(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    JsonBody(body): JsonBody<CreateWebhookEndpointRequest>,
) -> Reply<WebhookEndpoint> {
    ctx.check_url(&body.url).await?;
    Ok(JsonOk(
        ctx.endpoint(ctx.store.create_endpoint(&slug, body)?),
    ))
}

/// `list_webhook_endpoints`.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiPath(slug): ApiPath<String>,
    query: Query,
) -> Reply<WebhookEndpointPage> {
    let names = PageParams {
        limit: params::LIMIT,
        offset: params::OFFSET,
    };
    let page = query.page(names, rules::ENDPOINTS_LIMIT_DEFAULT, 1..=MAX_LIMIT)?;
    let include_inactive = query.flag(params::INCLUDE_INACTIVE)?;
    let page = ctx
        .store
        .list_endpoints(&slug, include_inactive, page)?
        .map(|e| ctx.endpoint(e));
    Ok(JsonOk(WebhookEndpointPage {
        data: page.data,
        has_more: page.has_more,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// `update_webhook_endpoint`.
pub async fn update(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<UpdateWebhookEndpointRequest>,
) -> Reply<WebhookEndpoint> {
    let id = endpoint_id(&id)?;
    if let Some(url) = &body.url {
        ctx.check_url(url).await?;
    }
    Ok(JsonOk(
        ctx.endpoint(ctx.store.update_endpoint(&slug, id, body)?),
    ))
}

/// `delete_webhook_endpoint`.
pub async fn delete(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Reply<EmptyObject> {
    ctx.store.delete_endpoint(&slug, endpoint_id(&id)?)?;
    Ok(JsonOk(EmptyObject {}))
}

/// `test_webhook_endpoint`: queues a real `test.webhook` delivery.
pub async fn test(
    State(ctx): State<Ctx>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<TestWebhookEndpointRequest>,
) -> Reply<TestWebhookEndpointResponse> {
    let id = endpoint_id(&id)?;
    let delivery_id = ctx
        .store
        .queue_test_delivery(&slug, id, body.event_name, body.payload)?;
    ctx.engine.dispatch(delivery_id);
    Ok(JsonOk(TestWebhookEndpointResponse {
        success: true,
        status_code: 202,
        response_time_ms: 0,
        response_body: TEST_RESPONSE_BODY.to_string(),
        error: None,
    }))
}

/// `reactivate_webhook_endpoint`.
pub async fn reactivate(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<String>,
) -> Reply<ReactivateEndpointResponse> {
    let url = ctx.store.reactivate_endpoint(endpoint_id(&id)?)?;
    Ok(JsonOk(ReactivateEndpointResponse {
        success: true,
        message: format!("Endpoint {url} reactivated successfully"),
    }))
}
