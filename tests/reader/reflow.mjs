#!/usr/bin/env node
/* Reflow (WCAG 2.2, 1.4.10): open content documents in headless Chromium at a narrow viewport and
 * report how wide each page is.
 *
 *   node tests/reader/reflow.mjs --width 320 --height 640 DOC.xhtml [DOC.xhtml …]
 *
 * Each document is opened from its unpacked book folder (file://, so its stylesheet and images
 * load as a reading system would load them), and the script reports, per document, the viewport's
 * width, the page's scroll width and the elements wider than the viewport that stick out of it (the
 * culprits, for the failure message). Facts only: tests/test_reflow.py asserts. Exit code 0 when every
 * document was measured, 2 on a browser failure, 3 when playwright-core or Chromium is missing.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOOLS = path.join(HERE, "..", "..", "tools");
const CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars", "--font-render-hinting=none",
  "--allow-file-access-from-files"];

const { values: opts, positionals: documents } = parseArgs({
  allowPositionals: true,
  options: { width: { type: "string", default: "320" }, height: { type: "string", default: "640" } },
});
const result = { width: Number(opts.width), documents: {} };
const finish = (code) => { process.stdout.write(JSON.stringify(result, null, 2) + "\n"); process.exitCode = code; };

const requireTools = createRequire(path.join(TOOLS, "package.json"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
let playwright = null;
try { playwright = requireTools("playwright-core"); } catch { /* reported below */ }
if (!playwright || !existsSync(chromiumPath)) {
  result.error = `missing: ${!playwright ? "tools/node_modules/playwright-core " : ""}${existsSync(chromiumPath) ? "" : chromiumPath}`;
  finish(3);
} else {
  let browser = null;
  try {
    browser = await playwright.chromium.launch({ executablePath: chromiumPath, headless: true, chromiumSandbox: false,
      args: CHROME_ARGS, timeout: 30000 });
    const page = await browser.newPage({ viewport: { width: result.width, height: Number(opts.height) },
      deviceScaleFactor: 1 });
    for (const file of documents) {
      await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: "load", timeout: 30000 });
      result.documents[file] = await page.evaluate(() => {
        const root = document.documentElement;
        const viewport = root.clientWidth;
        const culprits = [];
        for (const element of document.body ? document.body.querySelectorAll("*") : []) {
          const box = element.getBoundingClientRect();
          if (box.width > 0 && box.right > viewport + 1 && culprits.length < 5) {
            culprits.push({ tag: element.localName, className: element.getAttribute("class") || "",
              right: Math.round(box.right), text: (element.textContent || "").trim().slice(0, 60) });
          }
        }
        return { viewport, scrollWidth: root.scrollWidth, bodyScrollWidth: document.body ? document.body.scrollWidth : 0,
          culprits };
      });
    }
    finish(0);
  } catch (error) {
    result.error = String(error && error.stack || error);
    finish(2);
  } finally {
    if (browser) await browser.close();
  }
}
