-- Conversation measures per recorded call, from the spans of speech the audio analysis found after the last
-- tone, joined into turns (a side's pause shorter than turn_pause_max_s while the other side is silent is part
-- of its turn; in mono, where nobody can tell who is silent, a pause shorter than mono_turn_pause_max_s): how
-- long each party talked (stereo: channel 0 the agent, 1 the customer; mono: the voices together,
-- party unknown), the silences between the first and the last word, the longest one, and, in stereo,
-- overtalk — both sides at once — and interruptions: a side starts while the other has been talking for at
-- least interruption_min_talk_s.
--
-- Incremental by call: each row keeps the digest of what it was measured from (the recording, its current
-- analysis — the speech spans are written with it — its channels, and the three variables below); a run
-- measures again the calls whose digest changed or that have no row, reading the spans of their recordings
-- only, and the post-hook drops the calls that are gone or no longer analysed.

{{ config(
    materialized='incremental',
    unique_key='call_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "delete from {{ this }} as measured where not exists (
            select 1 from {{ ref('int_recorded_calls') }} as calls
            where calls.call_id = measured.call_id and calls.tone_kinds is not null)",
    ],
) }}

{%- set min_talk_s = var('interruption_min_talk_s', 0.3) %}
{%- set turn_pause_s = var('turn_pause_max_s', 0.8) %}
{%- set mono_pause_s = var('mono_turn_pause_max_s', 0.4) %}
{#- A warehouse built before this model was incremental holds it without the digests: every call is measured
    once, as a full build does (every row is replaced, and the column is added). -#}
{%- set has_digests = is_incremental_with('measured_from_md5') %}

with

calls as (

    select * from {{ ref('int_recorded_calls') }}

),

audio_files as (

    select * from {{ ref('stg_raw__audio_files') }}

),

analysed_calls as (

    select
        calls.call_id,
        calls.audio_sha256,
        audio_files.channels,
        md5(concat_ws(
            '|', calls.audio_sha256, calls.detector_version, extract(epoch from calls.analysed_at),
            audio_files.channels, {{ min_talk_s }}, {{ turn_pause_s }}, {{ mono_pause_s }}
        )) as measured_from_md5

    from calls
    inner join audio_files
        on calls.audio_path = audio_files.audio_path
    where calls.tone_kinds is not null

),

measured_calls as (

    -- the calls to measure: on an incremental run, those whose digest changed or that have no row
    select * from analysed_calls
    {%- if has_digests %}
    where not exists (
        select 1 from {{ this }} as measured
        where measured.call_id = analysed_calls.call_id
            and measured.measured_from_md5 = analysed_calls.measured_from_md5
    )
    {%- endif %}

),

speech_segments as (

    -- the spans of their recordings
    select * from {{ ref('int_speech_segments_latest') }}
    where audio_sha256 in (select audio_sha256 from measured_calls)

),

recording_channels as (

    -- the files of a recording are the same bytes: the same channels
    select
        audio_sha256,
        max(channels) as channels

    from measured_calls
    group by audio_sha256

),

segments as (

    -- each span with the end of the same side's previous span
    select
        speech_segments.audio_sha256,
        speech_segments.audio_channel,
        speech_segments.speech_start_s,
        speech_segments.speech_end_s,
        recording_channels.channels,
        lag(speech_segments.speech_end_s) over (
            partition by speech_segments.audio_sha256, speech_segments.audio_channel
            order by speech_segments.speech_start_s
        ) as previous_end_s

    from speech_segments
    inner join recording_channels
        on speech_segments.audio_sha256 = recording_channels.audio_sha256

),

pauses as (

    -- a span continues its side's turn when the pause before it is short and nobody else spoke in it
    select
        segments.*,
        coalesce(
            segments.speech_start_s - segments.previous_end_s
                < case when segments.channels = 2 then {{ turn_pause_s }} else {{ mono_pause_s }} end
            and not exists (
                select 1
                from speech_segments as other
                where other.audio_sha256 = segments.audio_sha256
                    and other.audio_channel <> segments.audio_channel
                    and other.speech_start_s < segments.speech_start_s
                    and other.speech_end_s > segments.previous_end_s
            ),
            false
        ) as is_turn_continued

    from segments

),

numbered as (

    select
        pauses.*,
        count(*) filter (where not is_turn_continued) over (
            partition by audio_sha256, audio_channel order by speech_start_s
        ) as turn_number

    from pauses

),

turns as (

    select
        audio_sha256,
        audio_channel,
        turn_number,
        min(speech_start_s) as speech_start_s,
        max(speech_end_s) as speech_end_s

    from numbered
    group by audio_sha256, audio_channel, turn_number

),

ordered as (

    -- the spans of both channels in time order, with the furthest end reached before each one
    select
        audio_sha256,
        speech_start_s,
        speech_end_s,
        max(speech_end_s) over (
            partition by audio_sha256
            order by speech_start_s, speech_end_s
            rows between unbounded preceding and 1 preceding
        ) as reached_end_s

    from turns

),

islands as (

    -- someone talking: overlapping spans of either channel merged into one stretch of voice
    select
        audio_sha256,
        speech_start_s,
        speech_end_s,
        count(*) filter (where reached_end_s is null or speech_start_s > reached_end_s) over (
            partition by audio_sha256 order by speech_start_s, speech_end_s
        ) as island

    from ordered

),

voiced as (

    select
        audio_sha256,
        island,
        min(speech_start_s) as voiced_start_s,
        max(speech_end_s) as voiced_end_s

    from islands
    group by audio_sha256, island

),

silences as (

    select
        audio_sha256,
        voiced_start_s,
        voiced_end_s,
        lead(voiced_start_s) over (partition by audio_sha256 order by voiced_start_s) - voiced_end_s
            as silence_after_s

    from voiced

),

recording_talk as (

    select
        audio_sha256,
        count(*) as voiced_stretches,
        sum(voiced_end_s - voiced_start_s) as talk_s,
        min(voiced_start_s) as first_word_s,
        max(voiced_end_s) as last_word_s,
        coalesce(max(silence_after_s), 0) as longest_silence_s

    from silences
    group by audio_sha256

),

channel_talk as (

    select
        audio_sha256,
        count(*) as speech_turns,
        sum(speech_end_s - speech_start_s) filter (where audio_channel = 0) as channel_0_talk_s,
        sum(speech_end_s - speech_start_s) filter (where audio_channel = 1) as channel_1_talk_s

    from turns
    group by audio_sha256

),

crossings as (

    -- every pair of spans of the two channels that overlap in time
    select
        later.audio_sha256,
        least(later.speech_end_s, other.speech_end_s)
            - greatest(later.speech_start_s, other.speech_start_s) as overlap_s,
        later.speech_start_s >= other.speech_start_s + {{ min_talk_s }} as is_interruption

    from turns as later
    inner join turns as other
        on later.audio_sha256 = other.audio_sha256
        and later.audio_channel <> other.audio_channel
        and later.speech_start_s < other.speech_end_s
        and other.speech_start_s < later.speech_end_s
        and (later.speech_start_s, later.audio_channel) > (other.speech_start_s, other.audio_channel)

),

overtalk as (

    select
        audio_sha256,
        sum(overlap_s) as overtalk_s,
        count(*) filter (where is_interruption) as interruptions

    from crossings
    group by audio_sha256

),

final as (

    -- measures in seconds to the millisecond (numeric(12, 3) rounds)
    select
        calls.call_id,
        calls.audio_sha256,
        calls.channels = 2 as is_stereo,
        channel_talk.audio_sha256 is not null as has_speech,
        coalesce(channel_talk.speech_turns, 0)::integer as speech_turns,
        coalesce(recording_talk.talk_s, 0)::numeric(12, 3) as talk_s,
        case when calls.channels = 2
            then coalesce(channel_talk.channel_0_talk_s, 0)::numeric(12, 3) end as agent_talk_s,
        case when calls.channels = 2
            then coalesce(channel_talk.channel_1_talk_s, 0)::numeric(12, 3) end as customer_talk_s,
        case when calls.channels = 2 and channel_talk.audio_sha256 is not null
            then (coalesce(channel_talk.channel_0_talk_s, 0)
                / (coalesce(channel_talk.channel_0_talk_s, 0) + coalesce(channel_talk.channel_1_talk_s, 0))
            )::numeric(12, 3) end as agent_talk_share,
        recording_talk.first_word_s::numeric(12, 3) as first_word_s,
        recording_talk.last_word_s::numeric(12, 3) as last_word_s,
        (recording_talk.last_word_s - recording_talk.first_word_s - recording_talk.talk_s)::numeric(12, 3)
            as non_talk_s,
        case when recording_talk.last_word_s > recording_talk.first_word_s
            then (1 - recording_talk.talk_s
                / (recording_talk.last_word_s - recording_talk.first_word_s))::numeric(12, 3) end
            as non_talk_share,
        recording_talk.longest_silence_s::numeric(12, 3) as longest_silence_s,
        case when calls.channels = 2
            then coalesce(overtalk.overtalk_s, 0)::numeric(12, 3) end as overtalk_s,
        case when calls.channels = 2
            then coalesce(overtalk.interruptions, 0)::integer end as interruptions,
        calls.measured_from_md5

    from measured_calls as calls
    left join recording_talk
        on calls.audio_sha256 = recording_talk.audio_sha256
    left join channel_talk
        on calls.audio_sha256 = channel_talk.audio_sha256
    left join overtalk
        on calls.audio_sha256 = overtalk.audio_sha256

)

select * from final
