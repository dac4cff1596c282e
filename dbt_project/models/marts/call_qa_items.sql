-- The QA scorecard of each answered call: for every item of the qa_items seed, met, not met or not
-- applicable, with the words that meet it (from the redacted transcript) and where in the recording (the
-- first transcript segment whose words meet it). An item is a regular expression over the folded words
-- (lower case, no accents, punctuation as spaces), read on the agent's lines in stereo and on the mix in
-- mono, where the customer's words can meet an item too; an item with applies_to_call_type applies to the
-- calls classified as that type only.
--
-- Incremental: each row keeps the digest of what it was scored from (the call's recording, current
-- transcript, redacted words, call type and its trust, and the whole qa_items seed); a run scores again
-- the calls whose digest changed or that have no rows, and the post-hook drops the calls that are no
-- longer answered and transcribed. An edited seed changes every digest: every call is scored again.
--
-- The evidence is cut from the word list around the item's first match (one regular-expression call per
-- applicable item, a second where it matched): one expression capturing up to three words either side of
-- the pattern cost ~135 µs per call and item in PostgreSQL's backtracking matcher, 60 s of a 100k-call
-- build. Where the pattern matches twice within three words, the evidence now stops three words after the
-- first match (that expression ran on to three words after the second).

{{ config(
    materialized='incremental',
    unique_key='call_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "delete from {{ this }} as scored where not exists (
            select 1 from {{ ref('call_attempts') }} as attempts
            where attempts.call_id = scored.call_id and attempts.outcome = 'answered'
                and attempts.has_transcript and attempts.transcript_redacted is not null)",
    ],
) }}

{#- A warehouse built before this model was incremental holds it without the digests: score every call
    once, as a full build does (every row is replaced, and the column is added). -#}
{%- set has_digests = is_incremental_with('scored_from_md5') %}

with

attempts as (

    select * from {{ ref('call_attempts') }}

),

items as (

    select * from {{ ref('qa_items') }}

),

transcripts as (

    select * from {{ ref('int_transcripts_latest') }}

),

transcript_segments as (

    select * from {{ ref('stg_raw__transcript_segments') }}

),

items_digest as (

    select md5(string_agg(
        concat_ws('|', item_key, item_order, item_label, applies_to_call_type, pattern), E'\n' order by item_key
    )) as items_md5

    from items

),

answered_calls as (

    -- each answered, transcribed call once (a call can be an attempt of several orders)
    select distinct on (attempts.call_id)
        attempts.call_id,
        attempts.audio_sha256,
        attempts.call_type,
        attempts.is_classification_trusted,
        attempts.transcript_redacted,
        transcripts.asr_model_id,
        transcripts.asr_chunking_id,
        case when transcripts.transcript_channel = 'dialogue' then 'agent' else 'mix' end as segment_channel,
        md5(concat_ws(
            '|', attempts.audio_sha256, transcripts.asr_model_id, transcripts.asr_chunking_id,
            transcripts.transcript_channel, attempts.call_type, attempts.is_classification_trusted,
            items_digest.items_md5, attempts.transcript_redacted
        )) as scored_from_md5

    from attempts
    left join transcripts
        on attempts.audio_sha256 = transcripts.audio_sha256
    cross join items_digest
    where attempts.outcome = 'answered' and attempts.has_transcript and attempts.transcript_redacted is not null
    order by attempts.call_id

),

pending_calls as (

    select * from answered_calls
    {% if has_digests %}
    where not exists (
        select 1 from {{ this }} as scored
        where scored.call_id = answered_calls.call_id and scored.scored_from_md5 = answered_calls.scored_from_md5
    )
    {% endif %}

),

agent_words as materialized (

    -- stereo: the agent's lines of the dialogue (the customer's dropped); mono: the whole mix. Materialised:
    -- read once, PostgreSQL would inline it and fold each call's words once per item.
    select
        pending_calls.*,
        {{ fold("regexp_replace(regexp_replace(regexp_replace(transcript_redacted, '(^|\\n)client:[^\\n]*', ' ', 'g'), '(^|\\n)agent:', ' ', 'g'), '[^[:alnum:]_\\[\\]]+', ' ', 'g')") }}
            as folded_words

    from pending_calls

),

call_items as (

    select
        agent_words.*,
        items.item_key,
        items.item_order,
        items.item_label,
        items.pattern,
        items.applies_to_call_type is null or agent_words.call_type = items.applies_to_call_type
            as is_applicable

    from agent_words
    cross join items

),

matched as materialized (

    -- where each applicable item first matches the folded words (0: nowhere, or not applicable);
    -- materialised so that the match is computed once, not once per use below
    select
        call_items.*,
        case
            when call_items.is_applicable
                then regexp_instr(call_items.folded_words, call_items.pattern, 1, 1, 0, 'i')
            else 0
        end as match_at

    from call_items

),

scored as (

    -- the words that meet the item, with up to three words either side: folded words are separated by
    -- one space, so the match's first word is the one after the spaces before it, its last word that many
    -- words further as the match has spaces
    select
        matched.*,
        array_to_string(
            (string_to_array(matched.folded_words, ' '))[greatest(found.first_word - 3, 1) : found.last_word + 3],
            ' '
        ) as evidence_words

    from matched
    left join lateral (
        select
            first_word,
            first_word + length(match_text) - length(replace(match_text, ' ', '')) as last_word
        from (
            select
                1 + length(left(matched.folded_words, matched.match_at - 1))
                - length(replace(left(matched.folded_words, matched.match_at - 1), ' ', '')) as first_word,
                regexp_substr(matched.folded_words, matched.pattern, 1, 1, 'i') as match_text
        ) as match
    ) as found
        on matched.match_at > 0

),

segments as (

    -- the timed segments of the side the items are read on (the agent's channel in stereo, the mix in
    -- mono) of the calls scored now
    select
        transcript_segments.audio_sha256,
        transcript_segments.segment_index,
        transcript_segments.segment_start_s,
        transcript_segments.segment_end_s,
        {{ fold("regexp_replace(transcript_segments.segment_text, '[^[:alnum:]_\\[\\]]+', ' ', 'g')") }}
            as folded_words

    from transcript_segments
    inner join pending_calls
        on transcript_segments.audio_sha256 = pending_calls.audio_sha256
        and transcript_segments.asr_model_id = pending_calls.asr_model_id
        and transcript_segments.asr_chunking_id = pending_calls.asr_chunking_id
        and transcript_segments.transcript_channel = pending_calls.segment_channel

),

located as (

    -- the first segment whose words meet the item
    select distinct on (scored.call_id, scored.item_key)
        scored.call_id,
        scored.item_key,
        segments.segment_start_s,
        segments.segment_end_s

    from scored
    inner join segments
        on scored.audio_sha256 = segments.audio_sha256
        and segments.folded_words ~* scored.pattern
    where scored.evidence_words is not null
    order by scored.call_id, scored.item_key, segments.segment_index

),

final as (

    select
        scored.call_id || '|' || scored.item_key as qa_item_key,
        scored.call_id,
        scored.item_key,
        scored.item_order,
        scored.item_label,
        scored.is_applicable,
        case
            when not scored.is_applicable then 'not_applicable'
            when scored.evidence_words is not null then 'met'
            else 'not_met'
        end as qa_status,
        scored.evidence_words,
        located.segment_start_s as evidence_start_s,
        located.segment_end_s as evidence_end_s,
        scored.is_classification_trusted,
        scored.scored_from_md5

    from scored
    left join located
        on scored.call_id = located.call_id
        and scored.item_key = located.item_key

)

select * from final
