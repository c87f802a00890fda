/**
 * The ladder editor's parts: the thresholds and their sliders' words, the confidence
 * histogram of recent items on the 0..1 scale (read page by page), and the simulation
 * table comparing the current policy with the proposed one.
 */
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import type { AdminDecidedConfidencesQuery } from "../gql/graphql";
import { num, pct, words, type WindowName } from "./format";

const Decided = graphql(`
  query AdminDecidedConfidences($workflow: String!, $since: DateTime!, $after: String) {
    decisions(workflow: $workflow, since: $since, first: 500, after: $after) {
      totalCount
      edges {
        node {
          confidence
          recommendation {
            id
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const Open = graphql(`
  query AdminOpenConfidences($workflow: String!) {
    queue(workflow: $workflow, first: 500) {
      totalCount
      edges {
        node {
          id
          confidence
        }
      }
    }
  }
`);

export interface Thresholds {
  autoApproveAt: number;
  analystAt: number;
  seniorAt: number;
}

export const SLIDERS: { field: keyof Thresholds; label: string; says: string }[] = [
  { field: "autoApproveAt", label: "Auto-approve at", says: "and above is approved automatically" },
  { field: "analystAt", label: "Analyst review at", says: "and above waits for an analyst" },
  { field: "seniorAt", label: "Senior review at", says: "and above waits for a senior; below is the floor" },
];

export const BINS = 20;
/** Pages of 500 decisions read for the histogram at most. */
const MAX_PAGES = 10;

export interface Histogram {
  counts: number[];
  decided: number;
  open: number;
  /** The window held more decisions than were read. */
  partial: boolean;
}

export async function loadHistogram(client: ApiClient, workflow: string, since: string): Promise<Histogram> {
  const counts = new Array<number>(BINS).fill(0);
  const seen = new Set<string>();
  const add = (id: string, confidence: number) => {
    if (seen.has(id)) return; // several decisions on one item (a flag, an undo) count it once
    seen.add(id);
    counts[Math.min(BINS - 1, Math.max(0, Math.floor(confidence * BINS)))]! += 1;
  };
  let after: string | null = null;
  let partial = false;
  for (let page = 0; ; page++) {
    const { decisions }: AdminDecidedConfidencesQuery = await client.request(Decided, { workflow, since, after });
    for (const { node } of decisions.edges) add(node.recommendation.id, node.confidence);
    if (!decisions.pageInfo.hasNextPage) break;
    if (page + 1 >= MAX_PAGES) {
      partial = true;
      break;
    }
    after = decisions.pageInfo.endCursor ?? null;
  }
  const decided = seen.size;
  const { queue } = await client.request(Open, { workflow });
  for (const { node } of queue.edges) add(node.id, node.confidence);
  return { counts, decided, open: seen.size - decided, partial: partial || queue.totalCount > queue.edges.length };
}

export function tierOf(confidence: number, t: Thresholds): string {
  if (confidence >= t.autoApproveAt) return "Auto-approve";
  if (confidence >= t.analystAt) return "Analyst review";
  if (confidence >= t.seniorAt) return "Senior review";
  return "Below floor";
}

/** The 0..1 scale: tier bands, the histogram, and a line at each threshold. */
export function Scale({ histogram, t }: { histogram: Histogram | null; t: Thresholds }) {
  const W = 1000;
  const H = 150;
  const base = 120;
  const counts = histogram?.counts ?? new Array<number>(BINS).fill(0);
  const top = Math.max(1, ...counts);
  const x = (v: number) => v * W;
  const bands: [string, number, number][] = [
    ["adm-tier-floor", 0, t.seniorAt],
    ["adm-tier-senior", t.seniorAt, t.analystAt],
    ["adm-tier-analyst", t.analystAt, t.autoApproveAt],
    ["adm-tier-auto", t.autoApproveAt, 1],
  ];
  const total = counts.reduce((a, b) => a + b, 0);
  const summary =
    `Confidence histogram of ${total} recent items in ${BINS} bins from 0 to 1` +
    ` (${counts.join(", ")}); tiers start at ${t.seniorAt.toFixed(2)} (senior),` +
    ` ${t.analystAt.toFixed(2)} (analyst) and ${t.autoApproveAt.toFixed(2)} (automatic)`;
  return (
    <svg class="adm-scale" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={summary}>
      {bands.map(([tone, from, to]) => (
        <rect key={tone} class={tone} x={x(from)} y={0} width={Math.max(0, x(to) - x(from))} height={base} />
      ))}
      {counts.map((count, i) => (
        <rect
          key={i}
          class="adm-chart-bar"
          x={x(i / BINS) + 2}
          width={W / BINS - 4}
          y={base - (count / top) * (base - 18)}
          height={(count / top) * (base - 18)}
        />
      ))}
      {SLIDERS.map(({ field }) => (
        <line key={field} class="adm-threshold" x1={x(t[field])} x2={x(t[field])} y1={0} y2={base} />
      ))}
      {[0, 0.2, 0.4, 0.6, 0.8, 1].map((v) => (
        <text key={v} class="adm-chart-value" x={Math.min(W - 14, Math.max(14, x(v)))} y={H - 8} text-anchor="middle">
          {v.toFixed(1)}
        </text>
      ))}
    </svg>
  );
}

export function SimulationTable({
  current,
  proposed,
  version,
  busy,
  windowName,
}: {
  current: SimulationNumbers | null;
  proposed: SimulationNumbers | null;
  version: number;
  busy: boolean;
  windowName: WindowName;
}) {
  const rows: [string, (s: SimulationNumbers) => string][] = [
    ["Auto-approved share", (s) => pct(s.autoApproveShare)],
    ["Analyst review share", (s) => pct(s.analystShare)],
    ["Senior review share", (s) => pct(s.seniorShare)],
    ["Below floor share", (s) => pct(s.belowFloorShare)],
    ["Reviews per day", (s) => num(s.estimatedReviewsPerDay, 1)],
    ["Estimated auto-approval error", (s) => pct(s.estimatedAutoErrorRate)],
    ["Decisions replayed", (s) => String(s.decisionsReplayed)],
  ];
  return (
    <table class="adm-table" aria-busy={busy}>
      <caption>
        Simulation: the last {words(windowName).toLowerCase()}'s human decisions replayed{busy ? " (simulating…)" : ""}
      </caption>
      <thead>
        <tr>
          <th scope="col">Figure</th>
          <th scope="col">Now (version {version})</th>
          <th scope="col">Proposed</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, show]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td>{current ? show(current) : "…"}</td>
            <td>{proposed ? show(proposed) : "…"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface SimulationNumbers {
  decisionsReplayed: number;
  autoApproveShare: number;
  analystShare: number;
  seniorShare: number;
  belowFloorShare: number;
  estimatedAutoErrorRate?: number | null;
  estimatedReviewsPerDay: number;
}
