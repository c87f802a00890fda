/**
 * Who reviews the chosen workflow: its teams (only their members, and admins, see its
 * items), or none (every user of a fitting role does, as in version 1).
 */
import { useEffect, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { useQuery } from "./hooks";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";

const Current = graphql(`
  query AdminWorkflowTeams($workflow: String!) {
    workflow(key: $workflow) {
      key
      name
      teams {
        key
      }
    }
  }
`);

const Save = graphql(`
  mutation AdminSetWorkflowTeams($workflow: String!, $teams: [String!]!) {
    setWorkflowTeams(workflow: $workflow, teams: $teams) {
      __typename
      ... on WorkflowSuccess {
        workflow {
          teams {
            key
          }
        }
      }
      ...AdminRefusal
    }
  }
`);

/** "Open to every user of a fitting role" or "Only the members of a and b (and admins)". */
export function whoReviews(teams: string[]): string {
  if (teams.length === 0) return "No teams: its items are open to every user of a fitting role.";
  const named = teams.length === 1 ? `team ${teams[0]}` : `teams ${teams.slice(0, -1).join(", ")} and ${teams[teams.length - 1]}`;
  return `Only the members of ${named} (and admins) see, claim and decide its items.`;
}

export function WorkflowTeams({
  client,
  workflow,
  teams,
  round,
  changed,
}: {
  client: ApiClient;
  workflow: string;
  /** Every team, to choose from. */
  teams: { key: string; name: string }[];
  round: number;
  changed: () => void;
}) {
  const current = useQuery(client, Current, { workflow });
  const saved = current.data?.workflow?.teams.map((t) => t.key) ?? [];
  const [chosen, setChosen] = useState<string[] | null>(null);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [busy, setBusy] = useState(false);
  const reload = current.reload;
  useEffect(() => {
    if (round > 0) reload();
  }, [round, reload]);

  const ticked = chosen ?? saved;
  const toggle = (key: string, on: boolean) =>
    setChosen(on ? [...ticked.filter((k) => k !== key), key] : ticked.filter((k) => k !== key));

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      const { setWorkflowTeams: answer } = await client.request(Save, { workflow, teams: ticked });
      setTrouble(troubleOf(answer));
      if (answer.__typename === "WorkflowSuccess") {
        setChosen(null);
        changed();
      }
    } catch (error) {
      setTrouble(troubleFromError(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="adm-form" onSubmit={save} aria-labelledby="adm-workflow-teams" noValidate>
      <h3 id="adm-workflow-teams">Who reviews {current.data?.workflow?.name ?? workflow}</h3>
      <ProblemNote trouble={current.trouble} />
      <p>{whoReviews(saved)}</p>
      {teams.length === 0 ? (
        <p class="adm-note">Create a team first to pin this workflow to it.</p>
      ) : (
        <>
          <fieldset class="adm-choice" aria-invalid={trouble?.field === "teams"}>
            <legend>Teams that review {workflow}</legend>
            {teams.map((team) => (
              <label key={team.key}>
                <input type="checkbox" checked={ticked.includes(team.key)} onChange={(e) => toggle(team.key, e.currentTarget.checked)} />{" "}
                {team.name} ({team.key})
              </label>
            ))}
          </fieldset>
          <ProblemNote trouble={trouble} />
          <button type="submit" disabled={busy}>
            Save the workflow's teams
          </button>
        </>
      )}
    </form>
  );
}
