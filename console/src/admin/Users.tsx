/**
 * Users: create one with a role (its bearer token is shown once, with a copy button), and
 * every user, deactivated ones too, with their teams; per user, issue a token, revoke
 * every token, or deactivate them (UserActions).
 */
import { useEffect, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import type { Role } from "../gql/graphql";
import { when, words } from "./format";
import { useQuery } from "./hooks";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";
import { Secret } from "./Secret";
import { TableHead } from "./TableHead";
import { UserActions, type Outcome, type Step } from "./UserActions";

const CreateUser = graphql(`
  mutation AdminCreateUser($name: String!, $role: Role!) {
    createUser(name: $name, role: $role) {
      __typename
      ... on UserSuccess {
        token
        user {
          id
          name
          role
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

const Everyone = graphql(`
  query AdminUsers {
    me {
      id
    }
    users(includeInactive: true) {
      id
      name
      role
      active
      teams {
        key
      }
    }
  }
`);

const ROLES: Role[] = ["ANALYST", "SENIOR", "ADMIN", "SERVICE"];

export function Users({ client, round, changed }: { client: ApiClient; round: number; changed: () => void }) {
  const everyone = useQuery(client, Everyone, {});
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("ANALYST");
  const [busy, setBusy] = useState(false);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [fresh, setFresh] = useState<Outcome["token"] | null>(null);
  const [said, setSaid] = useState("");
  const [open, setOpen] = useState<{ user: string; step: Step } | null>(null);
  const reload = everyone.reload;
  useEffect(() => {
    if (round > 0) reload();
  }, [round, reload]);

  async function create(event: Event) {
    event.preventDefault();
    setBusy(true);
    setFresh(null);
    try {
      const { createUser: answer } = await client.request(CreateUser, { name: name.trim(), role });
      setTrouble(troubleOf(answer));
      if (answer.__typename === "UserSuccess") {
        setFresh({ name: answer.user.name, value: answer.token, expiresAt: null });
        setSaid(`${answer.user.name} created.`);
        setName("");
        changed();
      }
    } catch (error) {
      setTrouble(troubleFromError(error));
    } finally {
      setBusy(false);
    }
  }

  const done = (outcome: Outcome) => {
    setSaid(outcome.said);
    setFresh(outcome.token ?? null);
    changed();
  };
  const me = everyone.data?.me?.id ?? null;
  const users = everyone.data?.users ?? [];

  return (
    <section class="adm-section" aria-labelledby="adm-users">
      <h2 id="adm-users">Users</h2>
      <form class="adm-form" onSubmit={create} aria-label="New user" noValidate>
        <div class="adm-row">
          <label>
            Name
            <input value={name} aria-invalid={trouble?.field === "name"} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {words(r)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={busy}>
            Create user
          </button>
        </div>
        <ProblemNote trouble={trouble} />
      </form>
      <p role="status" class="adm-done">
        {said}
      </p>
      {fresh && (
        <>
          <Secret label={`Bearer token for ${fresh.name}`} value={fresh.value} copyLabel="Copy token" />
          <p class="adm-note">{fresh.expiresAt ? `It expires ${when(fresh.expiresAt)}.` : "It does not expire."}</p>
        </>
      )}
      <ProblemNote trouble={everyone.trouble} />
      {everyone.data && (
        <table class="adm-table">
          <caption>Every user, oldest first</caption>
          <TableHead columns={["Name", "Role", "Status", "Teams", "Id"]} actions="Actions" />
          <tbody>
            {users.map((u) => (
              <tr key={u.id} class={u.active ? undefined : "adm-inactive"}>
                <th scope="row">
                  {u.name}
                  {u.id === me && <span class="adm-note"> (you)</span>}
                </th>
                <td>{words(u.role)}</td>
                <td>{u.active ? "Active" : "Deactivated"}</td>
                <td>{u.teams.length === 0 ? "–" : u.teams.map((t) => t.key).join(", ")}</td>
                <td>
                  <code>{u.id}</code>
                </td>
                <td>
                  <UserActions
                    client={client}
                    person={u}
                    self={u.id === me}
                    step={open?.user === u.id ? open.step : null}
                    open={(step) => setOpen(step ? { user: u.id, step } : null)}
                    done={done}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
