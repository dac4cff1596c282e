-- The QA scorecard of each answered call: for every item of the qa_items seed, met, not met or not
-- applicable, with the words that meet it (from the redacted transcript) and where in the recording (the
-- first transcript segment whose words meet it). An item is a regular expression over the folded words
-- (lower case, no accents, punctuation as spaces), read on the agent's lines in stereo and on the mix in
-- mono, where the customer's words can meet an item too; an item with applies_to_call_type applies to the
-- calls classified as that type only.

with

attempts as (

    select * from {{ ref('call_attempts') }}

),

items as (

    select * from {{ ref('qa_items') }}

),

current_transcripts as (

    select * from {{ ref('stg_raw__current_transcripts') }}

),

transcript_segments as (

    select * from {{ ref('stg_raw__transcript_segments') }}

),

answered_calls as (

    -- each answered, transcribed call once (a call can be an attempt of several orders)
    select distinct on (call_id)
        call_id,
        audio_sha256,
        call_type,
        is_classification_trusted,
        transcript_redacted

    from attempts
    where outcome = 'answered' and has_transcript and transcript_redacted is not null
    order by call_id

),

agent_words as (

    -- stereo: the agent's lines of the dialogue (the customer's dropped); mono: the whole mix
    select
        answered_calls.*,
        {{ fold("regexp_replace(regexp_replace(regexp_replace(transcript_redacted, '(^|\\n)client:[^\\n]*', ' ', 'g'), '(^|\\n)agent:', ' ', 'g'), '[^[:alnum:]_\\[\\]]+', ' ', 'g')") }}
            as folded_words

    from answered_calls

),

scored as (

    select
        agent_words.call_id,
        agent_words.audio_sha256,
        agent_words.is_classification_trusted,
        items.item_key,
        items.item_order,
        items.item_label,
        items.pattern,
        items.applies_to_call_type is null or agent_words.call_type = items.applies_to_call_type
            as is_applicable,
        -- the words that meet the item, with up to three words either side
        regexp_match(
            agent_words.folded_words, '((?:\S+ ){0,3}(?:' || items.pattern || ')(?: \S+){0,3})', 'i'
        ) as evidence

    from agent_words
    cross join items

),

segments as (

    -- the timed segments of the side the items are read on: the agent's channel in stereo, the mix in mono
    select
        transcript_segments.audio_sha256,
        transcript_segments.segment_index,
        transcript_segments.segment_start_s,
        transcript_segments.segment_end_s,
        {{ fold("regexp_replace(transcript_segments.segment_text, '[^[:alnum:]_\\[\\]]+', ' ', 'g')") }}
            as folded_words

    from transcript_segments
    inner join current_transcripts
        on transcript_segments.audio_sha256 = current_transcripts.audio_sha256
        and transcript_segments.asr_model_id = current_transcripts.asr_model_id
        and transcript_segments.asr_chunking_id = current_transcripts.asr_chunking_id
        and transcript_segments.transcript_channel
            = case when current_transcripts.transcript_channel = 'dialogue' then 'agent' else 'mix' end

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
    where scored.is_applicable and scored.evidence is not null
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
            when scored.evidence is not null then 'met'
            else 'not_met'
        end as qa_status,
        case when scored.is_applicable then scored.evidence[1] end as evidence_words,
        located.segment_start_s as evidence_start_s,
        located.segment_end_s as evidence_end_s,
        scored.is_classification_trusted

    from scored
    left join located
        on scored.call_id = located.call_id
        and scored.item_key = located.item_key

)

select * from final
