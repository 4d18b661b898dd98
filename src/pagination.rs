//! Pages of list operations, and streams that walk every page.
//!
//! One generic pager serves every list operation whose options carry `limit` and `offset`: the
//! generator gives each such call a `_stream` twin on top of it. It fetches the next page in a background task
//! while the caller works through the current one: at most one request ahead, so memory holds at
//! most two pages, however long the list.
//!
//! # How a stream pages
//!
//! Each page is requested at the previous page's offset plus the page size, never plus the rows
//! received: the production service drops rows from a page after deciding whether more follow
//! (replay task records expire while the task index that pages them still lists them), so a page
//! may come back short, or empty with `has_more: true`, and the rows after it are still there. The
//! page size is the `limit` the server says it used (it may clamp the one asked for), else the
//! `limit` asked for; a page with more rows than that advances by its rows.
//!
//! A stream ends when a page says no page follows. It ends with an error instead of looping or
//! repeating items when the server answers with another offset than the one asked for, when it is
//! unclear how far to advance (no `limit` asked for or answered, and an empty page), or when
//! [`MAX_EMPTY_POSITIONS`] positions in a row came back without a row.
//!
//! Each stream is lazy (nothing is sent until it is polled), yields items in server order, and
//! yields an error (then ends) when a page fails after the client's retries. A negative `offset`
//! or a `limit` below 1 is refused with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
//! before anything is sent.
//!
//! # Filtered streams
//!
//! [`Webhooks::list_webhook_deliveries_stream`](crate::Webhooks::list_webhook_deliveries_stream)
//! yields every delivery matching the options' filters, newest first, each once. Unlike
//! [`Webhooks::list_webhook_deliveries`](crate::Webhooks::list_webhook_deliveries), which sends the
//! filters and returns what the server answers, the stream applies every filter to every row
//! itself, so that it yields the same rows whether or not the server applied them (the production
//! service ignores `endpoint_id`, `since` and `until`): `since` and `until` bound each row's
//! `timestamp` (its latest state), both included. Rows come newest first, so the stream ends at
//! the first row older than `since`.
//!
//! Offset pages shift while deliveries change state or new ones arrive, so a row can come back on
//! the next page: the stream drops a row whose `delivery_id` it yielded within the last two pages.
//! A delivery that moves up past the stream's position while it pages (it changed state) is not
//! seen again; list again from the start to catch it.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use wacht_webhooks::{DeliveryStatus, ListWebhookDeliveriesOptions};
//! # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
//! let options = ListWebhookDeliveriesOptions::new().status(DeliveryStatus::PermanentlyFailed).limit(100);
//! let mut failed = std::pin::pin!(webhooks.list_webhook_deliveries_stream("billing", options));
//! while let Some(delivery) = failed.next().await {
//!     let delivery = delivery?;
//!     println!("{} {}", delivery.delivery_id, delivery.event_name);
//! }
//! # Ok(()) }
//! ```

use std::collections::{HashSet, VecDeque};
use std::future::Future;

use chrono::{DateTime, Utc};
use futures_core::Stream;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::{DeliveryStatus, Error, ListWebhookDeliveriesOptions, WebhookDelivery};

/// How many positions in a row may come back without a row before a stream gives up on a server
/// that never ends (for example 20 empty pages of 500, or 500 of 20).
///
/// Empty pages are normal on the replay task list: its index of task ids lives 24 hours after the
/// newest task, while each task's record expires 2 hours after its last update, and expired
/// records are dropped after `has_more` is computed. Listed newest first, the expired records
/// form the old end of the index, so one run of empty pages covers them. 10,000 is a day of
/// replay tasks started every 9 seconds, around the clock, with at most three running at once per
/// app; a listing would have to exceed that to be cut short, while a server that answers
/// `has_more: true` forever costs at most 10,000 / `limit` requests.
pub const MAX_EMPTY_POSITIONS: i64 = 10_000;

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

/// List options that page by `limit` and `offset` (implemented by the generator).
pub(crate) trait OffsetPaging: Clone + Send + Sync + 'static {
    /// The requested page size (`None`: the server's default).
    fn limit(&self) -> Option<i64>;
    /// The requested offset (`None`: 0).
    fn offset(&self) -> Option<i64>;
    /// Asks for the page at `offset`.
    fn set_offset(&mut self, offset: i64);
}

/// What a stream does with one row of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Yield,
    Skip,
    /// No later row can be wanted: the stream ends here.
    End,
}

/// Decides, row by row, what a stream yields.
pub(crate) trait Sieve<T>: Send + 'static {
    /// Told the page size before the rows of each page are judged.
    fn page_size(&mut self, _size: i64) {}
    fn judge(&mut self, item: &T) -> Verdict;
}

/// Yields every row, as the server sent it.
pub(crate) struct Everything;

/// The sieve a list's stream uses: [`Everything`] (emitted by the generator), or a filter of the
/// options written by hand where the spec says the stream filters (`x-client: {stream: filtered}`).
pub(crate) trait RowFilter<T> {
    type Filter: Sieve<T>;
    fn row_filter(&self) -> Self::Filter;
}

/// The stream of a list operation: every row its options' [`RowFilter`] lets through.
pub(crate) fn stream<T, O, F, Fut>(
    operation: &'static str,
    options: O,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: Send + 'static,
    O: OffsetPaging + RowFilter<T>,
    F: Fn(O) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    let filter = options.row_filter();
    paginate_sifted(operation, options, filter, fetch)
}

impl<T> Sieve<T> for Everything {
    fn judge(&mut self, _item: &T) -> Verdict {
        Verdict::Yield
    }
}

/// Fetches pages one at a time, the next while the caller consumes the current one.
struct Pager<T, O, F, S> {
    fetch: F,
    options: O,
    operation: &'static str,
    sieve: S,
    current: std::vec::IntoIter<T>,
    next: Option<Prefetch<T>>,
    /// The first page's offset until the stream is first polled: nothing is sent before.
    start: Option<i64>,
    /// Positions in a row, up to the last page received, that came back without a row.
    empty_run: i64,
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

impl<T, O, F, Fut, S> Pager<T, O, F, S>
where
    T: Send + 'static,
    O: OffsetPaging,
    F: Fn(O) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
    S: Sieve<T>,
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
            if let Err(err) = self.check_options(start) {
                return Some(Err(err));
            }
            self.next = Some(self.request(start));
        }
        loop {
            while let Some(item) = self.current.next() {
                match self.sieve.judge(&item) {
                    Verdict::Yield => return Some(Ok(item)),
                    Verdict::Skip => {}
                    Verdict::End => {
                        self.next = None;
                        self.current = Vec::new().into_iter();
                        return None;
                    }
                }
            }
            let mut pending = self.next.take()?;
            let page = match (&mut pending.task).await {
                Ok(result) => result,
                Err(join) => Err(Error::transport(
                    self.operation,
                    format!("the page request did not complete: {join}"),
                )),
            };
            match page.and_then(|page| self.advance(pending.offset, page)) {
                Ok(rows) => self.current = rows.into_iter(),
                Err(err) => return Some(Err(err)),
            }
            if self.next.is_some() {
                // A task spawned from a worker waits in that worker's LIFO slot, which other
                // workers cannot steal from: yield once so the request starts now, not after a
                // consumer that never awaits has finished the whole page.
                tokio::task::yield_now().await;
            }
        }
    }

    /// Refuses options no stream can page with, before anything is sent.
    fn check_options(&self, start: i64) -> Result<(), Error> {
        if start < 0 {
            return Err(Error::invalid_input(
                self.operation,
                format!("offset {start} is negative"),
            ));
        }
        match self.options.limit() {
            Some(limit) if limit < 1 => Err(Error::invalid_input(
                self.operation,
                format!("limit {limit}: a stream needs pages of at least one row"),
            )),
            _ => Ok(()),
        }
    }

    /// Checks the page asked for at `requested`, requests the next one when it says more
    /// follow, and returns its rows.
    fn advance(&mut self, requested: i64, page: Page<T>) -> Result<Vec<T>, Error> {
        if let Some(offset) = page.offset.filter(|&o| o != requested) {
            return Err(Error::pagination(
                self.operation,
                format!(
                    "asked for offset {requested} but the server answered with the page at offset {offset}; stopping instead of repeating items"
                ),
            ));
        }
        let size = page
            .limit
            .filter(|&limit| limit > 0)
            .or(self.options.limit())
            .unwrap_or(0)
            .max(page.data.len() as i64);
        self.empty_run = match page.data.is_empty() {
            true => self.empty_run.saturating_add(size),
            false => 0,
        };
        self.sieve.page_size(size);
        if !page.has_more {
            return Ok(page.data);
        }
        if size < 1 {
            return Err(Error::pagination(
                self.operation,
                format!(
                    "the page at offset {requested} is empty and says more follow, but neither the request nor the answer gives a page size to advance by; set a limit"
                ),
            ));
        }
        if self.empty_run >= MAX_EMPTY_POSITIONS {
            return Err(Error::pagination(
                self.operation,
                format!(
                    "{} positions in a row up to offset {} came back without a row, yet the server says more follow; stopping instead of paging forever",
                    self.empty_run,
                    requested.saturating_add(size)
                ),
            ));
        }
        let next = requested.checked_add(size).ok_or_else(|| {
            Error::pagination(
                self.operation,
                "the next page's offset is out of range; stopping",
            )
        })?;
        self.next = Some(self.request(next));
        Ok(page.data)
    }
}

/// Streams every item of a list operation that `sieve` lets through, starting at
/// `options.offset()`, in pages of `options.limit()`; `fetch` gets the options of each page.
fn paginate_sifted<T, O, F, Fut, S>(
    operation: &'static str,
    options: O,
    sieve: S,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: Send + 'static,
    O: OffsetPaging,
    F: Fn(O) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
    S: Sieve<T>,
{
    let pager = Pager {
        fetch,
        start: Some(options.offset().unwrap_or(0)),
        options,
        operation,
        sieve,
        current: Vec::new().into_iter(),
        next: None,
        empty_run: 0,
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

/// The delivery stream's filters, applied to every row whether or not the server applied them,
/// and the ids of the rows yielded lately.
///
/// The production service ignores `endpoint_id`, `since` and `until`, and orders rows by their
/// latest activity (`timestamp`, newest first), so that a delivery that changes state or a new
/// delivery moves the rows after it one position down: the last row of one page can come again
/// at the top of the next.
pub(crate) struct DeliveryFilter {
    status: Option<DeliveryStatus>,
    event_name: Option<String>,
    endpoint_id: Option<String>,
    /// `since` and `until` to the microsecond, the precision of the rows' timestamps.
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    recent: RecentIds,
}

impl DeliveryFilter {
    fn new(options: &ListWebhookDeliveriesOptions) -> DeliveryFilter {
        use chrono::SubsecRound;
        DeliveryFilter {
            status: options.status.clone(),
            event_name: options.event_name.clone(),
            endpoint_id: options.endpoint_id.clone(),
            since: options.since.map(|t| t.trunc_subsecs(6)),
            until: options.until.map(|t| t.trunc_subsecs(6)),
            recent: RecentIds::default(),
        }
    }

    fn matches(&self, row: &WebhookDelivery) -> bool {
        self.status.as_ref().is_none_or(|s| row.status == *s)
            && self
                .event_name
                .as_deref()
                .is_none_or(|e| row.event_name == e)
            && self
                .endpoint_id
                .as_deref()
                .is_none_or(|id| same_id(id, &row.endpoint_id))
            && self.until.is_none_or(|t| row.timestamp <= t)
    }
}

impl Sieve<WebhookDelivery> for DeliveryFilter {
    fn page_size(&mut self, size: i64) {
        self.recent.capacity = usize::try_from(size.saturating_mul(2)).unwrap_or(usize::MAX);
    }

    fn judge(&mut self, row: &WebhookDelivery) -> Verdict {
        // Rows come newest first whether the server applied `since` (then none is older) or
        // not (then every later row is older too: a row that changes state moves up, never
        // down past this one).
        if self.since.is_some_and(|t| row.timestamp < t) {
            return Verdict::End;
        }
        if self.matches(row) && self.recent.insert(&row.delivery_id) {
            Verdict::Yield
        } else {
            Verdict::Skip
        }
    }
}

/// Endpoint ids are numbers sent as text; the servers read the filter as a number.
fn same_id(filter: &str, id: &str) -> bool {
    filter == id
        || matches!(
            (filter.trim().parse::<i64>(), id.parse::<i64>()),
            (Ok(a), Ok(b)) if a == b
        )
}

/// The ids of the last `capacity` rows yielded, oldest first.
///
/// Twice the page size: a row comes again only when rows above it were added or moved up
/// between the request of its page and a later one, and it is recognised as long as fewer than
/// two pages of such changes happened meanwhile (pages are requested back to back, one ahead of
/// the caller). The memory stays within the pager's bound of two pages.
#[derive(Default)]
struct RecentIds {
    order: VecDeque<String>,
    ids: HashSet<String>,
    capacity: usize,
}

impl RecentIds {
    /// Remembers `id`; false when it was yielded lately.
    fn insert(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        self.ids.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        while self.order.len() > self.capacity.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

impl RowFilter<WebhookDelivery> for ListWebhookDeliveriesOptions {
    type Filter = DeliveryFilter;
    fn row_filter(&self) -> DeliveryFilter {
        DeliveryFilter::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_forget_the_oldest_beyond_their_capacity() {
        let mut recent = RecentIds {
            capacity: 2,
            ..RecentIds::default()
        };
        assert!(recent.insert("a"));
        assert!(recent.insert("b"));
        assert!(!recent.insert("a"), "yielded lately");
        assert!(recent.insert("c"));
        assert!(recent.insert("a"), "forgotten after two newer ids");
        assert_eq!(recent.order.len(), 2);
        assert_eq!(recent.ids.len(), 2);
    }

    #[test]
    fn endpoint_ids_compare_as_numbers() {
        assert!(same_id("7291835012917346304", "7291835012917346304"));
        assert!(same_id("0042", "42"));
        assert!(!same_id("42", "43"));
        assert!(!same_id("x", "42"));
        assert!(same_id("x", "x"));
    }
}
