-- Tables the inference stages write (audio analysis, ASR, classification, embeddings) and the PII vault.
-- Each is keyed by the audio's content (sha256) and the version of what computed it, so a re-run looks
-- results up instead of paying for them again. Empty until the stages of later issues exist; dbt already
-- reads them (rule 4 stays null while they are empty).
create table if not exists raw.audio_analysis (
    sha256              text             not null,
    detector_version    text             not null,
    outcome             text             not null check (outcome in ('answered', 'voicemail', 'no_answer', 'unreachable')),
    outcome_confidence  real             not null,
    ring_bursts         integer          not null,
    voicemail_beeps     integer          not null,
    sit_tones           integer          not null,
    speech_onset_s      double precision,
    speech_s            double precision not null default 0,
    agent_speech_s      double precision,
    customer_speech_s   double precision,
    analysed_at         timestamptz      not null default now(),
    primary key (sha256, detector_version)
);

create table if not exists raw.audio_tones (
    sha256           text             not null,
    detector_version text             not null,
    kind             text             not null check (kind in ('ring', 'voicemail_beep', 'sit')),
    start_s          double precision not null,
    end_s            double precision not null,
    frequency_hz     double precision not null,
    primary key (sha256, detector_version, kind, start_s)
);

create table if not exists raw.transcripts (
    sha256       text        not null,
    model        text        not null,
    channel      text        not null default 'mix' check (channel in ('mix', 'agent', 'customer', 'dialogue')),
    text         text        not null,
    confidence   real,
    chunks       jsonb       not null default '[]',
    created_at   timestamptz not null default now(),
    primary key (sha256, model, channel)
);

create table if not exists raw.classifications (
    sha256          text        not null,
    model           text        not null,
    prompt_version  text        not null,
    call_type       smallint    check (call_type between 0 and 4),
    behaviour       smallint    check (behaviour in (0, 1)),
    confidence      real,
    response        jsonb,
    created_at      timestamptz not null default now(),
    primary key (sha256, model, prompt_version)
);

create table if not exists raw.transcript_embeddings (
    sha256      text        not null,
    model       text        not null,
    embedding   vector(384) not null,
    created_at  timestamptz not null default now(),
    primary key (sha256, model)
);

create table if not exists vault.pii_tokens (
    token           text        primary key,
    entity_type     text        not null,
    value_encrypted bytea       not null,
    created_at      timestamptz not null default now()
);

grant select, insert, update, delete on all tables in schema raw to callaudit_pipeline;
grant select, insert, update, delete on all tables in schema vault to callaudit_pipeline;
