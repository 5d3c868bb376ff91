/* global document, Element */
// The fragment timeline: one bar per fragment on a server-time axis, gaps shaded, a click picks a fragment.

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 84;
const BAR_TOP = 8;
const BAR_HEIGHT = 44;
/** A hole between two fragments shorter than this is jitter in arrival times, not missing media. */
export const GAP_MIN_MS = 1000;

/**
 * @typedef {{ number: string, startMs: number, lengthMs: number, size: number, producerMs: number }} Fragment
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
 * @param {{ fromMs: number, toMs: number, fragments: Fragment[], selected?: string | null }} data
 * @param {(f: Fragment) => void} onPick
 */
export function renderTimeline(host, data, onPick) {
  const { fromMs, toMs, fragments } = data;
  const width = Math.max(300, Math.round(host.clientWidth || 900));
  const span = Math.max(1, toMs - fromMs);
  const x = (ms) => ((ms - fromMs) / span) * width;
  const svg = svgEl('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'fragment timeline' });

  for (const g of findGaps(fragments)) {
    const gap = svgEl('rect', { class: 'gap', x: x(g.fromMs), y: BAR_TOP, width: Math.max(1, x(g.toMs) - x(g.fromMs)), height: BAR_HEIGHT });
    const title = svgEl('title');
    title.textContent = `gap: ${((g.toMs - g.fromMs) / 1000).toFixed(1)} s without fragments`;
    gap.append(title);
    svg.append(gap);
  }

  fragments.forEach((f, i) => {
    const bar = svgEl('rect', {
      class: f.number === data.selected ? 'frag selected' : 'frag',
      x: x(f.startMs),
      y: BAR_TOP,
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

  svg.append(svgEl('line', { class: 'axis', x1: 0, x2: width, y1: BAR_TOP + BAR_HEIGHT + 2, y2: BAR_TOP + BAR_HEIGHT + 2 }));
  const step = NICE_STEPS_MS.find((s) => span / s <= 8) ?? Math.ceil(span / 8);
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) {
    const g = svgEl('g', { class: 'tick' });
    g.append(svgEl('line', { x1: x(t), x2: x(t), y1: BAR_TOP + BAR_HEIGHT + 2, y2: BAR_TOP + BAR_HEIGHT + 7 }));
    const label = svgEl('text', { x: x(t), y: HEIGHT - 6, 'text-anchor': 'middle' });
    label.textContent = tickLabel(t, span);
    g.append(label);
    svg.append(g);
  }

  // Bars of short fragments are a pixel wide: a click picks the fragment under the pointer or the nearest one.
  svg.addEventListener('click', (ev) => {
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
