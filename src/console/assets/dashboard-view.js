/* global document, fetch, URL, setTimeout, clearTimeout */
// The Dashboard: every stream's ingest rate, PERSISTED latency and storage at a glance, from the server's
// /metrics (a GET signed here with the logged-in key, which the server authorizes as openkvs:GetMetrics) — the
// same figures a Prometheus scrape shows. Rates are the difference between two scrapes.

import { KvsError, errorText } from './kvs.js';
import { dashboardRows, parseMetrics } from './metrics-text.js';
import { signRequest } from './sigv4.js';
import { formatBytes } from './format.js';

export const REFRESH_MS = 3000;

const $ = (id) => document.getElementById(id);

/** The running refresh loop; one at most. */
let loop = null;

/** Stop refreshing (the console left the Dashboard). */
export function stopDashboard() {
  if (loop !== null) {
    loop.stopped = true;
    clearTimeout(loop.timer);
    loop = null;
  }
}

/** @param {import('./kvs.js').KvsClient} client @param {() => boolean} stale */
export async function showDashboard(client, stale) {
  stopDashboard();
  const state = { stopped: false, timer: undefined, previous: null, previousAt: 0 };
  loop = state;
  $('dashboard').dataset.state = 'loading';
  $('dashboard-error').hidden = true;
  const tick = async () => {
    if (state.stopped || stale()) {
      return;
    }
    try {
      const samples = parseMetrics(await scrape(client));
      const at = Date.now();
      if (state.stopped || stale()) {
        return;
      }
      render(dashboardRows(state.previous, samples, at - state.previousAt));
      state.previous = samples;
      state.previousAt = at;
      $('dashboard-error').hidden = true;
      $('dashboard-updated').textContent = `Updated ${new Date(at).toLocaleTimeString()}; refreshed every ${REFRESH_MS / 1000} s.`;
    } catch (err) {
      $('dashboard-error').textContent = errorText(err);
      $('dashboard-error').hidden = false;
      $('dashboard').dataset.state = 'error';
    }
    if (!state.stopped) {
      state.timer = setTimeout(() => void tick(), REFRESH_MS);
    }
  };
  await tick();
}

/** @param {import('./kvs.js').KvsClient} client */
async function scrape(client) {
  const url = new URL('/metrics', client.endpoint).toString();
  const headers = await signRequest({
    method: 'GET',
    url,
    body: '',
    credentials: client.credentials,
    region: client.region,
    service: 'kinesisvideo',
    date: new Date(Date.now() + client.clockOffsetMs),
    crypto: client.digests,
  });
  const res = await fetch(url, { headers, cache: 'no-store', credentials: 'omit' });
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 500);
    try {
      message = JSON.parse(text).message ?? message;
    } catch {
      // not JSON: the text as it is
    }
    throw new KvsError(res.headers.get('x-amzn-errortype') ?? `HTTP${res.status}`, message, res.status);
  }
  return text;
}

/** @param {ReturnType<typeof dashboardRows>} rows */
function render(rows) {
  const tbody = $('dashboard').querySelector('tbody');
  tbody.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.stream = r.stream;
      const name = document.createElement('td');
      const link = document.createElement('a');
      link.href = `#/streams/${encodeURIComponent(r.stream)}`;
      link.textContent = r.stream;
      name.append(link);
      tr.append(
        name,
        cell('bytes-per-second', r.bytesPerSecond === null ? '…' : `${formatBytes(r.bytesPerSecond)}/s`),
        cell('fragments-per-second', r.fragmentsPerSecond === null ? '…' : r.fragmentsPerSecond.toFixed(2)),
        cell('persist-p50', formatSeconds(r.persistP50), r.latencyWindow),
        cell('persist-p95', formatSeconds(r.persistP95), r.latencyWindow),
        cell('incoming-fragments', String(r.incomingFragments)),
        cell('stored-bytes', formatBytes(r.storedBytes)),
        cell('stored-fragments', String(r.storedFragments)),
      );
      return tr;
    }),
  );
  $('dashboard-empty').hidden = rows.length > 0;
  $('dashboard').dataset.state = 'loaded';
}

function cell(field, text, title) {
  const td = document.createElement('td');
  td.dataset.field = field;
  td.textContent = text;
  if (title !== undefined) {
    td.title = `over the fragments persisted ${title === 'recent' ? 'since the last refresh' : 'since the server started'}`;
  }
  return td;
}

function formatSeconds(s) {
  if (s === null) {
    return '–';
  }
  return s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
}
