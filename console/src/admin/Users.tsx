/**
 * Users: create one with a role; its bearer token is shown once, with a copy button.
 * The public API has no query listing users (`arbiter users list` does, on the server),
 * so the list here is the users created on this page.
 */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import type { Role } from "../gql/graphql";
import { words } from "./format";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";
import { Secret } from "./Secret";

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

const ROLES: Role[] = ["ANALYST", "SENIOR", "ADMIN", "SERVICE"];

interface Created {
  id: string;
  name: string;
  role: Role;
}

export function Users({ client }: { client: ApiClient }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("ANALYST");
  const [busy, setBusy] = useState(false);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [fresh, setFresh] = useState<{ name: string; token: string } | null>(null);
  const [created, setCreated] = useState<Created[]>([]);

  async function create(event: Event) {
    event.preventDefault();
    setBusy(true);
    setFresh(null);
    try {
      const { createUser: answer } = await client.request(CreateUser, { name: name.trim(), role });
      setTrouble(troubleOf(answer));
      if (answer.__typename === "UserSuccess") {
        setFresh({ name: answer.user.name, token: answer.token });
        setCreated((list) => [...list, answer.user]);
        setName("");
      }
    } catch (error) {
      setTrouble(troubleFromError(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="adm-section" aria-labelledby="adm-users">
      <h2 id="adm-users">Users</h2>
      <form class="adm-form" onSubmit={create} noValidate>
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
      {fresh && <Secret label={`Bearer token for ${fresh.name}`} value={fresh.token} copyLabel="Copy token" />}
      <h3>Created here</h3>
      {created.length === 0 ? (
        <p class="adm-note">
          None yet. The API lists no users; <code>arbiter users list</code> on the server lists them all.
        </p>
      ) : (
        <table class="adm-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {created.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>{words(u.role)}</td>
                <td>
                  <code>{u.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
