-- Skip indexes on the natural keys the sink looks up before each insert (pipeline/sink/dedup.py):
-- a re-delivered fact is found by its id without scanning the table.
ALTER TABLE events ADD INDEX IF NOT EXISTS idx_event_id event_id TYPE bloom_filter GRANULARITY 1;
ALTER TABLE events MATERIALIZE INDEX idx_event_id;
ALTER TABLE signals ADD INDEX IF NOT EXISTS idx_event_id event_id TYPE bloom_filter GRANULARITY 1;
ALTER TABLE signals MATERIALIZE INDEX idx_event_id;
ALTER TABLE latency_samples ADD INDEX IF NOT EXISTS idx_sample_id sample_id TYPE bloom_filter GRANULARITY 1;
ALTER TABLE latency_samples MATERIALIZE INDEX idx_sample_id;
ALTER TABLE breaches ADD INDEX IF NOT EXISTS idx_breach_id breach_id TYPE bloom_filter GRANULARITY 1;
ALTER TABLE breaches MATERIALIZE INDEX idx_breach_id;
ALTER TABLE dead_letters ADD INDEX IF NOT EXISTS idx_offset offset TYPE minmax GRANULARITY 1;
ALTER TABLE dead_letters MATERIALIZE INDEX idx_offset;
