-- The input contract's cell values, typed in SQL. The loaders land each input file as text with COPY
-- (flows/landing.py) and type every row with one statement that calls these functions, so the database
-- types a million rows instead of one Python call per cell. Each kind of value has two functions: the
-- value (null when the cell breaks the contract) and the problem, a message that names the column and says
-- what to fix: the reason of the row's ops.rejects entry. The typing statement trims each cell once
-- (contract.trimmed) and asks for a problem only where the value is null; every function is a plain SQL
-- expression that PostgreSQL inlines into it, the common shape of each value first.
-- Dates and timestamps are read by PostgreSQL's own parser under the session settings the loader sets for
-- its transaction: DateStyle 'ISO, DMY' (20/11/2026 is day first) and TimeZone the deployment's (a
-- timestamp without an offset is local time there). pg_input_is_valid (PostgreSQL 16+) checks a cast
-- without raising an error.
do $$
begin
    if current_setting('server_version_num')::int < 160000 then
        raise exception 'callaudit needs PostgreSQL 16 or later (pg_input_is_valid); this server is %',
            current_setting('server_version');
    end if;
end
$$;

create schema if not exists contract;
grant usage on schema contract to callaudit_pipeline;

-- ------------------------------------------------------------------------------------------ text
-- A cell without surrounding white space (Python's str.strip: tab, new line, no-break space too).
create or replace function contract.trimmed(value text) returns text
language sql immutable parallel safe as $$
    select btrim(value, E' \t\n\r\f\v\u00a0')
$$;

-- A value quoted as the messages show it: '0612'.
create or replace function contract.quoted(value text) returns text
language sql immutable parallel safe as $$
    select '''' || value || ''''
$$;

create or replace function contract.required_problem(value text, column_name text) returns text
language sql immutable parallel safe as $$
    select case when coalesce(value, '') = '' then column_name || ' is empty' end
$$;

-- A NUL byte cannot be stored in text: the landing shows it as U+2400 (warehouse.rejects.printable).
create or replace function contract.has_nul(value text) returns boolean
language sql immutable parallel safe as $$
    select coalesce(strpos(value, U&'\2400') > 0, false)
$$;

-- ------------------------------------------------------------------------------------------ phone numbers
-- E.164 digits without '+' from the digits of a number: 0612345678 -> 212612345678, 00336… -> 336…, a
-- national number that lost its leading 0 (a spreadsheet stored it as a number) gets the country code too;
-- null outside 8 to 15 digits.
create or replace function contract.e164_digits(
    digits text, has_plus boolean, country_code text, national_length integer
) returns text
language sql immutable parallel safe as $$
    select case
        when has_plus then case when length(digits) between 8 and 15 then digits end
        when digits like '00%' then case when length(digits) between 10 and 17 then substr(digits, 3) end
        when digits like '0%' and length(digits) = national_length + 1 then
            case when length(country_code) + national_length between 8 and 15
                then country_code || substr(digits, 2) end
        when length(digits) = national_length then
            case when length(country_code) + national_length between 8 and 15 then country_code || digits end
        else case when length(digits) between 8 and 15 then digits end
    end
$$;

-- A trimmed cell as E.164: digits alone (the common shape), or digits with separators (space . - / ( ))
-- and an optional leading '+' (+33 6 12 34 56 78); null for anything else.
create or replace function contract.phone_e164(value text, country_code text, national_length integer)
returns text
language sql immutable parallel safe as $$
    select case
        when value ~ '^[0-9]+$' then contract.e164_digits(value, false, country_code, national_length)
        when value !~ '[^0-9[:space:]+()./-]' then
            contract.e164_digits(
                regexp_replace(value, '[^0-9]', '', 'g'), value like '+%', country_code, national_length
            )
    end
$$;

create or replace function contract.phone_problem(
    value text, column_name text, country_code text, national_length integer
) returns text
language sql immutable parallel safe as $$
    select case
        when coalesce(value, '') = '' then column_name || ': phone number is empty'
        when value ~ '[^0-9[:space:]+()./-]' then
            column_name || ': phone number ' || contract.quoted(value)
            || ' contains characters other than digits and separators'
        when value !~ '[0-9]' then column_name || ': phone number ' || contract.quoted(value) || ' has no digits'
        when contract.phone_e164(value, country_code, national_length) is null then
            column_name || ': phone number ' || contract.quoted(value) || ' gives '
            || contract.quoted(regexp_replace(value, '[^0-9]', '', 'g')) || ': E.164 numbers have 8 to 15 digits'
    end
$$;

-- ------------------------------------------------------------------------------------------ dates
-- A manifest date: day first (20/11/2026, 20-11-2026, 20.11.2026, 20/11/26), year first (2026-11-20,
-- 2026/11/20, 20261120), each with an optional time; or an Excel serial day number (20000-80000:
-- 1954-2119), as a spreadsheet stores a date cell without a date format. Words (today, epoch, a month's
-- name), which PostgreSQL's parser would also read, are not dates here: only digits and separators.
create or replace function contract.looks_like_date(value text) returns boolean
language sql immutable parallel safe as $$
    select length(value) >= 6 and translate(value, '0123456789/.-: T', '') = ''
$$;

create or replace function contract.to_date(value text) returns date
language sql stable parallel safe as $$
    select case
        when length(value) = 5 and translate(value, '0123456789', '') = '' then
            case when value::int between 20000 and 80000 then date '1899-12-30' + value::int end
        when contract.looks_like_date(value) and pg_input_is_valid(value, 'date') then value::date
    end
$$;

create or replace function contract.date_problem(value text, column_name text) returns text
language sql stable parallel safe as $$
    select case
        when coalesce(value, '') = '' then column_name || ' is empty'
        when contract.to_date(value) is not null then null
        when contract.looks_like_date(value) then
            column_name || ' ' || contract.quoted(value) || ' is not a calendar date'
        else column_name || ' ' || contract.quoted(value) || ' is not a date (expected dd/mm/yyyy or yyyy-mm-dd)'
    end
$$;

-- A date outside the accepted range (settings earliest_date / latest_date: 1900, 2999 are a typo or a
-- placeholder) quarantines its row.
create or replace function contract.bounds_problem(value date, column_name text, earliest date, latest date)
returns text
language sql immutable parallel safe as $$
    select case
        when value not between earliest and latest then
            column_name || ' ' || value::text || ' is outside the accepted dates ' || earliest::text || ' to '
            || latest::text || ' (CALLAUDIT_EARLIEST_DATE / CALLAUDIT_LATEST_DATE)'
    end
$$;

-- ------------------------------------------------------------------------------------------ timestamps
-- ISO 8601, a space for the T too (2026-11-20T09:30:00+01:00, 2026-11-20 09:30); one without an offset is
-- local time in the session's TimeZone, which the loader sets to the deployment's.
create or replace function contract.to_timestamptz(value text) returns timestamptz
language sql stable parallel safe as $$
    select case
        when value like '____-__-__%' and translate(value, '0123456789-:.,+ TZ', '') = ''
             and pg_input_is_valid(value, 'timestamptz')
            then value::timestamptz
    end
$$;

create or replace function contract.timestamp_problem(value text, column_name text) returns text
language sql stable parallel safe as $$
    select case
        when coalesce(value, '') = '' then column_name || ' is empty'
        when contract.to_timestamptz(value) is null then
            column_name || ' ' || contract.quoted(value) || ' is not ISO 8601 (e.g. 2026-11-20T09:30:00+01:00)'
    end
$$;

-- ------------------------------------------------------------------------------------------ durations
-- Seconds, with a decimal point or a comma; a day at most (86,400 s: more is a data error, not a call).
-- Never a cast that can fail, even where the planner folds a constant argument.
create or replace function contract.seconds_numeric(value text) returns numeric
language sql stable parallel safe as $$
    select (case when pg_input_is_valid(replace(value, ',', '.'), 'numeric')
                 then replace(value, ',', '.') end)::numeric
$$;

create or replace function contract.to_seconds(value text) returns double precision
language sql stable parallel safe as $$
    select case
        when contract.seconds_numeric(value) between 0 and 86400 then contract.seconds_numeric(value)::float8
    end
$$;

create or replace function contract.seconds_problem(value text, column_name text) returns text
language sql stable parallel safe as $$
    select case
        when contract.seconds_numeric(value) is null then
            column_name || ' ' || contract.quoted(coalesce(value, '')) || ' is not a number of seconds'
        when contract.seconds_numeric(value) = 'NaN' or contract.seconds_numeric(value) < 0 then
            column_name || ' ' || contract.quoted(value) || ' is negative or not a number'
        when contract.seconds_numeric(value) > 86400 then
            column_name || ' ' || contract.quoted(value) || ' is more than a day (86400 s): not a call''s length'
    end
$$;
