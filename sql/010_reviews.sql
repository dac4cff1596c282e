-- People decide what the machine cannot: the review role and its append-only decisions.
-- A reviewer is a PostgreSQL login in role callaudit_reviewer (create role alice login password '…' in role
-- callaudit_reviewer). `callaudit review` connects as that login, so the database decides what each person
-- may do: read the marts and the evidence a verdict rests on (tones, redacted text), record decisions; never
-- the vault, the unredacted transcripts, or another person's name on a decision.
do $$
begin
    if not exists (select from pg_roles where rolname = 'callaudit_reviewer') then
        create role callaudit_reviewer nologin;
    end if;
end
$$;

create table if not exists ops.reviews (
    review_id        bigint generated always as identity primary key,
    order_type       text        not null,
    order_id         text        not null,
    rule             text        not null check (rule in ('branch', 'attempts', 'gap', 'outcome', 'duplicates')),
    decision         text        not null check (decision in ('confirm', 'pass', 'fail')),
    reason           text        not null check (length(btrim(reason)) >= 3),
    reviewer         text        not null,
    reviewed_at      timestamptz not null default now(),
    machine_ok       boolean,            -- the machine's value of the rule when the person decided
    machine_verdict  jsonb       not null -- the order's whole marts.order_compliance row at that moment
);
create index if not exists reviews_order on ops.reviews (order_type, order_id, rule, reviewed_at desc);

-- Who and when are the database's, not the client's: a reviewer cannot sign as someone else or back-date.
create or replace function ops.reviews_stamp() returns trigger language plpgsql as $$
begin
    new.reviewer := session_user;
    new.reviewed_at := now();
    return new;
end
$$;
drop trigger if exists reviews_stamp on ops.reviews;
create trigger reviews_stamp before insert on ops.reviews for each row execute function ops.reviews_stamp();

-- Append-only for everyone, the pipeline included: a decision is changed by recording a new one.
create or replace function ops.reviews_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'ops.reviews is append-only: record a new decision instead of changing one';
end
$$;
drop trigger if exists reviews_append_only on ops.reviews;
create trigger reviews_append_only before update or delete or truncate on ops.reviews
    for each statement execute function ops.reviews_append_only();

revoke all on ops.reviews from public, callaudit_analyst;
grant select on ops.reviews to callaudit_pipeline;
grant usage on schema ops, raw, marts to callaudit_reviewer;
grant select, insert on ops.reviews to callaudit_reviewer;
grant select on raw.audio_files, raw.audio_tones, raw.redacted_transcripts to callaudit_reviewer;
do $$
begin
    execute format('grant usage on sequence %s to callaudit_reviewer', pg_get_serial_sequence('ops.reviews', 'review_id'));
end
$$;
grant select on all tables in schema marts to callaudit_reviewer;
alter default privileges for role callaudit_pipeline in schema marts grant select on tables to callaudit_reviewer;
