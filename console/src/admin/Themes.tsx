/**
 * Themes: the latest mined override themes by share, each with the payload conditions
 * typical of it, the proposal it overrides most, a suggested feature and examples;
 * "Mine now" mines the chosen window again as a job and shows its progress.
 */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { BarChart } from "./charts";
import { pct, when, WINDOWS, words, type WindowName } from "./format";
import { useQuery } from "./hooks";
import { JobStatus, useJob } from "./job";
import { ProblemNote } from "./problems";

const Report = graphql(`
  query AdminThemes($workflow: String!) {
    overrideThemes(workflow: $workflow) {
      id
      window
      overridesAnalysed
      createdAt
      themes {
        label
        keywords
        count
        share
        proposedAction
        shareOfActionOverrides
        conditions
        suggestedFeature
        examples
      }
    }
  }
`);

const Mine = graphql(`
  mutation AdminMineThemes($workflow: String!, $window: Window!) {
    mineOverrideThemes(workflow: $workflow, window: $window) {
      __typename
      ... on JobSuccess {
        job {
          id
          kind
          state
          progress
          message
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

export function Themes({ client, workflow }: { client: ApiClient; workflow: string }) {
  const report = useQuery(client, Report, { workflow });
  const mining = useJob(client, () => report.reload());
  const [windowName, setWindowName] = useState<WindowName>("MONTH");
  const found = report.data?.overrideThemes;
  const themes = [...(found?.themes ?? [])].sort((a, b) => b.share - a.share);

  return (
    <section class="adm-section" aria-labelledby="adm-themes">
      <h2 id="adm-themes">Themes</h2>
      <ProblemNote trouble={report.trouble} />
      <div class="adm-row">
        <label class="adm-inline">
          Mine the last{" "}
          <select value={windowName} onChange={(e) => setWindowName(e.currentTarget.value as WindowName)}>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                {words(w).toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          disabled={mining.running}
          onClick={() =>
            mining.start(async () => (await client.request(Mine, { workflow, window: windowName })).mineOverrideThemes)
          }
        >
          Mine now
        </button>
      </div>
      <ProblemNote trouble={mining.trouble} />
      <JobStatus job={mining.job} label="Mining themes" />
      {report.data && !found && <p>No themes yet: mine the override reasons to find them.</p>}
      {found && (
        <>
          <p class="adm-note">
            {themes.length} theme(s) in {found.overridesAnalysed} override(s) of the last {words(found.window).toLowerCase()},
            mined {when(found.createdAt)}.
          </p>
          <BarChart
            title="Share of overrides per theme"
            bars={themes.map((t) => ({ label: t.label, value: t.share, text: pct(t.share) }))}
          />
          <ol class="adm-themes">
            {themes.map((t) => (
              <li key={t.label}>
                <h3>{t.label}</h3>
                <p>
                  {pct(t.share)} of overrides ({t.count})
                  {t.proposedAction &&
                    `; overrides “${t.proposedAction}” most (${pct(t.shareOfActionOverrides)} of its overrides)`}
                  .
                </p>
                <dl>
                  <dt>Conditions</dt>
                  <dd>{t.conditions.length ? t.conditions.join("; ") : "none stand out"}</dd>
                  <dt>Suggested feature</dt>
                  <dd>{t.suggestedFeature ?? "none"}</dd>
                  <dt>Keywords</dt>
                  <dd>{t.keywords.join(", ")}</dd>
                  <dt>Examples</dt>
                  <dd>
                    <ul>
                      {t.examples.map((e) => (
                        <li key={e}>“{e}”</li>
                      ))}
                    </ul>
                  </dd>
                </dl>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
