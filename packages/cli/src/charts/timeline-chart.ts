import { esc, fmt, roundUpNice } from './line-chart.js';
import { stepOf, stepsLabel, type TimelineSelection, type TimelineSpan } from './timeline-data.js';

/** The kinds of span the chart colors, in legend order. */
export const SPAN_KINDS = [
  { kind: 'compute', label: 'forward + backward', color: '#1f77b4' },
  { kind: 'syncbn', label: 'SyncBN wait / exchange / receive bn', color: '#ff7f0e' },
  { kind: 'gradient', label: 'send / receive gradient (parts)', color: '#2ca02c' },
  { kind: 'params', label: 'encode / send / decode / publish params', color: '#9467bd' },
  { kind: 'optimizer', label: 'optimizer, EMA', color: '#d62728' },
  { kind: 'other', label: 'other', color: '#7f7f7f' },
] as const;
export type SpanKind = (typeof SPAN_KINDS)[number]['kind'];

export function spanKind(name: string): SpanKind {
  if (name === 'forward + backward') return 'compute';
  if (/^SyncBN /.test(name) || name === 'receive bn') return 'syncbn';
  if (/gradient/.test(name)) return 'gradient';
  if (/params$/.test(name)) return 'params';
  if (name === 'optimizer' || name === 'EMA') return 'optimizer';
  return 'other';
}

/** A step of 1, 2 or 5 × 10^k giving about `count` intervals over `range`. */
const tickStep = (range: number, count: number): number => roundUpNice(range / count, [1, 2, 5]);

const ms = (v: number): string => `${v.toFixed(v >= 10 ? 1 : 2)} ms`;

/** The chart's width in px. */
const WIDTH = 1000;

/**
 * An SVG Gantt chart of the selected coordinator steps (selectSteps): a row per process and
 * thread, a bar per span colored by kind (nested spans narrower, on top), the `step N` spans
 * as brackets behind their rows, light lines at the coordinator's step boundaries. Each
 * step's spans are one `<g class="step">`.
 */
export function timelineChartSvg(sel: TimelineSelection, options: { title?: string } = {}): string {
  const width = WIDTH, rowH = 24;
  const m = { left: 170, right: 20, top: 60, bottom: 50 };
  const pw = width - m.left - m.right, ph = sel.rows.length * rowH;
  const kinds = SPAN_KINDS.filter((k) => k.kind !== 'other' || sel.spans.some((s) => stepOf(s.name) === undefined && spanKind(s.name) === 'other'));
  const legendCols = 3, legendRows = Math.ceil((kinds.length + 1) / legendCols);
  const height = m.top + ph + m.bottom + legendRows * 18 + 10;
  // The x axis: ms from the first chosen coordinator step, on round ticks.
  const lo = Math.min(0, ...sel.spans.map((s) => s.start));
  const hi = Math.max(sel.steps[sel.steps.length - 1].end, ...sel.spans.map((s) => s.end));
  const dt = tickStep(hi - lo || 1, 10);
  // The axis ends where the last span does, not at the next round tick (up to a tick's worth of blank).
  const x0 = Math.floor(lo / dt) * dt, x1 = hi > x0 ? hi : x0 + dt;
  const sx = (v: number): number => m.left + ((v - x0) / (x1 - x0)) * pw;
  const rowIndex = new Map(sel.rows.map((r, i) => [`${r.pid}/${r.tid}`, i]));
  const rowY = (s: { pid: number; tid: number }): number => m.top + rowIndex.get(`${s.pid}/${s.tid}`)! * rowH;
  const n = (v: number): string => String(Math.round(v * 100) / 100);
  const first = sel.steps[0].step, last = sel.steps[sel.steps.length - 1].step;
  const title = options.title ?? `Timeline of ${stepsLabel(first, last)}`;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  // Rows: a band per process (alternating shade), the label at the left.
  sel.rows.forEach((r, i) => {
    const y = m.top + i * rowH;
    if (r.pid % 2 === 1) parts.push(`<rect x="${m.left}" y="${y}" width="${pw}" height="${rowH}" fill="#f6f6f6"/>`);
    if (i > 0 && sel.rows[i - 1].pid !== r.pid) parts.push(`<line x1="${m.left - 160}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#ccc"/>`);
    parts.push(`<text class="row" x="${m.left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(r.label)}</text>`);
  });
  // Axis and ticks.
  const axisY = m.top + ph;
  parts.push(`<line x1="${m.left}" y1="${axisY}" x2="${m.left + pw}" y2="${axisY}" stroke="#333"/>`);
  for (let k = 0; x0 + k * dt <= x1 + dt / 1e6; k++) {
    const v = x0 + k * dt, x = n(sx(v));
    parts.push(`<line x1="${x}" y1="${axisY}" x2="${x}" y2="${axisY + 5}" stroke="#333"/>`);
    parts.push(`<text class="tick" x="${x}" y="${axisY + 18}" text-anchor="middle">${fmt(Number(v.toPrecision(12)))}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${axisY + 38}" text-anchor="middle">ms from the start of coordinator step ${first}</text>`);
  // Coordinator step boundaries, light, across all rows, with the step's number above.
  const bounds = [...new Set(sel.steps.flatMap((s) => [s.start, s.end]))];
  for (const b of bounds) parts.push(`<line class="boundary" x1="${n(sx(b))}" y1="${m.top - 14}" x2="${n(sx(b))}" y2="${axisY}" stroke="#bbb" stroke-dasharray="3 3"/>`);
  for (const s of sel.steps) {
    parts.push(`<text x="${n((sx(s.start) + sx(s.end)) / 2)}" y="${m.top - 18}" text-anchor="middle" fill="#555">step ${s.step} · ${ms(s.end - s.start)}</text>`);
  }
  // The spans, a group per step: brackets first, then bars outermost first, so nested ones lie on top.
  const color = new Map<string, string>(SPAN_KINDS.map((k) => [k.kind, k.color]));
  for (const s of sel.steps) {
    parts.push(`<g class="step" data-step="${s.step}">`);
    const mine = sel.spans.filter((p) => p.step === s.step);
    const tip = (p: TimelineSpan): string => {
      const args = p.args ? Object.entries(p.args).map(([k, v]) => `${k} ${String(v)}`).join(', ') : '';
      return `<title>${esc(`${p.name}: ${ms(p.end - p.start)}${args ? ` (${args})` : ''}`)}</title>`;
    };
    for (const p of mine.filter((q) => stepOf(q.name) !== undefined)) {
      const x = sx(p.start), w = Math.max(sx(p.end) - x, 1), y = rowY(p);
      parts.push(`<rect class="bracket" x="${n(x)}" y="${y + 2}" width="${n(w)}" height="${rowH - 4}" fill="none" stroke="#999" stroke-width="1" rx="2">${tip(p)}</rect>`);
    }
    const bars = mine.filter((q) => stepOf(q.name) === undefined).sort((a, b) => a.depth - b.depth || a.start - b.start);
    for (const p of bars) {
      const h = Math.max(rowH - 8 - 6 * p.depth, 4), x = sx(p.start), w = Math.max(sx(p.end) - x, 0.5);
      const kind = spanKind(p.name);
      parts.push(`<rect class="bar ${kind}" x="${n(x)}" y="${n(rowY(p) + (rowH - h) / 2)}" width="${n(w)}" height="${h}" fill="${color.get(kind)}"` +
        `${p.depth > 0 ? ' stroke="white" stroke-width="0.5"' : ''}>${tip(p)}</rect>`);
    }
    parts.push('</g>');
  }
  // Legend.
  const legendY = axisY + 56, colW = pw / legendCols;
  [...kinds.map((k) => ({ label: k.label, color: k.color as string, outline: false })), { label: 'step N (bracket)', color: '#999', outline: true }].forEach((k, i) => {
    const x = m.left + (i % legendCols) * colW, y = legendY + Math.floor(i / legendCols) * 18;
    parts.push(k.outline
      ? `<rect x="${x}" y="${y - 9}" width="14" height="10" fill="none" stroke="${k.color}" rx="2"/>`
      : `<rect x="${x}" y="${y - 9}" width="14" height="10" fill="${k.color}"/>`);
    parts.push(`<text x="${x + 20}" y="${y}">${esc(k.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
