//! Yuanjiang's HTTP server: the JSON API under `/api/v1`, `/healthz` and the web pages ([`web`]).
//! [`app`] builds the router; the binary only binds it to an address.

#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod bulletin;
pub mod cache;
pub mod demo;
mod error;
pub mod listen;
pub mod metrics;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use yuanjiang_domain::Viewer;
use yuanjiang_search::ProjectIndex;
use yuanjiang_store::Store;

pub use error::ApiError;

/// Shared state of every request, behind one `Arc`: axum clones the state
/// for every request (the router's handler service, each `State`
/// extractor, each middleware), and cloning the parts one by one cost a
/// dozen contended reference counts per request (perf under wrk: 17 % of
/// the list route's time in those clones and drops).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub struct Shared {
    /// The database.
    pub store: Store,
    /// Full-text search over projects; empty until [`ProjectIndex::rebuild`]
    /// runs (the binary starts it in the background), then kept in step by
    /// every project write.
    pub search: ProjectIndex,
    /// Responses kept for the current write version.
    pub cache: cache::ResponseCache,
}

impl AppState {
    /// The state of an app serving `store`, with an empty search index.
    pub fn new(store: Store) -> AppState {
        AppState(Arc::new(Shared {
            store,
            // Falls back to memory when no temporary directory can be
            // made; with a fixed schema it cannot fail but for a broken
            // build, so this is a start-up check.
            search: ProjectIndex::new().expect("in-memory search index"),
            cache: cache::ResponseCache::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Who is calling, as established by the authentication layer
/// ([`auth::authenticate`]) from a bearer token or the session cookie; the
/// public, which sees published records only, when neither is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub Viewer);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        auth::caller_of(parts).map(Caller)
    }
}

/// Largest request body accepted by the JSON and form extractors.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest body of any request: the upload routes (imports, attachments)
/// raise the extractors' limit up to this with their own `DefaultBodyLimit`
/// layer; everything else stays at [`MAX_BODY_BYTES`].
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// The one middleware around every route (one, because each `from_fn`
/// layer clones the boxed handler stack per request: perf of the project
/// page under load). It times the request for `/metrics`, and after any
/// request that may have written, the node forgets the write version it
/// remembered, so that the writer's next read sees its write.
async fn around_each_route(
    axum::extract::State(cache): axum::extract::State<cache::ResponseCache>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let reads_only = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let timer = metrics::Timer::start(&request);
    let response = next.run(request).await;
    timer.record(response.status());
    if !reads_only {
        cache.forget_version();
    }
    response
}

/// Builds the application router with the default sign-in settings.
pub fn app(state: AppState) -> Router {
    app_with(state, auth::AuthConfig::default())
}

/// Builds the application router.
pub fn app_with(state: AppState, auth_config: auth::AuthConfig) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route(
            "/api/v1/projects",
            get(api::projects).post(api::writes::create_project),
        )
        .route(
            "/api/v1/projects/{code}",
            get(api::project).put(api::writes::update_project),
        )
        .route(
            "/api/v1/projects/{code}/state",
            axum::routing::post(api::writes::change_state),
        )
        .route(
            "/api/v1/projects/{code}/transactions",
            axum::routing::post(api::writes::add_transaction),
        )
        .route(
            "/api/v1/projects/{code}/approval",
            axum::routing::post(api::writes::take_step),
        )
        .route(
            "/api/v1/projects/{code}/indicators/{name}",
            axum::routing::put(api::writes::put_indicator),
        )
        .route(
            "/api/v1/projects/{code}/indicators/{name}/values/{period}",
            axum::routing::put(api::writes::put_indicator_value),
        )
        .route(
            "/api/v1/transactions/{id}",
            get(api::writes::get_transaction).put(api::writes::update_transaction),
        )
        .route("/api/v1/inbox", get(api::writes::inbox))
        .route("/api/v1/audit", get(api::audit::list))
        .route("/api/v1/audit/verify", get(api::audit::verify))
        .route(
            "/api/v1/assignments",
            get(api::personnel::assignments).post(api::writes::create_assignment),
        )
        .route(
            "/api/v1/assignments/{id}",
            get(api::writes::get_assignment).put(api::writes::update_assignment),
        )
        .route("/api/v1/parties", get(api::parties))
        .route("/api/v1/pairings", get(api::pairings))
        .route("/api/v1/stats/funds", get(api::fund_stats))
        .route("/metrics", get(metrics::metrics))
        .merge(api::openapi::routes())
        .merge(api::records::routes())
        .merge(api::export::routes())
        .merge(api::attachments::routes())
        .merge(auth::routes())
        .merge(web::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.cache.clone(),
            around_each_route,
        ))
        .fallback(web::fallback)
        // Establishes the caller and checks CSRF for every route and the
        // fallback above: add routes above this line.
        .layer(axum::middleware::from_fn_with_state(
            auth::Auth::new(state.store.clone(), auth_config),
            auth::authenticate,
        ))
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            listen::REQUEST_TIMEOUT,
        ))
        // The limit layers above answer bare text; clients get our JSON.
        .layer(axum::middleware::map_response(listen::limit_answer_as_json))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}
