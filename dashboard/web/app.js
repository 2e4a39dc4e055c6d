// queuectl dashboard. Plain JavaScript, no framework.
//
// Data comes from the REST API (/api/...); live updates come from one
// Server-Sent Events stream (/api/events) that the dashboard feeds from the
// broker's event stream. Events trigger (debounced) refetches of what is on
// screen; nothing polls on a timer.
//
// Everything from a job (ids, commands, output, errors) is untrusted text:
// it only ever goes into textContent or attributes, never innerHTML.
'use strict';

const STATES = ['pending', 'processing', 'completed', 'failed', 'dead', 'canceled', 'waiting'];
const PAGE_SIZE = 50;
const CHART_SECONDS = 300;

const $ = (id) => document.getElementById(id);

// el('td', {class: 'x', title: t}, child, 'text', ...): children are nodes or text.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function stateBadge(state) {
  return el('span', { class: 'state ' + (STATES.includes(state) ? state : '') }, state || '?');
}

function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 0) return 'in ' + dur(-s);
  return dur(s) + ' ago';
}

function dur(s) {
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}

function timeCell(iso) {
  return el('td', { title: iso ? new Date(iso).toLocaleString() : null, dataset: { iso: iso || '' } }, ago(iso));
}

// "30s", "5m", "2h", "1d", "250ms" or a number of seconds -> seconds; NaN if malformed.
function parseDuration(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return NaN;
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 's'];
  return Number(m[1]) * unit;
}

function setMsg(id, text, ok) {
  const node = $(id);
  node.textContent = text;
  node.className = 'msg ' + (ok ? 'ok' : 'err');
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const options = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body === undefined ? {} : body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new ApiError(0, 'network', 'the dashboard did not answer');
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    if (response.status === 401) showBanner('Unauthorized: open this page as /?token=TOKEN');
    if (response.status === 503) showBanner('The broker is not answering');
    throw new ApiError(response.status, error.code || 'http_' + response.status,
      error.message || 'HTTP ' + response.status);
  }
  return data;
}

function showBanner(text) {
  const banner = $('banner');
  banner.textContent = text;
  banner.hidden = !text;
}

// Runs fn at most once per `ms`, coalescing calls made meanwhile.
function debounce(fn, ms) {
  let timer = null;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now(), 80);
    timer = setTimeout(async () => {
      timer = null;
      last = Date.now();
      try { await fn(); } catch (e) { /* shown by fn */ }
    }, wait);
  };
}

// A button that asks for a second click within 3 s before it acts.
function confirmClick(button, label, action) {
  let armed = null;
  const original = button.textContent;
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = label;
      button.classList.add('confirm');
      armed = setTimeout(() => { armed = null; button.textContent = original; button.classList.remove('confirm'); }, 3000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = original;
    button.classList.remove('confirm');
    await action();
  });
}

// ------------------------------------------------------------ overview

let lastStatus = null;

function renderStatus(status) {
  if (!status) return;
  if (status.broker_up === false) {
    showBanner('The broker is not answering');
    return;
  }
  showBanner('');
  lastStatus = status;
  for (const state of STATES) {
    const value = status.counts ? status.counts[state] : undefined;
    $('count-' + state).textContent = value === undefined ? '–' : String(value);
  }
  $('count-workers').textContent = status.workers ?? '–';
  $('count-busy').textContent = status.busy ?? '–';
  const oldest = status.oldest_pending_age_s;
  $('count-oldest').textContent = oldest === null || oldest === undefined ? '–' : dur(Math.round(oldest));
  if (status.live) setLive(status.live);
}

function setLive(mode) {
  const live = $('live');
  if (mode === 'events') {
    live.textContent = 'live';
    live.className = 'live on';
    live.title = 'Updates pushed from the broker\'s event stream';
  } else if (mode === 'polling') {
    live.textContent = 'live (polling)';
    live.className = 'live polling';
    live.title = 'The broker has no event stream: the dashboard polls its status every second';
  } else {
    live.textContent = 'reconnecting…';
    live.className = 'live off';
    live.title = 'The event stream is down; the browser reconnects by itself';
  }
}

// ------------------------------------------------------------ throughput chart

const series = new Map(); // second -> {completed, failed}

async function loadThroughput() {
  const data = await api('GET', '/api/throughput');
  series.clear();
  const start = data.end - data.completed.length + 1;
  data.completed.forEach((c, i) => {
    const f = data.failed[i];
    if (c || f) series.set(start + i, { completed: c, failed: f });
  });
  drawChart();
}

function addThroughput(tp) {
  series.set(tp.t, { completed: tp.completed, failed: tp.failed });
  drawChart();
}

function drawChart() {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 140;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const style = getComputedStyle(document.documentElement);
  const colors = { completed: style.getPropertyValue('--completed').trim(), failed: style.getPropertyValue('--failed').trim() };
  const muted = style.getPropertyValue('--muted').trim();
  const line = style.getPropertyValue('--line').trim();
  const now = Math.floor(Date.now() / 1000) - 1;
  const from = now - CHART_SECONDS + 1;
  for (const t of series.keys()) if (t < now - 600) series.delete(t);
  let max = 1;
  for (let t = from; t <= now; t++) {
    const p = series.get(t);
    if (p) max = Math.max(max, p.completed, p.failed);
  }
  max = niceMax(max);
  const left = 34, right = 6, top = 6, bottom = 18;
  const w = width - left - right, h = height - top - bottom;
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = muted;
  ctx.strokeStyle = line;
  ctx.lineWidth = 1;
  for (let i = 0; i <= 2; i++) {
    const y = top + h - (h * i) / 2;
    ctx.beginPath(); ctx.moveTo(left, y + 0.5); ctx.lineTo(left + w, y + 0.5); ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText(String(Math.round((max * i) / 2 * 10) / 10), left - 4, y + 3);
  }
  ctx.textAlign = 'center';
  for (let m = 0; m <= 5; m++) {
    const x = left + w - (w * m * 60) / CHART_SECONDS;
    ctx.fillText(m === 0 ? 'now' : '-' + m + 'm', x, height - 4);
  }
  for (const key of ['completed', 'failed']) {
    ctx.strokeStyle = colors[key];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let t = from; t <= now; t++) {
      const p = series.get(t);
      const v = p ? p[key] : 0;
      const x = left + ((t - from) / (CHART_SECONDS - 1)) * w;
      const y = top + h - (v / max) * h;
      if (t === from) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
}

function niceMax(v) {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
  for (const s of steps) if (v <= s) return s;
  return Math.ceil(v / 10000) * 10000;
}

// ------------------------------------------------------------ jobs table

const jobsView = { state: '', queue: '', q: '', cursor: null, back: [], next: null, ids: new Set() };

async function loadJobs() {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (jobsView.state) params.set('state', jobsView.state);
  if (jobsView.q) params.set('q', jobsView.q);
  if (jobsView.queue) params.set('queue', jobsView.queue);
  if (jobsView.cursor) params.set('cursor', jobsView.cursor);
  let data;
  try {
    data = await api('GET', '/api/jobs?' + params);
  } catch (e) {
    $('page-info').textContent = e.message;
    return;
  }
  jobsView.next = data.next_cursor;
  const body = $('jobs-body');
  const rows = data.jobs.map(jobRow);
  jobsView.ids = new Set(data.jobs.map((j) => j.id));
  if (!rows.length) {
    rows.push(el('tr', {}, el('td', { class: 'empty', colspan: 8 },
      jobsView.q ? 'No job matches' : 'No jobs' + (jobsView.queue ? ' in queue ' + jobsView.queue : '') +
        (jobsView.state ? ' in state ' + jobsView.state : ''))));
  }
  body.replaceChildren(...rows);
  $('page-newer').disabled = jobsView.back.length === 0;
  $('page-older').disabled = !jobsView.next;
  let info = 'page ' + (jobsView.back.length + 1);
  if (jobsView.q) info += ' · searched ' + data.scanned + ' jobs' + (data.partial ? ' (more: Older ›)' : '');
  $('page-info').textContent = info;
}

function jobRow(job) {
  const exit = job.exit_code === null || job.exit_code === undefined ? '' : String(job.exit_code);
  return el('tr', { dataset: { id: job.id }, onclick: () => openDetail(job.id) },
    el('td', { class: 'id', title: job.id }, job.id),
    el('td', { class: 'queue' }, job.queue || 'default'),
    el('td', { class: 'state-cell' }, stateBadge(job.state)),
    el('td', { class: 'cmd', title: job.command }, job.command),
    el('td', { class: 'attempts' }, job.attempts + '/' + (job.max_retries + 1)),
    el('td', {}, String(job.priority)),
    el('td', { class: 'exit' }, exit),
    timeCell(job.updated_at));
}

const refreshJobs = debounce(loadJobs, 500);

// On an older page new jobs don't appear: only the rows' states can change.
// One request for all of them (the broker's states op), rows updated in place.
async function loadRowStates() {
  const ids = [...jobsView.ids];
  if (!ids.length) return;
  let data;
  try {
    data = await api('GET', '/api/states?ids=' + ids.map(encodeURIComponent).join(','));
  } catch (e) {
    return;
  }
  for (const job of data.jobs) {
    const row = document.querySelector('#jobs-body tr[data-id="' + CSS.escape(job.id) + '"]');
    if (!row || !job.state) continue;
    row.querySelector('.state-cell').replaceChildren(stateBadge(job.state));
    row.querySelector('.attempts').textContent = job.attempts + '/' + (job.max_retries + 1);
    row.querySelector('.exit').textContent = job.exit_code === null ? '' : String(job.exit_code);
    const updated = row.lastElementChild;
    updated.dataset.iso = job.updated_at || '';
    updated.textContent = ago(job.updated_at);
  }
}

const refreshRowStates = debounce(loadRowStates, 500);
// What a refresh means for the job table: the first page (or a filtered
// one) may gain rows; an older page only changes state.
const refreshJobTable = () => (jobsView.cursor && !jobsView.state && !jobsView.q && !jobsView.queue ? refreshRowStates() : refreshJobs());

// A job event: update its row in place, or refetch when the page would change.
function onJobEvent(ev) {
  const row = document.querySelector('#jobs-body tr[data-id="' + CSS.escape(ev.id) + '"]');
  const firstPage = !jobsView.cursor;
  if (row && (!jobsView.state || jobsView.state === ev.state)) {
    row.querySelector('.state-cell').replaceChildren(stateBadge(ev.state));
    if (ev.attempts !== undefined && ev.max_retries !== undefined)
      row.querySelector('.attempts').textContent = ev.attempts + '/' + (ev.max_retries + 1);
    if (ev.exit_code !== undefined) row.querySelector('.exit').textContent = String(ev.exit_code);
    const updated = row.lastElementChild;
    updated.dataset.iso = ev.at || '';
    updated.textContent = ago(ev.at);
    row.classList.remove('flash');
    void row.offsetWidth;
    row.classList.add('flash');
  } else if (row || (firstPage && (!jobsView.state || jobsView.state === ev.state))) {
    refreshJobs();
  }
  if (ev.id === detail.id || detail.related.has(ev.id)) refreshDetail();
  if (ev.state === 'dead' || dlqIds.has(ev.id)) refreshDlq();
  refreshQueues();
}

// ------------------------------------------------------------ job detail

const detail = { id: null, output: null, related: new Set() };

function openDetail(id) {
  detail.id = id;
  $('detail').hidden = false;
  $('detail-msg').textContent = '';
  $('detail-live-output').textContent = '';
  loadDetail();
}

function closeDetail() {
  detail.id = null;
  $('detail').hidden = true;
  stopOutput();
}

function stopOutput() {
  if (detail.output) detail.output.close();
  detail.output = null;
}

// Live output of a running job: a second stream that carries only its output.
function startOutput(id) {
  if (detail.output && detail.output.jobId === id) return;
  stopOutput();
  const source = new EventSource('/api/events?output=' + encodeURIComponent(id));
  source.jobId = id;
  // Each (re)connection starts with what the dashboard kept of the output
  // ("replay": the tail from its start), then goes on live.
  source.addEventListener('open', () => { $('detail-live-output').textContent = ''; });
  source.addEventListener('output', (e) => {
    const data = JSON.parse(e.data);
    if (data.id !== detail.id) return;
    const pre = $('detail-live-output');
    pre.append(document.createTextNode(data.data));
    if (pre.textContent.length > 256 * 1024) pre.textContent = pre.textContent.slice(-128 * 1024);
    pre.scrollTop = pre.scrollHeight;
  });
  detail.output = source;
}

async function loadDetail() {
  const id = detail.id;
  if (!id) return;
  let job;
  try {
    job = (await api('GET', '/api/jobs/' + encodeURIComponent(id))).job;
  } catch (e) {
    setMsg('detail-msg', e.message, false);
    return;
  }
  if (detail.id !== id) return;
  $('detail-id').textContent = job.id;
  $('detail-state').replaceChildren(stateBadge(job.state));
  $('detail-command').textContent = job.command;
  const fields = [
    ['attempts', job.attempts + ' of ' + (job.max_retries + 1) + (job.runs ? ' (runs: ' + job.runs + ')' : '')],
    ['queue', job.queue], ['priority', job.priority], ['timeout', job.timeout_s + 's'], ['run at', job.run_at],
    ['created', job.created_at], ['started', job.started_at], ['finished', job.finished_at],
    ['exit code', job.exit_code], ['last error', job.last_error], ['worker', job.worker_id],
  ];
  $('detail-fields').replaceChildren(...fields.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  // Dependencies and dependents with their states; a click opens that job.
  const after = job.after || [];
  const dependents = job.dependents || [];
  detail.related = new Set([...after, ...dependents].map((d) => d.id));
  const depItem = (d) => el('li', { dataset: { id: d.id } },
    el('a', { title: d.id, onclick: () => openDetail(d.id) }, d.id), stateBadge(d.state));
  $('detail-deps').hidden = !after.length;
  $('detail-after').replaceChildren(...after.map(depItem));
  $('detail-dependents-box').hidden = !dependents.length;
  $('detail-dependents').replaceChildren(...dependents.map(depItem),
    ...(job.more_dependents ? [el('li', { class: 'muted' }, 'and more')] : []));
  $('detail-cancel').hidden = !['pending', 'failed', 'processing', 'waiting'].includes(job.state);
  $('detail-retry').hidden = job.state !== 'dead';
  const running = job.state === 'processing';
  $('detail-live').hidden = !running;
  if (running) startOutput(job.id); else stopOutput();
  const attempts = (job.attempts_log || []).slice().reverse().map(attemptBox);
  if (!attempts.length) attempts.push(el('p', { class: 'muted' }, 'No attempt yet.'));
  $('detail-attempts').replaceChildren(...attempts);
}

function attemptBox(a) {
  const outcome = a.outcome || 'running';
  const exit = a.signal ? 'signal ' + a.signal : (a.exit_code === null || a.exit_code === undefined ? '' : 'exit ' + a.exit_code);
  const box = el('div', { class: 'attempt' },
    el('div', { class: 'head' },
      el('b', {}, '#' + a.attempt),
      el('span', { class: 'state ' + (outcome === 'succeeded' ? 'completed' : outcome === 'running' ? 'processing' : 'dead') }, outcome),
      exit ? el('span', {}, exit) : null,
      el('span', { class: 'muted' }, (a.worker_host || '') + (a.worker_pid ? ' pid ' + a.worker_pid : '')),
      el('span', { class: 'muted', title: a.started_at || '' }, a.started_at ? new Date(a.started_at).toLocaleTimeString() : ''),
      a.started_at && a.finished_at ? el('span', { class: 'muted' }, ((Date.parse(a.finished_at) - Date.parse(a.started_at)) / 1000).toFixed(3) + 's') : null,
      a.cpu_ms !== null && a.cpu_ms !== undefined ? el('span', { class: 'muted' }, 'cpu ' + a.cpu_ms + 'ms') : null,
      a.max_rss_kb ? el('span', { class: 'muted' }, 'rss ' + Math.round(a.max_rss_kb / 1024) + 'MiB') : null));
  if (a.error) box.append(el('h4', {}, 'error'), el('pre', { class: 'output' }, a.error));
  if (a.stdout_tail) box.append(el('h4', {}, 'stdout'), el('pre', { class: 'output stdout' }, a.stdout_tail));
  if (a.stderr_tail) box.append(el('h4', {}, 'stderr'), el('pre', { class: 'output stderr' }, a.stderr_tail));
  return box;
}

const refreshDetail = debounce(loadDetail, 300);

// ------------------------------------------------------------ dead-letter queue

let dlqIds = new Set();

async function loadDlq() {
  let data;
  try {
    data = await api('GET', '/api/dlq?limit=100');
  } catch (e) {
    setMsg('dlq-msg', e.message, false);
    return;
  }
  dlqIds = new Set(data.jobs.map((j) => j.id));
  const rows = data.jobs.map((job) => el('tr', { dataset: { id: job.id } },
    el('td', { class: 'id', title: job.id, onclick: () => openDetail(job.id) }, job.id),
    el('td', { class: 'cmd', title: job.command, onclick: () => openDetail(job.id) }, job.command),
    el('td', {}, String(job.attempts)),
    el('td', { class: 'cmd', title: job.last_error || '' }, job.last_error || ''),
    timeCell(job.updated_at),
    el('td', {}, el('button', { type: 'button', class: 'small retry', onclick: (e) => { e.stopPropagation(); retryJob(job.id); } }, 'Retry'))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { class: 'empty', colspan: 6 }, 'The dead-letter queue is empty')));
  $('dlq-body').replaceChildren(...rows);
  $('dlq-count').textContent = data.jobs.length ? '(' + data.jobs.length + (data.next_cursor ? '+' : '') + ')' : '';
  $('dlq-retry-all').disabled = !data.jobs.length;
  $('dlq-purge').disabled = !data.jobs.length;
}

const refreshDlq = debounce(loadDlq, 400);

async function retryJob(id) {
  try {
    await api('POST', '/api/dlq/' + encodeURIComponent(id) + '/retry');
    setMsg('dlq-msg', 'Job ' + id + ' is pending again', true);
  } catch (e) {
    setMsg('dlq-msg', e.message, false);
  }
  refreshDlq();
}

async function retryAll() {
  try {
    const r = await api('POST', '/api/dlq/retry-all');
    setMsg('dlq-msg', 'Retried ' + r.retried.length + ' job(s)' + (r.failed.length ? ', ' + r.failed.length + ' could not be' : '')
      + (r.more ? '; more are dead: click again' : ''), !r.failed.length);
  } catch (e) {
    setMsg('dlq-msg', e.message, false);
  }
  refreshDlq();
}

// Deletes in the broker's bounded steps (it answers more: true until done).
async function deleteAll(path, body) {
  let deleted = 0;
  for (let i = 0; i < 1000; i++) {
    const r = await api('POST', path, body);
    deleted += r.deleted;
    if (!r.more) break;
  }
  return deleted;
}

async function purgeDlq() {
  try {
    const n = await deleteAll('/api/dlq/purge', {});
    setMsg('dlq-msg', 'Purged ' + n + ' dead job(s)', true);
  } catch (e) {
    setMsg('dlq-msg', e.message, false);
  }
  refreshDlq();
  refreshJobs();
}

async function prune() {
  const states = ['completed', 'dead', 'canceled'].filter((s) => $('prune-' + s).checked);
  const olderText = $('prune-older').value.trim() || '0';
  const older = parseDuration(olderText);
  if (!states.length) return setMsg('prune-msg', 'Choose at least one state', false);
  if (Number.isNaN(older)) return setMsg('prune-msg', 'older than: use 7d, 12h, 30m or 0', false);
  try {
    const n = await deleteAll('/api/prune', { states, older_than_s: Math.floor(older) });
    setMsg('prune-msg', 'Deleted ' + n + ' ' + states.join('/') + ' job(s) older than ' + olderText, true);
  } catch (e) {
    setMsg('prune-msg', e.message, false);
  }
  refreshJobs();
  refreshDlq();
}

// ------------------------------------------------------------ queues

async function loadQueues() {
  let data;
  try {
    data = await api('GET', '/api/queues');
  } catch (e) {
    setMsg('queues-msg', e.message, false);
    return;
  }
  const n = (q, state) => el('td', { class: 'num ' + state }, String((q.counts && q.counts[state]) || 0));
  const rows = data.queues.map((q) => el('tr', { dataset: { queue: q.name } },
    el('td', { class: 'mono' }, q.name),
    n(q, 'pending'), n(q, 'waiting'),
    el('td', { class: 'num running' }, String(q.running || 0)),
    n(q, 'completed'), n(q, 'failed'), n(q, 'dead'), n(q, 'canceled'),
    el('td', { class: 'num limit' }, q.max_running === null || q.max_running === undefined ? '–' : String(q.max_running)),
    el('td', { class: 'qstate' }, el('span', { class: 'state ' + (q.paused ? 'paused' : 'completed') }, q.paused ? 'paused' : 'active')),
    el('td', {}, el('button', { type: 'button', class: 'small ' + (q.paused ? 'resume' : 'pause'), onclick: () => setQueuePaused(q.name, !q.paused) },
      q.paused ? 'Resume' : 'Pause'))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { class: 'empty', colspan: 11 }, 'No queue')));
  $('queues-body').replaceChildren(...rows);
  // The job table's queue filter offers every queue (keeping the choice).
  const select = $('filter-queue');
  const names = data.queues.map((q) => q.name);
  if (jobsView.queue && !names.includes(jobsView.queue)) names.push(jobsView.queue);
  const current = [...select.options].slice(1).map((o) => o.value);
  if (current.join('\n') !== names.join('\n')) {
    select.replaceChildren(el('option', { value: '' }, 'all queues'), ...names.map((name) => el('option', { value: name }, name)));
    select.value = jobsView.queue;
  }
}

const refreshQueues = debounce(loadQueues, 500);

async function setQueuePaused(name, paused) {
  try {
    await api('POST', '/api/queues/' + encodeURIComponent(name) + (paused ? '/pause' : '/resume'));
    setMsg('queues-msg', 'Queue ' + name + (paused ? ' paused: nothing new of it starts; running jobs finish' : ' resumed'), true);
  } catch (e) {
    setMsg('queues-msg', e.message, false);
  }
  loadQueues();
}

// ------------------------------------------------------------ workers

async function loadWorkers() {
  let data;
  try {
    data = await api('GET', '/api/workers');
  } catch (e) {
    setMsg('workers-msg', e.message, false);
    return;
  }
  const rows = data.workers.map((w) => el('tr', { dataset: { worker: w.worker_id }, title: w.worker_id },
    el('td', {}, w.host), el('td', {}, String(w.pid)),
    el('td', {}, w.busy + '/' + w.slots), el('td', {}, String(w.jobs_done)),
    timeCell(w.last_seen),
    el('td', {}, w.stopping ? el('span', { class: 'muted' }, 'stopping…')
      : el('button', { type: 'button', class: 'small danger stop', onclick: () => stopWorkers(w.worker_id) }, 'Stop'))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { class: 'empty', colspan: 6 }, 'No worker connected')));
  $('workers-body').replaceChildren(...rows);
  $('workers-stop-all').disabled = !data.workers.length;
}

const refreshWorkers = debounce(loadWorkers, 400);

async function stopWorkers(workerId) {
  try {
    const r = await api('POST', '/api/workers/stop', workerId ? { worker_id: workerId } : {});
    setMsg('workers-msg', 'Asked ' + r.stopped + ' worker(s) to stop after their running jobs', true);
  } catch (e) {
    setMsg('workers-msg', e.message, false);
  }
  refreshWorkers();
}

// ------------------------------------------------------------ configuration

async function loadConfig() {
  let data;
  try {
    data = await api('GET', '/api/config');
  } catch (e) {
    setMsg('config-msg', e.message, false);
    return;
  }
  const rows = Object.entries(data.config).map(([key, value]) => {
    const input = el('input', { value: String(value), name: key, 'aria-label': key });
    const save = el('button', { type: 'button', class: 'small' }, 'Save');
    const submit = async () => {
      try {
        const r = await api('PUT', '/api/config', { key, value: input.value.trim() });
        input.value = String(r.config[key]);
        setMsg('config-msg', key + ' = ' + r.config[key], true);
      } catch (e) {
        setMsg('config-msg', e.message, false);
      }
    };
    save.addEventListener('click', submit);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') submit(); });
    return el('tr', { dataset: { key } }, el('td', {}, key), el('td', {}, input), el('td', {}, save));
  });
  $('config-body').replaceChildren(...rows);
}

// ------------------------------------------------------------ enqueue form

async function enqueue(event) {
  event.preventDefault();
  const job = { command: $('enq-command').value };
  const id = $('enq-id').value.trim();
  const priority = $('enq-priority').value.trim();
  const retries = $('enq-retries').value.trim();
  const delay = $('enq-delay').value.trim();
  const timeout = $('enq-timeout').value.trim();
  const queue = $('enq-queue').value.trim();
  const after = $('enq-after').value.split(/[\s,]+/).filter(Boolean);
  if (id) job.id = id;
  if (queue) job.queue = queue;
  if (after.length) job.after = after;
  if (priority) job.priority = /^-?\d+$/.test(priority) ? Number(priority) : priority;
  if (retries) job.max_retries = Number(retries);
  if (delay) {
    const s = parseDuration(delay);
    if (Number.isNaN(s)) return setMsg('enq-msg', 'delay: use 30s, 5m, 2h or a number of seconds', false);
    job.delay_s = s;
  }
  if (timeout) {
    const s = parseDuration(timeout);
    if (Number.isNaN(s) || s < 1) return setMsg('enq-msg', 'timeout: use 30s, 10m or a number of seconds', false);
    job.timeout_s = Math.round(s);
  }
  try {
    const r = await api('POST', '/api/jobs', job);
    setMsg('enq-msg', 'Enqueued ' + r.id, true);
    $('enq-id').value = '';
  } catch (e) {
    setMsg('enq-msg', e.message, false);
  }
}

// ------------------------------------------------------------ live stream

let stream = null;

function refreshAll() {
  return Promise.allSettled([
    api('GET', '/api/status').then(renderStatus),
    loadJobs(), loadQueues(), loadDlq(), loadWorkers(), loadConfig(), loadThroughput(), loadDetail(),
  ]);
}

function connect() {
  stream = new EventSource('/api/events');
  stream.addEventListener('open', () => refreshAll());
  stream.addEventListener('error', () => setLive('off'));
  stream.addEventListener('hello', (e) => setLive(JSON.parse(e.data).live));
  stream.addEventListener('status', (e) => {
    const previous = lastStatus;
    const status = JSON.parse(e.data);
    renderStatus(status);
    if (!previous || previous.workers !== status.workers || previous.busy !== status.busy) refreshWorkers();
    // A pause, resume or cap set elsewhere (CLI) sends no job event: the
    // status pushes (after changes, and every 5 s) bring the Queues card along.
    refreshQueues();
  });
  stream.addEventListener('job', (e) => onJobEvent(JSON.parse(e.data)));
  stream.addEventListener('worker', () => refreshWorkers());
  stream.addEventListener('tp', (e) => addThroughput(JSON.parse(e.data)));
  // Polling mode (no event stream at the broker), or this page fell behind.
  const everything = () => { refreshJobTable(); refreshQueues(); refreshDlq(); refreshWorkers(); refreshDetail(); };
  stream.addEventListener('refresh', everything);
  stream.addEventListener('resync', () => { everything(); loadThroughput().catch(() => {}); });
}

function init() {
  $('enqueue-form').addEventListener('submit', enqueue);
  $('jobs-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    const queue = $('filter-queue').value;
    const q = $('filter-q').value.trim();
    if (queue && q) {
      $('page-info').textContent = 'Search looks in every queue: choose all queues, or clear the search';
      return;
    }
    jobsView.state = $('filter-state').value;
    jobsView.queue = queue;
    jobsView.q = q;
    jobsView.cursor = null;
    jobsView.back = [];
    loadJobs();
  });
  $('filter-state').addEventListener('change', () => $('jobs-filter').requestSubmit());
  $('filter-queue').addEventListener('change', () => $('jobs-filter').requestSubmit());
  $('page-older').addEventListener('click', () => {
    if (!jobsView.next) return;
    jobsView.back.push(jobsView.cursor);
    jobsView.cursor = jobsView.next;
    loadJobs();
  });
  $('page-newer').addEventListener('click', () => {
    if (!jobsView.back.length) return;
    jobsView.cursor = jobsView.back.pop();
    loadJobs();
  });
  $('dlq-retry-all').addEventListener('click', retryAll);
  confirmClick($('dlq-purge'), 'Really delete every dead job?', purgeDlq);
  confirmClick($('prune-run'), 'Really delete them?', prune);
  $('prune-form').addEventListener('submit', (e) => e.preventDefault());
  confirmClick($('workers-stop-all'), 'Really stop all?', () => stopWorkers(null));
  $('detail-close').addEventListener('click', closeDetail);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDetail(); });
  confirmClick($('detail-cancel'), 'Really cancel?', async () => {
    try {
      await api('POST', '/api/jobs/' + encodeURIComponent(detail.id) + '/cancel');
      setMsg('detail-msg', 'Canceled', true);
    } catch (e) {
      setMsg('detail-msg', e.message, false);
    }
    refreshDetail();
  });
  $('detail-retry').addEventListener('click', () => retryJob(detail.id).then(refreshDetail));
  // Local redraws only (relative times, the chart's moving window): no network.
  setInterval(() => {
    drawChart();
    for (const cell of document.querySelectorAll('td[data-iso]')) if (cell.dataset.iso) cell.textContent = ago(cell.dataset.iso);
  }, 1000);
  window.addEventListener('resize', drawChart);
  connect();
}

document.addEventListener('DOMContentLoaded', init);
