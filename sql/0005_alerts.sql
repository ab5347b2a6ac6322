-- One row per alert attempt outcome; the latest row of an alert_id is its current state.
CREATE TABLE IF NOT EXISTS alerts
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    alert_id String COMMENT 'Stable id: one per (breach, stage, recipient, endpoint)',
    breach_id String COMMENT 'Breach the alert is about (breaches.breach_id)',
    stage LowCardinality(String) COMMENT 'reminder, breach or escalation',
    channel LowCardinality(String) COMMENT 'wecom_robot, wecom_app, dingtalk_robot, dingtalk_notice, webhook',
    recipient String COMMENT 'Rep id of the person alerted (rep, team lead or director)',
    status LowCardinality(String) COMMENT 'sent, failed, queued, dead or deferred',
    attempts UInt16 COMMENT 'Delivery attempts so far',
    created_at DateTime64(3, 'UTC') COMMENT 'When the alert was first created',
    sent_at Nullable(DateTime64(3, 'UTC')) COMMENT 'When it was delivered, NULL if not (yet)',
    error String COMMENT 'Reason code then detail when delivery failed, e.g. "http_500: ..."',
    digest_size UInt16 COMMENT 'How many alerts were merged into the delivered message',
    _topic LowCardinality(String) COMMENT 'Kafka topic the row was read from',
    _partition Int32 COMMENT 'Kafka partition the row was read from',
    _offset Int64 COMMENT 'Kafka offset the row was read from',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When ClickHouse received the row'
)
ENGINE = ReplacingMergeTree(attempts)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, recipient, created_at, alert_id)
SETTINGS non_replicated_deduplication_window = 1000;
