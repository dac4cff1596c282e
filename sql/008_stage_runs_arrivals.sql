-- Operations (issue 7): the telemetry of every stage of every run, and what the on-arrival sensor has seen.

-- One row per (run, stage): how many items, how long, how fast, how many errors, p95 latency per item.
create table if not exists ops.stage_runs (
    run_id         text             not null,
    flow           text             not null,
    stage          text             not null,
    audit_day      date,
    started_at     timestamptz      not null,
    finished_at    timestamptz      not null,
    items          integer          not null check (items >= 0),
    skipped        integer          not null default 0 check (skipped >= 0),
    errors         integer          not null default 0 check (errors >= 0),
    seconds        double precision not null check (seconds >= 0),
    items_per_s    double precision,
    p50_latency_s  double precision,
    p95_latency_s  double precision,
    detail         jsonb            not null default '{}',
    primary key (run_id, stage)
);
create index if not exists stage_runs_stage_idx on ops.stage_runs (stage, started_at);

-- Inputs the on-arrival sensor has seen (manifests, the call records file, recordings), by fingerprint:
-- a new or changed file is an arrival once; the run it triggered is kept for the audit trail.
create table if not exists ops.arrivals (
    source_kind   text        not null check (source_kind in ('manifest', 'calls', 'recording')),
    source_path   text        not null,
    fingerprint   text        not null,
    audit_day     date,
    seen_at       timestamptz not null default now(),
    triggered_run text,
    primary key (source_kind, source_path, fingerprint)
);

grant select, insert, update, delete on ops.stage_runs, ops.arrivals to callaudit_pipeline;
