// DAISY Ace for many books with one Chromium: `node tools/ace-batch.js`, used by builder/run/validation.py.
//
// ace-cli checks one EPUB per run and launches (and closes) a browser for it. Ace's core takes the
// axe runner as an argument, so this wraps the runner ace-cli uses: the browser is launched on the
// first book and closed at the end, and every book is checked by the same Ace code as ace-cli -f -s.
//
// Requests: one JSON line on stdin, {"epub": path, "outdir": dir, "tmpdir": dir, "lang": "en"};
// answers: one line "ACE-BATCH " + JSON, {"ok": true} (report.json is in outdir) or {"error": text}.
'use strict';

const readline = require('readline');
const ace = require('@daisy/ace-core');
const logger = require('@daisy/ace-logger');
const runner = require('@daisy/ace-axe-runner-puppeteer');

let launched = false;
const sharedBrowser = {
  concurrency: runner.concurrency,
  setTimeout: ms => runner.setTimeout(ms),
  launch: async () => {
    if (!launched) {
      await runner.launch();
      launched = true;
    }
  },
  close: async () => {}, // the browser outlives each book
  run: (...args) => runner.run(...args),
};

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
  if (launched) await runner.close();
}

main().catch(failure => {
  answer({ error: String(failure && failure.stack ? failure.stack : failure) });
  process.exit(1);
});
