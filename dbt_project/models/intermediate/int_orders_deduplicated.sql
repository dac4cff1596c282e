-- One row per audited order: rows with the audited status, each order once (the latest file's row wins),
-- with the rules that apply to it (expected branch, motif rule).

-- A table, analysed once built: as a view PostgreSQL estimated the audited orders (a status filter, then
-- the first row of each order) at one row for 30,000, and planned every model above it as nested loops.

{{ config(materialized='table') }}

with

manifest_rows as (

    select * from {{ ref('stg_raw__manifest_rows') }}

),

branch_map as (

    select * from {{ ref('branch_map') }}

),

motif_rules as (

    select * from {{ ref('motif_rules') }}

),

pseudonyms as (

    select * from {{ ref('stg_vault__client_pseudonyms') }}

),

audited_rows as (

    select
        *,
        {{ fold('motif') }} as motif_folded

    from manifest_rows
    where {{ fold('status') }} = {{ fold("'" ~ var('audited_status') ~ "'") }}

),

ranked_rows as (

    select
        *,
        row_number() over (
            partition by order_type, order_id
            order by file_date desc, source_file desc, source_row desc
        ) as row_rank,
        count(*) over (partition by order_type, order_id) as listed_times

    from audited_rows

),

deduplicated as (

    select * from ranked_rows where row_rank = 1

),

final as (

    select
        deduplicated.order_type || ':' || deduplicated.order_id as order_key,
        deduplicated.order_id,
        deduplicated.order_type,
        deduplicated.offer,
        deduplicated.client_number,
        pseudonyms.client_pseudonym,
        deduplicated.ordered_on,
        deduplicated.suspended_on,
        deduplicated.motif,
        motif_matches.motif_key,
        coalesce(motif_matches.min_attempts, 1) as min_attempts,
        motif_matches.expected_call_type,
        branch_map.expected_branch,
        deduplicated.listed_times,
        deduplicated.source_file,
        deduplicated.file_date

    from deduplicated
    -- the first rule (by priority) whose pattern the motif matches: a lookup per order in the few rules,
    -- not a join of the orders with a list of their matches (which the planner rescanned once per order)
    left join lateral (
        select
            motif_rules.motif_key,
            motif_rules.min_attempts,
            motif_rules.expected_call_type

        from motif_rules
        where deduplicated.motif_folded like motif_rules.motif_pattern
        order by motif_rules.priority
        limit 1
    ) as motif_matches on true
    left join branch_map
        on deduplicated.order_type = branch_map.order_type
        and deduplicated.offer = branch_map.offer
    left join pseudonyms
        on deduplicated.client_number = pseudonyms.client_number

)

select * from final
