/**
 * What an admin does to one user, each behind a step of its own: issue a token (optional
 * expiry; the token is shown once by the Users screen), revoke every token, deactivate
 * (never oneself: that would lock the admin out).
 */
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";

const Deactivate = graphql(`
  mutation AdminDeactivateUser($id: ID!) {
    deactivateUser(id: $id) {
      __typename
      ...AdminRefusal
    }
  }
`);

const Revoke = graphql(`
  mutation AdminRevokeTokens($user: ID!) {
    revokeTokens(user: $user) {
      __typename
      ...AdminRefusal
    }
  }
`);

const Issue = graphql(`
  mutation AdminIssueToken($user: ID!, $expiresInSeconds: Int) {
    issueToken(user: $user, expiresInSeconds: $expiresInSeconds) {
      __typename
      ... on TokenSuccess {
        token
        expiresAt
      }
      ...AdminRefusal
    }
  }
`);

export type Step = "issue" | "revoke" | "deactivate";

const EXPIRIES: [string, string][] = [
  ["", "Never"],
  ["3600", "In an hour"],
  ["86400", "In a day"],
  ["604800", "In a week"],
  ["2592000", "In 30 days"],
  ["7776000", "In 90 days"],
];

export interface Person {
  id: string;
  name: string;
  active: boolean;
}

/** What happened, for the screen: a sentence, and a fresh token when one was issued. */
export interface Outcome {
  said: string;
  token?: { name: string; value: string; expiresAt: string | null };
}

interface Props {
  client: ApiClient;
  person: Person;
  self: boolean;
  /** The step open for this user, if any (one at a time on the page). */
  step: Step | null;
  open: (step: Step | null) => void;
  done: (outcome: Outcome) => void;
}

export function UserActions({ client, person, self, step, open, done }: Props) {
  const [expiry, setExpiry] = useState("");
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [busy, setBusy] = useState(false);
  const expiryField = useRef<HTMLSelectElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    (expiryField.current ?? confirmButton.current)?.focus();
  }, [step]);

  async function run(action: () => Promise<Outcome | Trouble>) {
    setBusy(true);
    try {
      const result = await action();
      if ("said" in result) {
        setTrouble(null);
        open(null);
        done(result);
      } else {
        setTrouble(result);
      }
    } catch (error) {
      setTrouble(troubleFromError(error));
    } finally {
      setBusy(false);
    }
  }

  const issue = () =>
    run(async () => {
      const seconds = expiry === "" ? null : Number(expiry);
      const { issueToken: answer } = await client.request(Issue, { user: person.id, expiresInSeconds: seconds });
      if (answer.__typename !== "TokenSuccess") return troubleOf(answer)!;
      return {
        said: `A new token for ${person.name}.`,
        token: { name: person.name, value: answer.token, expiresAt: answer.expiresAt ?? null },
      };
    });
  const revoke = () =>
    run(async () => {
      const { revokeTokens: answer } = await client.request(Revoke, { user: person.id });
      return troubleOf(answer) ?? { said: `Every token of ${person.name} is revoked.` };
    });
  const deactivate = () =>
    run(async () => {
      const { deactivateUser: answer } = await client.request(Deactivate, { id: person.id });
      return troubleOf(answer) ?? { said: `${person.name} is deactivated: their tokens are refused from now on.` };
    });

  const cancel = (
    <button type="button" onClick={() => open(null)}>
      Cancel
    </button>
  );
  const who = <span class="visually-hidden"> {person.name}</span>;

  if (step === "issue") {
    return (
      <div class="adm-row" role="group" aria-label={`Issue a token for ${person.name}`}>
        <label class="adm-inline">
          Expires
          <select ref={expiryField} value={expiry} onChange={(e) => setExpiry(e.currentTarget.value)}>
            {EXPIRIES.map(([seconds, words]) => (
              <option key={seconds} value={seconds}>
                {words}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={busy} onClick={issue}>
          Issue the token
        </button>
        {cancel}
        <ProblemNote trouble={trouble} />
      </div>
    );
  }
  if (step === "revoke" || step === "deactivate") {
    const revoking = step === "revoke";
    return (
      <div class="adm-row" role="group" aria-label={`${revoking ? "Revoke the tokens of" : "Deactivate"} ${person.name}`}>
        <span>
          {revoking
            ? `Refuse every token of ${person.name} from now on${self ? ", this session's too" : ""}?`
            : `Deactivate ${person.name}? Their tokens are refused at once.`}
        </span>
        <button type="button" ref={confirmButton} class="adm-danger" disabled={busy} onClick={revoking ? revoke : deactivate}>
          {revoking ? "Revoke all tokens" : "Deactivate"}
          {who}
        </button>
        {cancel}
        <ProblemNote trouble={trouble} />
      </div>
    );
  }
  return (
    <div class="adm-row">
      <button type="button" onClick={() => open("issue")} disabled={!person.active}>
        Issue token{who}…
      </button>
      <button type="button" onClick={() => open("revoke")}>
        Revoke all tokens{who}…
      </button>
      {person.active && !self && (
        <button type="button" onClick={() => open("deactivate")}>
          Deactivate{who}…
        </button>
      )}
      <ProblemNote trouble={trouble} />
    </div>
  );
}
