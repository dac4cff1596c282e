-- Redaction, the PII vault and LLM classification (issue 5).
-- Raw transcripts stay in raw; only redacted text and what the LLM said about it reach the marts. The vault
-- maps each call's tokens back to the values, encrypted, readable by the pipeline role only. Every LLM
-- request is stored under (redacted prompt hash, model route, prompt version), so a re-run asks nothing twice.

-- 004's vault table was a placeholder (never written): tokens are per call, so the key is (sha256, token).
drop table if exists vault.pii_tokens;

create table vault.pii_tokens (
    sha256           text        not null,  -- the recording whose transcripts carry the token
    token            text        not null,  -- e.g. [PERSON_1]
    entity_type      text        not null,
    value_hmac       text        not null,  -- HMAC-SHA256 of the value: find a value without decrypting
    value_encrypted  bytea       not null,  -- AES-256-GCM: 12-byte nonce || ciphertext+tag
    key_id           text        not null,  -- which key encrypted it (first 12 hex of its hash)
    created_at       timestamptz not null default now(),
    primary key (sha256, token)
);

revoke all on all tables in schema vault from public;
revoke all on all tables in schema vault from callaudit_analyst;
grant select, insert, update, delete on vault.pii_tokens to callaudit_pipeline;

create table if not exists raw.redacted_transcripts (
    sha256            text        not null,
    asr_model_id      text        not null,
    chunking_id       text        not null,
    channel           text        not null,
    redactor_version  text        not null,
    call_id           text,
    text              text        not null,
    entities          integer     not null,
    entity_types      text[]      not null default '{}',
    created_at        timestamptz not null default now(),
    primary key (sha256, asr_model_id, chunking_id, channel, redactor_version)
);

create table if not exists raw.llm_calls (
    request_key     text        not null,  -- sha256 of the redacted messages sent
    model           text        not null,  -- the configured route (alias) asked
    prompt_version  text        not null,
    sha256          text        not null,  -- the recording classified
    call_id         text,
    answered_by     text,                  -- the model that answered (a fallback, maybe)
    status          text        not null check (status in ('ok', 'invalid', 'failed')),
    raw_response    text,
    parsed          jsonb,
    error           text,
    tokens_in       integer     not null default 0,
    tokens_out      integer     not null default 0,
    latency_s       real,
    cost_usd        double precision not null default 0,
    attempts        integer     not null default 0,
    rate_limited    integer     not null default 0,
    created_at      timestamptz not null default now(),
    primary key (request_key, model, prompt_version)
);

create table if not exists raw.llm_audit (
    request_key     text        not null,
    model           text        not null,
    prompt_version  text        not null,
    kind            text        not null,  -- what was invented: token, id, number, date
    field           text        not null,  -- where: summary, action_items
    value           text        not null,
    created_at      timestamptz not null default now()
);
create index if not exists llm_audit_request on raw.llm_audit (request_key, model, prompt_version);

-- 004's classifications table was a placeholder (never written): recreated with the answer's fields.
drop table if exists raw.classifications;

create table raw.classifications (
    sha256          text        not null,
    model           text        not null,
    prompt_version  text        not null,
    request_key     text        not null,
    call_id         text,
    call_type       smallint    check (call_type between 0 and 4),
    behavior        smallint    check (behavior in (0, 1)),
    sentiment       text        check (sentiment in ('negative', 'neutral', 'positive')),
    summary         text,                  -- redacted, as the model wrote it
    action_items    jsonb,
    is_trusted      boolean     not null,  -- parsed, valid, and nothing in it was invented
    created_at      timestamptz not null default now(),
    primary key (sha256, model, prompt_version)
);

grant select, insert, update, delete on raw.redacted_transcripts, raw.llm_calls, raw.llm_audit,
    raw.classifications to callaudit_pipeline;
