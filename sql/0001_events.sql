-- Raw canonical events, one row per event, as the sink writes them.
-- {text_ttl_days}: days after occurred_at when message text is blanked (retention setting).
CREATE TABLE IF NOT EXISTS events
(
    tenant LowCardinality(String) COMMENT 'Tenant (company) the event belongs to',
    event_id String COMMENT 'Stable id "<source>:<source id>"; a re-delivered event collapses on it',
    source LowCardinality(String) COMMENT 'Source family: wecom, dingtalk, crm, email',
    source_format LowCardinality(String) COMMENT 'Vendor shape, e.g. wecom_archive, sendgrid, mailbox',
    kind LowCardinality(String) COMMENT 'Event kind: message, file, email_sent, stage_changed, field_changed, ...',
    actor LowCardinality(String) COMMENT 'Who acted: rep, customer or system',
    actor_id String COMMENT 'Raw id of whoever acted (userid, email, operator id)',
    rep_id String COMMENT 'Rep responsible: the actor when a rep acts, else the owner if known',
    customer_id String COMMENT 'Customer (external contact, CRM customer) id, empty if unknown',
    customer_tier LowCardinality(String) COMMENT 'Customer class A/B/C in force at the event, empty if unknown',
    conversation_id String COMMENT 'Chat room, one-to-one pair, email thread root or crm:<record id>',
    occurred_at DateTime64(3, 'UTC') COMMENT 'When it happened (UTC)',
    local_date Date COMMENT 'Calendar day of occurred_at in the tenant timezone',
    local_weekday UInt8 COMMENT 'Weekday in the tenant timezone, 1 = Monday .. 7 = Sunday',
    local_hour UInt8 COMMENT 'Hour of day 0..23 in the tenant timezone',
    text String TTL toDateTime(occurred_at) + INTERVAL {text_ttl_days} DAY
        COMMENT 'Message text or email subject+body; blanked after the text retention period',
    text_truncated UInt8 COMMENT '1 when the text was cut to the configured maximum length',
    parent_id String COMMENT 'Email: the message this one replies to',
    attrs Map(String, String) COMMENT 'Source details: field/old_value/new_value, subject, url, filename, ...',
    signals Array(LowCardinality(String)) COMMENT 'Behaviour signal ids the tagger found',
    _topic LowCardinality(String) COMMENT 'Kafka topic the row was read from',
    _partition Int32 COMMENT 'Kafka partition the row was read from',
    _offset Int64 COMMENT 'Kafka offset the row was read from',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When ClickHouse received the row'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, rep_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000;
