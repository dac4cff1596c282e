{#- similar_calls' pre-hook on an incremental run: the recordings whose pairs of calls may have changed since
    the last run, in a temporary table `similar_calls_affected`, and every row that involves one of them
    (either side) deleted; the model then inserts the current pairs that involve one of them. A recording is
    affected when it was looked up by int_similar_transcripts since the last run (its neighbours, so its
    pairs, may have changed), or when one of its calls changed: a call of the table no longer has the same
    recording, branch, client or start (or is gone), or a call not in the table points to a recording that
    has pairs. A pair of two recordings that are not affected keeps its rows: its similarity comes from their
    own look-ups, and their calls did not change. A table built before these columns is built again whole. -#}
{% macro similar_calls_affected() %}
    {%- if is_incremental() and 'similar_audio_sha256' in (
        adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
create temporary table similar_calls_affected on commit drop as
-- each input read once where it can (a CTE read twice is written to disk): ~1.7 s with nothing new on a
-- 100,000-call warehouse of 630,940 pairs, the most of it the calls of the table checked against their own
with

looked_up as (

    select distinct audio_sha256
    from {{ ref('int_similar_transcripts') }}
    where looked_up_at > (select coalesce(max(built_at), '-infinity'::timestamptz) from {{ this }})

),

calls as materialized (

    -- each call's digest computed once, not once per pair
    select
        call_id,
        audio_sha256,
        {{ similar_call_digest('int_recorded_calls') }} as call_md5

    from {{ ref('int_recorded_calls') }}

),

changed_calls as (

    -- a call of the table whose recording or details are not the ones it has now, or that is gone
    select
        previous.audio_sha256,
        calls.audio_sha256 as current_audio_sha256

    from {{ this }} as previous
    left join calls
        on previous.call_id = calls.call_id
    where calls.call_id is null
        or calls.audio_sha256 <> previous.audio_sha256
        or calls.call_md5 <> previous.call_md5

),

unpaired_calls as materialized (

    select audio_sha256
    from calls
    where not exists (select 1 from {{ this }} as previous where previous.call_id = calls.call_id)

),

new_calls as (

    -- a call not in the table whose recording has pairs (either side: two semi-joins, where one with an
    -- `or` had the planner test every call against every pair)
    select audio_sha256 from unpaired_calls
    where audio_sha256 in (
        select audio_sha256 from {{ ref('int_similar_transcripts') }}
        where similarity >= {{ var('similarity_threshold') }}
    )
    union
    select audio_sha256 from unpaired_calls
    where audio_sha256 in (
        select similar_audio_sha256 from {{ ref('int_similar_transcripts') }}
        where similarity >= {{ var('similarity_threshold') }}
    )

)

select audio_sha256 from looked_up
union
select audio_sha256 from changed_calls
union
select current_audio_sha256 from changed_calls where current_audio_sha256 is not null
union
select audio_sha256 from new_calls;

analyze similar_calls_affected;

delete from {{ this }}
where audio_sha256 in (select audio_sha256 from similar_calls_affected)
    or similar_audio_sha256 in (select audio_sha256 from similar_calls_affected)
    {%- elif is_incremental() %}
delete from {{ this }}
    {%- endif %}
{% endmacro %}

{#- What similar_calls shows of a call, as a digest: a change of any of these rebuilds its pairs. -#}
{% macro similar_call_digest(relation) -%}
    md5(concat_ws('|', {{ relation }}.branch, {{ relation }}.client_number, {{ relation }}.started_at))
{%- endmacro %}
