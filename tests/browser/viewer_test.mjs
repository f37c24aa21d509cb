// The report's 3D viewer in a real browser (Debian's headless Chromium, driven by
// playwright-core): run by tests/viewer.rs, which makes the report and checks the result.
//
//   node tests/browser/viewer_test.mjs REPORT.html CASES.json OUT.json [SCREENSHOT_DIR]
//
// CASES.json: {"links": ["#run=...&t=...&view=...", ...], "slider": true|false}.
// OUT.json: for each link, the viewer's read-back state (which run and time it shows,
// the pelvis tilt and FPPA it drew, how much of the canvas is inked and a hash of its
// pixels); for the slider, the run shown at its two ends (moved with the keyboard, as a
// user does); after Play, the time reached; every JavaScript error and every request
// that was not for the file itself.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [report, casesFile, outFile, shots] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
});
const out = { errors: [], requests: [], links: [], slider: null, play: null, hover: null };
const url = 'file://' + report;

async function open(hash) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => out.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(url.split('#')[0]) && !u.startsWith('data:')) out.requests.push(u);
  });
  const started = Date.now();
  await page.goto(url + hash, { waitUntil: 'load' });
  await page.waitForFunction(() => window.hipdropViewer && window.hipdropViewer.ready, null, { timeout: 20000 });
  const loadMs = Date.now() - started;
  return { page, loadMs };
}
const state = (page) => page.evaluate(() => window.hipdropViewer.state());

try {
  for (const [i, hash] of cases.links.entries()) {
    const { page, loadMs } = await open(hash);
    const s = await state(page);
    s.link = hash;
    s.loadMs = loadMs;
    out.links.push(s);
    if (shots) await page.locator('#hv').screenshot({ path: join(shots, `viewer_${i}.png`) });
    await page.close();
  }
  if (cases.slider) {
    const { page } = await open('');
    const slider = page.locator('#hv-strength');
    await slider.focus();
    await page.keyboard.press('Home');
    const low = await state(page);
    await page.keyboard.press('End');
    const high = await state(page);
    out.slider = { low, high };
    await page.close();
  }
  {
    const { page } = await open(cases.play || cases.links[0] || '');
    const before = await state(page);
    await page.click('#hv-play');
    await page.waitForTimeout(700);
    await page.click('#hv-play');
    const after = await state(page);
    out.playState = after;
    // Side by side (a report of one run offers none): the second canvas is shown.
    let visible = null;
    if (after.runs > 1) {
      if (!after.compare) await page.check('#hv-compare');
      visible = await page.locator('#hv-canvas2').isVisible();
    } else {
      visible = await page.locator('#hv-compare').isVisible();
    }
    // Hover over the gluteus medius: the tip names it.
    const at = await page.evaluate(() => window.hipdropViewer.muscleAt('glut_med2'));
    let tip = null;
    if (at) {
      await page.mouse.move(at.x, at.y);
      tip = await page.locator('#hv-tip').isVisible() ? await page.locator('#hv-tip').textContent() : '';
    }
    out.hover = tip;
    const drawMs = await page.evaluate(() => window.hipdropViewer.benchmark(120));
    out.play = { before: before.t, after: after.t, hashBefore: before.hash, hashAfter: after.hash, compareVisible: visible, drawMs };
    await page.close();
  }
} catch (e) {
  out.errors.push('test script: ' + String(e && e.stack || e));
}
await browser.close();
writeFileSync(outFile, JSON.stringify(out, null, 1));
