"""The ClickHouse sink's logic: row shapes per topic and deterministic per-partition batches.

No Kafka or faust import here: agents/sink.py feeds records in and commits offsets after the
insert these batches describe was acknowledged.
"""
