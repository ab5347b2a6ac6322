-- The PHI drill-down views redefined on the rollups of 0011 (same names, same columns, same
-- results). Everything built on them (phi_deal_weekly, phi_weekly_counts, phi_weekly_rep,
-- phi_weekly_team, selfcheck_weekly_*) reads through them and needs no change.

-- Stage moves, each checked against the required signals of the stage it left. The stage left
-- is the CRM's own old value; only deals with a move lacking one go through the window that
-- takes the previous move's new value. Evidence is one row per conversation or customer with
-- the first time of each required signal (minMap), so a move needs two lookups, not a join per
-- required signal.
CREATE OR REPLACE VIEW phi_stage_transitions AS
WITH
    (SELECT groupArray(signal) FROM stage_requirements FINAL WHERE enabled = 1)
        AS signals_required_anywhere,
    requirements AS (
        SELECT stage, groupArray(signal) AS required
        FROM stage_requirements FINAL
        WHERE enabled = 1
        GROUP BY stage
    ),
    evidence AS (
        SELECT tenant, evidence_key, minMap([signal], [first_at]) AS first_seen,
               first_seen.1 AS signals, first_seen.2 AS first_ats
        FROM signal_first_seen_agg
        WHERE has(signals_required_anywhere, signal)
        GROUP BY tenant, evidence_key
    ),
    deals_missing_old_stage AS (
        SELECT DISTINCT tenant, deal_id FROM stage_moves_agg WHERE stage_reported_left = ''
    ),
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
LEFT JOIN evidence AS on_deal ON on_deal.tenant = m.tenant AND on_deal.evidence_key = m.deal_id
LEFT JOIN evidence AS on_customer
    ON on_customer.tenant = m.tenant AND on_customer.evidence_key = m.customer_id;

-- Core profile fields per CRM record touched by a rep in a week, each judged on its latest value
-- up to the end of that week. One pass groups every record's touches and its weekly field values
-- (aliases mapped to core fields, placeholders judged) into arrays; for each week touched, a
-- field counts when its last change up to then holds a real value.
CREATE OR REPLACE VIEW phi_profile_weekly AS
WITH
    (SELECT groupArray(lower(trimBoth(alias))) FROM core_fields FINAL WHERE enabled = 1)
        AS alias_names,
    (SELECT groupArray(field) FROM core_fields FINAL WHERE enabled = 1) AS alias_fields,
    (SELECT groupArray(lower(trimBoth(value))) FROM core_field_placeholders FINAL WHERE enabled = 1)
        AS placeholder_values,
    record_history AS (
        SELECT tenant, record_id,
               arrayDistinct(groupArrayIf((rep_id, week), is_touch)) AS touches,
               -- sorted by field, then change order: the last match up to a week is the latest
               arraySort(groupArrayIf((field, change_order, week, filled), NOT is_touch))
                   AS changes
        FROM (
            SELECT tenant, record_id, true AS is_touch, rep_id, week, '' AS field,
                   toUInt64(0) AS change_order, false AS filled
            FROM crm_record_weeks_agg
            UNION ALL
            SELECT tenant, record_id, false, '', week,
                   transform(field_name, alias_names, alias_fields, ''), last_change_order,
                   NOT has(placeholder_values, lower(trimBoth(finalizeAggregation(last_value))))
            FROM profile_field_weekly_agg
            WHERE has(alias_names, field_name)
        )
        GROUP BY tenant, record_id
    )
SELECT tenant, touch.1 AS rep_id, record_id, touch.2 AS week,
       toUInt64(length(arrayDistinct(alias_fields))) AS fields_total,
       toUInt64(arrayCount(
           field -> arrayLast(c -> c.1 = field AND c.3 <= week, changes).4,
           arrayDistinct(changes.1))) AS fields_filled
FROM record_history
ARRAY JOIN touches AS touch;
