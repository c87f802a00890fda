/**
 * Divergence: how people's calls differ from the model's proposals over a week, month or
 * quarter (the `divergence` report: rates, the series, by action, tier and reviewer), and
 * every reviewer's last 30 days (`reviewerStats`) with fatigue warnings.
 */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { BarChart, LineChart } from "./charts";
import { day, duration, pct, WINDOWS, words, type WindowName } from "./format";
import { useQuery } from "./hooks";
import { ProblemNote } from "./problems";

const Report = graphql(`
  query AdminDivergence($workflow: String!, $window: Window!) {
    divergence(workflow: $workflow, window: $window) {
      since
      decisions
      automatedDecisions
      agreementRate
      overrideRate
      rejectRate
      editRate
      autoApprovePrecision
      series {
        start
        decisions
        agreementRate
        overrideRate
      }
      byAction {
        proposedAction
        decisions
        approvals
        rejections
        edits
        overrides
        overrideRate
        topReplacement
      }
      byTier {
        tier
        decisions
        agreementRate
      }
      byReviewer {
        decisions
        agreementRate
        medianDwellMs
        reviewer {
          id
          name
        }
      }
    }
  }
`);

const Stats = graphql(`
  query AdminReviewerStats($workflow: String!) {
    reviewerStats(workflow: $workflow) {
      decisions
      decisionsToday
      medianDwellMs
      agreementRate
      fastDecisions
      auditAccuracy
      canariesMissed
      fatigueWarning
      reviewer {
        id
        name
        role
      }
    }
  }
`);

function Head({ cells }: { cells: string[] }) {
  return (
    <thead>
      <tr>
        {cells.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export function Divergence({ client, workflow }: { client: ApiClient; workflow: string }) {
  const [windowName, setWindowName] = useState<WindowName>("MONTH");
  const report = useQuery(client, Report, { workflow, window: windowName });
  const stats = useQuery(client, Stats, { workflow });
  const d = report.data?.divergence;
  const bucket = windowName === "QUARTER" ? "week" : "day";

  return (
    <section class="adm-section" aria-labelledby="adm-divergence">
      <h2 id="adm-divergence">Divergence</h2>
      <fieldset class="adm-choice">
        <legend>Window</legend>
        {WINDOWS.map((w) => (
          <label key={w}>
            <input type="radio" name="adm-divergence-window" checked={w === windowName} onChange={() => setWindowName(w)} />{" "}
            {words(w)}
          </label>
        ))}
      </fieldset>
      <ProblemNote trouble={report.trouble} />
      {d && (
        <div aria-busy={report.loading}>
          <dl class="adm-figures">
            <div>
              <dt>Human decisions</dt>
              <dd>{d.decisions}</dd>
            </div>
            <div>
              <dt>Automated decisions</dt>
              <dd>{d.automatedDecisions}</dd>
            </div>
            <div>
              <dt>Agreement rate</dt>
              <dd>{pct(d.agreementRate)}</dd>
            </div>
            <div>
              <dt>Override rate</dt>
              <dd>{pct(d.overrideRate)}</dd>
            </div>
            <div>
              <dt>Reject rate</dt>
              <dd>{pct(d.rejectRate)}</dd>
            </div>
            <div>
              <dt>Edit rate</dt>
              <dd>{pct(d.editRate)}</dd>
            </div>
            <div>
              <dt>Auto-approval precision (audit sample)</dt>
              <dd>{pct(d.autoApprovePrecision)}</dd>
            </div>
          </dl>

          <h3>Agreement and override rate per {bucket}</h3>
          <LineChart
            title={`Agreement and override rate per ${bucket}`}
            labels={d.series.map((p) => day(p.start))}
            lines={[
              { name: "Agreement rate", tone: "adm-line-1", values: d.series.map((p) => (p.decisions ? p.agreementRate : null)) },
              { name: "Override rate", tone: "adm-line-2", values: d.series.map((p) => (p.decisions ? p.overrideRate : null)) },
            ]}
          />
          <details>
            <summary>The series as a table</summary>
            <table class="adm-table">
              <Head cells={[`${words(bucket)} from`, "Decisions", "Agreement rate", "Override rate"]} />
              <tbody>
                {d.series.map((p) => (
                  <tr key={p.start}>
                    <td>{day(p.start)}</td>
                    <td>{p.decisions}</td>
                    <td>{p.decisions ? pct(p.agreementRate) : "–"}</td>
                    <td>{p.decisions ? pct(p.overrideRate) : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>

          <h3>By action</h3>
          <BarChart
            title="Override rate by proposed action"
            bars={d.byAction.map((a) => ({ label: a.proposedAction, value: a.overrideRate, text: pct(a.overrideRate) }))}
          />
          <table class="adm-table">
            <Head cells={["Proposed action", "Decisions", "Approvals", "Rejections", "Edits", "Overrides", "Override rate", "Most often chosen instead"]} />
            <tbody>
              {d.byAction.map((a) => (
                <tr key={a.proposedAction}>
                  <th scope="row">{a.proposedAction}</th>
                  <td>{a.decisions}</td>
                  <td>{a.approvals}</td>
                  <td>{a.rejections}</td>
                  <td>{a.edits}</td>
                  <td>{a.overrides}</td>
                  <td>{pct(a.overrideRate)}</td>
                  <td>{a.topReplacement ?? "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>

          <h3>By tier</h3>
          <BarChart
            title="Agreement rate by tier"
            bars={d.byTier.map((t) => ({ label: words(t.tier), value: t.agreementRate, text: pct(t.agreementRate) }))}
          />
          <table class="adm-table">
            <Head cells={["Tier", "Decisions", "Agreement rate"]} />
            <tbody>
              {d.byTier.map((t) => (
                <tr key={t.tier}>
                  <th scope="row">{words(t.tier)}</th>
                  <td>{t.decisions}</td>
                  <td>{pct(t.agreementRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>

          <h3>By reviewer</h3>
          <BarChart
            title="Agreement rate by reviewer"
            bars={d.byReviewer.map((r) => ({ label: r.reviewer.name, value: r.agreementRate ?? 0, text: pct(r.agreementRate) }))}
          />
          <table class="adm-table">
            <Head cells={["Reviewer", "Decisions", "Agreement rate", "Median dwell"]} />
            <tbody>
              {d.byReviewer.map((r) => (
                <tr key={r.reviewer.id}>
                  <th scope="row">{r.reviewer.name}</th>
                  <td>{r.decisions}</td>
                  <td>{pct(r.agreementRate)}</td>
                  <td>{duration(r.medianDwellMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Reviewer stats, last 30 days</h3>
      <ProblemNote trouble={stats.trouble} />
      {stats.data && stats.data.reviewerStats.length === 0 && <p>No reviewer decided anything in the last 30 days.</p>}
      {stats.data?.reviewerStats
        .filter((s) => s.fatigueWarning)
        .map((s) => (
          <p class="adm-warning" key={s.reviewer.id}>
            ⚠ Fatigue warning for {s.reviewer.name}: {s.fatigueWarning}
          </p>
        ))}
      {stats.data && stats.data.reviewerStats.length > 0 && (
        <table class="adm-table">
          <Head
            cells={["Reviewer", "Role", "Decisions", "Today", "Median dwell", "Agreement rate", "Faster than the minimum", "Audit accuracy", "Canaries missed", "Fatigue warning"]}
          />
          <tbody>
            {stats.data.reviewerStats.map((s) => (
              <tr key={s.reviewer.id} class={s.fatigueWarning ? "adm-warn-row" : undefined}>
                <th scope="row">{s.reviewer.name}</th>
                <td>{words(s.reviewer.role)}</td>
                <td>{s.decisions}</td>
                <td>{s.decisionsToday}</td>
                <td>{duration(s.medianDwellMs)}</td>
                <td>{pct(s.agreementRate)}</td>
                <td>{s.fastDecisions}</td>
                <td>{pct(s.auditAccuracy)}</td>
                <td>{s.canariesMissed}</td>
                <td>{s.fatigueWarning ?? "none"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
