-- Operational tables: what was loaded, what was rejected, what each run did.
create table if not exists ops.source_files (
    source_kind   text        not null check (source_kind in ('manifest', 'calls')),
    source_path   text        not null,
    sha256        text        not null,
    size_bytes    bigint      not null,
    row_count     integer     not null,
    rejected_rows integer     not null default 0,
    loaded_at     timestamptz not null default now(),
    run_id        text,
    primary key (source_kind, source_path)
);

create table if not exists ops.rejects (
    reject_id   bigserial   primary key,
    source_kind text        not null,
    source      text        not null,
    location    text        not null,
    reason      text        not null,
    payload     jsonb,
    run_id      text,
    rejected_at timestamptz not null default now()
);
create index if not exists rejects_source_idx on ops.rejects (source_kind, source);

create table if not exists ops.runs (
    run_id      text        primary key,
    flow        text        not null,
    parameters  jsonb       not null default '{}',
    started_at  timestamptz not null default now(),
    finished_at timestamptz,
    state       text,
    summary     jsonb
);

grant select, insert, update, delete on all tables in schema ops to callaudit_pipeline;
grant usage on all sequences in schema ops to callaudit_pipeline;
