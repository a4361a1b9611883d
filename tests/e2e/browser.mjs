// A real browser against the gateway's web page: Debian's Chromium, headless, driven by
// playwright-core (no browser download). The page is loaded from http://localhost:<port>
// while the presigned URLs point at http://127.0.0.1:<port>, so every upload is a
// cross-origin request and the gateway's CORS answers are exercised as a real deployment's.
//
// Run by run.sh with GATEWAY_URL and GATEWAY_TOKEN set (CHROMIUM overrides the browser
// path, E2E_ARTIFACTS where screenshots go). Prints PASS/FAIL/SKIP lines; run.sh counts them.

import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

const gateway = process.env.GATEWAY_URL; // http://127.0.0.1:PORT
const token = process.env.GATEWAY_TOKEN;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const artifacts = process.env.E2E_ARTIFACTS || join(tmpdir(), "presign-e2e-artifacts");
const pageOrigin = gateway.replace("127.0.0.1", "localhost");
const bucket = "browser-e2e";

const results = { pass: 0, fail: 0, skip: 0 };
class Skip extends Error {}

async function check(name, fn) {
  try {
    await fn();
    results.pass++;
    console.log(`PASS browser: ${name}`);
  } catch (e) {
    if (e instanceof Skip) {
      results.skip++;
      console.log(`SKIP browser: ${name}: ${e.message}`);
    } else {
      results.fail++;
      console.log(`FAIL browser: ${name}: ${e && e.message}`);
      console.error(e);
    }
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** The stored bytes of an object, read back through the presign API and a presigned GET. */
async function stored(key) {
  const response = await fetch(`${gateway}/api/storage/buckets/${bucket}/presign`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ key, action: "download" }),
  });
  assert(response.ok, `presign download: ${response.status}`);
  const { url } = await response.json();
  const get = await fetch(url);
  assert(get.status === 200, `GET ${key}: ${get.status}`);
  return Buffer.from(await get.arrayBuffer());
}

// The flags the machine needs (see the environment notes): no sandbox as root, no GPU, and
// no background networking, whose connections this machine's closed network refuses.
const userDataDir = mkdtempSync(join(tmpdir(), "presign-chromium-"));
mkdirSync(artifacts, { recursive: true });
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => console.error(`[page ${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));

  await check("the page loads with the token from the URL fragment", async () => {
    await page.goto(`${pageOrigin}/#token=${encodeURIComponent(token)}`);
    await page.fill("#bucket", bucket);
    assert((await page.inputValue("#token")) === token, "the token field is not filled");
    // The fragment is consumed: the token does not stay in the address bar.
    assert(!page.url().includes(token), `the token is still in ${page.url()}`);
  });

  /** Picks a file, clicks an upload button, waits for the status; returns its text. */
  async function upload(button, name, buffer, mimeType) {
    await page.setInputFiles("#file", { name, mimeType, buffer });
    await page.click(button);
    await page.waitForSelector("#status.ok, #status.error", { timeout: 60_000 });
    const status = await page.textContent("#status");
    const ok = await page.$eval("#status", (el) => el.classList.contains("ok"));
    return { ok, status };
  }

  await check("upload with PUT (cross-origin, presigned, content type pinned) and read back", async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17); // large enough to show progress events
    const { ok, status } = await upload("#put", "browser put.bin", body, "application/octet-stream");
    assert(ok, status);
    assert(status.startsWith("Uploaded browser put.bin"), status);
    assert((await page.$eval("#progress", (el) => el.value)) === 100, "progress did not reach 100%");
    assert((await stored("browser put.bin")).equals(body), "the stored bytes differ");
    // The page lists it.
    await page.waitForSelector('tr[data-key="browser put.bin"]', { timeout: 10_000 });
    await page.screenshot({ path: join(artifacts, "browser-put.png"), fullPage: true });
  });

  await check("upload a text file with PUT", async () => {
    const body = Buffer.from("plain text from a real browser\n");
    const { ok, status } = await upload("#put", "note.txt", body, "text/plain");
    assert(ok, status);
    assert((await stored("note.txt")).equals(body), "the stored bytes differ");
  });

  await check("upload with the POST form (cross-origin multipart POST to the bucket) and read back", async () => {
    await page.evaluate(() => {
      document.getElementById("status").className = "";
    });
    const body = randomBytes(50_000);
    // The form goes to the bucket URL the presign API returned, as multipart/form-data.
    const posted = page.waitForResponse(
      (r) => r.request().method() === "POST" && r.url() === `${gateway}/${bucket}`,
      { timeout: 60_000 },
    );
    const { ok, status } = await upload("#post", "browser-form.bin", body, "image/png");
    const response = await posted;
    assert(ok, status);
    assert(response.status() === 204, `POST answered ${response.status()}`);
    const contentType = await response.request().headerValue("content-type");
    assert(/^multipart\/form-data; boundary=/.test(contentType || ""), `content-type ${contentType}`);
    assert(/ETag "[0-9a-f]{32}"/.test(status), status);
    assert((await stored("browser-form.bin")).equals(body), "the stored bytes differ");
    // The policy pinned the type the page asked for.
    await page.waitForSelector('tr[data-key="browser-form.bin"]', { timeout: 10_000 });
    const type = await page.textContent('tr[data-key="browser-form.bin"] td:nth-child(3)');
    assert(type === "image/png", `stored type ${type}`);
    await page.screenshot({ path: join(artifacts, "browser-post.png"), fullPage: true });
  });

  await check("a download link serves the file", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 30_000 }),
      page.click('tr[data-key="note.txt"] a'),
    ]);
    const path = await download.path();
    const { readFileSync } = await import("node:fs");
    assert(readFileSync(path, "utf8") === "plain text from a real browser\n", "the download differs");
    assert(download.suggestedFilename() === "note.txt", `file name ${download.suggestedFilename()}`);
  });
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

console.error(`browser: ${results.pass} passed, ${results.fail} failed, ${results.skip} skipped`);
process.exit(results.fail ? 1 : 0);
