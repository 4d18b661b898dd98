//! Webhook apps: slugs, secrets and their lifecycle.

use super::Page;
use super::model::App;
use super::{PageRequest, State, Store, paginate};
use crate::error::{ApiError, ApiResult};
use crate::signing::{SigningKey, new_secret};
use crate::spec::{CreateWebhookAppRequest, UpdateWebhookAppRequest};
use crate::wire::now;

/// Normalises an app slug: lower-case ASCII alphanumerics, each run of anything else one `_`,
/// no leading or trailing `_`.
pub fn normalize_slug(raw: &str) -> String {
    let mut slug = String::with_capacity(raw.len());
    let mut pending_separator = false;
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() {
            if pending_separator && !slug.is_empty() {
                slug.push('_');
            }
            pending_separator = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_separator = true;
        }
    }
    slug
}

impl Store {
    /// `createWebhookApp`.
    pub fn create_app(&self, request: CreateWebhookAppRequest) -> ApiResult<App> {
        let id = self.next_id();
        let slug = match request.app_slug.as_deref() {
            Some(raw) => normalize_slug(raw),
            None => format!("slug_{id}"),
        };
        if slug.is_empty() {
            return Err(ApiError::bad_request(
                "app_slug must contain at least one alphanumeric character",
            ));
        }
        let secret = new_secret()?;
        let key = signing_key(&secret)?;
        let created = now();
        let app = App {
            id,
            slug: slug.clone(),
            name: request.name,
            description: request.description,
            signing_secret: secret,
            key,
            failure_notification_emails: request.failure_notification_emails.unwrap_or_default(),
            event_catalog_slug: request.event_catalog_slug,
            is_active: true,
            created_at: created,
            updated_at: created,
        };
        let mut state = self.lock();
        if state.app_ids.contains_key(&slug) {
            return Err(ApiError::conflict());
        }
        state.app_ids.insert(slug, id);
        state.apps.insert(id, app.clone());
        Ok(app)
    }

    /// `listWebhookApps`: in creation order; `search` is an exact slug match.
    pub fn list_apps(
        &self,
        include_inactive: bool,
        search: Option<&str>,
        page: PageRequest,
    ) -> Page<App> {
        let state = self.lock();
        let apps = state
            .apps
            .values()
            .filter(|a| include_inactive || a.is_active)
            .filter(|a| search.is_none_or(|s| a.slug == s));
        paginate(apps, page).map(App::clone)
    }

    /// `getWebhookApp`.
    pub fn get_app(&self, slug: &str) -> ApiResult<App> {
        let state = self.lock();
        Ok(state.app(slug)?.clone())
    }

    /// `updateWebhookApp`: absent fields stay as they are.
    pub fn update_app(&self, slug: &str, request: UpdateWebhookAppRequest) -> ApiResult<App> {
        let mut state = self.lock();
        let app = state.app_mut(slug)?;
        if let Some(name) = request.name {
            app.name = name;
        }
        if let Some(description) = request.description {
            app.description = Some(description);
        }
        if let Some(is_active) = request.is_active {
            app.is_active = is_active;
        }
        if let Some(emails) = request.failure_notification_emails {
            app.failure_notification_emails = emails;
        }
        if let Some(catalog) = request.event_catalog_slug {
            app.event_catalog_slug = Some(catalog);
        }
        app.updated_at = now();
        Ok(app.clone())
    }

    /// `deleteWebhookApp`: the app goes with its endpoints, deliveries and replay tasks.
    pub fn delete_app(&self, slug: &str) -> ApiResult<()> {
        let mut state = self.lock();
        let id = state.app_id(slug)?;
        state.apps.remove(&id);
        state.app_ids.remove(slug);
        remove_app_records(&mut state, id);
        Ok(())
    }

    /// `rotateWebhookSecret`: the old secret stops signing at once, retries included.
    pub fn rotate_secret(&self, slug: &str) -> ApiResult<App> {
        let secret = new_secret()?;
        let key = signing_key(&secret)?;
        let mut state = self.lock();
        let app = state.app_mut(slug)?;
        app.signing_secret = secret;
        app.key = key;
        app.updated_at = now();
        Ok(app.clone())
    }
}

fn signing_key(secret: &str) -> ApiResult<SigningKey> {
    SigningKey::from_secret(secret).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
        )
    })
}

fn remove_app_records(state: &mut State, app_id: i64) {
    state.endpoints.retain(|_, e| e.app_id != app_id);
    state.deliveries.retain(|_, d| d.app_id != app_id);
    state.forget_removed_settled();
    state.endpoint_events.retain(|_, e| e.app_id != app_id);
    state.tasks.retain(|_, t| t.app_id != app_id);
    state.idempotency.retain(|(app, _), _| *app != app_id);
}

#[cfg(test)]
mod tests {
    use super::normalize_slug;

    #[test]
    fn slugs_are_normalised() {
        assert_eq!(normalize_slug("  My App!! 2 "), "my_app_2");
        assert_eq!(normalize_slug("--a--b--"), "a_b");
        assert_eq!(normalize_slug("Ünïcode ok"), "n_code_ok");
        assert_eq!(normalize_slug("***"), "");
    }
}
