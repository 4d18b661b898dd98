//! Serving the API over HTTP/1.1 with limits on slow and numerous clients.
//!
//! Each connection must deliver a complete request head within the header-read timeout (an idle
//! keep-alive connection too, before its next request), and at most a fixed number of connections
//! are served at once: beyond it, new connections wait in the operating system's accept queue
//! until a slot frees. Together they keep a crowd of clients that send half a request line
//! ("slowloris") from starving everyone else: each of them holds a slot for at most the timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The default time a client has to send a request head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// The pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The limits of the API listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The time a connection has to send a complete request head.
    pub header_read_timeout: Duration,
    /// The number of connections served at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `stop` completes, then lets the requests in progress finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(stop);
    loop {
        // A free slot first: beyond the cap, connections queue in the kernel, not in memory.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Small JSON answers go out at once instead of waiting on Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A timed-out or broken connection is the client's problem: nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
