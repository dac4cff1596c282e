-- Schemas, the vector extension and the two roles of the warehouse.
-- callaudit_pipeline writes raw/vault/ops and builds the dbt schemas;
-- callaudit_analyst reads the marts and nothing else.
create extension if not exists vector;

do $$
begin
    if not exists (select from pg_roles where rolname = 'callaudit_pipeline') then
        create role callaudit_pipeline nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'callaudit_analyst') then
        create role callaudit_analyst nologin;
    end if;
end
$$;

create schema if not exists raw;
create schema if not exists vault;
create schema if not exists ops;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists seeds;

revoke all on schema raw, vault, ops, staging, intermediate, seeds from public;
grant usage, create on schema raw, vault, ops, staging, intermediate, marts, seeds to callaudit_pipeline;
grant usage on schema marts to callaudit_analyst;

-- Tables created later by the pipeline role in marts are readable by analysts;
-- dbt also grants select on each mart (grants config), whoever runs it.
alter default privileges for role callaudit_pipeline in schema marts grant select on tables to callaudit_analyst;
