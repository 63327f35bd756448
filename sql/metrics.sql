-- driftgate's three metrics over a drift history, in SQL (DuckDB; the same logic ports to Athena
-- over S3 and BigQuery over GCS, see docs/history.md). The same numbers as `driftgate metrics`
-- (tests/metrics.rs checks them against each other).
--
-- Replace before running:
--   {{records}}  the records, e.g. 'history/runs/*/*/*/*.json' or 's3://bucket/prefix/runs/*/*/*/*.json'
--   {{from}}     the window's start, e.g. '2026-09-01 00:00:00'
--   {{to}}       the window's end,   e.g. '2026-11-30 23:59:59'
--
-- An episode is one appearance of a finding (fingerprint, in one state lineage) over consecutive
-- runs that checked its address; it is remediated at the first later such run without it.

WITH runs AS (
    SELECT filename AS run_id,
           CAST(run_at AS TIMESTAMPTZ) AS run_at,
           checked,
           list_filter([s.lineage FOR s IN states], lambda x: x IS NOT NULL) AS lineages,
           findings
    -- The columns the metrics need, typed: the same query works whatever a window holds (no
    -- tickets at all, older records without lineage).
    FROM read_json({{records}}, filename = true, format = 'auto', columns = {
        run_at: 'VARCHAR',
        checked: 'VARCHAR[]',
        states: 'STRUCT(label VARCHAR, lineage VARCHAR)[]',
        findings: 'STRUCT(fingerprint VARCHAR, address VARCHAR, policy VARCHAR, severity VARCHAR,
                          enforcement VARCHAR, lineage VARCHAR,
                          ticket STRUCT(created_at VARCHAR, expires_at VARCHAR))[]'
    })
    WHERE CAST(run_at AS TIMESTAMPTZ) <= TIMESTAMPTZ {{to}}
),
f AS (
    SELECT run_id, run_at, unnest(findings, recursive := true)
    FROM runs
),
keys AS (
    SELECT fingerprint, lineage, any_value(address) AS address, any_value(policy) AS policy,
           any_value(severity) AS severity
    FROM f GROUP BY fingerprint, lineage
),
-- Every run that could speak about a key: it checked the address, in the key's lineage.
obs AS (
    SELECT k.fingerprint, k.lineage, r.run_at, r.run_id,
           bool_or(x.fingerprint IS NOT NULL) AS present,
           bool_or(x.created_at IS NOT NULL) AS ticketed,
           bool_or(coalesce(x.enforcement = 'warn', false)) AS warned,
           min(CAST(x.created_at AS TIMESTAMPTZ)) AS ticket_created,
           min(CAST(x.expires_at AS TIMESTAMPTZ)) AS ticket_expires
    FROM keys k
    JOIN runs r
      ON list_contains(r.checked, k.address)
     AND (k.lineage IS NULL OR len(r.lineages) = 0 OR list_contains(r.lineages, k.lineage))
    LEFT JOIN f x
      ON x.run_id = r.run_id AND x.fingerprint = k.fingerprint
     AND x.lineage IS NOT DISTINCT FROM k.lineage
    GROUP BY k.fingerprint, k.lineage, r.run_at, r.run_id
),
-- Gaps and islands: each absent run starts a new group; an episode is the present runs of one
-- group, remediated by the absent run that starts the next.
seq AS (
    SELECT *, sum(CASE WHEN present THEN 0 ELSE 1 END)
                  OVER (PARTITION BY fingerprint, lineage ORDER BY run_at, run_id
                        ROWS UNBOUNDED PRECEDING) AS grp
    FROM obs
),
episodes AS (
    SELECT e.fingerprint, e.lineage, k.address, k.policy, k.severity,
           regexp_replace(k.address, '\[("([^"\\]|\\.)*"|[^\]]*)\]', '', 'g') AS block,
           e.first_seen, fx.remediated, e.ticketed, e.warned, e.ticket_created, e.ticket_expires
    FROM (SELECT fingerprint, lineage, grp, min(run_at) AS first_seen, bool_or(ticketed) AS ticketed,
                 bool_or(warned) AS warned, min(ticket_created) AS ticket_created,
                 min(ticket_expires) AS ticket_expires
          FROM seq WHERE present GROUP BY fingerprint, lineage, grp) e
    JOIN keys k USING (fingerprint, lineage)
    LEFT JOIN (SELECT fingerprint, lineage, grp - 1 AS grp, min(run_at) AS remediated
               FROM seq WHERE NOT present GROUP BY fingerprint, lineage, grp) fx
      USING (fingerprint, lineage, grp)
),
in_window AS (
    SELECT * FROM episodes
    WHERE first_seen <= TIMESTAMPTZ {{to}}
      AND (remediated IS NULL OR remediated >= TIMESTAMPTZ {{from}})
),
fixed AS (
    SELECT *, epoch(remediated - first_seen) / 3600.0 AS hours
    FROM in_window WHERE remediated BETWEEN TIMESTAMPTZ {{from}} AND TIMESTAMPTZ {{to}}
),
recurring AS (
    SELECT DISTINCT e.fingerprint, e.lineage, e.first_seen
    FROM fixed e JOIN episodes n
      ON n.first_seen > e.remediated AND n.first_seen <= TIMESTAMPTZ {{to}}
     AND n.lineage IS NOT DISTINCT FROM e.lineage
     AND (n.fingerprint = e.fingerprint OR (n.policy = e.policy AND n.block = e.block))
)
SELECT
    (SELECT count(*) FROM runs WHERE run_at >= TIMESTAMPTZ {{from}}) AS runs,
    (SELECT count(*) FROM in_window) AS episodes,
    (SELECT round(avg(hours), 2) FROM fixed WHERE severity = 'critical') AS mttr_critical_mean,
    (SELECT round(median(hours), 2) FROM fixed WHERE severity = 'critical') AS mttr_critical_median,
    (SELECT round(avg(hours), 2) FROM fixed WHERE severity = 'high') AS mttr_high_mean,
    (SELECT count(*) FROM in_window WHERE remediated IS NULL) AS open_episodes,
    (SELECT round((SELECT count(*) FROM recurring) / nullif(count(*), 0), 4) FROM fixed) AS recurrence_rate,
    (SELECT round(count(*) FILTER (WHERE ticketed OR warned) / nullif(count(*), 0), 4) FROM in_window) AS exception_rate;
