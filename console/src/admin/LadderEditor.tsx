/**
 * The ladder editor: the three thresholds on one 0..1 scale over the confidence histogram
 * of recent items. Moving a slider replays the window's human decisions under the new
 * thresholds (simulatePolicy, debounced) before anything is saved; saving writes a new
 * policy version with a note, and the history lists every version with who and when.
 * Beside the simulation, the recommended threshold with its guarantee (Recommendation.tsx).
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { when, WINDOW_DAYS, WINDOWS, words, type WindowName } from "./format";
import { useDebounced, useQuery } from "./hooks";
import { BINS, loadHistogram, Scale, SimulationTable, SLIDERS, tierOf, type Histogram, type Thresholds } from "./ladderParts";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";
import { ladderWith } from "./guarantee";
import { RecommendationPanel, type Applied } from "./Recommendation";
import { isTrouble, REVIEW_FIELDS, reviewChanges, ReviewRules, reviewText, type ReviewText } from "./ReviewRules";

const Ladder = graphql(`
  query AdminLadder($workflow: String!) {
    workflow(key: $workflow) {
      key
      policy {
        version
        autoApproveAt
        analystAt
        seniorAt
        reviewsRequired
        agreementRequired
        agreementIsMajority
        highStakesReviewsRequired
        blindReview
      }
      policyHistory {
        version
        autoApproveAt
        analystAt
        seniorAt
        reviewsRequired
        agreementRequired
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

export function LadderEditor({ client, workflow }: { client: ApiClient; workflow: string }) {
  const ladder = useQuery(client, Ladder, { workflow });
  const policy = ladder.data?.workflow?.policy ?? null;
  const [windowName, setWindowName] = useState<WindowName>("MONTH");
  const [draft, setDraft] = useState<Thresholds | null>(null);
  const [reviews, setReviews] = useState<ReviewText | null>(null);
  const [note, setNote] = useState("");
  const [saving, setSaving] = useState(false);
  const [saveTrouble, setSaveTrouble] = useState<Trouble | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  // A new policy version (saved here or elsewhere) becomes the starting point again.
  useEffect(() => {
    if (policy) {
      setDraft({ autoApproveAt: policy.autoApproveAt, analystAt: policy.analystAt, seniorAt: policy.seniorAt });
      setReviews(reviewText(policy));
    }
  }, [policy?.version]);
  const reviewInput = reviews && policy ? reviewChanges(reviews, policy) : {};
  const reviewTrouble = isTrouble(reviewInput) ? reviewInput : null;
  const reviewDraft = isTrouble(reviewInput) ? {} : reviewInput;

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
  const draftKey = draft ? JSON.stringify({ ...draft, ...reviewDraft }) : null;
  const settledKey = useDebounced(draftKey, 250);
  const proposed = useQuery(
    client,
    Simulate,
    settledKey ? { workflow, input: JSON.parse(settledKey) as Thresholds & typeof reviewDraft, window: windowName } : null,
  );
  const simulating = proposed.loading || settledKey !== draftKey;

  const dirty = useMemo(
    () =>
      !!(draft && policy && SLIDERS.some(({ field }) => draft[field] !== policy[field])) ||
      reviewTrouble !== null ||
      Object.keys(reviewDraft).length > 0,
    [draft, policy, reviewTrouble, reviewDraft],
  );

  /** The recommended threshold on the auto-approve slider (simulated as a move would be)
   * and its guarantee as the note; saving is still the admin's click. */
  function apply({ autoApproveAt, note: cited }: Applied) {
    setDraft((d) => (d ? { ...d, ...ladderWith(d, autoApproveAt).ladder } : d));
    setNote(cited);
    setSaved(null);
    setSaveTrouble(null);
  }

  async function save(event: Event) {
    event.preventDefault();
    if (!draft) return;
    setSaved(null);
    if (!note.trim()) {
      setSaveTrouble({ kind: "InvalidInput", text: "Invalid input: write a note saying why the ladder changes.", field: "note" });
      return;
    }
    if (reviewTrouble) {
      setSaveTrouble(reviewTrouble);
      return;
    }
    setSaving(true);
    try {
      const input = { ...draft, ...reviewDraft, note: note.trim() };
      const { updateEscalationPolicy: answer } = await client.request(Save, { workflow, input });
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
  const fieldTrouble = (field: string) => (reviewTrouble?.field === field ? reviewTrouble : sliderTrouble(field));
  const known = ["autoApproveAt", "analystAt", "seniorAt", "note", ...REVIEW_FIELDS];
  const reset = () => {
    if (!policy) return;
    setDraft({ autoApproveAt: policy.autoApproveAt, analystAt: policy.analystAt, seniorAt: policy.seniorAt });
    setReviews(reviewText(policy));
  };

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
      <div class="adm-beside">
        {policy && (
          <SimulationTable
            current={current.data?.simulatePolicy ?? null}
            proposed={proposed.trouble ? null : (proposed.data?.simulatePolicy ?? null)}
            version={policy.version}
            busy={simulating}
            windowName={windowName}
          />
        )}
        <RecommendationPanel client={client} workflow={workflow} windowName={windowName} ladder={draft} onApply={apply} />
      </div>
      <ProblemNote trouble={current.trouble} />
      {proposed.trouble && !known.includes(proposed.trouble.field ?? "") && <ProblemNote trouble={proposed.trouble} />}
      <form class="adm-form" onSubmit={save} noValidate>
        {reviews && (
          <ReviewRules
            text={reviews}
            onChange={(text) => {
              setReviews(text);
              setSaved(null);
            }}
            trouble={fieldTrouble}
          />
        )}
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
          <button type="button" disabled={!dirty} onClick={reset}>
            Reset changes
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
            <th scope="col">Reviews per item</th>
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
              <td>{p.reviewsRequired === 1 ? "1" : `${p.reviewsRequired}, ${p.agreementRequired} must agree`}</td>
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
