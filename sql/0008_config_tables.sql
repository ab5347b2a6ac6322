-- Configuration as data: small tables users edit with INSERT. The latest row per key wins
-- (ReplacingMergeTree on updated_at); set enabled = 0 to switch a seeded row off.
-- Seeds carry updated_at 2000-01-01 so any row a user inserts later takes precedence.

CREATE TABLE IF NOT EXISTS rep_directory
(
    tenant LowCardinality(String) COMMENT 'Tenant (company)',
    rep_id String COMMENT 'Rep id as it appears in events.rep_id',
    name String COMMENT 'Display name',
    team String COMMENT 'Team the rep belongs to (PHI and self-check team views group by it)',
    manager String COMMENT 'Rep id of the team lead',
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'Load time; the latest row per rep wins'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant, rep_id);

CREATE TABLE IF NOT EXISTS stage_requirements
(
    stage String COMMENT 'CRM stage name exactly as the CRM reports it in stage_changed new/old values',
    signal LowCardinality(String) COMMENT 'Signal that must have happened before a deal leaves the stage',
    enabled UInt8 DEFAULT 1 COMMENT '0 switches the requirement off',
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'Edit time; the latest row per key wins'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (stage, signal);

INSERT INTO stage_requirements (stage, signal, updated_at) VALUES
    ('初步沟通', 'screening', '2000-01-01 00:00:00'),
    ('方案演示', 'demo', '2000-01-01 00:00:00'),
    ('方案演示', 'material_sent', '2000-01-01 00:00:00'),
    ('报价比价', 'quote', '2000-01-01 00:00:00'),
    ('合同谈判', 'contract', '2000-01-01 00:00:00'),
    ('付款确认', 'payment', '2000-01-01 00:00:00'),
    ('交付启动', 'delivery', '2000-01-01 00:00:00');

CREATE TABLE IF NOT EXISTS core_fields
(
    field LowCardinality(String) COMMENT 'Core profile field: decision_maker, budget, timeline, pain_point',
    alias String COMMENT 'A CRM field name meaning this field (matched case-insensitively)',
    enabled UInt8 DEFAULT 1 COMMENT '0 switches the alias off',
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'Edit time; the latest row per key wins'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (field, alias);

INSERT INTO core_fields (field, alias, updated_at) VALUES
    ('decision_maker', 'decision_maker', '2000-01-01 00:00:00'),
    ('decision_maker', '决策人', '2000-01-01 00:00:00'),
    ('decision_maker', '关键决策人', '2000-01-01 00:00:00'),
    ('budget', 'budget', '2000-01-01 00:00:00'),
    ('budget', '预算', '2000-01-01 00:00:00'),
    ('budget', '项目预算', '2000-01-01 00:00:00'),
    ('timeline', 'timeline', '2000-01-01 00:00:00'),
    ('timeline', '时间窗口', '2000-01-01 00:00:00'),
    ('timeline', '预计采购时间', '2000-01-01 00:00:00'),
    ('pain_point', 'pain_point', '2000-01-01 00:00:00'),
    ('pain_point', '痛点', '2000-01-01 00:00:00'),
    ('pain_point', '需求痛点', '2000-01-01 00:00:00');

CREATE TABLE IF NOT EXISTS core_field_placeholders
(
    value String COMMENT 'A value that does not count as filled (matched case-insensitively, trimmed)',
    enabled UInt8 DEFAULT 1 COMMENT '0 makes the value count as real again',
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'Edit time; the latest row per key wins'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY value;

INSERT INTO core_field_placeholders (value, updated_at) VALUES
    ('', '2000-01-01 00:00:00'), ('暂无', '2000-01-01 00:00:00'),
    ('待确认', '2000-01-01 00:00:00'), ('空', '2000-01-01 00:00:00'),
    ('无', '2000-01-01 00:00:00'), ('未知', '2000-01-01 00:00:00'),
    ('不详', '2000-01-01 00:00:00'), ('待定', '2000-01-01 00:00:00'),
    ('不清楚', '2000-01-01 00:00:00'), ('n/a', '2000-01-01 00:00:00'),
    ('na', '2000-01-01 00:00:00'), ('none', '2000-01-01 00:00:00'),
    ('null', '2000-01-01 00:00:00'), ('tbd', '2000-01-01 00:00:00'),
    ('-', '2000-01-01 00:00:00'), ('--', '2000-01-01 00:00:00'),
    ('/', '2000-01-01 00:00:00');

CREATE TABLE IF NOT EXISTS phi_weights
(
    component LowCardinality(String) COMMENT 'action_completeness, response_timeliness or information_richness',
    weight Float64 COMMENT 'Relative weight in the combined index (weights need not sum to 1)',
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'Edit time; the latest row per key wins'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY component;

INSERT INTO phi_weights (component, weight, updated_at) VALUES
    ('action_completeness', 0.4, '2000-01-01 00:00:00'),
    ('response_timeliness', 0.3, '2000-01-01 00:00:00'),
    ('information_richness', 0.3, '2000-01-01 00:00:00');

CREATE TABLE IF NOT EXISTS selfcheck_targets
(
    check_name LowCardinality(String) COMMENT 'lead_first_response, stage_advance_compliance or profile_richness',
    customer_tier LowCardinality(String) COMMENT 'Customer class the target applies to; empty = all',
    direction LowCardinality(String) COMMENT 'at_most (smaller is better) or at_least (larger is better)',
    target Float64 COMMENT 'Green when the value meets it',
    yellow_limit Float64 COMMENT 'Yellow when the value misses the target but meets this; red beyond',
    unit LowCardinality(String) COMMENT 'Unit of value, target and yellow_limit: hours or share',
    latency_kind LowCardinality(String) DEFAULT 'first_reply'
        COMMENT 'For lead_first_response: latency_samples.kind whose p90 is checked',
    enabled UInt8 DEFAULT 1 COMMENT '0 switches the check off',
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'Edit time; the latest row per key wins'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (check_name, customer_tier);

INSERT INTO selfcheck_targets
    (check_name, customer_tier, direction, target, yellow_limit, unit, updated_at) VALUES
    ('lead_first_response', 'A', 'at_most', 2, 3, 'hours', '2000-01-01 00:00:00'),
    ('lead_first_response', 'B', 'at_most', 4, 6, 'hours', '2000-01-01 00:00:00'),
    ('stage_advance_compliance', '', 'at_least', 0.9, 0.8, 'share', '2000-01-01 00:00:00'),
    ('profile_richness', '', 'at_least', 0.85, 0.75, 'share', '2000-01-01 00:00:00');
