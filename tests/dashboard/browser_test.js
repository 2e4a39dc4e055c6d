// The dashboard in a real browser (Debian's chromium through playwright-core):
// enqueue through the form and watch the job complete without reloading, see
// a failing job reach the DLQ and retry it with a click, open a job's detail,
// check that hostile commands and output render as text, stop a worker,
// pause and resume a queue, follow a job that waits for another.
// Environment: DASH_URL, OUT_DIR (screenshots), USER_DATA_DIR.
'use strict';
const { chromium } = require('playwright-core');

const URL = process.env.DASH_URL;
const OUT = process.env.OUT_DIR;
const started = Date.now();
let checks = 0;

function ok(cond, what) {
  if (!cond) throw new Error('FAIL: ' + what);
  checks++;
  console.log('ok ' + checks + ' - ' + what + ' (' + ((Date.now() - started) / 1000).toFixed(1) + 's)');
}

async function api(method, path, body) {
  const response = await fetch(URL + path.replace(/^\//, ''), {
    method,
    headers: method === 'GET' ? {} : { 'Content-Type': 'application/json' },
    body: method === 'GET' ? undefined : JSON.stringify(body || {}),
  });
  return { status: response.status, body: await response.json() };
}

async function waitFor(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('FAIL: timed out waiting for ' + what);
}

async function enqueueViaForm(page, fields) {
  await page.fill('#enq-command', fields.command);
  await page.fill('#enq-id', fields.id || '');
  await page.fill('#enq-retries', fields.retries === undefined ? '' : String(fields.retries));
  await page.fill('#enq-priority', fields.priority || '');
  await page.fill('#enq-delay', fields.delay || '');
  await page.fill('#enq-timeout', fields.timeout || '');
  await page.fill('#enq-queue', fields.queue || '');
  await page.fill('#enq-after', fields.after || '');
  await page.click('#enqueue-form button[type=submit]');
  await page.waitForFunction((id) => document.getElementById('enq-msg').textContent === 'Enqueued ' + id, fields.id);
}

const row = (table, id) => `#${table}-body tr[data-id="${id}"]`;

// Reads the dashboard's output stream of a job until text shows up.
async function waitForOutput(id, text, ms = 10000) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  let seen = '';
  try {
    const response = await fetch(URL + 'api/events?output=' + encodeURIComponent(id), { signal: controller.signal });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      if (seen.includes(text)) return;
    }
  } catch (e) {
    /* aborted: timed out */
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error('FAIL: the dashboard never saw "' + text + '" in the output of ' + id);
}

async function main() {
  const watchdog = setTimeout(() => { console.error('FAIL: the browser test took over 80 s'); process.exit(1); }, 80000);
  const context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1000 },
  });
  const dialogs = [];
  const errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('dialog', (dialog) => { dialogs.push(dialog.type() + ': ' + dialog.message()); dialog.dismiss().catch(() => {}); });
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
    let loads = 0;
    page.on('load', () => loads++);

    // Some history so the page has something to show.
    await api('POST', '/api/jobs', { jobs: Array.from({ length: 12 }, (_, i) => ({ id: 'warm-' + i, command: 'echo warm-up ' + i })) });
    await api('POST', '/api/jobs', { id: 'flaky', command: 'echo trying; exit 1', max_retries: 2 });
    await api('POST', '/api/jobs', { id: 'nightly', command: './nightly.sh --full', delay_s: 3600, priority: 10 });

    await page.goto(URL);
    await page.waitForSelector('#live.on', { timeout: 10000 });
    ok(true, 'the page loads and its event stream is live');
    await page.waitForSelector(row('jobs', 'warm-0'));
    await page.waitForFunction(() => Number(document.getElementById('count-completed').textContent) >= 1, null, { timeout: 10000 });
    ok(true, 'counts per state are shown (and follow the jobs)');
    ok(await page.locator('#workers-body tr[data-worker]').count() === 2, 'both workers are listed');
    ok(await page.locator('#config-body input[name=max_retries]').count() === 1, 'the configuration is shown');

    // Enqueue through the form; the row goes to completed with no reload.
    await enqueueViaForm(page, { command: 'echo hello from the browser; sleep 0.5', id: 'web-1', priority: 'high', timeout: '30s' });
    await page.waitForSelector(row('jobs', 'web-1'));
    ok(true, 'the new job appears in the table by itself');
    await page.waitForSelector(row('jobs', 'web-1') + ' .state.completed', { timeout: 10000 });
    ok(true, 'and turns completed by itself');

    // Pause a queue from the page: its new job stays pending while a worker
    // is free; Resume and it runs.
    const queueRow = (name) => `#queues-body tr[data-queue="${name}"]`;
    ok(await page.locator(queueRow('default')).count() === 1, 'the Queues panel lists the default queue');
    await enqueueViaForm(page, { command: 'true', id: 'webq-0', queue: 'webq' });
    await page.waitForSelector(row('jobs', 'webq-0') + ' .state.completed', { timeout: 10000 });
    ok(await page.textContent(row('jobs', 'webq-0') + ' td.queue') === 'webq', 'the job table shows the job\'s queue');
    await page.waitForSelector(queueRow('webq'), { timeout: 10000 });
    await page.waitForFunction((sel) => document.querySelector(sel + ' td.completed').textContent === '1', queueRow('webq'), { timeout: 10000 });
    ok(true, 'the Queues panel lists the new queue with its counts per state');
    await page.click(queueRow('webq') + ' button.pause');
    await page.waitForSelector(queueRow('webq') + ' .state.paused', { timeout: 10000 });
    ok((await api('GET', '/api/queues')).body.queues.find((q) => q.name === 'webq').paused === true, 'Pause paused the queue');
    await enqueueViaForm(page, { command: 'echo resumed', id: 'webq-1', queue: 'webq' });
    await page.waitForSelector(row('jobs', 'webq-1') + ' .state.pending');
    await page.waitForFunction((sel) => document.querySelector(sel + ' td.pending').textContent === '1', queueRow('webq'), { timeout: 10000 });
    await page.waitForTimeout(1500);
    const st = (await api('GET', '/api/status')).body;
    ok((await api('GET', '/api/jobs/webq-1')).body.job.state === 'pending' && st.busy < 4 &&
      await page.locator(row('jobs', 'webq-1') + ' .state.pending').count() === 1,
      'a job of the paused queue stays pending for 1.5 s while a worker slot is free (busy ' + st.busy + ' of 4)');
    await page.click(queueRow('webq') + ' button.resume');
    await page.waitForSelector(queueRow('webq') + ' button.pause', { timeout: 10000 });
    await page.waitForSelector(row('jobs', 'webq-1') + ' .state.completed', { timeout: 10000 });
    ok(true, 'Resume: the queue is active again and its job completes');
    await page.selectOption('#filter-queue', 'webq');
    await page.waitForFunction(() => {
      const ids = [...document.querySelectorAll('#jobs-body tr[data-id]')].map((r) => r.dataset.id);
      return ids.length === 2 && ids.includes('webq-0') && ids.includes('webq-1');
    }, null, { timeout: 10000 });
    ok(true, 'the job table filtered to queue webq shows only its two jobs');
    await page.selectOption('#filter-queue', '');
    await page.waitForSelector(row('jobs', 'warm-0'), { timeout: 10000 });
    // Paused elsewhere (as by queuectl queue pause): no job event, the status pushes bring it.
    await api('POST', '/api/queues/webq/pause');
    await page.waitForSelector(queueRow('webq') + ' .state.paused', { timeout: 8000 });
    ok(true, 'a pause made elsewhere shows on the page by itself');
    await api('POST', '/api/queues/webq/resume');
    await page.waitForSelector(queueRow('webq') + ' button.pause', { timeout: 8000 });

    // A dependent job: B waits for A, the page shows B waiting with A as its
    // dependency, then both complete.
    await enqueueViaForm(page, { command: 'sleep 2', id: 'dep-a' });
    await enqueueViaForm(page, { command: 'echo after a', id: 'dep-b', after: 'dep-a' });
    await page.waitForSelector(row('jobs', 'dep-b') + ' .state.waiting', { timeout: 10000 });
    ok(true, 'a job enqueued after another shows as waiting');
    await page.click(row('jobs', 'dep-b') + ' td.cmd');
    await page.waitForSelector('#detail-after li[data-id="dep-a"] .state', { timeout: 10000 });
    ok(await page.textContent('#detail-state') === 'waiting' && !await page.isHidden('#detail-deps'),
      'its panel says waiting and lists dep-a as its dependency with its state');
    await page.screenshot({ path: OUT + '/detail-deps.png' });
    await page.waitForSelector('#detail-after li[data-id="dep-a"] .state.completed', { timeout: 15000 });
    await page.waitForSelector('#detail-state .state.completed', { timeout: 15000 });
    ok(true, 'the panel follows: dep-a completed, then dep-b completed');
    await page.waitForSelector(row('jobs', 'dep-b') + ' .state.completed', { timeout: 10000 });
    await page.click('#detail-after li[data-id="dep-a"] a');
    await page.waitForSelector('#detail-dependents li[data-id="dep-b"] .state.completed', { timeout: 10000 });
    ok(await page.textContent('#detail-id') === 'dep-a', 'a click on the dependency opens it; it lists dep-b as its dependent');
    await page.click('#detail-close');

    // A failing job with no retries reaches the DLQ; retry it with a click.
    await enqueueViaForm(page, { command: 'echo boom >&2; exit 7', id: 'web-fail', retries: 0 });
    await page.waitForSelector(row('dlq', 'web-fail'), { timeout: 10000 });
    ok(true, 'a failing job with max retries 0 arrives in the DLQ');
    await page.click(row('dlq', 'web-fail') + ' button.retry');
    await page.waitForFunction(() => /pending again/.test(document.getElementById('dlq-msg').textContent));
    await waitFor('the retried job to run again', async () => {
      const job = (await api('GET', '/api/jobs/web-fail')).body.job;
      return job.attempts_log.length === 2 && job.state === 'dead';
    });
    await page.waitForSelector(row('dlq', 'web-fail'), { timeout: 10000 });
    ok(true, 'the Retry button ran it again (second attempt, back in the DLQ)');

    // Hostile text: commands and output are shown as text, nothing runs.
    const xss = '<script>alert(1)</script>';
    const xssOut = "echo '<img src=x onerror=alert(2)>'";
    await enqueueViaForm(page, { command: xss, id: 'web-xss' });
    await enqueueViaForm(page, { command: xssOut, id: 'web-xss2' });
    await page.waitForSelector(row('jobs', 'web-xss2') + ' .state.completed', { timeout: 10000 });
    ok(await page.textContent(row('jobs', 'web-xss') + ' td.cmd') === xss, 'the <script> command is shown as text');
    ok(await page.locator('#jobs-body script, #jobs-body img').count() === 0, 'no element was made from a command');
    await page.click(row('jobs', 'web-xss2') + ' td.cmd');
    await page.waitForFunction(() => document.querySelector('#detail pre.stdout'));
    ok((await page.textContent('#detail pre.stdout')).includes('<img src=x onerror=alert(2)>'), 'output with HTML is shown as text');
    ok(await page.locator('#detail img, #detail script').count() === 0, 'no element was made from output');

    // A job's detail: every attempt with exit codes and output.
    await page.click('#detail-close');
    await waitFor('flaky to die', async () => (await api('GET', '/api/jobs/flaky')).body.job.state === 'dead', 20000);
    await page.click(row('jobs', 'flaky') + ' td.cmd');
    await page.waitForFunction(() => document.getElementById('detail-id').textContent === 'flaky' &&
      document.querySelectorAll('#detail-attempts .attempt').length === 3);
    ok(true, 'the detail lists all 3 attempts of a job that failed 3 times');
    ok((await page.textContent('#detail-attempts')).includes('exit 1'), 'with their exit codes');
    ok((await page.textContent('#detail-attempts pre.stdout')).includes('trying'), 'and their output');
    await page.screenshot({ path: OUT + '/detail.png' });
    await page.click('#detail-close');

    // Live output of a running job, and the overview for docs/dashboard.png.
    await api('POST', '/api/jobs', { id: 'long', command: 'for i in $(seq 20); do echo tick $i; sleep 0.3; done' });
    await page.waitForSelector(row('jobs', 'long') + ' .state.processing', { timeout: 10000 });
    await waitForOutput('long', 'tick 3'); // the panel opens after some output went by
    await page.click(row('jobs', 'long') + ' td.cmd');
    await page.waitForFunction(() => /^tick 1\ntick 2\ntick 3\n/.test(document.getElementById('detail-live-output').textContent), null, { timeout: 10000 });
    ok(true, 'a running job\'s panel opened late shows its output from the first line');
    await page.waitForFunction(() => /tick (?:[5-9]|1[0-9])\n/.test(document.getElementById('detail-live-output').textContent), null, { timeout: 10000 });
    ok(true, 'and goes on live');
    await page.click('#detail-close');
    await page.waitForTimeout(300); // let the chart draw the last second
    await page.screenshot({ path: OUT + '/dashboard.png', fullPage: true });

    // The same page on a phone-sized screen: one column, nothing wider than it.
    const phone = await context.newPage();
    phone.on('pageerror', (error) => errors.push(String(error)));
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(URL);
    await phone.waitForSelector('#live.on', { timeout: 10000 });
    await phone.waitForSelector(row('jobs', 'warm-0'));
    const widths = await phone.evaluate(() => ({ page: document.documentElement.scrollWidth,
      wide: [...document.querySelectorAll('main > *, .side > *, header')].filter((n) => n.getBoundingClientRect().right > 391).map((n) => n.id || n.tagName) }));
    ok(widths.page <= 390 && widths.wide.length === 0, 'at 390 px nothing is wider than the screen (' + JSON.stringify(widths) + ')');
    await phone.screenshot({ path: OUT + '/dashboard-phone.png', fullPage: true });
    await phone.click(row('jobs', 'flaky') + ' td.cmd');
    await phone.waitForFunction(() => document.querySelectorAll('#detail-attempts .attempt').length === 3);
    ok(await phone.evaluate(() => document.getElementById('detail').getBoundingClientRect().width <= 390), 'a job\'s panel fits the phone');
    await phone.screenshot({ path: OUT + '/detail-phone.png' });
    await phone.close();
    ok(true, 'screenshots saved in ' + OUT);

    // DLQ purge and prune, each after a confirming second click.
    await page.waitForSelector(row('dlq', 'web-fail'));
    await page.click('#dlq-purge');
    ok(/Really/.test(await page.textContent('#dlq-purge')) && await page.locator(row('dlq', 'web-fail')).count() === 1,
      'Purge asks for a second click and deletes nothing yet');
    await page.click('#dlq-purge');
    await page.waitForFunction(() => /Purged [0-9]+ dead job/.test(document.getElementById('dlq-msg').textContent));
    await page.waitForSelector('#dlq-body td.empty', { timeout: 10000 });
    ok((await api('GET', '/api/dlq')).body.jobs.length === 0, 'the second click purged the DLQ');
    await page.fill('#prune-older', '0');
    await page.click('#prune-run');
    ok(/Really/.test(await page.textContent('#prune-run')), 'Prune asks for a second click');
    await page.click('#prune-run');
    await page.waitForFunction(() => /Deleted [0-9]+ completed\/canceled job/.test(document.getElementById('prune-msg').textContent));
    await page.waitForFunction(() => !document.querySelector('#jobs-body tr[data-id="warm-0"]'), null, { timeout: 10000 });
    ok((await api('GET', '/api/jobs?state=completed')).body.jobs.length === 0, 'the second click pruned the completed jobs');

    // Stop one worker from the page.
    const first = await page.getAttribute('#workers-body tr[data-worker]', 'data-worker');
    await page.click(`#workers-body tr[data-worker="${first}"] button.stop`);
    await page.waitForFunction((id) => !document.querySelector(`#workers-body tr[data-worker="${id}"]`) &&
      document.querySelectorAll('#workers-body tr[data-worker]').length === 1, first, { timeout: 15000 });
    ok(true, 'Stop on a worker stops it gracefully; it leaves the list');

    ok(loads === 1, 'all of it without reloading the page');
    ok(dialogs.length === 0, 'no dialog fired (' + dialogs.join(', ') + ')');
    ok(errors.length === 0, 'no script errors (' + errors.join(' | ') + ')');
  } finally {
    clearTimeout(watchdog);
    await context.close();
  }
  console.log(checks + ' passed, 0 failed');
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
