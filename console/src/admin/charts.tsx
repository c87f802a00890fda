/**
 * Plain SVG charts. Each is an image whose accessible name carries its numbers, and every
 * screen shows the same numbers in a table beside it, so nothing is only a picture.
 */

export interface Bar {
  label: string;
  value: number;
  /** How the value is printed, e.g. "90.4%". */
  text: string;
}

const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** Horizontal bars, one row each, scaled to `max` (1 for rates). */
export function BarChart({ title, bars, max = 1 }: { title: string; bars: Bar[]; max?: number }) {
  const row = 26;
  const left = 170;
  const width = 600;
  const span = width - left - 70;
  const top = Math.max(max, ...bars.map((b) => b.value), Number.EPSILON);
  const summary = `${title}: ${bars.map((b) => `${b.label} ${b.text}`).join(", ") || "no data"}`;
  return (
    <svg class="adm-chart" viewBox={`0 0 ${width} ${Math.max(bars.length, 1) * row + 4}`} role="img" aria-label={summary}>
      {bars.map((bar, i) => (
        <g key={bar.label} transform={`translate(0 ${i * row + 2})`}>
          <text x={left - 8} y={row / 2 + 4} text-anchor="end" class="adm-chart-label">
            <title>{bar.label}</title>
            {clip(bar.label, 24)}
          </text>
          <rect x={left} y={3} height={row - 8} width={span} class="adm-chart-track" />
          <rect x={left} y={3} height={row - 8} width={(Math.max(bar.value, 0) / top) * span} class="adm-chart-bar" />
          <text x={left + span + 8} y={row / 2 + 4} class="adm-chart-value">
            {bar.text}
          </text>
        </g>
      ))}
      {bars.length === 0 && (
        <text x={left} y={row / 2 + 4} class="adm-chart-label">
          No data yet
        </text>
      )}
    </svg>
  );
}

export interface Line {
  name: string;
  /** One value per point, 0..1; null leaves a gap (no data there). */
  values: (number | null)[];
  /** A CSS class giving the line its colour (adm-line-1, adm-line-2). */
  tone: string;
}

/** Rates (0..1) over consecutive buckets, one line per series, with a legend. */
export function LineChart({ title, labels, lines }: { title: string; labels: string[]; lines: Line[] }) {
  const width = 600;
  const height = 200;
  const pad = { left: 44, right: 12, top: 10, bottom: 26 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (labels.length > 1 ? (i / (labels.length - 1)) * w : w / 2);
  const y = (v: number) => pad.top + (1 - v) * h;
  const paths = lines.map((line) => {
    let d = "";
    let pen = false;
    line.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
    });
    return d.trim();
  });
  const lastSeen = lines.map((line) => {
    const seen = line.values.filter((v): v is number => v !== null);
    return seen.length ? `${line.name} latest ${(seen[seen.length - 1]! * 100).toFixed(1)}%` : `${line.name} no data`;
  });
  const ticks = labels.length ? [0, Math.floor((labels.length - 1) / 2), labels.length - 1] : [];
  return (
    <figure class="adm-figure">
      <svg class="adm-chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${lastSeen.join(", ")}`}>
        {[0, 0.5, 1].map((v) => (
          <g key={v}>
            <line x1={pad.left} x2={width - pad.right} y1={y(v)} y2={y(v)} class="adm-chart-grid" />
            <text x={pad.left - 6} y={y(v) + 4} text-anchor="end" class="adm-chart-value">
              {v * 100}%
            </text>
          </g>
        ))}
        {[...new Set(ticks)].map((i) => (
          <text
            key={i}
            x={x(i)}
            y={height - 6}
            // The first and last labels sit inside the frame rather than centred on its edge.
            text-anchor={i === 0 && labels.length > 1 ? "start" : i === labels.length - 1 && i > 0 ? "end" : "middle"}
            class="adm-chart-value"
          >
            {labels[i]}
          </text>
        ))}
        {paths.map((d, i) => (
          <path key={lines[i]!.name} d={d} class={`adm-chart-line ${lines[i]!.tone}`} />
        ))}
        {lines.map((line) =>
          line.values.map((v, i) =>
            v === null ? null : <circle key={`${line.name}-${i}`} cx={x(i)} cy={y(v)} r={2.5} class={line.tone} />,
          ),
        )}
      </svg>
      <figcaption class="adm-legend">
        {lines.map((line) => (
          <span key={line.name}>
            <svg viewBox="0 0 12 12" class="adm-swatch" aria-hidden="true">
              <rect width="12" height="12" class={line.tone} />
            </svg>
            {line.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
