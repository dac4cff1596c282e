-- Guards on LLM requests (issue 18).
-- A transcript longer than llm_max_transcript_chars is cut before it is sent: the call row says so.
alter table raw.llm_calls add column if not exists transcript_chars integer;
alter table raw.llm_calls add column if not exists transcript_truncated boolean not null default false;

-- Every request is written here before it is sent, and marked answered in the transaction that stores its
-- answer (raw.llm_calls). A request found sent and never answered was in flight when a run died: it is
-- asked again, and counted (unanswered_resends), so a repeated, maybe paid-twice request is never silent.
create table if not exists raw.llm_requests (
    request_key         text        not null,
    model               text        not null,
    prompt_version      text        not null,
    sha256              text        not null,
    call_id             text,
    run_id              text,
    sends               integer     not null default 1,
    unanswered_resends  integer     not null default 0,
    first_sent_at       timestamptz not null default now(),
    last_sent_at        timestamptz not null default now(),
    answered_at         timestamptz,
    primary key (request_key, model, prompt_version)
);

grant select, insert, update, delete on raw.llm_requests to callaudit_pipeline;
