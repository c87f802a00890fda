/**
 * Webhooks: register one (URL and the event kinds it receives; the signing secret is
 * shown once, with a copy button), list the workflow's webhooks with their latest
 * deliveries (status, attempts, last error), and stop one.
 */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import type { QueueEventKind } from "../gql/graphql";
import { when, words } from "./format";
import { useQuery } from "./hooks";
import { ProblemNote, troubleFromError, troubleOf, type Trouble } from "./problems";
import { Secret } from "./Secret";

const List = graphql(`
  query AdminWebhooks($workflow: String!) {
    webhooks(workflow: $workflow) {
      id
      url
      events
      createdAt
      deliveries(first: 20) {
        eventId
        eventKind
        status
        attempts
        lastError
        lastAttemptAt
        deliveredAt
        nextAttemptAt
        createdAt
      }
    }
  }
`);

const Register = graphql(`
  mutation AdminCreateWebhook($workflow: String!, $url: String!, $events: [QueueEventKind!]!) {
    createWebhook(workflow: $workflow, url: $url, events: $events) {
      __typename
      ... on WebhookSuccess {
        secret
        webhook {
          id
          url
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

const Remove = graphql(`
  mutation AdminDeleteWebhook($id: ID!) {
    deleteWebhook(id: $id) {
      __typename
      ... on Problem {
        message
      }
    }
  }
`);

// CHECKPOINT: the workflow's signed log checkpoints, for a witness that keeps them.
const KINDS: QueueEventKind[] = [
  "ADDED",
  "CLAIMED",
  "RELEASED",
  "DECIDED",
  "FLAGGED",
  "ESCALATED",
  "ASSIGNED",
  "VOTED",
  "CHECKPOINT",
];

export function Webhooks({ client, workflow }: { client: ApiClient; workflow: string }) {
  const list = useQuery(client, List, { workflow });
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<QueueEventKind[]>(["DECIDED"]);
  const [busy, setBusy] = useState(false);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [fresh, setFresh] = useState<{ url: string; secret: string } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [removeTrouble, setRemoveTrouble] = useState<Trouble | null>(null);

  async function register(event: Event) {
    event.preventDefault();
    setBusy(true);
    setFresh(null);
    try {
      const ordered = KINDS.filter((k) => events.includes(k));
      const { createWebhook: answer } = await client.request(Register, { workflow, url: url.trim(), events: ordered });
      setTrouble(troubleOf(answer));
      if (answer.__typename === "WebhookSuccess") {
        if (answer.secret) setFresh({ url: answer.webhook.url, secret: answer.secret });
        setUrl("");
        list.reload();
      }
    } catch (error) {
      setTrouble(troubleFromError(error));
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: string) {
    try {
      const { deleteWebhook: answer } = await client.request(Remove, { id });
      setRemoveTrouble(troubleOf(answer));
    } catch (error) {
      setRemoveTrouble(troubleFromError(error));
    }
    setRemoving(null);
    list.reload();
  }

  const toggle = (kind: QueueEventKind, on: boolean) =>
    setEvents((now) => (on ? [...now.filter((k) => k !== kind), kind] : now.filter((k) => k !== kind)));
  const hooks = list.data?.webhooks ?? [];

  return (
    <section class="adm-section" aria-labelledby="adm-webhooks">
      <h2 id="adm-webhooks">Webhooks</h2>
      <form class="adm-form" onSubmit={register} noValidate>
        <label>
          URL
          <input
            type="url"
            value={url}
            placeholder="https://example.com/arbiter"
            aria-invalid={trouble?.field === "url"}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        </label>
        <ProblemNote trouble={trouble} field="url" />
        <fieldset class="adm-choice">
          <legend>Event kinds</legend>
          {KINDS.map((kind) => (
            <label key={kind}>
              <input type="checkbox" checked={events.includes(kind)} onChange={(e) => toggle(kind, e.currentTarget.checked)} />{" "}
              {words(kind)}
            </label>
          ))}
        </fieldset>
        <ProblemNote trouble={trouble} field="events" />
        <div class="adm-row">
          <button type="submit" disabled={busy}>
            Register webhook
          </button>
          <button type="button" onClick={list.reload}>
            Refresh deliveries
          </button>
        </div>
        {trouble && trouble.field !== "url" && trouble.field !== "events" && <ProblemNote trouble={trouble} />}
      </form>
      {fresh && <Secret label={`Signing secret for ${fresh.url}`} value={fresh.secret} copyLabel="Copy secret" />}
      <ProblemNote trouble={list.trouble} />
      <ProblemNote trouble={removeTrouble} />
      {list.data && hooks.length === 0 && <p>No webhooks for this workflow.</p>}
      {hooks.map((hook) => (
        <article class="adm-webhook" key={hook.id} aria-label={`Webhook ${hook.url}`}>
          <h3>{hook.url}</h3>
          <p class="adm-note">
            {hook.events.map(words).join(", ")}; registered {when(hook.createdAt)}.
          </p>
          {removing === hook.id ? (
            <div class="adm-row">
              <span>Stop delivering to this URL? Pending deliveries end failed.</span>
              <button type="button" onClick={() => remove(hook.id)}>
                Delete webhook
              </button>
              <button type="button" onClick={() => setRemoving(null)}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" onClick={() => setRemoving(hook.id)}>
              Delete…
            </button>
          )}
          {hook.deliveries.length === 0 ? (
            <p class="adm-note">No deliveries yet.</p>
          ) : (
            <table class="adm-table">
              <caption>Latest deliveries</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Last attempt</th>
                  <th scope="col">Delivered / next attempt</th>
                </tr>
              </thead>
              <tbody>
                {hook.deliveries.map((d) => (
                  <tr key={d.eventId}>
                    <td>{words(d.eventKind)}</td>
                    <td class={d.status === "FAILED" ? "adm-problem-text" : undefined}>{words(d.status)}</td>
                    <td>{d.attempts}</td>
                    <td>{d.lastError ?? "–"}</td>
                    <td>{when(d.lastAttemptAt)}</td>
                    <td>{d.deliveredAt ? when(d.deliveredAt) : d.nextAttemptAt ? `next ${when(d.nextAttemptAt)}` : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </article>
      ))}
    </section>
  );
}
