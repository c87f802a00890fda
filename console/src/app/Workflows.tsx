/** The workflows, each with its open items per tier, kept live from queueEvents. */
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError, Unauthenticated, type ApiClient } from "../api/client";
import type { ConsoleWorkflowsQuery } from "../gql/graphql";
import { tierLabel } from "../review/format";
import { Workflows as WorkflowsQuery, WorkflowActivity } from "./documents";
import { reviewPath } from "./router";

type Workflow = ConsoleWorkflowsQuery["workflows"][number];

const REFRESH_AFTER_MS = 250;
const TIERS = ["ANALYST_REVIEW", "SENIOR_REVIEW"];
const WAITING = new Set(["PENDING", "CLAIMED", "AWAITING_CONFIRMATION"]);

/** Open items in a tier (flagged ones are counted apart). */
function waiting(workflow: Workflow, tier: string): number {
  return workflow.queueCounts
    .filter((count) => count.tier === tier && WAITING.has(count.status))
    .reduce((sum, count) => sum + count.count, 0);
}

function withStatus(workflow: Workflow, status: string): number {
  return workflow.queueCounts.filter((count) => count.status === status).reduce((sum, count) => sum + count.count, 0);
}

export function WorkflowList({ client }: { client: ApiClient }) {
  const [workflows, setWorkflows] = useState<Workflow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);
  const alive = useRef(true);

  const load = async () => {
    try {
      const data = await client.request(WorkflowsQuery);
      if (!alive.current) return;
      setWorkflows(data.workflows);
      setError(null);
    } catch (failure) {
      if (alive.current && !(failure instanceof Unauthenticated)) {
        setError(`The workflows could not be read: ${describeError(failure)}`);
      }
    }
  };
  /** Many events, one read: counts are read again shortly after the last one. */
  const soon = () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void load(), REFRESH_AFTER_MS);
  };

  useEffect(() => {
    alive.current = true;
    void load();
    const off = client.onConnection((state) => {
      if (state === "connected") soon();
    });
    return () => {
      alive.current = false;
      off();
      window.clearTimeout(timer.current);
    };
  }, [client]);

  const keys = (workflows ?? []).map((workflow) => workflow.key).join("\n");
  useEffect(() => {
    if (!keys) return;
    // A subscription the server ends with an error starts again after a pause (doubling
    // to 30 s), and the counts are read again: they never go silently stale.
    const stops = new Map<string, () => void>();
    const timers = new Set<number>();
    const follow = (workflow: string, pause: number) => {
      stops.set(
        workflow,
        client.subscribe(WorkflowActivity, { workflow }, {
          next: () => {
            pause = 1000;
            soon();
          },
          error: () => {
            const timer = window.setTimeout(() => {
              timers.delete(timer);
              soon();
              follow(workflow, Math.min(pause * 2, 30_000));
            }, pause);
            timers.add(timer);
          },
        }),
      );
    };
    keys.split("\n").forEach((workflow) => follow(workflow, 1000));
    return () => {
      timers.forEach((timer) => window.clearTimeout(timer));
      stops.forEach((stop) => stop());
    };
  }, [client, keys]);

  return (
    <div class="workflows">
      <h1>Workflows</h1>
      {error && (
        <p role="alert" class="problem">
          {error}
        </p>
      )}
      {workflows === null ? (
        !error && <p class="muted">Reading the workflows…</p>
      ) : workflows.length === 0 ? (
        <p>
          No workflows yet. An admin creates one with the <code>createWorkflow</code> mutation (see the README).
        </p>
      ) : (
        <table class="workflow-table">
          <caption class="visually-hidden">Open items per workflow and tier, live</caption>
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              {TIERS.map((tier) => (
                <th scope="col" key={tier} class="num">
                  {tierLabel(tier)}
                </th>
              ))}
              <th scope="col" class="num">
                Flagged
              </th>
              <th scope="col" class="num">
                Needs data
              </th>
            </tr>
          </thead>
          <tbody>
            {workflows.map((workflow) => (
              <tr key={workflow.id}>
                <th scope="row">
                  <a href={`#${reviewPath(workflow.key)}`}>{workflow.name}</a>{" "}
                  <span class="muted">
                    {workflow.key} · {workflow.kind === "DRAFT" ? "drafts" : "classification"}
                  </span>
                </th>
                {TIERS.map((tier) => (
                  <td key={tier} class="num">
                    {waiting(workflow, tier)}
                  </td>
                ))}
                <td class="num">{withStatus(workflow, "FLAGGED")}</td>
                <td class="num">{withStatus(workflow, "NEEDS_DATA")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">Choose a workflow to review its queue: the most urgent item opens, claimed for you.</p>
    </div>
  );
}
