-- The current row of each recording, defined once for the per-call stages and for dbt. A recording
-- analysed, transcribed, redacted or classified again (new detector, ASR model, redactor, route or
-- prompt) keeps its older rows in raw; these views say which row counts. The stages read them (what to
-- transcribe, redact, classify, embed); dbt's staging models select their keys
-- (stg_raw__current_recordings), so the marts show exactly what the stages worked on.

-- the newest audio analysis
create or replace view raw.current_audio_analysis as
select distinct on (sha256) *
from raw.audio_analysis
order by sha256, analysed_at desc, detector_version desc;

-- the whole call: the merged dialogue of a stereo recording, else the mono mix, newest first
create or replace view raw.current_transcripts as
select distinct on (sha256) *
from raw.transcripts
where channel in ('dialogue', 'mix')
order by sha256, created_at desc, channel;

-- the redaction of the current whole-call transcript (same ASR model, chunking and channel), newest
-- redactor first
create or replace view raw.current_redacted_transcripts as
select distinct on (r.sha256) r.*
from raw.redacted_transcripts as r
inner join raw.current_transcripts as t
    on r.sha256 = t.sha256
    and r.asr_model_id = t.model_id
    and r.chunking_id = t.chunking_id
    and r.channel = t.channel
order by r.sha256, r.created_at desc;

-- the newest classification
create or replace view raw.current_classifications as
select distinct on (sha256) *
from raw.classifications
order by sha256, created_at desc, model, prompt_version desc;

grant select on raw.current_audio_analysis, raw.current_transcripts, raw.current_redacted_transcripts,
    raw.current_classifications to callaudit_pipeline;
