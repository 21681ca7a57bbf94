//! The call window shared by every replica, in Redis (`ARX_REDIS_URL`): each agent's
//! calls over the last 60 s, the frequency input of the risk score and the
//! `session.actions` policy reads. One sorted set per agent (`arx:calls:<agent id>`),
//! each call a member scored by its time; one atomic pipeline per call prunes what left
//! the window, reads the latest actions, adds the call and counts.
//!
//! Out of reach (refused, cut, slower than [`RESPONSE_TIMEOUT`]), a call is still
//! governed: the engine takes the frequency input at its maximum and records it as
//! unknown, never as zero. The connection is made on first use and again after a failure,
//! at most once per [`RETRY`], so a Redis that is down costs a call no more than one
//! refused connection now and then.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use arx_core::ids::AgentId;
use arx_core::risk::{CallCounter, SESSION_ACTIONS, WindowFacts};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long a call waits for Redis before its frequency counts as unknown.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
/// The least time between two attempts to connect.
const RETRY: Duration = Duration::from_secs(1);
/// The window, and a little more for the key's expiry.
const WINDOW_MS: i64 = 60_000;

pub struct RedisWindow {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    last_attempt: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RedisWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("RedisWindow").finish_non_exhaustive()
    }
}

impl RedisWindow {
    /// A window on the Redis at `url`; nothing is connected yet.
    pub fn new(url: &str) -> Result<RedisWindow, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("ARX_REDIS_URL is not a Redis URL: {e}"))?;
        Ok(RedisWindow {
            client,
            conn: tokio::sync::Mutex::new(None),
            last_attempt: Mutex::new(None),
        })
    }

    /// The connection, made now if there is none and the last attempt is old enough.
    async fn connection(&self) -> Result<ConnectionManager, String> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.as_ref() {
            return Ok(c.clone());
        }
        {
            let mut last = self
                .last_attempt
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < RETRY) {
                return Err("Redis was out of reach a moment ago".into());
            }
            *last = Some(Instant::now());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1);
        let made = self
            .client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| format!("cannot connect to Redis: {e}"))?;
        *conn = Some(made.clone());
        Ok(made)
    }
}

#[async_trait::async_trait]
impl CallCounter for RedisWindow {
    async fn record(
        &self,
        agent: AgentId,
        now_ms: i64,
        action: &str,
    ) -> Result<WindowFacts, String> {
        let mut conn = self.connection().await?;
        let key = format!("arx:calls:{agent}");
        // Unique per call: two calls in the same millisecond are two members.
        let member = format!("{now_ms}:{}:{action}", uuid::Uuid::new_v4().simple());
        let latest = -(SESSION_ACTIONS as i64);
        let (prior, count): (Vec<String>, u32) = redis::pipe()
            .atomic()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&key)
            .arg("-inf")
            .arg(now_ms - WINDOW_MS)
            .ignore()
            .cmd("ZRANGE")
            .arg(&key)
            .arg(latest)
            .arg(-1)
            .cmd("ZADD")
            .arg(&key)
            .arg(now_ms)
            .arg(&member)
            .ignore()
            .cmd("ZCARD")
            .arg(&key)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(WINDOW_MS + 1_000)
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("Redis: {e}"))?;
        Ok(WindowFacts {
            calls_last_60s: count,
            // `<ms>:<nonce>:<action>`: the action is the rest.
            prior_actions: prior
                .into_iter()
                .map(|m| m.splitn(3, ':').nth(2).unwrap_or_default().to_string())
                .collect(),
        })
    }
}
