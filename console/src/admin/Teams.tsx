/**
 * Teams: every team with its members and the workflows it reviews; create one (key, name,
 * members chosen from the active users); replace a team's members; and, for the workflow
 * chosen on the admin page, the teams that review it (WorkflowTeams).
 */
import { useEffect, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { words } from "./format";
import { useQuery } from "./hooks";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";
import { TableHead } from "./TableHead";
import { WorkflowTeams } from "./WorkflowTeams";

const List = graphql(`
  query AdminTeams {
    teams {
      id
      key
      name
      members {
        id
        name
        active
      }
      workflows {
        key
        name
      }
    }
    users {
      id
      name
      role
    }
  }
`);

const Create = graphql(`
  mutation AdminCreateTeam($key: String!, $name: String!, $members: [ID!]) {
    createTeam(key: $key, name: $name, members: $members) {
      __typename
      ... on TeamSuccess {
        team {
          key
        }
      }
      ...AdminRefusal
    }
  }
`);

const SetMembers = graphql(`
  mutation AdminSetTeamMembers($team: String!, $members: [ID!]!) {
    setTeamMembers(team: $team, members: $members) {
      __typename
      ...AdminRefusal
    }
  }
`);

type Person = { id: string; name: string; role: string };

/** One checkbox per user; `chosen` are the ticked ids. */
function MemberPicker({
  legend,
  people,
  chosen,
  onChange,
  invalid,
}: {
  legend: string;
  people: Person[];
  chosen: string[];
  onChange: (ids: string[]) => void;
  invalid: boolean;
}) {
  const toggle = (id: string, on: boolean) => onChange(on ? [...chosen.filter((c) => c !== id), id] : chosen.filter((c) => c !== id));
  return (
    <fieldset class="adm-choice" aria-invalid={invalid}>
      <legend>{legend}</legend>
      {people.length === 0 && <span class="adm-note">No users yet.</span>}
      {people.map((person) => (
        <label key={person.id}>
          <input type="checkbox" checked={chosen.includes(person.id)} onChange={(e) => toggle(person.id, e.currentTarget.checked)} />{" "}
          {person.name} <span class="adm-note">({words(person.role)})</span>
        </label>
      ))}
    </fieldset>
  );
}

export function Teams({
  client,
  workflow,
  round,
  changed,
}: {
  client: ApiClient;
  /** The workflow chosen on the admin page, if any. */
  workflow: string | null;
  /** Bumped when people or teams changed elsewhere on the page: read them again. */
  round: number;
  changed: () => void;
}) {
  const list = useQuery(client, List, {});
  const [key, setKey] = useState("");
  const [name, setName] = useState("");
  const [members, setMembers] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [editing, setEditing] = useState<{ team: string; members: string[] } | null>(null);
  const [editTrouble, setEditTrouble] = useState<Trouble | null>(null);
  const [said, setSaid] = useState("");
  const reload = list.reload;
  useEffect(() => {
    if (round > 0) reload();
  }, [round, reload]);

  const teams = list.data?.teams ?? [];
  const people = (list.data?.users ?? []).filter((u) => u.role !== "SERVICE");

  async function create(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      const { createTeam: answer } = await client.request(Create, { key: key.trim(), name: name.trim(), members });
      setTrouble(troubleOf(answer));
      if (answer.__typename === "TeamSuccess") {
        setSaid(`Team ${answer.team.key} created.`);
        setKey("");
        setName("");
        setMembers([]);
        changed();
      }
    } catch (error) {
      setTrouble(troubleFromError(error));
    } finally {
      setBusy(false);
    }
  }

  async function saveMembers(event: Event) {
    event.preventDefault();
    if (!editing) return;
    try {
      const { setTeamMembers: answer } = await client.request(SetMembers, editing);
      setEditTrouble(troubleOf(answer));
      if (answer.__typename === "TeamSuccess") {
        setSaid(`The members of ${editing.team} are saved.`);
        setEditing(null);
        changed();
      }
    } catch (error) {
      setEditTrouble(troubleFromError(error));
    }
  }

  return (
    <section class="adm-section" aria-labelledby="adm-teams">
      <h2 id="adm-teams">Teams</h2>
      <ProblemNote trouble={list.trouble} />
      <p role="status" class="adm-done">
        {said}
      </p>
      {list.data && teams.length === 0 && <p>No teams yet: every workflow is open to every user of a fitting role.</p>}
      {teams.length > 0 && (
        <table class="adm-table">
          <caption>Every team</caption>
          <TableHead columns={["Key", "Name", "Members", "Reviews"]} actions="Actions" />
          <tbody>
            {teams.map((team) => (
              <tr key={team.id}>
                <td>
                  <code>{team.key}</code>
                </td>
                <td>{team.name}</td>
                <td>
                  {team.members.length === 0
                    ? "nobody"
                    : team.members.map((m) => (m.active ? m.name : `${m.name} (deactivated)`)).join(", ")}
                </td>
                <td>{team.workflows.length === 0 ? "no workflow" : team.workflows.map((w) => w.key).join(", ")}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => {
                      setEditTrouble(null);
                      setEditing({ team: team.key, members: team.members.map((m) => m.id) });
                    }}
                  >
                    Edit members<span class="visually-hidden"> of {team.key}</span>…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && (
        <form class="adm-form" onSubmit={saveMembers} aria-label={`Members of ${editing.team}`} noValidate>
          <MemberPicker
            legend={`Members of ${editing.team}`}
            people={people}
            chosen={editing.members}
            onChange={(ids) => setEditing({ ...editing, members: ids })}
            invalid={editTrouble?.field === "members"}
          />
          <ProblemNote trouble={editTrouble} />
          <div class="adm-row">
            <button type="submit">Save members</button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}

      <h3>New team</h3>
      <form class="adm-form" onSubmit={create} aria-label="New team" noValidate>
        <div class="adm-row">
          <label>
            Team key
            <input value={key} aria-invalid={trouble?.field === "key"} onInput={(e) => setKey(e.currentTarget.value)} />
          </label>
          <label>
            Team name
            <input value={name} aria-invalid={trouble?.field === "name"} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
        </div>
        <ProblemNote trouble={trouble} field="key" />
        <ProblemNote trouble={trouble} field="name" />
        <MemberPicker legend="Members" people={people} chosen={members} onChange={setMembers} invalid={trouble?.field === "members"} />
        <ProblemNote trouble={trouble} field="members" />
        {trouble && !["key", "name", "members"].includes(trouble.field ?? "") && <ProblemNote trouble={trouble} />}
        <button type="submit" disabled={busy}>
          Create team
        </button>
      </form>

      {workflow !== null && (
        <WorkflowTeams key={workflow} client={client} workflow={workflow} teams={teams} round={round} changed={changed} />
      )}
    </section>
  );
}
