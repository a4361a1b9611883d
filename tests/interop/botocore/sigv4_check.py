"""Independent SigV4 (S3 flavour) recomputation used to check every fixture.

Deliberately written from the specification with only the standard library
(hmac, hashlib, base64, zlib): no botocore code is imported here, so a wrong
clock patch, a wrong header capture or a mangled body shows up as a mismatch.

S3 rules implemented (see tests/interop/botocore/README.md):
  * canonical URI = the request path exactly as sent (no normalisation, no
    re-encoding); an empty path is "/";
  * canonical query = every parameter except X-Amz-Signature, percent-decoded
    (never '+' -> space) and re-encoded with the RFC 3986 unreserved set
    (A-Z a-z 0-9 - . _ ~, '/' encoded), sorted by (key, value), 'k=v' joined
    with '&' (a parameter without '=' becomes 'k=');
  * canonical header value = trimmed, runs of spaces/tabs collapsed to one
    space; names lowercased; host without the scheme's default port;
  * payload hash = x-amz-content-sha256 header (header auth) or
    UNSIGNED-PAYLOAD (query auth).
"""

import base64
import hashlib
import hmac
import json
import re
import zlib
from urllib.parse import unquote_to_bytes, urlsplit

_UNRESERVED = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class CheckError(AssertionError):
    pass


def _require(cond, msg):
    if not cond:
        raise CheckError(msg)


def uri_encode(data, encode_slash=True):
    if isinstance(data, str):
        data = data.encode("utf-8")
    out = []
    for b in data:
        if b in _UNRESERVED or (b == 0x2F and not encode_slash):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def hmac_sha256(key, msg):
    if isinstance(msg, str):
        msg = msg.encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = hmac_sha256(("AWS4" + secret).encode("utf-8"), date)
    k = hmac_sha256(k, region)
    k = hmac_sha256(k, service)
    return hmac_sha256(k, "aws4_request")


def split_target(target):
    path, sep, query = target.partition("?")
    return path, query


def query_pairs(raw_query):
    """Raw query string -> list of (key bytes, value bytes), in order."""
    pairs = []
    if not raw_query:
        return pairs
    for part in raw_query.split("&"):
        if part == "":
            continue
        k, _, v = part.partition("=")
        pairs.append((unquote_to_bytes(k), unquote_to_bytes(v)))
    return pairs


def canonical_query(raw_query):
    enc = [
        (uri_encode(k), uri_encode(v))
        for k, v in query_pairs(raw_query)
        if k != b"X-Amz-Signature"
    ]
    enc.sort()
    return "&".join("%s=%s" % kv for kv in enc)


def canonical_header_value(value):
    return re.sub(r"[ \t]+", " ", value.strip(" \t"))


def host_header(scheme, netloc):
    """Host header value from a URL authority: lowercased, default port dropped."""
    _require("@" not in netloc, "userinfo in authority: %r" % netloc)
    if netloc.startswith("["):
        end = netloc.index("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        port = rest[1:] if rest.startswith(":") else None
    elif ":" in netloc:
        host, port = netloc.rsplit(":", 1)
    else:
        host, port = netloc, None
    host = host.lower()
    if port is None or port == "" or int(port) == _DEFAULT_PORTS.get(scheme):
        return host
    return "%s:%s" % (host, port)


def url_to_target_and_host(url):
    parts = urlsplit(url)
    _require(parts.fragment == "", "fragment in URL %r" % url)
    path = parts.path or "/"
    target = path + ("?" + parts.query if parts.query else "")
    return parts.scheme, target, host_header(parts.scheme, parts.netloc)


def _headers_map(headers):
    m = {}
    for name, value in headers:
        m.setdefault(name.lower(), []).append(value)
    return m


def parse_authorization(value):
    _require(value.startswith(ALGORITHM + " "), "bad Authorization %r" % value)
    fields = {}
    for item in value[len(ALGORITHM) + 1 :].split(","):
        k, _, v = item.strip().partition("=")
        fields[k] = v
    _require(
        set(fields) == {"Credential", "SignedHeaders", "Signature"},
        "Authorization fields %r" % sorted(fields),
    )
    return fields


def verify_request(method, target, headers, secret, body=b""):
    """Verify one request as it goes on the wire.

    headers: list of [name, value] including Host.  Returns a dict describing
    what was found (mechanism, scope, canonical request ...).  Raises
    CheckError on any mismatch.
    """
    path, raw_query = split_target(target)
    _require(path.startswith("/"), "target must start with '/': %r" % target)
    hmap = _headers_map(headers)
    pairs = query_pairs(raw_query)
    qmap = {}
    for k, v in pairs:
        qmap.setdefault(k.decode("utf-8"), []).append(v.decode("utf-8"))

    if "X-Amz-Signature" in qmap:
        mechanism = "query"
        _require("authorization" not in hmap, "both query and header auth")
        for name in (
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        ):
            _require(len(qmap.get(name, [])) == 1, "need exactly one %s" % name)
        _require(qmap["X-Amz-Algorithm"][0] == ALGORITHM, "algorithm")
        credential = qmap["X-Amz-Credential"][0]
        amz_date = qmap["X-Amz-Date"][0]
        signed = qmap["X-Amz-SignedHeaders"][0]
        signature = qmap["X-Amz-Signature"][0]
        expires = int(qmap["X-Amz-Expires"][0])
        _require(str(expires) == qmap["X-Amz-Expires"][0], "expires format")
        _require(1 <= expires <= 604800, "expires range %d" % expires)
        payload_hash = UNSIGNED_PAYLOAD
        token = qmap.get("X-Amz-Security-Token", [None])[0]
    else:
        mechanism = "header"
        _require(len(hmap.get("authorization", [])) == 1, "one Authorization")
        auth = parse_authorization(hmap["authorization"][0])
        credential = auth["Credential"]
        signed = auth["SignedHeaders"]
        signature = auth["Signature"]
        _require(len(hmap.get("x-amz-date", [])) == 1, "one x-amz-date")
        amz_date = hmap["x-amz-date"][0]
        expires = None
        _require(
            len(hmap.get("x-amz-content-sha256", [])) == 1,
            "one x-amz-content-sha256",
        )
        payload_hash = hmap["x-amz-content-sha256"][0]
        token = hmap.get("x-amz-security-token", [None])[0]
        for required in ("host", "x-amz-date", "x-amz-content-sha256"):
            _require(required in signed.split(";"), "%s not signed" % required)

    _require(re.fullmatch(r"\d{8}T\d{6}Z", amz_date) is not None, "date %r" % amz_date)
    _require(re.fullmatch(r"[0-9a-f]{64}", signature) is not None, "sig format")
    akid, date, region, service, terminator = credential.split("/")
    _require(terminator == "aws4_request" and date == amz_date[:8], "scope")

    names = signed.split(";")
    _require(names == sorted(names) and len(set(names)) == len(names), "signed order")
    _require("host" in names, "host not signed")
    lines = []
    for name in names:
        _require(name == name.lower(), "uppercase signed header %r" % name)
        values = hmap.get(name)
        _require(values is not None, "signed header %r not sent" % name)
        lines.append(
            "%s:%s\n" % (name, ",".join(canonical_header_value(v) for v in values))
        )
    creq = "\n".join(
        [
            method,
            path,
            canonical_query(raw_query),
            "".join(lines),
            signed,
            payload_hash,
        ]
    )
    sts = "\n".join(
        [
            ALGORITHM,
            amz_date,
            "/".join([date, region, service, "aws4_request"]),
            hashlib.sha256(creq.encode("utf-8")).hexdigest(),
        ]
    )
    expected = hmac.new(
        signing_key(secret, date, region, service), sts.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    _require(
        expected == signature,
        "signature mismatch: got %s, recomputed %s\ncanonical request:\n%s"
        % (signature, expected, creq),
    )
    if mechanism == "header":
        check_body(hmap, payload_hash, body)
    return {
        "mechanism": mechanism,
        "access_key_id": akid,
        "date": amz_date,
        "region": region,
        "service": service,
        "expires": expires,
        "token": token,
        "signed_headers": names,
        "payload_hash": payload_hash,
        "canonical_request": creq,
    }


def verify_presigned_url(url, method, secret, extra_headers):
    """extra_headers: [name, value] for every signed header other than host."""
    scheme, target, host = url_to_target_and_host(url)
    headers = [["Host", host]] + [list(h) for h in extra_headers]
    return verify_request(method, target, headers, secret)


# ---------------------------------------------------------------- bodies


def _crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _b64(digest):
    return base64.b64encode(digest).decode()


_CHECKSUMS = {
    "content-md5": lambda d: _b64(hashlib.md5(d).digest()),
    "x-amz-checksum-crc32": _crc32_b64,
    "x-amz-checksum-sha512": lambda d: _b64(hashlib.sha512(d).digest()),
    "x-amz-checksum-sha1": lambda d: base64.b64encode(hashlib.sha1(d).digest()).decode(),
    "x-amz-checksum-sha256": lambda d: base64.b64encode(hashlib.sha256(d).digest()).decode(),
}


def decode_aws_chunked(body):
    """Unsigned aws-chunked framing: hex-size CRLF data CRLF ... 0 CRLF trailers CRLF."""
    try:
        return _decode_aws_chunked(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckError("malformed aws-chunked body: %s" % e)


def _decode_aws_chunked(body):
    data = bytearray()
    pos = 0
    while True:
        eol = body.index(b"\r\n", pos)
        size_field = body[pos:eol].decode("ascii")
        _require(";" not in size_field, "unexpected chunk extension %r" % size_field)
        _require(re.fullmatch(r"[0-9a-fA-F]+", size_field) is not None, "chunk size %r" % size_field)
        size = int(size_field, 16)
        pos = eol + 2
        if size == 0:
            break
        data += body[pos : pos + size]
        pos += size
        _require(pos <= len(body), "truncated chunk")
        _require(body[pos : pos + 2] == b"\r\n", "chunk not CRLF terminated")
        pos += 2
    trailers = []
    while True:
        eol = body.index(b"\r\n", pos)
        line = body[pos:eol]
        pos = eol + 2
        if line == b"":
            break
        name, _, value = line.decode("ascii").partition(":")
        trailers.append((name, value))
    _require(pos == len(body), "bytes after final CRLF")
    return bytes(data), trailers


def check_body(hmap, payload_hash, body):
    """Check that the recorded body bytes match what the request claims."""
    data = body
    if re.fullmatch(r"[0-9a-f]{64}", payload_hash):
        _require(
            hashlib.sha256(body).hexdigest() == payload_hash,
            "x-amz-content-sha256 does not match the recorded body",
        )
    elif payload_hash == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
        _require(hmap.get("content-encoding") == ["aws-chunked"], "content-encoding")
        data, trailers = decode_aws_chunked(body)
        _require(
            hmap.get("x-amz-decoded-content-length") == [str(len(data))],
            "x-amz-decoded-content-length",
        )
        announced = hmap.get("x-amz-trailer", [])
        _require([t[0] for t in trailers] == announced, "trailer names")
        for name, value in trailers:
            fn = _CHECKSUMS.get(name)
            _require(fn is not None, "unknown trailer %s" % name)
            _require(fn(data) == value, "trailer %s mismatch" % name)
    else:
        _require(payload_hash == UNSIGNED_PAYLOAD, "payload mode %r" % payload_hash)
    if "content-length" in hmap:
        _require(hmap["content-length"] == [str(len(body))], "content-length")
    for name, fn in _CHECKSUMS.items():
        if name in hmap:
            _require(hmap[name] == [fn(data)], "%s header mismatch" % name)


# ---------------------------------------------------------------- POST


def verify_post(fields, secret, signing_time, expires_in):
    """Browser POST form: signature = hex(HMAC(signing key, base64 policy))."""
    f = dict(fields)
    _require(len(f) == len(fields), "duplicate form fields")
    _require(f["x-amz-algorithm"] == ALGORITHM, "algorithm")
    _require(f["x-amz-date"] == signing_time, "x-amz-date %r" % f["x-amz-date"])
    akid, date, region, service, term = f["x-amz-credential"].split("/")
    _require(date == signing_time[:8] and service == "s3" and term == "aws4_request", "scope")
    policy_b64 = f["policy"]
    expected = hmac.new(
        signing_key(secret, date, region, service), policy_b64.encode("ascii"), hashlib.sha256
    ).hexdigest()
    _require(expected == f["x-amz-signature"], "POST signature mismatch")
    policy_text = base64.b64decode(policy_b64, validate=True).decode("utf-8")
    policy = json.loads(policy_text)
    import datetime as _dt

    t = _dt.datetime.strptime(signing_time, "%Y%m%dT%H%M%SZ")
    want = (t + _dt.timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _require(policy["expiration"] == want, "expiration %r != %r" % (policy["expiration"], want))
    conds = policy["conditions"]
    for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date"):
        _require({name: f[name]} in conds, "policy lacks %s" % name)
    if "x-amz-security-token" in f:
        _require({"x-amz-security-token": f["x-amz-security-token"]} in conds, "token cond")
    return policy_text


# ---------------------------------------------------------------- self-test


def self_test():
    """The AWS documentation vectors (aws-doc-examples.md sections 1 and 2)."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    _require(
        signing_key(secret, "20130524", "us-east-1", "s3").hex()
        == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378",
        "doc signing key",
    )
    url = (
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    verify_presigned_url(url, "GET", secret, [])
    # Header-based GET Object (doc example 2a, Range header).
    verify_request(
        "GET",
        "/test.txt",
        [
            ["Host", "examplebucket.s3.amazonaws.com"],
            ["Range", "bytes=0-9"],
            ["x-amz-content-sha256", EMPTY_SHA256],
            ["x-amz-date", "20130524T000000Z"],
            [
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ],
        ],
        secret,
    )
    # PUT Object with a body and a signed Date header (doc example 2b).
    verify_request(
        "PUT",
        "/test%24file.text",
        [
            ["Host", "examplebucket.s3.amazonaws.com"],
            ["Date", "Fri, 24 May 2013 00:00:00 GMT"],
            ["x-amz-date", "20130524T000000Z"],
            ["x-amz-storage-class", "REDUCED_REDUNDANCY"],
            ["x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"],
            [
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
                "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            ],
        ],
        secret,
        b"Welcome to Amazon S3.",
    )
    # List objects (doc example 2d).
    verify_request(
        "GET",
        "/?max-keys=2&prefix=J",
        [
            ["Host", "examplebucket.s3.amazonaws.com"],
            ["x-amz-date", "20130524T000000Z"],
            ["x-amz-content-sha256", EMPTY_SHA256],
            [
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ],
        ],
        secret,
    )
    # A wrong time must fail.
    try:
        verify_presigned_url(url.replace("20130524T000000Z", "20130524T000001Z"), "GET", secret, [])
    except CheckError:
        pass
    else:
        raise CheckError("self-test: tampered URL verified")


if __name__ == "__main__":
    self_test()
    print("sigv4_check self-test ok")
