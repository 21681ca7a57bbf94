//! Appending to and reading the audit chain. An append seals the drafts after each org's
//! head (hashing is the engine's `arx_core::audit::seal`) and inserts them in one atomic
//! statement; a trigger moves the head. The `(org_id, seq)` key is what serializes
//! writers: two replicas can never both place a record at the same `seq`.

use std::collections::HashMap;
use std::time::Instant;

use arx_core::CoreError;
use arx_core::audit::event::SealedRecords;
use arx_core::audit::{AuditDraft, AuditRecord, ChainHead, seal};
use arx_core::ids::{AgentId, OrgId, RecordId};
use arx_core::stages::{self, Stage, timed};
use arx_core::store::{
    AgentCalls, AuditFacets, AuditFilter, AuditQuery, AuditStore, FACET_WINDOW, FacetGroup,
    KindFilter, ResponseBody, StoreResult, record_text,
};
use async_trait::async_trait;

use crate::{Args, Dialect, Query, SqlStore, Table, db_err, in_org, rows};

/// Columns every audit record binds in a multi-row INSERT; PostgreSQL binds one more,
/// the record's words.
const RECORD_COLUMNS: usize = 15;
const RECORD_BINDS: usize = RECORD_COLUMNS + 1;
/// How often an append is resealed after losing a race for the chain head.
const MAX_ATTEMPTS: usize = 8;
/// What the `audit_records_guard` trigger says when a record's `guard_epoch` is not its
/// org's configuration epoch (migration 0028).
const STALE_CONFIGURATION: &str = "arx: stale configuration";

/// A record sealed in its place, with what its row stores besides.
struct Sealed {
    ts_ms: i64,
    guard_epoch: Option<i64>,
    record: AuditRecord,
    /// The record as its row stores it: its export line, made when it was sealed.
    line: String,
}

/// The multi-row INSERT of `n` records, its placeholders numbered from `$first`; the
/// `audit_records_move_head` trigger moves each org's head. On PostgreSQL the record's
/// words ([`record_text`], computed here from the event) go into `text_vec`; on SQLite a
/// trigger fills FTS5 from the record.
fn records_sql(dialect: Dialect, n: usize, first: usize) -> String {
    let words = dialect == Dialect::Postgres;
    let mut sql = String::from(
        "INSERT INTO audit_records (org_id, seq, id, ts_ms, kind, agent_id, connector, operation, verdict, risk_score, actor, approval_id, record, hash, guard_epoch",
    );
    sql.push_str(if words {
        ", text_vec) VALUES "
    } else {
        ") VALUES "
    });
    let per = RECORD_COLUMNS + usize::from(words);
    for i in 0..n {
        let mark = |k: usize| format!("${}", first - 1 + i * per + k);
        let mut row: Vec<String> = (1..=RECORD_COLUMNS).map(mark).collect();
        if words {
            row.push(format!("to_tsvector('simple', {})", mark(per)));
        }
        sql.push_str(if i == 0 { "(" } else { ", (" });
        sql.push_str(&row.join(", "));
        sql.push(')');
    }
    sql
}

/// Binds `chunk` in the order [`records_sql`] numbers it.
fn bind_records<'q>(mut q: Query<'q>, dialect: Dialect, chunk: &[Sealed]) -> Query<'q> {
    for Sealed {
        ts_ms,
        guard_epoch,
        record: r,
        line,
    } in chunk
    {
        let f = |k: &str| r.fields.get(k).and_then(|v| v.as_str()).map(str::to_string);
        q = q
            .bind(r.org_id.to_string())
            .bind(r.seq)
            .bind(r.id.to_string())
            .bind(*ts_ms)
            .bind(r.kind.clone())
            .bind(f("agent_id"))
            .bind(f("connector"))
            .bind(f("operation"))
            .bind(f("verdict"))
            .bind(r.risk_score().map(i64::from))
            .bind(r.actor.id.clone().unwrap_or_else(|| r.actor.kind.clone()))
            .bind(f("approval_id"))
            .bind(line.clone())
            .bind(r.hash.clone())
            .bind(*guard_epoch);
        if dialect == Dialect::Postgres {
            q = q.bind(record_text(&r.fields));
        }
    }
    q
}

/// One multi-row INSERT of records.
async fn insert_chunk<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    exec: E,
    dialect: Dialect,
    chunk: &[Sealed],
) -> Result<(), sqlx::Error> {
    let sql = records_sql(dialect, chunk.len(), 1);
    bind_records(sqlx::query(&sql), dialect, chunk)
        .execute(exec)
        .await
        .map(|_| ())
}

#[async_trait]
impl AuditStore for SqlStore {
    /// Seals and inserts `drafts` as one atomic statement (a transaction only past
    /// [`SqlStore::rows_per_insert`] records). Heads come from memory; if another writer (a replica)
    /// appended meanwhile, the `(org_id, seq)` key refuses the insert, and the heads are
    /// reloaded and the drafts sealed again, so a chain never forks. A draft whose
    /// `guard_epoch` is no longer its org's configuration epoch fails the whole append
    /// with [`CoreError::StaleConfiguration`], nothing written.
    #[tracing::instrument(skip_all, fields(n = drafts.len()))]
    async fn append_audit_with_bodies(
        &self,
        drafts: &[AuditDraft],
        bodies: &[ResponseBody],
    ) -> StoreResult<Vec<AuditRecord>> {
        if let Some(file) = &self.file {
            file.check()?;
        }
        let orgs: Vec<OrgId> = drafts.iter().map(|d| d.org_id).collect();
        for _attempt in 0..MAX_ATTEMPTS {
            let mut heads = timed(Stage::AppendHead, self.heads_of(&orgs)).await?;
            let mut sealed = Vec::with_capacity(drafts.len());
            for d in drafts.iter().cloned() {
                let head = heads
                    .get_mut(&d.org_id)
                    .ok_or_else(|| CoreError::Internal("chain head missing".into()))?;
                let (ts_ms, guard_epoch) = (d.ts_ms, d.guard_epoch);
                let (record, line) = seal(head, d)?;
                sealed.push(Sealed {
                    ts_ms,
                    guard_epoch,
                    record,
                    line,
                });
            }
            match self.insert_records(&sealed, bodies).await {
                Ok(()) => {
                    let mut cache = self
                        .heads
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    cache.extend(heads);
                    return Ok(sealed.into_iter().map(|s| s.record).collect());
                }
                Err(e) => {
                    self.forget_heads(&orgs);
                    let stale = e
                        .as_database_error()
                        .is_some_and(|d| d.is_unique_violation());
                    let moved = e
                        .as_database_error()
                        .is_some_and(|d| d.message().contains(STALE_CONFIGURATION));
                    if moved {
                        return Err(CoreError::StaleConfiguration);
                    }
                    if !stale {
                        return Err(db_err("audit insert")(e));
                    }
                    tracing::debug!("chain head moved under us; resealing");
                }
            }
        }
        Err(CoreError::Internal(
            "audit append: the chain head kept moving; too much contention".into(),
        ))
    }

    async fn audit_page(&self, org: OrgId, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        self.catch_up(org).await?;
        let plan = self.text_plan(org, &q.filter).await?;
        self.page_of(org, q, &plan).await
    }

    async fn audit_search(
        &self,
        org: OrgId,
        q: &AuditQuery,
    ) -> StoreResult<(Vec<AuditRecord>, AuditFacets)> {
        self.catch_up(org).await?;
        // The words are looked up once; the page and the counts then read side by side.
        let plan = self.text_plan(org, &q.filter).await?;
        tokio::try_join!(
            self.page_of(org, q, &plan),
            self.facets_of(org, &q.filter, &plan)
        )
    }

    async fn audit_after(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.fetch_all(
in_org("SELECT record FROM audit_records WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", org)
        .bind(after_seq)
        .bind(i64::from(limit)), "audit range", rows::audit)
.await
    }

    async fn audit_in_range(
        &self,
        org: OrgId,
        kind: &str,
        (from_ms, to_ms): (i64, i64),
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.catch_up(org).await?;
        let (ts, seq) = after.unwrap_or((i64::MIN, i64::MIN));
        self.fetch_all(
            in_org(
                "SELECT c.record FROM audit_index i \
                 JOIN audit_records c ON c.org_id = i.org_id AND c.seq = i.seq \
             WHERE i.org_id = $1 AND i.kind = $2 AND i.ts_ms >= $3 AND i.ts_ms <= $4 \
               AND (i.ts_ms > $5 OR (i.ts_ms = $5 AND i.seq > $6)) \
             ORDER BY i.ts_ms, i.seq LIMIT $7",
                org,
            )
            .bind(kind)
            .bind(from_ms)
            .bind(to_ms)
            .bind(ts)
            .bind(seq)
            .bind(i64::from(limit)),
            "audit time range",
            rows::audit,
        )
        .await
    }

    async fn audit_count_in_range(
        &self,
        org: OrgId,
        kind: &str,
        (from_ms, to_ms): (i64, i64),
    ) -> StoreResult<u64> {
        self.catch_up(org).await?;
        let row = in_org(
            "SELECT COUNT(*) AS n FROM audit_index \
             WHERE org_id = $1 AND kind = $2 AND ts_ms >= $3 AND ts_ms <= $4",
            org,
        )
        .bind(kind)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err("audit time range count"))?;
        Ok(u64::try_from(rows::get::<i64>(&row, "n")?).unwrap_or(0))
    }

    async fn audit_counts_by_agent(
        &self,
        org: OrgId,
        kind: &str,
        (from_ms, to_ms): (i64, i64),
    ) -> StoreResult<Vec<AgentCalls>> {
        self.catch_up(org).await?;
        let q = in_org(
            "SELECT agent_id, connector, COUNT(*) AS n FROM audit_index \
             WHERE org_id = $1 AND kind = $2 AND ts_ms >= $3 AND ts_ms <= $4 \
               AND agent_id IS NOT NULL AND connector IS NOT NULL \
             GROUP BY agent_id, connector",
            org,
        )
        .bind(kind)
        .bind(from_ms)
        .bind(to_ms);
        self.fetch_all(q, "calls by agent", |r| {
            Ok(AgentCalls {
                agent_id: rows::get(r, "agent_id")?,
                connector: rows::get(r, "connector")?,
                count: rows::get(r, "n")?,
            })
        })
        .await
    }

    async fn chain_head(&self, org: OrgId) -> StoreResult<ChainHead> {
        let row = in_org("SELECT seq, hash FROM chain_heads WHERE org_id = $1", org)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("chain head"))?;
        match row {
            Some(r) => Ok(ChainHead {
                seq: rows::get(&r, "seq")?,
                hash: rows::get(&r, "hash")?,
            }),
            None => Ok(ChainHead::genesis()),
        }
    }

    async fn index_audit(&self) -> StoreResult<u64> {
        self.index_all().await
    }

    async fn audit_record(&self, org: OrgId, id: RecordId) -> StoreResult<Option<AuditRecord>> {
        let table = Table {
            name: "audit_records",
            cols: "record",
        };
        self.by_id(table, org, id, "audit record", rows::audit)
            .await
    }

    async fn audit_count(&self, org: OrgId) -> StoreResult<i64> {
        let row = in_org(
            "SELECT COUNT(*) AS n FROM audit_records WHERE org_id = $1",
            org,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err("audit count"))?;
        rows::get(&row, "n")
    }

    async fn records_about(&self, org: OrgId, agent: AgentId) -> StoreResult<SealedRecords> {
        // From the agent and actor indexes: the span is counted, not walked.
        self.catch_up(org).await?;
        let row = in_org(
            "SELECT COUNT(*) AS n, MIN(seq) AS first_seq, MAX(seq) AS last_seq FROM audit_index \
             WHERE org_id = $1 AND (agent_id = $2 OR actor = $2)",
            org,
        )
        .bind(agent.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err("records of an agent"))?;
        let last_seq: Option<i64> = rows::get(&row, "last_seq")?;
        let last_hash = match last_seq {
            None => None,
            Some(seq) => Some(
                in_org(
                    "SELECT hash FROM audit_records WHERE org_id = $1 AND seq = $2",
                    org,
                )
                .bind(seq)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err("records of an agent"))
                .and_then(|r| rows::get(&r, "hash"))?,
            ),
        };
        Ok(SealedRecords {
            count: rows::count(&row, "n")? as u64,
            first_seq: rows::get(&row, "first_seq")?,
            last_seq,
            last_hash,
        })
    }
}

impl SqlStore {
    /// The current head of each org: from memory, else from the database.
    async fn heads_of(&self, orgs: &[OrgId]) -> StoreResult<HashMap<OrgId, ChainHead>> {
        let mut out = HashMap::new();
        for org in orgs {
            if out.contains_key(org) {
                continue;
            }
            let cached = self
                .heads
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(org)
                .cloned();
            let head = match cached {
                Some(h) => h,
                None => self.chain_head(*org).await?,
            };
            out.insert(*org, head);
        }
        Ok(out)
    }

    fn forget_heads(&self, orgs: &[OrgId]) {
        let mut cache = self
            .heads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for org in orgs {
            cache.remove(org);
        }
    }

    /// The records, and the response bodies their result records prove, in one commit:
    /// one statement when that is all there is (or, on PostgreSQL, with the bodies too),
    /// else one transaction, on the writer's connection.
    async fn insert_records(
        &self,
        records: &[Sealed],
        bodies: &[ResponseBody],
    ) -> Result<(), sqlx::Error> {
        self.on_writer(async |conn| self.insert_on(conn, records, bodies).await)
            .await
    }

    /// Runs `work` on the writer's connection, held for it alone. A connection whose work
    /// failed is closed, not used again (as with [`crate::write`]), and the next writer
    /// takes another from the pool.
    pub(crate) async fn on_writer<T>(
        &self,
        work: impl AsyncFnOnce(&mut sqlx::AnyConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        let mut held = self.writer.lock().await;
        let conn = match held.take() {
            Some(c) => c,
            None => self.pool.acquire().await?,
        };
        let conn = held.insert(conn);
        let done = work(conn).await;
        if done.is_err()
            && let Some(mut broken) = held.take()
        {
            broken.close_on_drop();
        }
        done
    }

    async fn insert_on(
        &self,
        conn: &mut sqlx::AnyConnection,
        records: &[Sealed],
        bodies: &[ResponseBody],
    ) -> Result<(), sqlx::Error> {
        use crate::responses::{BODY_BINDS, bind_bodies, bodies_sql};
        use sqlx::Connection;
        let dialect = self.dialect();
        let rows = self.rows_per_insert(RECORD_BINDS);
        // One round trip when it fits: the records alone are one statement, committed
        // (and synced) by itself; with response bodies, on PostgreSQL one statement too
        // (the bodies inserted by a data-modifying WITH), on SQLite one transaction sent
        // as one query (its statements share the binds). A failure drops the writer's
        // connection, which rolls back whatever was begun.
        let binds = records.len() * RECORD_BINDS + bodies.len() * BODY_BINDS;
        if records.len() <= rows && binds <= self.max_binds() {
            let first = bodies.len() * BODY_BINDS + 1;
            let into_records = records_sql(dialect, records.len(), first);
            let sql = match (bodies.is_empty(), dialect) {
                (true, _) => into_records,
                (false, Dialect::Postgres) => format!(
                    "WITH bodies AS ({}) {into_records}",
                    bodies_sql(bodies.len(), 1)
                ),
                (false, Dialect::Sqlite) => format!(
                    "BEGIN IMMEDIATE; {}; {into_records}; COMMIT",
                    bodies_sql(bodies.len(), 1)
                ),
            };
            let q = bind_records(bind_bodies(sqlx::query(&sql), bodies), dialect, records);
            return timed(Stage::AppendStatement, q.execute(&mut *conn))
                .await
                .map(|_| ());
        }
        let statements = Instant::now();
        let mut tx = conn.begin().await?;
        for chunk in records.chunks(rows) {
            insert_chunk(&mut *tx, dialect, chunk).await?;
        }
        let body_rows = self.rows_per_insert(BODY_BINDS);
        for chunk in bodies.chunks(body_rows) {
            crate::responses::insert_bodies(&mut *tx, chunk).await?;
        }
        stages::observe_since(Stage::AppendStatement, statements);
        timed(Stage::AppendCommit, tx.commit()).await
    }
}

/// The `AND …` conditions of a filter (after `org_id = $1`), their values pushed on
/// `args`. Every value is bound, never spliced into the SQL.
fn filtered(f: &AuditFilter, args: &mut Args) -> String {
    let mut sql = String::new();
    let mut eq = |column: &str, v: String, args: &mut Args| {
        let mark = args.push(v);
        sql.push_str(&format!(" AND {column} = {mark}"));
    };
    if let Some(a) = f.agent {
        eq("agent_id", a.to_string(), args);
    }
    for (column, v) in [
        ("connector", &f.connector),
        ("operation", &f.operation),
        ("verdict", &f.verdict),
        ("actor", &f.actor),
    ] {
        if let Some(v) = v {
            eq(column, v.clone(), args);
        }
    }
    if let Some(a) = f.approval {
        eq("approval_id", a.to_string(), args);
    }
    match &f.kind {
        Some(KindFilter::Exactly(k)) => eq("kind", k.clone(), args),
        // A family's prefix is `[a-z0-9_.]` only (checked by the engine): no LIKE wildcard.
        Some(KindFilter::Family(k)) => {
            let mark = args.push(format!("{k}%"));
            sql.push_str(&format!(" AND kind LIKE {mark}"));
        }
        None => {}
    }
    for (cond, v) in [
        ("risk_score >=", f.risk_min),
        ("risk_score <=", f.risk_max),
        ("ts_ms >=", f.from_ms),
        ("ts_ms <=", f.to_ms),
    ] {
        if let Some(v) = v {
            let mark = args.int(v);
            sql.push_str(&format!(" AND {cond} {mark}"));
        }
    }
    if let Some(selector) = &f.selector {
        let labels = crate::agents::selector_sql(selector, args);
        sql.push_str(&format!(
            " AND agent_id IN (SELECT a.id FROM agents a WHERE a.org_id = $1{labels})"
        ));
    }
    sql
}

/// Where a search reads: its tables, its conditions and the key its pages follow.
struct Source {
    tables: &'static str,
    clause: String,
    /// `seq`, or on SQLite with full text the index's rowid (`n * 2^40 + seq`), so the
    /// FTS5 index hands over its matches in page order and a page stops at its limit
    /// instead of collecting every match of a common word first.
    order: &'static str,
}

/// The SQLite full-text rowid of the org's `seq` 0 (migration 0022).
const TEXT_BASE: &str = "(SELECT n FROM audit_text_orgs WHERE org_id = $1) * 1099511627776";

impl SqlStore {
    /// How the search `f` finds its words. On PostgreSQL with words, the GIN index is
    /// asked first for up to [`FACET_WINDOW`] + 1 matches: when the words are rarer than
    /// that, the search reads exactly those records; when they are common, it walks seq
    /// order and checks each row's stored words, and finds its page and facets within a
    /// few times their size. (The planner alone picked one way for both: a rare host took
    /// 800 ms walking, or a common word 32 s rechecking what the index had found.)
    async fn text_plan(&self, org: OrgId, f: &AuditFilter) -> StoreResult<TextPlan> {
        Ok(match (self.dialect(), f.text.is_empty()) {
            (Dialect::Postgres, false) if self.words_are_common(org, &f.text).await? => {
                TextPlan::Walk
            }
            (Dialect::Postgres, false) => {
                let mut probe = Args::default();
                let words = pg_text(&f.text, &mut probe);
                let sql = format!(
                    "SELECT seq FROM audit_index WHERE org_id = $1 AND {words} LIMIT {}",
                    probe.int(FACET_WINDOW as i64 + 1)
                );
                let seqs: Vec<i64> = self
                    .fetch_all(probe.bound(&sql, org), "audit text probe", |r| {
                        rows::get(r, "seq")
                    })
                    .await?;
                if seqs.len() > FACET_WINDOW {
                    TextPlan::Walk
                } else {
                    TextPlan::Seqs(seqs)
                }
            }
            _ => TextPlan::Walk,
        })
    }

    /// A page of `q`, its words found by `plan`.
    async fn page_of(
        &self,
        org: OrgId,
        q: &AuditQuery,
        plan: &TextPlan,
    ) -> StoreResult<Vec<AuditRecord>> {
        let mut args = Args::default();
        let mut from = Source::of(self.dialect(), &q.filter, plan, &mut args);
        if let Some(c) = q.cursor {
            let op = if q.oldest_first { ">" } else { "<" };
            let bound = from.seq_key(args.int(c));
            from.clause
                .push_str(&format!(" AND {} {op} {bound}", from.order));
        }
        // The page's keys from the index, then their records from the chain.
        let sql = format!(
            "SELECT c.record FROM \
             (SELECT seq AS s, {order} AS k FROM {} WHERE {} ORDER BY {order} {dir} LIMIT {}) p \
             JOIN audit_records c ON c.org_id = $1 AND c.seq = p.s ORDER BY p.k {dir}",
            from.tables,
            from.clause,
            args.int(i64::from(q.limit)),
            order = from.order,
            dir = if q.oldest_first { "ASC" } else { "DESC" },
        );
        self.fetch_all(args.bound(&sql, org), "audit page", rows::audit)
            .await
    }

    /// The facets of `filter` ([`AuditFacets::count`]), its words found by `plan`.
    async fn facets_of(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        plan: &TextPlan,
    ) -> StoreResult<AuditFacets> {
        let mut args = Args::default();
        let from = Source::of(self.dialect(), filter, plan, &mut args);
        // Grouped in the database: ten thousand rows through the driver cost 40 ms
        // on SQLite where the scan itself took 8.
        let sql = format!(
            "SELECT verdict, connector, COUNT(*) AS n, MIN(k) AS oldest FROM \
             (SELECT verdict, connector, {order} AS k FROM {} WHERE {} ORDER BY {order} DESC LIMIT {}) w \
             GROUP BY verdict, connector",
            from.tables,
            from.clause,
            args.int(FACET_WINDOW as i64 + 1),
            order = from.order,
        );
        let groups = self
            .fetch_all(args.bound(&sql, org), "audit facets", |r| {
                Ok(FacetGroup {
                    verdict: rows::get(r, "verdict")?,
                    connector: rows::get(r, "connector")?,
                    count: rows::get(r, "n")?,
                    oldest: rows::get(r, "oldest")?,
                })
            })
            .await?;
        Ok(AuditFacets::count(groups))
    }

    /// Whether PostgreSQL's own estimate puts the words in many times more records than a
    /// facet window: such words skip the probe (which would read a window's worth of
    /// rows only to learn that) and walk at once. The estimate comes from the column's
    /// statistics (`EXPLAIN`, no rows read); a wrong guess costs time, never answers.
    async fn words_are_common(&self, org: OrgId, phrases: &[String]) -> StoreResult<bool> {
        let mut args = Args::default();
        let words = pg_text(phrases, &mut args);
        let sql = format!("EXPLAIN SELECT seq FROM audit_index WHERE org_id = $1 AND {words}");
        let plan = args
            .bound(&sql, org)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("audit text estimate"))?;
        let first: Option<String> = plan.map(|r| rows::get(&r, "QUERY PLAN")).transpose()?;
        Ok(first
            .as_deref()
            .and_then(estimated_rows)
            .is_some_and(|n| n > 4 * FACET_WINDOW as u64))
    }
}

/// The row estimate of a plan's first line (`… (cost=0.00..1.00 rows=42 width=8)`).
fn estimated_rows(line: &str) -> Option<u64> {
    let rest = &line[line.find(" rows=")? + 6..];
    rest[..rest.find(' ')?].parse().ok()
}

/// How a PostgreSQL search finds the records its words are in (see [`SqlStore::source`]).
enum TextPlan {
    /// These records, all of them.
    Seqs(Vec<i64>),
    /// Every record, its stored words checked.
    Walk,
}

/// The PostgreSQL condition that a record holds every phrase, its values on `args`.
fn pg_text(phrases: &[String], args: &mut Args) -> String {
    let marks: Vec<String> = phrases
        .iter()
        .map(|p| format!("phraseto_tsquery('simple', {})", args.push(p.clone())))
        .collect();
    format!("text_vec @@ ({})", marks.join(" && "))
}

impl Source {
    fn of(dialect: Dialect, f: &AuditFilter, plan: &TextPlan, args: &mut Args) -> Source {
        let (tables, mut clause, order) = match (dialect, f.text.is_empty()) {
            (_, true) => ("audit_index", "org_id = $1".to_string(), "seq"),
            (Dialect::Sqlite, false) => {
                let mark = args.push(fts5_query(&f.text));
                (
                    "audit_text t JOIN audit_index r \
                     ON r.org_id = $1 AND r.seq = t.rowid - (SELECT n FROM audit_text_orgs WHERE org_id = $1) * 1099511627776",
                    format!(
                        "t.audit_text MATCH {mark} AND t.rowid > {TEXT_BASE} \
                         AND t.rowid < {TEXT_BASE} + 1099511627776"
                    ),
                    "t.rowid",
                )
            }
            (Dialect::Postgres, false) => {
                let text = match plan {
                    TextPlan::Seqs(seqs) => {
                        let list = seqs.iter().map(i64::to_string).collect::<Vec<_>>();
                        let mark = args.push(format!("{{{}}}", list.join(",")));
                        format!("seq = ANY(CAST({mark} AS BIGINT[]))")
                    }
                    TextPlan::Walk => pg_text(&f.text, args),
                };
                ("audit_index", format!("org_id = $1 AND {text}"), "seq")
            }
        };
        clause.push_str(&filtered(f, args));
        Source {
            tables,
            clause,
            order,
        }
    }

    /// The page key of `seq` (its placeholder `mark`).
    fn seq_key(&self, mark: String) -> String {
        if self.order == "seq" {
            mark
        } else {
            format!("{TEXT_BASE} + {mark}")
        }
    }
}

/// An FTS5 query of phrases: each quoted, all required. Phrases are words of letters and
/// digits (`text_phrases`), so they cannot carry FTS5 syntax.
fn fts5_query(phrases: &[String]) -> String {
    phrases
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::estimated_rows;

    #[test]
    fn a_plan_line_gives_its_row_estimate() {
        let line = "Bitmap Heap Scan on audit_records  (cost=28.05..1432.12 rows=385 width=8)";
        assert_eq!(estimated_rows(line), Some(385));
        assert_eq!(
            estimated_rows("Result  (cost=0.00..0.01 rows=1 width=4)"),
            Some(1)
        );
        assert_eq!(estimated_rows("no estimate here"), None);
    }
}
