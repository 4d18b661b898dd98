//! Pages of list operations, and streams that walk every page.
//!
//! One generic pager serves every list operation whose options carry `limit` and `offset` (the
//! generator implements [`OffsetPaging`] for them). It fetches the next page in a background task
//! while the caller works through the current one: at most one request ahead, so memory holds at
//! most two pages, however long the list.

use std::future::Future;

use futures_core::Stream;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::Error;

/// One page of a list: `{data, has_more, limit, offset}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page, in server order.
    pub data: Vec<T>,
    /// Whether another page follows.
    pub has_more: bool,
    /// The page size the server used, when it says.
    pub limit: Option<i64>,
    /// The offset of this page's first item, when the server says.
    pub offset: Option<i64>,
}

/// List options that page by `limit` and `offset`.
pub trait OffsetPaging: Clone + Send + Sync + 'static {
    /// The requested page size (`None`: the server's default).
    fn limit(&self) -> Option<i64>;
    /// The requested offset (`None`: 0).
    fn offset(&self) -> Option<i64>;
    /// Asks for the page at `offset`.
    fn set_offset(&mut self, offset: i64);
}

/// Fetches pages one at a time, the next while the caller consumes the current one.
struct Pager<T, O, F> {
    fetch: F,
    options: O,
    operation: &'static str,
    current: std::vec::IntoIter<T>,
    next: Option<Prefetch<T>>,
    /// The first page's offset until the stream is first polled: nothing is sent before.
    start: Option<i64>,
}

/// A page request running in the background; aborted when the stream is dropped.
struct Prefetch<T> {
    offset: i64,
    task: JoinHandle<Result<Page<T>, Error>>,
}

impl<T> Drop for Prefetch<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<T, O, F, Fut> Pager<T, O, F>
where
    T: Send + 'static,
    O: OffsetPaging,
    F: Fn(O) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    fn request(&self, offset: i64) -> Prefetch<T> {
        let mut options = self.options.clone();
        options.set_offset(offset);
        Prefetch {
            offset,
            task: tokio::spawn((self.fetch)(options)),
        }
    }

    /// The next item, fetching pages as needed; `None` at the end or after an error.
    async fn next_item(&mut self) -> Option<Result<T, Error>> {
        if let Some(start) = self.start.take() {
            self.next = Some(self.request(start));
        }
        loop {
            if let Some(item) = self.current.next() {
                return Some(Ok(item));
            }
            let mut pending = self.next.take()?;
            let page = match (&mut pending.task).await {
                Ok(result) => result,
                Err(join) => Err(Error::transport(
                    self.operation,
                    format!("the page request did not complete: {join}"),
                )),
            };
            let page = match page.and_then(|page| self.check(pending.offset, page)) {
                Ok(page) => page,
                Err(err) => return Some(Err(err)),
            };
            let next_offset = pending.offset + page.data.len() as i64;
            if page.has_more {
                self.next = Some(self.request(next_offset));
                // A task spawned from a worker waits in that worker's LIFO slot, which other
                // workers cannot steal from: yield once so the request starts now, not after a
                // consumer that never awaits has finished the whole page.
                tokio::task::yield_now().await;
            }
            self.current = page.data.into_iter();
        }
    }

    /// Rejects pages that would make the stream loop forever.
    fn check(&self, requested: i64, page: Page<T>) -> Result<Page<T>, Error> {
        if page.has_more && page.data.is_empty() {
            return Err(Error::pagination(
                self.operation,
                format!(
                    "the page at offset {requested} is empty but says more follow; stopping instead of looping"
                ),
            ));
        }
        if let Some(offset) = page.offset.filter(|&o| o != requested) {
            return Err(Error::pagination(
                self.operation,
                format!(
                    "asked for offset {requested} but the server answered with the page at offset {offset}; stopping instead of repeating items"
                ),
            ));
        }
        Ok(page)
    }
}

/// Streams every item of a list operation, starting at `options.offset()`, in pages of
/// `options.limit()`; `fetch` gets the options of each page.
pub(crate) fn paginate<T, O, F, Fut>(
    operation: &'static str,
    options: O,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: Send + 'static,
    O: OffsetPaging,
    F: Fn(O) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    let pager = Pager {
        fetch,
        start: Some(options.offset().unwrap_or(0)),
        options,
        operation,
        current: Vec::new().into_iter(),
        next: None,
    };
    futures_util::stream::unfold(pager, |mut pager| async move {
        let item = pager.next_item().await?;
        if item.is_err() {
            pager.next = None;
            pager.current = Vec::new().into_iter();
        }
        Some((item, pager))
    })
}

/// Streams over the list operations. Each is lazy (nothing is sent until it is polled), yields
/// items in server order, pages by `options.limit` from `options.offset`, ends when the server
/// says no page follows, and yields an error (then ends) when a page fails after the client's
/// retries.
impl crate::Webhooks {
    /// Every app, page after page.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wacht_webhooks::ListWebhookAppsOptions;
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let apps: Vec<_> = webhooks.list_webhook_apps_stream(ListWebhookAppsOptions::new().limit(100)).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_webhook_apps_stream(
        &self,
        options: crate::ListWebhookAppsOptions,
    ) -> impl Stream<Item = Result<crate::WebhookApp, Error>> + Send + 'static + use<> {
        let webhooks = self.clone();
        paginate("list_webhook_apps", options, move |page| {
            let webhooks = webhooks.clone();
            async move { webhooks.list_webhook_apps(page).await }
        })
    }

    /// Every endpoint of an app, page after page.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use wacht_webhooks::ListWebhookEndpointsOptions;
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let mut endpoints = std::pin::pin!(webhooks.list_webhook_endpoints_stream("billing", ListWebhookEndpointsOptions::new()));
    /// while let Some(endpoint) = endpoints.next().await {
    ///     println!("{}", endpoint?.url);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_webhook_endpoints_stream(
        &self,
        app_slug: &str,
        options: crate::ListWebhookEndpointsOptions,
    ) -> impl Stream<Item = Result<crate::WebhookEndpoint, Error>> + Send + 'static + use<> {
        let (webhooks, app_slug) = (self.clone(), app_slug.to_string());
        paginate("list_webhook_endpoints", options, move |page| {
            let (webhooks, app_slug) = (webhooks.clone(), app_slug.clone());
            async move { webhooks.list_webhook_endpoints(&app_slug, page).await }
        })
    }

    /// Every delivery of an app matching the options' filters, newest first.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use wacht_webhooks::{DeliveryStatus, ListWebhookDeliveriesOptions};
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let options = ListWebhookDeliveriesOptions::new().status(DeliveryStatus::PermanentlyFailed).limit(100);
    /// let mut failed = std::pin::pin!(webhooks.list_webhook_deliveries_stream("billing", options));
    /// while let Some(delivery) = failed.next().await {
    ///     let delivery = delivery?;
    ///     println!("{} {}", delivery.delivery_id, delivery.event_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_webhook_deliveries_stream(
        &self,
        app_slug: &str,
        options: crate::ListWebhookDeliveriesOptions,
    ) -> impl Stream<Item = Result<crate::WebhookDelivery, Error>> + Send + 'static + use<> {
        let (webhooks, app_slug) = (self.clone(), app_slug.to_string());
        paginate("list_webhook_deliveries", options, move |page| {
            let (webhooks, app_slug) = (webhooks.clone(), app_slug.clone());
            async move { webhooks.list_webhook_deliveries(&app_slug, page).await }
        })
    }

    /// Every replay task of an app, newest first.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wacht_webhooks::ListWebhookReplayTasksOptions;
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let tasks: Vec<_> = webhooks
    ///     .list_webhook_replay_tasks_stream("billing", ListWebhookReplayTasksOptions::new())
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list_webhook_replay_tasks_stream(
        &self,
        app_slug: &str,
        options: crate::ListWebhookReplayTasksOptions,
    ) -> impl Stream<Item = Result<crate::ReplayTaskStatus, Error>> + Send + 'static + use<> {
        let (webhooks, app_slug) = (self.clone(), app_slug.to_string());
        paginate("list_webhook_replay_tasks", options, move |page| {
            let (webhooks, app_slug) = (webhooks.clone(), app_slug.clone());
            async move { webhooks.list_webhook_replay_tasks(&app_slug, page).await }
        })
    }
}
