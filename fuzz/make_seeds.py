#!/usr/bin/env python3
"""Builds the committed seed corpus (files named `regression-*` are crash inputs kept by hand) (fuzz/seeds/<target>/) from the project's own fixtures:
the official SigV4 suite (tests/vectors) and the SDK captures (tests/fixtures). Deterministic:
file names are the SHA-256 of their contents. Run from anywhere; stdlib only."""
import base64, glob, hashlib, json, os, struct

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
seeds = os.path.join(root, "fuzz", "seeds")


def put(target, data):
    d = os.path.join(seeds, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha256(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def requests():
    for path in sorted(glob.glob(os.path.join(root, "tests/fixtures/*/requests.json"))) + sorted(
        glob.glob(os.path.join(root, "tests/fixtures/js/chunked.json"))
    ):
        for case in json.load(open(path, encoding="utf-8"))["cases"]:
            yield case


# verify_query: "<target>\n<host>"; verify_header: "<target>\n<Name>:<value>\n...".
for case in requests():
    host = next((v for n, v in case["headers"] if n.lower() == "host"), "")
    if case["mechanism"] == "query":
        put("verify_query", f"{case['target']}\n{host}".encode())
    else:
        lines = [case["target"]] + [f"{n}:{v}" for n, v in case["headers"]]
        put("verify_header", "\n".join(lines).encode())
    mode = case.get("content_sha256_mode") or ""
    body = base64.b64decode(case.get("body_base64", ""))
    if mode.startswith("STREAMING") and len(body) <= 80_000:
        decoded = next((int(v) for n, v in case["headers"] if n.lower() == "x-amz-decoded-content-length"), 0)
        sel = {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD": 0, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": 1}.get(mode, 2)
        put("chunked_decode", bytes([sel, 251]) + struct.pack("<I", decoded)[:3] + body)

for path in sorted(glob.glob(os.path.join(root, "tests/vectors/v4/*/query-signed-request.txt"))):
    head = open(path, encoding="utf-8").read().split("\n")
    target = head[0].split(" ", 1)[1].rsplit(" HTTP/1.1", 1)[0]
    host = next((l.split(":", 1)[1] for l in head[1:] if l.lower().startswith("host:")), "")
    put("verify_query", f"{target}\n{host}".encode())

# The S3 documentation's aws-chunked example (signed mode), valid as framed.
doc = (b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" + b"a" * 65536
       + b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" + b"a" * 1024
       + b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n")
put("chunked_decode", bytes([0, 97]) + struct.pack("<I", 66560)[:3] + doc)

# post_form: "<bucket>\t<file name>" then one "name=value" line per field, in form order.
for path in sorted(glob.glob(os.path.join(root, "tests/fixtures/*/post.json"))):
    for case in json.load(open(path, encoding="utf-8"))["cases"]:
        lines = [f"{case['bucket']}\tphoto.png"] + [f"{n}={v}" for n, v in case["fields"]]
        put("post_form", "\n".join(lines).encode())

# The S3 documentation's POST example: valid under this target's key at its time.
DOC_POLICY = ("eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9")
doc_fields = [
    ("key", "user/user1/${filename}"), ("acl", "public-read"),
    ("success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"),
    ("Content-Type", "image/jpeg"), ("x-amz-meta-uuid", "14365123651274"),
    ("x-amz-server-side-encryption", "AES256"),
    ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"),
    ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Date", "20151229T000000Z"), ("x-amz-meta-tag", ""),
    ("Policy", DOC_POLICY), ("X-Amz-Signature", "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"),
]
put("post_form", "\n".join(["sigv4examplebucket\tcat.jpg"] + [f"{n}={v}" for n, v in doc_fields]).encode())

# round_trip takes structured input: a few byte patterns to start from.
for i in range(8):
    put("round_trip", bytes((i * 37 + j * 11) % 256 for j in range(64 + 16 * i)))
