-- The self-check list as traffic lights per rep (and team) per week, against selfcheck_targets:
--   lead_first_response       p90 first-reply latency in hours, per customer class (A <= 2 h, B <= 4 h)
--   stage_advance_compliance  phi action_completeness (>= 0.90)
--   profile_richness          phi information_richness (>= 0.85)
-- status: green when the value meets target, yellow when it meets yellow_limit, else red.

CREATE VIEW IF NOT EXISTS selfcheck_weekly_rep AS
WITH
    targets AS (
        SELECT check_name, customer_tier, direction, target, yellow_limit, unit, latency_kind
        FROM selfcheck_targets FINAL
        WHERE enabled = 1
    ),
    measured AS (
        SELECT l.tenant AS tenant, l.rep_id AS rep_id, toMonday(l.local_date) AS week,
               'lead_first_response' AS check_name, l.customer_tier AS customer_tier,
               quantilesTDigestMerge(0.5, 0.9, 0.99)(l.latency_q)[2] / 3600 AS value,
               toUInt64(sum(l.samples)) AS observations
        FROM latency_daily_agg AS l
        INNER JOIN targets AS t
            ON t.customer_tier = l.customer_tier AND t.latency_kind = l.kind
        WHERE t.check_name = 'lead_first_response'
        GROUP BY tenant, rep_id, week, customer_tier
        UNION ALL
        -- one pass over the PHI view yields both of its checks
        SELECT tenant, rep_id, week, phi_check.1, '', phi_check.2, phi_check.3
        FROM phi_weekly_rep
        ARRAY JOIN arrayFilter(c -> c.3 > 0, [
            ('stage_advance_compliance', ifNull(action_completeness, 0), deals),
            ('profile_richness', ifNull(information_richness, 0), fields_total)
        ]) AS phi_check
    )
SELECT m.tenant AS tenant, m.rep_id AS rep_id, m.week AS week, m.check_name AS check_name,
       m.customer_tier AS customer_tier, m.value AS value, m.observations AS observations,
       t.direction AS direction, t.target AS target, t.yellow_limit AS yellow_limit,
       t.unit AS unit,
       multiIf(
           t.direction = 'at_most' AND m.value <= t.target, 'green',
           t.direction = 'at_most' AND m.value <= t.yellow_limit, 'yellow',
           t.direction = 'at_least' AND m.value >= t.target, 'green',
           t.direction = 'at_least' AND m.value >= t.yellow_limit, 'yellow',
           'red') AS status
FROM measured AS m
INNER JOIN targets AS t ON t.check_name = m.check_name AND t.customer_tier = m.customer_tier;

CREATE VIEW IF NOT EXISTS selfcheck_weekly_team AS
WITH
    targets AS (
        SELECT check_name, customer_tier, direction, target, yellow_limit, unit, latency_kind
        FROM selfcheck_targets FINAL
        WHERE enabled = 1
    ),
    teams AS (
        SELECT tenant, rep_id, team FROM rep_directory FINAL
    ),
    measured AS (
        SELECT l.tenant AS tenant, d.team AS team, toMonday(l.local_date) AS week,
               'lead_first_response' AS check_name, l.customer_tier AS customer_tier,
               quantilesTDigestMerge(0.5, 0.9, 0.99)(l.latency_q)[2] / 3600 AS value,
               toUInt64(sum(l.samples)) AS observations
        FROM latency_daily_agg AS l
        INNER JOIN targets AS t
            ON t.customer_tier = l.customer_tier AND t.latency_kind = l.kind
        LEFT JOIN teams AS d ON d.tenant = l.tenant AND d.rep_id = l.rep_id
        WHERE t.check_name = 'lead_first_response'
        GROUP BY tenant, team, week, customer_tier
        UNION ALL
        -- one pass over the PHI view yields both of its checks
        SELECT tenant, team, week, phi_check.1, '', phi_check.2, phi_check.3
        FROM phi_weekly_team
        ARRAY JOIN arrayFilter(c -> c.3 > 0, [
            ('stage_advance_compliance', ifNull(action_completeness, 0), deals),
            ('profile_richness', ifNull(information_richness, 0), fields_total)
        ]) AS phi_check
    )
SELECT m.tenant AS tenant, m.team AS team, m.week AS week, m.check_name AS check_name,
       m.customer_tier AS customer_tier, m.value AS value, m.observations AS observations,
       t.direction AS direction, t.target AS target, t.yellow_limit AS yellow_limit,
       t.unit AS unit,
       multiIf(
           t.direction = 'at_most' AND m.value <= t.target, 'green',
           t.direction = 'at_most' AND m.value <= t.yellow_limit, 'yellow',
           t.direction = 'at_least' AND m.value >= t.target, 'green',
           t.direction = 'at_least' AND m.value >= t.yellow_limit, 'yellow',
           'red') AS status
FROM measured AS m
INNER JOIN targets AS t ON t.check_name = m.check_name AND t.customer_tier = m.customer_tier;
