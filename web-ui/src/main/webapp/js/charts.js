// Inline SVG charts: a host's stacked memory bar and a failover's step chart. Colours come from CSS classes.
import { h, s, mib, ms } from './dom.js';

/** The memory bar's segments, in drawing order. */
export const MEMORY_PARTS = [
  { key: 'vms', label: 'used by VMs' },
  { key: 'reserve', label: 'reserve, idle' },
  { key: 'lent', label: 'reserve lent as cache' },
  { key: 'dirty', label: 'dirty cache' },
  { key: 'free', label: 'free' },
];

/** A host's numbers in words: the reserve with what of it is lent, and what of that is dirty. */
export function memoryNumbers(m) {
  return [`used by VMs ${mib(m.vmsMiB)}`,
    `failover reserve ${mib(m.reserveMiB)} (lent as cache ${mib(m.cacheLentMiB)}, dirty ${mib(m.cacheDirtyMiB)})`,
    `free ${mib(m.freeMiB)}`, `total ${mib(m.totalMiB)}`];
}

/**
 * The parts of a host's memory (MiB): the cache lent is part of the reserve, and the dirty cache part of what is
 * lent, so each is drawn as the part of the larger one it is not.
 */
export function memoryParts(m) {
  const lent = Math.min(m.cacheLentMiB, m.reserveMiB);
  const dirty = Math.min(m.cacheDirtyMiB, lent);
  return {
    vms: m.vmsMiB,
    reserve: Math.max(0, m.reserveMiB - lent),
    lent: Math.max(0, lent - dirty),
    dirty,
    free: m.freeMiB,
  };
}

/** A stacked horizontal bar of a host's memory, with a text alternative. */
export function memoryBar(m) {
  const parts = memoryParts(m);
  const sum = Object.values(parts).reduce((a, b) => a + b, 0);
  const scale = Math.max(sum, m.totalMiB, 1);
  const title = `${m.name}: ${MEMORY_PARTS.map((p) => `${p.label} ${mib(parts[p.key])}`).join(', ')} of ${mib(m.totalMiB)}`;
  let x = 0;
  const rects = [];
  for (const p of MEMORY_PARTS) {
    const w = (parts[p.key] / scale) * 100;
    if (w > 0) rects.push(s('rect', { x: `${x}%`, y: 0, width: `${w}%`, height: 18, class: `mem-${p.key}` },
      s('title', {}, `${p.label}: ${mib(parts[p.key])}`)));
    x += w;
  }
  return s('svg', { class: 'membar', role: 'img', 'aria-label': title, width: '100%', height: 18 },
    s('rect', { x: 0, y: 0, width: '100%', height: 18, class: 'mem-track' }), rects);
}

/** The legend of the memory bar, with the cluster's (or a host's) numbers. */
export function memoryLegend(parts) {
  return h('ul', { class: 'legend' }, MEMORY_PARTS.map((p) => h('li', {},
    h('span', { class: `swatch mem-${p.key}`, 'aria-hidden': 'true' }), `${p.label} `,
    parts ? h('strong', {}, mib(parts[p.key])) : null)));
}

/**
 * A failover's steps: one row per step, a bar from detection to the step, labelled with its time since detection;
 * the part since the previous step is drawn darker, so each step's own duration shows.
 */
export function stepChart(failover) {
  const steps = failover.steps || [];
  const row = 22;
  const labelW = 130;
  const width = 600;
  const barW = width - labelW - 160; // room for "12345 ms (+12345 ms)"
  const max = Math.max(1, ...steps.map((st) => st.elapsedMillis));
  const rows = steps.map((st, i) => {
    const y = i * row;
    const before = i === 0 ? 0 : steps[i - 1].elapsedMillis;
    const w0 = (before / max) * barW;
    const w = Math.max(2, (st.elapsedMillis / max) * barW);
    const own = st.elapsedMillis - before;
    return s('g', { class: `step step-${st.step}`, 'data-step': st.step },
      s('text', { x: labelW - 8, y: y + 15, 'text-anchor': 'end', class: 'step-label' }, st.label),
      s('rect', { x: labelW, y: y + 4, width: w, height: row - 8, rx: 2, class: 'step-bar' }),
      s('rect', { x: labelW, y: y + 4, width: Math.min(w0, w), height: row - 8, rx: 2, class: 'step-before' }),
      s('text', { x: labelW + w + 6, y: y + 15, class: 'step-ms' },
        ms(st.elapsedMillis), i > 0 && own > 0 ? ` (+${ms(own)})` : ''));
  });
  const summary = steps.map((st) => `${st.label} at ${st.elapsedMillis} ms`).join(', ');
  return s('svg', {
    class: 'stepchart', role: 'img', 'aria-label': `steps of failover ${failover.id}: ${summary}`,
    viewBox: `0 0 ${width} ${Math.max(row, steps.length * row)}`, width: '100%',
    preserveAspectRatio: 'xMinYMin meet',
  }, rows);
}
