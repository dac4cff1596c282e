-- Transcripts as the ASR stage writes them (issue 4), keyed by the audio's content, the model and the
-- chunking, so a call is transcribed once per (model, chunking). Replaces the placeholder of 004 (never
-- written to). Raw text stays in raw: marts only ever get redacted text (issue 5).
drop table if exists raw.transcripts;

create table raw.transcripts (
    sha256       text        not null,
    model_id     text        not null,
    chunking_id  text        not null,
    channel      text        not null check (channel in ('mix', 'agent', 'customer', 'dialogue')),
    call_id      text,
    text         text        not null,
    confidence   real,
    segments     integer     not null default 0,
    created_at   timestamptz not null default now(),
    primary key (sha256, model_id, chunking_id, channel)
);

create table if not exists raw.transcript_segments (
    sha256        text             not null,
    model_id      text             not null,
    chunking_id   text             not null,
    channel       text             not null,
    segment_index integer          not null,
    start_s       double precision not null,
    end_s         double precision not null,
    text          text             not null,
    confidence    real,
    primary key (sha256, model_id, chunking_id, channel, segment_index)
);

grant select, insert, update, delete on raw.transcripts, raw.transcript_segments to callaudit_pipeline;
