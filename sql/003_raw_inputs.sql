-- Raw inputs as loaded (header-mapped, parsed, nothing decided). dbt reads these as sources.
create table if not exists raw.manifest_rows (
    source_path        text        not null,
    row_number         integer     not null,
    order_type         text        not null,
    offer              text        not null,
    file_date          date        not null,
    order_id           text        not null,
    client_number      text        not null,
    client_number_raw  text        not null,
    ordered_on         date        not null,
    suspended_on       date        not null,
    status             text        not null,
    motif              text        not null,
    offer_label        text,
    loaded_at          timestamptz not null default now(),
    primary key (source_path, row_number)
);
create index if not exists manifest_rows_order_idx on raw.manifest_rows (order_type, order_id);

create table if not exists raw.calls (
    call_id            text             primary key,
    source_path        text             not null,
    row_number         integer          not null,
    branch             text             not null,
    caller_number      text             not null,
    client_number      text             not null,
    client_number_raw  text             not null,
    start_time         timestamptz      not null,
    duration_s         double precision not null check (duration_s >= 0),
    audio_path         text,
    loaded_at          timestamptz      not null default now()
);
create index if not exists calls_client_idx on raw.calls (client_number, start_time);

create table if not exists raw.audio_files (
    audio_path   text             primary key,
    audio_root   text             not null,
    sha256       text             not null,
    size_bytes   bigint           not null,
    etag         text             not null,
    duration_s   double precision not null,
    sample_rate  integer          not null,
    channels     integer          not null,
    frames       bigint           not null,
    format       text             not null,
    subtype      text             not null,
    loaded_at    timestamptz      not null default now()
);
create index if not exists audio_files_sha_idx on raw.audio_files (sha256);
