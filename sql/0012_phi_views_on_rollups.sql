-- The PHI drill-down views redefined on the rollups of 0011 (same names, same columns, same
-- results as 0009). Everything built on them (phi_deal_weekly, phi_weekly_counts,
-- phi_weekly_rep, phi_weekly_team, selfcheck_weekly_*) reads through them unchanged.
-- Measured at 10M signal rows: a configuration list tested with has() against a scalar array
-- cost ~0.5 s per pass over signal_first_seen_agg, an IN set ~0.07 s; grouping each record's
-- touches into arrays cost more than joining them to its field history; evidence looked up in
-- two narrow sets (signals on the deals' own records, signals with the deals' customers, each
-- restricted to the keys the stage moves name) took stage compliance from ~1 s to ~0.5 s.

CREATE OR REPLACE VIEW phi_stage_transitions AS
WITH
    requirements AS (
        SELECT stage, groupArray(signal) AS required
        FROM stage_requirements FINAL
        WHERE enabled = 1
        GROUP BY stage
    ),
    evidence_on_deal AS (
        SELECT tenant, evidence_key, minMap([signal], [first_at]) AS first_seen,
               first_seen.1 AS signals, first_seen.2 AS first_ats
        FROM signal_first_seen_agg
        WHERE signal IN (SELECT signal FROM stage_requirements FINAL WHERE enabled = 1)
          AND evidence_key IN (SELECT deal_id FROM stage_moves_agg)
        GROUP BY tenant, evidence_key
    ),
    evidence_on_customer AS (
        SELECT tenant, evidence_key, minMap([signal], [first_at]) AS first_seen,
               first_seen.1 AS signals, first_seen.2 AS first_ats
        FROM signal_first_seen_agg
        WHERE signal IN (SELECT signal FROM stage_requirements FINAL WHERE enabled = 1)
          AND evidence_key IN (SELECT customer_id FROM stage_moves_agg)
        GROUP BY tenant, evidence_key
    ),
    deals_missing_old_stage AS (
        SELECT DISTINCT tenant, deal_id FROM stage_moves_agg WHERE stage_reported_left = ''
    ),
    -- the stage left is the CRM's old value; only deals with a move lacking one need the window
    moves AS (
        SELECT tenant, event_id, rep_id, deal_id, customer_id, occurred_at, local_date,
               stage_entered, stage_reported_left AS stage_left
        FROM stage_moves_agg FINAL
        WHERE (tenant, deal_id) NOT IN (SELECT tenant, deal_id FROM deals_missing_old_stage)
        UNION ALL
        SELECT tenant, event_id, rep_id, deal_id, customer_id, occurred_at, local_date,
               stage_entered,
               if(stage_reported_left != '', stage_reported_left,
                  lagInFrame(stage_entered, 1, '') OVER (
                      PARTITION BY tenant, deal_id ORDER BY occurred_at, event_id
                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS stage_left
        FROM stage_moves_agg FINAL
        WHERE (tenant, deal_id) IN (SELECT tenant, deal_id FROM deals_missing_old_stage)
    )
SELECT
    m.tenant AS tenant, m.rep_id AS rep_id, m.deal_id AS deal_id, m.event_id AS event_id,
    m.occurred_at AS occurred_at, m.local_date AS local_date, toMonday(m.local_date) AS week,
    m.stage_left AS stage_left, m.stage_entered AS stage_entered,
    toUInt64(length(r.required)) AS required_signals,
    toUInt64(arrayCount(
        signal -> (has(on_deal.signals, signal)
                   AND on_deal.first_ats[indexOf(on_deal.signals, signal)] <= m.occurred_at)
               OR (has(on_customer.signals, signal)
                   AND on_customer.first_ats[indexOf(on_customer.signals, signal)] <= m.occurred_at),
        r.required)) AS met_signals,
    toUInt8(met_signals = required_signals) AS compliant
FROM moves AS m
INNER JOIN requirements AS r ON r.stage = m.stage_left
LEFT JOIN evidence_on_deal AS on_deal ON on_deal.tenant = m.tenant AND on_deal.evidence_key = m.deal_id
LEFT JOIN evidence_on_customer AS on_customer
    ON on_customer.tenant = m.tenant AND on_customer.evidence_key = m.customer_id;

-- Each record's field history as arrays, once per record: its changes sorted by field then
-- order; a change adds its filled flag and takes back the flag of the same field's change before
-- it, so summing the changes up to a week gives the fields filled at that week's end. Each week a
-- rep touched the record then reads the running sum at the last change up to that week.
CREATE OR REPLACE VIEW phi_profile_weekly AS
WITH
    (SELECT groupArray(lower(trimBoth(alias))) FROM core_fields FINAL WHERE enabled = 1)
        AS alias_names,
    (SELECT groupArray(field) FROM core_fields FINAL WHERE enabled = 1) AS alias_fields,
    field_history AS (
        SELECT tenant, record_id,
               arraySort(groupArray((
                   transform(field_name, alias_names, alias_fields, ''),
                   last_change_order,
                   week,
                   lower(trimBoth(finalizeAggregation(last_value))) NOT IN (
                       SELECT lower(trimBoth(value))
                       FROM core_field_placeholders FINAL
                       WHERE enabled = 1)
               ))) AS changes,
               arrayMap(
                   (field, filled, previous_field, previous_filled) ->
                       toInt64(filled) - if(field = previous_field, toInt64(previous_filled), 0),
                   changes.1, changes.4,
                   arrayPushFront(arrayPopBack(changes.1), ''),
                   arrayPushFront(arrayPopBack(changes.4), 0)) AS steps,
               arraySort(arrayZip(changes.3, steps)) AS steps_by_week,
               steps_by_week.1 AS change_weeks,
               arrayCumSum(steps_by_week.2) AS filled_after
        FROM profile_field_weekly_agg
        WHERE field_name IN (
            SELECT lower(trimBoth(alias)) FROM core_fields FINAL WHERE enabled = 1)
        GROUP BY tenant, record_id
    )
SELECT w.tenant AS tenant, w.rep_id AS rep_id, w.record_id AS record_id, w.week AS week,
       toUInt64(length(arrayDistinct(alias_fields))) AS fields_total,
       toUInt64(h.filled_after[arrayLastIndex(changed -> changed <= w.week, h.change_weeks)])
           AS fields_filled
FROM (SELECT tenant, rep_id, record_id, week FROM crm_record_weeks_agg FINAL) AS w
LEFT JOIN field_history AS h ON h.tenant = w.tenant AND h.record_id = w.record_id;

-- Open first-reply waits from the breach rows themselves: a breach is still open when none of its
-- rows is closed; its rep, class and day come from its latest open row (as in breaches_current).
CREATE OR REPLACE VIEW phi_timeliness_weekly AS
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
    FROM (
        SELECT tenant, breach_id,
               argMax(rep_id, detected_at) AS rep_id,
               argMax(customer_tier, detected_at) AS customer_tier,
               argMax(local_date, detected_at) AS local_date
        FROM breaches
        WHERE kind = 'first_reply'
        GROUP BY tenant, breach_id
        HAVING max(status = 'closed') = 0
    )
    GROUP BY tenant, rep_id, week, customer_tier
)
GROUP BY tenant, rep_id, week, customer_tier;
