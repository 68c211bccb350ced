// DAISY Ace for many books with one Chromium: `node tools/ace-batch.js`, used by builder/run/validation.py.
//
// ace-cli checks one EPUB per run and launches (and closes) a browser for it. Ace's core takes the
// axe runner as an argument (Ace's desktop app passes its own), so this passes one: the browser is
// launched on the first book and closed at the end, and every book is checked by Ace's own checker
// with the same scripts as ace-cli -f -s. The runner is @daisy/ace-axe-runner-puppeteer's `run` but
// for two things, which together halve Ace's time on iMind's four books (43.0 s -> 22.3 s; Ace is
// CPU-bound here, both cores busy throughout) with identical reports: Ace's scripts (axe.js is 1.3 MB)
// are loaded into each page from their files by URL instead of being sent through the DevTools
// protocol as text, and a page (a tab) is kept for the next content document instead of a new one
// opened and closed for each: every document still has its own navigation, so its own window and
// scripts. A page whose check failed is closed, not kept.
//
// Requests: one JSON line on stdin, {"epub": path, "outdir": dir, "tmpdir": dir, "lang": "en"};
// answers: one line "ACE-BATCH " + JSON, {"ok": true} (report.json is in outdir) or {"error": text}.
'use strict';

const fs = require('fs');
const readline = require('readline');
const { pathToFileURL } = require('url');
const ace = require('@daisy/ace-core');
const logger = require('@daisy/ace-logger');
const runner = require('@daisy/ace-axe-runner-puppeteer');
const puppeteer = require('puppeteer');
const utils = require('@daisy/puppeteer-utils');

// The puppeteer runner's limits, and its variables to change them: to launch the browser, and for one document.
const LOAD_TIMEOUT = Number.parseInt(process.env.ACE_TIMEOUT_INITIAL || '', 10) || 5000;
const RUN_TIMEOUT = Number.parseInt(process.env.ACE_TIMEOUT_EXTENSION || '', 10) || 240000;

let browser;
const sharedBrowser = {
  concurrency: runner.concurrency,
  setTimeout: () => {}, // Ace's core asks only when given a timeout, which this never passes: see the variables
  launch: async () => {
    if (!browser) {
      browser = await puppeteer.launch({
        args: ['--no-sandbox', '--disable-setuid-sandbox'], headless: true, timeout: LOAD_TIMEOUT,
        protocolTimeout: RUN_TIMEOUT,
      });
    }
  },
  close: async () => {}, // the browser outlives each book
  run: checkPage,
};

const idlePages = []; // pages whose last check succeeded, free for the next content document

// One content document, as the puppeteer runner checks it: Ace's script texts then its scripts are added
// to the loaded document, and Ace's run (axe and its extraction) is awaited once its objects are there.
async function checkPage(url, scripts, scriptContents) {
  const page = idlePages.pop() || await newPage();
  let reusable = false;
  try {
    await page.goto(url);
    await utils.addScriptContents(scriptContents, page);
    for (const script of scripts) {
      const element = await page.addScriptTag({ url: pathToFileURL(script).href });
      await page.evaluate(added => added.setAttribute('data-ace', ''), element);
    }
    const results = await page.evaluate(() => new Promise((resolve, reject) => {
      let tries = 0;
      const tryAce = () => {
        if (!window.daisy || !window.daisy.ace || !window.daisy.ace.run || !window.daisy.ace.createReport
            || !window.axe) {
          tries += 1;
          if (tries < 15) setTimeout(tryAce, 400);
          else reject(new Error(`Ace's scripts did not load (${tries} tries)`));
          return;
        }
        window.daisy.ace.run((failure, results) => (failure ? reject(failure) : resolve(results)));
      };
      tryAce();
    }));
    reusable = true;
    return results;
  } catch (failure) {
    if (String(failure).includes('protocolTimeout')) throw new Error(`Timeout :( ${RUN_TIMEOUT}ms`);
    throw failure;
  } finally {
    if (reusable) idlePages.push(page);
    else await page.close().catch(() => {});
  }
}

// A page as the puppeteer runner opens one: no request leaves the machine, .html files are served as XHTML.
async function newPage() {
  const page = await browser.newPage();
  await page.setRequestInterception(true);
  page.on('request', request => {
    const address = request.url();
    if (/^https?:\/\//.test(address)) {
      request.abort();
    } else if (request.resourceType() === 'document' && /^file:\//.test(address) && /\.html?$/.test(address)) {
      fs.readFile(new URL(address), 'utf8', (failure, xhtml) => {
        if (failure) request.continue();
        else request.respond({ status: 200, contentType: 'application/xhtml+xml', body: xhtml });
      });
    } else {
      request.continue();
    }
  });
  return page;
}

function answer(value) {
  process.stdout.write(`ACE-BATCH ${JSON.stringify(value)}\n`);
}

async function main() {
  logger.initLogger({ verbose: false, silent: true });
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  answer({ ready: true });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const request = JSON.parse(line);
    try {
      await ace(request.epub, {
        cwd: process.cwd(), outdir: request.outdir, tmpdir: request.tmpdir, lang: request.lang || 'en',
        verbose: false, silent: true, jobId: '',
      }, sharedBrowser);
      answer({ ok: true });
    } catch (failure) {
      answer({ error: String(failure && failure.message ? failure.message : failure) });
    }
  }
  if (browser) await browser.close();
}

main().catch(failure => {
  answer({ error: String(failure && failure.stack ? failure.stack : failure) });
  process.exit(1);
});
