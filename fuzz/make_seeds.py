#!/usr/bin/env python3
"""Builds the committed seed corpus (fuzz/seeds/<target>/) from the project's own fixtures:
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

# round_trip takes structured input: a few byte patterns to start from.
for i in range(8):
    put("round_trip", bytes((i * 37 + j * 11) % 256 for j in range(64 + 16 * i)))
