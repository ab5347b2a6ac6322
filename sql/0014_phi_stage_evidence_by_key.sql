-- phi_stage_transitions as in 0013, with the evidence looked up in two narrower sets: signals
-- seen on the deals' own records, and signals seen with the deals' customers (each restricted to
-- the keys the stage moves name). Measured at 10M signal rows: ~0.5 s instead of ~0.7-1.1 s.

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
