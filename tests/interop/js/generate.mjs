// Golden SigV4 fixtures for the `presign` crate, produced by the REAL AWS SDK for
// JavaScript v3, offline and with a frozen clock.  See README.md for the schemas.
//
//   node generate.mjs            (normally run through ./generate.sh)
//
// Every request written out is re-verified by an independent SigV4 implementation
// (plain node:crypto, at the bottom of this file); any mismatch aborts the run.

import { createHash, createHmac } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.resolve(HERE, "../../fixtures/js");

// ---------------------------------------------------------------------------
// 1. Hermetic environment: no AWS_* variables, no ~/.aws files, fixed clock,
//    fixed UUIDs, fixed host description in the User-Agent.  All of this must
//    happen BEFORE the SDK is imported (it reads some of it at load time).
// ---------------------------------------------------------------------------
for (const k of Object.keys(process.env)) {
  if (k.startsWith("AWS_")) delete process.env[k];
}
process.env.AWS_CONFIG_FILE = path.join(HERE, ".no-such-aws-config");
process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(HERE, ".no-such-aws-credentials");
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
process.env.TZ = "UTC";

// Frozen clock.  `new Date()` and `Date.now()` return the current case's signing time.
const RealDate = Date;
const DEFAULT_FROZEN_MS = RealDate.UTC(2013, 4, 24, 0, 0, 0);
let frozenMs = DEFAULT_FROZEN_MS;
class FrozenDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(frozenMs);
    else super(...args);
  }
  static now() {
    return frozenMs;
  }
}
globalThis.Date = FrozenDate;

// Deterministic amz-sdk-invocation-id (it is a SIGNED header of every send()):
// UUIDv4-shaped, derived from the case name and a per-case counter.
let uuidSeed = "init";
let uuidCounter = 0;
globalThis.crypto.randomUUID = () => {
  const h = createHash("sha256").update(`${uuidSeed}#${uuidCounter++}`).digest();
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
};

// The (unsigned) User-Agent carries os/<platform>#<release> and md/nodejs#<version>;
// pin them so that the fixtures do not depend on the machine that generated them.
const FIXED_OS_PLATFORM = "linux";
const FIXED_OS_RELEASE = "fixture";
const FIXED_NODE_VERSION = "fixture";
const REAL_NODE_VERSION = process.versions.node;
os.platform = () => FIXED_OS_PLATFORM;
os.release = () => FIXED_OS_RELEASE;
Object.defineProperty(process.versions, "node", { value: FIXED_NODE_VERSION, enumerable: true, configurable: true });

// ---------------------------------------------------------------------------
// 2. The SDK (imported only now).
// ---------------------------------------------------------------------------
const s3 = await import("@aws-sdk/client-s3");
const { getSignedUrl, S3RequestPresigner } = await import("@aws-sdk/s3-request-presigner");
const { createPresignedPost } = await import("@aws-sdk/s3-presigned-post");
const { SignatureV4 } = await import("@smithy/signature-v4");
const { HttpRequest, HttpResponse, buildQueryString } = await import("@smithy/core/protocols");
// (process.versions.node stays pinned: the SDK reads it whenever a client is constructed.)

const {
  S3Client,
  GetObjectCommand,
  PutObjectCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
} = s3;

function pkgVersion(name) {
  const p = path.join(HERE, "node_modules", ...name.split("/"), "package.json");
  return JSON.parse(fs.readFileSync(p, "utf8")).version;
}
const VERSIONS = Object.fromEntries(
  [
    "@aws-sdk/client-s3",
    "@aws-sdk/s3-request-presigner",
    "@aws-sdk/s3-presigned-post",
    "@aws-sdk/signature-v4-multi-region",
    "@aws-sdk/middleware-sdk-s3",
    "@aws-sdk/checksums",
    "@aws-sdk/core",
    "@smithy/signature-v4",
    "@smithy/core",
    "@smithy/node-http-handler",
  ].map((n) => [n, pkgVersion(n)]),
);
const SOURCE =
  "AWS SDK for JavaScript v3: " +
  Object.entries(VERSIONS)
    .map(([n, v]) => `${n}@${v}`)
    .join(", ") +
  `. Generated offline by tests/interop/js/generate.mjs (run by generate.sh; node ${REAL_NODE_VERSION} used): ` +
  "Date/Date.now frozen to each case's signing_time, crypto.randomUUID made deterministic (amz-sdk-invocation-id), " +
  `os.platform/os.release/process.versions.node pinned to ${FIXED_OS_PLATFORM}/${FIXED_OS_RELEASE}/${FIXED_NODE_VERSION} for the User-Agent, ` +
  "no AWS_* environment or ~/.aws files, S3Client with a recording requestHandler (no network). " +
  "Every case was re-verified by an independent SigV4 implementation in node:crypto.";

// ---------------------------------------------------------------------------
// 3. Small helpers.
// ---------------------------------------------------------------------------
function die(msg) {
  throw new Error(msg);
}
function assert(cond, msg) {
  if (!cond) die(`ASSERTION FAILED: ${msg}`);
}
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  assert(m, `bad amz date ${s}`);
  return RealDate.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}
function setCase(name, signingTime) {
  frozenMs = parseAmzDate(signingTime);
  uuidSeed = name;
  uuidCounter = 0;
}
function b64(buf) {
  return Buffer.from(buf).toString("base64");
}
// Deterministic pseudo-random bytes.
function detBytes(n, seed) {
  const out = Buffer.alloc(n);
  let off = 0;
  let i = 0;
  while (off < n) {
    const h = createHash("sha256").update(`${seed}:${i++}`).digest();
    off += h.copy(out, off);
  }
  return out;
}
async function drain(body) {
  if (body == null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const toBuf = (c) => (typeof c === "string" ? Buffer.from(c, "utf8") : Buffer.from(c));
  if (typeof body.getReader === "function") {
    const reader = body.getReader();
    const parts = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(toBuf(value));
    }
    return Buffer.concat(parts);
  }
  if (typeof body[Symbol.asyncIterator] === "function") {
    const parts = [];
    for await (const c of body) parts.push(toBuf(c));
    return Buffer.concat(parts);
  }
  die(`cannot drain body of type ${body?.constructor?.name}`);
}

// The request-target exactly as @smithy/node-http-handler builds it:
//   path + (query ? "?" + buildQueryString(query) : "") + (fragment ? "#" + fragment : "")
function targetOf(request) {
  const qs = request.query ? buildQueryString(request.query) : "";
  let t = request.path;
  if (qs) t += `?${qs}`;
  if (request.fragment) t += `#${request.fragment}`;
  return t;
}
function hostOf(request) {
  return `${request.hostname}${request.port != null ? `:${request.port}` : ""}`;
}

// ---------------------------------------------------------------------------
// 4. Offline transport: records the signed HttpRequest, answers 200.
// ---------------------------------------------------------------------------
const EMPTY_RESPONSE = { headers: {}, body: "" };
function responseFor(operation, input) {
  const xml = (s) => ({ headers: { "content-type": "application/xml" }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${s}` });
  switch (operation) {
    case "GetObject":
      return { headers: { "content-length": "5", etag: '"5d41402abc4b2a76b9719d911017c592"' }, body: "hello" };
    case "PutObject":
    case "UploadPart":
      return { headers: { etag: '"d41d8cd98f00b204e9800998ecf8427e"' }, body: "" };
    case "ListObjectsV2":
      return xml(
        `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${input.Bucket}</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`,
      );
    case "CreateMultipartUpload":
      return xml(
        `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${input.Bucket}</Bucket><Key>k</Key><UploadId>upload-id</UploadId></InitiateMultipartUploadResult>`,
      );
    case "CompleteMultipartUpload":
      return xml(
        `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>https://example/k</Location><Bucket>${input.Bucket}</Bucket><Key>k</Key><ETag>"etag-2"</ETag></CompleteMultipartUploadResult>`,
      );
    case "CopyObject":
      return xml(
        `<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LastModified>2013-05-24T00:00:00.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag></CopyObjectResult>`,
      );
    case "DeleteObjects":
      return xml(`<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>`);
    default:
      return EMPTY_RESPONSE;
  }
}
class RecordingHandler {
  constructor() {
    this.records = [];
    this.operation = null;
    this.input = null;
  }
  async handle(request) {
    const body = await drain(request.body);
    this.records.push({
      method: request.method,
      protocol: request.protocol,
      hostname: request.hostname,
      port: request.port,
      path: request.path,
      query: structuredClone(request.query ?? {}),
      fragment: request.fragment,
      headers: Object.entries(request.headers ?? {}),
      target: targetOf(request),
      body,
    });
    const r = responseFor(this.operation, this.input ?? {});
    return {
      response: new HttpResponse({
        statusCode: 200,
        reason: "OK",
        headers: { ...r.headers },
        body: Readable.from(r.body ? [Buffer.from(r.body)] : []),
      }),
    };
  }
  updateHttpClientConfig() {}
  httpHandlerConfigs() {
    return {};
  }
}

const CAPTURED = { presigned: null };
function makeClient({ region, creds, endpoint, forcePathStyle, extra }) {
  const handler = new RecordingHandler();
  const config = {
    region,
    credentials: {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}),
    },
    requestHandler: handler,
    ...(endpoint ? { endpoint } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
    ...(extra ?? {}),
  };
  const client = new S3Client(config);
  // getSignedUrl clones this stack; its presign interceptor returns { output: { presigned } },
  // which an initialize-step middleware sees on the way back out.  That gives us the signed
  // HttpRequest (headers included), not only the formatted URL.
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      if (result?.output?.presigned) CAPTURED.presigned = result.output.presigned;
      return result;
    },
    { step: "initialize", name: "fixtureCapturePresigned", override: true },
  );
  return { client, handler };
}

// ---------------------------------------------------------------------------
// 5. Credentials, keys, times.
// ---------------------------------------------------------------------------
const DOC = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const GEN = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const STS = {
  accessKeyId: "ASIAEXAMPLEEXAMPLE12",
  secretAccessKey: "tEsTsEcReT/+WITH/slash+and+plus=",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE/SESSION+TOKEN//with==padding==",
};
const STS2 = { accessKeyId: "ASIAZZZEXAMPLE", secretAccessKey: "s3cr3t", sessionToken: "SESSION/TOKEN+==" };
const T0 = "20130524T000000Z";
const T1 = "20240229T235959Z";
const T2 = "20251231T235959Z";
const T3 = "20200101T000000Z";
const T4 = "20230815T123456Z";

const HARD_KEYS = [
  ["space", "a b c.txt"],
  ["plus", "a+b+c"],
  ["tilde", "~user/file~1"],
  ["percent", "100%"],
  ["literal-pct20", "a%20b"],
  ["reserved-eq-amp-q-hash", "k=v&x?y#z"],
  ["sub-delims", "!'()*"],
  ["unicode", "ü/日本.txt"],
  ["emoji", "😀 é"],
  ["double-slash", "a//b///c"],
  ["leading-slash", "/leading"],
  ["dot-segments", "./x/../y/."],
  ["dotdot-leading", "../../etc/passwd"],
  ["slash-dot-dot", "/./../x/"],
  ["kitchen-sink", "a b+c=d~e/f//g?h#i%j&k:l@m!n*o(p)q'r,s;t$u"],
  ["control-chars", "line1\nline2\ttab"],
  ["trailing-slash", "dir/"],
];

// ===========================================================================
// Independent verification (node:crypto only; nothing from the SDK).
// ===========================================================================
function hmac(key, data) {
  return createHmac("sha256", key).update(data).digest();
}
function sha256hex(data) {
  return createHash("sha256").update(data).digest("hex");
}
function signingKey(secret, date, region, service) {
  return hmac(hmac(hmac(hmac(Buffer.from(`AWS4${secret}`, "utf8"), date), region), service), "aws4_request");
}
function uriEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}
function canonicalHeaderValue(v) {
  return v.replace(/[\r\n]/g, " ").trim().replace(/[ \t]+/g, " ");
}
function parseTarget(target) {
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? "" : target.slice(q + 1);
  const params = rawQuery
    ? rawQuery.split("&").map((kv) => {
        const e = kv.indexOf("=");
        const k = e < 0 ? kv : kv.slice(0, e);
        const v = e < 0 ? "" : kv.slice(e + 1);
        return [decodeURIComponent(k), decodeURIComponent(v)];
      })
    : [];
  return { rawPath, params };
}
function canonicalQuery(params) {
  return params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}
function verifyRequestCase(c) {
  const where = `[verify ${c.name}]`;
  assert(c.target.startsWith("/"), `${where} target must start with /`);
  assert(!/[^\x21-\x7e]/.test(c.target), `${where} target has a non-printable or non-ASCII byte`);
  const { rawPath, params } = parseTarget(c.target);
  let signature, credential, amzDate, signedHeaders, payloadHash, queryForCanon;
  if (c.mechanism === "query") {
    const get = (k) => {
      const hits = params.filter(([pk]) => pk === k);
      assert(hits.length === 1, `${where} ${k} must appear exactly once`);
      return hits[0][1];
    };
    assert(get("X-Amz-Algorithm") === "AWS4-HMAC-SHA256", `${where} algorithm`);
    signature = get("X-Amz-Signature");
    credential = get("X-Amz-Credential");
    amzDate = get("X-Amz-Date");
    signedHeaders = get("X-Amz-SignedHeaders");
    assert(get("X-Amz-Expires") === String(c.expires_in), `${where} X-Amz-Expires`);
    assert(c.expires_in >= 1 && c.expires_in <= 604800, `${where} expires range`);
    const tokenHits = params.filter(([k]) => k === "X-Amz-Security-Token");
    assert((tokenHits[0]?.[1] ?? null) === c.session_token, `${where} session token in query`);
    const sha = params.filter(([k]) => k === "X-Amz-Content-Sha256");
    payloadHash = sha.length ? sha[0][1] : "UNSIGNED-PAYLOAD";
    assert(payloadHash === "UNSIGNED-PAYLOAD" && c.content_sha256_mode === "UNSIGNED-PAYLOAD", `${where} payload mode`);
    queryForCanon = params.filter(([k]) => k !== "X-Amz-Signature");
  } else {
    const auth = findHeader(c.headers, "authorization");
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth ?? "");
    assert(m, `${where} authorization header ${auth}`);
    [, credential, signedHeaders, signature] = m;
    amzDate = findHeader(c.headers, "x-amz-date");
    payloadHash = findHeader(c.headers, "x-amz-content-sha256");
    assert(payloadHash, `${where} no x-amz-content-sha256`);
    assert(c.session_token === (findHeader(c.headers, "x-amz-security-token") ?? null), `${where} session token header`);
    queryForCanon = params;
    const body = Buffer.from(c.body_base64, "base64");
    if (c.content_sha256_mode === "sha256") {
      assert(payloadHash === sha256hex(body), `${where} x-amz-content-sha256 != sha256(body)`);
      const cl = findHeader(c.headers, "content-length");
      if (cl !== undefined) assert(Number(cl) === body.length, `${where} content-length`);
      verifyChecksumHeaders(where, c.headers, body);
    } else if (c.content_sha256_mode === "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
      verifyUnsignedTrailerBody(where, c, body);
    } else if (c.content_sha256_mode === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
      // verified after the seed signature below
    } else {
      die(`${where} unexpected payload mode ${c.content_sha256_mode}`);
    }
  }
  // This is what catches a clock freeze that did not take.
  assert(amzDate === c.signing_time, `${where} X-Amz-Date ${amzDate} != signing_time ${c.signing_time}`);
  const [akid, shortDate, region, service, term, ...rest] = credential.split("/");
  assert(rest.length === 0 && term === "aws4_request", `${where} credential ${credential}`);
  assert(akid === c.access_key_id && shortDate === c.signing_time.slice(0, 8) && region === c.region && service === c.service, `${where} scope ${credential}`);
  const names = signedHeaders.split(";");
  assert(names.includes("host"), `${where} host not signed`);
  assert(JSON.stringify([...names].sort()) === JSON.stringify(names), `${where} signed headers not sorted`);
  let canonHeaders = "";
  for (const n of names) {
    const hits = c.headers.filter(([k]) => k.toLowerCase() === n);
    assert(hits.length === 1, `${where} signed header ${n} present ${hits.length} times`);
    canonHeaders += `${n}:${canonicalHeaderValue(hits[0][1])}\n`;
  }
  const canonicalRequest = [c.method, rawPath, canonicalQuery(queryForCanon), canonHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256hex(canonicalRequest)].join("\n");
  const key = signingKey(c.secret_access_key, shortDate, region, service);
  const expected = hmac(key, stringToSign).toString("hex");
  if (expected !== signature) {
    die(`${where} SIGNATURE MISMATCH: sdk ${signature}, independent ${expected}\n--- canonical request ---\n${canonicalRequest}\n---`);
  }
  if (c.content_sha256_mode === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
    verifySignedChunkBody(where, c, Buffer.from(c.body_base64, "base64"), signature, key, scope);
  }
}

// --- checksums, implemented here from their definitions ---
function makeTable32(poly) {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}
const CRC32_T = makeTable32(0xedb88320);
const CRC32C_T = makeTable32(0x82f63b78);
function crc32With(t, buf) {
  let c = 0xffffffff;
  for (const b of buf) c = t[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}
const CRC64_POLY = 0x9a6c9329ac4bc9b5n; // CRC-64/NVME, reflected
const CRC64_T = (() => {
  const t = new Array(256);
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
    t[Number(i)] = c;
  }
  return t;
})();
function crc64nvme(buf) {
  const M = 0xffffffffffffffffn;
  let c = M;
  for (const b of buf) c = CRC64_T[Number((c ^ BigInt(b)) & 0xffn)] ^ (c >> 8n);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE((c ^ M) & M);
  return out;
}
function checksumB64(alg, buf) {
  switch (alg) {
    case "crc32":
      return crc32With(CRC32_T, buf).toString("base64");
    case "crc32c":
      return crc32With(CRC32C_T, buf).toString("base64");
    case "crc64nvme":
      return crc64nvme(buf).toString("base64");
    case "sha1":
      return createHash("sha1").update(buf).digest("base64");
    case "sha256":
      return createHash("sha256").update(buf).digest("base64");
    default:
      die(`unknown checksum ${alg}`);
  }
}
// Self-test against the published check values ("123456789").
{
  const nine = Buffer.from("123456789");
  assert(crc32With(CRC32_T, nine).toString("hex") === "cbf43926", "crc32 self-test");
  assert(crc32With(CRC32C_T, nine).toString("hex") === "e3069283", "crc32c self-test");
  assert(crc64nvme(nine).toString("hex") === "ae8b14860a799888", "crc64nvme self-test");
}
function verifyChecksumHeaders(where, headers, body) {
  for (const [k, v] of headers) {
    const m = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/i.exec(k);
    if (m) assert(v === checksumB64(m[1].toLowerCase(), body), `${where} ${k} ${v} != independent ${checksumB64(m[1].toLowerCase(), body)}`);
  }
  const md5 = findHeader(headers, "content-md5");
  if (md5 !== undefined) assert(md5 === createHash("md5").update(body).digest("base64"), `${where} content-md5`);
}
function readLine(buf, off, where) {
  const e = buf.indexOf("\r\n", off);
  assert(e >= 0, `${where} unterminated line in aws-chunked body`);
  return [buf.subarray(off, e).toString("latin1"), e + 2];
}
function verifyUnsignedTrailerBody(where, c, body) {
  assert(findHeader(c.headers, "content-encoding")?.split(",").map((s) => s.trim()).includes("aws-chunked"), `${where} content-encoding`);
  const trailerName = findHeader(c.headers, "x-amz-trailer");
  assert(trailerName, `${where} no x-amz-trailer`);
  let off = 0;
  const data = [];
  for (;;) {
    let line;
    [line, off] = readLine(body, off, where);
    assert(/^[0-9a-f]+$/.test(line), `${where} chunk-size line ${JSON.stringify(line)}`);
    const n = parseInt(line, 16);
    if (n === 0) break;
    data.push(body.subarray(off, off + n));
    off += n;
    assert(body.subarray(off, off + 2).toString("latin1") === "\r\n", `${where} chunk CRLF`);
    off += 2;
  }
  const decoded = Buffer.concat(data);
  const trailers = [];
  for (;;) {
    let line;
    [line, off] = readLine(body, off, where);
    if (line === "") break;
    trailers.push(line);
  }
  assert(off === body.length, `${where} bytes after the final CRLF`);
  assert(trailers.length === 1, `${where} expected one trailer, got ${trailers.length}`);
  const [tn, tv] = [trailers[0].slice(0, trailers[0].indexOf(":")), trailers[0].slice(trailers[0].indexOf(":") + 1)];
  assert(tn === trailerName, `${where} trailer name ${tn} != x-amz-trailer ${trailerName}`);
  const alg = /^x-amz-checksum-(.+)$/.exec(tn)[1];
  assert(tv === checksumB64(alg, decoded), `${where} trailer ${tn} ${tv} != independent ${checksumB64(alg, decoded)}`);
  const dcl = findHeader(c.headers, "x-amz-decoded-content-length");
  if (dcl !== undefined) assert(Number(dcl) === decoded.length, `${where} x-amz-decoded-content-length ${dcl} != ${decoded.length}`);
  assert(findHeader(c.headers, "content-length") === undefined, `${where} unexpected content-length on a chunked body`);
}
function verifySignedChunkBody(where, c, body, seedSignature, key, scope) {
  let off = 0;
  let prior = seedSignature;
  const data = [];
  for (;;) {
    let line;
    [line, off] = readLine(body, off, where);
    const m = /^([0-9a-f]+);chunk-signature=([0-9a-f]{64})$/.exec(line);
    assert(m, `${where} chunk header ${JSON.stringify(line)}`);
    const n = parseInt(m[1], 16);
    const chunk = body.subarray(off, off + n);
    off += n;
    assert(body.subarray(off, off + 2).toString("latin1") === "\r\n", `${where} chunk CRLF`);
    off += 2;
    const sts = ["AWS4-HMAC-SHA256-PAYLOAD", c.signing_time, scope, prior, sha256hex(""), sha256hex(chunk)].join("\n");
    const want = hmac(key, sts).toString("hex");
    assert(want === m[2], `${where} chunk signature mismatch at offset ${off}`);
    prior = want;
    data.push(chunk);
    if (n === 0) break;
  }
  assert(off === body.length, `${where} trailing bytes after final chunk`);
  assert(Number(findHeader(c.headers, "x-amz-decoded-content-length")) === Buffer.concat(data).length, `${where} decoded length`);
  assert(Number(findHeader(c.headers, "content-length")) === body.length, `${where} content-length`);
}
function verifyPostCase(c) {
  const where = `[verify ${c.name}]`;
  const f = Object.fromEntries(c.fields);
  assert(c.fields.length === Object.keys(f).length, `${where} duplicate field names`);
  assert(f["X-Amz-Algorithm"] === "AWS4-HMAC-SHA256", `${where} algorithm`);
  assert(f["X-Amz-Date"] === c.signing_time, `${where} X-Amz-Date ${f["X-Amz-Date"]} != ${c.signing_time}`);
  const shortDate = c.signing_time.slice(0, 8);
  assert(f["X-Amz-Credential"] === `${c.access_key_id}/${shortDate}/${c.region}/s3/aws4_request`, `${where} credential`);
  assert((f["X-Amz-Security-Token"] ?? null) === c.session_token, `${where} token`);
  assert(f.key === c.key && f.bucket === c.bucket, `${where} key/bucket fields`);
  const key = signingKey(c.secret_access_key, shortDate, c.region, "s3");
  const want = hmac(key, f.Policy).toString("hex");
  assert(want === f["X-Amz-Signature"], `${where} POST SIGNATURE MISMATCH sdk ${f["X-Amz-Signature"]} independent ${want}`);
  assert(Buffer.from(c.policy_json, "utf8").toString("base64") === f.Policy, `${where} policy base64`);
  const policy = JSON.parse(c.policy_json);
  const exp = new RealDate(parseAmzDate(c.signing_time) + c.expires_in * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  assert(policy.expiration === exp, `${where} expiration ${policy.expiration} != ${exp}`);
  assert(Object.keys(policy).join(",") === "expiration,conditions", `${where} policy key order`);
}

// ---------------------------------------------------------------------------
// 6. Case builders.
// ---------------------------------------------------------------------------
const requests = [];
const chunked = [];
const posts = [];
const seenNames = new Set();
function uniqueName(name) {
  assert(!seenNames.has(name), `duplicate case name ${name}`);
  seenNames.add(name);
  return name;
}
function payloadMode(v) {
  if (v == null) return null;
  if (/^[0-9a-f]{64}$/.test(v)) return "sha256";
  return v;
}
function findHeader(headers, name) {
  const l = name.toLowerCase();
  const hits = headers.filter(([k]) => k.toLowerCase() === l);
  return hits.length ? hits[0][1] : undefined;
}

const COMMANDS = {
  GetObject: GetObjectCommand,
  PutObject: PutObjectCommand,
  HeadObject: HeadObjectCommand,
  DeleteObject: DeleteObjectCommand,
  DeleteObjects: DeleteObjectsCommand,
  ListObjectsV2: ListObjectsV2Command,
  CreateMultipartUpload: CreateMultipartUploadCommand,
  UploadPart: UploadPartCommand,
  CompleteMultipartUpload: CompleteMultipartUploadCommand,
  CopyObject: CopyObjectCommand,
};

// Presigned URL via getSignedUrl -> mechanism "query".
async function presignCase({
  name,
  op,
  input,
  creds = GEN,
  region = "us-east-1",
  time = T0,
  expiresIn, // undefined => SDK default (900)
  endpoint,
  forcePathStyle,
  clientExtra,
  options = {},
  notes = null,
}) {
  uniqueName(name);
  setCase(name, time);
  const { client } = makeClient({ region, creds, endpoint, forcePathStyle, extra: clientExtra });
  CAPTURED.presigned = null;
  const signingDate = new Date(parseAmzDate(time));
  const url = await getSignedUrl(client, new COMMANDS[op]({ ...input }), {
    signingDate,
    ...(expiresIn !== undefined ? { expiresIn } : {}),
    ...options,
  });
  const p = CAPTURED.presigned;
  assert(p, `${name}: presigned request not captured`);
  const u = new URL(url);
  const target = targetOf(p);
  assert(url === `${p.protocol}//${hostOf(p)}${target}`, `${name}: URL ${url} != rebuilt from request`);
  const whatwg = u.pathname + u.search;
  const whatwgNote =
    whatwg === target
      ? null
      : `WARNING: WHATWG URL parsing (new URL(), fetch) rewrites this URL's path to ${JSON.stringify(u.pathname)}, so a client using it would not send the signed target`;
  const signedList = p.query["X-Amz-SignedHeaders"].split(";");
  const sdkHeaders = Object.entries(p.headers);
  const headers = [];
  for (const h of signedList) {
    const hits = sdkHeaders.filter(([k]) => k.toLowerCase() === h);
    assert(hits.length === 1, `${name}: signed header ${h} not found exactly once`);
    headers.push(hits[0]);
  }
  assert(findHeader(headers, "host") === hostOf(p), `${name}: host header ${findHeader(headers, "host")} != ${hostOf(p)}`);
  const leftover = sdkHeaders
    .filter(([k]) => !signedList.includes(k.toLowerCase()) && k.toLowerCase() !== "user-agent")
    .map(([k, v]) => `${k}: ${v}`);
  const autoNote = leftover.length
    ? `headers the SDK kept on the request but neither signed nor put in the URL (a client may send them or not): ${leftover.join("; ")}`
    : null;
  const c = {
    name,
    origin: "getSignedUrl",
    operation: op,
    mechanism: "query",
    access_key_id: creds.accessKeyId,
    secret_access_key: creds.secretAccessKey,
    session_token: creds.sessionToken ?? null,
    region,
    service: "s3",
    signing_time: time,
    expires_in: Number(p.query["X-Amz-Expires"]),
    method: p.method,
    scheme: p.protocol.replace(/:$/, ""),
    target,
    headers,
    body_base64: "",
    content_sha256_mode: payloadMode(p.query["X-Amz-Content-Sha256"] ?? "UNSIGNED-PAYLOAD"),
    url,
    notes: [notes, autoNote, whatwgNote].filter(Boolean).join(" | ") || null,
  };
  assert(expiresIn === undefined || c.expires_in === expiresIn, `${name}: expires mismatch`);
  verifyRequestCase(c);
  requests.push(c);
  return c;
}

// Real client send() -> mechanism "header".
async function sendCase({
  name,
  op,
  input,
  creds = GEN,
  region = "us-east-1",
  time = T0,
  endpoint,
  forcePathStyle,
  clientExtra,
  notes = null,
  into = requests,
  origin = "S3Client.send",
}) {
  uniqueName(name);
  setCase(name, time);
  const { client, handler } = makeClient({ region, creds, endpoint, forcePathStyle, extra: clientExtra });
  handler.operation = op;
  handler.input = input;
  const inputCopy = { ...input };
  const warnings = [];
  const origWarn = console.warn;
  console.warn = (...a) => warnings.push(a.join(" "));
  try {
    const out = await client.send(new COMMANDS[op](inputCopy));
    if (op === "GetObject") await out.Body.transformToByteArray();
  } finally {
    console.warn = origWarn;
  }
  assert(handler.records.length === 1, `${name}: expected exactly one request, got ${handler.records.length}`);
  const r = handler.records[0];
  const headers = r.headers;
  for (const [k, v] of headers) assert(typeof v === "string", `${name}: header ${k} is not a string`);
  const host = findHeader(headers, "host");
  assert(host === hostOf(r), `${name}: host header ${host} != ${hostOf(r)}`);
  const c = {
    name,
    origin,
    operation: op,
    mechanism: "header",
    access_key_id: creds.accessKeyId,
    secret_access_key: creds.secretAccessKey,
    session_token: creds.sessionToken ?? null,
    region,
    service: "s3",
    signing_time: time,
    expires_in: null,
    method: r.method,
    scheme: r.protocol.replace(/:$/, ""),
    target: r.target,
    headers,
    body_base64: b64(r.body),
    content_sha256_mode: payloadMode(findHeader(headers, "x-amz-content-sha256")),
    url: null,
    notes: [notes, ...warnings.map((w) => `SDK warning: ${w}`)].filter(Boolean).join(" | ") || null,
  };
  verifyRequestCase(c);
  into.push(c);
  return c;
}

// ---------------------------------------------------------------------------
// 7. requests.json cases.
// ---------------------------------------------------------------------------

// 7a. The AWS documentation example through the bare SignatureV4 (S3 semantics:
//     uriEscapePath false, UNSIGNED-PAYLOAD, nothing else added) -- asserted.
{
  const name = "doc-example-bare-signaturev4";
  uniqueName(name);
  setCase(name, T0);
  const sha256 = new S3Client({ region: "us-east-1", credentials: DOC }).config.sha256;
  const signer = new SignatureV4({ credentials: DOC, region: "us-east-1", service: "s3", sha256, uriEscapePath: false });
  const req = new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname: "examplebucket.s3.amazonaws.com",
    path: "/test.txt",
    headers: { host: "examplebucket.s3.amazonaws.com", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  });
  // x-amz-content-sha256 only selects the payload hash (getPayloadHash reads it first);
  // it is kept out of both the signed headers and the query so nothing is added.
  const noExtra = () => new Set(["x-amz-content-sha256"]);
  const p = await signer.presign(req, {
    signingDate: new Date(parseAmzDate(T0)),
    expiresIn: 86400,
    unsignableHeaders: noExtra(),
    unhoistableHeaders: noExtra(),
  });
  const EXPECTED = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
  assert(p.query["X-Amz-Signature"] === EXPECTED, `doc example signature ${p.query["X-Amz-Signature"]} != ${EXPECTED}`);
  const target = targetOf(p);
  const c = {
    name,
    origin: "SignatureV4.presign",
    operation: "GetObject",
    mechanism: "query",
    access_key_id: DOC.accessKeyId,
    secret_access_key: DOC.secretAccessKey,
    session_token: null,
    region: "us-east-1",
    service: "s3",
    signing_time: T0,
    expires_in: 86400,
    method: "GET",
    scheme: "https",
    target,
    headers: [["host", "examplebucket.s3.amazonaws.com"]],
    body_base64: "",
    content_sha256_mode: "UNSIGNED-PAYLOAD",
    url: `https://examplebucket.s3.amazonaws.com${target}`,
    notes:
      "AWS S3 documentation presigned-URL example, reproduced with the bare @smithy/signature-v4 SignatureV4 (uriEscapePath:false, payload hash UNSIGNED-PAYLOAD, X-Amz-Content-Sha256 neither signed nor hoisted); signature asserted = aeeed9bb...d404",
  };
  verifyRequestCase(c);
  requests.push(c);
}

// Same request through S3RequestPresigner (what getSignedUrl uses): it hoists
// X-Amz-Content-Sha256=UNSIGNED-PAYLOAD into the query, so the signature differs.
{
  const name = "doc-example-s3requestpresigner";
  uniqueName(name);
  setCase(name, T0);
  const sha256 = new S3Client({ region: "us-east-1", credentials: DOC }).config.sha256;
  const presigner = new S3RequestPresigner({ credentials: DOC, region: "us-east-1", sha256 });
  const req = new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname: "examplebucket.s3.amazonaws.com",
    path: "/test.txt",
    headers: {},
  });
  const p = await presigner.presign(req, { signingDate: new Date(parseAmzDate(T0)), expiresIn: 86400 });
  const target = targetOf(p);
  const c = {
    name,
    origin: "S3RequestPresigner.presign",
    operation: "GetObject",
    mechanism: "query",
    access_key_id: DOC.accessKeyId,
    secret_access_key: DOC.secretAccessKey,
    session_token: null,
    region: "us-east-1",
    service: "s3",
    signing_time: T0,
    expires_in: 86400,
    method: "GET",
    scheme: "https",
    target,
    headers: [["host", p.headers.host]],
    body_base64: "",
    content_sha256_mode: "UNSIGNED-PAYLOAD",
    url: `https://${p.headers.host}${target}`,
    notes:
      "Doc example inputs through S3RequestPresigner directly (no client, no x-id): it adds X-Amz-Content-Sha256=UNSIGNED-PAYLOAD to the query, which changes the signature from the documentation's.",
  };
  verifyRequestCase(c);
  requests.push(c);
}

// 7b. getSignedUrl: GetObject.
await presignCase({ name: "presign-get-doc-inputs", op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt" }, creds: DOC, expiresIn: 86400 });
await presignCase({ name: "presign-get-default-expiry", op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt" }, time: T3, notes: "expiresIn not given: SDK default 900" });
await presignCase({
  name: "presign-get-response-overrides",
  op: "GetObject",
  input: {
    Bucket: "examplebucket",
    Key: "reports/2024.pdf",
    ResponseContentType: "application/pdf; charset=utf-8",
    ResponseContentDisposition: 'attachment; filename="a b.txt"',
    ResponseCacheControl: "no-cache, max-age=0",
    ResponseContentLanguage: "en-US",
    ResponseContentEncoding: "gzip",
    ResponseExpires: new Date(RealDate.UTC(2030, 0, 1, 0, 0, 0)),
  },
  time: T1,
  expiresIn: 3600,
});
await presignCase({ name: "presign-get-versionid", op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt", VersionId: "v+1 2~x" }, expiresIn: 86400 });
await presignCase({ name: "presign-get-range", op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt", Range: "bytes=0-9" }, time: T4, expiresIn: 600, notes: "Range stays a signed header" });
await presignCase({
  name: "presign-get-all-params-session",
  op: "GetObject",
  input: { Bucket: "examplebucket", Key: "x/y z.bin", VersionId: "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", ResponseContentType: "text/plain", ResponseContentDisposition: "inline", Range: "bytes=100-" },
  creds: STS,
  time: T2,
  expiresIn: 43200,
});
await presignCase({ name: "presign-get-session-token", op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt" }, creds: STS2, expiresIn: 86400, notes: "token SESSION/TOKEN+== goes in the query before signing" });
await presignCase({ name: "presign-get-if-none-match", op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt", IfNoneMatch: '"abc"', IfModifiedSince: new Date(RealDate.UTC(2013, 4, 1)) }, expiresIn: 300 });
await presignCase({ name: "presign-get-expected-bucket-owner", op: "GetObject", input: { Bucket: "examplebucket", Key: "o", ExpectedBucketOwner: "111122223333", RequestPayer: "requester" }, expiresIn: 120, notes: "x-amz-expected-bucket-owner / x-amz-request-payer are hoisted into the query" });
await presignCase({ name: "presign-get-sse-c", op: "GetObject", input: { Bucket: "examplebucket", Key: "secret", SSECustomerAlgorithm: "AES256", SSECustomerKey: "0123456789abcdef0123456789abcdef" }, expiresIn: 120, notes: "x-amz-server-side-encryption-customer-* are unhoistable: they stay signed headers" });
for (const [tag, key] of HARD_KEYS) {
  await presignCase({ name: `presign-get-key-${tag}`, op: "GetObject", input: { Bucket: "examplebucket", Key: key }, time: T4, expiresIn: 3600, notes: `key ${JSON.stringify(key)}` });
}
// Regions, endpoints, expiries.
await presignCase({ name: "presign-get-eu-west-1", op: "GetObject", input: { Bucket: "my-bucket-eu", Key: "photos/cat.jpg" }, region: "eu-west-1", time: T1, expiresIn: 7200 });
await presignCase({ name: "presign-get-cn-north-1", op: "GetObject", input: { Bucket: "my-bucket-cn", Key: "photos/cat.jpg" }, region: "cn-north-1", time: T1, expiresIn: 7200 });
await presignCase({ name: "presign-get-ap-southeast-2-session", op: "GetObject", input: { Bucket: "syd-bucket", Key: "a b" }, region: "ap-southeast-2", creds: STS, time: T2, expiresIn: 60 });
await presignCase({ name: "presign-get-dotted-bucket", op: "GetObject", input: { Bucket: "my.dotted.bucket", Key: "k" }, time: T4, expiresIn: 60, notes: "bucket name with dots" });
await presignCase({ name: "presign-get-uppercase-bucket", op: "GetObject", input: { Bucket: "MyBucket", Key: "k" }, time: T4, expiresIn: 60, notes: "bucket name not DNS compatible" });
await presignCase({ name: "presign-get-minio-ip", op: "GetObject", input: { Bucket: "bucket", Key: "dir/file name.txt" }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3, expiresIn: 3600 });
await presignCase({ name: "presign-get-minio-ip-no-forcepathstyle", op: "GetObject", input: { Bucket: "bucket", Key: "k" }, endpoint: "http://127.0.0.1:9000", time: T3, expiresIn: 3600 });
await presignCase({ name: "presign-get-custom-https-port", op: "GetObject", input: { Bucket: "bucket", Key: "a+b/ü" }, endpoint: "https://storage.example.com:8443", forcePathStyle: true, creds: STS2, time: T2, expiresIn: 3600 });
await presignCase({ name: "presign-get-custom-https-virtual", op: "GetObject", input: { Bucket: "bucket", Key: "k" }, endpoint: "https://storage.example.com:8443", time: T2, expiresIn: 3600, notes: "custom endpoint without forcePathStyle" });
await presignCase({ name: "presign-get-custom-default-port-443", op: "GetObject", input: { Bucket: "bucket", Key: "k" }, endpoint: "https://storage.example.com:443", forcePathStyle: true, time: T2, expiresIn: 3600, notes: "explicit default port in the endpoint" });
await presignCase({ name: "presign-get-custom-http-port-80", op: "GetObject", input: { Bucket: "bucket", Key: "k" }, endpoint: "http://localhost:80", forcePathStyle: true, time: T2, expiresIn: 3600, notes: "explicit default port in the endpoint" });
await presignCase({ name: "presign-get-custom-endpoint-with-base-path", op: "GetObject", input: { Bucket: "bucket", Key: "k k" }, endpoint: "https://gw.example.com/s3/base", forcePathStyle: true, time: T2, expiresIn: 3600, notes: "endpoint with a base path" });
for (const e of [1, 59, 3600, 86399, 604799, 604800]) {
  await presignCase({ name: `presign-get-expires-${e}`, op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt" }, time: T1, expiresIn: e });
}
// 604801 must be refused client-side.
{
  setCase("presign-get-expires-604801-rejected", T1);
  const { client } = makeClient({ region: "us-east-1", creds: GEN });
  let rejected = null;
  try {
    await getSignedUrl(client, new GetObjectCommand({ Bucket: "examplebucket", Key: "test.txt" }), { expiresIn: 604801 });
  } catch (e) {
    rejected = String(e?.message ?? e);
  }
  assert(rejected && /one week/.test(rejected), `expiresIn 604801 was not rejected (${rejected})`);
}

// 7c. getSignedUrl: PutObject.
await presignCase({ name: "presign-put-plain", op: "PutObject", input: { Bucket: "examplebucket", Key: "upload.bin" }, expiresIn: 3600, notes: "default flexible checksums: CRC32 of the EMPTY body hoisted into the query" });
await presignCase({ name: "presign-put-content-type", op: "PutObject", input: { Bucket: "examplebucket", Key: "img.png", ContentType: "image/png" }, time: T4, expiresIn: 900, notes: "content-type is unsignable in S3RequestPresigner" });
await presignCase({
  name: "presign-put-metadata",
  op: "PutObject",
  input: { Bucket: "examplebucket", Key: "meta.txt", Metadata: { author: "Jane Doe", "Mixed-Case": "  Value  With  Spaces  ", unicode: "ü" } },
  time: T4,
  expiresIn: 900,
  notes: "x-amz-meta-* hoisted into the query with raw (untrimmed) values",
});
await presignCase({ name: "presign-put-acl", op: "PutObject", input: { Bucket: "examplebucket", Key: "public.txt", ACL: "public-read" }, expiresIn: 900 });
await presignCase({
  name: "presign-put-checksum-sha256",
  op: "PutObject",
  input: { Bucket: "examplebucket", Key: "summed.txt", ChecksumSHA256: "RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=" },
  time: T3,
  expiresIn: 900,
  notes: "user-supplied checksum: hoisted into the query (flexible-checksum middleware skips)",
});
await presignCase({
  name: "presign-put-everything",
  op: "PutObject",
  input: {
    Bucket: "examplebucket",
    Key: "dir/sub dir/file+1.txt",
    ContentType: "text/plain",
    ContentLength: 21,
    ContentMD5: "+W3mjxlJ5L4WsV9SEW2r0A==",
    CacheControl: "no-cache",
    ContentDisposition: "attachment",
    ContentEncoding: "identity",
    StorageClass: "REDUCED_REDUNDANCY",
    ServerSideEncryption: "AES256",
    Tagging: "a=1&b=two words",
    Metadata: { foo: "bar" },
    ACL: "bucket-owner-full-control",
  },
  creds: STS,
  time: T2,
  expiresIn: 3600,
});
await presignCase({ name: "presign-put-sse-kms", op: "PutObject", input: { Bucket: "examplebucket", Key: "kms", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "arn:aws:kms:us-east-1:111122223333:key/abcd", BucketKeyEnabled: true }, time: T3, expiresIn: 900 });
await presignCase({ name: "presign-put-eu-west-1-hard-key", op: "PutObject", input: { Bucket: "my-bucket-eu", Key: "a b+c=d~e/f//g?h#i%j&k:l@m!n*o(p)q'r,s;t$u", ContentType: "application/octet-stream" }, region: "eu-west-1", time: T1, expiresIn: 604800 });
await presignCase({ name: "presign-put-cn-north-1-session", op: "PutObject", input: { Bucket: "my-bucket-cn", Key: "日本/😀.txt" }, region: "cn-north-1", creds: STS, time: T1, expiresIn: 3600 });
await presignCase({ name: "presign-put-minio-ip", op: "PutObject", input: { Bucket: "bucket", Key: "up load.txt", ContentType: "text/plain" }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3, expiresIn: 3600 });
await presignCase({ name: "presign-put-custom-https-port-session", op: "PutObject", input: { Bucket: "bucket", Key: "k", Metadata: { x: "y" } }, endpoint: "https://storage.example.com:8443", forcePathStyle: true, creds: STS, time: T2, expiresIn: 3600 });
await presignCase({ name: "presign-put-signable-content-type", op: "PutObject", input: { Bucket: "examplebucket", Key: "img.png", ContentType: "image/png" }, time: T4, expiresIn: 900, options: { signableHeaders: new Set(["content-type"]) }, notes: "EXTRA (non-default option): signableHeaders content-type" });
await presignCase({ name: "presign-put-when-required-no-checksum", op: "PutObject", input: { Bucket: "examplebucket", Key: "upload.bin" }, expiresIn: 3600, clientExtra: { requestChecksumCalculation: "WHEN_REQUIRED" }, notes: "EXTRA (non-default config): requestChecksumCalculation WHEN_REQUIRED, so no checksum parameters" });
await presignCase({ name: "presign-put-unhoistable-checksum", op: "PutObject", input: { Bucket: "examplebucket", Key: "upload.bin" }, expiresIn: 3600, options: { unhoistableHeaders: new Set(["x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm"]) }, notes: "EXTRA (non-default option): checksum headers kept as signed headers" });

// 7d. getSignedUrl: other operations.
await presignCase({ name: "presign-head", op: "HeadObject", input: { Bucket: "examplebucket", Key: "test.txt" }, time: T4, expiresIn: 900 });
await presignCase({ name: "presign-head-versionid-part", op: "HeadObject", input: { Bucket: "examplebucket", Key: "test.txt", VersionId: "null", PartNumber: 2 }, time: T4, expiresIn: 900 });
await presignCase({ name: "presign-delete", op: "DeleteObject", input: { Bucket: "examplebucket", Key: "old file.txt" }, time: T4, expiresIn: 900 });
await presignCase({ name: "presign-delete-versionid-mfa", op: "DeleteObject", input: { Bucket: "examplebucket", Key: "k", VersionId: "UIORUnfndfiufdisojhr398493jfdkjFJjkndnqUifhnw89493jJFJ", MFA: "20899872 301749" }, creds: STS2, time: T4, expiresIn: 900 });
await presignCase({ name: "presign-list-v2", op: "ListObjectsV2", input: { Bucket: "examplebucket" }, time: T4, expiresIn: 900 });
await presignCase({ name: "presign-list-v2-params", op: "ListObjectsV2", input: { Bucket: "examplebucket", Prefix: "photos/2006/", Delimiter: "/", MaxKeys: 2, StartAfter: "photos/2006/a b", EncodingType: "url", FetchOwner: true }, time: T4, expiresIn: 900 });
await presignCase({ name: "presign-list-v2-continuation-empty-prefix", op: "ListObjectsV2", input: { Bucket: "examplebucket", Prefix: "", ContinuationToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=" }, creds: STS, time: T2, expiresIn: 900, notes: "empty Prefix" });
await presignCase({ name: "presign-list-v2-minio", op: "ListObjectsV2", input: { Bucket: "bucket", Prefix: "ü/" }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3, expiresIn: 900 });
await presignCase({ name: "presign-create-multipart", op: "CreateMultipartUpload", input: { Bucket: "examplebucket", Key: "big.bin" }, time: T4, expiresIn: 900, notes: "?uploads (valueless parameter)" });
await presignCase({ name: "presign-create-multipart-content-type-sse", op: "CreateMultipartUpload", input: { Bucket: "examplebucket", Key: "big file.bin", ContentType: "video/mp4", ServerSideEncryption: "AES256", ChecksumAlgorithm: "SHA256" }, creds: STS2, time: T4, expiresIn: 900 });
await presignCase({ name: "presign-upload-part", op: "UploadPart", input: { Bucket: "examplebucket", Key: "big.bin", PartNumber: 1, UploadId: "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA" }, time: T4, expiresIn: 3600 });
await presignCase({ name: "presign-upload-part-hard-uploadid", op: "UploadPart", input: { Bucket: "examplebucket", Key: "big.bin", PartNumber: 10000, UploadId: "a+b/c=d e~f", ContentLength: 5242880 }, creds: STS, time: T2, expiresIn: 3600 });
await presignCase({ name: "presign-upload-part-minio", op: "UploadPart", input: { Bucket: "bucket", Key: "big.bin", PartNumber: 3, UploadId: "2~abc" }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3, expiresIn: 3600 });

// 7e. Real client send() calls (Authorization header).
const WELCOME = "Welcome to Amazon S3.";
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
await sendCase({ name: "send-put-string", op: "PutObject", input: { Bucket: "examplebucket", Key: "test$file.text", Body: WELCOME, StorageClass: "REDUCED_REDUNDANCY" }, creds: DOC });
await sendCase({ name: "send-put-binary-buffer", op: "PutObject", input: { Bucket: "examplebucket", Key: "bin/all-bytes.bin", Body: ALL_BYTES }, time: T4 });
await sendCase({ name: "send-put-uint8array", op: "PutObject", input: { Bucket: "examplebucket", Key: "u8.bin", Body: new Uint8Array(detBytes(1000, "u8")) }, time: T4 });
await sendCase({ name: "send-put-empty-string", op: "PutObject", input: { Bucket: "examplebucket", Key: "empty", Body: "" }, time: T4 });
await sendCase({ name: "send-put-no-body", op: "PutObject", input: { Bucket: "examplebucket", Key: "nobody" }, time: T4 });
await sendCase({ name: "send-put-utf8-string", op: "PutObject", input: { Bucket: "examplebucket", Key: "utf8.txt", Body: "héllo wörld 😀\n", ContentType: "text/plain; charset=utf-8" }, time: T1 });
await sendCase({
  name: "send-put-headers-metadata",
  op: "PutObject",
  input: {
    Bucket: "examplebucket",
    Key: "meta.txt",
    Body: "x",
    ContentType: "text/plain",
    CacheControl: "no-cache",
    ContentDisposition: 'attachment; filename="x.txt"',
    ACL: "public-read",
    Tagging: "a=1&b=two words",
    Metadata: { author: "Jane Doe", "Mixed-Case": "  Value  With  Spaces  " },
    ServerSideEncryption: "AES256",
  },
  creds: STS,
  time: T2,
  notes: "metadata value with leading/trailing/double spaces: the canonical value is trimmed and collapsed, the wire value is not",
});
await sendCase({ name: "send-put-checksum-sha256-algorithm", op: "PutObject", input: { Bucket: "examplebucket", Key: "k", Body: WELCOME, ChecksumAlgorithm: "SHA256" }, time: T4 });
await sendCase({ name: "send-put-checksum-crc32c-algorithm", op: "PutObject", input: { Bucket: "examplebucket", Key: "k", Body: WELCOME, ChecksumAlgorithm: "CRC32C" }, time: T4 });
await sendCase({ name: "send-put-checksum-crc64nvme-algorithm", op: "PutObject", input: { Bucket: "examplebucket", Key: "k", Body: WELCOME, ChecksumAlgorithm: "CRC64NVME" }, time: T4 });
await sendCase({ name: "send-put-checksum-sha1-algorithm", op: "PutObject", input: { Bucket: "examplebucket", Key: "k", Body: WELCOME, ChecksumAlgorithm: "SHA1" }, time: T4 });
await sendCase({ name: "send-put-user-checksum", op: "PutObject", input: { Bucket: "examplebucket", Key: "k", Body: WELCOME, ChecksumSHA256: createHash("sha256").update(WELCOME).digest("base64") }, time: T4 });
await sendCase({ name: "send-put-content-md5", op: "PutObject", input: { Bucket: "examplebucket", Key: "k", Body: WELCOME, ContentMD5: createHash("md5").update(WELCOME).digest("base64") }, time: T4 });
await sendCase({ name: "send-put-stream-known-length", op: "PutObject", input: { Bucket: "examplebucket", Key: "stream.txt", Body: Readable.from([Buffer.from("hello stream")]), ContentLength: 12 }, time: T4, notes: "Node Readable with ContentLength: the SDK frames the body as aws-chunked with an unsigned CRC32 trailer" });
for (const [tag, key] of HARD_KEYS) {
  await sendCase({ name: `send-put-key-${tag}`, op: "PutObject", input: { Bucket: "examplebucket", Key: key, Body: "k" }, time: T3, notes: `key ${JSON.stringify(key)}` });
}
await sendCase({ name: "send-put-minio-ip", op: "PutObject", input: { Bucket: "bucket", Key: "a b.txt", Body: WELCOME }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3 });
await sendCase({ name: "send-put-custom-https-port-session", op: "PutObject", input: { Bucket: "bucket", Key: "a+b.txt", Body: WELCOME }, endpoint: "https://storage.example.com:8443", forcePathStyle: true, creds: STS, time: T2 });
await sendCase({ name: "send-put-eu-west-1", op: "PutObject", input: { Bucket: "my-bucket-eu", Key: "k", Body: WELCOME }, region: "eu-west-1", time: T1 });
await sendCase({ name: "send-put-cn-north-1", op: "PutObject", input: { Bucket: "my-bucket-cn", Key: "k", Body: WELCOME }, region: "cn-north-1", time: T1 });
await sendCase({ name: "send-put-when-required", op: "PutObject", input: { Bucket: "examplebucket", Key: "k", Body: WELCOME }, time: T4, clientExtra: { requestChecksumCalculation: "WHEN_REQUIRED" }, notes: "EXTRA (non-default config): requestChecksumCalculation WHEN_REQUIRED" });
await sendCase({ name: "send-get", op: "GetObject", input: { Bucket: "examplebucket", Key: "test.txt", Range: "bytes=0-9" }, creds: DOC, notes: "compare with the AWS doc GET example: the SDK adds x-amz-checksum-mode, amz-sdk-*, x-amz-user-agent and uses the regional host" });
await sendCase({ name: "send-get-versionid-overrides", op: "GetObject", input: { Bucket: "examplebucket", Key: "a b/ü.txt", VersionId: "v+1 2~x", ResponseContentDisposition: 'attachment; filename="a b.txt"', IfNoneMatch: '"etag"' }, creds: STS2, time: T1 });
await sendCase({ name: "send-get-minio", op: "GetObject", input: { Bucket: "bucket", Key: "k" }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3 });
await sendCase({ name: "send-head", op: "HeadObject", input: { Bucket: "examplebucket", Key: "test.txt" }, time: T4 });
await sendCase({ name: "send-head-cn-north-1", op: "HeadObject", input: { Bucket: "my-bucket-cn", Key: "日本.txt" }, region: "cn-north-1", time: T1 });
await sendCase({ name: "send-delete", op: "DeleteObject", input: { Bucket: "examplebucket", Key: "old file.txt" }, time: T4 });
await sendCase({ name: "send-delete-versionid", op: "DeleteObject", input: { Bucket: "examplebucket", Key: "k", VersionId: "abc+def/=" }, creds: STS, time: T2 });
await sendCase({ name: "send-delete-objects", op: "DeleteObjects", input: { Bucket: "examplebucket", Delete: { Objects: [{ Key: "a b" }, { Key: "ü&<x>" }], Quiet: true } }, time: T4, notes: "httpChecksumRequired operation with an XML body" });
await sendCase({ name: "send-list-v2", op: "ListObjectsV2", input: { Bucket: "examplebucket" }, time: T4 });
await sendCase({ name: "send-list-v2-params", op: "ListObjectsV2", input: { Bucket: "examplebucket", Prefix: "J", MaxKeys: 2 }, creds: DOC, notes: "compare with the AWS doc list example (?max-keys=2&prefix=J): the SDK adds list-type=2 and more" });
await sendCase({ name: "send-list-v2-delimiter-token", op: "ListObjectsV2", input: { Bucket: "examplebucket", Prefix: "photos/2006/", Delimiter: "/", ContinuationToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", StartAfter: "a b", EncodingType: "url" }, time: T4 });
await sendCase({ name: "send-list-v2-empty-prefix-minio", op: "ListObjectsV2", input: { Bucket: "bucket", Prefix: "" }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3 });
await sendCase({ name: "send-create-multipart", op: "CreateMultipartUpload", input: { Bucket: "examplebucket", Key: "big.bin", ContentType: "application/octet-stream" }, time: T4 });
await sendCase({ name: "send-upload-part", op: "UploadPart", input: { Bucket: "examplebucket", Key: "big.bin", PartNumber: 1, UploadId: "upload-id", Body: detBytes(5000, "part1") }, time: T4 });
await sendCase({ name: "send-upload-part-stream", op: "UploadPart", input: { Bucket: "examplebucket", Key: "big.bin", PartNumber: 2, UploadId: "a+b/c=d e~f", Body: Readable.from([detBytes(3000, "part2a"), detBytes(1000, "part2b")]), ContentLength: 4000 }, creds: STS, time: T2 });
await sendCase({
  name: "send-complete-multipart",
  op: "CompleteMultipartUpload",
  input: { Bucket: "examplebucket", Key: "big.bin", UploadId: "upload-id", MultipartUpload: { Parts: [{ ETag: '"etag-1"', PartNumber: 1 }, { ETag: '"etag-2"', PartNumber: 2 }] } },
  time: T4,
});
await sendCase({ name: "send-copy-object", op: "CopyObject", input: { Bucket: "examplebucket", Key: "copy of.txt", CopySource: "source-bucket/dir/a b+c.txt" }, time: T4, notes: "CopySource is sent as given (x-amz-copy-source is a signed header)" });
await sendCase({ name: "send-copy-object-versioned-session", op: "CopyObject", input: { Bucket: "examplebucket", Key: "k", CopySource: "source-bucket/k?versionId=v1", MetadataDirective: "REPLACE", Metadata: { a: "b" }, ContentType: "text/plain" }, creds: STS, time: T2 });

// ---------------------------------------------------------------------------
// 8. chunked.json: aws-chunked bodies.
// ---------------------------------------------------------------------------
const CHUNK_SIZES = [0, 1, 8192, 70000, 200000];
const ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"];
const STREAM_PIECE = 65536; // what fs.createReadStream would deliver (default highWaterMark)
function pieces(buf, n) {
  const out = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}
for (const size of CHUNK_SIZES) {
  for (const alg of ALGORITHMS) {
    const body = detBytes(size, `body-${size}`);
    await sendCase({
      name: `chunked-unsigned-trailer-${alg.toLowerCase()}-${size}`,
      op: "PutObject",
      input: { Bucket: "examplebucket", Key: `chunked/${size}.bin`, Body: Readable.from(pieces(body, STREAM_PIECE)), ContentLength: size, ChecksumAlgorithm: alg },
      time: T4,
      into: chunked,
      notes: `client send() of a ${size}-byte Node Readable (pieces of ${STREAM_PIECE}) with ChecksumAlgorithm ${alg}`,
    });
  }
}
await sendCase({ name: "chunked-unsigned-trailer-default-session", op: "PutObject", input: { Bucket: "examplebucket", Key: "s.bin", Body: Readable.from(pieces(detBytes(70000, "body-70000"), STREAM_PIECE)), ContentLength: 70000 }, creds: STS, time: T2, into: chunked, notes: "default checksum algorithm, session token" });
await sendCase({ name: "chunked-unsigned-trailer-minio-http", op: "PutObject", input: { Bucket: "bucket", Key: "s.bin", Body: Readable.from([detBytes(1000, "m")]), ContentLength: 1000 }, endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3, into: chunked, notes: "plain http endpoint: still STREAMING-UNSIGNED-PAYLOAD-TRAILER" });
await sendCase({ name: "chunked-unsigned-trailer-odd-pieces", op: "PutObject", input: { Bucket: "examplebucket", Key: "odd.bin", Body: Readable.from([Buffer.from("a"), Buffer.alloc(0), Buffer.from("bcdef"), detBytes(17, "odd")]), ContentLength: 23 }, time: T4, into: chunked, notes: "stream pieces of 1, 0, 5 and 17 bytes: one aws-chunk per non-empty piece" });
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "presign-fixture-"));
  try {
    const f = path.join(dir, "body.bin");
    fs.writeFileSync(f, detBytes(200000, "body-200000"));
    await sendCase({ name: "chunked-unsigned-trailer-fs-readstream", op: "PutObject", input: { Bucket: "examplebucket", Key: "file.bin", Body: fs.createReadStream(f) }, time: T4, into: chunked, notes: "fs.createReadStream without ContentLength: the SDK stats the file for x-amz-decoded-content-length" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// 8b. STREAMING-AWS4-HMAC-SHA256-PAYLOAD via @smithy/signature-v4 primitives.
// The S3 client never produces signed chunks.  SignatureV4.sign({headers, payload}) is the
// event-stream chunk signer; its string to sign is
//   AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n prior-signature \n sha256(headers) \n sha256(payload)
// which, with EMPTY headers, is exactly the S3 aws-chunked chunk string to sign.  This is
// asserted against the AWS documentation example before any case is written.
async function signedChunkCase({ name, creds, region, time, host, pathName, extraHeaders, body, chunkSize, check }) {
  uniqueName(name);
  setCase(name, time);
  const sha256 = new S3Client({ region, credentials: creds }).config.sha256;
  const signer = new SignatureV4({ credentials: creds, region, service: "s3", sha256, uriEscapePath: false });
  const sizes = [];
  for (let i = 0; i < body.length; i += chunkSize) sizes.push(Math.min(chunkSize, body.length - i));
  sizes.push(0);
  const frameLen = sizes.reduce((a, n) => a + n.toString(16).length + ";chunk-signature=".length + 64 + 2 + n + 2, 0);
  const headers = {
    host,
    ...extraHeaders,
    "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": String(body.length),
    "content-length": String(frameLen),
  };
  const signingDate = new Date(parseAmzDate(time));
  const signed = await signer.sign(new HttpRequest({ method: "PUT", protocol: "https:", hostname: host, path: pathName, headers }), { signingDate });
  const seed = /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization)[1];
  const parts = [];
  const chunkSigs = [];
  let prior = seed;
  let off = 0;
  for (const n of sizes) {
    const data = body.subarray(off, off + n);
    off += n;
    const sig = await signer.sign({ headers: new Uint8Array(0), payload: new Uint8Array(data) }, { signingDate, priorSignature: prior });
    chunkSigs.push(sig);
    parts.push(Buffer.from(`${n.toString(16)};chunk-signature=${sig}\r\n`), data, Buffer.from("\r\n"));
    prior = sig;
  }
  const framed = Buffer.concat(parts);
  assert(framed.length === frameLen, `${name}: framed length`);
  if (check) check(seed, chunkSigs);
  const c = {
    name,
    origin: "SignatureV4.sign (seed) + SignatureV4.sign({headers: empty, payload: chunk}) per chunk; aws-chunked framing by generate.mjs",
    operation: "PutObject",
    mechanism: "header",
    access_key_id: creds.accessKeyId,
    secret_access_key: creds.secretAccessKey,
    session_token: creds.sessionToken ?? null,
    region,
    service: "s3",
    signing_time: time,
    expires_in: null,
    method: "PUT",
    scheme: "https",
    target: pathName,
    headers: Object.entries(signed.headers),
    body_base64: b64(framed),
    content_sha256_mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    url: null,
    notes: `NOT produced by the S3 client (it never signs chunks): seed request signed by SignatureV4.signRequest, each chunk signature by SignatureV4's event-chunk signer with empty event headers, framing (${chunkSize}-byte chunks) written by the generator`,
  };
  verifyRequestCase(c);
  chunked.push(c);
}
await signedChunkCase({
  name: "chunked-signed-doc-example",
  creds: DOC,
  region: "us-east-1",
  time: T0,
  host: "s3.amazonaws.com",
  pathName: "/examplebucket/chunkObject.txt",
  extraHeaders: { "x-amz-storage-class": "REDUCED_REDUNDANCY" },
  body: Buffer.alloc(66560, 0x61),
  chunkSize: 65536,
  check(seed, sigs) {
    const want = [
      "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
      "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
      "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
      "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];
    const got = [seed, ...sigs];
    assert(JSON.stringify(got) === JSON.stringify(want), `signed-chunk doc example mismatch: ${got.join(",")}`);
  },
});
for (const size of CHUNK_SIZES) {
  await signedChunkCase({
    name: `chunked-signed-${size}`,
    creds: size === 70000 ? STS : GEN,
    region: size === 8192 ? "eu-west-1" : "us-east-1",
    time: T4,
    host: "examplebucket.s3.amazonaws.com",
    pathName: `/chunked/signed%20${size}.bin`,
    extraHeaders: {},
    body: detBytes(size, `body-${size}`),
    chunkSize: 65536,
  });
}

// ---------------------------------------------------------------------------
// 9. post.json: createPresignedPost.
// ---------------------------------------------------------------------------
async function postCase({ name, creds = GEN, region = "us-east-1", time = T4, bucket = "examplebucket", key, conditions, fields, expires, endpoint, forcePathStyle, notes = null }) {
  uniqueName(name);
  setCase(name, time);
  const { client } = makeClient({ region, creds, endpoint, forcePathStyle });
  const args = { Bucket: bucket, Key: key };
  if (conditions !== undefined) args.Conditions = structuredClone(conditions);
  if (fields !== undefined) args.Fields = { ...fields };
  if (expires !== undefined) args.Expires = expires;
  const { url, fields: outFields } = await createPresignedPost(client, args);
  const fieldList = Object.entries(outFields);
  const policyB64 = outFields.Policy;
  const policyJson = Buffer.from(policyB64, "base64").toString("utf8");
  const c = {
    name,
    origin: "createPresignedPost",
    access_key_id: creds.accessKeyId,
    secret_access_key: creds.secretAccessKey,
    session_token: creds.sessionToken ?? null,
    region,
    signing_time: time,
    bucket,
    key,
    conditions_in: conditions ?? [],
    fields_in: fields ?? {},
    expires_in: expires ?? 3600,
    url,
    fields: fieldList,
    policy_json: policyJson,
    notes: [expires === undefined ? "Expires not given: SDK default 3600" : null, notes].filter(Boolean).join(" | ") || null,
  };
  verifyPostCase(c);
  posts.push(c);
}
await postCase({ name: "post-basic", key: "user/user1/photo.jpg", creds: DOC, time: "20151229T000000Z" });
await postCase({ name: "post-content-length-range", key: "uploads/file.bin", conditions: [["content-length-range", 0, 10485760]], expires: 600 });
await postCase({ name: "post-filename-placeholder", key: "user/user1/${filename}", expires: 3600, notes: "key ends with ${filename}: the SDK emits starts-with $key instead of an exact key condition" });
await postCase({ name: "post-filename-placeholder-middle", key: "a/${filename}/b.txt", expires: 3600, notes: "${filename} not at the end: exact key condition" });
await postCase({ name: "post-starts-with-key", key: "user/user1/", conditions: [["starts-with", "$key", "user/user1/"]], expires: 3600 });
await postCase({ name: "post-content-type", key: "img/cat.jpg", conditions: [["starts-with", "$Content-Type", "image/"]], fields: { "Content-Type": "image/jpeg" }, expires: 3600 });
await postCase({
  name: "post-doc-like",
  key: "user/user1/${filename}",
  creds: DOC,
  time: "20151229T000000Z",
  bucket: "sigv4examplebucket",
  conditions: [["starts-with", "$Content-Type", "image/"], ["starts-with", "$x-amz-meta-tag", ""]],
  fields: { acl: "public-read", success_action_redirect: "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html", "Content-Type": "image/jpeg", "x-amz-meta-uuid": "14365123651274", "x-amz-server-side-encryption": "AES256", "x-amz-meta-tag": "" },
  expires: 129600,
  notes: "inputs modelled on the AWS POST documentation example (the SDK's policy text differs from the doc's hand-written one)",
});
await postCase({ name: "post-meta", key: "m.txt", fields: { "x-amz-meta-uuid": "14365123651274", "x-amz-meta-tag": "", "x-amz-meta-Mixed": "Ünïcödé value" }, conditions: [["starts-with", "$x-amz-meta-tag", ""]], expires: 900 });
await postCase({ name: "post-session-token", key: "s.txt", creds: STS, time: T2, expires: 3600 });
await postCase({ name: "post-session-token-cn", key: "s.txt", creds: STS2, region: "cn-north-1", time: T1, bucket: "my-bucket-cn", expires: 3600 });
await postCase({ name: "post-eu-west-1", key: "e.txt", region: "eu-west-1", bucket: "my-bucket-eu", time: T1, expires: 7200 });
await postCase({ name: "post-minio-path-style", key: "dir/a b.txt", bucket: "bucket", endpoint: "http://127.0.0.1:9000", forcePathStyle: true, time: T3, expires: 3600 });
await postCase({ name: "post-custom-https-path-style", key: "k", bucket: "bucket", endpoint: "https://storage.example.com:8443", forcePathStyle: true, creds: STS2, time: T2, expires: 3600 });
await postCase({ name: "post-custom-https-virtual", key: "k", bucket: "bucket", endpoint: "https://storage.example.com:8443", time: T2, expires: 3600 });
await postCase({ name: "post-acl-redirect-status", key: "k", fields: { acl: "private", success_action_status: "201" }, conditions: [{ acl: "private" }, ["eq", "$success_action_status", "201"]], expires: 60, notes: "a condition identical to a field-derived one is de-duplicated" });
await postCase({ name: "post-sse-eq", key: "k", fields: { "x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:111122223333:key/abcd" }, conditions: [["eq", "$x-amz-server-side-encryption", "aws:kms"]], expires: 3600 });
await postCase({ name: "post-unicode-key-json-escapes", key: 'ü/日本 "quoted" \\ back</script>😀.txt', fields: { "x-amz-meta-note": 'tab\there "q" \\ <b>' }, expires: 3600, notes: "policy JSON is JSON.stringify output: raw UTF-8, only \" \\ and control characters escaped" });
await postCase({ name: "post-expires-1", key: "k", expires: 1 });
await postCase({ name: "post-expires-10-days", key: "k", expires: 864000, time: T1, notes: "createPresignedPost does not cap Expires (no one-week check)" });
await postCase({ name: "post-fields-override-key", key: "real-key", fields: { key: "other-key", bucket: "other-bucket" }, expires: 3600, notes: "Fields with key and bucket: the bucket field is replaced by Bucket before the policy is built, but the key field only afterwards, so the policy holds BOTH {key: other-key} and {key: real-key} (an unsatisfiable policy)" });
await postCase({ name: "post-dotted-bucket", key: "k", bucket: "my.dotted.bucket", expires: 3600 });

// ---------------------------------------------------------------------------
// 10. Write out.
// ---------------------------------------------------------------------------
assert(requests.length >= 60, `only ${requests.length} request cases`);
assert(posts.length >= 15, `only ${posts.length} post cases`);
fs.mkdirSync(OUT_DIR, { recursive: true });
function write(file, obj) {
  fs.writeFileSync(path.join(OUT_DIR, file), `${JSON.stringify(obj, null, 1)}\n`);
}
write("requests.json", { source: SOURCE, cases: requests });
write("chunked.json", { source: SOURCE, cases: chunked });
write("post.json", { source: SOURCE, cases: posts });
const count = (arr, pred) => arr.filter(pred).length;
console.log(
  `requests.json: ${requests.length} cases (${count(requests, (c) => c.mechanism === "query")} query, ${count(requests, (c) => c.mechanism === "header")} header); ` +
    `chunked.json: ${chunked.length} cases; post.json: ${posts.length} cases; all independently verified.`,
);
