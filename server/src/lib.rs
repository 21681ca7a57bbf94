//! The `arx` server: wiring of the engine, the machine API, the console and the demo.
//! `main` parses the command line and calls into here; tests call [`launch`] with a
//! listener on port 0 and get the real server.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// The console's server-rendered views are deeply nested types (the approval request page
// the deepest); rendering them here needs more than the default 128.
#![recursion_limit = "256"]

/// mimalloc: the execute path allocates and frees many small JSON values across threads,
/// where glibc's allocator spent about 15% of a benchmark's CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod frequency;
pub mod http;
pub mod integrations;
pub mod jobs;
pub mod keys;

use std::net::SocketAddr;
use std::sync::Arc;

use arx_core::Engine;
use arx_core::catalog::Catalog;
use arx_core::clock::{Clock, SystemClock};
use arx_simulator::Simulator;
use arx_store::SqlStore;
use axum::Router;
use axum::routing::post;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Config;

/// What every handler can reach.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub engine: Arc<Engine>,
    /// Whether sign-ins take the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    pub metrics: Arc<http::ops::Metrics>,
    /// Slack, Teams and webhook delivery.
    pub hub: Arc<integrations::Hub>,
    pub leptos_options: LeptosOptions,
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    pub store: SqlStore,
    pub simulator: Option<Simulator>,
    pub demo: Option<demo::DemoFile>,
    /// Set on the first start of an empty database without the demo.
    pub bootstrap: Option<bootstrap::Bootstrap>,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The background jobs (expiry sweeps, purges, the notifier...).
    pub jobs: jobs::Jobs,
}

/// Opens the database named by the config and applies migrations.
pub async fn open_store(cfg: &Config) -> Result<SqlStore, String> {
    if cfg.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", cfg.data_dir.display()))?;
    }
    let store = SqlStore::connect(&cfg.database_url)
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(store)
}

/// Builds the engine on an open store, on the system clock.
pub fn engine(cfg: &Config, store: &SqlStore) -> Result<Arc<Engine>, String> {
    engine_with_clock(cfg, store, Arc::new(SystemClock))
}

/// Builds the engine on an open store with `clock` (tests move a manual one).
pub fn engine_with_clock(
    cfg: &Config,
    store: &SqlStore,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Engine>, String> {
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", cfg.data_dir.display()))?;
    let catalog = Catalog::builtin().map_err(|e| e.to_string())?;
    let master = keys::load_master_key(cfg)?;
    if cfg.allow_local_targets {
        tracing::warn!(
            "local targets are allowed: calls and notices may go to plain http and to loopback, private and link-local addresses (for the demo and tests only)"
        );
    }
    Ok(Engine::new(
        Arc::new(store.clone()),
        catalog,
        master,
        clock,
        arx_core::engine::EngineOptions {
            local_targets: cfg.allow_local_targets,
            token_lifetime_days: cfg.token_lifetime_days,
            witness_dir: Some(cfg.witness_dir.clone()),
            checkpoint_interval_secs: cfg.checkpoint_interval_secs,
            calls: match cfg.redis_url.as_deref() {
                Some(url) => Some(Arc::new(frequency::RedisWindow::new(url)?)),
                None => None,
            },
        },
    ))
}

/// Starts everything on `listener`: migrations, the engine, the demo (when asked), the HTTP server.
pub async fn launch(
    cfg: Config,
    listener: tokio::net::TcpListener,
    with_demo: bool,
) -> Result<Running, String> {
    launch_with_clock(cfg, listener, with_demo, Arc::new(SystemClock)).await
}

/// [`launch`] on a given clock.
pub async fn launch_with_clock(
    cfg: Config,
    listener: tokio::net::TcpListener,
    with_demo: bool,
    clock: Arc<dyn Clock>,
) -> Result<Running, String> {
    let mut cfg = cfg;
    // The demo's targets are the simulator on this machine, over plain http.
    cfg.allow_local_targets |= with_demo;
    let store = open_store(&cfg).await?;
    let engine = engine_with_clock(&cfg, &store, clock)?;
    // Approved calls interrupted by a stop are marked failed, never run again.
    jobs::recover_at_start(&engine).await?;
    engine
        .follow_other_replicas()
        .await
        .map_err(|e| format!("listening for other replicas' approval decisions failed: {e:?}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if cfg.public_url == "http://127.0.0.1" {
        cfg.public_url = format!("http://{addr}");
    }
    // Slack, Teams and webhook notices follow every approval event from here on.
    let hub = Arc::new(integrations::Hub::new(
        &cfg.public_url,
        cfg.allow_local_targets,
    )?);
    let jobs = jobs::start(
        &engine,
        Arc::new(store.clone()),
        hub.clone(),
        cfg.job_lease_ms,
    );

    let (simulator, demo) = if with_demo {
        let sim_listener = tokio::net::TcpListener::bind(cfg.simulator_listen)
            .await
            .map_err(|e| format!("the demo's target simulator cannot listen on {} ({e}); set ARX_SIMULATOR_LISTEN", cfg.simulator_listen))?;
        // A fixed simulator port (the demo's) puts the connector hosts on the ports after it.
        let fixed = cfg.simulator_listen.port() != 0;
        let sim = Simulator::start_with(sim_listener, engine.catalog().clone(), fixed)
            .await
            .map_err(|e| e.to_string())?;
        let demo = demo::seed(&engine, &cfg, &sim)
            .await
            .map_err(|e| format!("seeding the demo failed: {e:?}"))?;
        (Some(sim), demo)
    } else {
        (None, None)
    };
    let bootstrap = if with_demo {
        None
    } else {
        bootstrap::first_start(&engine)
            .await
            .map_err(|e| format!("creating the first admin failed: {e:?}"))?
    };

    let leptos_options = LeptosOptions::builder()
        .output_name("arx")
        .site_root(cfg.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let state = AppState {
        engine: engine.clone(),
        trust_forwarded_for: cfg.trust_forwarded_for,
        metrics: Arc::default(),
        hub,
        leptos_options,
    };
    let app = router(state, cfg.public_url.starts_with("https://"));
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Ok(Running {
        addr,
        engine,
        store,
        simulator,
        demo,
        bootstrap,
        server,
        jobs,
    })
}

/// The console's routes, generated once per process. Generating them runs the whole app
/// with resource loading suppressed by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a page another server in the same process renders at that
/// moment would wait forever for a resource that never loads (leptos-rs/leptos#4773).
/// One generation, before the first server serves, leaves no such moment.
fn console_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

fn router(state: AppState, secure_cookies: bool) -> Router {
    let sessions = SessionManagerLayer::new(http::console::DbSessions(state.engine.clone()))
        .with_name("arx_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure_cookies)
        // The cookie outlives the longest idle timeout an org may set; the engine ends
        // each session by its org's idle and absolute timeouts.
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(24)));

    let routes = console_routes();
    let engine = state.engine.clone();
    let public_url = app::PublicUrl(state.hub.public_url.clone());
    let context = move || {
        provide_context(engine.clone());
        provide_context(public_url.clone());
    };
    let leptos_options = state.leptos_options.clone();

    Router::new()
        .merge(http::routes())
        .route(
            "/api/{*fn_name}",
            post({
                let context = context.clone();
                move |req| leptos_axum::handle_server_fns_with_context(context.clone(), req)
            }),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let leptos_options = leptos_options.clone();
            move || app::shell(leptos_options.clone())
        })
        // A path that names no page renders the console's 404 inside its frame, which
        // reads who is signed in: the same context as the pages.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            integrations::links::guard,
        ))
        .layer(axum::middleware::from_fn(http::console::require_login))
        .layer(axum::middleware::from_fn(http::console::same_origin))
        .layer(sessions)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
