/**
 * The loop, month by month, as the decision log tells it (learningByMonth): per calendar
 * month, the work that came in, how much of it people still decided, how often they
 * agreed with the proposals, the share auto-approved and its error as the audit samples
 * estimate it, which model proposed, which was promoted, and the drift alarms. A chart of
 * the three rates and the table with every number.
 */
import { useEffect } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { LineChart } from "./charts";
import { month, pct } from "./format";
import { useQuery } from "./hooks";
import { ProblemNote } from "./problems";

const ByMonth = graphql(`
  query AdminLearningByMonth($workflow: String!, $months: Int!) {
    learningByMonth(workflow: $workflow, months: $months) {
      start
      submitted
      humanDecisions
      automatedApprovals
      agreementRate
      automatedShare
      audited
      autoApproveError
      proposingVersions
      promoted
      driftAlarms
    }
  }
`);

const MONTHS = 6;

function versions(names: readonly string[]): string {
  return names.map((v) => v || "none given").join(", ") || "–";
}

/** `round` counts what changed the log's story (a model event, a finished retraining):
 * each new round reads the months again. */
export function LoopByMonth({ client, workflow, round }: { client: ApiClient; workflow: string; round: number }) {
  const found = useQuery(client, ByMonth, { workflow, months: MONTHS });
  const reload = found.reload;
  useEffect(() => {
    if (round > 0) reload();
  }, [round, reload]);
  const months = found.data?.learningByMonth ?? [];
  return (
    <section aria-labelledby="adm-loop-title">
      <h3 id="adm-loop-title">The loop, month by month</h3>
      <ProblemNote trouble={found.trouble} />
      {months.length > 0 && (
        <>
          <LineChart
            title="People's agreement with the proposals, share auto-approved, and its audited error, by month"
            labels={months.map((m) => month(m.start))}
            lines={[
              { name: "Agreement (people)", values: months.map((m) => m.agreementRate ?? null), tone: "adm-line-1" },
              { name: "Auto-approved share", values: months.map((m) => m.automatedShare ?? null), tone: "adm-line-2" },
              { name: "Auto-approve error (audits)", values: months.map((m) => m.autoApproveError ?? null), tone: "adm-line-3" },
            ]}
          />
          <table class="adm-table">
            <caption>The last {MONTHS} months, oldest first (calendar months, UTC)</caption>
            <thead>
              <tr>
                <th scope="col">Month</th>
                <th scope="col">Items in</th>
                <th scope="col">Human decisions</th>
                <th scope="col">Agreement</th>
                <th scope="col">Auto-approved</th>
                <th scope="col">Auto-approve error (audits)</th>
                <th scope="col">Proposed by</th>
                <th scope="col">Promoted</th>
                <th scope="col">Drift alarms</th>
              </tr>
            </thead>
            <tbody>
              {months.map((m) => (
                <tr key={m.start}>
                  <th scope="row">{month(m.start)}</th>
                  <td>{m.submitted}</td>
                  <td>{m.humanDecisions}</td>
                  <td>{pct(m.agreementRate)}</td>
                  <td>
                    {m.automatedApprovals} ({pct(m.automatedShare)})
                  </td>
                  <td>{m.audited ? `${pct(m.autoApproveError)} of ${m.audited}` : "no audit samples"}</td>
                  <td>{versions(m.proposingVersions)}</td>
                  <td>{m.promoted.join(", ") || "–"}</td>
                  <td>{m.driftAlarms}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
