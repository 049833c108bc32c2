"""An S3 bucket (or an S3-compatible service) as the publish target: `s3://bucket/prefix`.

Credentials come from the standard AWS chain (environment, profile, SSO, instance or CI role).
Listeners never see the bucket's own URL: the show's `base_url` is what the feed and pages point
at, typically a CDN in front of the bucket.

An unchanged file is recognised without downloading it: the listing gives each object's size and
ETag, which is the MD5 of a file sent in one piece; a file sent in parts (or encrypted with KMS)
has another ETag, so every upload also stores the file's SHA-256 in its metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import boto3
import botocore.session
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from pipeline.build.files import file_digest
from pipeline.config import endpoint_problem
from pipeline.errors import PipelineError
from pipeline.rendering.layout import content_type

MiB = 1024 * 1024
SHA256_KEY = "sha256"  # object metadata: x-amz-meta-sha256

# Media keeps its URL when it is re-mastered, so "long-lived" means a month, not "immutable".
MEDIA_CACHE = "public, max-age=2592000"
# The feed, the pages, the transcripts and catalogue.json change with every correction.
TEXT_CACHE = "public, max-age=300"

# Read-only from any site, with the Range header of a player seeking in the audio, and the
# headers a player reads back (the bucket's whole CORS configuration: `publish cors` sets it).
CORS_RULES = [{
    "AllowedMethods": ["GET", "HEAD"],
    "AllowedOrigins": ["*"],
    "AllowedHeaders": ["Range", "If-None-Match", "If-Modified-Since"],
    "ExposeHeaders": ["Accept-Ranges", "Content-Length", "Content-Range", "ETag"],
    "MaxAgeSeconds": 86400,
}]


def _same_rule(rule: dict, wanted: dict) -> bool:
    """Whether an existing CORS rule is this one (the lists in any order, an ID aside)."""
    def canonical(r: dict) -> dict:
        return {k: sorted(v) if isinstance(v, list) else v for k, v in r.items() if k != "ID"}

    return canonical(rule) == canonical(wanted)


def cache_control(name: str) -> str:
    media = content_type(name).startswith(("audio/", "image/", "video/"))
    return MEDIA_CACHE if media else TEXT_CACHE


class _VersionChanged(PipelineError):
    """A conditional write lost to another publisher's."""


@dataclass(frozen=True)
class _Remote:
    """What the bucket listing says about one object."""

    etag: str
    size: int


class S3Folder:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        part_size: int = 16 * MiB,
    ):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        problem = endpoint_problem(endpoint_url) if endpoint_url is not None else None
        if problem:  # the show file's is checked at load: this is for a caller's own
            raise PipelineError(self.url(), f"s3_endpoint_url: {problem}")
        config = Config(
            # "standard" retries throttling, 5xx and dropped connections with jittered backoff.
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=10,
            read_timeout=60,
            # Most S3-compatible services (MinIO, Ceph, R2...) want bucket names in the path.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        # A session of its own: credentials are looked up now, not reused from an earlier client.
        botocore_session = botocore.session.get_session()
        # Nothing here reads LastModified, and parsing it with dateutil for every listed object
        # costs more than the listing request itself on a large catalogue.
        botocore_session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=str
        )
        session = boto3.session.Session(botocore_session=botocore_session)
        try:
            self.client = session.client(
                "s3", region_name=region, endpoint_url=endpoint_url, config=config
            )
        except ValueError:  # a malformed region name (boto's message would quote the endpoint)
            raise PipelineError(self.url(), "check s3_region and s3_endpoint_url (not printed: it may "
                                "hold a secret)") from None
        self.transfer = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size)
        self._listing: dict[str, _Remote] | None = None

    @classmethod
    def from_url(cls, url: str, **options) -> S3Folder:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise PipelineError(url, "not an S3 destination; write it s3://bucket/prefix")
        if parsed.query or parsed.fragment or parsed.params or any(
                part in (".", "..") for part in parsed.path.split("/")):
            # S3 keeps such names literally ("../x/feed.xml"): nothing a listener could reach.
            raise PipelineError(url, "the prefix may not hold '.', '..', '?' or '#'; write it s3://bucket/folder/sub")
        return cls(parsed.netloc, parsed.path, **options)

    def url(self, name: str = "") -> str:
        return f"s3://{self.bucket}/{self._key(name)}"

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    @contextmanager
    def _errors(self, name: str = "") -> Iterator[None]:
        """S3's failures as one line naming the object: the producer needs what to fix, not a trace."""
        where = self.url(name)
        try:
            yield
        except NoCredentialsError:
            raise PipelineError(where, "no AWS credentials found: set AWS_PROFILE, or "
                                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise _VersionChanged(where, code) from None
            if code == "NoSuchBucket":
                message = f"bucket '{self.bucket}' does not exist: create it or fix the destination"
            elif code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                message = f"access refused ({code}): check the AWS credentials and the bucket's policy"
            else:
                message = f"{code}: {error.response.get('Error', {}).get('Message', error)}"
            raise PipelineError(where, message) from None
        except (BotoCoreError, S3UploadFailedError) as error:
            raise PipelineError(where, str(error)) from None

    def show_lock(self):
        return nullcontext()  # S3 has no locks: put_if_version's conditional writes serialise

    def read_versioned(self, name: str) -> tuple[bytes | None, str | None]:
        with self._errors(name):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
            except self.client.exceptions.NoSuchKey:
                return None, None
            return response["Body"].read(), response["ETag"]

    def put_if_version(self, name: str, path: Path, version: str | None) -> str | None:
        """A conditional write (If-Match on the ETag read, or If-None-Match: * for a first one),
        which S3 applies atomically: a lost race answers 412 (or 409 for a concurrent write)."""
        condition = {"IfMatch": version} if version else {"IfNoneMatch": "*"}
        try:
            with self._errors(name), path.open("rb") as body:
                response = self.client.put_object(
                    Bucket=self.bucket, Key=self._key(name), Body=body, ContentType=content_type(name),
                    CacheControl=cache_control(name), Metadata={SHA256_KEY: file_digest(path)}, **condition,
                )
        except _VersionChanged:
            return None
        self._listing = None
        return response["ETag"]

    def cors_rules(self) -> list[dict]:
        """The bucket's CORS rules now (none: an empty list)."""
        with self._errors():
            try:
                return self.client.get_bucket_cors(Bucket=self.bucket).get("CORSRules", [])
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NoSuchCORSConfiguration":
                    return []
                raise

    def rules_with_reads_from_any_site(self) -> list[dict]:
        """The bucket's rules with the one the published files need added (CORS is bucket-wide:
        another site's rules, a PUT from an upload page, are kept)."""
        existing = self.cors_rules()
        return existing if any(_same_rule(rule, CORS_RULES[0]) for rule in existing) else [*existing, *CORS_RULES]

    def set_cors_rules(self, rules: list[dict]) -> None:
        with self._errors():
            self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": rules})

    def _remote(self) -> dict[str, _Remote]:
        """Every object under the prefix; listed again after put or delete."""
        if self._listing is None:
            root = self._key("")  # the trailing "/" keeps "podcast-old/" out of "podcast"
            listing = {}
            with self._errors():
                pages = self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=root
                )
                for page in pages:
                    for item in page.get("Contents", []):
                        listing[item["Key"][len(root):]] = _Remote(item["ETag"].strip('"'), item["Size"])
            self._listing = listing
        return self._listing

    def read(self, name: str) -> bytes | None:
        if name not in self._remote():
            return None
        with self._errors(name):
            try:
                return self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
            except self.client.exceptions.NoSuchKey:
                return None

    def names(self, suffix: str = "") -> list[str]:
        return sorted(name for name in self._remote() if name.endswith(suffix))

    def changed(self, files: dict[str, Path]) -> list[str]:
        return [name for name, path in files.items() if not self._unchanged(name, path)]

    def _unchanged(self, name: str, path: Path) -> bool:
        remote = self._remote().get(name)
        if remote is None or remote.size != path.stat().st_size:
            return False
        if "-" not in remote.etag and remote.etag == file_digest(path, "md5"):
            return True
        with self._errors(name):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        return head["Metadata"].get(SHA256_KEY) == file_digest(path)

    def put(self, files: dict[str, Path]) -> None:
        for name, path in files.items():
            extra = {
                "ContentType": content_type(name),
                "CacheControl": cache_control(name),
                "Metadata": {SHA256_KEY: file_digest(path)},
            }
            with self._errors(name):
                self.client.upload_file(
                    str(path), self.bucket, self._key(name), ExtraArgs=extra, Config=self.transfer
                )
            self._listing = None  # listed again if asked: a multipart upload's ETag is S3's to tell

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), 1000):  # DeleteObjects takes at most 1000 keys
            batch = names[start:start + 1000]
            with self._errors():
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": self._key(n)} for n in batch], "Quiet": True},
                )
            if response.get("Errors"):
                error = response["Errors"][0]
                raise PipelineError(
                    f"s3://{self.bucket}/{error['Key']}", f"could not delete it: {error['Code']}"
                )
        self._listing = None
