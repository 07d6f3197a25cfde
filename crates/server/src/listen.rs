//! Serving the router on a TCP listener with limits against hostile clients:
//! a client that trickles its request head (slowloris) or its body is cut
//! off, the number of open connections is bounded, and SIGTERM drains the
//! requests in flight before the process exits.
//!
//! `axum::serve` sets no timer on hyper, so its header-read timeout never
//! fires; this loop drives hyper's HTTP/1 connection itself with one.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::ApiError;

/// Time a client has to send a whole request head, counted from when the
/// server starts waiting for it (a new connection or an idle keep-alive one).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Time one request may take from its head to the handler's answer,
/// reading the body included: a body trickled slower than this is cut off.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections served at once; further clients wait in the listen backlog.
/// Well under the usual open-file limit, leaving room for database files.
pub const MAX_CONNECTIONS: usize = 512;

/// Time SIGTERM leaves requests in flight to finish before the connections
/// still open are dropped.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Pause after an accept error that is not about one connection (such as
/// running out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The limits [`serve_with`] enforces; [`Default`] gives the constants above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// See [`MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// See [`DRAIN_TIMEOUT`].
    pub drain_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> ServeLimits {
        ServeLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            drain_timeout: DRAIN_TIMEOUT,
        }
    }
}

/// Serves `router` on `listener` with the default [`ServeLimits`] until
/// `shutdown` completes, then drains the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    serve_with(listener, router, shutdown, ServeLimits::default()).await
}

/// Serves `router` on `listener` with `limits` until `shutdown` completes,
/// then drains the requests in flight for at most `limits.drain_timeout`.
/// Each request carries the peer's [`ConnectInfo<SocketAddr>`].
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
    limits: ServeLimits,
) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    // Without a timer hyper ignores the header-read timeout.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.map_err(io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "accept failed; pausing");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        // Small JSON answers should not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let service = request_service(router.clone(), peer, limits.request_timeout);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // Timeouts and clients that hang up end here; not our fault.
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections drained"),
        () = tokio::time::sleep(limits.drain_timeout) => {
            tracing::warn!(timeout = ?limits.drain_timeout, "connections still open after the drain timeout; closing them");
        }
    }
    Ok(())
}

/// The per-connection hyper service: the router, told who the peer is, with
/// the whole request (body reading included) bounded by `timeout`.
fn request_service(
    router: Router,
    peer: SocketAddr,
    timeout: Duration,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = router.clone().oneshot(request.map(axum::body::Body::new));
        async move {
            match tokio::time::timeout(timeout, answer).await {
                Ok(answer) => answer,
                Err(_) => Ok(request_timed_out().into_response()),
            }
        }
    })
}

/// Errors of one incoming connection (it was reset before we took it), after
/// which the listener is fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// 413 for a request body over the limit.
pub fn request_too_large() -> ApiError {
    let mb = crate::MAX_BODY_BYTES / (1024 * 1024);
    let upload_mb = crate::MAX_UPLOAD_BYTES / (1024 * 1024);
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "request_too_large",
        zh: format!("请求体过大：JSON 与表单上限 {mb} MB，上传文件上限 {upload_mb} MB"),
        en: format!(
            "the request body is too large: the limit is {mb} MB for JSON and forms, {upload_mb} MB for uploaded files"
        ),
        field: None,
    }
}

/// 408 for a request not received and answered within the time limit.
pub fn request_timed_out() -> ApiError {
    ApiError {
        status: StatusCode::REQUEST_TIMEOUT,
        code: "request_timeout",
        zh: "请求超时：请求未在时限内收到并处理完毕".into(),
        en: "request timed out: it was not received and handled within the time limit".into(),
        field: None,
    }
}

/// Turns the bare 413 and 408 answers of the body-limit and timeout layers
/// and of axum's extractors (plain text or empty) into our bilingual JSON
/// errors; answers of our own (JSON, or a web page) pass unchanged.
pub async fn limit_answer_as_json(response: Response) -> Response {
    let bare = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !bare {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => request_too_large().into_response(),
        StatusCode::REQUEST_TIMEOUT => request_timed_out().into_response(),
        _ => response,
    }
}
