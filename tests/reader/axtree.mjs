#!/usr/bin/env node
/* What a screen reader gets: Chromium's accessibility tree of each content document, and axe-core.
 *
 *   node tests/reader/axtree.mjs FOLDER DOC [DOC …] [--axe] [--open]
 *
 * FOLDER is an unpacked EPUB's publication folder (where the package document is); each DOC is a
 * document's path inside it (text/editors-note.xhtml, nav.xhtml). Each is opened from file:// in
 * /usr/bin/chromium (or $CHROMIUM) through playwright-core, as the reading systems built on Chromium
 * show it, and CDP's Accessibility.getFullAXTree is read. With --axe, axe-core (the copy DAISY Ace
 * bundles, @daisy/axe-core-for-ace) runs every rule, best-practice included, on the document. With --open,
 * every <details> is opened first, as a reader who presses its disclosure does.
 * Prints one JSON object: {chromium, axe, documents: {DOC: {nodes, axe}}}: facts, not verdicts
 * (tests/test_accessibility_tree.py asserts). Exit 0 when every document was read, 2 on a browser
 * failure ("error" says what), 3 when a tool is missing ("missing" names it).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOOLS = path.join(HERE, "..", "..", "tools");
const CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--allow-file-access-from-files"];

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    axe: { type: "boolean", default: false }, open: { type: "boolean", default: false },
    timeout: { type: "string", default: "30000" },
  },
});
const result = { chromium: null, axe: null, documents: {} };
const finish = (code) => { process.stdout.write(JSON.stringify(result) + "\n"); process.exitCode = code; };

const requireTools = createRequire(path.join(TOOLS, "package.json"));
const resolveTool = (spec) => { try { return requireTools.resolve(spec); } catch { return null; } };
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const axePath = resolveTool("@daisy/axe-core-for-ace/axe.min.js");
const [folder, ...documents] = positionals;
const missing = [];
if (!resolveTool("playwright-core")) missing.push("tools/node_modules/playwright-core");
if (opts.axe && !axePath) missing.push("tools/node_modules/@daisy/axe-core-for-ace (installed with @daisy/ace-cli)");
if (!existsSync(chromiumPath)) missing.push(`Chromium at ${chromiumPath}`);
if (!folder || !existsSync(folder)) missing.push(`publication folder ${folder ?? "(none given)"}`);
if (missing.length) {
  result.missing = missing;
  result.error = `missing: ${missing.join("; ")} (run scripts/setup-tools.sh)`;
  finish(3);
  process.exit();
}

/** The CDP node, kept to what an assertion or a dump needs. */
function slim(node) {
  const value = (field) => (field && field.value !== undefined ? field.value : "");
  const properties = {};
  for (const property of node.properties || []) {
    const related = property.value.relatedNodes;  // relations (aria-details, aria-describedby): the targets' ids
    properties[property.name] = related ? related.map((n) => n.idref || String(n.backendDOMNodeId)) : property.value.value;
  }
  return {
    id: node.nodeId, parent: node.parentId || null, children: node.childIds || [], ignored: Boolean(node.ignored),
    role: value(node.role), name: value(node.name), description: value(node.description),
    value: value(node.value), properties, dom: node.backendDOMNodeId || null,
  };
}

/** The DOM facts the tree does not carry: tag, id, class, epub:type and role of each node's element. */
async function domFacts(client, nodes) {
  const facts = {};
  for (const node of nodes) {
    if (!node.dom || node.role === "StaticText" || node.role === "InlineTextBox") continue;
    try {
      const { node: dom } = await client.send("DOM.describeNode", { backendNodeId: node.dom });
      if (dom.nodeType !== 1) continue;
      const attributes = {};
      for (let i = 0; i < (dom.attributes || []).length; i += 2) attributes[dom.attributes[i]] = dom.attributes[i + 1];
      facts[node.id] = { tag: dom.localName, attributes };
    } catch { /* a node without a DOM element (a pseudo element): nothing to add */ }
  }
  return facts;
}

async function run() {
  const { chromium } = requireTools("playwright-core");
  const timeout = Number(opts.timeout);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, chromiumSandbox: false,
    args: CHROME_ARGS, timeout });
  try {
    result.chromium = browser.version();
    const page = await browser.newPage({ viewport: { width: 800, height: 1000 }, reducedMotion: "reduce" });
    page.setDefaultTimeout(timeout);
    const client = await page.context().newCDPSession(page);
    await client.send("DOM.enable");
    await client.send("Accessibility.enable");
    const axeSource = opts.axe ? readFileSync(axePath, "utf8") : "";
    for (const document of documents) {
      const errors = [];
      const onError = (err) => errors.push(err.message);
      page.on("pageerror", onError);
      await page.goto(pathToFileURL(path.join(folder, document)).href, { waitUntil: "load" });
      if (opts.open) await page.evaluate(() => { for (const d of document.querySelectorAll("details")) d.open = true; });
      await client.send("DOM.getDocument", { depth: -1 });
      const { nodes } = await client.send("Accessibility.getFullAXTree");
      const slimmed = nodes.map(slim);
      const entry = { nodes: slimmed, dom: await domFacts(client, slimmed), errors };
      if (opts.axe) {
        await page.evaluate(axeSource);
        result.axe = await page.evaluate(() => window.axe.version);
        // Every rule axe has (best-practice included), experimental ones aside; results only, no passes.
        entry.axe = await page.evaluate(async () => {
          const outcome = await window.axe.run(document, { resultTypes: ["violations"] });
          return outcome.violations.map((v) => ({
            id: v.id, impact: v.impact, tags: v.tags, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 300), summary: n.failureSummary })),
          }));
        });
      }
      page.off("pageerror", onError);
      result.documents[document] = entry;
    }
  } finally {
    await browser.close();
  }
}

run().then(() => finish(0), (err) => { result.error = String(err && err.stack ? err.stack : err); finish(2); });
