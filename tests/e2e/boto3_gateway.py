"""boto3 against the gateway example: the AWS SDK for Python as an S3 client, unchanged.

Run by run.sh with GATEWAY_URL, GATEWAY_TOKEN, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
set. Prints one `PASS name`, `FAIL name: why` or `SKIP name: why` line per check; run.sh
counts them.

Over plain http, botocore signs the payload's SHA-256 (it keeps unsigned payloads and
aws-chunked trailers for https), and by default adds an `x-amz-checksum-crc32` header, which
the gateway checks too. `request_checksum_calculation='when_required'` turns that header off;
both configurations are exercised. The checks below assert what went on the wire (botocore's
`before-send` event), so a change of botocore's defaults shows here. aws-chunked is
exercised by the JS SDK's stream uploads (js_gateway.mjs), which send it over http too.
"""

import hashlib
import os
import sys
import tempfile
import traceback
import urllib.error
import urllib.request
import uuid

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ["GATEWAY_URL"]
ACCESS_KEY = os.environ["AWS_ACCESS_KEY_ID"]
SECRET_KEY = os.environ["AWS_SECRET_ACCESS_KEY"]
BUCKET = "boto3-e2e"
MiB = 1024 * 1024

results = {"pass": 0, "fail": 0, "skip": 0}


class Skip(Exception):
    """A check that cannot run against this build."""


def check(name):
    def run(fn):
        try:
            fn()
        except Skip as e:
            results["skip"] += 1
            print(f"SKIP boto3: {name}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the rest
            results["fail"] += 1
            print(f"FAIL boto3: {name}: {e!r}", flush=True)
            traceback.print_exc(file=sys.stderr)
        else:
            results["pass"] += 1
            print(f"PASS boto3: {name}", flush=True)
        return fn

    return run


def client(secret=SECRET_KEY, **config):
    return boto3.client(
        "s3",
        endpoint_url=URL,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            **config,
        ),
    )


s3 = client()
s3_no_checksum = client(request_checksum_calculation="when_required")

sent = []


def record_sent(request, **_):
    """Keeps the headers of each request as sent (signed)."""
    sent.append({k.lower(): (v.decode() if isinstance(v, bytes) else v)
                 for k, v in request.headers.items()})


for c in (s3, s3_no_checksum):
    c.meta.events.register("before-send.s3", record_sent)


def http(method, url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def key(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


@check("create_bucket and head_bucket")
def _():
    s3.create_bucket(Bucket=BUCKET)
    s3.head_bucket(Bucket=BUCKET)


@check("put_object then get_object (default config: SHA-256 payload + CRC32 header)")
def _():
    body = os.urandom(300_000)
    k = key("put")
    put = s3.put_object(Bucket=BUCKET, Key=k, Body=body, ContentType="application/x-test",
                        Metadata={"origin": "boto3"})
    headers = sent[-1]
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest(), headers
    assert "x-amz-checksum-crc32" in headers, headers
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"', put["ETag"]
    # The CRC32 was verified and is echoed.
    assert put["ChecksumCRC32"] == headers["x-amz-checksum-crc32"], put
    got = s3.get_object(Bucket=BUCKET, Key=k)
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"origin": "boto3"}, got["Metadata"]


@check("put_object with request_checksum_calculation='when_required'")
def _():
    body = b"no checksum header, only the signed SHA-256"
    k = key("plain")
    s3_no_checksum.put_object(Bucket=BUCKET, Key=k, Body=body)
    headers = sent[-1]
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest(), headers
    assert not any(h.startswith("x-amz-checksum-") for h in headers), headers
    assert s3_no_checksum.get_object(Bucket=BUCKET, Key=k)["Body"].read() == body


@check("get_object with a range, head_object, list_objects_v2, delete_object")
def _():
    k = key("dir/odd key+%20 é")
    s3.put_object(Bucket=BUCKET, Key=k, Body=b"0123456789")
    part = s3.get_object(Bucket=BUCKET, Key=k, Range="bytes=2-5")
    assert part["Body"].read() == b"2345"
    assert part["ContentRange"] == "bytes 2-5/10"
    assert s3.head_object(Bucket=BUCKET, Key=k)["ContentLength"] == 10
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/")
    assert k in [o["Key"] for o in listed["Contents"]], listed
    s3.delete_object(Bucket=BUCKET, Key=k)
    try:
        s3.head_object(Bucket=BUCKET, Key=k)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "404", e.response
    else:
        raise AssertionError("the object is still there")


@check("upload_file of 12 MiB: multipart with parallel parts, then download_file")
def _():
    k = key("big")
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=3)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src.bin")
        dst = os.path.join(tmp, "dst.bin")
        data = os.urandom(12 * MiB + 12345)
        with open(src, "wb") as f:
            f.write(data)
        s3.upload_file(src, BUCKET, k, Config=config)
        head = s3.head_object(Bucket=BUCKET, Key=k)
        # Three parts: the multipart ETag says so.
        assert head["ETag"].endswith('-3"'), head["ETag"]
        assert head["ContentLength"] == len(data)
        s3.download_file(BUCKET, k, dst, Config=config)
        with open(dst, "rb") as f:
            assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()


@check("generate_presigned_url (PUT and GET) used with urllib")
def _():
    k = key("presigned")
    body = b"uploaded with a URL boto3 signed"
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": k, "ContentType": "text/plain"},
        ExpiresIn=300)
    status, _ = http("PUT", put_url, body, {"Content-Type": "text/plain"})
    assert status == 200, status
    # The content type is signed: another one is refused.
    status, err = http("PUT", put_url, body, {"Content-Type": "text/html"})
    assert status == 403 and b"SignatureDoesNotMatch" in err, (status, err)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": k},
                                        ExpiresIn=300)
    status, got = http("GET", get_url)
    assert (status, got) == (200, body), (status, got)


def post_form(post, file_name, data):
    """POSTs a `generate_presigned_post` form: its fields in order, then the file."""
    boundary = uuid.uuid4().hex
    form = b""
    for name, value in post["fields"].items():
        form += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                 f"{value}\r\n").encode()
    form += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
             f"filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n").encode()
    form += data + f"\r\n--{boundary}--\r\n".encode()
    return http("POST", post["url"], form,
                {"Content-Type": f"multipart/form-data; boundary={boundary}"})


@check("generate_presigned_post used with a multipart form")
def _():
    k = key("form")
    body = b"uploaded with a form boto3 signed"
    post = s3.generate_presigned_post(
        BUCKET, k, Conditions=[["content-length-range", 1, 1000]], ExpiresIn=300)
    status, answer = post_form(post, "f.txt", body)
    assert status == 204, (status, answer)
    assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == body


@check("generate_presigned_post: a file over content-length-range is EntityTooLarge")
def _():
    k = key("form-too-big")
    post = s3.generate_presigned_post(
        BUCKET, k, Conditions=[["content-length-range", 1, 1000]], ExpiresIn=300)
    status, answer = post_form(post, "f.bin", b"x" * 1001)
    assert status == 400 and b"<Code>EntityTooLarge</Code>" in answer, (status, answer)
    try:
        s3.head_object(Bucket=BUCKET, Key=k)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "404", e.response
    else:
        raise AssertionError("the oversized file was stored")


@check("generate_presigned_post with ${filename} and success_action_status 201")
def _():
    post = s3.generate_presigned_post(
        BUCKET, "forms/${filename}", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}], ExpiresIn=300)
    status, answer = post_form(post, "C:\\docs\\report.txt", b"named by the browser")
    assert status == 201, (status, answer)
    assert b"<Key>forms/report.txt</Key>" in answer, answer
    got = s3.get_object(Bucket=BUCKET, Key="forms/report.txt")["Body"].read()
    assert got == b"named by the browser", got


@check("a wrong secret fails with SignatureDoesNotMatch")
def _():
    bad = client(secret="not-the-secret-" + "x" * 25)
    try:
        bad.put_object(Bucket=BUCKET, Key=key("nope"), Body=b"x")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
    else:
        raise AssertionError("the upload was accepted")


print(f"boto3: {results['pass']} passed, {results['fail']} failed, {results['skip']} skipped",
      file=sys.stderr)
sys.exit(1 if results["fail"] else 0)
