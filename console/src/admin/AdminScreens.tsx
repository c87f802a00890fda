/**
 * Every admin screen on one page for one workflow: the ladder, learning, themes,
 * divergence and webhooks, then teams (who reviews the workflow), users and the admin
 * record (not bound to a workflow). Loaded lazily by AdminArea, so reviewers never
 * download it.
 */
import { useCallback, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { AdminRecord } from "./AdminRecord";
import { Divergence } from "./Divergence";
import { useQuery } from "./hooks";
import { LadderEditor } from "./LadderEditor";
import { Learning } from "./Learning";
import { ProblemNote } from "./problems";
import { Teams } from "./Teams";
import { Themes } from "./Themes";
import { Users } from "./Users";
import { Webhooks } from "./Webhooks";
import "./admin.css";

const Workflows = graphql(`
  query AdminWorkflows {
    workflows {
      key
      name
    }
  }
`);

const SECTIONS: [string, string][] = [
  ["adm-ladder", "Escalation ladder"],
  ["adm-learning", "Learning"],
  ["adm-themes", "Themes"],
  ["adm-divergence", "Divergence"],
  ["adm-webhooks", "Webhooks"],
  ["adm-teams", "Teams"],
  ["adm-users", "Users"],
  ["adm-record", "Admin record"],
];

/** Sections about people and the record, shown with or without a chosen workflow. */
const UNBOUND = new Set(["adm-teams", "adm-users", "adm-record"]);

/** Move to a section's heading (focus too, so the keyboard follows). */
function jump(id: string) {
  const heading = document.getElementById(id);
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus();
  heading.scrollIntoView({ block: "start" });
}

export default function AdminScreens({
  client,
  workflowKey,
  choose,
}: {
  client: ApiClient;
  workflowKey: string | null;
  choose: (key: string) => void;
}) {
  const workflows = useQuery(client, Workflows, {});
  const list = workflows.data?.workflows ?? [];
  const key = workflowKey ?? null;
  // Bumped by every change to users or teams: the people screens and the record read again.
  const [round, setRound] = useState(0);
  const changed = useCallback(() => setRound((n) => n + 1), []);

  return (
    <div class="adm">
      <div class="adm-row adm-top">
        <label class="adm-inline">
          Workflow{" "}
          <select value={key ?? ""} onChange={(e) => e.currentTarget.value && choose(e.currentTarget.value)}>
            {key === null && <option value="">Choose a workflow…</option>}
            {list.map((w) => (
              <option key={w.key} value={w.key}>
                {w.name} ({w.key})
              </option>
            ))}
          </select>
        </label>
        <nav aria-label="Admin sections" class="adm-row">
          {SECTIONS.filter(([id]) => key !== null || UNBOUND.has(id)).map(([id, name]) => (
            <button type="button" class="adm-link" key={id} onClick={() => jump(id)}>
              {name}
            </button>
          ))}
        </nav>
      </div>
      <ProblemNote trouble={workflows.trouble} />
      {workflows.data && list.length === 0 && <p>No workflows yet: create one through the API first.</p>}
      {key !== null && (
        // Keyed by workflow: switching starts every screen afresh.
        <div key={key}>
          <LadderEditor client={client} workflow={key} />
          <Learning client={client} workflow={key} />
          <Themes client={client} workflow={key} />
          <Divergence client={client} workflow={key} />
          <Webhooks client={client} workflow={key} />
        </div>
      )}
      <Teams client={client} workflow={key} round={round} changed={changed} />
      <Users client={client} round={round} changed={changed} />
      <AdminRecord client={client} round={round} />
    </div>
  );
}
