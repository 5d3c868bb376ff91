/* global document, window, sessionStorage, fetch, location */
// The console: login, stream list, stream details, fragment timeline and HLS playback, and the WebRTC pages
// (webrtc-view.js). Everything it shows comes from signed KVS API calls made here with the credentials typed into
// the login form.

import { DENIAL_ERRORS, KvsClient, KvsError, errorText } from './kvs.js';
import { Player } from './player.js';
import { describeEvent, findGaps, labelColor, renderTimeline, toEvents, toFragments } from './timeline.js';
import { hangUp, matchWebrtcRoute, setUpWebrtc, showCall, showChannels } from './webrtc-view.js';
import { showDashboard, stopDashboard } from './dashboard-view.js';
import { formatBytes } from './format.js';

const SESSION_KEY = 'openkvs.console.session';
/** KVS's longest HLS session: a live view left open should not stop after the 300 s default. */
const HLS_SESSION_SECONDS = 43_200;
const FRAGMENT_PAGE = 1000;
/** ListFragments pages fetched for one timeline, so a wide range cannot hang the tab. */
const MAX_FRAGMENT_PAGES = 20;
/** Timeline events (frame hooks' results) fetched for one timeline, at most, in pages of EVENT_PAGE. */
const MAX_EVENTS = 2000;
const EVENT_PAGE = 1000;

const $ = (id) => document.getElementById(id);

/** @type {KvsClient | null} */
let client = null;
let session = null;
let defaultRegion = 'us-east-1';
/** @type {Player} */
let player;
let routeGeneration = 0;
const list = { tokens: [undefined], index: 0 };
const streamState = { name: '', fromMs: 0, toMs: 0, fragments: [], selected: null, truncated: false, events: [] };

// ---- session ----------------------------------------------------------------------------------------------------

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (s !== null && typeof s.accessKeyId === 'string' && typeof s.secretAccessKey === 'string' && typeof s.region === 'string') {
      return s;
    }
  } catch {
    // a damaged entry is the same as none
  }
  return null;
}

function clientFor(s) {
  return new KvsClient({ endpoint: location.origin, region: s.region, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } });
}

// ---- small helpers ----------------------------------------------------------------------------------------------

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, v);
  }
  return node;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

function localParts(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const formatTime = (ms) => localParts(ms).replace('T', ' ');
/** Local time with milliseconds; timestamps arrive as float seconds, so round to the millisecond first. */
function formatMillis(ms) {
  const r = Math.round(ms);
  return `${formatTime(r)}.${pad(((r % 1000) + 1000) % 1000, 3)}`;
}
/** datetime-local values are local wall-clock time without a zone, which Date reads as local time. */
const parseLocalInput = (value) => new Date(value).getTime();

function showError(id, err) {
  const node = $(id);
  if (err === null) {
    node.hidden = true;
    node.textContent = '';
    return;
  }
  // before login the form itself says what to do; after it, errorText adds the hint
  node.textContent = client === null && err instanceof KvsError ? err.toString() : errorText(err);
  node.hidden = false;
}

function show(view) {
  for (const name of ['login', 'list', 'stream', 'channels', 'call', 'dashboard']) {
    $(`${name}-view`).hidden = name !== view;
  }
  document.body.dataset.view = view;
}

// ---- routing ----------------------------------------------------------------------------------------------------

async function route() {
  const generation = ++routeGeneration;
  const stale = () => generation !== routeGeneration;
  player.stop();
  hangUp();
  stopDashboard();
  if (client === null) {
    $('who').textContent = '';
    $('logout').hidden = true;
    $('nav').hidden = true;
    $('region').value ||= defaultRegion;
    show('login');
    $('access-key-id').focus();
    return;
  }
  $('who').textContent = `${session.accessKeyId} · ${session.region}`;
  $('logout').hidden = false;
  $('nav').hidden = false;
  const webrtc = matchWebrtcRoute(location.hash);
  const m = /^#\/streams\/(.+)$/.exec(location.hash);
  if (location.hash === '#/dashboard') {
    show('dashboard');
    await showDashboard(client, stale);
  } else if (webrtc?.page === 'channels') {
    show('channels');
    await showChannels(client, stale);
  } else if (webrtc?.page === 'call') {
    show('call');
    await showCall(client, webrtc.name, webrtc.params, stale);
  } else if (m !== null) {
    await showStream(decodeURIComponent(m[1]), stale);
  } else {
    await showList(stale);
  }
}

// ---- login ------------------------------------------------------------------------------------------------------

async function onLogin(ev) {
  ev.preventDefault();
  const candidate = {
    accessKeyId: $('access-key-id').value.trim(),
    secretAccessKey: $('secret-access-key').value.trim(),
    region: $('region').value.trim() || defaultRegion,
  };
  const button = $('login-submit');
  button.disabled = true;
  showError('login-error', null);
  const probe = clientFor(candidate);
  try {
    // One cheap signed call proves the key before anything is kept. A policy refusal proves it too: the server
    // only judges policies after the signature checked out (a producer or consumer key may not list streams).
    await probe.call('/listStreams', { MaxResults: 1 });
  } catch (err) {
    if (!(err instanceof KvsError && DENIAL_ERRORS.has(err.type))) {
      showError('login-error', err);
      return;
    }
  } finally {
    button.disabled = false;
  }
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(candidate));
  session = candidate;
  client = probe;
  $('secret-access-key').value = '';
  await route();
}

function onLogout() {
  sessionStorage.removeItem(SESSION_KEY);
  session = null;
  client = null;
  list.tokens = [undefined];
  list.index = 0;
  if (location.hash !== '' && location.hash !== '#/') {
    location.hash = '#/';
  } else {
    void route();
  }
}

// ---- stream list ------------------------------------------------------------------------------------------------

async function showList(stale) {
  show('list');
  showError('list-error', null);
  const body = { MaxResults: Number($('page-size').value) };
  const token = list.tokens[list.index];
  if (token !== undefined) {
    body.NextToken = token;
  }
  const prefix = $('prefix').value.trim();
  if (prefix !== '') {
    body.StreamNameCondition = { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: prefix };
  }
  const tbody = $('streams').querySelector('tbody');
  $('streams').dataset.state = 'loading';
  let out;
  try {
    out = await client.call('/listStreams', body);
  } catch (err) {
    if (!stale()) {
      tbody.replaceChildren();
      $('streams').dataset.state = 'error';
      showError('list-error', err);
    }
    return;
  }
  if (stale()) {
    return;
  }
  const streams = out.StreamInfoList ?? [];
  tbody.replaceChildren(
    ...streams.map((s) => {
      const row = el('tr');
      const name = el('td');
      name.append(el('a', s.StreamName, { href: `#/streams/${encodeURIComponent(s.StreamName)}` }));
      row.append(
        name,
        el('td', s.Status),
        el('td', s.DataRetentionInHours === 0 ? '0 (not stored)' : `${s.DataRetentionInHours} h`),
        el('td', s.MediaType ?? ''),
        el('td', s.CreationTime !== undefined ? formatTime(s.CreationTime * 1000) : ''),
      );
      return row;
    }),
  );
  $('list-empty').hidden = streams.length > 0;
  list.tokens[list.index + 1] = out.NextToken ?? undefined;
  list.tokens.length = list.index + 2;
  $('prev-page').disabled = list.index === 0;
  $('next-page').disabled = out.NextToken === undefined || out.NextToken === null;
  $('page-label').textContent = `Page ${list.index + 1}`;
  $('streams').dataset.state = 'loaded';
}

function turnPage(delta) {
  list.index = Math.max(0, list.index + delta);
  void route();
}

// ---- one stream -------------------------------------------------------------------------------------------------

async function showStream(name, stale) {
  show('stream');
  $('stream-title').textContent = name;
  for (const id of ['stream-error', 'player-error', 'timeline-error']) {
    showError(id, null);
  }
  $('details').replaceChildren();
  $('tags').querySelector('tbody').replaceChildren();
  $('tags-empty').hidden = true;
  $('timeline').replaceChildren();
  for (const key of ['state', 'fragments', 'gaps']) {
    delete $('timeline').dataset[key];
  }
  $('timeline-summary').textContent = '';
  $('fragment-info').textContent = '';
  clearEvents();
  $('consumer').replaceChildren();
  $('consumer-panel').hidden = true;
  if (streamState.name !== name) {
    const now = Date.now();
    setRange('timeline', now - 3_600_000, now + 60_000);
    setRange('range', now - 300_000, now);
  }
  Object.assign(streamState, { name, fragments: [], selected: null, events: [] });
  await Promise.all([loadDetails(name, stale), loadConsumer(name, stale), loadTimeline(stale)]);
}

function setRange(prefix, fromMs, toMs) {
  $(`${prefix}-from`).value = localParts(fromMs);
  $(`${prefix}-to`).value = localParts(toMs);
}

async function loadDetails(name, stale) {
  let info;
  try {
    info = (await client.call('/describeStream', { StreamName: name })).StreamInfo ?? {};
  } catch (err) {
    if (!stale()) {
      showError('stream-error', err);
    }
    return;
  }
  if (stale()) {
    return;
  }
  const rows = [
    ['Name', info.StreamName],
    ['ARN', info.StreamARN],
    ['Status', info.Status],
    ['Version', info.Version],
    ['Media type', info.MediaType ?? '–'],
    ['Device name', info.DeviceName ?? '–'],
    ['Retention', info.DataRetentionInHours === 0 ? '0 h (live only, not stored)' : `${info.DataRetentionInHours} h`],
    ['KMS key', info.KmsKeyId ?? '–'],
    ['Created', info.CreationTime !== undefined ? formatTime(info.CreationTime * 1000) : '–'],
  ];
  if (info.Capacity !== undefined) {
    rows.push(['Capacity', Object.entries(info.Capacity).map(([k, v]) => `${k}: ${v ?? '–'}`).join('\n')]);
  }
  $('details').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v, { 'data-field': k })]));
  $('details').querySelectorAll('dd[data-field="Capacity"]').forEach((dd) => (dd.style.whiteSpace = 'pre-line'));

  const tags = {};
  try {
    let token;
    do {
      const out = await client.call('/listTagsForStream', token === undefined ? { StreamName: name } : { StreamName: name, NextToken: token });
      Object.assign(tags, out.Tags ?? {});
      token = out.NextToken ?? undefined;
    } while (token !== undefined);
  } catch (err) {
    if (!stale()) {
      showError('stream-error', err);
    }
    return;
  }
  if (stale()) {
    return;
  }
  const entries = Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1));
  $('tags').querySelector('tbody').replaceChildren(...entries.map(([k, v]) => {
    const row = el('tr');
    row.append(el('td', k), el('td', v));
    return row;
  }));
  $('tags-empty').hidden = entries.length > 0;
}

async function loadTimeline(stale) {
  showError('timeline-error', null);
  const fromMs = parseLocalInput($('timeline-from').value);
  const toMs = parseLocalInput($('timeline-to').value);
  if (!(fromMs < toMs)) {
    showError('timeline-error', 'Choose a "from" time before the "to" time.');
    return;
  }
  const name = streamState.name;
  $('timeline').dataset.state = 'loading';
  // Events are an openkvs extension: asked for alongside the fragments, and never able to fail the timeline.
  const events = loadEvents(name, fromMs, toMs, stale);
  const all = [];
  let truncated = false;
  try {
    let out = await client.call('/listFragments', {
      StreamName: name,
      MaxResults: FRAGMENT_PAGE,
      FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: fromMs / 1000, EndTimestamp: toMs / 1000 } },
    });
    all.push(...(out.Fragments ?? []));
    for (let page = 1; out.NextToken && !stale(); page++) {
      if (page >= MAX_FRAGMENT_PAGES) {
        truncated = true;
        break;
      }
      out = await client.call('/listFragments', { StreamName: name, MaxResults: FRAGMENT_PAGE, NextToken: out.NextToken });
      all.push(...(out.Fragments ?? []));
    }
  } catch (err) {
    if (!stale()) {
      $('timeline').dataset.state = 'error';
      showError('timeline-error', err);
    }
    return;
  }
  const found = await events;
  if (stale()) {
    return;
  }
  Object.assign(streamState, { fromMs, toMs, fragments: toFragments(all), truncated, events: found?.events ?? [] });
  drawTimeline();
  showEvents(found);
  const fragments = streamState.fragments;
  const gaps = findGaps(fragments);
  const seconds = fragments.reduce((sum, f) => sum + f.lengthMs, 0) / 1000;
  const bytes = fragments.reduce((sum, f) => sum + f.size, 0);
  const longest = gaps.reduce((m, g) => Math.max(m, g.toMs - g.fromMs), 0);
  $('timeline-summary').textContent =
    `${fragments.length} fragment${fragments.length === 1 ? '' : 's'} · ${seconds.toFixed(1)} s of media · ${formatBytes(bytes)} · ` +
    `${gaps.length} gap${gaps.length === 1 ? '' : 's'}${gaps.length > 0 ? ` (longest ${(longest / 1000).toFixed(1)} s)` : ''}` +
    (truncated ? ` · only the first ${fragments.length} are shown: narrow the range` : '') +
    (fragments.length > 0 ? ' · click a fragment to play from it' : '');
  $('timeline').dataset.state = 'loaded';
  $('timeline').dataset.fragments = String(fragments.length);
  $('timeline').dataset.gaps = String(gaps.length);
}

function drawTimeline() {
  renderTimeline(
    $('timeline'),
    { fromMs: streamState.fromMs, toMs: streamState.toMs, fragments: streamState.fragments, selected: streamState.selected, events: streamState.events },
    (f) => void playFromFragment(f),
    (e) => void playFromEvent(e),
  );
}

// ---- timeline events and the frame consumer (openkvs extensions, docs/frames.md) --------------------------------

/**
 * ListFrameEvents over the timeline's server-time range, page by page up to MAX_EVENTS. Resolves to null when the
 * server refuses (no such operation on an older server, an unknown stream, …): the console then shows no events.
 */
async function loadEvents(name, fromMs, toMs, stale) {
  const request = { StreamName: name, StartTimestamp: fromMs / 1000, EndTimestamp: toMs / 1000, TimestampType: 'SERVER_TIMESTAMP', MaxResults: EVENT_PAGE };
  const all = [];
  let truncated = false;
  try {
    let out = await client.call('/openkvs/listFrameEvents', request);
    all.push(...(out.Events ?? []));
    while (out.NextToken && !stale()) {
      if (all.length >= MAX_EVENTS) {
        truncated = true;
        break;
      }
      out = await client.call('/openkvs/listFrameEvents', { ...request, MaxResults: Math.min(EVENT_PAGE, MAX_EVENTS - all.length), NextToken: out.NextToken });
      all.push(...(out.Events ?? []));
    }
  } catch {
    return null;
  }
  if (all.length > MAX_EVENTS) {
    all.length = MAX_EVENTS;
    truncated = true;
  }
  return { events: toEvents(all), truncated };
}

function clearEvents() {
  $('events').querySelector('tbody').replaceChildren();
  $('events-summary').textContent = '';
  $('events-panel').hidden = true;
  delete $('events').dataset.state;
  delete $('timeline').dataset.events;
}

/** The list under the timeline: one row per event; a click plays from it. @param {{ events: object[], truncated: boolean } | null} found */
function showEvents(found) {
  clearEvents();
  if (found === null) {
    $('events').dataset.state = 'unavailable';
    return;
  }
  const { events, truncated } = found;
  $('timeline').dataset.events = String(events.length);
  $('events').dataset.state = 'loaded';
  const labels = new Set(events.map((e) => e.label));
  $('events-summary').textContent =
    events.length === 0
      ? 'No timeline events in this range.'
      : `${events.length} event${events.length === 1 ? '' : 's'} · ${labels.size} label${labels.size === 1 ? '' : 's'}` +
        (truncated ? ` · only the first ${events.length} are shown: narrow the range` : '') +
        ' · click one to play from it';
  $('events').parentElement.hidden = events.length === 0;
  $('events').querySelector('tbody').replaceChildren(
    ...events.map((e, i) => {
      const row = el('tr', undefined, { 'data-event-index': String(i), 'data-label': e.label, title: describeEvent(e) });
      const time = el('td');
      time.append(el('button', `${formatMillis(e.serverMs)}`, { type: 'button', class: 'link' }));
      const label = el('td');
      const swatch = el('span', undefined, { class: 'swatch', 'aria-hidden': 'true' });
      // CSSOM, not a style attribute: allowed by the page's style-src 'self'.
      swatch.style.backgroundColor = labelColor(e.label);
      label.append(swatch, document.createTextNode(e.label));
      row.append(time, el('td', formatMillis(e.producerMs)), label, el('td', e.confidence === null ? '–' : e.confidence.toFixed(2)), el('td', e.hook));
      row.addEventListener('click', () => void playFromEvent(e));
      return row;
    }),
  );
  $('events-panel').hidden = false;
}

/** DescribeFrameConsumer in the details column; nothing at all when the server refuses. */
async function loadConsumer(name, stale) {
  let out;
  try {
    out = await client.call('/openkvs/describeFrameConsumer', { StreamName: name });
  } catch {
    return;
  }
  if (stale() || typeof out.Status !== 'string') {
    return;
  }
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '–');
  const rows = [['Status', out.LastError ? `${out.Status} (${out.LastError})` : out.Status]];
  rows.push(['Frames delivered', num(out.FramesDelivered)], ['Frames dropped', num(out.FramesDropped)]);
  rows.push(['Lag', typeof out.LagMs === 'number' && Number.isFinite(out.LagMs) ? `${(out.LagMs / 1000).toFixed(1)} s` : '–']);
  if (out.Destination?.Uri !== undefined) {
    rows.push(['Destination', `${out.Destination.Uri}\ndelivered ${num(out.Destination.Delivered)} · errors ${num(out.Destination.Errors)}${out.Destination.LastError ? `\n${out.Destination.LastError}` : ''}`]);
  }
  const hooks = Array.isArray(out.Hooks) ? out.Hooks : [];
  if (hooks.length === 0) {
    rows.push(['Hooks', 'none']);
  }
  for (const h of hooks) {
    const counts = `calls ${num(h.Calls)} · errors ${num(h.Errors)} · timeouts ${num(h.Timeouts)} · events ${num(h.Events)}`;
    rows.push([`Hook ${h.Name} (${h.Type})`, h.LastError ? `${counts}\n${h.LastError}` : counts]);
  }
  $('consumer').replaceChildren(
    ...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v, { 'data-field': k, class: 'multiline' })]),
  );
  $('consumer').dataset.status = out.Status;
  $('consumer-panel').hidden = false;
}

/** Zoom the axis onto the fragments already listed (no new request: the range only shrinks around them). */
function fitTimeline() {
  const fragments = streamState.fragments;
  if (fragments.length === 0) {
    return;
  }
  const start = fragments[0].startMs;
  const end = fragments.reduce((m, f) => Math.max(m, f.startMs + f.lengthMs), start);
  const margin = Math.max(1000, (end - start) * 0.05);
  streamState.fromMs = Math.max(streamState.fromMs, start - margin);
  streamState.toMs = Math.min(streamState.toMs, end + margin);
  setRange('timeline', streamState.fromMs, streamState.toMs);
  drawTimeline();
}

// ---- playback ---------------------------------------------------------------------------------------------------

async function startPlayback(request, live) {
  showError('player-error', null);
  player.stop();
  $('player-status').textContent = 'Asking for a session…';
  try {
    const out = await client.call('/getHLSStreamingSessionURL', {
      StreamName: streamState.name,
      ContainerFormat: 'FRAGMENTED_MP4',
      Expires: HLS_SESSION_SECONDS,
      ...request,
    });
    await player.play(out.HLSStreamingSessionURL, { live });
  } catch (err) {
    player.stop('failed');
    showError('player-error', err);
  }
}

function playLive() {
  return startPlayback({ PlaybackMode: 'LIVE' }, true);
}

function playRange(fromMs, toMs) {
  if (!(fromMs < toMs)) {
    showError('player-error', 'Choose a "from" time before the "to" time.');
    return Promise.resolve();
  }
  return startPlayback(
    {
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: fromMs / 1000, EndTimestamp: toMs / 1000 } },
    },
    false,
  );
}

function playFromFragment(f) {
  streamState.selected = f.number;
  drawTimeline();
  $('fragment-info').textContent =
    `Fragment ${f.number}: server time ${formatTime(f.startMs)}.${pad(Math.round(f.startMs % 1000), 3)}, ` +
    `producer time ${formatTime(f.producerMs)}, ${(f.lengthMs / 1000).toFixed(2)} s, ${formatBytes(f.size)}.`;
  // The listed timestamp is rounded to the millisecond; starting 1 ms early keeps this fragment in the range.
  const fromMs = f.startMs - 1;
  const toMs = Math.max(streamState.toMs, f.startMs + f.lengthMs + 1);
  setRange('range', fromMs, toMs);
  return playRange(fromMs, toMs);
}

/**
 * The player has no seek: play from the fragment holding the event's frame (its server time, 1 ms early so the
 * fragment is in the range) to the end of the timeline's range.
 */
function playFromEvent(e) {
  for (const row of $('events').querySelectorAll('tbody tr')) {
    row.classList.toggle('selected', streamState.events[Number(row.dataset.eventIndex)]?.id === e.id);
  }
  const fragments = streamState.fragments;
  const holding =
    fragments.find((f) => f.number === e.fragment) ??
    fragments.filter((f) => f.startMs <= e.serverMs && e.serverMs <= f.startMs + f.lengthMs).at(-1) ??
    null;
  streamState.selected = holding?.number ?? null;
  drawTimeline();
  $('fragment-info').textContent =
    `Event ${e.label}${e.confidence === null ? '' : ` (${e.confidence.toFixed(2)})`} from hook ${e.hook}: ` +
    `server time ${formatMillis(e.serverMs)}, producer time ${formatTime(e.producerMs)}` +
    (holding !== null ? `, in fragment ${holding.number}.` : '.');
  const fromMs = (holding?.startMs ?? e.serverMs) - 1;
  const toMs = Math.max(streamState.toMs, (holding !== null ? holding.startMs + holding.lengthMs : e.serverMs) + 1);
  setRange('range', fromMs, toMs);
  return playRange(fromMs, toMs);
}

// ---- start ------------------------------------------------------------------------------------------------------

async function start() {
  player = new Player($('video'), {
    status: (text, state, latency) => {
      const node = $('player-status');
      node.textContent = text;
      node.dataset.state = state;
      if (latency === undefined) {
        delete node.dataset.latency;
      } else {
        node.dataset.latency = latency.toFixed(2);
      }
    },
    error: (text) => showError('player-error', text),
  });

  $('login-form').addEventListener('submit', (ev) => void onLogin(ev));
  $('logout').addEventListener('click', onLogout);
  $('filter-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    list.tokens = [undefined];
    list.index = 0;
    void route();
  });
  $('open-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/streams/${encodeURIComponent($('open-name').value.trim())}`;
  });
  $('page-size').addEventListener('change', () => {
    list.tokens = [undefined];
    list.index = 0;
    void route();
  });
  $('prev-page').addEventListener('click', () => turnPage(-1));
  $('next-page').addEventListener('click', () => turnPage(1));
  $('play-live').addEventListener('click', () => void playLive());
  $('stop').addEventListener('click', () => player.stop());
  $('range-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void playRange(parseLocalInput($('range-from').value), parseLocalInput($('range-to').value));
  });
  $('timeline-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const generation = routeGeneration;
    void loadTimeline(() => generation !== routeGeneration);
    void loadConsumer(streamState.name, () => generation !== routeGeneration);
  });
  for (const button of $('timeline-form').querySelectorAll('button[data-last]')) {
    button.addEventListener('click', () => {
      const now = Date.now();
      setRange('timeline', now - Number(button.dataset.last) * 1000, now + 60_000);
      const generation = routeGeneration;
      void loadTimeline(() => generation !== routeGeneration);
      void loadConsumer(streamState.name, () => generation !== routeGeneration);
    });
  }
  $('timeline-fit').addEventListener('click', fitTimeline);
  window.addEventListener('resize', () => {
    if (document.body.dataset.view === 'stream' && streamState.fragments.length > 0) {
      drawTimeline();
    }
  });
  window.addEventListener('hashchange', () => void route());
  setUpWebrtc(() => client, () => void route());

  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    defaultRegion = (await res.json()).region ?? defaultRegion;
  } catch {
    // keep the built-in default; any region signs correctly
  }
  session = loadSession();
  client = session === null ? null : clientFor(session);
  await route();
}

void start();
