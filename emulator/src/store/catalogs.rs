//! Event catalogs and the events an app knows through its catalog.

use std::collections::HashSet;

use super::model::{App, Catalog, EventDefinition};
use super::{State, Store};
use crate::error::{ApiError, ApiResult};
use crate::spec::{
    AppendWebhookEventCatalogEventsRequest, ArchiveWebhookEventRequest,
    CreateWebhookEventCatalogRequest, UpdateWebhookEventCatalogRequest, WebhookEventDefinition,
};
use crate::wire::now;

/// Refuses a catalog slug that no request path could address: empty, `.` or `..` (clients and
/// servers remove such path segments), surrounded by whitespace, or holding a control character
/// (NUL, line breaks, tabs…).
///
/// The production service stores any slug; the emulator is stricter because a catalog that cannot
/// be read, updated or archived afterwards is never what the caller meant.
fn check_slug(slug: &str) -> ApiResult<()> {
    let problem = if slug.is_empty() {
        "must not be empty"
    } else if slug == "." || slug == ".." {
        "must not be '.' or '..'"
    } else if slug.trim() != slug {
        "must not begin or end with whitespace"
    } else if slug.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(ApiError::bad_request(format!("slug {problem}")))
}

impl Store {
    /// `createWebhookEventCatalog`: the slug is stored as given once [`check_slug`] accepts it;
    /// duplicate event names are allowed here.
    pub fn create_catalog(&self, request: CreateWebhookEventCatalogRequest) -> ApiResult<Catalog> {
        check_slug(&request.slug)?;
        let created = now();
        let catalog = Catalog {
            id: self.next_id(),
            slug: request.slug,
            name: request.name,
            description: request.description,
            events: request.events.into_iter().map(definition).collect(),
            created_at: created,
            updated_at: created,
        };
        let mut state = self.lock();
        if state.catalog_ids.contains_key(&catalog.slug) {
            return Err(ApiError::conflict());
        }
        state.catalog_ids.insert(catalog.slug.clone(), catalog.id);
        state.catalogs.insert(catalog.id, catalog.clone());
        Ok(catalog)
    }

    /// `listWebhookEventCatalogs`: every catalog, in creation order.
    pub fn list_catalogs(&self) -> Vec<Catalog> {
        self.lock().catalogs.values().cloned().collect()
    }

    /// `getWebhookEventCatalog`.
    pub fn get_catalog(&self, slug: &str) -> ApiResult<Catalog> {
        let state = self.lock();
        Ok(state.catalog(slug)?.clone())
    }

    /// `updateWebhookEventCatalog`: name and description; absent fields stay.
    pub fn update_catalog(
        &self,
        slug: &str,
        request: UpdateWebhookEventCatalogRequest,
    ) -> ApiResult<Catalog> {
        let mut state = self.lock();
        let catalog = state.catalog_mut(slug)?;
        if let Some(name) = request.name {
            catalog.name = name;
        }
        if let Some(description) = request.description {
            catalog.description = Some(description);
        }
        catalog.updated_at = now();
        Ok(catalog.clone())
    }

    /// `appendWebhookEventCatalogEvents`: no name may repeat an existing or another appended one.
    pub fn append_events(
        &self,
        slug: &str,
        request: AppendWebhookEventCatalogEventsRequest,
    ) -> ApiResult<Catalog> {
        let mut state = self.lock();
        let catalog = state.catalog_mut(slug)?;
        let mut names: HashSet<&str> = catalog.events.iter().map(|e| e.name.as_str()).collect();
        for event in &request.events {
            if !names.insert(event.name.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "Event '{}' already exists in catalog",
                    event.name
                )));
            }
        }
        catalog
            .events
            .extend(request.events.into_iter().map(definition));
        catalog.updated_at = now();
        Ok(catalog.clone())
    }

    /// `archiveWebhookEventInCatalog`: sets or clears the archive flag of one event.
    pub fn archive_event(
        &self,
        slug: &str,
        request: ArchiveWebhookEventRequest,
    ) -> ApiResult<Catalog> {
        let mut state = self.lock();
        let catalog = state.catalog_mut(slug)?;
        let event = catalog
            .events
            .iter_mut()
            .find(|e| e.name == request.event_name)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Event '{}' not found in catalog",
                    request.event_name
                ))
            })?;
        event.is_archived = request.is_archived;
        catalog.updated_at = now();
        Ok(catalog.clone())
    }

    /// `getWebhookCatalog`: the catalog the app names.
    pub fn app_catalog(&self, app_slug: &str) -> ApiResult<Catalog> {
        let state = self.lock();
        let app = state.app(app_slug)?;
        let slug = app
            .event_catalog_slug
            .as_deref()
            .ok_or_else(|| ApiError::not_found("No catalog assigned to this app"))?;
        Ok(state.catalog(slug)?.clone())
    }

    /// `listWebhookEvents`: the app catalog's events in order, archived ones included.
    pub fn app_events(&self, app_slug: &str) -> ApiResult<(App, Option<Catalog>)> {
        let state = self.lock();
        let app = state.app(app_slug)?;
        let catalog = match app.event_catalog_slug.as_deref() {
            Some(slug) => Some(state.catalog(slug)?.clone()),
            None => None,
        };
        Ok((app.clone(), catalog))
    }
}

impl State {
    /// The catalog event `event_name` of the app, if its catalog exists and has it.
    pub(super) fn app_event(&self, app_id: i64, event_name: &str) -> Option<&EventDefinition> {
        let slug = self.apps.get(&app_id)?.event_catalog_slug.as_deref()?;
        let catalog = self.catalog(slug).ok()?;
        catalog.events.iter().find(|e| e.name == event_name)
    }
}

fn definition(input: WebhookEventDefinition) -> EventDefinition {
    EventDefinition {
        name: input.name,
        description: input.description,
        group: input.group,
        schema: input.schema,
        example_payload: input.example_payload,
        is_archived: input.is_archived.unwrap_or(false),
    }
}
