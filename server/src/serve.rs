//! The HTTP server loop: accepts connections and serves the application on each, with
//! the limits a public server needs against slow and hostile clients, and a graceful stop.
//!
//! - A client must send a request's whole head within [`HEADER_TIMEOUT`], counted from
//!   the connection's start and again from the end of each answer: a slow-loris client,
//!   and a keep-alive connection left idle, are closed after it.
//! - A request head may hold at most [`MAX_HEADER_BYTES`] and [`MAX_HEADERS`] headers
//!   (hyper answers 431 beyond); a body is bounded by the API's body limit, and a whole
//!   request, its body included, by the request timeout of [`crate::web`].
//! - At most [`max_connections`] connections at once, below the process's file limit, so
//!   that accepting never fails for want of a file descriptor (the database and the
//!   static files need some); beyond it, new connections wait in the listen queue.
//! - On the stop signal the listener closes at once (new connections are refused), idle
//!   connections close, and requests in flight finish with their answers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// How long a client may take to send a request's head (and how long a keep-alive
/// connection may stay idle).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes a request head may take; hyper answers 431 beyond.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The most header lines in a request head.
pub const MAX_HEADERS: usize = 100;
/// The most time a request may take, from its head to its answer, its body included: a
/// body sent a byte a second is cut off with a 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// File descriptors kept back from connections: database files and connections, static
/// files, the listener, logs.
const RESERVED_FDS: usize = 256;

/// Serves `router` on `listener` until `stop` completes, then lets requests in flight
/// finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) {
    // HTTP/1.1 only: what browsers speak without TLS, and what reverse proxies speak to
    // their backends. (HTTP/2 without TLS would need its own limits and timers.)
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES)
        .max_headers(MAX_HEADERS);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(max_connections()));
    // Dropping `stopping_rx` tells every connection to finish; each connection holds a
    // `done_rx` until it ends, so `done_tx.closed()` waits for the last one.
    let (stopping_tx, stopping_rx) = watch::channel(());
    let stopping_tx = Arc::new(stopping_tx);
    let (done_tx, done_rx) = watch::channel(());
    tokio::spawn(async move {
        stop.await;
        drop(stopping_rx);
    });
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = stopping_tx.closed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or memory for a moment: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopping_tx.closed() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let service = TowerToHyperService::new(service);
        let builder = Arc::clone(&builder);
        let stopping_tx = Arc::clone(&stopping_tx);
        let done_rx = done_rx.clone();
        tokio::spawn(async move {
            // hyper's header timer starts with the first byte: a connection that never
            // sends one is closed here after the same time.
            let mut first = [0u8; 1];
            // (And at once when the server stops.)
            let opened = tokio::select! {
                peeked = tokio::time::timeout(HEADER_TIMEOUT, stream.peek(&mut first)) => {
                    matches!(peeked, Ok(Ok(n)) if n > 0)
                }
                () = stopping_tx.closed() => false,
            };
            if !opened {
                drop(slot);
                drop(done_rx);
                return;
            }
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stopping = stopping_tx.closed();
            tokio::pin!(stopping);
            let mut told = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, %peer, "connection ended with an error");
                        }
                        break;
                    }
                    () = &mut stopping, if !told => {
                        told = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(slot);
            drop(done_rx);
        });
    }
    // New connections are refused from here on.
    drop(listener);
    drop(done_rx);
    done_tx.closed().await;
}

/// Connections served at once: the soft file limit less what the rest of the process
/// needs, and never fewer than 64.
pub fn max_connections() -> usize {
    open_files_limit()
        .map(|limit| limit.saturating_sub(RESERVED_FDS))
        .unwrap_or(1024)
        .max(64)
}

/// The soft `RLIMIT_NOFILE`, read from `/proc/self/limits` (Linux).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Answers 408 (the JSON error) to a request not done within [`REQUEST_TIMEOUT`].
pub async fn request_timeout(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => crate::error::ApiError::RequestTimeout.into_response(),
    }
}
