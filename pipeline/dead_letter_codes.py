"""Dead-letter reasons that are not normalize's: what the pipeline itself could not write or read.

These dead letters are not raw input: `dlq replay` keeps them back, they are for inspection.
"""

from __future__ import annotations

SINK_SOURCE = "sink"
STATE_SOURCE = "state"
#: A re-keyed canonical event that failed on its owner (reason internal_error: a bug).
REPARTITION_SOURCE = "repartition"

SINK_DECODE = "sink_decode"
SINK_REFUSED = "sink_refused"
STATE_UNREADABLE = "state_unreadable"

OTHER_REASONS: dict[str, str] = {
    SINK_DECODE: "a record on a pipeline topic the sink cannot map to rows",
    SINK_REFUSED: "a batch ClickHouse refused several times (not merely unreachable)",
    STATE_UNREADABLE: "a stored conversation state this version cannot read; started afresh",
}
