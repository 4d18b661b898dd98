//! Domain records to the spec's wire types: ids as strings, statuses by their wire names.

use crate::spec::{
    DeliveryStatus as WireDeliveryStatus, EventSubscription, RateLimitConfig, ReplayTaskState,
    ReplayTaskStatus, WebhookApp, WebhookAppEvent, WebhookCatalogEvent, WebhookDelivery,
    WebhookDeliveryDetails, WebhookEndpoint, WebhookEventCatalog,
};
use crate::store::model::{
    App, Catalog, DeliveryDetails, DeliveryRow, DeliveryStatus, EndpointEventKind, EndpointState,
    EventDefinition, ReplayTaskState as TaskState, RowStatus, TaskStatus,
};

/// The wire name of a log row's status.
pub fn row_status(status: RowStatus) -> WireDeliveryStatus {
    match status {
        RowStatus::Delivery(DeliveryStatus::Pending) => WireDeliveryStatus::Pending,
        RowStatus::Delivery(DeliveryStatus::Success) => WireDeliveryStatus::Success,
        RowStatus::Delivery(DeliveryStatus::Failed) => WireDeliveryStatus::Failed,
        RowStatus::Delivery(DeliveryStatus::PermanentlyFailed) => {
            WireDeliveryStatus::PermanentlyFailed
        }
        RowStatus::Delivery(DeliveryStatus::Filtered) => WireDeliveryStatus::Filtered,
        RowStatus::Delivery(DeliveryStatus::EndpointDisabled) => {
            WireDeliveryStatus::EndpointDisabled
        }
        RowStatus::Endpoint(EndpointEventKind::Reactivated) => WireDeliveryStatus::Reactivated,
        RowStatus::Endpoint(EndpointEventKind::Deactivated) => WireDeliveryStatus::Deactivated,
    }
}

/// The log-row status a `status` query value names: `None` outside the wire enum, and for each
/// value of the enum the row status it stands for.
pub fn parse_row_status(raw: &str) -> Option<RowStatus> {
    let wire = WireDeliveryStatus::from_wire(raw)?;
    [
        RowStatus::Delivery(DeliveryStatus::Pending),
        RowStatus::Delivery(DeliveryStatus::Success),
        RowStatus::Delivery(DeliveryStatus::Failed),
        RowStatus::Delivery(DeliveryStatus::PermanentlyFailed),
        RowStatus::Delivery(DeliveryStatus::Filtered),
        RowStatus::Delivery(DeliveryStatus::EndpointDisabled),
        RowStatus::Endpoint(EndpointEventKind::Reactivated),
        RowStatus::Endpoint(EndpointEventKind::Deactivated),
    ]
    .into_iter()
    .find(|status| row_status(*status) == wire)
}

/// The wire name of a replay task's state.
pub fn task_status(status: TaskStatus) -> ReplayTaskState {
    match status {
        TaskStatus::Queued => ReplayTaskState::Queued,
        TaskStatus::Running => ReplayTaskState::Running,
        TaskStatus::Completed => ReplayTaskState::Completed,
        TaskStatus::Cancelled => ReplayTaskState::Cancelled,
    }
}

/// `WebhookApp`.
pub fn app(deployment_id: &str, app: App) -> WebhookApp {
    WebhookApp {
        deployment_id: deployment_id.to_string(),
        app_slug: app.slug,
        name: app.name,
        description: app.description,
        signing_secret: app.signing_secret,
        failure_notification_emails: app.failure_notification_emails,
        event_catalog_slug: app.event_catalog_slug,
        is_active: app.is_active,
        created_at: app.created_at,
        updated_at: app.updated_at,
    }
}

/// `WebhookEndpoint`; subscriptions only where the state says so (list answers).
pub fn endpoint(deployment_id: &str, state: EndpointState) -> WebhookEndpoint {
    let e = state.endpoint;
    WebhookEndpoint {
        id: e.id.to_string(),
        deployment_id: deployment_id.to_string(),
        app_slug: state.app_slug,
        url: e.url,
        description: e.description,
        headers: e.headers,
        is_active: e.is_active,
        max_retries: i64::from(e.max_retries),
        timeout_seconds: e.timeout_seconds,
        failure_count: state.failure_count as i64,
        last_failure_at: e.last_failure_at,
        auto_disabled: e.auto_disabled,
        auto_disabled_at: e.auto_disabled_at,
        rate_limit_config: e.rate_limit.map(|r| RateLimitConfig {
            duration_ms: r.duration_ms,
            max_requests: r.max_requests,
        }),
        created_at: e.created_at,
        updated_at: e.updated_at,
        subscriptions: state.with_subscriptions.then(|| {
            e.subscriptions
                .into_iter()
                .map(|s| EventSubscription {
                    event_name: s.event_name,
                    filter_rules: s.filter_rules,
                })
                .collect()
        }),
    }
}

/// `WebhookDelivery`.
pub fn delivery(deployment_id: &str, row: DeliveryRow) -> WebhookDelivery {
    WebhookDelivery {
        delivery_id: row.id.to_string(),
        deployment_id: deployment_id.to_string(),
        app_slug: row.app_slug,
        endpoint_id: row.endpoint_id.to_string(),
        event_name: row.event_name,
        status: row_status(row.status),
        http_status_code: row.http_status_code.map(i32::from),
        response_time_ms: row.response_time_ms.map(|ms| ms as i64),
        attempt_number: i64::from(row.attempt_number),
        max_attempts: i64::from(row.max_attempts),
        timestamp: row.at,
    }
}

/// `WebhookDeliveryDetails`.
pub fn delivery_details(deployment_id: &str, details: DeliveryDetails) -> WebhookDeliveryDetails {
    WebhookDeliveryDetails {
        webhook_delivery: delivery(deployment_id, details.row),
        payload: details.payload.unwrap_or_default(),
        response_body: details.response_body,
        response_headers: details
            .response_headers
            .map(serde_json::Value::Object)
            .unwrap_or_default(),
    }
}

/// `ReplayTaskStatus`.
pub fn replay_task(state: TaskState) -> ReplayTaskStatus {
    let task = state.task;
    ReplayTaskStatus {
        task_id: task.id.to_string(),
        app_slug: state.app_slug,
        status: task_status(task.status),
        created_at: Some(task.created_at),
        started_at: task.started_at,
        completed_at: task.completed_at,
        total_count: task.items.len() as i64,
        processed: task.processed as i64,
        replayed_count: task.replayed_count as i64,
        failed_count: task.failed_count as i64,
        last_delivery_id: task.last_delivery_id.map(|id| id.to_string()),
    }
}

/// `WebhookEventCatalog`.
pub fn catalog(deployment_id: &str, catalog: Catalog) -> WebhookEventCatalog {
    WebhookEventCatalog {
        deployment_id: deployment_id.to_string(),
        slug: catalog.slug,
        name: catalog.name,
        description: catalog.description,
        events: catalog.events.into_iter().map(catalog_event).collect(),
        created_at: catalog.created_at,
        updated_at: catalog.updated_at,
    }
}

fn catalog_event(event: EventDefinition) -> WebhookCatalogEvent {
    WebhookCatalogEvent {
        name: event.name,
        description: event.description,
        group: event.group,
        schema: event.schema.unwrap_or_default(),
        example_payload: event.example_payload.unwrap_or_default(),
        is_archived: event.is_archived,
    }
}

/// The events of an app's catalog as `WebhookAppEvent`s (created when the catalog was).
pub fn app_events(
    deployment_id: &str,
    app: &App,
    catalog: Option<Catalog>,
) -> Vec<WebhookAppEvent> {
    let Some(catalog) = catalog else {
        return Vec::new();
    };
    catalog
        .events
        .into_iter()
        .map(|e| WebhookAppEvent {
            deployment_id: deployment_id.to_string(),
            app_slug: app.slug.clone(),
            event_name: e.name,
            description: Some(e.description),
            schema: e.schema.unwrap_or_default(),
            created_at: catalog.created_at,
        })
        .collect()
}
