/** A series of (x, y) points drawn as a line with markers. */
export interface Series {
  name: string;
  points: Array<[number, number]>;
  color: string;
  /** Plot against the right-hand axis. */
  right?: boolean;
  /** Per point, a [low, high] range drawn as a whisker through it (e.g. the spread of repeated runs). */
  ranges?: Array<[number, number] | null>;
  /** A dashed line with hollow markers: a bound or a model beside the measured lines. */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  yRightLabel?: string;
  width?: number;
  height?: number;
}

/** XML-escapes text for element content and double-quoted attributes. */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The smallest m × 10^k at or above v > 0, m from `multipliers` (ascending, within [1, 10]). */
export function roundUpNice(v: number, multipliers: readonly number[]): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of multipliers) if (m * p >= v) return m * p;
  return 10 * p;
}

/** An axis top at or above v: 1 for none. */
const niceMax = (v: number): number => (v > 0 ? roundUpNice(v, [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) : 1);

/** A short label for an axis value: 3 significant digits, thousands grouped. */
export const fmt = (v: number): string => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en') : String(Number(v.toPrecision(3))));

/**
 * A small dependency-free SVG line chart with up to two y axes: enough for throughput and
 * efficiency against threads, or accuracy against ensemble size.
 */
export function lineChartSvg(series: Series[], o: ChartOptions): string {
  const plotHeight = o.height ?? 400, width = o.width ?? 640;
  const m = { left: 70, right: o.yRightLabel ? 70 : 20, top: 40, bottom: 50 };
  const pw = width - m.left - m.right, ph = plotHeight - m.top - m.bottom;
  // The legend goes under the plot, where it cannot cover a line: two entries a row, or one
  // when a name would run into its neighbour (about 6.6 px a character at 12 px).
  const columns = series.every((s) => 18 + 6.6 * s.name.length < pw / 2) ? 2 : 1;
  const legendRows = Math.ceil(series.length / columns);
  const height = plotHeight + legendRows * 18 + 8;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xMin = Math.min(...xs), xMax = Math.max(...xs);
  const tops = (s: Series): number[] => [...s.points.map((p) => p[1]), ...(s.ranges ?? []).map((r) => r?.[1] ?? 0)];
  const yMaxL = niceMax(Math.max(0, ...series.filter((s) => !s.right).flatMap(tops)));
  const yMaxR = niceMax(Math.max(0, ...series.filter((s) => s.right).flatMap(tops)));
  const sx = (x: number): number => m.left + (xMax === xMin ? pw / 2 : ((x - xMin) / (xMax - xMin)) * pw);
  const sy = (y: number, right = false): number => m.top + ph - (y / (right ? yMaxR : yMaxL)) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = m.top + ph - (i / 5) * ph;
    parts.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${fmt((yMaxL * i) / 5)}</text>`);
    if (o.yRightLabel) parts.push(`<text x="${m.left + pw + 6}" y="${y + 4}">${fmt((yMaxR * i) / 5)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<text x="${sx(x)}" y="${m.top + ph + 18}" text-anchor="middle">${fmt(x)}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${plotHeight - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  if (o.yRightLabel) parts.push(`<text transform="translate(${width - 12} ${m.top + ph / 2}) rotate(90)" text-anchor="middle">${esc(o.yRightLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${sx(x)},${sy(y, s.right)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts}"/>`);
    const fill = s.dashed ? `fill="white" stroke="${s.color}" stroke-width="1.5"` : `fill="${s.color}"`;
    for (const [x, y] of s.points) parts.push(`<circle cx="${sx(x)}" cy="${sy(y, s.right)}" r="4" ${fill}/>`);
    s.ranges?.forEach((range, k) => {
      if (!range) return;
      const x = sx(s.points[k][0]), lo = sy(range[0], s.right), hi = sy(range[1], s.right);
      parts.push(`<path class="range" d="M${x - 5},${hi}H${x + 5}M${x},${hi}V${lo}M${x - 5},${lo}H${x + 5}" stroke="${s.color}" stroke-width="1.5" fill="none"/>`);
    });
    const lx = m.left + (i % columns) * (pw / 2), ly = plotHeight + Math.floor(i / columns) * 18;
    parts.push(s.dashed
      ? `<line x1="${lx}" y1="${ly + 1.5}" x2="${lx + 12}" y2="${ly + 1.5}" stroke="${s.color}" stroke-width="2" stroke-dasharray="4 2"/>`
      : `<rect x="${lx}" y="${ly}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 18}" y="${ly + 5}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
