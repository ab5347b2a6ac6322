-- Rollups computed at insert time: *_mv (materialized view) -> *_agg (table) -> * (view BI reads).
-- Every *_agg has the deduplication window so a retried batch (same insert token) is not counted twice.

-- Month grain: a rep's (signal, weekday, hour) cells repeat all month, so the rollup stays small
-- (at most reps x 12 x 7 x 24 rows per month). Day-exact ranges: query `signals` directly.
CREATE TABLE IF NOT EXISTS signal_heatmap_agg
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    rep_id String COMMENT 'Rep responsible',
    signal LowCardinality(String) COMMENT 'Signal id',
    month Date COMMENT 'First day of the month of local_date (tenant timezone)',
    local_weekday UInt8 COMMENT 'Weekday in the tenant timezone, 1 = Monday',
    local_hour UInt8 COMMENT 'Hour 0..23 in the tenant timezone',
    signal_count UInt64 COMMENT 'Number of signal rows'
)
ENGINE = SummingMergeTree(signal_count)
PARTITION BY toYYYYMM(month)
ORDER BY (tenant, rep_id, signal, month, local_weekday, local_hour)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS signal_heatmap_mv TO signal_heatmap_agg AS
SELECT tenant, rep_id, signal, toStartOfMonth(local_date) AS month, local_weekday, local_hour,
       toUInt64(count()) AS signal_count
FROM signals
GROUP BY tenant, rep_id, signal, month, local_weekday, local_hour;

-- Rows of one cell may not be merged yet: always aggregate with sum(signal_count). The view
-- does not pre-group, so a query grouping fewer keys reads the rollup once.
CREATE VIEW IF NOT EXISTS signal_heatmap AS
SELECT tenant, rep_id, signal, month, local_weekday, local_hour, signal_count
FROM signal_heatmap_agg;


CREATE TABLE IF NOT EXISTS latency_daily_agg
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    rep_id String COMMENT 'Rep credited with the replies',
    local_date Date COMMENT 'Day of the reply in the tenant timezone',
    customer_tier LowCardinality(String) COMMENT 'Customer class A/B/C, empty if unknown',
    kind LowCardinality(String) COMMENT 'Wait kind, e.g. first_reply',
    latency_q AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float64)
        COMMENT 'T-digest state of wall-clock latency in seconds',
    business_latency_q AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float64)
        COMMENT 'T-digest state of business-hours latency in seconds',
    samples SimpleAggregateFunction(sum, UInt64) COMMENT 'Number of answered waits',
    breached SimpleAggregateFunction(sum, UInt64) COMMENT 'Number of answered waits over their SLA'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(local_date)
ORDER BY (tenant, rep_id, local_date, customer_tier, kind)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS latency_daily_mv TO latency_daily_agg AS
SELECT tenant, rep_id, local_date, customer_tier, kind,
       quantilesTDigestState(0.5, 0.9, 0.99)(latency_s) AS latency_q,
       quantilesTDigestState(0.5, 0.9, 0.99)(business_latency_s) AS business_latency_q,
       toUInt64(count()) AS samples,
       toUInt64(countIf(breached = 1)) AS breached
FROM latency_samples
GROUP BY tenant, rep_id, local_date, customer_tier, kind;

CREATE VIEW IF NOT EXISTS latency_daily AS
SELECT tenant, rep_id, local_date, customer_tier, kind,
       quantilesTDigestMerge(0.5, 0.9, 0.99)(latency_q) AS latency_quantiles,
       latency_quantiles[1] AS p50_s,
       latency_quantiles[2] AS p90_s,
       latency_quantiles[3] AS p99_s,
       quantilesTDigestMerge(0.5, 0.9, 0.99)(business_latency_q) AS business_quantiles,
       business_quantiles[1] AS business_p50_s,
       business_quantiles[2] AS business_p90_s,
       business_quantiles[3] AS business_p99_s,
       sum(samples) AS samples,
       sum(breached) AS breached
FROM latency_daily_agg
GROUP BY tenant, rep_id, local_date, customer_tier, kind;


-- A breach has an 'open' row and later a 'closed' row; a replay may only produce the 'closed' row.
-- Counting distinct breach_id over both counts each breach exactly once.
CREATE TABLE IF NOT EXISTS breach_daily_agg
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    rep_id String COMMENT 'Rep expected to reply',
    local_date Date COMMENT 'Day of the deadline in the tenant timezone',
    customer_tier LowCardinality(String) COMMENT 'Customer class A/B/C, empty if unknown',
    kind LowCardinality(String) COMMENT 'Breach kind, e.g. first_reply, lead_unassigned',
    breach_ids AggregateFunction(uniqExact, String) COMMENT 'Distinct breaches',
    closed_breach_ids AggregateFunction(uniqExact, String) COMMENT 'Distinct breaches answered late'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(local_date)
ORDER BY (tenant, rep_id, local_date, customer_tier, kind)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS breach_daily_mv TO breach_daily_agg AS
SELECT tenant, rep_id, local_date, customer_tier, kind,
       uniqExactState(breach_id) AS breach_ids,
       uniqExactStateIf(breach_id, status = 'closed') AS closed_breach_ids
FROM breaches
GROUP BY tenant, rep_id, local_date, customer_tier, kind;

CREATE VIEW IF NOT EXISTS breach_daily AS
SELECT tenant, rep_id, local_date, customer_tier, kind,
       uniqExactMerge(breach_ids) AS breaches,
       uniqExactMerge(closed_breach_ids) AS answered_late,
       breaches - answered_late AS still_unanswered
FROM breach_daily_agg
GROUP BY tenant, rep_id, local_date, customer_tier, kind;


CREATE TABLE IF NOT EXISTS rep_activity_daily_agg
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    rep_id String COMMENT 'Rep who acted',
    local_date Date COMMENT 'Day in the tenant timezone',
    messages_sent SimpleAggregateFunction(sum, UInt64) COMMENT 'Chat messages sent by the rep',
    emails_sent SimpleAggregateFunction(sum, UInt64) COMMENT 'Emails written by the rep',
    files_sent SimpleAggregateFunction(sum, UInt64) COMMENT 'Files sent by the rep',
    materials_sent SimpleAggregateFunction(sum, UInt64)
        COMMENT 'Files, links, documents and mini-programs sent by the rep',
    customer_messages SimpleAggregateFunction(sum, UInt64)
        COMMENT 'Messages and emails customers sent in the rep conversations',
    customers_touched AggregateFunction(uniqExact, String)
        COMMENT 'Distinct customers the rep wrote to or sent something'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(local_date)
ORDER BY (tenant, rep_id, local_date)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rep_activity_daily_mv TO rep_activity_daily_agg AS
SELECT tenant, rep_id, local_date,
       toUInt64(countIf(actor = 'rep' AND kind = 'message')) AS messages_sent,
       toUInt64(countIf(actor = 'rep' AND kind = 'email_sent')) AS emails_sent,
       toUInt64(countIf(actor = 'rep' AND kind = 'file')) AS files_sent,
       toUInt64(countIf(actor = 'rep' AND kind IN ('file', 'link', 'document', 'mini_program')))
           AS materials_sent,
       toUInt64(countIf(actor = 'customer' AND kind IN ('message', 'email_sent')))
           AS customer_messages,
       uniqExactStateIf(customer_id, actor = 'rep' AND customer_id != '' AND kind IN (
           'message', 'file', 'link', 'document', 'mini_program', 'media', 'meeting',
           'calendar', 'card', 'location', 'email_sent')) AS customers_touched
FROM events
WHERE rep_id != ''
GROUP BY tenant, rep_id, local_date;

CREATE VIEW IF NOT EXISTS rep_activity_daily AS
SELECT tenant, rep_id, local_date,
       sum(messages_sent) AS messages_sent,
       sum(emails_sent) AS emails_sent,
       sum(files_sent) AS files_sent,
       sum(materials_sent) AS materials_sent,
       sum(customer_messages) AS customer_messages,
       uniqExactMerge(customers_touched) AS customers_touched
FROM rep_activity_daily_agg
GROUP BY tenant, rep_id, local_date;
