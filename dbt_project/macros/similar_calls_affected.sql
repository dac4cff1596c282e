{#- similar_calls' pre-hook on an incremental run: the recordings whose pairs of calls may have changed since
    the last run, in a temporary table `similar_calls_affected`, and every row that involves one of them
    (either side) deleted; the model then inserts the current pairs that involve one of them. A recording is
    affected when it was looked up by int_similar_transcripts since the last run (its neighbours, so its
    pairs, may have changed), or when one of its calls changed: a call of the table is gone, has another
    recording or was loaded again, or a call not in the table points to a recording that has pairs. A pair
    of two recordings that are not affected keeps its rows: its similarity comes from their own look-ups,
    and their calls did not change. A table built before these columns is built again whole. -#}
{% macro similar_calls_affected() %}
    {%- if similar_calls_is_keyed() %}
create temporary table similar_calls_affected on commit drop as
-- each input read once where it can (a CTE read twice is written to disk): ~1.7 s with nothing new on a
-- 100,000-call warehouse of 630,940 pairs, most of it each row's call checked against the current one
with

looked_up as (

    select distinct audio_sha256
    from {{ ref('int_similar_transcripts') }}
    where looked_up_at > (select coalesce(max(built_at), '-infinity'::timestamptz) from {{ this }})

),

calls as materialized (

    select
        call_id,
        audio_sha256,
        call_loaded_at

    from {{ ref('int_recorded_calls') }}

),

changed_calls as (

    -- a call of the table that is gone, has another recording, or was loaded again (the loader replaces
    -- every row of a changed file: its branch, client or start may have changed)
    select
        previous.audio_sha256,
        calls.audio_sha256 as current_audio_sha256

    from {{ this }} as previous
    left join calls
        on previous.call_id = calls.call_id
    where calls.call_id is null
        or calls.audio_sha256 <> previous.audio_sha256
        or calls.call_loaded_at <> previous.call_loaded_at

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

-- two deletes, each a join: with `in (…) or in (…)` PostgreSQL tests each row against the list, through a
-- hash only while the list fits in work_mem × hash_mem_multiplier (8 MB by default: 79,838 recordings did,
-- 99,455 did not), else by reading the list for every row — a new day of a 1,000,000-call warehouse (99,455
-- recordings looked up, 6.3 million rows) ran for more than seven minutes before it was stopped
delete from {{ this }} as previous
using similar_calls_affected as affected
where previous.audio_sha256 = affected.audio_sha256;

delete from {{ this }} as previous
using similar_calls_affected as affected
where previous.similar_audio_sha256 = affected.audio_sha256
    {%- elif is_incremental() %}
delete from {{ this }}
    {%- endif %}
{% endmacro %}

{#- Whether this incremental run of similar_calls can rebuild part of it: the table has the columns that
    say which pairs a run must rebuild (a table from before them is built again whole). -#}
{% macro similar_calls_is_keyed() %}
    {{ return(is_incremental_with('call_loaded_at')) }}
{% endmacro %}
