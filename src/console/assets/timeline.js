/* global document, Element */
// The fragment timeline: one bar per fragment on a server-time axis, gaps shaded, a click picks a fragment.
// Timeline events (frame hooks' results) are markers in a lane above the bars, at their frame's server time.

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT_BASE = 84;
const BAR_TOP_BASE = 8;
const BAR_HEIGHT = 44;
/** Height of the event lane added above the bars when there are events (the CSS grows the svg by as much). */
const EVENT_LANE = 16;
/** A hole between two fragments shorter than this is jitter in arrival times, not missing media. */
export const GAP_MIN_MS = 1000;

/**
 * @typedef {{ number: string, startMs: number, lengthMs: number, size: number, producerMs: number }} Fragment
 * @typedef {{ id: string, hook: string, label: string, confidence: number | null, fragment: string, producerMs: number, serverMs: number }} FrameEvent
 */

/** ListFragments' entries → fragments sorted by server time. */
export function toFragments(list) {
  return list
    .map((f) => ({
      number: String(f.FragmentNumber),
      startMs: Number(f.ServerTimestamp) * 1000,
      lengthMs: Number(f.FragmentLengthInMilliseconds ?? 0),
      size: Number(f.FragmentSizeInBytes ?? 0),
      producerMs: Number(f.ProducerTimestamp) * 1000,
    }))
    .sort((a, b) => a.startMs - b.startMs || (a.number < b.number ? -1 : 1));
}

/** ListFrameEvents' entries → events sorted by server time (the timeline's axis). */
export function toEvents(list) {
  return list
    .map((e) => ({
      id: String(e.EventId ?? ''),
      hook: String(e.HookName ?? ''),
      label: String(e.Label ?? ''),
      confidence: typeof e.Confidence === 'number' && Number.isFinite(e.Confidence) ? e.Confidence : null,
      fragment: String(e.FragmentNumber ?? ''),
      producerMs: Number(e.ProducerTimestamp) * 1000,
      serverMs: Number(e.ServerTimestamp) * 1000,
    }))
    .filter((e) => Number.isFinite(e.serverMs))
    .sort((a, b) => a.serverMs - b.serverMs);
}

/** Colours that stay apart from each other, from the fragments' green and on white. */
const LABEL_COLORS = ['#d62728', '#1f77b4', '#ff7f0e', '#9467bd', '#e377c2', '#8c564b', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#ad494a', '#637939'];

/** A stable colour per label (picked by the label's FNV-1a hash), so one label looks the same everywhere. */
export function labelColor(label) {
  let h = 2166136261;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 16777619);
  }
  return LABEL_COLORS[(h >>> 0) % LABEL_COLORS.length];
}

/** "label · confidence 0.71 · hook bright" and both times, for tooltips. @param {FrameEvent} e */
export function describeEvent(e) {
  const confidence = e.confidence === null ? '' : ` · confidence ${e.confidence.toFixed(2)}`;
  return `${e.label}${confidence} · hook ${e.hook}\nserver time ${new Date(Math.round(e.serverMs)).toISOString()}\nproducer time ${new Date(Math.round(e.producerMs)).toISOString()}`;
}

/** Holes of at least GAP_MIN_MS between consecutive fragments. @param {Fragment[]} fragments */
export function findGaps(fragments) {
  const gaps = [];
  let end = -Infinity;
  for (const f of fragments) {
    if (f.startMs - end >= GAP_MIN_MS && end > -Infinity) {
      gaps.push({ fromMs: end, toMs: f.startMs });
    }
    end = Math.max(end, f.startMs + f.lengthMs);
  }
  return gaps;
}

function svgEl(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  return node;
}

function tickLabel(ms, spanMs) {
  const d = new Date(ms);
  const hms = d.toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit', second: spanMs < 600_000 ? '2-digit' : undefined });
  return spanMs > 86_400_000 ? `${d.toLocaleDateString()} ${hms}` : hms;
}

const NICE_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/**
 * Draw the timeline into host.
 * @param {HTMLElement} host
 * @param {{ fromMs: number, toMs: number, fragments: Fragment[], selected?: string | null, events?: FrameEvent[] }} data
 * @param {(f: Fragment) => void} onPick
 * @param {(e: FrameEvent) => void} [onPickEvent]
 */
export function renderTimeline(host, data, onPick, onPickEvent) {
  const { fromMs, toMs, fragments } = data;
  const events = (data.events ?? []).filter((e) => e.serverMs >= fromMs && e.serverMs <= toMs);
  const lane = events.length > 0 ? EVENT_LANE : 0;
  const barTop = BAR_TOP_BASE + lane;
  const height = HEIGHT_BASE + lane;
  const width = Math.max(300, Math.round(host.clientWidth || 900));
  const span = Math.max(1, toMs - fromMs);
  const x = (ms) => ((ms - fromMs) / span) * width;
  const svg = svgEl('svg', {
    ...(lane > 0 ? { class: 'with-events' } : {}),
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': 'fragment timeline',
  });

  for (const g of findGaps(fragments)) {
    const gap = svgEl('rect', { class: 'gap', x: x(g.fromMs), y: barTop, width: Math.max(1, x(g.toMs) - x(g.fromMs)), height: BAR_HEIGHT });
    const title = svgEl('title');
    title.textContent = `gap: ${((g.toMs - g.fromMs) / 1000).toFixed(1)} s without fragments`;
    gap.append(title);
    svg.append(gap);
  }

  fragments.forEach((f, i) => {
    const bar = svgEl('rect', {
      class: f.number === data.selected ? 'frag selected' : 'frag',
      x: x(f.startMs),
      y: barTop,
      width: Math.max(1, x(f.startMs + f.lengthMs) - x(f.startMs)),
      height: BAR_HEIGHT,
      'data-index': i,
      'data-fragment-number': f.number,
    });
    const title = svgEl('title');
    title.textContent = `${f.number}\n${new Date(f.startMs).toISOString()} · ${(f.lengthMs / 1000).toFixed(2)} s · ${(f.size / 1024).toFixed(1)} KiB`;
    bar.append(title);
    svg.append(bar);
  });

  // Events after the bars so they are drawn over them: a line across the bars (not clickable, so fragments stay
  // pickable under it) and a clickable diamond in the lane above.
  const half = 5;
  const top = BAR_TOP_BASE - 4;
  const bottom = top + 2 * half + 2;
  events.forEach((e, i) => {
    const color = labelColor(e.label);
    const cx = x(e.serverMs);
    const g = svgEl('g', { class: 'event', 'data-label': e.label, 'data-event-id': e.id, 'data-fragment': e.fragment });
    g.append(svgEl('line', { class: 'event-line', x1: cx, x2: cx, y1: bottom, y2: barTop + BAR_HEIGHT, stroke: color }));
    const marker = svgEl('polygon', {
      class: 'event-marker',
      points: `${cx},${top} ${cx + half},${top + half + 1} ${cx},${bottom} ${cx - half},${top + half + 1}`,
      fill: color,
      'data-event-index': i,
    });
    const title = svgEl('title');
    title.textContent = describeEvent(e);
    marker.append(title);
    g.append(marker);
    svg.append(g);
  });

  svg.append(svgEl('line', { class: 'axis', x1: 0, x2: width, y1: barTop + BAR_HEIGHT + 2, y2: barTop + BAR_HEIGHT + 2 }));
  const step = NICE_STEPS_MS.find((s) => span / s <= 8) ?? Math.ceil(span / 8);
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) {
    const g = svgEl('g', { class: 'tick' });
    g.append(svgEl('line', { x1: x(t), x2: x(t), y1: barTop + BAR_HEIGHT + 2, y2: barTop + BAR_HEIGHT + 7 }));
    const label = svgEl('text', { x: x(t), y: height - 6, 'text-anchor': 'middle' });
    label.textContent = tickLabel(t, span);
    g.append(label);
    svg.append(g);
  }

  // Bars of short fragments are a pixel wide: a click picks the fragment under the pointer or the nearest one.
  svg.addEventListener('click', (ev) => {
    const eventHit = ev.target instanceof Element ? ev.target.getAttribute('data-event-index') : null;
    if (eventHit !== null && onPickEvent !== undefined) {
      onPickEvent(events[Number(eventHit)]);
      return;
    }
    const hit = ev.target instanceof Element ? ev.target.getAttribute('data-index') : null;
    if (hit !== null) {
      onPick(fragments[Number(hit)]);
      return;
    }
    const rect = svg.getBoundingClientRect();
    const t = fromMs + ((ev.clientX - rect.left) / rect.width) * span;
    const tolerance = (8 / rect.width) * span;
    let best = null;
    let bestDistance = Infinity;
    for (const f of fragments) {
      const distance = t < f.startMs ? f.startMs - t : t > f.startMs + f.lengthMs ? t - f.startMs - f.lengthMs : 0;
      if (distance < bestDistance) {
        best = f;
        bestDistance = distance;
      }
    }
    if (best !== null && bestDistance <= tolerance) {
      onPick(best);
    }
  });

  host.replaceChildren(svg);
}
