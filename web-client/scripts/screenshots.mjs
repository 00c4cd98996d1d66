#!/usr/bin/env node
// Looks at every view of the built page in headless Chromium at laptop and phone widths:
// saves PNGs and reports console errors. Serves web-client/dist through the real signaling
// server (port chosen at run time) unless --url is given.
//   node scripts/screenshots.mjs [--out DIR] [--url URL] [--smoke] [--flow] [--views a,b] [--help]
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`usage: node scripts/screenshots.mjs [options]
  --out DIR    where PNGs go (default web-client/.cache/screens)
  --url URL    use a running server instead of starting the signaling server on dist/
  --smoke      run the MNIST sample model through the page's worker pool
  --flow       two tabs on one grid: submit the MNIST sample in one, wait for it to finish,
               shoot the job view (and the OCR sample with --ocr)
  --views      comma-separated views to shoot (default donate,submit,jobs,mesh)`);
  process.exit(0);
}
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = opt('--out', join(root, '.cache', 'screens'));
mkdirSync(out, { recursive: true });

let server = null;
let base = opt('--url', null);
if (!base) {
  const bin = join(root, '..', 'signaling', 'bin', 'peergrid-signaling.js');
  server = spawn(
    process.execPath,
    [bin, '--port', '0', '--host', '127.0.0.1', '--static', join(root, 'dist')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  base = await new Promise((resolve, reject) => {
    let buf = '';
    server.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve(`${m[1]}/`);
    });
    server.on('exit', (code) => reject(new Error(`signaling server exited (${code})`)));
  });
}
console.log(`serving ${base}`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
// Chromium itself logs this when WebGPU has no adapter (headless, no GPU): not the page's error.
const BENIGN = [/No available adapters/];
const problems = [];
const sizes = [
  { name: 'laptop', width: 1366, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];
async function newPage(size, label) {
  const ctx = await browser.newContext({ viewport: { width: size.width, height: size.height } });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !BENIGN.some((r) => r.test(m.text()))) {
      problems.push(`[${label}] console.${m.type()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) =>
    problems.push(
      `[${label}] pageerror: ${e.message}${args.includes('--stack') ? `\n${e.stack}` : ''}`,
    ),
  );
  return { ctx, page };
}
async function shoot(page, name, fullPage = true) {
  const file = join(out, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`saved ${file}`);
}

const grid = `shots${Date.now().toString(36)}`;
const views = opt('--views', 'donate,submit,jobs,mesh').split(',');
try {
  for (const size of sizes) {
    const { ctx, page } = await newPage(size, size.name);
    for (const view of views) {
      await page.goto(`${base}?grid=${grid}-${size.name}#/${view}`);
      await page.waitForTimeout(1500);
      await shoot(page, `${view}-${size.name}`);
    }
    if (args.includes('--smoke') && size.name === 'laptop') {
      const r = await page.evaluate(async () => {
        const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
        const model = await get('samples/mnist-mlp.onnx');
        const npy = await get('samples/mnist-test-1000.npy');
        const start = 10 + (npy[8] | (npy[9] << 8));
        const pixels = npy.slice(start, start + 784 * 8);
        const ex = window.peergrid.executor;
        const hash = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', model)), (b) =>
          b.toString(16).padStart(2, '0'),
        ).join('');
        const res = await ex.run({
          modelHash: hash,
          model,
          feeds: { pixels: { dtype: 'uint8', dims: [8, 784], data: pixels } },
          timeoutMs: 30000,
        });
        const labels = Array.from(new BigInt64Array(res.outputs.label.data.slice().buffer), Number);
        let bad = null;
        try {
          await ex.run({
            modelHash: hash,
            model,
            feeds: { pixels: { dtype: 'float32', dims: [1, 784], data: new Uint8Array(784 * 4) } },
            timeoutMs: 30000,
          });
        } catch (e) {
          bad = { code: e.code, message: e.message };
        }
        // A deadline too short to meet: the worker is killed, a new one takes the next task.
        let late = null;
        try {
          // All 1000 digits: far more than 1 ms of work, so the deadline fires first.
          const all = npy.slice(start, start + 784 * 1000);
          await ex.run({
            modelHash: hash,
            model,
            feeds: { pixels: { dtype: 'uint8', dims: [1000, 784], data: all } },
            timeoutMs: 1,
          });
        } catch (e) {
          late = e.code;
        }
        const after = await ex.run({
          modelHash: hash,
          model,
          feeds: { pixels: { dtype: 'uint8', dims: [8, 784], data: pixels } },
          timeoutMs: 30000,
        });
        return {
          backend: res.backend,
          computeMs: res.computeMs,
          labels,
          bad,
          late,
          afterKill: Array.from(
            new BigInt64Array(after.outputs.label.data.slice().buffer),
            Number,
          ).join(''),
          isolated: self.crossOriginIsolated,
          state: ex.state(),
        };
      });
      console.log('smoke:', JSON.stringify(r));
    }
    await ctx.close();
  }
  if (args.includes('--flow')) {
    const laptop = sizes[0];
    const a = await newPage(laptop, 'tab-a');
    const b = await newPage(laptop, 'tab-b');
    const url = `${base}?grid=${grid}-flow`;
    await b.page.goto(`${url}#/donate`);
    await a.page.goto(`${url}#/submit`);
    await a.page
      .getByTestId('signal-status')
      .and(a.page.locator('[data-status="online"]'))
      .waitFor({ timeout: 45000 });
    await b.page
      .getByTestId('signal-status')
      .and(b.page.locator('[data-status="online"]'))
      .waitFor({ timeout: 45000 });
    const samples = args.includes('--ocr') ? ['mnist', 'ocr'] : ['mnist'];
    for (const sample of samples) {
      await a.page.goto(`${url}#/submit`);
      await a.page.getByTestId(`sample-${sample}`).click();
      const t0 = Date.now();
      await a.page.getByTestId('submit-job').click();
      await a.page.getByTestId('job-view').waitFor({ timeout: 60000 });
      try {
        await a.page
          .locator('[data-testid="job-state"][data-state="completed"]')
          .waitFor({ timeout: Number(opt('--timeout', '180')) * 1000 });
      } catch (e) {
        await shoot(a.page, `failed-${sample}-a`);
        await b.page.goto(`${url}#/donate`);
        await shoot(b.page, `failed-${sample}-b`);
        problems.push(`${sample} did not complete: ${e.message.split('\n')[0]}`);
        break;
      }
      console.log(`${sample}: completed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await a.page.waitForTimeout(800);
      await shoot(a.page, `job-${sample}-laptop`);
      // Same tab (its IndexedDB holds the job), phone-sized.
      await a.page.setViewportSize({ width: sizes[1].width, height: sizes[1].height });
      await a.page.waitForTimeout(800);
      await shoot(a.page, `job-${sample}-phone`);
      await shoot(a.page, `job-${sample}-phone-top`, false);
      await a.page.setViewportSize({ width: laptop.width, height: laptop.height });
    }
    if (args.includes('--reload')) {
      // A bigger job; reload the submitting tab half-way: it must resume from IndexedDB.
      await a.page.goto(`${url}#/submit`);
      await a.page.getByTestId('sample-mnist').click();
      await a.page.getByTestId('mnist-digits').selectOption('1000');
      await a.page.getByTestId('mnist-batch').selectOption('10');
      await a.page.getByTestId('submit-job').click();
      await a.page.getByTestId('job-view').waitFor({ timeout: 60000 });
      await a.page.waitForFunction(
        () => Number(document.querySelector('[data-testid="tasks-verified"]')?.textContent) >= 10,
        null,
        { timeout: 60000 },
      );
      const before = await a.page.getByTestId('tasks-verified').textContent();
      await a.page.reload();
      await a.page
        .locator('[data-testid="job-view"]:not([data-state="loading"])')
        .waitFor({ timeout: 45000 });
      const after = await a.page.getByTestId('tasks-verified').textContent();
      console.log(`reload: ${before} verified before, ${after} right after the reload`);
      await a.page
        .locator('[data-testid="job-state"][data-state="completed"]')
        .waitFor({ timeout: 240000 });
      console.log(
        `reload: completed after the reload (${await a.page.getByTestId('tasks-total').textContent()} tasks)`,
      );
      await shoot(a.page, 'job-reloaded-laptop');
    }
    if (args.includes('--bad')) {
      const page = a.page;
      const tryCustom = async (model, inputs) => {
        await page.goto(`${url}#/submit`);
        await page.getByTestId('sample-custom').click();
        await page.getByTestId('model-file').setInputFiles(model);
        await page.getByTestId('inputs-file').setInputFiles(inputs, { timeout: 120000 });
        await page.getByTestId('submit-job').click();
        await page.getByTestId('submit-error').waitFor({ timeout: 30000 });
        return page.getByTestId('submit-error').textContent();
      };
      const jobsBefore = await page.evaluate(() => window.peergrid.jobs.get().length);
      const broken = {
        name: 'broken.onnx',
        mimeType: 'application/octet-stream',
        buffer: Buffer.from('definitely not a protobuf'),
      };
      const json = (name, v) => ({
        name,
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify(v)),
      });
      console.log(`bad model: ${await tryCustom(broken, [json('x.json', [[1, 2, 3]])])}`);
      const { readFileSync } = await import('node:fs');
      const mnist = {
        name: 'mnist.onnx',
        mimeType: 'application/octet-stream',
        buffer: readFileSync(join(root, 'dist', 'samples', 'mnist-mlp.onnx')),
      };
      console.log(`misfit input: ${await tryCustom(mnist, [json('wrong.json', [[1, 2, 3]])])}`);
      // The oversized file is made inside the page (no 33 MiB through the DevTools protocol).
      await page.goto(`${url}#/submit`);
      await page.getByTestId('sample-custom').click();
      await page.getByTestId('model-file').setInputFiles(mnist);
      await page.getByTestId('inputs-file').evaluate((input) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(33 * 1024 * 1024)], 'huge.npy'));
        input.files = dt.files;
        input.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await page.getByTestId('submit-job').click();
      await page.getByTestId('submit-error').waitFor({ timeout: 30000 });
      console.log(`oversized: ${await page.getByTestId('submit-error').textContent()}`);
      await shoot(page, 'submit-error-laptop');
      const jobsAfter = await page.evaluate(() => window.peergrid.jobs.get().length);
      console.log(`bad input: jobs before ${jobsBefore}, after ${jobsAfter}`);
      if (jobsAfter !== jobsBefore) problems.push('bad input changed the stored jobs');
      // A custom job that fits: the MNIST model with one JSON digit.
      const digit = {
        pixels: {
          dtype: 'uint8',
          dims: [1, 784],
          data: Array.from({ length: 784 }, (_, i) => (i % 28 > 10 && i % 28 < 16 ? 255 : 0)),
        },
      };
      await page.goto(`${url}#/submit`);
      await page.getByTestId('sample-custom').click();
      await page.getByTestId('model-file').setInputFiles(mnist);
      await page.getByTestId('inputs-file').setInputFiles([json('one.json', digit)]);
      await page.getByTestId('policy-compare').selectOption('exact');
      await page.getByTestId('submit-job').click();
      await page
        .locator('[data-testid="job-state"][data-state="completed"]')
        .waitFor({ timeout: 60000 });
      console.log('custom job: completed');
      await shoot(page, 'job-custom-laptop');
    }
    if (args.includes('--cancel')) {
      await a.page.goto(`${url}#/submit`);
      await a.page.getByTestId('sample-mnist').click();
      await a.page.getByTestId('mnist-digits').selectOption('500');
      await a.page.getByTestId('mnist-batch').selectOption('10');
      await a.page.getByTestId('submit-job').click();
      await a.page.getByTestId('cancel-job').click({ timeout: 60000 });
      await a.page
        .locator('[data-testid="job-state"][data-state="cancelled"]')
        .waitFor({ timeout: 30000 });
      console.log(
        `cancel: cancelled with ${await a.page.getByTestId('tasks-verified').textContent()} of 50 verified`,
      );
    }
    if (args.includes('--image')) {
      // Own model with an image input: the text detector and one sample picture.
      const { readFileSync } = await import('node:fs');
      const file = (name, path) => ({
        name,
        mimeType: 'application/octet-stream',
        buffer: readFileSync(join(root, 'dist', 'samples', path)),
      });
      await a.page.goto(`${url}#/submit`);
      await a.page.getByTestId('sample-custom').click();
      await a.page
        .getByTestId('model-file')
        .setInputFiles(file('detector.onnx', 'ocr-det.onnx'), { timeout: 120000 });
      await a.page
        .getByTestId('inputs-file')
        .setInputFiles(file('sign.png', 'ocr/sign.png'), { timeout: 60000 });
      await a.page.getByTestId('policy-tolerance').fill('0.05');
      await a.page.getByTestId('submit-job').click();
      await a.page
        .locator('[data-testid="job-state"][data-state="completed"]')
        .waitFor({ timeout: 180000 });
      console.log('image input job: completed');
      await shoot(a.page, 'job-image-laptop');
    }
    await a.page.goto(`${url}#/jobs`);
    await a.page.getByTestId('job-row').first().waitFor({ timeout: 10000 });
    await shoot(a.page, 'jobs-list-laptop');
    await a.page.setViewportSize({ width: sizes[1].width, height: sizes[1].height });
    await shoot(a.page, 'jobs-list-phone');
    await a.page.setViewportSize({ width: laptop.width, height: laptop.height });
    // A second tab of tab A's browser profile: its own identity, and it leaves A's jobs to A.
    const a2 = await a.ctx.newPage();
    a2.on('pageerror', (e) => problems.push(`[tab-a2] pageerror: ${e.message}`));
    await a2.goto(`${url}#/jobs`);
    try {
      await a2
        .locator('[data-testid="signal-status"][data-status="online"]')
        .waitFor({ timeout: 45000 });
    } catch (e) {
      const g = await a2.evaluate(() => window.peergrid?.grid.get());
      console.log(`second tab not online: ${JSON.stringify(g)}`);
      throw e;
    }
    const ids = await Promise.all(
      [a, { page: a2 }].map((t) => t.page.evaluate(() => window.peergrid.grid.get().selfId)),
    );
    await a2.waitForFunction(() => window.peergrid.jobsReady.get(), null, { timeout: 10000 });
    const a2Jobs = await a2.evaluate(() => window.peergrid.jobs.get().length);
    console.log(
      `same profile: ids ${ids[0] === ids[1] ? 'EQUAL (bad)' : 'differ'}, second tab hosts ${a2Jobs} jobs`,
    );
    if (ids[0] === ids[1] || a2Jobs !== 0)
      problems.push('second tab of one profile shares identity or jobs');
    await a2.close();
    // Pause in tab B: it says so, and tab A sees it stop offering capacity.
    await b.page.goto(`${url}#/donate`);
    await b.page.getByTestId('pause-button').click();
    await b.page
      .locator('[data-testid="donor-state"][data-state="paused"]')
      .waitFor({ timeout: 5000 });
    const bId = await b.page.evaluate(() => window.peergrid.grid.get().selfId);
    await a.page.waitForFunction(
      (id) =>
        window.peergrid.grid.get().peers.find((p) => p.id === id)?.capabilities?.maxConcurrency ===
        0,
      bId,
      { timeout: 10000 },
    );
    console.log('pause: tab A sees tab B with capacity 0');
    await shoot(b.page, 'donate-paused-laptop');
    await b.page.getByTestId('pause-button').click();
    await b.page
      .locator('[data-testid="donor-state"][data-state="donating"]')
      .waitFor({ timeout: 5000 });
    // GPU off and on again: the workers restart; the tab still computes (WASM here).
    await b.page.getByTestId('gpu-toggle').uncheck();
    await b.page.getByTestId('gpu-toggle').check();
    const backend = await b.page.getByTestId('backend').getAttribute('data-backend');
    console.log(`gpu toggle: backend ${backend}`);
    const done = await b.page.getByTestId('tasks-done').textContent();
    console.log(`tab B tasks done: ${done}`);
    await b.page.goto(`${url}#/mesh`);
    await b.page.waitForTimeout(1500);
    await shoot(b.page, 'mesh-flow-laptop');
    await a.ctx.close();
    await b.ctx.close();
  }
} finally {
  await browser.close();
  if (server && server.exitCode === null) {
    // The server closes its sockets on SIGTERM; give it a moment, then make sure.
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const t = setTimeout(() => server.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}
for (const p of problems) console.log(p);
console.log(JSON.stringify({ problems: problems.length }));
process.exit(problems.length ? 1 : 0);
