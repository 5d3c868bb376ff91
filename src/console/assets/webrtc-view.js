/* global document, window, URLSearchParams */
// The console's WebRTC pages: signaling channels (list, create) at #/webrtc and the call page at
// #/webrtc/<channel>[?role=MASTER|VIEWER&clientId=…&loopback=1&join=1]. loopback=1 keeps only 127.0.0.1 ICE
// candidates (both peers on one machine, as in the browser tests); join=1 joins at once.

import { KvsClient, KvsError, errorText } from './kvs.js';
import { Call, MASTER_PEER, newViewerId } from './webrtc.js';

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 25;
const STATS_INTERVAL_MS = 1000;

/** @type {Call | null} */
let call = null;
let statsTimer = 0;
const listing = { tokens: [undefined], index: 0 };
/** Captions of the remote tiles that are not viewers' client ids: the master, and the server's own peers. */
const PEER_CAPTIONS = {
  [MASTER_PEER]: 'master',
  'openkvs-storage': 'openkvs-storage (the server, recording this call)',
  'openkvs-relay': 'openkvs-relay (the server, forwarding to relayed viewers)',
};
/** Set once the server answers UnknownOperationException to the relay extension: the toggle stays hidden. */
let relayUnavailable = false;

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

function showError(id, err) {
  const node = $(id);
  if (err === null) {
    node.hidden = true;
    node.textContent = '';
    return;
  }
  node.textContent = errorText(err);
  node.hidden = false;
}

const formatTime = (value) => {
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toLocaleString() : '';
};

/** #/webrtc → { page: 'channels' }; #/webrtc/<name>?… → { page: 'call', name, params }; anything else → null. */
export function matchWebrtcRoute(hash) {
  const m = /^#\/webrtc(?:\/([^?]+))?(?:\?(.*))?$/.exec(hash);
  if (m === null) {
    return null;
  }
  return m[1] === undefined ? { page: 'channels' } : { page: 'call', name: decodeURIComponent(m[1]), params: new URLSearchParams(m[2] ?? '') };
}

/** Leaving the page hangs up. */
export function hangUp() {
  window.clearInterval(statsTimer);
  statsTimer = 0;
  if (call !== null) {
    call.stop();
    call = null;
    globalThis.openkvsCall = null;
  }
  const status = $('call-status');
  if (status !== null && status.dataset.state !== 'idle') {
    setStatus('Not connected.', 'idle');
  }
  for (const id of ['call-start', 'call-role', 'call-client-id', 'call-loopback']) {
    const node = $(id);
    if (node !== null) {
      node.disabled = false;
    }
  }
  if ($('call-hangup') !== null) {
    $('call-hangup').disabled = true;
  }
  syncRecord();
}

// ---- channel list -----------------------------------------------------------------------------------------------

export async function showChannels(client, stale) {
  showError('channels-error', null);
  const body = { MaxResults: PAGE_SIZE };
  const token = listing.tokens[listing.index];
  if (token !== undefined) {
    body.NextToken = token;
  }
  const table = $('channels');
  table.dataset.state = 'loading';
  let out;
  try {
    out = await client.call('/listSignalingChannels', body);
  } catch (err) {
    if (!stale()) {
      table.querySelector('tbody').replaceChildren();
      table.dataset.state = 'error';
      showError('channels-error', err);
    }
    return;
  }
  if (stale()) {
    return;
  }
  const channels = out.ChannelInfoList ?? [];
  table.querySelector('tbody').replaceChildren(
    ...channels.map((c) => {
      const row = el('tr', undefined, { 'data-channel': c.ChannelName });
      const name = el('td');
      const base = `#/webrtc/${encodeURIComponent(c.ChannelName)}`;
      name.append(el('a', c.ChannelName, { href: base }));
      const actions = el('td');
      actions.append(el('a', 'Join as master', { href: `${base}?role=MASTER` }), document.createTextNode(' · '), el('a', 'Join as viewer', { href: `${base}?role=VIEWER` }));
      row.append(name, el('td', c.ChannelStatus), el('td', c.ChannelType), el('td', formatTime(c.CreationTime)), actions);
      return row;
    }),
  );
  $('channels-empty').hidden = channels.length > 0;
  listing.tokens[listing.index + 1] = out.NextToken ?? undefined;
  listing.tokens.length = listing.index + 2;
  $('channels-prev').disabled = listing.index === 0;
  $('channels-next').disabled = !out.NextToken;
  table.dataset.state = 'loaded';
}

async function createChannel(client, reload) {
  const name = $('channel-name').value.trim();
  showError('channels-error', null);
  try {
    await client.call('/createSignalingChannel', { ChannelName: name, ChannelType: 'SINGLE_MASTER' });
  } catch (err) {
    showError('channels-error', err);
    return;
  }
  $('channel-name').value = '';
  listing.tokens = [undefined];
  listing.index = 0;
  reload();
}

// ---- call page --------------------------------------------------------------------------------------------------

function setStatus(text, state) {
  $('call-status').textContent = text;
  $('call-status').dataset.state = state;
  syncRecord();
}

export async function showCall(client, name, params, stale) {
  hangUp();
  $('call-title').textContent = name;
  showError('call-error', null);
  $('channel-details').replaceChildren();
  $('relay-panel').hidden = true;
  $('storage-panel').hidden = true;
  $('storage-panel').dataset.arn = '';
  $('call-remotes').replaceChildren();
  $('call-form').dataset.arn = '';
  const role = params.get('role') === 'VIEWER' ? 'VIEWER' : 'MASTER';
  $('call-role').value = role;
  $('call-client-id').value = params.get('clientId') ?? newViewerId();
  $('call-loopback').checked = params.get('loopback') === '1';
  syncRole();
  $('call-start').disabled = true;
  let info;
  try {
    info = (await client.call('/describeSignalingChannel', { ChannelName: name })).ChannelInfo ?? {};
  } catch (err) {
    if (!stale()) {
      showError('call-error', err);
    }
    return;
  }
  if (stale()) {
    return;
  }
  $('call-form').dataset.arn = info.ChannelARN;
  $('call-start').disabled = false;
  const rows = [
    ['ARN', info.ChannelARN],
    ['Status', info.ChannelStatus],
    ['Type', info.ChannelType],
    ['Message TTL', info.SingleMasterConfiguration?.MessageTtlSeconds !== undefined ? `${info.SingleMasterConfiguration.MessageTtlSeconds} s` : '–'],
  ];
  $('channel-details').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v, { 'data-field': k })]));
  void showRelay(client, info, stale);
  void showStorage(client, info, stale);
  if (params.get('join') === '1') {
    await join(client);
  }
}

function syncRole() {
  $('call-client-id').parentElement.hidden = $('call-role').value !== 'VIEWER';
}

async function join(client) {
  hangUp();
  showError('call-error', null);
  const arn = $('call-form').dataset.arn;
  if (!arn) {
    return;
  }
  for (const id of ['call-start', 'call-role', 'call-client-id', 'call-loopback']) {
    $(id).disabled = true;
  }
  $('call-hangup').disabled = false;
  const role = $('call-role').value === 'VIEWER' ? 'VIEWER' : 'MASTER';
  const current = new Call({
    client,
    channelArn: arn,
    role,
    clientId: $('call-client-id').value.trim(),
    loopbackOnly: $('call-loopback').checked,
    events: {
      status: (text, state) => call === current && setStatus(text, state),
      local: (stream) => {
        $('call-local').srcObject = stream;
        $('call-local-label').textContent = stream === null ? '' : role === 'MASTER' ? 'master' : current.clientId;
      },
      remote: (peerId, stream, pc) => call === current && showRemote(peerId, stream, pc),
      error: (err) => call === current && showError('call-error', err),
    },
  });
  call = current;
  // A hook for debugging and the browser tests: the live call, its peer connections and inboundStats().
  globalThis.openkvsCall = current;
  try {
    await current.start();
  } catch (err) {
    if (call === current) {
      showError('call-error', err);
      hangUp();
      setStatus('Not connected.', 'failed');
    }
    return;
  }
  statsTimer = window.setInterval(() => void refreshStats(current), STATS_INTERVAL_MS);
}

function showRemote(peerId, stream, pc) {
  const box = $('call-remotes');
  let tile = [...box.children].find((n) => n.dataset.peer === peerId) ?? null;
  if (stream === null) {
    tile?.remove();
    return;
  }
  if (tile === null) {
    tile = el('figure', undefined, { class: 'remote', 'data-peer': peerId });
    const video = el('video', undefined, { autoplay: '', playsinline: '' });
    tile.append(video, el('figcaption', PEER_CAPTIONS[peerId] ?? peerId), el('p', '', { class: 'status' }));
    box.append(tile);
  }
  const video = tile.querySelector('video');
  if (video.srcObject !== stream) {
    video.srcObject = stream;
  }
  if (pc !== undefined) {
    tile.dataset.state = pc.connectionState;
  }
}

async function refreshStats(current) {
  if (call !== current) {
    return;
  }
  for (const s of await current.inboundStats()) {
    const tile = [...$('call-remotes').children].find((n) => n.dataset.peer === s.peerId);
    if (tile === undefined) {
      continue;
    }
    const v = s.video;
    const a = s.audio;
    tile.dataset.framesDecoded = String(v?.framesDecoded ?? 0);
    tile.querySelector('.status').textContent =
      `${s.state} · video ${v ? `${v.frameWidth}×${v.frameHeight}, ${v.framesDecoded} frames decoded` : 'none'} · audio ${a ? `${a.packetsReceived} packets` : 'none'}`;
  }
}

// ---- relay mode (an openkvs extension; hidden when the server does not have it) ---------------------------------

/** Relay state from DescribeSignalingChannel's ChannelInfo, else /openkvs/describeSignalingChannelRelay, else null. */
async function relayState(client, info) {
  const read = (v) => (typeof v === 'string' ? v : typeof v?.Status === 'string' ? v.Status : null);
  const inline = read(info.Relay) ?? read(info.RelayConfiguration) ?? read(info.RelayStatus);
  if (inline !== null) {
    return inline;
  }
  try {
    const out = await client.call('/openkvs/describeSignalingChannelRelay', { ChannelARN: info.ChannelARN });
    return read(out.Relay) ?? read(out.RelayConfiguration) ?? read(out.Status);
  } catch {
    return null;
  }
}

async function showRelay(client, info, stale, known = null) {
  const state = (await relayState(client, info)) ?? known;
  if (stale() || relayUnavailable) {
    return;
  }
  $('relay-panel').dataset.arn = info.ChannelARN;
  $('relay-panel').dataset.relay = state ?? 'UNKNOWN';
  $('relay-state').textContent =
    state === 'ENABLED'
      ? 'Relay mode is on: viewers are answered by the server’s peer, which forwards the master’s media.'
      : state === null
        ? 'Relay mode: unknown (this server does not describe it).'
        : 'Relay mode is off: viewers connect to the master directly.';
  $('relay-enable').hidden = state === 'ENABLED';
  $('relay-disable').hidden = state !== 'ENABLED' && state !== null;
  $('relay-panel').hidden = false;
}

/** Switch relay mode without leaving the page (a call in progress goes on; new viewers see the new mode). */
async function setRelay(client, enabled) {
  showError('call-error', null);
  const arn = $('relay-panel').dataset.arn;
  const wanted = enabled ? 'ENABLED' : 'DISABLED';
  try {
    await client.call('/openkvs/updateSignalingChannelRelay', { ChannelARN: arn, Relay: wanted });
  } catch (err) {
    if (err instanceof KvsError && (err.type === 'UnknownOperationException' || err.type === 'UnsupportedOperationException' || err.status === 404 || err.status === 501)) {
      relayUnavailable = true;
      $('relay-panel').hidden = true;
      return;
    }
    showError('call-error', err);
    return;
  }
  const moved = () => $('relay-panel').dataset.arn !== arn;
  try {
    const info = (await client.call('/describeSignalingChannel', { ChannelARN: arn })).ChannelInfo ?? {};
    await showRelay(client, info, moved, wanted);
  } catch (err) {
    showError('call-error', err);
  }
}

// ---- media storage (recording a master's call through JoinStorageSession) ---------------------------------------

/** The stream name in a stream ARN (arn:…:stream/<name>/<creation time>), or the ARN itself. */
function streamNameOf(arn) {
  const m = /:stream\/(.+)\/[^/]+$/.exec(arn ?? '');
  return m === null ? String(arn ?? '') : m[1];
}

/** DescribeMediaStorageConfiguration: where the channel records to, and the Record button when it does. */
async function showStorage(client, info, stale) {
  let config = null;
  try {
    config = (await client.call('/describeMediaStorageConfiguration', { ChannelARN: info.ChannelARN })).MediaStorageConfiguration ?? null;
  } catch {
    config = null;
  }
  if (stale()) {
    return;
  }
  const panel = $('storage-panel');
  const state = $('storage-state');
  panel.dataset.arn = info.ChannelARN;
  panel.dataset.storage = config?.Status ?? 'UNKNOWN';
  delete panel.dataset.recording;
  $('storage-join').textContent = 'Record this call';
  if (config?.Status === 'ENABLED' && config.StreamARN) {
    const name = streamNameOf(config.StreamARN);
    const link = el('a', name, { href: `#/streams/${encodeURIComponent(name)}`, target: '_blank', 'data-stream': name });
    state.replaceChildren(
      'Media storage is on: a master can record this call into stream ',
      link,
      ' (Record this call, once joined as master; the recording ends when the master hangs up).',
    );
  } else {
    // Off, or not described: nothing to record into. Turn it on with UpdateMediaStorageConfiguration (README).
    state.textContent = config === null ? 'Media storage: not described by this server.' : 'Media storage is off: this channel’s calls are not recorded (UpdateMediaStorageConfiguration turns it on).';
  }
  $('storage-join').hidden = panel.dataset.storage !== 'ENABLED';
  panel.hidden = false;
  syncRecord();
}

/** Record this call is possible for a master that is in the call, on a channel with media storage ENABLED. */
function syncRecord() {
  const button = $('storage-join');
  if (button === null) {
    return;
  }
  const state = $('call-status')?.dataset.state;
  button.disabled = !(call !== null && call.role === 'MASTER' && (state === 'waiting' || state === 'connected') && $('storage-panel').dataset.storage === 'ENABLED');
}

/** JoinStorageSession at the channel's WEBRTC endpoint: the server's peer (openkvs-storage) offers to this master. */
async function record(client) {
  showError('call-error', null);
  const arn = $('storage-panel').dataset.arn;
  const panel = $('storage-panel');
  panel.dataset.recording = 'requesting';
  try {
    const out = await client.call('/getSignalingChannelEndpoint', {
      ChannelARN: arn,
      SingleMasterChannelEndpointConfiguration: { Protocols: ['WEBRTC'], Role: 'MASTER' },
    });
    const endpoint = (out.ResourceEndpointList ?? []).find((e) => e.Protocol === 'WEBRTC')?.ResourceEndpoint;
    if (!endpoint) {
      throw new Error('GetSignalingChannelEndpoint returned no WEBRTC endpoint.');
    }
    const storage = new KvsClient({ endpoint, region: client.region, credentials: client.credentials });
    storage.clockOffsetMs = client.clockOffsetMs;
    await storage.call('/joinStorageSession', { channelArn: arn });
  } catch (err) {
    if (panel.dataset.arn === arn) {
      delete panel.dataset.recording;
      showError('call-error', err);
    }
    return;
  }
  if (panel.dataset.arn === arn) {
    panel.dataset.recording = 'requested';
    $('storage-join').textContent = 'Record again (restarts the recording)';
  }
}

/** Wire the forms once; getClient() returns the logged-in KvsClient, reload() re-runs the route. */
export function setUpWebrtc(getClient, reload) {
  $('channel-create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void createChannel(getClient(), reload);
  });
  $('channels-prev').addEventListener('click', () => {
    listing.index = Math.max(0, listing.index - 1);
    reload();
  });
  $('channels-next').addEventListener('click', () => {
    listing.index++;
    reload();
  });
  $('call-role').addEventListener('change', syncRole);
  $('call-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void join(getClient());
  });
  $('call-hangup').addEventListener('click', () => hangUp());
  $('relay-enable').addEventListener('click', () => void setRelay(getClient(), true));
  $('relay-disable').addEventListener('click', () => void setRelay(getClient(), false));
  $('storage-join').addEventListener('click', () => void record(getClient()));
  window.addEventListener('pagehide', () => hangUp());
}
