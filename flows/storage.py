"""Recordings live under an audio root: a local folder or ``s3://bucket/prefix`` (through prefect-aws)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flows.config import Settings

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}  # the input contract's formats


@dataclass(frozen=True)
class ObjectInfo:
    path: str  # relative to the audio root
    etag: str  # changes when the content changes (size+mtime locally, the ETag on S3)
    size_bytes: int


def local_etag(st: os.stat_result) -> str:
    """What changes when a local file's content does, without reading it: its size and mtime."""
    return f"{st.st_size}-{st.st_mtime_ns}"


class AudioRoot(Protocol):
    uri: str

    def stat(self, relative: str) -> ObjectInfo | None: ...

    def local_path(self, relative: str, info: ObjectInfo) -> Path: ...

    def listing(self) -> dict[str, ObjectInfo]: ...


class LocalAudioRoot:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser().resolve()
        self.uri = str(self.folder)

    def _path(self, relative: str) -> Path:
        path = (self.folder / relative).resolve()
        if self.folder not in path.parents:
            raise ValueError(f"audio_path {relative!r} points outside the audio root")
        return path

    def stat(self, relative: str) -> ObjectInfo | None:
        try:
            st = self._path(relative).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return ObjectInfo(relative, local_etag(st), st.st_size)

    def local_path(self, relative: str, info: ObjectInfo) -> Path:
        return self._path(relative)

    def listing(self) -> dict[str, ObjectInfo]:
        """Every recording under the folder (hidden files and partial uploads left out)."""
        found: dict[str, ObjectInfo] = {}
        for path in self.folder.rglob("*"):
            if path.suffix.lower() not in AUDIO_SUFFIXES or path.name.startswith(".") or not path.is_file():
                continue
            relative = path.relative_to(self.folder).as_posix()
            st = path.stat()
            found[relative] = ObjectInfo(relative, local_etag(st), st.st_size)
        return found


_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>[^\x00-\x1f]*))?$")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``; a ValueError saying what is wrong for anything else
    that names S3 (``s3:/b``, ``S3://b``, ``s3://``, ``s3://My_Bucket``): a typo stops a run before it
    starts."""
    match = _S3_URI.match(uri)
    if match is None:
        raise ValueError(
            f"{uri!r} is not an S3 location: use s3://bucket/prefix (bucket: 3-63 lower-case letters, "
            "digits, dots or hyphens)"
        )
    return match.group("bucket"), (match.group("prefix") or "").strip("/")


def is_s3(uri: str) -> bool:
    """``uri`` means S3 (well formed or not): it starts with ``s3:`` in any case."""
    return uri[:3].lower() == "s3:"


def s3_bucket(uri: str, settings: Settings):
    """The prefect-aws ``S3Bucket`` of ``s3://bucket/prefix`` (its folder set to the prefix) and the prefix,
    with the settings' credentials and endpoint."""
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.client_parameters import AwsClientParameters

    from flows.runtime import S3_TIMEOUTS

    bucket, prefix = parse_s3_uri(uri)
    credentials = AwsCredentials(
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
        region_name=settings.aws_region,
        aws_client_parameters=AwsClientParameters(endpoint_url=settings.s3_endpoint_url, config=S3_TIMEOUTS),
    )
    return S3Bucket(bucket_name=bucket, credentials=credentials, bucket_folder=prefix), prefix


class S3AudioRoot:
    """An S3 (or S3-compatible) prefix read through prefect-aws; objects are cached by ETag."""

    def __init__(self, uri: str, settings: Settings) -> None:
        self.uri = uri
        self.bucket, self.prefix = s3_bucket(uri, settings)
        self.cache = settings.audio_cache / hashlib.sha256(uri.encode()).hexdigest()[:16]
        self._listing: dict[str, ObjectInfo] | None = None

    def _list(self) -> dict[str, ObjectInfo]:
        if self._listing is None:
            listing: dict[str, ObjectInfo] = {}
            strip = f"{self.prefix}/" if self.prefix else ""
            for obj in self.bucket.list_objects():
                key = obj["Key"]
                relative = key[len(strip) :] if strip and key.startswith(strip) else key
                listing[relative] = ObjectInfo(relative, obj["ETag"].strip('"'), int(obj["Size"]))
            self._listing = listing
        return self._listing

    def stat(self, relative: str) -> ObjectInfo | None:
        return self._list().get(relative)

    def listing(self) -> dict[str, ObjectInfo]:
        return {k: v for k, v in self._list().items() if Path(k).suffix.lower() in AUDIO_SUFFIXES}

    def local_path(self, relative: str, info: ObjectInfo) -> Path:
        target = self.cache / info.etag / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + f".part{os.getpid()}")
            self.bucket.download_object_to_path(relative, partial)
            partial.replace(target)
        return target


def open_audio_root(uri: str, settings: Settings) -> AudioRoot:
    if is_s3(uri):
        return S3AudioRoot(uri, settings)
    return LocalAudioRoot(uri)


class AudioRoots:
    """The local file of a recording described in ``raw.audio_files``, each root opened once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._roots: dict[str, AudioRoot] = {}

    def local_path(self, root_uri: str, audio_path: str, etag: str, size_bytes: int) -> Path:
        root = self._roots.get(root_uri)
        if root is None:
            root = self._roots[root_uri] = open_audio_root(root_uri, self.settings)
        return root.local_path(audio_path, ObjectInfo(audio_path, etag, size_bytes))
