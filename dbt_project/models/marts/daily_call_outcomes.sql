-- How calls ended, for dashboards: one row per day × calling branch × outcome (answered by a person,
-- voicemail, no answer, unreachable, not analysed), with the number of calls, their share of the
-- branch's calls that day, and average duration and talk time. Every call record counts once, whether or
-- not it is an attempt of an audited order.

with

calls as (

    select * from {{ ref('stg_raw__calls') }}

),

audio_files as (

    select * from {{ ref('stg_raw__audio_files') }}

),

latest_analysis as (

    select * from {{ ref('int_audio_analysis_latest') }}

),

duplicates as (

    select * from {{ ref('int_attempt_duplicates') }}

),

calls_heard as (

    select
        calls.call_id,
        calls.branch,
        (calls.started_at at time zone '{{ var("timezone") }}')::date as called_on,
        coalesce(latest_analysis.outcome, 'not_analysed') as outcome,
        calls.duration_s,
        latest_analysis.ring_bursts,
        -- talk time: from the first speech (after the last ring-back or voicemail beep) to the end of the recording
        case
            when latest_analysis.speech_onset_s is not null
                then greatest(audio_files.audio_duration_s - latest_analysis.speech_onset_s::numeric, 0)
        end as talk_s,
        duplicates.call_id is not null as is_duplicate

    from calls
    left join audio_files
        on calls.audio_path = audio_files.audio_path
    left join latest_analysis
        on audio_files.audio_sha256 = latest_analysis.audio_sha256
    left join duplicates
        on calls.call_id = duplicates.call_id

),

aggregated as (

    select
        called_on,
        branch,
        outcome,
        count(*)::integer as calls,
        count(*) filter (where is_duplicate)::integer as duplicate_calls,
        round(avg(duration_s), 1)::numeric(10, 1) as avg_duration_s,
        sum(duration_s)::numeric(12, 2) as total_duration_s,
        count(talk_s)::integer as calls_with_speech,
        round(avg(talk_s), 1)::numeric(10, 1) as avg_talk_s,
        coalesce(sum(talk_s), 0)::numeric(12, 2) as total_talk_s,
        round(avg(ring_bursts), 1)::numeric(6, 1) as avg_ring_bursts

    from calls_heard
    group by 1, 2, 3

),

final as (

    select
        concat_ws('|', called_on, coalesce(branch, '-'), outcome) as call_outcome_key,
        called_on,
        branch,
        outcome,
        outcome = 'answered' as is_answered,
        calls,
        (sum(calls) over branch_day)::integer as branch_day_calls,
        round(100.0 * calls / sum(calls) over branch_day, 1)::numeric(5, 1) as calls_pct,
        duplicate_calls,
        avg_duration_s,
        total_duration_s,
        calls_with_speech,
        avg_talk_s,
        total_talk_s,
        avg_ring_bursts

    from aggregated
    window branch_day as (partition by called_on, branch)

)

select * from final
