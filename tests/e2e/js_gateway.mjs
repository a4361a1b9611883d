// The AWS SDK for JavaScript v3 against the gateway example, unchanged.
//
// Run by run.sh with GATEWAY_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set. Prints one
// `PASS name`, `FAIL name: why` or `SKIP name: why` line per check; run.sh counts them.
//
// With a Buffer or string body the SDK signs the payload's SHA-256 (and adds an
// x-amz-checksum-crc32 header); with a stream body it sends aws-chunked
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER, the CRC32 in a trailer), even over plain http: the
// check asserts that this is what went on the wire, so the gateway's presign::chunked path
// is exercised by a client nobody here wrote.

import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const endpoint = process.env.GATEWAY_URL;
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
};
const Bucket = "js-e2e";

const client = (secret = credentials.secretAccessKey) =>
  new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { ...credentials, secretAccessKey: secret },
    maxAttempts: 1,
  });
const s3 = client();

class Skip extends Error {}
const results = { pass: 0, fail: 0, skip: 0 };

async function check(name, fn) {
  try {
    await fn();
    results.pass++;
    console.log(`PASS js: ${name}`);
  } catch (e) {
    if (e instanceof Skip) {
      results.skip++;
      console.log(`SKIP js: ${name}: ${e.message}`);
    } else {
      results.fail++;
      console.log(`FAIL js: ${name}: ${e && e.name}: ${e && e.message}`);
      console.error(e);
    }
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

const key = (name) => `${name}-${randomBytes(4).toString("hex")}`;
const md5 = (bytes) => createHash("md5").update(bytes).digest("hex");

await check("CreateBucket", async () => {
  await s3.send(new CreateBucketCommand({ Bucket }));
});

await check("PutObject (Buffer body) then GetObject", async () => {
  const Key = key("put");
  const body = randomBytes(200_000);
  const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentType: "application/x-js" }));
  assert(put.ETag === `"${md5(body)}"`, `ETag ${put.ETag}`);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
  const bytes = Buffer.from(await got.Body.transformToByteArray());
  assert(bytes.equals(body), "the bytes read back differ");
  assert(got.ContentType === "application/x-js", `ContentType ${got.ContentType}`);
});

await check("PutObject (string body), HeadObject, DeleteObject", async () => {
  const Key = key("dir/string é+");
  await s3.send(new PutObjectCommand({ Bucket, Key, Body: "hello from the JS SDK" }));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
  assert(head.ContentLength === 21, `ContentLength ${head.ContentLength}`);
  await s3.send(new DeleteObjectCommand({ Bucket, Key }));
  try {
    await s3.send(new HeadObjectCommand({ Bucket, Key }));
    throw new Error("the object is still there");
  } catch (e) {
    assert(e.$metadata?.httpStatusCode === 404, `status ${e.$metadata?.httpStatusCode}`);
  }
});

await check("getSignedUrl (PutObject and GetObject) used with fetch", async () => {
  const Key = key("presigned");
  const body = Buffer.from("uploaded with a URL the JS SDK signed");
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key, ContentType: "text/plain" }), {
    expiresIn: 300,
  });
  const put = await fetch(putUrl, { method: "PUT", body, headers: { "content-type": "text/plain" } });
  assert(put.status === 200, `PUT ${put.status} ${await put.text()}`);
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 300 });
  const get = await fetch(getUrl);
  assert(get.status === 200, `GET ${get.status}`);
  assert(Buffer.from(await get.arrayBuffer()).equals(body), "the bytes read back differ");
  // A URL for one key does not work for another.
  const tampered = putUrl.replace(`/${Key}?`, `/${Key}-other?`);
  const refused = await fetch(tampered, { method: "PUT", body, headers: { "content-type": "text/plain" } });
  assert(refused.status === 403, `tampered PUT ${refused.status}`);
});

/** Records the headers of the request a command sends, as signed (after every middleware
 * that changes them). */
function recordHeaders(command) {
  const seen = {};
  command.middlewareStack.add(
    (next) => async (args) => {
      Object.assign(seen, args.request.headers);
      return next(args);
    },
    { step: "deserialize", name: "recordSentHeaders" },
  );
  return seen;
}

await check("PutObject with a stream body (aws-chunked, unsigned payload, CRC32 trailer)", async () => {
  const Key = key("stream");
  // More than one 64 KiB chunk.
  const body = randomBytes(200_000);
  const command = new PutObjectCommand({ Bucket, Key, Body: Readable.from([body]), ContentLength: body.length });
  const sent = recordHeaders(command);
  const put = await s3.send(command);
  const header = (name) => sent[Object.keys(sent).find((n) => n.toLowerCase() === name)];
  assert(
    header("x-amz-content-sha256") === "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    `x-amz-content-sha256 ${header("x-amz-content-sha256")}`,
  );
  assert(/aws-chunked/.test(header("content-encoding") || ""), `content-encoding ${header("content-encoding")}`);
  assert(header("x-amz-decoded-content-length") === String(body.length), "x-amz-decoded-content-length");
  assert(header("x-amz-trailer") === "x-amz-checksum-crc32", `x-amz-trailer ${header("x-amz-trailer")}`);
  // The trailing CRC32 was verified and is echoed; the ETag is the MD5 of the decoded body.
  assert(put.ChecksumCRC32, "no x-amz-checksum-crc32 in the answer");
  assert(put.ETag === `"${md5(body)}"`, `ETag ${put.ETag}`);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
  assert(Buffer.from(await got.Body.transformToByteArray()).equals(body), "the bytes read back differ");
});

await check("PutObject with a stream body whose trailing checksum is wrong is refused, nothing stored", async () => {
  const Key = key("bad-trailer");
  const body = randomBytes(100_000);
  const command = new PutObjectCommand({ Bucket, Key, Body: Readable.from([body]), ContentLength: body.length });
  // Changes the CRC32 trailer the SDK computed, as a corrupted transfer would.
  command.middlewareStack.add(
    (next) => async (args) => {
      const inner = args.request.body;
      args.request.body = Readable.from(
        (async function* () {
          for await (const piece of inner) {
            const text = Buffer.from(piece).toString("latin1");
            yield Buffer.from(
              text.replace(/x-amz-checksum-crc32:([A-Za-z0-9+/]{6})==/, "x-amz-checksum-crc32:AAAAAA=="),
              "latin1",
            );
          }
        })(),
      );
      return next(args);
    },
    { step: "deserialize", name: "corruptTrailer" },
  );
  try {
    await s3.send(command);
    throw new Error("the upload was accepted");
  } catch (e) {
    assert(e.name === "BadDigest", `error ${e.name}: ${e.message}`);
  }
  try {
    await s3.send(new HeadObjectCommand({ Bucket, Key }));
    throw new Error("the object was stored");
  } catch (e) {
    assert(e.$metadata?.httpStatusCode === 404, `status ${e.$metadata?.httpStatusCode}`);
  }
});

await check("createPresignedPost used with FormData", async () => {
  const Key = key("form");
  const body = Buffer.from("uploaded with a form the JS SDK signed");
  const { url, fields } = await createPresignedPost(s3, {
    Bucket,
    Key,
    Conditions: [["content-length-range", 1, 1000]],
    Expires: 300,
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob([body]), "f.txt");
  const response = await fetch(url, { method: "POST", body: form });
  assert(response.status === 204, `POST ${response.status} ${await response.text()}`);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
  assert(Buffer.from(await got.Body.transformToByteArray()).equals(body), "the bytes read back differ");
});

await check("a wrong secret fails with SignatureDoesNotMatch", async () => {
  try {
    await client("not-the-secret-xxxxxxxxxxxxxxxxxxxxxxxxx").send(
      new PutObjectCommand({ Bucket, Key: key("nope"), Body: "x" }),
    );
    throw new Error("the upload was accepted");
  } catch (e) {
    assert(e.name === "SignatureDoesNotMatch", `error ${e.name}`);
  }
});

console.error(`js: ${results.pass} passed, ${results.fail} failed, ${results.skip} skipped`);
process.exit(results.fail ? 1 : 0);
