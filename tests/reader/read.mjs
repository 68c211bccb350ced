#!/usr/bin/env node
/* Open an EPUB in a real reading system (epub.js in headless Chromium) and report what is on screen.
 *
 *   node tests/reader/read.mjs BOOK.epub --screenshots DIR [--label NAME] [--checks reading,highlight]
 *        [--article text/editors-note.xhtml] [--notes text/compassionate-care-trauma-informed.xhtml]
 *        [--sentence-doc text/editors-note.xhtml] [--sentence 'span.sentence[id]'] [--width 800] [--height 1000]
 *
 * A local HTTP server (127.0.0.1, random port) serves harness.html, harness.js, epub.js + JSZip from
 * tools/node_modules, and the book as /book.epub; playwright-core drives /usr/bin/chromium (or
 * $CHROMIUM) with a fresh temporary profile. Checks:
 *   reading   – cover/title page, contents page, first article, footnote link to its note and back
 *               (real mouse clicks on the rendered links);
 *   highlight – puts the Media Overlays active class (media:active-class of the package, else
 *               -epub-media-overlay-active) on the first sentence span, as a player does.
 * Prints one JSON object on stdout (facts, not verdicts: tests/test_reader.py asserts) and writes
 * <label>-<step>.png screenshots. Exit code 0 when every step ran, 2 on a harness/browser failure
 * (the JSON then has "error"), 3 when the tools are missing ("missing" names them).
 */
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const TOOLS = path.join(ROOT, "tools");
const CHROME_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars", "--font-render-hinting=none",
];

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    screenshots: { type: "string" },
    label: { type: "string", default: "book" },
    checks: { type: "string", default: "reading" },
    article: { type: "string", default: "text/editors-note.xhtml" },
    notes: { type: "string", default: "text/compassionate-care-trauma-informed.xhtml" },
    "sentence-doc": { type: "string", default: "text/editors-note.xhtml" },
    sentence: { type: "string", default: "span.sentence[id]" },
    width: { type: "string", default: "800" },
    height: { type: "string", default: "1000" },
    timeout: { type: "string", default: "15000" },
  },
});

const result = { epub: null, label: opts.label, checks: [], book: null, steps: {}, screenshots: {}, timings: {}, console: [] };
const started = Date.now();

function finish(code) {
  result.timings.totalMs = Date.now() - started;
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  process.exitCode = code;
}

// ------------------------------------------------------------------ tools
const requireTools = createRequire(path.join(TOOLS, "package.json"));
function resolveTool(spec) {
  try { return requireTools.resolve(spec); } catch { return null; }
}
const vendor = {
  "/vendor/jszip.min.js": resolveTool("jszip/dist/jszip.min.js"),
  "/vendor/epub.min.js": resolveTool("epubjs/dist/epub.min.js"),
};
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const missing = [];
if (!positionals[0] || !existsSync(positionals[0])) missing.push(`EPUB ${positionals[0] ?? "(none given)"}`);
for (const [route, file] of Object.entries(vendor)) if (!file) missing.push(`tools/node_modules for ${route}`);
if (!resolveTool("playwright-core")) missing.push("tools/node_modules/playwright-core");
if (!existsSync(chromiumPath)) missing.push(`Chromium at ${chromiumPath}`);
if (!opts.screenshots) missing.push("--screenshots DIR");
if (missing.length) {
  result.missing = missing;
  result.error = `missing: ${missing.join("; ")} (run scripts/setup-tools.sh)`;
  finish(3);
  process.exit();
}

const epub = path.resolve(positionals[0]);
result.epub = epub;
result.epubjs = JSON.parse(readFileSync(requireTools.resolve("epubjs/package.json"), "utf8")).version;
result.chromium = null;
result.checks = opts.checks.split(",").map((s) => s.trim()).filter(Boolean);
mkdirSync(opts.screenshots, { recursive: true });

// ------------------------------------------------------------------ server
const routes = {
  "/": [path.join(HERE, "harness.html"), "text/html; charset=utf-8"],
  "/harness.js": [path.join(HERE, "harness.js"), "text/javascript; charset=utf-8"],
  "/vendor/jszip.min.js": [vendor["/vendor/jszip.min.js"], "text/javascript; charset=utf-8"],
  "/vendor/epub.min.js": [vendor["/vendor/epub.min.js"], "text/javascript; charset=utf-8"],
  "/book.epub": [epub, "application/epub+zip"],
};

function serve() {
  const server = http.createServer((req, res) => {
    const route = routes[new URL(req.url, "http://localhost").pathname];
    if (req.url === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (!route || req.method !== "GET") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const [file, type] = route;
    res.writeHead(200, { "content-type": type, "content-length": statSync(file).size, "cache-control": "no-store" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// ------------------------------------------------------------------ steps
async function run() {
  const { chromium } = requireTools("playwright-core");
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}`;
  const timeout = Number(opts.timeout);
  let browser = null;
  try {
    let t = Date.now();
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, chromiumSandbox: false, args: CHROME_ARGS, timeout });
    const page = await browser.newPage({
      viewport: { width: Number(opts.width), height: Number(opts.height) }, deviceScaleFactor: 1,
      colorScheme: "light", reducedMotion: "reduce",
    });
    page.setDefaultTimeout(timeout);
    page.on("pageerror", (err) => result.console.push(`pageerror: ${err.message}`));
    page.on("console", (msg) => { if (msg.type() === "error" || msg.type() === "warning") result.console.push(`${msg.type()}: ${msg.text()}`); });
    page.on("requestfailed", (req) => result.console.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`));
    result.timings.launchMs = Date.now() - t;
    result.chromium = browser.version();

    t = Date.now();
    await page.goto(`${base}/`);
    result.book = await page.evaluate((url) => window.reader.open(url), `${base}/book.epub`);
    result.timings.openMs = Date.now() - t;

    const ev = (fn, arg) => page.evaluate(fn, arg);
    const shot = async (name) => {
      const file = path.join(opts.screenshots, `${opts.label}-${name}.png`);
      await page.screenshot({ path: file, type: "png" });
      result.screenshots[name] = file;
    };
    const click = async (selector) => {
      const target = await ev((s) => window.reader.describe(s), selector);
      if (!target.onScreen) throw new Error(`cannot click ${selector}: not on screen`);
      await page.mouse.click(target.center.x, target.center.y);
      return target;
    };
    const waitOnScreen = async (selector) => {
      try {
        await page.waitForFunction((s) => window.reader.describe(s).onScreen, selector, { timeout: 5000 });
      } catch { /* reported as not on screen */ }
      await ev(() => window.reader.settle());
      return ev((s) => window.reader.describe(s), selector);
    };

    if (result.checks.includes("reading")) {
      // 1. Cover / title page: what a reader shows first (the first spine item).
      t = Date.now();
      const coverLocation = await ev(() => window.reader.display());
      result.steps.cover = { location: coverLocation, image: await ev(() => window.reader.cover("img")) };
      await shot("cover");

      // 2. Contents page.
      const contentsLocation = await ev((h) => window.reader.display(h), "text/contents.xhtml");
      result.steps.contents = {
        location: contentsLocation,
        heading: await ev(() => window.reader.describe("h1")),
        entriesOnScreen: await ev(() => window.reader.screenText("ol a")),
        firstEntry: await ev(() => window.reader.describe("ol a")),
      };
      await shot("contents");

      // 3. First article: heading and first paragraph of the article text.
      const articleLocation = await ev((h) => window.reader.display(h), opts.article);
      result.steps.article = {
        location: articleLocation,
        heading: await ev(() => window.reader.describe("h1")),
        firstParagraph: await ev(() => window.reader.describe(".article-text p")),
      };
      await shot("article");

      // 4. Footnote: turn pages to the first note reference, tap it, land on the note, tap back.
      const refSelector = 'a[role~="doc-noteref"], a.noteref';
      await ev((h) => window.reader.display(h), opts.notes);
      const ref = await ev((s) => window.reader.pageTo(s), refSelector);
      const footnote = { ref, location: await ev(() => window.reader.location()) };
      result.steps.footnote = footnote;
      if (ref.onScreen) {
        const refId = ref.id;
        if (!refId) throw new Error("the first note reference has no id: its note cannot link back to it");
        const href = await ev((s) => window.reader.attribute(s, "href"), `#${refId}`);
        const noteSelector = href.slice(href.indexOf("#"));
        footnote.refId = refId;
        footnote.refHref = href;
        await click(`#${refId}`);
        footnote.note = await waitOnScreen(noteSelector);
        footnote.noteLocation = await ev(() => window.reader.location());
        footnote.refOnScreenAtNote = (await ev((s) => window.reader.describe(s), `#${refId}`)).onScreen;
        await shot("footnote");
        const backSelector = `${noteSelector} a[role~="doc-backlink"], ${noteSelector} a.backlink`;
        footnote.backlink = await ev((s) => window.reader.describe(s), backSelector);
        if (footnote.backlink.onScreen) {
          await click(backSelector);
          footnote.back = await waitOnScreen(`#${refId}`);
          footnote.backLocation = await ev(() => window.reader.location());
          await shot("footnote-back");
        }
      }
      result.timings.readingMs = Date.now() - t;
    }

    if (result.checks.includes("highlight")) {
      // 5. Media Overlays: the reading system marks the sentence being read with the active class.
      t = Date.now();
      const className = result.book.activeClass || "-epub-media-overlay-active";
      const location = await ev((h) => window.reader.display(h), opts["sentence-doc"]);
      const sentence = await ev((s) => window.reader.pageTo(s), opts.sentence);
      const mark = await ev(([c, s]) => window.reader.highlight(c, s), [className, opts.sentence]);
      await ev(() => window.reader.settle());
      result.steps.highlight = { location, className, classFromPackage: Boolean(result.book.activeClass), turns: sentence.turns, ...mark };
      await shot("highlight");
      result.timings.highlightMs = Date.now() - t;
    }
    result.errors = await ev(() => window.reader.errors());
    return 0;
  } finally {
    if (browser) await browser.close().catch(() => {});
    server.close();
  }
}

run().then(finish, (err) => {
  result.error = String(err && err.stack ? err.stack : err);
  finish(2);
});
