// Geometry of the attendance-by-site bar chart, drawn as inline SVG by the report's template: no
// script (the CSP allows none inline), prints as vectors, and scales to the width of the page.
import './messages.js';
import type { SiteFigures } from './queries.js';
import { t, type Locale } from '../lib/i18n.js';

export interface ChartSegment {
  x: number;
  width: number;
  kind: 'present' | 'walkIns' | 'absent' | 'pending';
}

export interface ChartRow {
  y: number;
  textY: number;
  label: string;
  /** The whole name and figures, for the bar's <title> (screen readers, hover). */
  description: string;
  segments: ChartSegment[];
  value: string;
}

export interface SiteChart {
  width: number;
  height: number;
  labelX: number;
  valueX: number;
  barHeight: number;
  rows: ChartRow[];
  legend: Array<{ x: number; y: number; kind: ChartSegment['kind']; label: string }>;
}

const width = 720;
const labelWidth = 190;
const barStart = labelWidth + 10;
const barEnd = width - 70;
const rowHeight = 26;
const barHeight = 16;
const top = 8;

/** Long site names are cut to fit the label column (the full name is in the bar's title). */
function shortLabel(name: string, max = 26): string {
  return name.length <= max ? name : `${name.slice(0, max - 1).trimEnd()}…`;
}

export function siteChart(sites: SiteFigures[], locale: Locale): SiteChart {
  const scale = Math.max(1, ...sites.map((site) => site.expected + site.walkIns));
  const unit = (barEnd - barStart) / scale;
  const rows = sites.map((site, index): ChartRow => {
    const y = top + index * rowHeight;
    let x = barStart;
    const segments: ChartSegment[] = [];
    for (const kind of ['present', 'walkIns', 'absent', 'pending'] as const) {
      const count = site[kind];
      if (count <= 0) continue;
      const segmentWidth = Math.round(count * unit * 10) / 10;
      segments.push({ x: Math.round(x * 10) / 10, width: segmentWidth, kind });
      x += count * unit;
    }
    return {
      y,
      textY: y + barHeight - 4,
      label: shortLabel(site.name),
      description: t(locale, 'reports.chart.bar', { site: site.name, present: site.present, expected: site.expected, absent: site.absent, pending: site.pending, walkIns: site.walkIns }),
      segments,
      value: `${site.present}/${site.expected}`,
    };
  });
  const legendY = top + sites.length * rowHeight + 10;
  const legend = (['present', 'walkIns', 'absent', 'pending'] as const).map((kind, index) => ({ x: barStart + index * 120, y: legendY, kind, label: t(locale, `reports.chart.${kind}`) }));
  return { width, height: legendY + 20, labelX: labelWidth, valueX: barEnd + 8, barHeight, rows, legend };
}
