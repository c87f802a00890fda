/**
 * The recommended threshold, beside the ladder's simulation: the admin states the largest
 * share of wrong auto-approvals they accept and how sure they want to be; recommendThreshold
 * answers with the lowest autoApproveAt the window's human labels guarantee (Learn-then-Test),
 * or why there is none. "Apply" hands the threshold and a note citing the guarantee to the
 * editor, which moves the slider (so the simulation runs) and fills the note; saving stays
 * the admin's explicit step.
 */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { words, type WindowName } from "./format";
import { useDebounced, useQuery } from "./hooks";
import { ProblemNote, type Trouble } from "./problems";
import { guaranteeNote, guaranteeWords, ladderWith, parsePercent, sliderValue, threshold, type Ladder } from "./guarantee";

const Recommend = graphql(`
  query AdminRecommendThreshold($workflow: String!, $maxAutoApproveError: Float!, $confidenceLevel: Float!, $window: Window!) {
    recommendThreshold(
      workflow: $workflow
      maxAutoApproveError: $maxAutoApproveError
      confidenceLevel: $confidenceLevel
      window: $window
    ) {
      maxAutoApproveError
      confidenceLevel
      autoApproveAt
      errorUpperBound
      evidence
      expectedAutoApproveShare
      message
    }
  }
`);

/** What "Apply" hands the editor: the slider's new value and the note citing the guarantee. */
export interface Applied {
  autoApproveAt: number;
  note: string;
}

function inputTrouble(problem: string, field: string): Trouble {
  return { kind: "InvalidInput", text: `Invalid input: ${problem}`, field };
}

/** A percentage the admin types, marked invalid (and described by its problem) when it is. */
function PercentInput(props: {
  label: string;
  field: string;
  min: number;
  step: number;
  text: string;
  onText: (text: string) => void;
  trouble: Trouble | null;
}) {
  const invalid = props.trouble?.field === props.field;
  return (
    <label class="adm-inline">
      {props.label}
      <input
        type="number"
        min={props.min}
        max={100}
        step={props.step}
        value={props.text}
        aria-invalid={invalid}
        aria-describedby={invalid ? `adm-recommend-${props.field}` : undefined}
        onInput={(e) => props.onText(e.currentTarget.value)}
      />
    </label>
  );
}

export function RecommendationPanel({
  client,
  workflow,
  windowName,
  ladder,
  onApply,
}: {
  client: ApiClient;
  workflow: string;
  windowName: WindowName;
  /** The editor's thresholds now, to warn when applying must lower the tiers below. */
  ladder: Ladder | null;
  onApply: (applied: Applied) => void;
}) {
  const [errorText, setErrorText] = useState("5");
  const [levelText, setLevelText] = useState("95");
  const error = parsePercent(errorText, "The maximum auto-approve error", 0, 100);
  const level = parsePercent(levelText, "The confidence level", 50, 100);
  const local = !error.ok
    ? inputTrouble(error.problem, "maxAutoApproveError")
    : !level.ok
      ? inputTrouble(level.problem, "confidenceLevel")
      : null;
  const key = error.ok && level.ok ? JSON.stringify([error.value, level.value]) : null;
  const settled = useDebounced(key, 250);
  const [maxAutoApproveError, confidenceLevel] = settled ? (JSON.parse(settled) as [number, number]) : [0, 0];
  const answer = useQuery(
    client,
    Recommend,
    settled && key ? { workflow, maxAutoApproveError, confidenceLevel, window: windowName } : null,
  );
  const found = answer.trouble || local ? null : (answer.data?.recommendThreshold ?? null);
  const guarantee = found ? guaranteeWords(found) : null;
  const window = words(windowName).toLowerCase();
  const trouble = local ?? answer.trouble;
  const busy = answer.loading || settled !== key;
  const lowered =
    found && found.autoApproveAt != null && ladder ? ladderWith(ladder, sliderValue(found.autoApproveAt)).lowered : null;

  function apply() {
    if (!found || found.autoApproveAt == null) return;
    const note = guaranteeNote(found, window);
    if (note) onApply({ autoApproveAt: sliderValue(found.autoApproveAt), note });
  }

  return (
    <section class="adm-recommend" aria-labelledby="adm-recommend-title" aria-busy={busy}>
      <h3 id="adm-recommend-title">Recommended threshold</h3>
      <div class="adm-row">
        <PercentInput
          label="Maximum auto-approve error (%)"
          field="maxAutoApproveError"
          min={0}
          step={0.5}
          text={errorText}
          onText={setErrorText}
          trouble={trouble}
        />
        <PercentInput
          label="Confidence level (%)"
          field="confidenceLevel"
          min={50}
          step={1}
          text={levelText}
          onText={setLevelText}
          trouble={trouble}
        />
      </div>
      <ProblemNote trouble={trouble} field="maxAutoApproveError" id="adm-recommend-maxAutoApproveError" />
      <ProblemNote trouble={trouble} field="confidenceLevel" id="adm-recommend-confidenceLevel" />
      {trouble && trouble.field !== "maxAutoApproveError" && trouble.field !== "confidenceLevel" && (
        <ProblemNote trouble={trouble} />
      )}
      <div aria-live="polite">
        {found && found.autoApproveAt != null && guarantee ? (
          <p class="adm-recommend-answer">
            <strong>Auto-approve at {threshold(found.autoApproveAt)}</strong>: {guarantee} (last {window}).
          </p>
        ) : found ? (
          <p class="adm-recommend-answer">{found.message}</p>
        ) : (
          !trouble && <p class="adm-note">Asking for a recommendation…</p>
        )}
        {lowered && (
          <p class="adm-warning" id="adm-recommend-lowered">
            {lowered}
          </p>
        )}
      </div>
      <button
        type="button"
        disabled={!found || found.autoApproveAt == null || busy}
        aria-describedby={lowered ? "adm-recommend-lowered" : undefined}
        onClick={apply}
      >
        Apply recommended threshold
      </button>
    </section>
  );
}
