/**
 * What the console's Node tests share: a browser-like global scope for the modules under
 * test (window timers, location, the `ws` WebSocket), GraphQL as an admin to set up
 * workflows and read back what was stored, and waiting for a controller's state.
 *
 * The server is a real `arbiter serve` started by tests/console_logic (ARBITER_TEST_URL,
 * with an admin's token in ARBITER_TEST_ADMIN_TOKEN).
 */
import { WebSocket } from "ws";

const globals = globalThis as unknown as Record<string, unknown>;
export const SERVER = process.env.ARBITER_TEST_URL ?? "";
globals.window = globalThis;
globals.location = { href: `${SERVER}/console/` };
globals.WebSocket = WebSocket;
globals.addEventListener ??= () => {};
globals.removeEventListener ??= () => {};

export const GRAPHQL = `${SERVER}/graphql`;

let counter = 0;
/** A name nobody used in this run: "loans-1712-3". */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Run a GraphQL document as the holder of `token`; its data, or an error. */
export async function gql<T = any>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(GRAPHQL, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data as T;
}

export const ADMIN = process.env.ARBITER_TEST_ADMIN_TOKEN ?? "";

export async function createUser(name: string, role: "ANALYST" | "SENIOR" | "ADMIN"): Promise<{ id: string; token: string; name: string; role: string }> {
  const data = await gql(
    ADMIN,
    `mutation($name: String!, $role: Role!) { createUser(name: $name, role: $role) {
       __typename ... on UserSuccess { token user { id name role } } ... on Problem { message } } }`,
    { name, role },
  );
  const result = data.createUser;
  if (result.__typename !== "UserSuccess") throw new Error(result.message);
  return { ...result.user, token: result.token };
}

export interface WorkflowSpec {
  kind?: "CLASSIFICATION" | "DRAFT";
  reviewerRole?: "VERIFIER" | "EDITOR" | "EXPERT";
  actions?: string[];
  scoreLabel?: string;
  policy?: Record<string, unknown>;
}

export async function createWorkflow(spec: WorkflowSpec = {}): Promise<string> {
  const key = unique("wf");
  const data = await gql(
    ADMIN,
    `mutation($input: WorkflowInput!) { createWorkflow(input: $input) {
       __typename ... on Problem { message } } }`,
    {
      input: {
        key,
        name: `Workflow ${key}`,
        kind: spec.kind ?? "CLASSIFICATION",
        reviewerRole: spec.reviewerRole ?? "EXPERT",
        actions: spec.actions ?? ["approve_loan", "decline_loan"],
        scoreLabel: spec.scoreLabel ?? null,
        policy: spec.policy ?? null,
      },
    },
  );
  if (data.createWorkflow.__typename !== "WorkflowSuccess") throw new Error(data.createWorkflow.message);
  return key;
}

/** Submit analyst-tier items in this order of urgency (each later one is less urgent). */
export async function submit(
  workflow: string,
  items: Array<{ externalId: string } & Record<string, unknown>>,
): Promise<Array<{ id: string; externalId: string; version: number }>> {
  const created = [];
  // One by one: the queue orders by slaDueAt, then createdAt, so each is less urgent.
  for (const item of items) {
    const data = await gql(
      ADMIN,
      `mutation($w: String!, $items: [RecommendationInput!]!) { submitRecommendations(workflow: $w, items: $items) {
         __typename ... on SubmitSuccess { recommendations { id externalId version } } ... on Problem { message } } }`,
      { w: workflow, items: [{ payload: { amount: 100 }, proposedAction: "approve_loan", confidence: 0.8, ...item }] },
    );
    const result = data.submitRecommendations;
    if (result.__typename !== "SubmitSuccess") throw new Error(result.message);
    created.push(result.recommendations[0]);
  }
  return created;
}

/** The item as stored: status, claim holder and decisions. */
export async function stored(id: string): Promise<any> {
  const data = await gql(
    ADMIN,
    `query($id: ID!) { recommendation(id: $id) { status version claim { reviewer { name } }
       decisions { verdict undone reason reasonTags finalAction actor { name } } } }`,
    { id },
  );
  return data.recommendation;
}

interface Listenable<S> {
  state: S;
  listen(listener: () => void): () => void;
}

/** Resolve with the state once `predicate` holds (checked on every change), or fail saying what was awaited. */
export function until<S>(subject: Listenable<S>, predicate: (state: S) => boolean, what: string, timeoutMs = 10_000): Promise<S> {
  return new Promise((resolve, reject) => {
    if (predicate(subject.state)) {
      resolve(subject.state);
      return;
    }
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`gave up waiting for ${what}; the state: ${describe(subject.state)}`));
    }, timeoutMs);
    const stop = subject.listen(() => {
      if (!predicate(subject.state)) return;
      clearTimeout(timer);
      stop();
      resolve(subject.state);
    });
  });
}

function describe(state: unknown): string {
  const s = state as Record<string, any>;
  return JSON.stringify({
    current: s.current?.externalId ?? null,
    panel: s.panel?.kind,
    notice: s.notice?.text ?? null,
    problem: s.problem ?? null,
    failed: s.failed?.message ?? null,
    empty: s.empty ?? null,
    queue: (s.queue?.items ?? []).map((item: { externalId: string }) => item.externalId),
  });
}
