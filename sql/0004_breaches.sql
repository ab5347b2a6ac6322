-- SLA breaches: an 'open' row when the deadline passes, a 'closed' row (same breach_id) at the reply.
CREATE TABLE IF NOT EXISTS breaches
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    breach_id String COMMENT 'Stable id of the breach, shared by its open and closed rows',
    kind LowCardinality(String) COMMENT 'What was late, e.g. first_reply or lead_unassigned',
    source LowCardinality(String) COMMENT 'Source family of the conversation',
    conversation_id String COMMENT 'Conversation the wait happened in',
    start_event_id String COMMENT 'Event that started the clock',
    rep_id String COMMENT 'Rep expected to reply',
    owner_rep_id String COMMENT 'Rep who owns the customer',
    customer_id String COMMENT 'Customer id, empty if unknown',
    customer_tier LowCardinality(String) COMMENT 'Customer class in force when the wait started',
    started_at DateTime64(3, 'UTC') COMMENT 'Clock start (UTC)',
    deadline DateTime64(3, 'UTC') COMMENT 'When the SLA ran out (UTC)',
    sla_s Float64 COMMENT 'SLA threshold in seconds',
    detected_at DateTime64(3, 'UTC') COMMENT 'When the pipeline raised or updated the breach (event time)',
    status LowCardinality(String) COMMENT 'open (no reply yet) or closed (reply came after the deadline)',
    closed_at Nullable(DateTime64(3, 'UTC')) COMMENT 'Reply time for a closed breach',
    reply_event_id String COMMENT 'Reply event for a closed breach, else empty',
    latency_s Nullable(Float64) COMMENT 'Final wall-clock wait in seconds for a closed breach',
    last_customer_signals Array(LowCardinality(String)) COMMENT 'Signals of the last unanswered customer message',
    last_customer_text String COMMENT 'Last unanswered customer message (for the alert)',
    local_date Date COMMENT 'Day of the deadline in the tenant timezone',
    row_version UInt8 DEFAULT if(status = 'closed', 1, 0)
        COMMENT 'Replacing version: a closed row wins over the open row of the same breach',
    _topic LowCardinality(String) COMMENT 'Kafka topic the row was read from',
    _partition Int32 COMMENT 'Kafka partition the row was read from',
    _offset Int64 COMMENT 'Kafka offset the row was read from',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When ClickHouse received the row'
)
ENGINE = ReplacingMergeTree(row_version)
PARTITION BY toYYYYMM(deadline)
ORDER BY (tenant, rep_id, deadline, breach_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- The latest state of every breach, whatever has been merged yet.
CREATE VIEW IF NOT EXISTS breaches_current
(
    tenant String COMMENT 'Tenant (company)',
    breach_id String COMMENT 'Stable id of the breach',
    kind String COMMENT 'What was late',
    source String COMMENT 'Source family',
    conversation_id String COMMENT 'Conversation',
    start_event_id String COMMENT 'Event that started the clock',
    rep_id String COMMENT 'Rep expected to reply',
    owner_rep_id String COMMENT 'Rep who owns the customer',
    customer_id String COMMENT 'Customer id',
    customer_tier String COMMENT 'Customer class',
    started_at DateTime64(3, 'UTC') COMMENT 'Clock start',
    deadline DateTime64(3, 'UTC') COMMENT 'SLA deadline',
    sla_s Float64 COMMENT 'SLA threshold in seconds',
    detected_at DateTime64(3, 'UTC') COMMENT 'When the latest row was produced',
    status String COMMENT 'open or closed',
    closed_at Nullable(DateTime64(3, 'UTC')) COMMENT 'Reply time, NULL while open',
    reply_event_id String COMMENT 'Reply event, empty while open',
    latency_s Nullable(Float64) COMMENT 'Final wait in seconds, NULL while open',
    last_customer_signals Array(String) COMMENT 'Signals of the last unanswered customer message',
    last_customer_text String COMMENT 'Last unanswered customer message',
    local_date Date COMMENT 'Day of the deadline in the tenant timezone'
)
AS SELECT
    tenant,
    breach_id,
    argMax(kind, version_key) AS kind,
    argMax(source, version_key) AS source,
    argMax(conversation_id, version_key) AS conversation_id,
    argMax(start_event_id, version_key) AS start_event_id,
    argMax(rep_id, version_key) AS rep_id,
    argMax(owner_rep_id, version_key) AS owner_rep_id,
    argMax(customer_id, version_key) AS customer_id,
    argMax(customer_tier, version_key) AS customer_tier,
    argMax(started_at, version_key) AS started_at,
    argMax(deadline, version_key) AS deadline,
    argMax(sla_s, version_key) AS sla_s,
    argMax(detected_at, version_key) AS detected_at,
    argMax(status, version_key) AS status,
    argMax(closed_at, version_key) AS closed_at,
    argMax(reply_event_id, version_key) AS reply_event_id,
    argMax(latency_s, version_key) AS latency_s,
    argMax(last_customer_signals, version_key) AS last_customer_signals,
    argMax(last_customer_text, version_key) AS last_customer_text,
    argMax(local_date, version_key) AS local_date
FROM (SELECT *, (row_version, detected_at) AS version_key FROM breaches)
GROUP BY tenant, breach_id;
