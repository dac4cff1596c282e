-- One row per attempt (an order's call), with the audio evidence the inference stages found for it.

with

attempts as (

    select * from {{ ref('int_attempts_sequenced') }}

),

audio_files as (

    select * from {{ ref('stg_raw__audio_files') }}

),

unanalysable as (

    select * from {{ ref('stg_ops__unanalysable_recordings') }}

),

latest_analysis as (

    select * from {{ ref('int_audio_analysis_latest') }}

),

latest_transcript as (

    -- the whole call (the merged dialogue of a stereo recording, else the mono mix) the stages chose
    select * from {{ ref('int_transcripts_latest') }}

),

latest_redacted as (

    -- the redaction of that transcript the classification and embedding stages read
    select * from {{ ref('int_redacted_transcripts_latest') }}

),

latest_classification as (

    select * from {{ ref('int_classifications_latest') }}

),

duplicates as (

    select * from {{ ref('int_attempt_duplicates') }}

),

final as (

    select
        attempts.order_key || '|' || attempts.call_id as attempt_key,
        attempts.call_id,
        attempts.order_key,
        attempts.order_id,
        attempts.order_type,
        attempts.offer,
        attempts.attempt_number::integer as attempt_number,
        attempts.started_at,
        attempts.started_at_local,
        attempts.branch,
        attempts.expected_branch,
        attempts.branch = attempts.expected_branch as is_expected_branch,
        attempts.caller_number,
        attempts.gap_minutes,
        case
            when attempts.gap_seconds is null then null
            else attempts.gap_seconds >= {{ var('min_gap_minutes') }} * 60
        end as is_gap_ok,
        attempts.duration_s,
        attempts.audio_path,
        duplicates.call_id is not null as is_duplicate,
        duplicates.original_call_id as duplicate_of_call_id,
        duplicates.duplicate_kind,
        audio_files.audio_sha256,
        latest_analysis.ring_bursts,
        latest_analysis.voicemail_beeps,
        latest_analysis.sit_tones,
        latest_analysis.outcome,
        latest_analysis.outcome_confidence,
        latest_analysis.speech_onset_s,
        latest_analysis.detector_version,
        -- quarantined as unanalysable and never heard: no evidence, whatever rule 4 would need
        case when latest_analysis.outcome is null then unanalysable.unanalysable_reason end
            as unanalysable_reason,
        latest_transcript.audio_sha256 is not null as has_transcript,
        latest_transcript.transcript_chars,
        latest_transcript.asr_confidence,
        latest_transcript.asr_model_id,
        latest_redacted.transcript_redacted,
        latest_redacted.redacted_entities,
        latest_classification.call_type,
        latest_classification.behavior,
        latest_classification.sentiment,
        latest_classification.summary_redacted as summary,
        latest_classification.call_type_confidence,
        -- a call type below the calibrated probability is no evidence (an LLM route gives none: the audit decides)
        case
            when latest_classification.audio_sha256 is null then null
            when latest_classification.call_type_confidence is null then true
            else latest_classification.call_type_confidence >= {{ var('classification_min_confidence') }}::real
        end as is_call_type_confident,
        latest_classification.is_classification_trusted and (
            latest_classification.call_type_confidence is null
            or latest_classification.call_type_confidence >= {{ var('classification_min_confidence') }}::real
        ) as is_classification_trusted,
        latest_classification.classifier_model,
        latest_classification.prompt_version

    from attempts
    left join duplicates
        on attempts.call_id = duplicates.call_id
    left join audio_files
        on attempts.audio_path = audio_files.audio_path
    left join latest_analysis
        on audio_files.audio_sha256 = latest_analysis.audio_sha256
    left join unanalysable
        on attempts.audio_path = unanalysable.audio_path
    left join latest_transcript
        on audio_files.audio_sha256 = latest_transcript.audio_sha256
    left join latest_redacted
        on audio_files.audio_sha256 = latest_redacted.audio_sha256
    left join latest_classification
        on audio_files.audio_sha256 = latest_classification.audio_sha256

)

select * from final
