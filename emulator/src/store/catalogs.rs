//! Event catalogs and the events an app knows through its catalog.

use std::collections::HashSet;

use super::model::{Catalog, EventDefinition};
use super::{State, Store};
use crate::error::{ApiError, ApiResult};
use crate::requests::{
    AppendEventsRequest, ArchiveEventRequest, CreateCatalogRequest, EventDefinitionInput,
    UpdateCatalogRequest,
};
use crate::views::{
    AppEventView, AppEventsView, CatalogListView, CatalogView, EventDefinitionView,
};
use crate::wire::{format_time, now};

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
    pub fn create_catalog(&self, request: CreateCatalogRequest) -> ApiResult<CatalogView> {
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
        let view = self.catalog_view(&catalog);
        state.catalogs.insert(catalog.id, catalog);
        Ok(view)
    }

    /// `listWebhookEventCatalogs`: every catalog, in creation order.
    pub fn list_catalogs(&self) -> CatalogListView {
        let state = self.lock();
        CatalogListView {
            data: state
                .catalogs
                .values()
                .map(|c| self.catalog_view(c))
                .collect(),
            has_more: false,
        }
    }

    /// `getWebhookEventCatalog`.
    pub fn get_catalog(&self, slug: &str) -> ApiResult<CatalogView> {
        let state = self.lock();
        Ok(self.catalog_view(state.catalog(slug)?))
    }

    /// `updateWebhookEventCatalog`: name and description; absent fields stay.
    pub fn update_catalog(
        &self,
        slug: &str,
        request: UpdateCatalogRequest,
    ) -> ApiResult<CatalogView> {
        let mut state = self.lock();
        let catalog = state.catalog_mut(slug)?;
        if let Some(name) = request.name {
            catalog.name = name;
        }
        if let Some(description) = request.description {
            catalog.description = Some(description);
        }
        catalog.updated_at = now();
        Ok(self.catalog_view(catalog))
    }

    /// `appendWebhookEventCatalogEvents`: no name may repeat an existing or another appended one.
    pub fn append_events(
        &self,
        slug: &str,
        request: AppendEventsRequest,
    ) -> ApiResult<CatalogView> {
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
        Ok(self.catalog_view(catalog))
    }

    /// `archiveWebhookEventInCatalog`: sets or clears the archive flag of one event.
    pub fn archive_event(
        &self,
        slug: &str,
        request: ArchiveEventRequest,
    ) -> ApiResult<CatalogView> {
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
        Ok(self.catalog_view(catalog))
    }

    /// `getWebhookCatalog`: the catalog the app names.
    pub fn app_catalog(&self, app_slug: &str) -> ApiResult<CatalogView> {
        let state = self.lock();
        let app = state.app(app_slug)?;
        let slug = app
            .event_catalog_slug
            .as_deref()
            .ok_or_else(|| ApiError::not_found("No catalog assigned to this app"))?;
        Ok(self.catalog_view(state.catalog(slug)?))
    }

    /// `listWebhookEvents`: the app catalog's events in order, archived ones included.
    pub fn app_events(&self, app_slug: &str) -> ApiResult<AppEventsView> {
        let state = self.lock();
        let app = state.app(app_slug)?;
        let Some(slug) = app.event_catalog_slug.as_deref() else {
            return Ok(AppEventsView { events: Vec::new() });
        };
        let catalog = state.catalog(slug)?;
        let events = catalog
            .events
            .iter()
            .map(|e| AppEventView {
                deployment_id: self.deployment_id.clone(),
                app_slug: app.slug.clone(),
                event_name: e.name.clone(),
                description: Some(e.description.clone()),
                schema: e.schema.clone(),
                created_at: format_time(catalog.created_at),
            })
            .collect();
        Ok(AppEventsView { events })
    }

    fn catalog_view(&self, catalog: &Catalog) -> CatalogView {
        CatalogView {
            deployment_id: self.deployment_id.clone(),
            slug: catalog.slug.clone(),
            name: catalog.name.clone(),
            description: catalog.description.clone(),
            events: catalog.events.iter().map(definition_view).collect(),
            created_at: format_time(catalog.created_at),
            updated_at: format_time(catalog.updated_at),
        }
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

fn definition(input: EventDefinitionInput) -> EventDefinition {
    EventDefinition {
        name: input.name,
        description: input.description,
        group: input.group,
        schema: input.schema,
        example_payload: input.example_payload,
        is_archived: input.is_archived.unwrap_or(false),
    }
}

fn definition_view(event: &EventDefinition) -> EventDefinitionView {
    EventDefinitionView {
        name: event.name.clone(),
        description: event.description.clone(),
        group: event.group.clone(),
        schema: event.schema.clone(),
        example_payload: event.example_payload.clone(),
        is_archived: event.is_archived,
    }
}
