-- Sink bookkeeping: the offset range of every batch, recorded before its insert, so a batch
-- retried after a crash is re-formed with exactly the same rows and dedup token.
CREATE TABLE IF NOT EXISTS sink_batches
(
    consumer_group String COMMENT 'Kafka consumer group of the sink',
    topic String COMMENT 'Topic the batch was read from',
    partition Int32 COMMENT 'Partition the batch was read from',
    first_offset Int64 COMMENT 'First offset in the batch (inclusive)',
    last_offset Int64 COMMENT 'Last offset in the batch (inclusive)',
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the intent was written'
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (consumer_group, topic, partition, first_offset)
TTL toDateTime(recorded_at) + INTERVAL 7 DAY;

-- Dead letters keep the exact bytes (base64) beside the readable escape, for `dlq replay`.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS raw_b64 String DEFAULT ''
    COMMENT 'Exact raw bytes, base64; what dlq replay sends back through normalize';
