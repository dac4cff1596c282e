-- Each recording's spans of speech, per channel, as the audio analysis found them (after the last tone):
-- what the transcriber listens to, read here instead of analysing the recording a second time, and the
-- material of talk time, silences and overtalk per party. Keyed like raw.audio_tones: a new detector
-- version writes its own rows. An analysis with speech (speech_onset_s not null) and no row here was made
-- before this table existed; the transcriber then finds the spans itself.
create table if not exists raw.speech_segments (
    sha256           text             not null,
    detector_version text             not null,
    channel          smallint         not null check (channel >= 0),
    start_s          double precision not null check (start_s >= 0),
    end_s            double precision not null,
    primary key (sha256, detector_version, channel, start_s),
    check (end_s > start_s)
);
