-- Analysts see a keyed pseudonym of the customer's number, never the number (issue 18).
-- The pipeline fills this table before each dbt build (flows/pseudonyms.py): per client number of the
-- manifests, HMAC-SHA256 under a key that never enters the database (CALLAUDIT_PSEUDONYM_KEY, else derived
-- from the vault key). key_id is the key's fingerprint: rows under another key are recomputed. The table
-- lives in the vault schema: the mapping re-identifies a pseudonym, so only the pipeline reads it.
create table if not exists vault.client_pseudonyms (
    client_number  text        primary key,
    pseudonym      text        not null unique,
    key_id         text        not null,
    created_at     timestamptz not null default now()
);

revoke all on vault.client_pseudonyms from public, callaudit_analyst, callaudit_reviewer;
grant select, insert, update, delete on vault.client_pseudonyms to callaudit_pipeline;
