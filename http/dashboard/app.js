// The dashboard: plain DOM, no framework. Everything a job or queue holds
// comes from the network and is shown with textContent only, never parsed
// as HTML. The token lives in sessionStorage (one browser session) and goes
// out only as an Authorization header to this origin.
'use strict';

const PAGE_SIZE = 25;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const state = {
  token: sessionStorage.getItem('conveyor.token'),
  queues: new Map(), // name -> stats with `may`
  filters: {},
  cursors: [], // cursors of the pages before the current one
  cursor: null,
  nextCursor: null,
  detail: null, // the job document shown
  stream: null, // AbortController of the event stream
};

const $ = (id) => document.getElementById(id);

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function row(cells, attrs) {
  const tr = el('tr', null, attrs);
  for (const c of cells) tr.append(c instanceof Node ? c : el('td', c));
  return tr;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

function took(from, to) {
  if (!from || !to) return '';
  const ms = new Date(to) - new Date(from);
  return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

async function api(method, path, body) {
  const init = { method, headers: { Authorization: 'Bearer ' + state.token } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (res.status === 401) {
    signOut('The node refused this token.');
    throw new Error('unauthorized');
  }
  if (!res.ok)
    throw new Error((data && (data.detail || data.title || data.message)) || res.statusText);
  return data;
}

// ---------------------------------------------------------------- sign in
function signOut(message) {
  state.token = null;
  sessionStorage.removeItem('conveyor.token');
  if (state.stream) state.stream.abort();
  $('app').hidden = true;
  $('sign-out').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
}

async function signIn(token) {
  state.token = token;
  try {
    await refreshQueues();
  } catch (e) {
    if (state.token) $('login-error').textContent = e.message;
    return;
  }
  sessionStorage.setItem('conveyor.token', token);
  $('login').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = false;
  loadJobs();
  listen();
}

// ----------------------------------------------------------------- queues
async function refreshQueues() {
  const list = await api('GET', '/v1/queues');
  state.queues = new Map(list.map((q) => [q.name, q]));
  const body = $('queues').tBodies[0];
  body.replaceChildren();
  for (const q of list) {
    const action = el('td');
    if (q.may && q.may.run) {
      const b = el('button', q.paused ? 'Resume' : 'Pause', { type: 'button' });
      b.dataset.queue = q.name;
      b.addEventListener('click', () => pauseQueue(q.name, !q.paused));
      action.append(b);
    }
    body.append(row([q.name, q.queued, q.delayed, q.running, q.completed,
      q.failed, q.cancelled, q.concurrency, q.paused ? 'paused' : 'active',
      action], { 'data-queue': q.name }));
  }
}

async function pauseQueue(name, pause) {
  try {
    await api('POST', '/v1/queues/' + encodeURIComponent(name) + (pause ? '/pause' : '/resume'));
  } finally {
    await refreshQueues();
  }
}

let queuesTimer = null;
function refreshQueuesSoon() {
  if (queuesTimer) return;
  queuesTimer = setTimeout(() => { queuesTimer = null; refreshQueues().catch(() => {}); }, 300);
}

// ------------------------------------------------------------------- jobs
function jobName(j) {
  return j.taskSlug || j.workflowSlug || '';
}

function jobRow(j) {
  const status = el('td');
  status.append(el('span', j.status, { class: 'status ' + j.status }));
  const tr = row([j.id, jobName(j), j.queue, status, j.totalTried, when(j.createdAt)],
    { 'data-id': j.id });
  tr.addEventListener('click', () => showJob(j.id));
  return tr;
}

async function loadJobs() {
  const q = new URLSearchParams({ limit: PAGE_SIZE });
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
  if (state.cursor) q.set('cursor', state.cursor);
  let page;
  try {
    page = await api('GET', '/v1/jobs?' + q);
    $('filter-error').textContent = '';
  } catch (e) {
    $('filter-error').textContent = e.message;
    return;
  }
  const body = $('jobs').tBodies[0];
  body.replaceChildren(...page.docs.map(jobRow));
  state.nextCursor = page.nextCursor || null;
  $('next-page').disabled = !state.nextCursor;
  $('first-page').disabled = !state.cursor;
}

let jobsTimer = null;
function loadJobsSoon() {
  if (jobsTimer) return;
  jobsTimer = setTimeout(() => { jobsTimer = null; loadJobs(); }, 300);
}

// A transition: update the job's row in place, or reload a page it may
// now belong to.
function jobChanged(job) {
  const tr = $('jobs').querySelector('tr[data-id="' + CSS.escape(job.id) + '"]');
  if (tr) tr.replaceWith(jobRow(job));
  else if (!state.cursor) loadJobsSoon();
  if (state.detail && state.detail.id === job.id) renderJob(job);
}

// ----------------------------------------------------------------- detail
async function showJob(id) {
  $('d-message').textContent = '';
  try {
    renderJob(await api('GET', '/v1/jobs/' + encodeURIComponent(id)));
  } catch (e) {
    $('d-message').textContent = e.message;
  }
  $('detail').hidden = false;
}

function renderJob(j) {
  state.detail = j;
  $('d-id').textContent = j.id;
  const status = $('d-status');
  status.textContent = j.status;
  status.className = 'status ' + j.status;
  const fields = $('d-fields');
  fields.replaceChildren();
  const shown = [['Task', j.taskSlug], ['Workflow', j.workflowSlug], ['Queue', j.queue],
    ['Priority', j.priority], ['Tried', j.totalTried], ['Created', when(j.createdAt)],
    ['Updated', when(j.updatedAt)], ['Wait until', when(j.waitUntil)],
    ['Completed', when(j.completedAt)],
    ['Error', j.error ? (j.error.message || JSON.stringify(j.error)) : '']];
  for (const [k, v] of shown) {
    if (v === undefined || v === null || v === '') continue;
    fields.append(el('dt', k), el('dd', v));
  }
  const log = $('d-log').tBodies[0];
  log.replaceChildren(...(j.log || []).map((e) => row([e.taskID, e.taskSlug, e.state,
    when(e.executedAt), took(e.executedAt, e.completedAt),
    e.error ? e.error.message || '' : ''])));
  renderLive(j.live);
  $('d-input').textContent = JSON.stringify(j.input, null, 2);
  // A job's output is its steps' outputs (Payload keeps them in the log).
  const outputs = {};
  for (const e of j.log || []) {
    if (e.state === 'succeeded') outputs[e.taskID] = e.output;
  }
  $('d-output').textContent = JSON.stringify(outputs, null, 2);
  $('d-task-status').textContent = JSON.stringify(j.taskStatus || {}, null, 2);
  const may = (state.queues.get(j.queue) || {}).may || {};
  $('d-cancel').hidden = !may.cancel || TERMINAL.has(j.status);
  $('d-requeue').hidden = !may.queue || j.status !== 'failed';
}

// What the shown job's running attempt is doing (docs/live.md).
function renderLive(live) {
  $('d-live').hidden = !live;
  if (!live) return;
  const body = $('d-steps').tBodies[0];
  body.replaceChildren(...(live.steps || []).map((s) => {
    const bar = el('progress');
    bar.max = 1;
    if (typeof s.progress === 'number') bar.value = s.progress;
    else bar.removeAttribute('value'); // indeterminate
    const tr = row([s.taskID, s.taskSlug, s.state, (s.durationMs / 1000).toFixed(1) + ' s',
      '', s.message || '']);
    tr.dataset.state = s.state;
    tr.cells[4].append(bar);
    return tr;
  }));
  const running = (live.steps || []).filter((s) => s.stderrTail);
  $('d-tail').textContent = running.map((s) =>
    (running.length > 1 ? '[' + s.taskID + '] ' : '') + s.stderrTail).join('\n');
}

let detailTimer = null;
// A step ended: the shown job's log changed; read it again (at most every
// 300 ms).
function reloadDetailSoon() {
  if (detailTimer) return;
  detailTimer = setTimeout(async () => {
    detailTimer = null;
    if (!state.detail) return;
    try {
      renderJob(await api('GET', '/v1/jobs/' + encodeURIComponent(state.detail.id)));
    } catch (e) { /* the next event retries */ }
  }, 300);
}

const LIVE_TYPES = new Set(['step_started', 'step_finished', 'progress', 'output']);

async function cancelShown() {
  const j = state.detail;
  try {
    renderJob(await api('POST', '/v1/jobs/' + encodeURIComponent(j.id) + '/cancel'));
    $('d-message').textContent = 'Cancelled.';
  } catch (e) {
    $('d-message').textContent = e.message;
  }
}

async function requeueShown() {
  const j = state.detail;
  const body = { input: j.input, queue: j.queue };
  if (j.workflowSlug) body.workflow = j.workflowSlug; else body.task = j.taskSlug;
  try {
    const fresh = await api('POST', '/v1/jobs', body);
    renderJob(fresh);
    $('d-message').textContent = 'Queued as job ' + fresh.id + '.';
  } catch (e) {
    $('d-message').textContent = e.message;
  }
}

// ------------------------------------------------------------- throughput
const chart = { seconds: 60, labels: [], completed: [], failed: [], now: { completed: 0, failed: 0 }, view: null };

function startChart() {
  for (let i = chart.seconds; i > 0; --i) {
    chart.labels.push(-i + 's'); chart.completed.push(0); chart.failed.push(0);
  }
  if (typeof Chart === 'undefined') return; // the page works without it
  chart.view = new Chart($('throughput'), {
    type: 'line',
    data: { labels: chart.labels, datasets: [
      { label: 'completed / s', data: chart.completed, borderColor: '#2f9e44', pointRadius: 0 },
      { label: 'failed / s', data: chart.failed, borderColor: '#e03131', pointRadius: 0 }] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
  setInterval(() => {
    chart.completed.push(chart.now.completed); chart.completed.shift();
    chart.failed.push(chart.now.failed); chart.failed.shift();
    chart.now = { completed: 0, failed: 0 };
    chart.view.update();
  }, 1000);
}

// ----------------------------------------------------------------- events
function setLive(on) {
  const badge = $('live');
  badge.textContent = on ? 'live' : 'offline';
  badge.className = 'badge ' + (on ? 'on' : 'off');
}

function onEvent(block) {
  let type = null;
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) type = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!type || !data) return;
  let event;
  try { event = JSON.parse(data); } catch (e) { return; }
  if (!event.job) return;
  if (LIVE_TYPES.has(type)) {
    // These carry the job's identity and its live record only.
    if (state.detail && state.detail.id === event.job.id && !TERMINAL.has(state.detail.status)) {
      state.detail.live = event.live;
      renderLive(event.live);
      if (type === 'step_finished') reloadDetailSoon();
    }
    return;
  }
  if (type === 'completed' || type === 'failed') chart.now[type] += 1;
  jobChanged(event.job);
  refreshQueuesSoon();
}

// /v1/events read with fetch (EventSource cannot send the token).
async function listen() {
  if (state.stream) state.stream.abort();
  const control = new AbortController();
  state.stream = control;
  while (state.token && !control.signal.aborted) {
    try {
      const res = await fetch('/v1/events', {
        headers: { Authorization: 'Bearer ' + state.token }, signal: control.signal });
      if (res.ok) {
        setLive(true);
        refreshQueuesSoon();
        loadJobsSoon();
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            onEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      }
    } catch (e) { /* reconnect below */ }
    setLive(false);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// ------------------------------------------------------------------ start
document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('token').value.trim());
  });
  $('sign-out').addEventListener('click', () => signOut(''));
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    const where = $('f-where').value.trim();
    if (where) {
      try { JSON.parse(where); } catch (err) {
        $('filter-error').textContent = 'where: not JSON';
        return;
      }
    }
    state.filters = { status: $('f-status').value, queue: $('f-queue').value.trim(),
      task: $('f-task').value.trim(), where };
    state.cursors = [];
    state.cursor = null;
    loadJobs();
  });
  $('next-page').addEventListener('click', () => {
    state.cursors.push(state.cursor);
    state.cursor = state.nextCursor;
    loadJobs();
  });
  $('first-page').addEventListener('click', () => {
    state.cursors = [];
    state.cursor = null;
    loadJobs();
  });
  $('d-cancel').addEventListener('click', cancelShown);
  $('d-requeue').addEventListener('click', requeueShown);
  startChart();
  if (state.token) signIn(state.token);
  else signOut('');
});
