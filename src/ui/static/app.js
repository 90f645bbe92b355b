// m365-mock dashboard: plain JS, no build step, no network beyond this mock's own /__admin calls.
// Request data (paths, headers, bodies) reaches the page only through textContent and text nodes:
// nothing a client sent is ever parsed as HTML (see el() below).

const ADMIN = '/__admin';
const TOKEN_KEY = 'm365-mock.adminToken';
const ROW_H = 24;
const OVERSCAN = 8;
const SVG_NS = 'http://www.w3.org/2000/svg';
/** newest chains drawn in the Retries view (the report holds them all) */
const MAX_CHAINS = 60;
/** seconds of history drawn per limiter key */
const HISTORY_MS = 60_000;

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  view: 'traffic',
  readonly: false,
  journalSize: 10000,
  /** every entry the page holds, oldest first */
  entries: [],
  byId: new Map(),
  /** entries passing the filter, newest first */
  shown: [],
  filter: { method: '', path: '', status: '', session: '', route: '' },
  selected: null,
  /** entries waiting for the next animation frame */
  pending: [],
  frame: 0,
  throttles: [],
  /** limiter key → [[time, used], …] for the refill drawing */
  history: new Map(),
  report: null,
  scenarios: [],
  outages: [],
  connected: false,
  reportTimer: 0,
  waitTimer: 0,
  stream: null,
};

// ---- DOM helpers: text only ---------------------------------------------------------------------

/** An element with attributes (on* keys are listeners) and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** A `grid` table: a heading row of `headings`, then `rows` (tr elements). */
function grid(headings, rows) {
  return el(
    'table',
    { class: 'grid' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headings.map((h) => el('th', {}, h)),
      ),
    ),
    el('tbody', {}, rows),
  );
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(node, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

function statusClass(status) {
  if (status === 429) return 's429';
  if (status >= 500) return 's5xx';
  if (status >= 400) return 's4xx';
  if (status >= 300) return 's3xx';
  return 's2xx';
}

function clock(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function decodePath(p) {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function pretty(value) {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

// ---- admin API ----------------------------------------------------------------------------------

function headers(extra) {
  const h = Object.assign({}, extra);
  if (state.token) h.authorization = `Bearer ${state.token}`;
  return h;
}

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const res = await fetch(ADMIN + path, {
    ...init,
    cache: 'no-store',
    headers: headers(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
  });
  if (res.status === 401) {
    askToken(true);
    throw new Unauthorized('token refused');
  }
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(body?.error?.message || `${res.status}`);
  return body;
}

function send(method, path, body) {
  return api(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
}

// ---- token --------------------------------------------------------------------------------------

function askToken(refused) {
  state.stream?.abort();
  $('token-form').hidden = false;
  $('views').hidden = true;
  $('token-error').hidden = !(refused && state.token);
  setStatus('needs the admin token');
  $('token-input').focus();
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $('token-input').value = '';
  start();
});

$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  askToken(false);
});

async function start() {
  try {
    await api('/scenarios').then(setScenarios);
  } catch (err) {
    if (err instanceof Unauthorized) return;
    setStatus(`cannot reach the mock: ${err.message}`);
    setTimeout(start, 2000);
    return;
  }
  $('token-form').hidden = true;
  $('views').hidden = false;
  $('forget-token').hidden = !state.token;
  connect();
}

// ---- event stream (fetch, not EventSource: EventSource cannot send the Authorization header) ----

async function connect() {
  const ctrl = new AbortController();
  state.stream = ctrl;
  let wait = 500;
  while (!ctrl.signal.aborted) {
    try {
      const res = await fetch(`${ADMIN}/events`, {
        headers: headers(),
        cache: 'no-store',
        signal: ctrl.signal,
      });
      if (res.status === 401) {
        askToken(true);
        return;
      }
      if (!res.ok || !res.body) throw new Error(`${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end = buf.indexOf('\n\n');
        while (end !== -1) {
          onFrame(buf.slice(0, end));
          buf = buf.slice(end + 2);
          end = buf.indexOf('\n\n');
        }
        wait = 500;
      }
    } catch {
      if (ctrl.signal.aborted) return;
    }
    setConnected(false);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 5000);
  }
}

function onFrame(frame) {
  let name = 'message';
  const data = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue; // heartbeat comment
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (!data.length) return;
  const payload = JSON.parse(data.join('\n'));
  const handler = EVENTS[name];
  if (handler) handler(payload);
}

const EVENTS = {
  hello(p) {
    state.readonly = p.readonly;
    state.journalSize = p.journalSize || 10000;
    setConnected(true);
    applyReadonly();
    setThrottles(p.throttles);
    // entries before the stream opened: from the journal; duplicates of streamed ones are dropped by id
    api('/requests').then((r) => queueEntries(r.requests), noteError);
    api('/outages').then((r) => setOutages(r.outages), noteError);
    api('/scenarios').then(setScenarios, noteError);
    refreshReport();
  },
  journal(p) {
    queueEntries(p.entries);
  },
  throttles(p) {
    setThrottles(p.throttles);
  },
  scenarios() {
    api('/scenarios').then(setScenarios, noteError);
  },
  outages(p) {
    setOutages(p.outages);
  },
  reset(p) {
    const keep = p.reset === 'session' ? (e) => e.session !== p.session : () => false;
    state.entries = state.entries.filter(keep);
    state.byId = new Map(state.entries.map((e) => [e.id, e]));
    if (state.selected && !state.byId.has(state.selected.id)) closeDetail();
    refilter();
    refreshReport();
  },
};

function noteError(err) {
  if (!(err instanceof Unauthorized)) setStatus(`error: ${err.message}`);
}

function setStatus(text) {
  $('status').textContent = text;
}

function setConnected(on) {
  state.connected = on;
  $('status').classList.toggle('live', on);
  setStatus(on ? `live · ${state.entries.length} entries` : 'reconnecting…');
}

// ---- journal: batched per animation frame ----------------------------------------------------

function queueEntries(entries) {
  for (const e of entries) state.pending.push(e);
  if (!state.frame) state.frame = requestAnimationFrame(applyPending);
}

function applyPending() {
  state.frame = 0;
  const batch = state.pending;
  state.pending = [];
  let added = 0;
  let appendOnly = true;
  let last = state.entries.length ? state.entries[state.entries.length - 1].id : 0;
  const fresh = [];
  for (const e of batch) {
    if (state.byId.has(e.id)) continue;
    state.byId.set(e.id, e);
    if (e.id < last) appendOnly = false;
    last = Math.max(last, e.id);
    state.entries.push(e);
    fresh.push(e);
    added++;
  }
  if (!added) return;
  if (!appendOnly) state.entries.sort((a, b) => a.id - b.id);
  const over = state.entries.length - state.journalSize;
  if (over > 0) {
    for (const e of state.entries.splice(0, over)) state.byId.delete(e.id);
  }
  if (appendOnly && over <= 0) {
    // the common case: new entries on top, no full pass over the 10,000
    const test = filterTest();
    const top = fresh.filter(test).reverse();
    state.shown = top.concat(state.shown);
  } else {
    refilter(false);
  }
  renderTraffic();
  setConnected(state.connected);
  if (fresh.some((e) => e.status === 429 || e.status === 503 || e.unmatched) || state.view === 'retries')
    refreshReport();
}

// ---- Traffic view ---------------------------------------------------------------------------------

function statusTest(text) {
  const t = text.trim().toLowerCase();
  if (!t) return () => true;
  const neg = t.startsWith('!');
  const v = neg ? t.slice(1) : t;
  let test;
  if (/^[1-5]xx$/.test(v)) test = (s) => Math.floor(s / 100) === Number(v[0]);
  else test = (s) => String(s) === v;
  return neg ? (s) => !test(s) : test;
}

function filterTest() {
  const f = state.filter;
  const method = f.method;
  const path = f.path.toLowerCase();
  const status = statusTest(f.status);
  const session = f.session;
  const route = f.route.toLowerCase();
  return (e) =>
    (!method || e.method === method) &&
    status(e.status) &&
    (!session || e.session.includes(session)) &&
    (!route || (e.routeId || '').toLowerCase().includes(route)) &&
    (!path || decodePath(e.url).toLowerCase().includes(path));
}

function refilter(render = true) {
  const test = filterTest();
  const out = [];
  for (let i = state.entries.length - 1; i >= 0; i--) if (test(state.entries[i])) out.push(state.entries[i]);
  state.shown = out;
  if (render) {
    renderTraffic(true);
    setConnected(state.connected);
  }
}

for (const [id, key] of [
  ['f-method', 'method'],
  ['f-path', 'path'],
  ['f-status', 'status'],
  ['f-session', 'session'],
  ['f-route', 'route'],
]) {
  $(id).addEventListener('input', (ev) => {
    state.filter[key] = ev.target.value;
    refilter();
  });
}

$('rows').addEventListener('scroll', () => renderTraffic(true));
window.addEventListener('resize', () => renderTraffic(true));

/** Renders only the rows in view (and a few around them): 10,000 entries cost what 40 do. */
function renderTraffic(force) {
  if (state.view !== 'traffic' && !force) return;
  const box = $('rows');
  const spacer = $('rows-spacer');
  spacer.style.height = `${state.shown.length * ROW_H}px`;
  $('traffic-count').textContent =
    state.shown.length === state.entries.length
      ? `${state.entries.length} requests`
      : `${state.shown.length} of ${state.entries.length} requests`;
  const first = Math.max(0, Math.floor(box.scrollTop / ROW_H) - OVERSCAN);
  const count = Math.ceil((box.clientHeight || 600) / ROW_H) + 2 * OVERSCAN;
  const last = Math.min(state.shown.length, first + count);
  for (const row of [...box.querySelectorAll('.row')]) row.remove();
  const frag = document.createDocumentFragment();
  for (let i = first; i < last; i++) frag.append(rowFor(state.shown[i], i));
  box.append(frag);
}

function rowFor(e, i) {
  const row = el(
    'div',
    {
      class: `row ${statusClass(e.status)}${state.selected?.id === e.id ? ' selected' : ''}`,
      dataset: { id: e.id },
      onclick: () => openDetail(e),
    },
    el('span', { class: 'c-time' }, clock(e.time)),
    el('span', { class: 'c-method' }, e.method),
    el('span', { class: 'c-status' }, String(e.status)),
    el('span', { class: 'c-path', title: decodePath(e.url) }, decodePath(e.url)),
    el('span', { class: 'c-session' }, e.session || '—'),
    el('span', { class: 'c-route' }, e.routeId || (e.unmatched ? 'unmatched' : '—')),
    el('span', { class: 'c-ms' }, String(e.durationMs)),
  );
  row.style.top = `${i * ROW_H}px`;
  return row;
}

function openDetail(e) {
  state.selected = e;
  const box = $('detail');
  clear(box);
  box.hidden = false;
  const claims = e.headers?.authorization;
  const otherHeaders = Object.assign({}, e.headers);
  delete otherHeaders.authorization;
  const items = e.batchId === null ? state.entries.filter((x) => x.batchId === e.requestId) : [];
  box.append(
    el(
      'div',
      { class: 'detail-head' },
      el('span', { class: `pill ${statusClass(e.status)}` }, String(e.status)),
      el('strong', {}, ` ${e.method} `),
      el('span', { class: 'detail-url' }, decodePath(e.url)),
      el('button', { type: 'button', class: 'close', onclick: closeDetail, title: 'close' }, '×'),
    ),
    el(
      'dl',
      {},
      ...[
        ['time', new Date(e.time).toISOString()],
        ['session', e.session || '(default)'],
        ['scenario', e.scenario || '—'],
        ['route', e.routeId || (e.unmatched ? 'unmatched' : '—')],
        ['fault', e.fault || '—'],
        ['Retry-After', e.retryAfter || '—'],
        ['duration', `${e.durationMs} ms`],
        ['request-id', e.requestId],
        ['batch', e.batchId || '—'],
        ['client ip', e.ip],
      ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]),
    ),
    section('Token claims (decoded, never verified)', claims ? pretty(claims) : 'no bearer token'),
    section('Query', Object.keys(e.query || {}).length ? pretty(e.query) : '—'),
    section('Headers', pretty(otherHeaders)),
    section(`Body${e.bodyTruncated ? ' (truncated)' : ''}`, pretty(e.body)),
  );
  if (items.length) {
    box.append(
      el('h3', {}, `Batch items (${items.length})`),
      el(
        'ul',
        { class: 'batch-items' },
        items.map((x) =>
          el(
            'li',
            { class: statusClass(x.status), onclick: () => openDetail(x) },
            `${x.status} ${x.method} ${decodePath(x.url)}`,
          ),
        ),
      ),
    );
  }
  renderTraffic(true);
}

function section(title, text) {
  return el('div', { class: 'section' }, el('h3', {}, title), el('pre', {}, text));
}

function closeDetail() {
  state.selected = null;
  $('detail').hidden = true;
  renderTraffic(true);
}

$('clear-journal').addEventListener('click', () => send('DELETE', '/requests').catch(noteError));

// ---- Retries view -----------------------------------------------------------------------------------

/** The report is built server-side from the whole journal: asked for at most every 250 ms. */
function refreshReport() {
  if (state.reportTimer) return;
  state.reportTimer = setTimeout(() => {
    state.reportTimer = 0;
    api('/report').then((r) => {
      state.report = r;
      renderRetries();
      renderUnmatched();
      // a waiting chain turns gave-up with no new request: look again while one waits
      if (r.chains.some((c) => c.outcome === 'waiting') && !state.waitTimer)
        state.waitTimer = setTimeout(() => {
          state.waitTimer = 0;
          refreshReport();
        }, 1000);
    }, noteError);
  }, 250);
}

function renderRetries() {
  const r = state.report;
  if (!r) return;
  const t = r.totals;
  const totals = $('retries-totals');
  clear(totals);
  totals.append(
    stat('requests', t.requests),
    stat('throttled', t.throttled),
    stat('chains', t.chains),
    stat('retries', t.retries),
    stat('early retries', t.earlyRetries, t.earlyRetries > 0 ? 'bad' : ''),
    stat('gave up', t.gaveUp, t.gaveUp > 0 ? 'bad' : ''),
    stat('recovered', t.recovered),
    stat('compliant', t.compliant ? 'yes' : 'no', t.compliant ? 'good' : 'bad'),
  );

  const routes = $('retries-routes');
  clear(routes);
  if (r.routes.length) {
    const head = [
      'client',
      'route',
      'requests',
      '429',
      '503',
      'Retry-After',
      'retries',
      'early',
      'waited ms (min/avg/max)',
      'chains',
      'recovered',
      'gave up',
    ];
    routes.append(
      el('h2', {}, 'Per client and route'),
      grid(
        head,
        r.routes.map((s) =>
          el(
            'tr',
            { class: 'route-summary' },
            el('td', {}, s.client),
            el('td', {}, s.routeId || '—'),
            el('td', {}, String(s.requests)),
            el('td', {}, String(s.sent429)),
            el('td', {}, String(s.sent503)),
            el('td', {}, s.retryAfter.join(', ') || '—'),
            el('td', {}, String(s.retries)),
            el('td', { class: s.earlyRetries ? 'bad' : '' }, String(s.earlyRetries)),
            el(
              'td',
              {},
              s.waitedMs ? `${s.waitedMs.min} / ${Math.round(s.waitedMs.avg)} / ${s.waitedMs.max}` : '—',
            ),
            el('td', {}, String(s.chains)),
            el('td', {}, String(s.recovered)),
            el('td', { class: s.gaveUp ? 'bad' : '' }, String(s.gaveUp)),
          ),
        ),
      ),
    );
  }

  const chains = $('retries-chains');
  clear(chains);
  const list = r.chains.slice(-MAX_CHAINS).reverse();
  chains.append(
    el(
      'h2',
      {},
      `Throttled chains (${r.chains.length}${r.chains.length > MAX_CHAINS ? `, newest ${MAX_CHAINS} drawn` : ''})`,
    ),
    el(
      'p',
      { class: 'legend muted' },
      el('span', { class: 'key asked' }, 'told to wait (Retry-After)'),
      el('span', { class: 'key waited' }, 'waited'),
      el('span', { class: 'key early' }, 'early retry'),
      el('span', { class: 'key gaveup' }, '× gave up'),
    ),
  );
  if (!list.length) chains.append(el('p', { class: 'muted' }, 'No 429 or 503 answered yet.'));
  for (const c of list) chains.append(chainCard(c));
}

function stat(label, value, cls) {
  return el(
    'div',
    { class: `stat ${cls || ''}` },
    el('span', { class: 'value' }, String(value)),
    el('span', { class: 'label' }, label),
  );
}

/** One throttled chain: the attempts on a time line, then per retry what it waited against what it was told. */
function chainCard(c) {
  const card = el(
    'div',
    { class: `chain outcome-${c.outcome}`, dataset: { outcome: c.outcome } },
    el(
      'div',
      { class: 'chain-head' },
      el('strong', {}, `${c.method} `),
      el('span', { class: 'chain-url' }, decodePath(c.url)),
      el('span', { class: `pill outcome ${c.outcome}` }, c.outcome),
      el(
        'span',
        { class: 'muted' },
        ` ${c.client} · ${c.routeId || '—'} · ${c.throttled} throttled, ${c.retries} retries, ${c.earlyRetries} early`,
      ),
    ),
  );
  const W = 760;
  const left = 8;
  /** room on the right for the waited / told labels */
  const labels = 120;
  const first = c.attempts[0].time;
  const lastA = c.attempts[c.attempts.length - 1];
  const tail = retryAfterMs(lastA.retryAfter) || 0;
  const span = Math.max(1, lastA.time - first + tail);
  const x = (t) => left + ((t - first) / span) * (W - labels - 2 * left);
  const rowH = 16;
  const H = 28 + c.attempts.length * rowH;
  const g = svg('svg', { class: 'chain-svg', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' });
  g.append(svg('line', { x1: left, y1: 14, x2: W - labels - left, y2: 14, class: 'axis' }));
  c.attempts.forEach((a, i) => {
    g.append(
      svg(
        'circle',
        { cx: x(a.time), cy: 14, r: 5, class: `dot ${statusClass(a.status)}${a.early ? ' early' : ''}` },
        svg(
          'title',
          {},
          `#${i + 1} ${a.status} at +${a.time - first} ms${a.retryAfter ? `, Retry-After ${a.retryAfter}` : ''}`,
        ),
      ),
    );
    if (a.waitedMs === null) return;
    const prev = c.attempts[i - 1];
    const y = 24 + (i - 1) * rowH;
    const x0 = x(prev.time);
    if (a.askedMs !== null)
      g.append(
        svg('rect', {
          x: x0,
          y,
          width: Math.max(1, x(prev.time + a.askedMs) - x0),
          height: 5,
          class: 'bar asked',
        }),
      );
    g.append(
      svg(
        'rect',
        {
          x: x0,
          y: y + 6,
          width: Math.max(3, x(prev.time + a.waitedMs) - x0),
          height: 5,
          class: `bar ${a.early ? 'early' : 'waited'}`,
        },
        svg('title', {}, `waited ${a.waitedMs} ms, told ${a.askedMs ?? '—'} ms${a.early ? ' (early)' : ''}`),
      ),
    );
    g.append(
      svg('text', { x: W - left, y: y + 10, class: 'bar-label' }, `${a.waitedMs} / ${a.askedMs ?? '—'} ms`),
    );
  });
  if (c.outcome === 'gave-up')
    g.append(svg('text', { x: Math.min(W - 14, x(lastA.time + tail)), y: 19, class: 'gaveup-mark' }, '×'));
  card.append(g);
  return card;
}

function retryAfterMs(v) {
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}

// ---- Throttles view ---------------------------------------------------------------------------

function keyOf(t) {
  return `${t.scenario}/${t.throttle}/${t.session}/${t.key}`;
}

function setThrottles(list) {
  const now = Date.now();
  state.throttles = list.map((t) => Object.assign({}, t, { seenAt: now, seenUsed: t.used }));
  const live = new Set();
  for (const t of state.throttles) {
    const k = keyOf(t);
    live.add(k);
    const h = state.history.get(k) || [];
    h.push([now, t.used]);
    state.history.set(k, h);
  }
  for (const k of [...state.history.keys()]) if (!live.has(k)) state.history.delete(k);
  renderThrottles();
}

/** What a key holds now, from its last snapshot: a bucket drains towards resetAt, a window empties at it. */
function usedNow(t, now) {
  if (now >= t.resetAt) return 0;
  if (t.algorithm === 'fixed-window') return t.seenUsed;
  const span = t.resetAt - t.seenAt;
  return span <= 0 ? 0 : t.seenUsed * ((t.resetAt - now) / span);
}

function renderThrottles() {
  if (state.view !== 'throttles') return;
  const box = $('throttle-keys');
  clear(box);
  const now = Date.now();
  if (!state.throttles.length) box.append(el('p', { class: 'muted' }, 'No limiter key has been used yet.'));
  for (const t of state.throttles) {
    const used = usedNow(t, now);
    const frac = t.limit > 0 ? Math.min(1, used / t.limit) : 0;
    const retryIn = t.retryAfterUntil > now ? (t.retryAfterUntil - now) / 1000 : 0;
    const resetIn = t.resetAt > now ? (t.resetAt - now) / 1000 : 0;
    const W = 740;
    const H = 60;
    const hist = (state.history.get(keyOf(t)) || []).filter(([at]) => at >= now - HISTORY_MS);
    // the span the page has seen, 10 to 60 s: a key first used a moment ago is not a dot at the edge
    const spanMs = Math.max(10_000, Math.min(HISTORY_MS, now - (hist[0]?.[0] ?? now)));
    const pad = 3;
    const points = hist
      .concat([[now, used]])
      .map(
        ([at, u]) =>
          `${((at - (now - spanMs)) / spanMs) * W},${H - pad - (Math.min(u, t.limit) / t.limit) * (H - 2 * pad)}`,
      );
    box.append(
      el(
        'div',
        { class: `throttle-key${retryIn > 0 ? ' throttled' : ''}`, dataset: { key: keyOf(t) } },
        el(
          'div',
          { class: 'tk-head' },
          el('strong', {}, t.throttle),
          el(
            'span',
            { class: 'muted' },
            ` ${t.algorithm} · ${t.scenario} · session ${t.session || '(default)'} · ${t.key}`,
          ),
        ),
        el(
          'div',
          { class: 'meter' },
          (() => {
            const fill = el('div', { class: `fill${frac >= 1 ? ' full' : frac >= 0.8 ? ' warn' : ''}` });
            fill.style.width = `${(frac * 100).toFixed(1)}%`;
            return fill;
          })(),
          el('span', { class: 'meter-label' }, `${used.toFixed(1)} / ${t.limit} used`),
        ),
        svg(
          'svg',
          { class: 'history', width: W, height: H, viewBox: `0 0 ${W} ${H}` },
          svg('polyline', { points: points.join(' '), class: 'history-line' }),
          svg('text', { x: 2, y: 10, class: 'bar-label start' }, `used, last ${Math.round(spanMs / 1000)} s`),
        ),
        el(
          'div',
          { class: 'tk-foot' },
          el(
            'span',
            { class: `countdown${retryIn > 0 ? ' active' : ''}` },
            retryIn > 0 ? `Retry-After: ${retryIn.toFixed(1)} s left` : 'not throttled',
          ),
          el(
            'span',
            { class: 'muted' },
            resetIn > 0 ? ` · full quota in ${resetIn.toFixed(1)} s` : ' · full quota',
          ),
        ),
      ),
    );
  }
}

/** every 250 ms: a sample of each key's drain for its history line, and the countdowns redrawn */
setInterval(() => {
  const now = Date.now();
  for (const t of state.throttles) {
    const h = state.history.get(keyOf(t));
    if (!h) continue;
    h.push([now, usedNow(t, now)]);
    while (h.length && h[0][0] < now - HISTORY_MS) h.shift();
  }
  if (state.view === 'throttles') renderThrottles();
}, 250);

// ---- Scenarios view -----------------------------------------------------------------------------

function setScenarios(r) {
  state.scenarios = r.scenarios;
  renderScenarios();
}

function setOutages(list) {
  state.outages = list;
  renderScenarios();
}

/** the outage glob that covers a route's path: each :param segment becomes `*` */
function routeGlob(path) {
  return path.replace(/:[^/]+/g, '*');
}

function applyReadonly() {
  $('readonly-badge').hidden = !state.readonly;
  $('readonly-note').hidden = !state.readonly;
  for (const b of document.querySelectorAll('.mutating')) b.disabled = state.readonly;
}

function act(promise) {
  promise.catch((err) => {
    noteError(err);
    alertLine(err.message);
  });
}

function alertLine(text) {
  const note = el('p', { class: 'error action-error' }, text);
  $('scenario-list').prepend(note);
  setTimeout(() => note.remove(), 5000);
}

$('reset-all').addEventListener('click', () => act(send('POST', '/reset')));
$('outages-off').addEventListener('click', () => act(send('DELETE', '/outages')));

function renderScenarios() {
  const ro = state.readonly;
  const outs = $('outage-list');
  clear(outs);
  if (state.outages.length) {
    outs.append(
      el('h2', {}, 'Outages on'),
      el(
        'ul',
        { class: 'outages' },
        state.outages.map((o) =>
          el(
            'li',
            { class: 'outage' },
            `${o.id}: ${o.path} → ${o.status ?? 503} `,
            el(
              'button',
              {
                type: 'button',
                class: 'mutating',
                disabled: ro,
                onclick: () => act(send('DELETE', `/outages/${encodeURIComponent(o.id)}`)),
              },
              'end',
            ),
          ),
        ),
      ),
    );
  }
  const box = $('scenario-list');
  clear(box);
  for (const s of state.scenarios) {
    box.append(
      el(
        'div',
        { class: 'scenario', dataset: { scenario: s.name } },
        el(
          'h2',
          {},
          s.name,
          el('span', { class: 'muted' }, ` · seed ${s.seed} · auth ${s.auth}${s.file ? ` · ${s.file}` : ''}`),
        ),
        s.description ? el('p', { class: 'muted' }, s.description) : null,
        grid(
          ['method', 'path', 'id', 'throttle', 'fault probability', 'outage'],
          s.routes.map((r) => routeRow(r, ro)),
        ),
      ),
    );
  }
  applyReadonly();
}

function routeRow(r, ro) {
  const glob = routeGlob(r.path);
  const outage = state.outages.find((o) => o.path === glob);
  const faults = Array.isArray(r.faults) ? r.faults : [];
  const prob = el('input', {
    type: 'number',
    min: 0,
    max: 1,
    step: 0.05,
    class: 'prob mutating',
    disabled: ro,
    value: faults.length ? faults[0].probability : 0,
    title: 'probability of the first fault (0–1)',
  });
  const apply = el(
    'button',
    {
      type: 'button',
      class: 'apply-prob mutating',
      disabled: ro,
      onclick: () => {
        const p = Number(prob.value);
        const next = faults.length
          ? [Object.assign({}, faults[0], { probability: p }), ...faults.slice(1)]
          : [{ probability: p, status: 503, retryAfter: 1 }];
        act(
          send('PATCH', `/routes/${encodeURIComponent(r.key)}`, {
            faults: p === 0 && !faults.length ? [] : next,
          }).then(() => api('/scenarios').then(setScenarios)),
        );
      },
    },
    'apply',
  );
  const toggle = el(
    'button',
    {
      type: 'button',
      class: `outage-toggle mutating${outage ? ' on' : ''}`,
      disabled: ro,
      onclick: () =>
        act(
          outage
            ? send('DELETE', `/outages/${encodeURIComponent(outage.id)}`)
            : send('POST', '/outages', { path: glob }),
        ),
    },
    outage ? 'end outage' : 'start outage',
  );
  const throttle = typeof r.throttle === 'string' ? r.throttle : r.throttle ? 'inline' : '—';
  return el(
    'tr',
    { class: 'route-row', dataset: { route: r.key } },
    el('td', {}, r.method),
    el('td', { class: 'mono' }, r.path),
    el('td', { class: 'mono' }, r.id),
    el('td', {}, throttle),
    el(
      'td',
      {},
      prob,
      apply,
      faults.length > 1 ? el('span', { class: 'muted' }, ` +${faults.length - 1}`) : null,
    ),
    el('td', {}, toggle),
  );
}

// ---- Unmatched view -----------------------------------------------------------------------------

function renderUnmatched() {
  const r = state.report;
  const box = $('unmatched-list');
  clear(box);
  if (!r) return;
  if (!r.unmatched.length) {
    box.append(el('p', { class: 'muted' }, 'Every request so far matched a route.'));
    return;
  }
  box.append(
    grid(
      ['method', 'path', 'session', 'count', 'last status', 'nearest routes'],
      r.unmatched.map((u) =>
        el(
          'tr',
          { class: 'unmatched-row' },
          el('td', {}, u.method),
          el('td', { class: 'mono' }, decodePath(u.path)),
          el('td', {}, u.session || '—'),
          el('td', {}, String(u.count)),
          el('td', { class: statusClass(u.lastStatus) }, String(u.lastStatus)),
          el(
            'td',
            {},
            u.nearest.length
              ? el(
                  'ul',
                  { class: 'nearest' },
                  u.nearest.map((n) =>
                    el(
                      'li',
                      {},
                      `${n.method} ${n.path}`,
                      el('span', { class: 'muted' }, ` (${n.scenario}/${n.routeId}, distance ${n.distance})`),
                    ),
                  ),
                )
              : el('span', { class: 'muted' }, 'no route is close'),
          ),
        ),
      ),
    ),
  );
}

// ---- views ------------------------------------------------------------------------------------

function show(view) {
  state.view = view;
  for (const b of document.querySelectorAll('#tabs button'))
    b.classList.toggle('active', b.dataset.view === view);
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== `view-${view}`;
  if (view === 'traffic') renderTraffic(true);
  if (view === 'retries' || view === 'unmatched') refreshReport();
  if (view === 'throttles') renderThrottles();
  if (view === 'scenarios') renderScenarios();
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
}

for (const b of document.querySelectorAll('#tabs button'))
  b.addEventListener('click', () => show(b.dataset.view));

show(
  ['traffic', 'retries', 'throttles', 'scenarios', 'unmatched'].includes(location.hash.slice(1))
    ? location.hash.slice(1)
    : 'traffic',
);
start();
