-- One row per answered wait: a customer waited from started_at until a rep replied at replied_at.
CREATE TABLE IF NOT EXISTS latency_samples
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    sample_id String COMMENT 'Stable id of the wait (derived from its start event)',
    kind LowCardinality(String) COMMENT 'Wait kind, e.g. first_reply (customer message to first staff reply)',
    source LowCardinality(String) COMMENT 'Source family of the conversation',
    conversation_id String COMMENT 'Conversation the wait happened in',
    start_event_id String COMMENT 'Customer event that started the clock',
    reply_event_id String COMMENT 'Staff event that stopped the clock',
    rep_id String COMMENT 'Rep credited with the reply',
    owner_rep_id String COMMENT 'Rep who owns the customer (may differ in groups)',
    customer_id String COMMENT 'Customer id, empty if unknown',
    customer_tier LowCardinality(String) COMMENT 'Customer class in force when the wait started',
    started_at DateTime64(3, 'UTC') COMMENT 'Clock start (UTC)',
    replied_at DateTime64(3, 'UTC') COMMENT 'Clock stop (UTC)',
    latency_s Float64 COMMENT 'Wall-clock wait in seconds',
    business_latency_s Float64 COMMENT 'Wait in seconds counted in the tenant business hours only',
    sla_s Float64 COMMENT 'SLA threshold in seconds that applied (0 = none)',
    breached UInt8 COMMENT '1 when the wait exceeded its SLA',
    start_signals Array(LowCardinality(String)) COMMENT 'Signals of the customer message that started the wait',
    local_date Date COMMENT 'Day of replied_at in the tenant timezone',
    _topic LowCardinality(String) COMMENT 'Kafka topic the row was read from',
    _partition Int32 COMMENT 'Kafka partition the row was read from',
    _offset Int64 COMMENT 'Kafka offset the row was read from',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When ClickHouse received the row'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(replied_at)
ORDER BY (tenant, rep_id, replied_at, sample_id)
SETTINGS non_replicated_deduplication_window = 1000;
