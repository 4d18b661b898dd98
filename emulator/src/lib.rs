//! A faithful local emulator of the Wacht Webhooks API.
//!
//! It serves every route of the API with the production wire format, keeps its state in memory,
//! and delivers for real over HTTP: Standard Webhooks signatures, retries on a schedule, endpoint
//! deactivation on 410 or repeated failure, filter rules, replay tasks, and stats, analytics and
//! time series computed from its own delivery log.
//!
//! By default it behaves like the production service, quirks included, so that code tested against
//! it works against the real one; [`Behaviour::Documented`] serves the API as documented instead.
//! [`Behaviour`] lists every difference.
//!
//! It holds up under long runs and bad receivers: the delivery log keeps a bounded number of
//! settled deliveries and a bounded prefix of each response body
//! ([`EmulatorBuilder::max_retained_deliveries`]), one slow endpoint cannot hold up the others
//! ([`EmulatorBuilder::max_attempts_in_flight_per_endpoint`]), and shutdown has a deadline
//! ([`EmulatorBuilder::shutdown_timeout`]).
//!
//! For development and tests it also receives and shows what it sends. [`Emulator::inbox`] gives
//! a URL on the emulator's own listener (`/_inbox/{name}`) that records each request and answers
//! scripted statuses; `Emulator::client` (feature `client`, on by default) a
//! `wacht_webhooks::Client` already pointed at it; [`Emulator::wait_idle`] waits until no
//! delivery or replay is in flight. The inspector page at [`Emulator::inspector_url`]
//! (`/_inspector`, embedded in the binary, no network needed) shows apps, endpoints, deliveries
//! with every attempt, and the inboxes; it triggers events, replays deliveries, tests and
//! reactivates endpoints and rotates secrets, through the API with the same key as any client.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wacht_webhooks_emulator::StartError> {
//! use std::time::Duration;
//! use wacht_webhooks_emulator::Emulator;
//!
//! let emu = Emulator::builder()
//!     .api_key("test_key")
//!     .retry_schedule(vec![Duration::from_millis(20); 4])
//!     .deliver_to_loopback_only(true)
//!     .start()
//!     .await?;
//! println!("serving on {}", emu.base_url());
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod analytics;
mod api;
mod behaviour;
mod delivery;
mod emulator;
mod error;
mod filter;
mod fixtures;
mod inbox;
mod inspector;
mod ip_registry;
mod replay;
mod resolve;
mod serve;
mod signing;
mod spec;
mod state_file;
mod store;
#[cfg(feature = "tls")]
mod tls;
mod url_policy;
mod wire;

pub use behaviour::Behaviour;
pub use emulator::{
    DEFAULT_API_KEY, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_STATE_INTERVAL, Emulator, EmulatorBuilder,
    StartError, default_retry_schedule,
};
pub use inbox::{
    DEFAULT_WAIT, INBOX_PATH, Inbox, InvalidStatus, MAX_INBOX_BODY, MAX_INBOX_NAME, MAX_INBOXES,
    MAX_REQUESTS_PER_INBOX, ReceivedRequest, WaitTimeout,
};
pub use inspector::INSPECTOR_PATH;
/// Name resolution: implement [`dns::Resolve`] and pass it to
/// [`EmulatorBuilder::dns_resolver`] to decide what endpoint host names resolve to.
pub use reqwest::dns;
pub use resolve::SystemResolver;
pub use store::TRUNCATION_MARK;
