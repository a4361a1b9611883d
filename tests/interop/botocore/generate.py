#!/usr/bin/env python3
"""Generate golden S3 SigV4 fixtures with the real botocore (pinned in
requirements.txt).  Run through generate.sh; see README.md for the schemas.

Offline and deterministic:
  * botocore's clock (``get_current_datetime``, imported by name into
    botocore.auth / botocore.signers / botocore.endpoint / botocore.utils) is
    replaced by a frozen clock set per case; every output is checked to carry
    that time;
  * the random ``amz-sdk-invocation-id`` (a signed header) comes from a uuid5 of
    the case name;
  * User-Agent is fixed through Config(user_agent=...);
  * no request leaves the process: a ``before-send`` handler records the
    prepared request and answers with a fake 200 AWSResponse;
  * the caller's AWS_* environment and ~/.aws files are ignored.
Every URL / request / form is re-verified by sigv4_check.py (plain hmac and
hashlib); any mismatch aborts the run.
"""

import os
import sys

# Isolate from the caller's AWS configuration before botocore is imported.
for _k in [k for k in os.environ if k.startswith(("AWS_", "BOTO_"))]:
    del os.environ[_k]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import argparse  # noqa: E402
import base64  # noqa: E402
import copy  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import types  # noqa: E402
import unicodedata  # noqa: E402
import uuid  # noqa: E402
import zlib  # noqa: E402
from urllib.parse import quote, urlsplit  # noqa: E402

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.compat  # noqa: E402
import botocore.endpoint  # noqa: E402
import botocore.handlers  # noqa: E402
import botocore.httpsession  # noqa: E402
import botocore.session  # noqa: E402
import botocore.signers  # noqa: E402
import botocore.utils  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.config import Config  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sigv4_check as chk  # noqa: E402

USER_AGENT = "presign-fixture-generator"


def pinned_botocore_version():
    with open(os.path.join(HERE, "requirements.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("botocore=="):
                return line.split("==", 1)[1].split()[0].strip()
    raise SystemExit("botocore pin not found in requirements.txt")


def fail(msg):
    raise SystemExit("FIXTURE CHECK FAILED: " + msg)


def require(cond, msg):
    if not cond:
        fail(msg)


# ------------------------------------------------------------------ patches


class Frozen:
    now = None  # naive UTC datetime
    case = None  # current case name


def _frozen_now(remove_tzinfo=True):
    if Frozen.now is None:
        fail("botocore read the clock outside a case")
    if remove_tzinfo:
        return Frozen.now
    return Frozen.now.replace(tzinfo=datetime.timezone.utc)


_REAL_NOW = botocore.compat.get_current_datetime
_PATCHED = []
for _name, _mod in sorted(sys.modules.items()):
    if _name.startswith("botocore") and getattr(_mod, "get_current_datetime", None) is _REAL_NOW:
        _mod.get_current_datetime = _frozen_now
        _PATCHED.append(_name)
for _needed in ("botocore.compat", "botocore.auth", "botocore.signers", "botocore.endpoint"):
    require(_needed in _PATCHED, "clock not patched in " + _needed)

_UUID_NS = uuid.UUID("6f1d3a4e-9a53-4c1e-8b1e-5f0c2e9d7a10")


def _fixed_uuid4():
    if Frozen.case is None:
        fail("uuid4 used outside a case")
    return uuid.uuid5(_UUID_NS, Frozen.case)


botocore.endpoint.uuid = types.SimpleNamespace(uuid4=_fixed_uuid4)
botocore.handlers.uuid = types.SimpleNamespace(uuid4=_fixed_uuid4)

# Record what the query signer signed (method, URL, header values).
SIGN_LOG = []
_orig_add_auth = botocore.auth.S3SigV4QueryAuth.add_auth


def _logged_add_auth(self, request):
    _orig_add_auth(self, request)
    SIGN_LOG.append(
        {
            "cls": type(self).__name__,
            "method": request.method,
            "url": request.url,
            "headers": [(k, _hval(v)) for k, v in request.headers.items()],
        }
    )


botocore.auth.S3SigV4QueryAuth.add_auth = _logged_add_auth

LAST_CANONICAL = [None]
_orig_creq = botocore.auth.SigV4Auth.canonical_request


def _logged_creq(self, request):
    r = _orig_creq(self, request)
    LAST_CANONICAL[0] = r
    return r


botocore.auth.SigV4Auth.canonical_request = _logged_creq


def _hval(v):
    if isinstance(v, bytes):
        v = v.decode("utf-8")
    require(isinstance(v, str), "header value type %r" % type(v))
    return v


# Capture prepared requests instead of sending them.
SENT = []


class _EmptyRaw:
    def stream(self, *a, **k):
        return iter(())

    def read(self, *a, **k):
        return b""

    def close(self):
        pass


def _before_send(request, **kwargs):
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        pos = body.tell() if hasattr(body, "tell") else None
        data = body.read()
        if pos is not None:
            body.seek(pos)
    SENT.append(
        {
            "method": request.method,
            "url": request.url,
            "headers": [(k, _hval(v)) for k, v in request.headers.items()],
            "body": data,
        }
    )
    return AWSResponse(request.url, 200, {}, _EmptyRaw())


# ------------------------------------------------------------------ clients

SESSION = botocore.session.Session()
_CLIENTS = {}

DEFAULT_CFG = {
    "request_checksum_calculation": "when_supported",
    "response_checksum_validation": "when_supported",
    "payload_signing_enabled": None,
}


def client_for(c):
    cfg = c.get("client_config") or DEFAULT_CFG
    key = (
        c["access_key_id"],
        c["secret_access_key"],
        c["session_token"],
        c["region"],
        c["endpoint_url"],
        c["addressing_style"],
        tuple(sorted(cfg.items())),
    )
    if key not in _CLIENTS:
        s3cfg = {"addressing_style": c["addressing_style"]}
        if cfg["payload_signing_enabled"] is not None:
            s3cfg["payload_signing_enabled"] = cfg["payload_signing_enabled"]
        client = SESSION.create_client(
            "s3",
            region_name=c["region"],
            endpoint_url=c["endpoint_url"],
            aws_access_key_id=c["access_key_id"],
            aws_secret_access_key=c["secret_access_key"],
            aws_session_token=c["session_token"],
            config=Config(
                signature_version="s3v4",
                s3=s3cfg,
                user_agent=USER_AGENT,
                request_checksum_calculation=cfg["request_checksum_calculation"],
                response_checksum_validation=cfg["response_checksum_validation"],
                retries={"mode": "standard", "total_max_attempts": 1},
            ),
        )
        client.meta.events.register("before-send.s3", _before_send)
        _CLIENTS[key] = client
    return _CLIENTS[key]


def set_case(name, signing_time):
    Frozen.case = name
    Frozen.now = datetime.datetime.strptime(signing_time, "%Y%m%dT%H%M%SZ")


def clear_case():
    Frozen.case = None
    Frozen.now = None


# ------------------------------------------------------------------ host rules

OP_METHOD = {
    "GetObject": ("get_object", "GET"),
    "HeadObject": ("head_object", "HEAD"),
    "PutObject": ("put_object", "PUT"),
    "DeleteObject": ("delete_object", "DELETE"),
    "ListObjectsV2": ("list_objects_v2", "GET"),
    "CreateMultipartUpload": ("create_multipart_upload", "POST"),
    "UploadPart": ("upload_part", "PUT"),
    "CompleteMultipartUpload": ("complete_multipart_upload", "POST"),
    "AbortMultipartUpload": ("abort_multipart_upload", "DELETE"),
    "ListParts": ("list_parts", "GET"),
}


def aws_base_host(region):
    if region == "us-east-1":
        return "s3.amazonaws.com"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return "s3.%s.%s" % (region, suffix)


def expected_url_prefix(c):
    """(scheme, netloc, path prefix) that the crate's host rules give."""
    if c["endpoint_url"] is None:
        scheme, base = "https", aws_base_host(c["region"])
    else:
        p = urlsplit(c["endpoint_url"])
        scheme, base = p.scheme, p.netloc
    if c["addressing_style"] == "virtual":
        return scheme, "%s.%s" % (c["bucket"], base), ""
    return scheme, base, "/" + c["bucket"]


def expected_path(c):
    _, _, prefix = expected_url_prefix(c)
    if c["key"] is None:
        return prefix or "/"
    return prefix + "/" + quote(c["key"].encode("utf-8"), safe="/~")


def check_url_shape(c, url):
    scheme, netloc, _ = expected_url_prefix(c)
    p = urlsplit(url)
    require(p.scheme == scheme, "%s: scheme %r" % (c["name"], url))
    require(p.netloc == netloc, "%s: host %r, want %r" % (c["name"], p.netloc, netloc))
    require(p.path == expected_path(c), "%s: path %r, want %r" % (c["name"], p.path, expected_path(c)))


# ------------------------------------------------------------------ inputs

DOC = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
ALT = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
MINIO = ("minioadmin", "minioadmin")
ODD = ("AKIA0123456789ABCDEF", "a+b/c=d+e/f=g+h/i=j+k/l=m+n/o=p+q/r=s+t/")
CREDS = [DOC, ALT, MINIO, ODD]


def _long_token():
    raw = b"".join(hashlib.sha256(b"fixture-token-%d" % i).digest() for i in range(20))
    return "IQoJb3JpZ2luX2Vj" + base64.b64encode(raw).decode()


TOKENS = {
    "tok-simple": "SESSION/TOKEN+==",
    "tok-slash-plus-eq": "FwoGZXIvYXdzEXAMPLE//////////wEaDFAKE+TOKEN/VALUE+abc==",
    "tok-long": _long_token(),
    "tok-pct-space": "token with space%20and%2Fpct",
}

T_DOC = "20130524T000000Z"
TIMES = [
    T_DOC,
    "20240229T235959Z",  # leap day
    "20231231T235959Z",  # last second of a year
    "20240101T000000Z",  # first second of a year
    "19991231T235959Z",
    "20000229T120000Z",
    "20250704T123456Z",
]
EXPIRIES = [1, 900, 3600, 86400, 604800]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]
ENDPOINTS = [
    "http://127.0.0.1:9000",
    "http://localhost:9000",
    "https://storage.example.com:8443",
    "https://storage.example.com:443",
]

HARD_KEYS = [
    ("plain", "test.txt"),
    ("space", "my file.txt"),
    ("plus", "a+b c+d.txt"),
    ("tilde", "~user/file~1.txt"),
    ("pct-100", "100%"),
    ("pct-a20b", "a%20b"),
    ("pct-2f", "a%2Fb%2fc"),
    ("pct-utf8-text", "%E6%97%A5"),
    ("query-chars", "x=1&y=2?z#frag"),
    ("subdelims", "!'()*"),
    ("gen-delims", ":@$,;"),
    ("reference-mix", "a b+c=d~e/f//g?h#i%j&k:l@m!n*o(p)q'r,s;t$u"),
    ("ascii-specials", "[]{}<>|^`\"\\"),
    ("unreserved", "AZaz09-._~"),
    ("unicode", "ü/日本.txt"),
    ("nfc", unicodedata.normalize("NFC", "café/résumé.txt")),
    ("nfd", unicodedata.normalize("NFD", "café/résumé.txt")),
    ("emoji", "😀 é"),
    ("emoji-zwj", "👩‍💻/notes.md"),
    ("double-slash", "a//b///c"),
    ("leading-slash", "/leading.txt"),
    ("leading-double-slash", "//x"),
    ("trailing-slash", "folder/"),
    ("dot-segments", "./a/../b"),
    ("dotdot", "../x"),
    ("dot", "."),
    ("dotdot-only", ".."),
    ("ref-dots", "/./../x/"),
    ("space-edges", " lead and trail "),
    ("tab", "a\tb"),
    ("ascii-1024", ("k/" * 512)[:1023] + "z"),
    ("cjk-1024", "日" * 341 + "x"),
    ("emoji-1024", "😀" * 256),
]
for _n, _k in HARD_KEYS:
    require(_k.encode("utf-8") != b"", _n)
require(len(dict(HARD_KEYS)["ascii-1024"].encode()) == 1024, "ascii-1024 length")
require(len(dict(HARD_KEYS)["cjk-1024"].encode()) == 1024, "cjk-1024 length")
require(len(dict(HARD_KEYS)["emoji-1024"].encode()) == 1024, "emoji-1024 length")
require(dict(HARD_KEYS)["nfc"] != dict(HARD_KEYS)["nfd"], "nfc/nfd differ")

UPLOAD_ID = "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
UPLOAD_ID_ODD = "2~Kx.y_z-AB+/cd=="
VERSION_ID = "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nrjfkd"
CONT_TOKEN = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="


def b64sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def b64crc32(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def op_params(op, i):
    """A representative parameter set per operation (rotated by i)."""
    table = {
        "GetObject": [
            {},
            {"ResponseContentType": "image/jpeg"},
            {"VersionId": VERSION_ID},
            {"Range": "bytes=100-199"},
            {"ResponseContentDisposition": 'attachment; filename="report 2024.pdf"'},
            {"ResponseCacheControl": "no-cache", "ResponseExpires": "Thu, 01 Dec 1994 16:00:00 GMT"},
        ],
        "HeadObject": [
            {},
            {"VersionId": "null"},
            {"Range": "bytes=0-0"},
            {"PartNumber": 1},
        ],
        "PutObject": [
            {},
            {"ContentType": "text/plain; charset=utf-8"},
            {"Metadata": {"author": "Jane Doe", "project-id": "42"}},
            {"ACL": "bucket-owner-full-control", "StorageClass": "STANDARD_IA"},
            {"ContentLength": 1048576, "ContentType": "application/octet-stream"},
            {"ServerSideEncryption": "AES256"},
            {"ChecksumSHA256": b64sha256(b"hello")},
        ],
        "DeleteObject": [{}, {"VersionId": VERSION_ID}, {"VersionId": "null"}],
        "ListObjectsV2": [
            {"EncodingType": "url"},
            {"Prefix": "photos/2024/", "Delimiter": "/", "EncodingType": "url"},
            {"Prefix": "a b+c", "MaxKeys": 100, "EncodingType": "url"},
            {"ContinuationToken": CONT_TOKEN, "EncodingType": "url"},
            {"StartAfter": "photos/é.jpg", "MaxKeys": 1, "EncodingType": "url"},
        ],
        "CreateMultipartUpload": [
            {},
            {"ContentType": "video/mp4"},
            {"Metadata": {"origin": "camera 1"}, "StorageClass": "INTELLIGENT_TIERING"},
        ],
        "UploadPart": [
            {"PartNumber": 1, "UploadId": UPLOAD_ID},
            {"PartNumber": 10000, "UploadId": UPLOAD_ID_ODD},
            {"PartNumber": 2, "UploadId": UPLOAD_ID, "ContentLength": 5242880},
        ],
        "CompleteMultipartUpload": [
            {"UploadId": UPLOAD_ID},
            {"UploadId": UPLOAD_ID_ODD},
        ],
        "AbortMultipartUpload": [
            {"UploadId": UPLOAD_ID},
            {"UploadId": UPLOAD_ID_ODD},
        ],
        "ListParts": [
            {"UploadId": UPLOAD_ID},
            {"UploadId": UPLOAD_ID, "MaxParts": 100, "PartNumberMarker": 3},
            {"UploadId": UPLOAD_ID_ODD},
        ],
    }
    opts = table[op]
    return copy.deepcopy(opts[i % len(opts)])


def presign_case(name, op, creds=DOC, token=None, region="us-east-1", endpoint=None,
                 style="virtual", time=T_DOC, expires=3600, bucket="examplebucket",
                 key="test.txt", params=None):
    if op == "ListObjectsV2":
        key = None
    return {
        "name": name,
        "access_key_id": creds[0],
        "secret_access_key": creds[1],
        "session_token": token,
        "region": region,
        "endpoint_url": endpoint,
        "addressing_style": style,
        "signing_time": time,
        "expires_in": expires,
        "operation": op,
        "bucket": bucket,
        "key": key,
        "params": params or {},
    }


def presign_specs():
    out = []
    add = out.append
    # The AWS documentation example.
    add(presign_case("aws-doc-example", "GetObject", expires=86400))

    # Hard keys, three shapes each.
    for i, (kn, key) in enumerate(HARD_KEYS):
        add(presign_case("key-%s-get-virtual" % kn, "GetObject", key=key, expires=86400))
        add(presign_case("key-%s-put-path-eu" % kn, "PutObject", creds=ALT, region="eu-west-1",
                         style="path", time="20240229T235959Z", expires=900, key=key,
                         params={"ContentType": "application/octet-stream"} if i % 2 else {}))
        op = "HeadObject" if i % 2 == 0 else "DeleteObject"
        add(presign_case("key-%s-%s-custom" % (kn, op.lower()), op, creds=MINIO,
                         endpoint=ENDPOINTS[i % 2], style="path", time="20240101T000000Z",
                         key=key))

    # Every operation in every region, both styles.
    op_keys = ["photos/2024/img 01.jpg", "data/report.csv", "a/b/c.bin", "video.mp4", "x"]
    n = 0
    for ri, region in enumerate(REGIONS):
        for si, style in enumerate(("virtual", "path")):
            for op in OP_METHOD:
                add(presign_case(
                    "op-%s-%s-%s" % (op, region, style), op,
                    creds=CREDS[n % 2], region=region, style=style,
                    time=TIMES[n % len(TIMES)], expires=EXPIRIES[n % len(EXPIRIES)],
                    bucket=["examplebucket", "my-bucket-2024", "abc"][n % 3],
                    key=op_keys[n % len(op_keys)], params=op_params(op, ri * 2 + si)))
                n += 1

    # Parameters one by one and combined.
    P = [
        ("get-response-content-type", "GetObject", {"ResponseContentType": "text/plain; charset=utf-8"}),
        ("get-response-content-disposition", "GetObject",
         {"ResponseContentDisposition": 'attachment; filename="a b.txt"'}),
        ("get-response-content-disposition-utf8", "GetObject",
         {"ResponseContentDisposition": "inline; filename=\"r\u00e9sum\u00e9.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"}),
        ("get-response-cache-control", "GetObject", {"ResponseCacheControl": "no-cache, no-store, max-age=0"}),
        ("get-response-expires", "GetObject", {"ResponseExpires": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        ("get-response-content-language", "GetObject", {"ResponseContentLanguage": "en-US, fr-CA;q=0.5"}),
        ("get-response-content-encoding", "GetObject", {"ResponseContentEncoding": "gzip"}),
        ("get-response-all-model-order", "GetObject", {
            "ResponseCacheControl": "max-age=60",
            "ResponseContentDisposition": 'attachment; filename="x;y=z.txt"',
            "ResponseContentEncoding": "identity",
            "ResponseContentLanguage": "de",
            "ResponseContentType": "application/json",
            "ResponseExpires": "Thu, 01 Jan 2099 00:00:00 GMT"}),
        ("get-response-all-reverse-order", "GetObject", {
            "ResponseExpires": "Thu, 01 Jan 2099 00:00:00 GMT",
            "ResponseContentType": "application/json",
            "ResponseContentLanguage": "de",
            "ResponseContentEncoding": "identity",
            "ResponseContentDisposition": 'attachment; filename="x;y=z.txt"',
            "ResponseCacheControl": "max-age=60"}),
        ("get-version-id", "GetObject", {"VersionId": "v+1 2~x"}),
        ("get-version-id-real", "GetObject", {"VersionId": VERSION_ID}),
        ("get-version-and-response", "GetObject",
         {"VersionId": VERSION_ID, "ResponseContentType": "text/html; charset=\"utf-8\""}),
        ("get-range", "GetObject", {"Range": "bytes=0-9"}),
        ("get-range-suffix", "GetObject", {"Range": "bytes=-500"}),
        ("get-part-number", "GetObject", {"PartNumber": 2}),
        ("get-if-match", "GetObject", {"IfMatch": '"d41d8cd98f00b204e9800998ecf8427e"'}),
        ("get-checksum-mode", "GetObject", {"ChecksumMode": "ENABLED"}),
        ("head-version-range", "HeadObject", {"VersionId": VERSION_ID, "Range": "bytes=0-1023"}),
        ("put-content-type", "PutObject", {"ContentType": "text/plain; charset=utf-8"}),
        ("put-content-type-spaces", "PutObject",
         {"ContentType": "multipart/form-data;  boundary=\"a  b\" "}),
        ("put-content-length", "PutObject", {"ContentLength": 5}),
        ("put-metadata", "PutObject", {"Metadata": {"author": "Jane Doe", "project-id": "42"}}),
        ("put-metadata-case-and-spaces", "PutObject",
         {"Metadata": {"Mixed-Case": "  padded   value  ", "z": "=;,/+"}}),
        ("put-acl", "PutObject", {"ACL": "public-read"}),
        ("put-storage-class", "PutObject", {"StorageClass": "GLACIER_IR"}),
        ("put-sse-aes256", "PutObject", {"ServerSideEncryption": "AES256"}),
        ("put-sse-kms", "PutObject", {
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}),
        ("put-checksum-sha256", "PutObject", {"ChecksumSHA256": b64sha256(b"hello")}),
        ("put-cache-disposition-encoding", "PutObject", {
            "CacheControl": "public, max-age=31536000",
            "ContentDisposition": 'attachment; filename="data.csv"',
            "ContentEncoding": "gzip"}),
        ("put-tagging", "PutObject", {"Tagging": "project=alpha&cost center=R&D 1"}),
        ("put-everything", "PutObject", {
            "ACL": "private",
            "ContentLength": 11,
            "ContentType": "text/plain; charset=utf-8",
            "Metadata": {"a": "1", "b": "two words"},
            "StorageClass": "STANDARD",
            "ServerSideEncryption": "AES256",
            "ChecksumSHA256": b64sha256(b"hello world")}),
        ("delete-version", "DeleteObject", {"VersionId": VERSION_ID}),
        ("list-prefix-delimiter", "ListObjectsV2",
         {"Prefix": "photos/2024 summer/", "Delimiter": "/", "EncodingType": "url"}),
        ("list-prefix-unicode", "ListObjectsV2", {"Prefix": "日本/é", "EncodingType": "url"}),
        ("list-max-keys", "ListObjectsV2", {"MaxKeys": 1000, "EncodingType": "url"}),
        ("list-continuation", "ListObjectsV2", {"ContinuationToken": CONT_TOKEN, "EncodingType": "url"}),
        ("list-start-after-fetch-owner", "ListObjectsV2",
         {"StartAfter": "x=1&y", "FetchOwner": True, "EncodingType": "url"}),
        ("list-all", "ListObjectsV2", {
            "Delimiter": "/", "EncodingType": "url", "MaxKeys": 50, "Prefix": "logs/",
            "ContinuationToken": CONT_TOKEN, "FetchOwner": False, "StartAfter": "logs/2024"}),
        ("mpu-create-content-type-metadata", "CreateMultipartUpload",
         {"ContentType": "video/mp4", "Metadata": {"camera": "A7 III"}, "ACL": "private"}),
        ("mpu-create-checksum-algorithm", "CreateMultipartUpload", {"ChecksumAlgorithm": "SHA256"}),
        ("mpu-upload-part-odd-id", "UploadPart", {"PartNumber": 7, "UploadId": UPLOAD_ID_ODD}),
        ("mpu-upload-part-reverse", "UploadPart", {"UploadId": UPLOAD_ID, "PartNumber": 7}),
        ("mpu-upload-part-length-checksum", "UploadPart", {
            "PartNumber": 3, "UploadId": UPLOAD_ID, "ContentLength": 5,
            "ChecksumSHA256": b64sha256(b"hello")}),
        ("mpu-complete", "CompleteMultipartUpload", {"UploadId": UPLOAD_ID}),
        ("mpu-abort-odd-id", "AbortMultipartUpload", {"UploadId": UPLOAD_ID_ODD}),
        ("mpu-list-parts-paged", "ListParts",
         {"UploadId": UPLOAD_ID, "MaxParts": 2, "PartNumberMarker": 9999}),
    ]
    for i, (pn, op, params) in enumerate(P):
        add(presign_case("param-%s" % pn, op, key="docs/file name.txt", params=params,
                         region=["us-east-1", "eu-west-1"][i % 2],
                         style=["virtual", "path"][(i // 2) % 2], time=TIMES[i % len(TIMES)]))
        if i % 3 == 0:
            add(presign_case("param-%s-custom" % pn, op, creds=MINIO, key="docs/file name.txt",
                             params=copy.deepcopy(params), endpoint=ENDPOINTS[i % 4], style="path"))

    # Session tokens.
    for i, (tn, tok) in enumerate(TOKENS.items()):
        add(presign_case("token-%s-get" % tn, "GetObject", token=tok, time=TIMES[i]))
        add(presign_case("token-%s-put-path" % tn, "PutObject", creds=ALT, token=tok,
                         region="eu-west-1", style="path", params={"ContentType": "image/png"}))
        add(presign_case("token-%s-list-custom" % tn, "ListObjectsV2", creds=MINIO, token=tok,
                         endpoint=ENDPOINTS[i], style="path", params={"Prefix": "p/", "EncodingType": "url"}))

    # Signing times x expiries.
    for ti, t in enumerate(TIMES):
        for ei, e in enumerate(EXPIRIES):
            add(presign_case("time-%s-exp-%d" % (t, e), "GetObject", time=t, expires=e,
                             region=REGIONS[(ti + ei) % len(REGIONS)],
                             style=["virtual", "path"][(ti + ei) % 2],
                             key="time/%s.txt" % t))

    # Custom endpoints.
    for ei, ep in enumerate(ENDPOINTS):
        for op, params in (
            ("GetObject", {}),
            ("PutObject", {"ContentType": "text/plain; charset=utf-8"}),
            ("ListObjectsV2", {"Prefix": "a b/", "EncodingType": "url"}),
            ("CreateMultipartUpload", {}),
            ("UploadPart", {"PartNumber": 1, "UploadId": UPLOAD_ID}),
        ):
            add(presign_case("endpoint-%d-%s-path" % (ei, op), op, creds=CREDS[ei % 4],
                             endpoint=ep, style="path", region=["us-east-1", "eu-west-1"][ei % 2],
                             key="dir/obj 1.bin", params=params))
    for ep in ENDPOINTS[2:]:
        tag = ep.rsplit(":", 1)[1]
        for op, params in (
            ("GetObject", {"ResponseContentType": "text/csv"}),
            ("PutObject", {"Metadata": {"k": "v"}}),
            ("ListObjectsV2", {"EncodingType": "url"}),
            ("ListParts", {"UploadId": UPLOAD_ID}),
        ):
            add(presign_case("endpoint-%s-%s-virtual" % (tag, op), op, creds=MINIO, endpoint=ep,
                             style="virtual", key="dir/obj 1.bin", params=params))

    # Buckets with dots (path style only).
    for region in ("us-east-1", "eu-west-1"):
        add(presign_case("dotted-bucket-get-%s" % region, "GetObject", bucket="my.bucket.example",
                         region=region, style="path", key="a b.txt"))
        add(presign_case("dotted-bucket-list-%s" % region, "ListObjectsV2", bucket="my.bucket.example",
                         region=region, style="path", params={"EncodingType": "url"}))
    add(presign_case("dotted-bucket-put-custom", "PutObject", creds=MINIO, bucket="my.bucket.example",
                     endpoint=ENDPOINTS[0], style="path", key="x.bin"))
    # Bucket-only URLs in every style.
    add(presign_case("bucket-only-list-virtual", "ListObjectsV2", params={"EncodingType": "url"}))
    add(presign_case("bucket-only-list-path", "ListObjectsV2", style="path", params={"EncodingType": "url"}))
    return out


def run_presign(c):
    set_case(c["name"], c["signing_time"])
    client = client_for(c)
    pyop, method = OP_METHOD[c["operation"]]
    call = {"Bucket": c["bucket"]}
    if c["key"] is not None:
        call["Key"] = c["key"]
    passed = copy.deepcopy(c["params"])
    call.update(passed)
    SIGN_LOG.clear()
    url = client.generate_presigned_url(pyop, Params=call, ExpiresIn=c["expires_in"])
    require(passed == c["params"], "%s: botocore mutated params" % c["name"])
    require(len(SIGN_LOG) == 1, "%s: %d signatures" % (c["name"], len(SIGN_LOG)))
    log = SIGN_LOG[0]
    require(log["cls"] == "S3SigV4QueryAuth", "%s: signer %s" % (c["name"], log["cls"]))
    require(log["url"] == url and log["method"] == method, "%s: log" % c["name"])
    check_url_shape(c, url)
    q = dict(chk.query_pairs(urlsplit(url).query))
    require(q[b"X-Amz-Date"].decode() == c["signing_time"], "%s: X-Amz-Date %r (clock patch?)"
            % (c["name"], q[b"X-Amz-Date"]))
    require(q[b"X-Amz-Expires"].decode() == str(c["expires_in"]), "%s: expires" % c["name"])
    tok = q.get(b"X-Amz-Security-Token")
    require((tok.decode() if tok else None) == c["session_token"], "%s: token" % c["name"])
    if c["operation"] == "ListObjectsV2":
        require(c["params"].get("EncodingType") == "url",
                "%s: pass EncodingType explicitly (botocore adds it otherwise)" % c["name"])
    signed = q[b"X-Amz-SignedHeaders"].decode().split(";")
    extra = [[k, v] for k, v in log["headers"] if k.lower() in signed and k.lower() != "host"]
    require(len(extra) == len(signed) - 1, "%s: signed header values missing" % c["name"])
    try:
        info = chk.verify_presigned_url(url, method, c["secret_access_key"], extra)
    except chk.CheckError as e:
        fail("%s: %s\nbotocore canonical request:\n%s" % (c["name"], e, LAST_CANONICAL[0]))
    require(info["region"] == c["region"] and info["service"] == "s3"
            and info["access_key_id"] == c["access_key_id"], "%s: scope" % c["name"])
    clear_case()
    out = dict(c)
    out["url"] = url
    return out, {"method": method, "extra_headers": extra}


# ------------------------------------------------------------------ requests.json


def req_case(name, op, call, creds=DOC, token=None, region="us-east-1", endpoint=None,
             style="virtual", time=T_DOC, cfg=None):
    c = dict(DEFAULT_CFG)
    c.update(cfg or {})
    return {
        "name": name, "op": op, "call": call,
        "access_key_id": creds[0], "secret_access_key": creds[1], "session_token": token,
        "region": region, "endpoint_url": endpoint, "addressing_style": style,
        "signing_time": time, "client_config": c,
    }


WHEN_REQUIRED = {"request_checksum_calculation": "when_required",
                 "response_checksum_validation": "when_required"}
BINARY = bytes(range(256)) * 4
BIG = hashlib.shake_256(b"fixture-body").digest(70000)
XML_COMPLETE = {"Parts": [{"ETag": '"a54357aff0632cce46d942af68356b38"', "PartNumber": 1},
                          {"ETag": '"0c78aef83f66abc1fa1e8477f296d394"', "PartNumber": 2}]}


def header_request_specs():
    B = "examplebucket"
    out = []
    add = out.append
    K = dict(HARD_KEYS)
    # put_object: bodies x payload modes
    for body_name, body in (("hello", b"hello"), ("empty", b""), ("binary", BINARY), ("70000", BIG)):
        add(req_case("hdr-put-%s-https-default" % body_name, "put_object",
                     {"Bucket": B, "Key": "up/%s.bin" % body_name, "Body": body}))
        add(req_case("hdr-put-%s-http-default" % body_name, "put_object",
                     {"Bucket": B, "Key": "up/%s.bin" % body_name, "Body": body},
                     creds=MINIO, endpoint="http://127.0.0.1:9000", style="path"))
        add(req_case("hdr-put-%s-https-when-required" % body_name, "put_object",
                     {"Bucket": B, "Key": "up/%s.bin" % body_name, "Body": body}, cfg=WHEN_REQUIRED))
    add(req_case("hdr-put-http-when-required", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello"},
                 creds=MINIO, endpoint="http://localhost:9000", style="path", cfg=WHEN_REQUIRED))
    add(req_case("hdr-put-unsigned-payload", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello"},
                 cfg=dict(WHEN_REQUIRED, payload_signing_enabled=False)))
    add(req_case("hdr-put-unsigned-payload-default-checksum", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello"},
                 cfg={"payload_signing_enabled": False}))
    add(req_case("hdr-put-content-md5-when-required", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello", "ContentMD5": b64md5(b"hello")},
                 cfg=WHEN_REQUIRED))
    add(req_case("hdr-put-checksum-algorithm-sha256", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello", "ChecksumAlgorithm": "SHA256"}))
    add(req_case("hdr-put-checksum-algorithm-sha1", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello", "ChecksumAlgorithm": "SHA1"}))
    add(req_case("hdr-put-checksum-sha256-value", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello", "ChecksumSHA256": b64sha256(b"hello")}))
    add(req_case("hdr-put-checksum-crc32-value-http", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"hello", "ChecksumCRC32": b64crc32(b"hello")},
                 creds=MINIO, endpoint="http://127.0.0.1:9000", style="path"))
    add(req_case("hdr-put-metadata-token-eu", "put_object",
                 {"Bucket": B, "Key": "docs/a b.txt", "Body": b"metadata body",
                  "ContentType": "text/plain; charset=utf-8",
                  "Metadata": {"author": "Jane Doe", "Mixed-Case": "  padded   value  "}},
                 creds=ALT, token=TOKENS["tok-simple"], region="eu-west-1",
                 time="20240229T235959Z"))
    add(req_case("hdr-put-acl-class-sse-tagging", "put_object",
                 {"Bucket": B, "Key": "k.txt", "Body": b"x", "ACL": "public-read",
                  "StorageClass": "STANDARD_IA", "ServerSideEncryption": "AES256",
                  "Tagging": "project=alpha&cost center=R&D 1", "CacheControl": "max-age=60"},
                 cfg=WHEN_REQUIRED))
    for kn in ("reference-mix", "nfd", "emoji", "leading-slash", "trailing-slash",
               "dot-segments", "pct-a20b", "cjk-1024"):
        add(req_case("hdr-put-key-%s" % kn, "put_object",
                     {"Bucket": B, "Key": K[kn], "Body": b"key test"}, cfg=WHEN_REQUIRED,
                     style=["virtual", "path"][len(out) % 2]))
    for ep, style in (("https://storage.example.com:8443", "virtual"),
                      ("https://storage.example.com:443", "path"),
                      ("https://storage.example.com:443", "virtual")):
        add(req_case("hdr-put-custom-%s-%s" % (ep.rsplit(":", 1)[1], style), "put_object",
                     {"Bucket": B, "Key": "dir/f.txt", "Body": b"custom endpoint"},
                     creds=MINIO, endpoint=ep, style=style))
    for i, region in enumerate(REGIONS[1:]):
        add(req_case("hdr-put-region-%s" % region, "put_object",
                     {"Bucket": B, "Key": "r.txt", "Body": b"region"}, region=region,
                     time=TIMES[i + 1], style=["virtual", "path"][i % 2],
                     cfg=WHEN_REQUIRED if i % 2 else None))
    # get_object
    add(req_case("hdr-get-range", "get_object", {"Bucket": B, "Key": "test.txt", "Range": "bytes=0-9"}))
    add(req_case("hdr-get-range-when-required", "get_object",
                 {"Bucket": B, "Key": "test.txt", "Range": "bytes=0-9"}, cfg=WHEN_REQUIRED))
    add(req_case("hdr-get-version-response-overrides", "get_object",
                 {"Bucket": B, "Key": "docs/file name.txt", "VersionId": VERSION_ID,
                  "ResponseContentDisposition": 'attachment; filename="a b.txt"',
                  "ResponseContentType": "text/plain; charset=utf-8"}, cfg=WHEN_REQUIRED))
    for kn in ("reference-mix", "emoji", "ascii-1024", "ref-dots", "subdelims"):
        add(req_case("hdr-get-key-%s" % kn, "get_object", {"Bucket": B, "Key": K[kn]},
                     creds=MINIO, endpoint="http://localhost:9000", style="path", cfg=WHEN_REQUIRED))
    add(req_case("hdr-get-session-token", "get_object", {"Bucket": B, "Key": "a.txt"},
                 token=TOKENS["tok-long"], region="ap-southeast-2"))
    add(req_case("hdr-get-if-none-match", "get_object",
                 {"Bucket": B, "Key": "a.txt", "IfNoneMatch": '"abc"'}, region="us-gov-west-1",
                 cfg=WHEN_REQUIRED))
    # head / delete
    add(req_case("hdr-head", "head_object", {"Bucket": B, "Key": "a b.txt"}))
    add(req_case("hdr-head-version-custom", "head_object",
                 {"Bucket": B, "Key": "a b.txt", "VersionId": VERSION_ID},
                 creds=MINIO, endpoint="https://storage.example.com:8443", style="path"))
    add(req_case("hdr-delete", "delete_object", {"Bucket": B, "Key": "a+b.txt"}))
    add(req_case("hdr-delete-version-token", "delete_object",
                 {"Bucket": B, "Key": "a+b.txt", "VersionId": "v+1 2~x"},
                 token=TOKENS["tok-slash-plus-eq"], region="cn-north-1"))
    # list_objects_v2
    add(req_case("hdr-list", "list_objects_v2", {"Bucket": B, "EncodingType": "url"}))
    add(req_case("hdr-list-path", "list_objects_v2", {"Bucket": B, "EncodingType": "url"},
                 style="path", region="eu-west-1"))
    add(req_case("hdr-list-prefix-delimiter-custom", "list_objects_v2",
                 {"Bucket": B, "Prefix": "photos/2024 summer/", "Delimiter": "/", "MaxKeys": 50,
                  "EncodingType": "url"},
                 creds=MINIO, endpoint="http://127.0.0.1:9000", style="path"))
    add(req_case("hdr-list-continuation-start-after", "list_objects_v2",
                 {"Bucket": B, "ContinuationToken": CONT_TOKEN, "StartAfter": "日本/é",
                  "FetchOwner": True, "EncodingType": "url"}))
    # multipart
    add(req_case("hdr-mpu-create", "create_multipart_upload", {"Bucket": B, "Key": "big.bin"}))
    add(req_case("hdr-mpu-create-metadata", "create_multipart_upload",
                 {"Bucket": B, "Key": "big.bin", "ContentType": "video/mp4",
                  "Metadata": {"camera": "A7 III"}, "ChecksumAlgorithm": "SHA256"},
                 region="eu-west-1", style="path"))
    add(req_case("hdr-mpu-upload-part-https", "upload_part",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID, "PartNumber": 1,
                  "Body": b"part one data"}))
    add(req_case("hdr-mpu-upload-part-http", "upload_part",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID_ODD, "PartNumber": 2,
                  "Body": BINARY}, creds=MINIO, endpoint="http://127.0.0.1:9000", style="path"))
    add(req_case("hdr-mpu-upload-part-when-required", "upload_part",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID, "PartNumber": 3,
                  "Body": b"part three"}, cfg=WHEN_REQUIRED))
    add(req_case("hdr-mpu-upload-part-checksum-value", "upload_part",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID, "PartNumber": 4,
                  "Body": b"part four", "ChecksumSHA256": b64sha256(b"part four")}))
    add(req_case("hdr-mpu-complete", "complete_multipart_upload",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID,
                  "MultipartUpload": copy.deepcopy(XML_COMPLETE)}))
    add(req_case("hdr-mpu-complete-custom", "complete_multipart_upload",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID_ODD,
                  "MultipartUpload": copy.deepcopy(XML_COMPLETE)},
                 creds=MINIO, endpoint="http://localhost:9000", style="path"))
    add(req_case("hdr-mpu-abort", "abort_multipart_upload",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID_ODD}))
    add(req_case("hdr-mpu-list-parts", "list_parts",
                 {"Bucket": B, "Key": "big.bin", "UploadId": UPLOAD_ID, "MaxParts": 2,
                  "PartNumberMarker": 1}))
    # copy_object
    add(req_case("hdr-copy-hard-key", "copy_object",
                 {"Bucket": B, "Key": "dest/é.txt",
                  "CopySource": {"Bucket": "src-bucket", "Key": K["reference-mix"]}}))
    add(req_case("hdr-copy-version-replace-metadata", "copy_object",
                 {"Bucket": B, "Key": "dest.txt",
                  "CopySource": {"Bucket": "src-bucket", "Key": "a b/c.txt", "VersionId": VERSION_ID},
                  "MetadataDirective": "REPLACE", "Metadata": {"copied": "yes"}},
                 token=TOKENS["tok-simple"], region="eu-west-1", style="path"))
    add(req_case("hdr-copy-string-source-custom", "copy_object",
                 {"Bucket": B, "Key": "dest.txt", "CopySource": "src-bucket/a%20b.txt"},
                 creds=MINIO, endpoint="http://127.0.0.1:9000", style="path"))
    # Times and tokens.
    for i, t in enumerate(TIMES[1:]):
        add(req_case("hdr-time-%s" % t, "get_object", {"Bucket": B, "Key": "t.txt"},
                     creds=CREDS[i % 4], time=t, region=REGIONS[i % 5], cfg=WHEN_REQUIRED))
    for tn, tok in TOKENS.items():
        add(req_case("hdr-%s-list" % tn, "list_objects_v2", {"Bucket": B, "EncodingType": "url"},
                     token=tok, creds=ALT))
    return out


def run_header_request(c):
    set_case(c["name"], c["signing_time"])
    client = client_for(c)
    SENT.clear()
    getattr(client, c["op"])(**copy.deepcopy(c["call"]))
    require(len(SENT) == 1, "%s: %d sends" % (c["name"], len(SENT)))
    s = SENT[0]
    url = s["url"]
    require(not any(k.lower() == "host" for k, _ in s["headers"]), "%s: Host set" % c["name"])
    scheme, target, host = chk.url_to_target_and_host(url)
    require(target == botocore.httpsession.URLLib3Session._path_url(None, url),
            "%s: target differs from botocore's request target" % c["name"])
    headers = [["Host", host]] + [[k, v] for k, v in s["headers"]]
    for k, v in headers:
        require(v.isascii() and k.isascii(), "%s: non-ASCII header %r" % (c["name"], k))
    hmap = {k.lower(): v for k, v in headers}
    require(hmap.get("x-amz-date") == c["signing_time"], "%s: x-amz-date %r (clock patch?)"
            % (c["name"], hmap.get("x-amz-date")))
    require(hmap.get("x-amz-security-token") == c["session_token"], "%s: token" % c["name"])
    try:
        info = chk.verify_request(s["method"], target, headers, c["secret_access_key"], s["body"])
    except chk.CheckError as e:
        fail("%s: %s\nbotocore canonical request:\n%s" % (c["name"], e, LAST_CANONICAL[0]))
    require(info["mechanism"] == "header" and info["region"] == c["region"], c["name"])
    ph = info["payload_hash"]
    mode = "sha256" if len(ph) == 64 and all(ch in "0123456789abcdef" for ch in ph) else ph
    clear_case()
    return {
        "name": c["name"],
        "mechanism": "header",
        "access_key_id": c["access_key_id"],
        "secret_access_key": c["secret_access_key"],
        "session_token": c["session_token"],
        "region": c["region"],
        "service": "s3",
        "signing_time": c["signing_time"],
        "expires_in": None,
        "method": s["method"],
        "scheme": scheme,
        "target": target,
        "headers": headers,
        "body_base64": base64.b64encode(s["body"]).decode(),
        "content_sha256_mode": mode,
        "client_config": c["client_config"],
    }


def query_request_specs():
    """Presigned URLs turned into wire requests (mechanism 'query')."""
    K = dict(HARD_KEYS)
    out = []
    add = out.append

    def q(name, op, body=b"", **kw):
        add((presign_case("qry-" + name, op, **kw), body))

    q("doc-example", "GetObject", expires=86400)
    q("get-path-eu", "GetObject", region="eu-west-1", style="path", creds=ALT, expires=900)
    q("get-response-overrides", "GetObject", params={
        "ResponseContentDisposition": 'attachment; filename="a b.txt"',
        "ResponseContentType": "text/plain; charset=utf-8", "VersionId": "v+1 2~x"})
    q("get-range-signed-header", "GetObject", params={"Range": "bytes=0-9"})
    q("get-checksum-mode-header", "GetObject", params={"ChecksumMode": "ENABLED"})
    q("get-token", "GetObject", token=TOKENS["tok-simple"])
    q("get-token-long", "GetObject", token=TOKENS["tok-long"], region="ap-southeast-2", style="path")
    q("head", "HeadObject", key="a b.txt")
    q("delete-version", "DeleteObject", params={"VersionId": VERSION_ID})
    q("put-body", "PutObject", body=b"hello")
    q("put-empty", "PutObject", body=b"")
    q("put-binary-path", "PutObject", body=BINARY, style="path", region="us-gov-west-1")
    q("put-content-type-metadata", "PutObject", body=b"hello world",
      params={"ContentType": "text/plain; charset=utf-8", "ContentLength": 11,
              "Metadata": {"author": "Jane Doe", "Mixed-Case": "  padded   value  "}})
    q("put-acl-sse-class", "PutObject", body=b"x",
      params={"ACL": "public-read", "ServerSideEncryption": "AES256", "StorageClass": "GLACIER_IR"})
    q("put-checksum-sha256", "PutObject", body=b"hello",
      params={"ChecksumSHA256": b64sha256(b"hello")})
    q("put-custom-8443-virtual", "PutObject", body=b"abc", creds=MINIO,
      endpoint="https://storage.example.com:8443", style="virtual")
    q("put-custom-443-path", "PutObject", body=b"abc", creds=MINIO,
      endpoint="https://storage.example.com:443", style="path")
    q("put-custom-127-path", "PutObject", body=b"abc", creds=MINIO,
      endpoint="http://127.0.0.1:9000", style="path", params={"ContentType": "image/png"})
    q("get-custom-localhost", "GetObject", creds=MINIO, endpoint="http://localhost:9000",
      style="path", key=K["reference-mix"])
    q("list-custom", "ListObjectsV2", creds=MINIO, endpoint="http://127.0.0.1:9000", style="path",
      params={"Prefix": "a b/", "Delimiter": "/", "EncodingType": "url"})
    q("list-virtual-cn", "ListObjectsV2", region="cn-north-1",
      params={"ContinuationToken": CONT_TOKEN, "EncodingType": "url"})
    q("mpu-create", "CreateMultipartUpload", params={"ContentType": "video/mp4"})
    q("mpu-upload-part", "UploadPart", body=b"part data",
      params={"PartNumber": 1, "UploadId": UPLOAD_ID_ODD})
    q("mpu-complete", "CompleteMultipartUpload",
      body=b'<CompleteMultipartUpload><Part><ETag>"e1"</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
      params={"UploadId": UPLOAD_ID})
    q("mpu-abort", "AbortMultipartUpload", params={"UploadId": UPLOAD_ID})
    q("mpu-list-parts", "ListParts", params={"UploadId": UPLOAD_ID, "MaxParts": 5})
    for kn in ("nfc", "nfd", "emoji", "trailing-slash", "leading-double-slash", "pct-100",
               "query-chars", "emoji-1024"):
        q("key-" + kn, "GetObject", key=K[kn], time="20240229T235959Z", expires=604800)
    for t, e in (("20231231T235959Z", 1), ("20240101T000000Z", 604800), ("19991231T235959Z", 3600)):
        q("time-%s" % t, "GetObject", time=t, expires=e, region="eu-west-1")
    return out


def run_query_request(c, body):
    pc, meta = run_presign(c)
    scheme, target, host = chk.url_to_target_and_host(pc["url"])
    headers = [["Host", host]] + [list(h) for h in meta["extra_headers"]]
    lower = [h[0].lower() for h in headers]
    if body and "content-length" not in lower:
        headers.append(["Content-Length", str(len(body))])
    hm = {k.lower(): v for k, v in headers}
    if "content-length" in hm:
        require(hm["content-length"] == str(len(body)), "%s: body length" % c["name"])
    try:
        chk.verify_request(meta["method"], target, headers, c["secret_access_key"], body)
    except chk.CheckError as e:
        fail("%s: %s" % (c["name"], e))
    return {
        "name": c["name"],
        "mechanism": "query",
        "access_key_id": c["access_key_id"],
        "secret_access_key": c["secret_access_key"],
        "session_token": c["session_token"],
        "region": c["region"],
        "service": "s3",
        "signing_time": c["signing_time"],
        "expires_in": c["expires_in"],
        "method": meta["method"],
        "scheme": scheme,
        "target": target,
        "headers": headers,
        "body_base64": base64.b64encode(body).decode(),
        "content_sha256_mode": None,
        "client_config": dict(DEFAULT_CFG),
    }


# ------------------------------------------------------------------ post.json


def post_case(name, key, fields=None, conditions=None, creds=DOC, token=None, region="us-east-1",
              endpoint=None, style="virtual", time=T_DOC, expires=3600, bucket="examplebucket"):
    return {
        "name": name,
        "access_key_id": creds[0],
        "secret_access_key": creds[1],
        "session_token": token,
        "region": region,
        "endpoint_url": endpoint,
        "addressing_style": style,
        "signing_time": time,
        "bucket": bucket,
        "key": key,
        "fields_in": fields or {},
        "conditions_in": conditions or [],
        "expires_in": expires,
    }


def post_specs():
    tagging = "<Tagging><TagSet><Tag><Key>project</Key><Value>alpha</Value></Tag></TagSet></Tagging>"
    redirect = "https://www.example.com/upload/done?id=1&x=a%20b"
    out = [
        post_case("post-key-exact", "uploads/photo.jpg"),
        post_case("post-key-starts-with", "user/user1/photo.jpg",
                  conditions=[["starts-with", "$key", "user/user1/"]]),
        post_case("post-key-filename-var", "user/user1/${filename}"),
        post_case("post-content-length-range", "uploads/a.bin",
                  conditions=[["content-length-range", 1, 10485760]]),
        post_case("post-content-type-eq", "img.jpg", fields={"Content-Type": "image/jpeg"},
                  conditions=[{"Content-Type": "image/jpeg"}]),
        post_case("post-content-type-starts-with", "img.jpg", fields={"Content-Type": "image/png"},
                  conditions=[["starts-with", "$Content-Type", "image/"]]),
        post_case("post-meta", "m.txt",
                  fields={"x-amz-meta-uuid": "14365123651274", "x-amz-meta-tag": ""},
                  conditions=[{"x-amz-meta-uuid": "14365123651274"},
                              ["starts-with", "$x-amz-meta-tag", ""]]),
        post_case("post-acl", "a.txt", fields={"acl": "public-read"},
                  conditions=[{"acl": "public-read"}]),
        post_case("post-success-status", "a.txt", fields={"success_action_status": "201"},
                  conditions=[{"success_action_status": "201"}]),
        post_case("post-success-redirect", "a.txt", fields={"success_action_redirect": redirect},
                  conditions=[{"success_action_redirect": redirect}]),
        post_case("post-tagging", "a.txt", fields={"tagging": tagging},
                  conditions=[{"tagging": tagging}]),
        post_case("post-session-token", "a.txt", token=TOKENS["tok-simple"]),
        post_case("post-session-token-long", "a.txt", token=TOKENS["tok-long"], region="eu-west-1",
                  conditions=[["content-length-range", 0, 1024]]),
        post_case("post-custom-path", "a.txt", creds=MINIO, endpoint="http://127.0.0.1:9000", style="path"),
        post_case("post-custom-localhost-path", "dir/${filename}", creds=MINIO,
                  endpoint="http://localhost:9000", style="path",
                  conditions=[["content-length-range", 1, 1048576]]),
        post_case("post-custom-8443-virtual", "a.txt", creds=MINIO,
                  endpoint="https://storage.example.com:8443", style="virtual"),
        post_case("post-custom-443-path", "a.txt", creds=MINIO,
                  endpoint="https://storage.example.com:443", style="path"),
        post_case("post-path-eu", "a.txt", region="eu-west-1", style="path", creds=ALT),
        post_case("post-cn-north-1", "a.txt", region="cn-north-1", time="20240229T235959Z"),
        post_case("post-us-gov-west-1-path", "a.txt", region="us-gov-west-1", style="path",
                  time="20231231T235959Z", expires=1),
        post_case("post-ap-southeast-2-week", "a.txt", region="ap-southeast-2",
                  time="20240101T000000Z", expires=604800),
        post_case("post-non-ascii", "日本/é.txt",
                  fields={"x-amz-meta-note": "caf\u00e9", "Content-Type": "text/plain; charset=utf-8"},
                  conditions=[{"x-amz-meta-note": "caf\u00e9"}, ["eq", "$Content-Type", "text/plain; charset=utf-8"]]),
        post_case("post-dotted-bucket-path", "a.txt", bucket="my.bucket.example", style="path"),
        post_case("post-aws-doc-like", "user/user1/${filename}",
                  fields={"acl": "public-read",
                          "success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
                          "Content-Type": "image/jpeg", "x-amz-meta-uuid": "14365123651274",
                          "x-amz-server-side-encryption": "AES256", "x-amz-meta-tag": ""},
                  conditions=[{"acl": "public-read"},
                              {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},
                              ["starts-with", "$Content-Type", "image/"],
                              {"x-amz-meta-uuid": "14365123651274"},
                              {"x-amz-server-side-encryption": "AES256"},
                              ["starts-with", "$x-amz-meta-tag", ""]],
                  bucket="sigv4examplebucket", time="20151229T000000Z", expires=129600),
        post_case("post-everything", "uploads/${filename}",
                  fields={"acl": "private", "Content-Type": "application/pdf",
                          "success_action_status": "200", "tagging": tagging,
                          "x-amz-meta-owner": "team a", "x-amz-storage-class": "STANDARD_IA"},
                  conditions=[{"acl": "private"}, ["starts-with", "$Content-Type", "application/"],
                              {"success_action_status": "200"}, {"tagging": tagging},
                              {"x-amz-meta-owner": "team a"}, {"x-amz-storage-class": "STANDARD_IA"},
                              ["content-length-range", 1024, 5368709120]],
                  token=TOKENS["tok-slash-plus-eq"], time="20240229T235959Z", expires=900),
    ]
    return out


def run_post(c):
    set_case(c["name"], c["signing_time"])
    client = client_for(c)
    fields_in = copy.deepcopy(c["fields_in"])
    conds_in = copy.deepcopy(c["conditions_in"])
    r = client.generate_presigned_post(c["bucket"], c["key"], Fields=fields_in,
                                       Conditions=conds_in, ExpiresIn=c["expires_in"])
    scheme, netloc, prefix = expected_url_prefix(c)
    want_url = "%s://%s%s" % (scheme, netloc, prefix or "/")
    require(r["url"] == want_url, "%s: url %r want %r" % (c["name"], r["url"], want_url))
    fields = [[k, v] for k, v in r["fields"].items()]
    try:
        policy_text = chk.verify_post(fields, c["secret_access_key"], c["signing_time"], c["expires_in"])
    except chk.CheckError as e:
        fail("%s: %s" % (c["name"], e))
    f = dict(fields)
    require(f.get("x-amz-security-token") == c["session_token"], "%s: token" % c["name"])
    require(f["key"] == c["key"], "%s: key field" % c["name"])
    clear_case()
    out = {k: c[k] for k in ("name", "access_key_id", "secret_access_key", "session_token", "region",
                             "endpoint_url", "addressing_style", "signing_time", "bucket", "key",
                             "fields_in", "conditions_in", "expires_in")}
    out["url"] = r["url"]
    out["fields"] = fields
    out["policy_json"] = policy_text
    return out


# ------------------------------------------------------------------ main


def write_json(path, obj):
    text = json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    pin = pinned_botocore_version()
    require(botocore.__version__ == pin, "botocore %s installed, %s pinned" % (botocore.__version__, pin))
    require(not botocore.compat.HAS_CRT, "awscrt must not be installed (it changes the signer)")
    chk.self_test()
    source = ("botocore %s from PyPI (no awscrt), pinned in tests/interop/botocore/requirements.txt; "
              "generated offline by tests/interop/botocore/generate.sh with a frozen clock, "
              "every entry re-verified by tests/interop/botocore/sigv4_check.py" % botocore.__version__)

    presign = []
    for c in presign_specs():
        presign.append(run_presign(c)[0])
    doc = presign[0]
    require(doc["name"] == "aws-doc-example" and doc["url"].endswith(
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
        "AWS documentation example not reproduced: %s" % doc["url"])

    requests = [run_query_request(c, body) for c, body in query_request_specs()]
    requests += [run_header_request(c) for c in header_request_specs()]
    posts = [run_post(c) for c in post_specs()]

    for label, cases, minimum in (("presign", presign, 220), ("requests", requests, 60), ("post", posts, 20)):
        names = [c["name"] for c in cases]
        require(len(names) == len(set(names)), "%s: duplicate names" % label)
        require(len(cases) >= minimum, "%s: only %d cases" % (label, len(cases)))

    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "presign.json"), {"source": source, "cases": presign})
    write_json(os.path.join(args.out, "requests.json"), {"source": source, "cases": requests})
    write_json(os.path.join(args.out, "post.json"), {"source": source, "cases": posts})
    modes = {}
    for r in requests:
        modes[str(r["content_sha256_mode"])] = modes.get(str(r["content_sha256_mode"]), 0) + 1
    print("botocore %s: presign.json %d cases, requests.json %d cases %s, post.json %d cases"
          % (botocore.__version__, len(presign), len(requests), modes, len(posts)))


if __name__ == "__main__":
    main()
