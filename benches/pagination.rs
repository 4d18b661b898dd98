//! Streaming the delivery log: the prefetching pager against a naive page-after-page loop.
//!
//! `cargo bench --bench pagination` seeds an emulator with 10,000 and with 100,000 deliveries
//! of one app and reads them back in pages of 100 with a consumer that spends a fixed time on
//! every item:
//!
//! - `stream`: `list_webhook_deliveries_stream`, which fetches the next page in a spawned task
//!   while the consumer works through the current one;
//! - `naive`: `list_webhook_deliveries` in a loop, the next page requested only once the current
//!   one is consumed;
//! - 10,000 only, `stream_in_task`: the stream consumed inside a task spawned on a runtime
//!   worker, and `stream_in_task_yielding`: the same, yielding once at the start of each page.
//!
//! Method:
//!
//! - The emulator runs in a child process (this executable re-run with
//!   `WACHT_PAGINATION_BENCH_ROLE=emulator`, serving the emulator library as its binary does,
//!   built with the same optimisations as the bench), so that its CPU and memory are not the
//!   client's. Every delivery goes to a non-loopback URL under `deliver_to_loopback_only(true)`:
//!   no attempt leaves the emulator, each is recorded at once as a connection failure, and a
//!   retry schedule of one hour keeps every delivery `failed` (never `permanently_failed`, so the
//!   endpoint is never auto-disabled, and the log does not change while it is read).
//! - The consumer's cost per item is calibrated per list size: the mean time of 20 plain page
//!   calls at offsets spread over the whole list (the emulator's page time grows with the
//!   offset), divided by the page size. The consumer spins until that time has passed
//!   (`Instant`-based busy wait): `tokio::time::sleep` rounds up to the timer's millisecond
//!   and yields to the runtime, which a CPU-bound consumer does not. The spin never yields, so
//!   any overlap comes from the prefetch running on another thread.
//! - The client runs on a multi-threaded tokio runtime, as in a service. `stream` and `naive`
//!   run in `Runtime::block_on` (criterion's async driver, or `#[tokio::main]`'s body), so the
//!   consumer runs on the calling thread and the pager's prefetch on a runtime worker. Inside a
//!   task on a worker, the prefetch task the pager spawns lands in that worker's LIFO slot,
//!   which other workers do not steal: a consumer that never yields keeps it from starting
//!   until the page is used up (`stream_in_task`).
//! - 10,000 deliveries: criterion, ten samples of one pass each (criterion warns that it cannot
//!   fit ten samples in the target time: expected, a sample is one whole pass). 100,000: a pass
//!   takes seconds, so three passes per strategy, taking turns, timed the same way.
//! - Peak memory is measured in a fresh child process per list size (this executable re-run
//!   with `WACHT_PAGINATION_BENCH_ROLE=memory`) that streams the whole list with the same
//!   consumer: (1) the most heap bytes live at once, from a counting global allocator that only
//!   counts in that child, against the bytes live just before the stream starts (runtime,
//!   client, a warm connection), over the first tenth of the list and over all of it; (2) the
//!   process's peak resident set (`VmHWM` in `/proc/self/status`, so Linux only). Neither
//!   includes the emulator, which holds every delivery in its own process.
//! - The figures need two idle cores: one for the spinning consumer, one for the emulator and
//!   the prefetch. The summary prints the load average before and after.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::json;
use tokio::runtime::Runtime;
use wacht_webhooks::{
    Client, CreateWebhookAppRequest, CreateWebhookEndpointRequest,
    CreateWebhookEventCatalogRequest, ListWebhookDeliveriesOptions, TriggerWebhookEventRequest,
    WebhookDelivery, WebhookEventDefinition, Webhooks,
};

const ROLE: &str = "WACHT_PAGINATION_BENCH_ROLE";
const API_KEY: &str = "bench_key";
const APP: &str = "bench_app";
const EVENT: &str = "order.paid";
const PAGE_SIZE: i64 = 100;
/// Triggers in flight while seeding.
const SEED_CONCURRENCY: usize = 32;
/// Page calls timed to calibrate the consumer.
const CALIBRATION_PAGES: i64 = 20;
/// The list measured with criterion.
const SMALL: u64 = 10_000;
/// The list measured by hand, in `LARGE_PASSES` passes per strategy.
const LARGE: u64 = 100_000;
const LARGE_PASSES: u32 = 3;

// ----- counting allocator -----------------------------------------------------------------------

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOCATOR: counting_alloc::Counting = counting_alloc::Counting;

// ----- the consumer and the strategies ----------------------------------------------------------

/// Work on one item: look at it, then spin for `cost` without yielding.
fn consume(delivery: &WebhookDelivery, cost: Duration) {
    let start = Instant::now();
    black_box(delivery.delivery_id.len() + delivery.event_name.len());
    while start.elapsed() < cost {
        std::hint::spin_loop();
    }
}

/// What a pass over the list saw: the items, and the time the consumer spent waiting for pages.
#[derive(Debug, Clone, Copy)]
struct Pass {
    items: u64,
    waited: Duration,
}

/// Every delivery through the prefetching stream; `yield_per_page` yields to the runtime once
/// at the start of every page, and `on_item` sees the count after each item.
async fn run_stream(
    webhooks: &Webhooks,
    cost: Duration,
    yield_per_page: bool,
    mut on_item: impl FnMut(u64),
) -> Pass {
    let options = ListWebhookDeliveriesOptions::new().limit(PAGE_SIZE);
    let mut deliveries = std::pin::pin!(webhooks.list_webhook_deliveries_stream(APP, options));
    let mut pass = Pass {
        items: 0,
        waited: Duration::ZERO,
    };
    loop {
        let asked = Instant::now();
        let Some(delivery) = deliveries.next().await else {
            return pass;
        };
        pass.waited += asked.elapsed();
        if yield_per_page && pass.items.is_multiple_of(PAGE_SIZE as u64) {
            // The pager has just spawned the next page's request: let this worker start it.
            tokio::task::yield_now().await;
        }
        consume(&delivery.expect("a page of the stream"), cost);
        pass.items += 1;
        on_item(pass.items);
    }
}

/// Every delivery, one page after the other: the next is asked for once the current is consumed.
async fn run_naive(webhooks: &Webhooks, cost: Duration) -> Pass {
    let mut pass = Pass {
        items: 0,
        waited: Duration::ZERO,
    };
    loop {
        let options = ListWebhookDeliveriesOptions::new()
            .limit(PAGE_SIZE)
            .offset(pass.items as i64);
        let asked = Instant::now();
        let page = webhooks
            .list_webhook_deliveries(APP, options)
            .await
            .expect("a page");
        pass.waited += asked.elapsed();
        for delivery in &page.data {
            consume(delivery, cost);
            pass.items += 1;
        }
        if !page.has_more {
            return pass;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Strategy {
    /// The stream, consumed on the thread that runs `block_on`.
    Stream,
    /// Page after page, consumed on the thread that runs `block_on`.
    Naive,
    /// The stream, consumed in a task spawned on a runtime worker.
    StreamInTask,
    /// As `StreamInTask`, yielding once at the start of every page.
    StreamInTaskYielding,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Stream => "stream",
            Strategy::Naive => "naive",
            Strategy::StreamInTask => "stream_in_task",
            Strategy::StreamInTaskYielding => "stream_in_task_yielding",
        }
    }

    async fn run(self, webhooks: &Webhooks, cost: Duration) -> Pass {
        match self {
            Strategy::Stream => run_stream(webhooks, cost, false, |_| {}).await,
            Strategy::Naive => run_naive(webhooks, cost).await,
            Strategy::StreamInTask | Strategy::StreamInTaskYielding => {
                let webhooks = webhooks.clone();
                let yielding = self == Strategy::StreamInTaskYielding;
                tokio::spawn(async move { run_stream(&webhooks, cost, yielding, |_| {}).await })
                    .await
                    .expect("the consuming task")
            }
        }
    }

    /// One timed pass over the `n` deliveries.
    async fn timed(self, webhooks: &Webhooks, n: u64, cost: Duration) -> (Duration, Timed) {
        let started = Instant::now();
        let pass = self.run(webhooks, cost).await;
        let took = started.elapsed();
        assert_eq!(pass.items, n);
        let timed = Timed {
            n,
            strategy: self,
            rate: n as f64 / took.as_secs_f64(),
            waited_per_page: pass.waited / (n / PAGE_SIZE as u64) as u32,
        };
        (took, timed)
    }
}

// ----- the emulator, in its own process ---------------------------------------------------------

/// Child role: serve an emulator until stdin closes.
fn serve_emulator() {
    let runtime = Runtime::new().expect("a runtime");
    let emulator = runtime.block_on(async {
        wacht_webhooks_emulator::Emulator::builder()
            .api_key(API_KEY)
            .retry_schedule(vec![Duration::from_secs(3600)])
            .deliver_to_loopback_only(true)
            .start()
            .await
            .expect("the emulator starts")
    });
    println!("{}", emulator.base_url());
    std::io::stdout().flush().expect("stdout");
    // The parent holds the other end: this returns when it closes it or exits.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    runtime.block_on(emulator.shutdown());
}

/// An emulator child process, stopped when dropped.
struct EmulatorProcess {
    child: Child,
    base_url: String,
}

impl EmulatorProcess {
    fn start() -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this executable"))
            .env(ROLE, "emulator")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the emulator process starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut base_url = String::new();
        BufReader::new(stdout)
            .read_line(&mut base_url)
            .expect("the emulator's URL");
        assert!(
            base_url.starts_with("http://"),
            "emulator said {base_url:?}"
        );
        EmulatorProcess {
            child,
            base_url: base_url.trim().to_string(),
        }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        // Closing its stdin asks it to stop; it is killed if it has not within 10 s.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(base_url: &str) -> Webhooks {
    Client::builder()
        .api_key(API_KEY)
        .base_url(base_url)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("a client")
        .webhooks()
}

/// A catalog, the app and one endpoint, then `n` deliveries; returns once the log holds them.
async fn seed(webhooks: &Webhooks, n: u64) {
    let started = Instant::now();
    webhooks
        .create_webhook_event_catalog(
            CreateWebhookEventCatalogRequest::new("bench", "Bench")
                .event(WebhookEventDefinition::new(EVENT, "An order was paid")),
        )
        .await
        .expect("the catalog");
    webhooks
        .create_webhook_app(
            CreateWebhookAppRequest::new("Bench")
                .app_slug(APP)
                .event_catalog_slug("bench"),
        )
        .await
        .expect("the app");
    // Not loopback: with `deliver_to_loopback_only` the emulator records a connection failure
    // at once, without any network traffic.
    webhooks
        .create_webhook_endpoint(
            APP,
            CreateWebhookEndpointRequest::new("https://receiver.invalid/hooks").subscribe(EVENT),
        )
        .await
        .expect("the endpoint");
    let triggered: u64 = stream::iter(0..n)
        .map(|i| {
            let webhooks = webhooks.clone();
            async move {
                let payload = json!({"order_id": format!("ord_{i}"), "amount": 4200});
                webhooks
                    .trigger_webhook_event(APP, TriggerWebhookEventRequest::new(EVENT, payload))
                    .await
                    .expect("a trigger")
                    .delivered_count as u64
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .fold(0, |sum, delivered| async move { sum + delivered })
        .await;
    assert_eq!(triggered, n);
    // The last page: exactly one delivery at offset n - 1 and nothing after it.
    let options = ListWebhookDeliveriesOptions::new()
        .limit(PAGE_SIZE)
        .offset(n as i64 - 1);
    let last = webhooks
        .list_webhook_deliveries(APP, options)
        .await
        .expect("the last page");
    assert!(last.data.len() == 1 && !last.has_more, "the log holds {n}");
    eprintln!(
        "seeded {n} deliveries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The mean time of a plain page call, over offsets spread across the list.
async fn page_time(webhooks: &Webhooks, n: u64) -> Duration {
    let page = |offset: i64| {
        let options = ListWebhookDeliveriesOptions::new()
            .limit(PAGE_SIZE)
            .offset(offset);
        webhooks.list_webhook_deliveries(APP, options)
    };
    page(0).await.expect("a warm-up page");
    let pages = n as i64 / PAGE_SIZE;
    let mut total = Duration::ZERO;
    for i in 0..CALIBRATION_PAGES {
        let offset = (i * pages / CALIBRATION_PAGES) * PAGE_SIZE;
        let started = Instant::now();
        let got = page(offset).await.expect("a page");
        total += started.elapsed();
        assert_eq!(got.data.len() as i64, PAGE_SIZE);
    }
    total / CALIBRATION_PAGES as u32
}

// ----- peak memory, in a fresh process ----------------------------------------------------------

/// Child role: stream the whole list with the consumer and print what memory it took.
fn measure_memory() {
    counting_alloc::start();
    let var = |name: &str| std::env::var(name).expect(name);
    let base_url = var("BENCH_BASE_URL");
    let n: u64 = var("BENCH_N").parse().expect("BENCH_N");
    let cost = Duration::from_nanos(var("BENCH_COST_NS").parse().expect("BENCH_COST_NS"));
    let runtime = Runtime::new().expect("a runtime");
    let webhooks = client(&base_url);
    // Warm up (runtime threads, the pooled connection and its buffers), then weigh one decoded
    // page.
    let one_page = runtime.block_on(async {
        let page = || {
            webhooks
                .list_webhook_deliveries(APP, ListWebhookDeliveriesOptions::new().limit(PAGE_SIZE))
        };
        drop(page().await.expect("a page"));
        let before = counting_alloc::live();
        let held = page().await.expect("a page");
        let weight = counting_alloc::live() - before;
        drop(held);
        weight
    });
    let baseline_heap = counting_alloc::reset_peak();
    let baseline_hwm = vm_hwm_kib();
    // The peak over the first tenth of the list, to compare with the peak over all of it.
    let mut tenth_peak = 0;
    let pass = runtime.block_on(run_stream(&webhooks, cost, false, |items| {
        if items == n / 10 {
            tenth_peak = counting_alloc::peak();
        }
    }));
    assert_eq!(pass.items, n);
    let peak_heap = counting_alloc::peak();
    println!(
        "{one_page} {baseline_heap} {tenth_peak} {peak_heap} {baseline_hwm} {}",
        vm_hwm_kib()
    );
}

/// The peak resident set of this process, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// What the memory child measured, in bytes (heap) and KiB (resident set).
#[derive(Debug, Clone, Copy)]
struct Memory {
    /// Heap bytes held by one decoded page of 100 deliveries.
    one_page: i64,
    /// Heap bytes live just before streaming.
    baseline_heap: i64,
    /// The most heap bytes live at once over the first tenth of the stream.
    tenth_peak_heap: i64,
    /// The most heap bytes live at once over the whole stream.
    peak_heap: i64,
    baseline_hwm_kib: i64,
    peak_hwm_kib: i64,
}

fn memory_child(base_url: &str, n: u64, cost: Duration) -> Memory {
    let output = Command::new(std::env::current_exe().expect("this executable"))
        .env(ROLE, "memory")
        .env("BENCH_BASE_URL", base_url)
        .env("BENCH_N", n.to_string())
        .env("BENCH_COST_NS", cost.as_nanos().to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("the memory process runs");
    assert!(output.status.success(), "memory process: {}", output.status);
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let numbers: Vec<i64> = text
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect();
    let [
        one_page,
        baseline_heap,
        tenth_peak_heap,
        peak_heap,
        baseline_hwm_kib,
        peak_hwm_kib,
    ] = numbers[..]
    else {
        panic!("memory process said {text:?}");
    };
    Memory {
        one_page,
        baseline_heap,
        tenth_peak_heap,
        peak_heap,
        baseline_hwm_kib,
        peak_hwm_kib,
    }
}

// ----- the benchmark ----------------------------------------------------------------------------

/// One timed pass.
struct Timed {
    n: u64,
    strategy: Strategy,
    /// Items per second.
    rate: f64,
    /// The consumer's mean wait for a page.
    waited_per_page: Duration,
}

/// Every timed pass.
type Rates = Arc<Mutex<Vec<Timed>>>;

struct Report {
    n: u64,
    page_time: Duration,
    memory: Memory,
}

/// An emulator seeded with `n` deliveries, and the consumer's cost calibrated on it.
struct Setup {
    n: u64,
    emulator: EmulatorProcess,
    webhooks: Webhooks,
    page_time: Duration,
    cost: Duration,
}

impl Setup {
    fn new(runtime: &Runtime, n: u64) -> Self {
        let emulator = EmulatorProcess::start();
        let webhooks = client(&emulator.base_url);
        runtime.block_on(seed(&webhooks, n));
        let page_time = runtime.block_on(page_time(&webhooks, n));
        let cost = page_time / PAGE_SIZE as u32;
        eprintln!(
            "{n}: page call {:.3} ms, consumer cost {:.2} µs per item",
            page_time.as_secs_f64() * 1e3,
            cost.as_secs_f64() * 1e6
        );
        Setup {
            n,
            emulator,
            webhooks,
            page_time,
            cost,
        }
    }

    /// Measures memory in a fresh process, then stops the emulator.
    fn finish(self) -> Report {
        let memory = memory_child(&self.emulator.base_url, self.n, self.cost);
        Report {
            n: self.n,
            page_time: self.page_time,
            memory,
        }
    }
}

fn pagination(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a multi-threaded runtime");
    let timed: Rates = Arc::default();
    let mut reports = Vec::new();
    let load_before = load_average();

    // 10,000 deliveries: criterion, ten samples of one pass each.
    let setup = Setup::new(&runtime, SMALL);
    let mut group = c.benchmark_group("pagination");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        // Less than ten passes take: one pass per sample (criterion says it cannot fit the
        // samples in this time, and takes the time it needs).
        .measurement_time(Duration::from_millis(100))
        .throughput(Throughput::Elements(SMALL));
    for strategy in [
        Strategy::Stream,
        Strategy::Naive,
        Strategy::StreamInTask,
        Strategy::StreamInTaskYielding,
    ] {
        let (webhooks, cost) = (setup.webhooks.clone(), setup.cost);
        group.bench_function(BenchmarkId::new(strategy.name(), SMALL), |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (timed, webhooks) = (timed.clone(), webhooks.clone());
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (took, pass) = strategy.timed(&webhooks, SMALL, cost).await;
                        total += took;
                        timed.lock().unwrap().push(pass);
                    }
                    total
                }
            });
        });
    }
    group.finish();
    reports.push(setup.finish());

    // 100,000 deliveries: a pass takes seconds, so fewer than criterion's minimum of ten
    // samples, the two strategies taking turns so that both see the same background load.
    let setup = Setup::new(&runtime, LARGE);
    for round in 1..=LARGE_PASSES {
        for strategy in [Strategy::Stream, Strategy::Naive] {
            let (took, pass) = runtime.block_on(strategy.timed(&setup.webhooks, LARGE, setup.cost));
            eprintln!(
                "pagination/{}/{LARGE} pass {round}: {:.2} s, {:.0} items/s",
                strategy.name(),
                took.as_secs_f64(),
                pass.rate
            );
            timed.lock().unwrap().push(pass);
        }
    }
    reports.push(setup.finish());

    summarize(&reports, &timed.lock().unwrap());
    println!(
        "  load average (1, 5, 15 min): {load_before} before, {} after",
        load_average()
    );
}

/// The first three fields of `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let len = values.len();
    (len > 0).then(|| (values[(len - 1) / 2] + values[len / 2]) / 2.0)
}

fn summarize(reports: &[Report], timed: &[Timed]) {
    let median_of = |n: u64, strategy: Strategy, value: &dyn Fn(&Timed) -> f64| {
        median(
            timed
                .iter()
                .filter(|t| t.n == n && t.strategy == strategy)
                .map(value)
                .collect(),
        )
    };
    println!(
        "\npagination summary (medians over every timed pass, warm-up included; pages of 100)"
    );
    for report in reports {
        let n = report.n;
        println!(
            "  {n} deliveries: page call {:.3} ms (mean of {CALIBRATION_PAGES}), \
             consumer {:.2} µs/item",
            report.page_time.as_secs_f64() * 1e3,
            report.page_time.as_secs_f64() * 1e6 / PAGE_SIZE as f64
        );
        for strategy in [
            Strategy::Stream,
            Strategy::Naive,
            Strategy::StreamInTask,
            Strategy::StreamInTaskYielding,
        ] {
            let rate = median_of(n, strategy, &|t| t.rate);
            let waited = median_of(n, strategy, &|t| t.waited_per_page.as_secs_f64() * 1e3);
            if let (Some(rate), Some(waited)) = (rate, waited) {
                println!(
                    "    {:<15} {rate:>8.0} items/s, consumer waits {waited:.3} ms per page",
                    strategy.name()
                );
            }
        }
        let stream = median_of(n, Strategy::Stream, &|t| t.rate);
        let naive = median_of(n, Strategy::Naive, &|t| t.rate);
        if let (Some(stream), Some(naive)) = (stream, naive) {
            println!("    stream / naive  {:>8.2}x", stream / naive);
        }
        let m = report.memory;
        let kib = |bytes: i64| bytes as f64 / 1024.0;
        println!(
            "    client process, streaming: one decoded page holds {:.1} KiB; heap live {:.1} KiB \
             before, peak {:.1} KiB (+{:.1} KiB) over the first tenth, {:.1} KiB (+{:.1} KiB) \
             over all; VmHWM {} KiB before, {} KiB after",
            kib(m.one_page),
            kib(m.baseline_heap),
            kib(m.tenth_peak_heap),
            kib(m.tenth_peak_heap - m.baseline_heap),
            kib(m.peak_heap),
            kib(m.peak_heap - m.baseline_heap),
            m.baseline_hwm_kib,
            m.peak_hwm_kib
        );
    }
}

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("emulator") => return serve_emulator(),
        Ok("memory") => return measure_memory(),
        Ok(other) => panic!("unknown {ROLE} {other:?}"),
        Err(_) => {}
    }
    let mut criterion = Criterion::default().configure_from_args();
    pagination(&mut criterion);
    criterion.final_summary();
}
