-- One row per (event, signal) the tagger found.
CREATE TABLE IF NOT EXISTS signals
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    event_id String COMMENT 'Event the signal was found in (events.event_id)',
    signal LowCardinality(String) COMMENT 'Signal id: screening, demo, quote, contract, payment, delivery, objection_price, objection_tech, objection_decision, competitor, material_sent, customer_update',
    actor LowCardinality(String) COMMENT 'Who said or did it: rep, customer or system',
    rep_id String COMMENT 'Rep responsible for the conversation',
    customer_id String COMMENT 'Customer id, empty if unknown',
    customer_tier LowCardinality(String) COMMENT 'Customer class A/B/C, empty if unknown',
    conversation_id String COMMENT 'Conversation the event belongs to',
    source LowCardinality(String) COMMENT 'Source family of the event',
    kind LowCardinality(String) COMMENT 'Kind of the event',
    occurred_at DateTime64(3, 'UTC') COMMENT 'When the event happened (UTC)',
    local_date Date COMMENT 'Day in the tenant timezone',
    local_weekday UInt8 COMMENT 'Weekday in the tenant timezone, 1 = Monday',
    local_hour UInt8 COMMENT 'Hour 0..23 in the tenant timezone',
    _topic LowCardinality(String) COMMENT 'Kafka topic the row was read from',
    _partition Int32 COMMENT 'Kafka partition the row was read from',
    _offset Int64 COMMENT 'Kafka offset the row was read from',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When ClickHouse received the row'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, rep_id, occurred_at, signal, event_id)
SETTINGS non_replicated_deduplication_window = 1000;
