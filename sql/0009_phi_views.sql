-- Process Health Index (PHI): per rep and team, per week (weeks start on Monday, tenant time).
-- Components, each a share in [0, 1] (NULL when there is nothing to measure that week):
--   action_completeness  deals whose stage moves all had the left stage's required signals
--   response_timeliness  first_reply waits answered within SLA (open breaches count as missed)
--   information_richness core profile fields filled with a real value on the records touched
-- The combined index weighs the components present with phi_weights.

-- When each signal was first seen for a conversation or a customer: what action completeness
-- checks a stage move against. Kept at insert time so the PHI does not rescan `signals`.
CREATE TABLE IF NOT EXISTS signal_first_seen_agg
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    evidence_key String COMMENT 'A conversation_id or a customer_id the signal was seen under',
    signal LowCardinality(String) COMMENT 'Signal id',
    first_at SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
        COMMENT 'Earliest occurred_at of the signal under this key'
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, evidence_key, signal)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS signal_first_seen_mv TO signal_first_seen_agg AS
SELECT tenant, evidence_key, signal, min(occurred_at) AS first_at
FROM signals
ARRAY JOIN [conversation_id, customer_id] AS evidence_key
WHERE evidence_key != ''
GROUP BY tenant, evidence_key, signal;

-- Signals stored before this migration (a repeated row cannot change a minimum).
INSERT INTO signal_first_seen_agg
SELECT tenant, evidence_key, signal, min(occurred_at) AS first_at
FROM signals
ARRAY JOIN [conversation_id, customer_id] AS evidence_key
WHERE evidence_key != ''
GROUP BY tenant, evidence_key, signal;

-- Every stage move of a CRM record, with how many of the left stage's required signals had
-- happened before it (on the record's own conversation or anywhere with the same customer).
CREATE VIEW IF NOT EXISTS phi_stage_transitions AS
WITH
    moves AS (
        SELECT
            tenant, event_id, rep_id, conversation_id AS deal_id, customer_id, occurred_at,
            local_date, attrs['new_value'] AS stage_entered,
            if(attrs['old_value'] != '', attrs['old_value'],
               lagInFrame(attrs['new_value'], 1, '') OVER (
                   PARTITION BY tenant, conversation_id ORDER BY occurred_at, event_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS stage_left
        FROM events FINAL
        WHERE kind = 'stage_changed'
    ),
    requirements AS (
        SELECT stage, signal FROM stage_requirements FINAL WHERE enabled = 1
    ),
    deal_keys AS (
        SELECT DISTINCT tenant, arrayJoin(arrayFilter(k -> k != '', [deal_id, customer_id])) AS k
        FROM moves
    ),
    evidence AS (
        SELECT tenant, evidence_key, signal, min(first_at) AS first_at, 1 AS found
        FROM signal_first_seen_agg
        WHERE signal IN (SELECT signal FROM requirements)
          AND (tenant, evidence_key) IN (SELECT tenant, k FROM deal_keys)
        GROUP BY tenant, evidence_key, signal
    ),
    checked AS (
        SELECT m.tenant AS tenant, m.event_id AS event_id, r.signal AS signal,
               max(e.found = 1 AND e.first_at <= m.occurred_at) AS met
        FROM moves AS m
        INNER JOIN requirements AS r ON r.stage = m.stage_left
        ARRAY JOIN arrayFilter(k -> k != '', [m.deal_id, m.customer_id]) AS deal_key
        LEFT JOIN evidence AS e
            ON e.tenant = m.tenant AND e.evidence_key = deal_key AND e.signal = r.signal
        GROUP BY m.tenant, m.event_id, r.signal
    )
SELECT
    m.tenant AS tenant, m.rep_id AS rep_id, m.deal_id AS deal_id, m.event_id AS event_id,
    m.occurred_at AS occurred_at, m.local_date AS local_date, toMonday(m.local_date) AS week,
    m.stage_left AS stage_left, m.stage_entered AS stage_entered,
    toUInt64(c.required) AS required_signals, toUInt64(c.met) AS met_signals,
    toUInt8(c.met = c.required) AS compliant
FROM moves AS m
INNER JOIN (
    SELECT tenant, event_id, count() AS required, sum(met) AS met
    FROM checked GROUP BY tenant, event_id
) AS c ON c.tenant = m.tenant AND c.event_id = m.event_id;

-- One row per deal and week: compliant when every stage move that week was compliant.
CREATE VIEW IF NOT EXISTS phi_deal_weekly AS
SELECT tenant, rep_id, week, deal_id,
       toUInt64(count()) AS stage_moves,
       toUInt64(sum(move_compliant)) AS compliant_moves,
       toUInt8(min(move_compliant)) AS compliant
FROM (SELECT *, compliant AS move_compliant FROM phi_stage_transitions)
GROUP BY tenant, rep_id, week, deal_id;

-- First-reply waits per rep, week and customer class: answered (from the latency rollup) plus
-- waits still unanswered past their deadline (open breaches), which count as missed.
CREATE VIEW IF NOT EXISTS phi_timeliness_weekly AS
SELECT tenant, rep_id, week, customer_tier,
       sum(n_waits) AS waits,
       sum(n_within) AS waits_within_sla,
       if(waits > 0, waits_within_sla / waits, NULL) AS response_timeliness
FROM
(
    SELECT tenant, rep_id, toMonday(local_date) AS week, customer_tier,
           toUInt64(sum(samples)) AS n_waits, toUInt64(sum(samples) - sum(breached)) AS n_within
    FROM latency_daily_agg
    WHERE kind = 'first_reply'
    GROUP BY tenant, rep_id, week, customer_tier
    UNION ALL
    SELECT tenant, rep_id, toMonday(local_date) AS week, customer_tier,
           toUInt64(count()) AS n_waits, toUInt64(0) AS n_within
    FROM breaches_current
    WHERE kind = 'first_reply' AND status = 'open'
    GROUP BY tenant, rep_id, week, customer_tier
)
GROUP BY tenant, rep_id, week, customer_tier;

-- Core profile fields per CRM record touched (field or stage change) by a rep in a week, judged
-- on each field's latest value up to the end of that week.
CREATE VIEW IF NOT EXISTS phi_profile_weekly AS
WITH
    aliases AS (
        SELECT field, lower(trimBoth(alias)) AS alias FROM core_fields FINAL WHERE enabled = 1
    ),
    placeholders AS (
        SELECT lower(trimBoth(value)) AS value FROM core_field_placeholders FINAL WHERE enabled = 1
    ),
    record_weeks AS (
        SELECT DISTINCT tenant, rep_id, conversation_id AS record_id, toMonday(local_date) AS week
        FROM events FINAL
        WHERE kind IN ('field_changed', 'stage_changed')
    ),
    -- change_order sorts by local day first, then instant: "before the week ends" compares
    -- against the local calendar whatever the tenant timezone (2^41 ms > any timestamp here)
    changes AS (
        SELECT e.tenant AS tenant, e.conversation_id AS record_id, a.field AS field,
               toUInt64(toUInt16(e.local_date)) * 2199023255552
                   + toUInt64(toUnixTimestamp64Milli(e.occurred_at)) AS change_order,
               lower(trimBoth(e.attrs['new_value'])) AS value
        FROM events AS e FINAL
        INNER JOIN aliases AS a ON a.alias = lower(trimBoth(e.attrs['field']))
        WHERE e.kind = 'field_changed'
    ),
    latest AS (
        SELECT w.tenant AS tenant, w.rep_id AS rep_id, w.record_id AS record_id, w.week AS week,
               w.field AS field, c.value AS value
        FROM (
            SELECT tenant, rep_id, record_id, week, field,
                   toUInt64(toUInt16(week + 7)) * 2199023255552 AS week_end_order
            FROM record_weeks CROSS JOIN (SELECT DISTINCT field FROM aliases) AS f
        ) AS w
        ASOF INNER JOIN changes AS c
            ON c.tenant = w.tenant AND c.record_id = w.record_id AND c.field = w.field
           AND c.change_order < w.week_end_order
    ),
    filled AS (
        SELECT tenant, rep_id, record_id, week,
               countIf(value NOT IN (SELECT value FROM placeholders)) AS n_filled
        FROM latest
        GROUP BY tenant, rep_id, record_id, week
    )
SELECT w.tenant AS tenant, w.rep_id AS rep_id, w.record_id AS record_id, w.week AS week,
       toUInt64((SELECT uniqExact(field) FROM core_fields FINAL WHERE enabled = 1)) AS fields_total,
       toUInt64(f.n_filled) AS fields_filled
FROM record_weeks AS w
LEFT JOIN filled AS f
    ON f.tenant = w.tenant AND f.rep_id = w.rep_id AND f.record_id = w.record_id
   AND f.week = w.week;

-- The three components' numerators and denominators per rep and week.
CREATE VIEW IF NOT EXISTS phi_weekly_counts AS
SELECT tenant, rep_id, week,
       sum(n_deals) AS deals, sum(n_deals_compliant) AS deals_compliant,
       sum(n_waits) AS waits, sum(n_waits_within_sla) AS waits_within_sla,
       sum(n_fields_total) AS fields_total, sum(n_fields_filled) AS fields_filled
FROM
(
    SELECT tenant, rep_id, week, toUInt64(count()) AS n_deals,
           toUInt64(sum(compliant)) AS n_deals_compliant, toUInt64(0) AS n_waits,
           toUInt64(0) AS n_waits_within_sla, toUInt64(0) AS n_fields_total,
           toUInt64(0) AS n_fields_filled
    FROM phi_deal_weekly GROUP BY tenant, rep_id, week
    UNION ALL
    SELECT tenant, rep_id, week, toUInt64(0), toUInt64(0), toUInt64(sum(waits)),
           toUInt64(sum(waits_within_sla)), toUInt64(0), toUInt64(0)
    FROM phi_timeliness_weekly GROUP BY tenant, rep_id, week
    UNION ALL
    SELECT tenant, rep_id, week, toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0),
           toUInt64(sum(fields_total)), toUInt64(sum(fields_filled))
    FROM phi_profile_weekly GROUP BY tenant, rep_id, week
)
GROUP BY tenant, rep_id, week;

CREATE VIEW IF NOT EXISTS phi_weekly_rep AS
SELECT c.tenant AS tenant, c.rep_id AS rep_id,
       d.name AS rep_name, d.team AS team, c.week AS week,
       c.deals AS deals, c.deals_compliant AS deals_compliant,
       if(c.deals > 0, c.deals_compliant / c.deals, NULL) AS action_completeness,
       c.waits AS waits, c.waits_within_sla AS waits_within_sla,
       if(c.waits > 0, c.waits_within_sla / c.waits, NULL) AS response_timeliness,
       c.fields_total AS fields_total, c.fields_filled AS fields_filled,
       if(c.fields_total > 0, c.fields_filled / c.fields_total, NULL) AS information_richness,
       (ifNull(action_completeness, 0) * w.action + ifNull(response_timeliness, 0) * w.timeliness
        + ifNull(information_richness, 0) * w.richness)
       / nullIf(if(action_completeness IS NULL, 0, w.action)
                + if(response_timeliness IS NULL, 0, w.timeliness)
                + if(information_richness IS NULL, 0, w.richness), 0) AS phi
FROM phi_weekly_counts AS c
CROSS JOIN (
    SELECT sumIf(weight, component = 'action_completeness') AS action,
           sumIf(weight, component = 'response_timeliness') AS timeliness,
           sumIf(weight, component = 'information_richness') AS richness
    FROM phi_weights FINAL
) AS w
LEFT JOIN (SELECT tenant, rep_id, name, team FROM rep_directory FINAL) AS d
    ON d.tenant = c.tenant AND d.rep_id = c.rep_id;

-- Team totals (reps missing from rep_directory are under team ''), shares of summed counts.
CREATE VIEW IF NOT EXISTS phi_weekly_team AS
SELECT t.tenant AS tenant, t.team AS team, t.week AS week, t.reps AS reps,
       t.deals AS deals, t.deals_compliant AS deals_compliant,
       if(t.deals > 0, t.deals_compliant / t.deals, NULL) AS action_completeness,
       t.waits AS waits, t.waits_within_sla AS waits_within_sla,
       if(t.waits > 0, t.waits_within_sla / t.waits, NULL) AS response_timeliness,
       t.fields_total AS fields_total, t.fields_filled AS fields_filled,
       if(t.fields_total > 0, t.fields_filled / t.fields_total, NULL) AS information_richness,
       (ifNull(action_completeness, 0) * w.action + ifNull(response_timeliness, 0) * w.timeliness
        + ifNull(information_richness, 0) * w.richness)
       / nullIf(if(action_completeness IS NULL, 0, w.action)
                + if(response_timeliness IS NULL, 0, w.timeliness)
                + if(information_richness IS NULL, 0, w.richness), 0) AS phi
FROM (
    SELECT c.tenant AS tenant, d.team AS team, c.week AS week,
           uniqExact(c.rep_id) AS reps,
           sum(c.deals) AS deals, sum(c.deals_compliant) AS deals_compliant,
           sum(c.waits) AS waits, sum(c.waits_within_sla) AS waits_within_sla,
           sum(c.fields_total) AS fields_total, sum(c.fields_filled) AS fields_filled
    FROM phi_weekly_counts AS c
    LEFT JOIN (SELECT tenant, rep_id, team FROM rep_directory FINAL) AS d
        ON d.tenant = c.tenant AND d.rep_id = c.rep_id
    GROUP BY c.tenant, d.team, c.week
) AS t
CROSS JOIN (
    SELECT sumIf(weight, component = 'action_completeness') AS action,
           sumIf(weight, component = 'response_timeliness') AS timeliness,
           sumIf(weight, component = 'information_richness') AS richness
    FROM phi_weights FINAL
) AS w;
