-- Input that could not become a canonical event, with the raw bytes and where it came from.
CREATE TABLE IF NOT EXISTS dead_letters
(
    source LowCardinality(String) COMMENT 'Source family the record claimed to be',
    reason LowCardinality(String) COMMENT 'Short reason code: invalid_json, missing_field, bad_timestamp, signature, ...',
    message String COMMENT 'Human-readable detail',
    raw String COMMENT 'Raw bytes (or a prefix) as text; invalid UTF-8 bytes are kept as backslash-x hex escapes',
    raw_truncated UInt8 COMMENT '1 when raw holds only a prefix of the record',
    topic String COMMENT 'Raw topic the bad record was read from',
    partition Int32 COMMENT 'Raw topic partition',
    offset Int64 COMMENT 'Raw topic offset',
    received_at DateTime64(3, 'UTC') COMMENT 'When the pipeline rejected the record',
    _topic LowCardinality(String) COMMENT 'Dead-letter topic the row was read from',
    _partition Int32 COMMENT 'Dead-letter topic partition',
    _offset Int64 COMMENT 'Dead-letter topic offset',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When ClickHouse received the row'
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (source, reason, received_at)
SETTINGS non_replicated_deduplication_window = 1000;
