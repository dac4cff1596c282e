-- Calls that reuse another call's conversation: the same file (int_duplicate_recordings), or the same
-- conversation re-encoded (another format, sample rate or gain). A re-encoding keeps the audio's timeline:
-- measured on the synthetic set (benchmarks/dedupe_synth.py, tuning seeds), a µ-law/FLAC/16 kHz copy at
-- another gain has the same tones, each edge within 0.01 s once the speech onsets are aligned, the same tone
-- frequencies (within 0.01 Hz) and the same seconds of speech (within 0.01 s). What it does not keep is the
-- transcript: the ASR hears a copy a little differently — most of all a 16 kHz original copied at 8 kHz —
-- and the embedding cosine of the two transcripts goes down to 0.65 — below the 0.9 of duplicate_similarity,
-- which is why re-encoded copies were missed when the text had to carry the decision. So a re-encoded copy
-- needs both:
--   1. the same audio: the same tone kinds in order; speech onsets within duplicate_onset_tolerance_s (their
--      difference is the copy's shift, e.g. a codec's padding); every tone edge within
--      duplicate_tone_tolerance_s of that shift and every tone frequency within
--      duplicate_frequency_tolerance_hz; durations within duplicate_duration_tolerance_s; seconds of speech
--      within duplicate_speech_tolerance_s;
--   2. the same words: transcript cosine >= duplicate_timeline_similarity when the timeline holds a ring-back
--      burst or a voicemail beep (their lengths, gaps and frequencies vary from call to call: no other call
--      matched them all in the benchmark, and the text then only confirms — it rejects two thirds of
--      unrelated calls), else >= duplicate_similarity (a recording without tones has none: the text must
--      carry more of the decision).
-- A SIT without ring-back or beep is never a re-encoded copy: its triplet has fixed lengths and frequencies
-- and its words are the network's announcement, the same in every call to an unattributed number. With the
-- third speech model two unrelated SIT calls of the test set (same announcement, onsets 0.08 s apart)
-- reached a cosine of 0.95, so the text would accuse: rule 2 would stop counting a real attempt. Such a copy
-- is found only when it is the same file (int_duplicate_recordings).
-- Neither alone is enough: scripted phrases make different calls' transcripts close, and calls with the
-- same ring count often start speaking within 0.1 s of each other. The fingerprint join comes first (an
-- equality on the tone kinds), so every candidate pair is compared, not only k neighbours.
-- The earliest call is the original; every later one is a duplicate, whichever order it was claimed for.
-- At volume, calls with the same tone kinds are many (every call answered after three rings): the pairs are
-- found by an equality join on the tone kinds and on cells of speech onset, duration and seconds of speech.
-- A cell is a little over twice its tolerance wide on each axis, so a call's match lies in the call's own
-- cell or in the next one on the side of the cell's half the call is in: each call looks in 2 × 2 × 2 = 8
-- cells. The seconds of speech are an axis of their own because the calls of one onset × duration cell grow
-- with the volume, and the pairs with their square: with onset and duration only, 1,000,000 calls took 33
-- times as long as 100,000 (benchmarks/scale.py).

{{ config(materialized='table') }}

{%- set onset_tolerance_s = var('duplicate_onset_tolerance_s', 0.1) %}
{%- set duration_tolerance_s = var('duplicate_duration_tolerance_s', 0.5) %}
{%- set speech_tolerance_s = var('duplicate_speech_tolerance_s', 0.25) %}
{%- set tone_tolerance_s = var('duplicate_tone_tolerance_s', 0.03) %}
{%- set frequency_tolerance_hz = var('duplicate_frequency_tolerance_hz', 1.0) %}
{%- set timeline_similarity = var('duplicate_timeline_similarity', 0.5) %}
{#- a cell's width: twice the tolerance and 1 ms, so that a difference that rounds to the tolerance (4 decimals)
    still reaches no further than the next cell -#}
{%- set onset_cell_s = 2 * onset_tolerance_s + 0.001 %}
{%- set duration_cell_s = 2 * duration_tolerance_s + 0.001 %}
{%- set speech_cell_s = 2 * speech_tolerance_s + 0.001 %}

with

recorded_calls as (

    select * from {{ ref('int_recorded_calls') }}

),

call_fingerprints as (

    -- each call's place on the three axes, in cell widths; a call without a timeline (not analysed), a speech
    -- onset or seconds of speech matches no other (the tolerances cannot hold)
    select
        *,
        speech_onset_s / {{ onset_cell_s }} as onset_position,
        audio_duration_s / {{ duration_cell_s }} as duration_position,
        speech_s / {{ speech_cell_s }} as speech_position

    from recorded_calls
    where tone_kinds is not null
        and speech_onset_s is not null
        and audio_duration_s is not null
        and speech_s is not null

),

fingerprint_cells as (

    -- each call's cell on the three axes, and the side of it (-1 or 1) its value is nearer to (0 at the exact
    -- middle: a match is then in the call's own cell on that axis)
    select
        call_id,
        tone_kinds,
        speech_onset_s,
        audio_duration_s,
        speech_s,
        floor(onset_position)::bigint as onset_cell,
        floor(duration_position)::bigint as duration_cell,
        floor(speech_position)::bigint as speech_cell,
        sign(onset_position - floor(onset_position) - 0.5)::int as onset_side,
        sign(duration_position - floor(duration_position) - 0.5)::int as duration_side,
        sign(speech_position - floor(speech_position) - 0.5)::int as speech_side

    from call_fingerprints

),

steps as (

    -- the eight steps from a call's cell: 0 or 1 times its side on each axis
    select onset_step, duration_step, speech_step
    from generate_series(0, 1) as onset_step
    cross join generate_series(0, 1) as duration_step
    cross join generate_series(0, 1) as speech_step

),

cell_keys as (

    -- each call's cell as one hashed key: the join below is then an equality on one column, which the planner
    -- cannot split (on four columns it joined on three and filtered the fourth, on 7 times the rows); two
    -- cells that share a hash only add pairs the checks below drop
    select
        call_id,
        speech_onset_s,
        audio_duration_s,
        speech_s,
        {{ duplicate_cell_key('tone_kinds', 'onset_cell', 'duration_cell', 'speech_cell') }} as cell_key

    from fingerprint_cells

),

nearby_keys as (

    -- the cells each call looks in: its own and the next one on its side, on each axis (one cell on an axis
    -- where the call sits in the middle)
    select
        fingerprint_cells.call_id,
        fingerprint_cells.speech_onset_s,
        fingerprint_cells.audio_duration_s,
        fingerprint_cells.speech_s,
        {{ duplicate_cell_key(
            'fingerprint_cells.tone_kinds',
            'fingerprint_cells.onset_cell + steps.onset_step * fingerprint_cells.onset_side',
            'fingerprint_cells.duration_cell + steps.duration_step * fingerprint_cells.duration_side',
            'fingerprint_cells.speech_cell + steps.speech_step * fingerprint_cells.speech_side',
        ) }} as cell_key

    from fingerprint_cells
    cross join steps
    where (steps.onset_step = 0 or fingerprint_cells.onset_side <> 0)
        and (steps.duration_step = 0 or fingerprint_cells.duration_side <> 0)
        and (steps.speech_step = 0 or fingerprint_cells.speech_side <> 0)

),

candidate_pairs as materialized (

    -- on narrow rows, the pairs of calls in the same cell within the onset, duration and speech tolerances,
    -- either way round (checked again below, with the rest: the tone kinds, the order of the calls, the
    -- tones); the fingerprints (arrays of every tone) are joined to these few pairs only
    select
        later.call_id,
        earlier.call_id as original_call_id

    from nearby_keys as later
    inner join cell_keys as earlier
        on later.cell_key = earlier.cell_key
    where later.call_id <> earlier.call_id
        and round(abs(later.speech_onset_s - earlier.speech_onset_s)::numeric, 4) <= {{ onset_tolerance_s }}
        and round(abs(later.audio_duration_s - earlier.audio_duration_s)::numeric, 4)
            <= {{ duration_tolerance_s }}
        and round(abs(later.speech_s - earlier.speech_s)::numeric, 4) <= {{ speech_tolerance_s }}

),

identical as (

    select * from {{ ref('int_duplicate_recordings') }}

),

embeddings as (

    select * from {{ ref('stg_raw__transcript_embeddings') }}

),

audio_pairs as (

    -- every |difference| rounded to 4 decimals (the detector's resolution): a tolerance holds at its bound
    select
        later.call_id,
        earlier.call_id as original_call_id,
        earlier.started_at as original_started_at,
        later.audio_sha256,
        earlier.audio_sha256 as original_audio_sha256,
        round(abs(later.speech_onset_s - earlier.speech_onset_s)::numeric, 4) as onset_gap_s,
        round(abs(later.audio_duration_s - earlier.audio_duration_s)::numeric, 4) as duration_gap_s,
        round(abs(later.speech_s - earlier.speech_s)::numeric, 4) as speech_gap_s,
        timeline.tone_error_s,
        timeline.frequency_error_hz,
        timeline.identifying_tones,
        timeline.sit_tones

    from candidate_pairs
    inner join call_fingerprints as later
        on candidate_pairs.call_id = later.call_id
    inner join call_fingerprints as earlier
        on candidate_pairs.original_call_id = earlier.call_id
        and later.tone_kinds = earlier.tone_kinds
        and (earlier.started_at, earlier.call_id) < (later.started_at, later.call_id)
        and later.audio_sha256 <> earlier.audio_sha256
    cross join lateral (
        select
            -- each tone edge's offset beyond the shift of the speech onsets (a copy's leading padding)
            coalesce(round(max(greatest(
                abs((tones.later_start_s - tones.earlier_start_s)
                    - (later.speech_onset_s - earlier.speech_onset_s)),
                abs((tones.later_end_s - tones.earlier_end_s)
                    - (later.speech_onset_s - earlier.speech_onset_s))
            ))::numeric, 4), 0) as tone_error_s,
            coalesce(
                round(max(abs(tones.later_frequency_hz - tones.earlier_frequency_hz))::numeric, 4), 0
            ) as frequency_error_hz,
            count(*) filter (where tones.kind in ('ring', 'voicemail_beep')) as identifying_tones,
            count(*) filter (where tones.kind = 'sit') as sit_tones

        from unnest(
            later.tone_kinds,
            later.tone_starts_s,
            later.tone_ends_s,
            later.tone_frequencies_hz,
            earlier.tone_starts_s,
            earlier.tone_ends_s,
            earlier.tone_frequencies_hz
        ) as tones (
            kind,
            later_start_s,
            later_end_s,
            later_frequency_hz,
            earlier_start_s,
            earlier_end_s,
            earlier_frequency_hz
        )
    ) as timeline

),

audio_matches as (

    select * from audio_pairs
    where onset_gap_s <= {{ onset_tolerance_s }}
        and duration_gap_s <= {{ duration_tolerance_s }}
        and speech_gap_s <= {{ speech_tolerance_s }}
        and tone_error_s <= {{ tone_tolerance_s }}
        and frequency_error_hz <= {{ frequency_tolerance_hz }}

),

match_embeddings as materialized (

    -- the vectors of the recordings whose audio matches another's, read twice below (materialized here, not
    -- every vector: PostgreSQL copied all of them, 1.6 KB each, to a temporary file before the join)
    select * from embeddings
    where audio_sha256 in (
        select audio_sha256 from audio_matches
        union
        select original_audio_sha256 from audio_matches
    )

),

reencoded_pairs as (

    select
        audio_matches.call_id,
        audio_matches.original_call_id,
        audio_matches.original_started_at,
        round((1 - (later_embedding.embedding <=> earlier_embedding.embedding))::numeric, 4) as similarity

    from audio_matches
    inner join match_embeddings as later_embedding
        on audio_matches.audio_sha256 = later_embedding.audio_sha256
    inner join match_embeddings as earlier_embedding
        on audio_matches.original_audio_sha256 = earlier_embedding.audio_sha256
        and later_embedding.embedding_model = earlier_embedding.embedding_model
    where (audio_matches.identifying_tones > 0 or audio_matches.sit_tones = 0)
        and round((1 - (later_embedding.embedding <=> earlier_embedding.embedding))::numeric, 4) >= case
            when audio_matches.identifying_tones > 0 then {{ timeline_similarity }}
            else {{ var('duplicate_similarity') }}
        end

),

reencoded as (

    select distinct on (reencoded_pairs.call_id)
        reencoded_pairs.call_id,
        reencoded_pairs.original_call_id,
        reencoded_pairs.similarity

    from reencoded_pairs
    left join identical
        on reencoded_pairs.call_id = identical.call_id
    where identical.call_id is null
    order by reencoded_pairs.call_id, reencoded_pairs.original_started_at, reencoded_pairs.original_call_id

),

final as (

    select
        call_id,
        original_call_id,
        'identical' as duplicate_kind,
        1.0::double precision as similarity

    from identical

    union all

    select
        call_id,
        original_call_id,
        'reencoded' as duplicate_kind,
        similarity::double precision as similarity

    from reencoded

)

select * from final
