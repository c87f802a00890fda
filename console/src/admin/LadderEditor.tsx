/**
 * The ladder editor: the three thresholds on one 0..1 scale over the confidence histogram
 * of recent items. Moving a slider replays the window's human decisions under the new
 * thresholds (simulatePolicy, debounced) before anything is saved; saving writes a new
 * policy version with a note, and the history lists every version with who and when.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import type { AdminDecidedConfidencesQuery } from "../gql/graphql";
import { num, pct, when, WINDOW_DAYS, WINDOWS, words, type WindowName } from "./format";
import { useDebounced, useQuery } from "./hooks";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";

const Ladder = graphql(`
  query AdminLadder($workflow: String!) {
    workflow(key: $workflow) {
      key
      policy {
        version
        autoApproveAt
        analystAt
        seniorAt
      }
      policyHistory {
        version
        autoApproveAt
        analystAt
        seniorAt
        belowFloor
        note
        changedAt
        changedBy {
          name
        }
      }
    }
  }
`);

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

const Simulate = graphql(`
  query AdminSimulatePolicy($workflow: String!, $input: EscalationPolicyInput!, $window: Window!) {
    simulatePolicy(workflow: $workflow, input: $input, window: $window) {
      decisionsReplayed
      autoApproveShare
      analystShare
      seniorShare
      belowFloorShare
      estimatedAutoErrorRate
      estimatedReviewsPerDay
    }
  }
`);

const Save = graphql(`
  mutation AdminSavePolicy($workflow: String!, $input: EscalationPolicyInput!) {
    updateEscalationPolicy(workflow: $workflow, input: $input) {
      __typename
      ... on PolicySuccess {
        rerouted
        policy {
          version
        }
      }
      ... on Problem {
        message
      }
      ... on InvalidInput {
        field
      }
    }
  }
`);

interface Thresholds {
  autoApproveAt: number;
  analystAt: number;
  seniorAt: number;
}

const SLIDERS: { field: keyof Thresholds; label: string; says: string }[] = [
  { field: "autoApproveAt", label: "Auto-approve at", says: "and above is approved automatically" },
  { field: "analystAt", label: "Analyst review at", says: "and above waits for an analyst" },
  { field: "seniorAt", label: "Senior review at", says: "and above waits for a senior; below is the floor" },
];

const BINS = 20;
/** Pages of 500 decisions read for the histogram at most. */
const MAX_PAGES = 10;

interface Histogram {
  counts: number[];
  decided: number;
  open: number;
  /** The window held more decisions than were read. */
  partial: boolean;
}

async function loadHistogram(client: ApiClient, workflow: string, since: string): Promise<Histogram> {
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

function tierOf(confidence: number, t: Thresholds): string {
  if (confidence >= t.autoApproveAt) return "Auto-approve";
  if (confidence >= t.analystAt) return "Analyst review";
  if (confidence >= t.seniorAt) return "Senior review";
  return "Below floor";
}

/** The 0..1 scale: tier bands, the histogram, and a line at each threshold. */
function Scale({ histogram, t }: { histogram: Histogram | null; t: Thresholds }) {
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

function SimulationTable({
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

interface SimulationNumbers {
  decisionsReplayed: number;
  autoApproveShare: number;
  analystShare: number;
  seniorShare: number;
  belowFloorShare: number;
  estimatedAutoErrorRate?: number | null;
  estimatedReviewsPerDay: number;
}

export function LadderEditor({ client, workflow }: { client: ApiClient; workflow: string }) {
  const ladder = useQuery(client, Ladder, { workflow });
  const policy = ladder.data?.workflow?.policy ?? null;
  const [windowName, setWindowName] = useState<WindowName>("MONTH");
  const [draft, setDraft] = useState<Thresholds | null>(null);
  const [note, setNote] = useState("");
  const [saving, setSaving] = useState(false);
  const [saveTrouble, setSaveTrouble] = useState<Trouble | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  // A new policy version (saved here or elsewhere) becomes the starting point again.
  useEffect(() => {
    if (policy) setDraft({ autoApproveAt: policy.autoApproveAt, analystAt: policy.analystAt, seniorAt: policy.seniorAt });
  }, [policy?.version]);

  const [histogram, setHistogram] = useState<Histogram | null>(null);
  const [histogramTrouble, setHistogramTrouble] = useState<Trouble | null>(null);
  useEffect(() => {
    let live = true;
    const since = new Date(Date.now() - WINDOW_DAYS[windowName] * 86_400_000).toISOString();
    loadHistogram(client, workflow, since).then(
      (h) => live && (setHistogram(h), setHistogramTrouble(null)),
      (error: unknown) => live && setHistogramTrouble(troubleFromError(error)),
    );
    return () => {
      live = false;
    };
  }, [client, workflow, windowName, policy?.version]);

  const current = useQuery(client, Simulate, policy ? { workflow, input: {}, window: windowName } : null);
  const draftKey = draft ? JSON.stringify(draft) : null;
  const settledKey = useDebounced(draftKey, 250);
  const proposed = useQuery(
    client,
    Simulate,
    settledKey ? { workflow, input: JSON.parse(settledKey) as Thresholds, window: windowName } : null,
  );
  const simulating = proposed.loading || settledKey !== draftKey;

  const dirty = useMemo(
    () => !!(draft && policy && SLIDERS.some(({ field }) => draft[field] !== policy[field])),
    [draft, policy],
  );

  async function save(event: Event) {
    event.preventDefault();
    if (!draft) return;
    setSaved(null);
    if (!note.trim()) {
      setSaveTrouble({ kind: "InvalidInput", text: "Invalid input: write a note saying why the ladder changes.", field: "note" });
      return;
    }
    setSaving(true);
    try {
      const { updateEscalationPolicy: answer } = await client.request(Save, { workflow, input: { ...draft, note: note.trim() } });
      const problem = troubleOf(answer);
      setSaveTrouble(problem);
      if (answer.__typename === "PolicySuccess") {
        setSaved(`Saved as version ${answer.policy.version}; ${answer.rerouted} pending item(s) re-routed.`);
        setNote("");
        ladder.reload();
        current.reload();
      }
    } catch (error) {
      setSaveTrouble(troubleFromError(error));
    } finally {
      setSaving(false);
    }
  }

  const history = [...(ladder.data?.workflow?.policyHistory ?? [])].sort((a, b) => b.version - a.version);
  const t = draft ?? { autoApproveAt: 0.9, analystAt: 0.7, seniorAt: 0.5 };
  const sliderTrouble = (field: string) => (proposed.trouble?.field === field ? proposed.trouble : saveTrouble?.field === field ? saveTrouble : null);
  const known = ["autoApproveAt", "analystAt", "seniorAt", "note"];

  return (
    <section class="adm-section" aria-labelledby="adm-ladder">
      <h2 id="adm-ladder">Escalation ladder</h2>
      <ProblemNote trouble={ladder.trouble} />
      {ladder.data && !ladder.data.workflow && <p class="adm-problem">Not found: no workflow {workflow}.</p>}
      <label class="adm-inline">
        Replay window{" "}
        <select value={windowName} onChange={(e) => setWindowName(e.currentTarget.value as WindowName)}>
          {WINDOWS.map((w) => (
            <option key={w} value={w}>
              {words(w)}
            </option>
          ))}
        </select>
      </label>
      <Scale histogram={histogram} t={t} />
      <p class="adm-note">
        {histogram
          ? `${histogram.decided} item(s) decided in the last ${words(windowName).toLowerCase()} and ${histogram.open} open, by confidence${histogram.partial ? " (counting at most 5,000 decisions and 500 open items)" : ""}.`
          : "Reading recent confidences…"}
      </p>
      <ProblemNote trouble={histogramTrouble} />
      {draft &&
        SLIDERS.map(({ field, label, says }) => (
          <div class="adm-slider" key={field}>
            <div class="adm-slider-head">
              <label for={`adm-${field}`}>{label}</label>
              <span class="adm-value" aria-hidden="true">
                {draft[field].toFixed(2)}
              </span>
            </div>
            <input
              id={`adm-${field}`}
              type="range"
              min={0}
              max={1}
              step={0.01}
              value={draft[field]}
              aria-valuetext={`${draft[field].toFixed(2)}: confidence ${draft[field].toFixed(2)} ${says}`}
              onInput={(e) => {
                const value = Number(e.currentTarget.value);
                setDraft((d) => (d ? { ...d, [field]: value } : d));
                setSaved(null);
              }}
            />
            <ProblemNote trouble={sliderTrouble(field)} />
          </div>
        ))}
      {histogram && (
        <details>
          <summary>The histogram as a table</summary>
          <table class="adm-table">
            <thead>
              <tr>
                <th scope="col">Confidence</th>
                <th scope="col">Items</th>
                <th scope="col">Tier (as proposed)</th>
              </tr>
            </thead>
            <tbody>
              {histogram.counts.map((count, i) => (
                <tr key={i}>
                  <td>
                    {(i / BINS).toFixed(2)}–{((i + 1) / BINS).toFixed(2)}
                  </td>
                  <td>{count}</td>
                  <td>{tierOf(i / BINS, t)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {policy && (
        <SimulationTable
          current={current.data?.simulatePolicy ?? null}
          proposed={proposed.trouble ? null : (proposed.data?.simulatePolicy ?? null)}
          version={policy.version}
          busy={simulating}
          windowName={windowName}
        />
      )}
      <ProblemNote trouble={current.trouble} />
      {proposed.trouble && !known.includes(proposed.trouble.field ?? "") && <ProblemNote trouble={proposed.trouble} />}
      <form class="adm-form" onSubmit={save} noValidate>
        <label>
          Note
          <input
            value={note}
            aria-required="true"
            aria-invalid={saveTrouble?.field === "note"}
            placeholder="Why the ladder changes"
            onInput={(e) => setNote(e.currentTarget.value)}
          />
        </label>
        <ProblemNote trouble={saveTrouble} field="note" />
        <div class="adm-row">
          <button type="submit" disabled={saving || !draft}>
            Save policy
          </button>
          <button
            type="button"
            disabled={!dirty}
            onClick={() => policy && setDraft({ autoApproveAt: policy.autoApproveAt, analystAt: policy.analystAt, seniorAt: policy.seniorAt })}
          >
            Reset thresholds
          </button>
          <span role="status">{saved ?? (dirty ? "Unsaved changes." : "")}</span>
        </div>
        {saveTrouble && !known.includes(saveTrouble.field ?? "") && <ProblemNote trouble={saveTrouble} />}
      </form>
      <h3 id="adm-policy-history">Policy history</h3>
      <table class="adm-table" aria-labelledby="adm-policy-history">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Auto-approve at</th>
            <th scope="col">Analyst review at</th>
            <th scope="col">Senior review at</th>
            <th scope="col">Below the floor</th>
            <th scope="col">Note</th>
            <th scope="col">Changed by</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {history.map((p) => (
            <tr key={p.version} aria-current={p.version === policy?.version ? "true" : undefined}>
              <td>
                {p.version}
                {p.version === policy?.version ? " (current)" : ""}
              </td>
              <td>{p.autoApproveAt.toFixed(2)}</td>
              <td>{p.analystAt.toFixed(2)}</td>
              <td>{p.seniorAt.toFixed(2)}</td>
              <td>{words(p.belowFloor)}</td>
              <td>{p.note ?? "–"}</td>
              <td>{p.changedBy?.name ?? "–"}</td>
              <td>{when(p.changedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
