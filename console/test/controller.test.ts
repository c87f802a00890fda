/**
 * The review session (src/review/controller.ts) against a real `arbiter serve`: what a
 * reviewer's keys do, read back from the server. Each test makes its own workflow.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ADMIN, createUser, createWorkflow, gql, stored, submit, until, type WorkflowSpec } from "./support";
import { ApiClient } from "../src/api/client";
import { ReviewController, type ReviewState } from "../src/review/controller";

const clients: ApiClient[] = [];
const sessions: ReviewController[] = [];

after(() => {
  for (const session of sessions) session.stop();
  for (const client of clients) client.close();
});

interface Review {
  session: ReviewController;
  workflow: string;
  items: Array<{ id: string; externalId: string; version: number }>;
  reviewer: { id: string; name: string; role: string; token: string };
}

/** A workflow with these items (most urgent first) and a reviewer who opened it. */
async function review(
  externalIds: string[],
  spec: WorkflowSpec = {},
  fields: Record<string, unknown> = {},
  role: "ANALYST" | "SENIOR" | "ADMIN" = "SENIOR",
): Promise<Review> {
  const workflow = await createWorkflow(spec);
  const items = await submit(workflow, externalIds.map((externalId) => ({ externalId, ...fields })));
  const reviewer = await createUser(`rev-${workflow}`, role);
  const session = await open(workflow, reviewer);
  await until(session, (s) => s.current?.externalId === externalIds[0], `${externalIds[0]} to open`);
  return { session, workflow, items, reviewer };
}

async function open(workflow: string, user: { id: string; name: string; role: string; token: string }): Promise<ReviewController> {
  const client = new ApiClient(user.token, `${process.env.ARBITER_TEST_URL}/graphql`);
  clients.push(client);
  client.socket();
  const session = new ReviewController(client, { id: user.id, name: user.name, role: user.role }, workflow);
  sessions.push(session);
  void session.start();
  return session;
}

const opened = (id: string) => (s: ReviewState) => s.current?.externalId === id && !s.opening;
const released = (id: string) => (s: ReviewState) =>
  s.queue.items.some((item) => item.externalId === id && item.claim === null);

test("opening a workflow claims its most urgent item and lists the queue most urgent first", async () => {
  const { session, items, reviewer } = await review(["a-1", "a-2", "a-3"]);
  const state = await until(session, (s) => s.queue.items.length === 3, "the queue");
  assert.deepEqual(state.queue.items.map((item) => item.externalId), ["a-1", "a-2", "a-3"]);
  assert.equal((await stored(items[0].id)).claim.reviewer.name, reviewer.name);
  assert.equal(state.queue.items[0].claim?.reviewer.name, reviewer.name);
});

test("an approval is sent with the version seen, moves on to the next item, and can be undone", async () => {
  const { session, items, reviewer } = await review(["b-1", "b-2"]);
  session.approve();
  let state = await until(session, opened("b-2"), "b-2 to open after the approval");
  assert.match(state.notice?.text ?? "", /Approved b-1/);
  assert.equal((await stored(items[0].id)).status, "APPROVED");
  assert.equal((await stored(items[1].id)).claim.reviewer.name, reviewer.name);
  assert.ok(state.last && state.last.deadline > Date.now(), "the undo window is open");

  await session.undo();
  state = await until(session, opened("b-1"), "b-1 to open again after the undo");
  assert.equal(state.last, null);
  const b1 = await stored(items[0].id);
  assert.equal(b1.status, "CLAIMED");
  assert.deepEqual(b1.decisions.map((d: { verdict: string; undone: boolean }) => [d.verdict, d.undone]), [
    ["APPROVE", true],
    ["UNDO", false],
  ]);
  await until(session, released("b-2"), "b-2's release to be told"); // sent without waiting
  assert.equal((await stored(items[1].id)).claim, null, "b-2's claim was given back");
});

test("moving with j and k claims the item and gives back the one left behind", async () => {
  const { session, items } = await review(["c-1", "c-2", "c-3"]);
  await until(session, (s) => s.queue.items.length === 3, "the queue");
  session.move(1);
  await until(session, opened("c-2"), "c-2");
  session.move(-1);
  await until(session, opened("c-1"), "c-1");
  await until(session, released("c-2"), "c-2's release to be told"); // sent without waiting
  const [c1, c2] = await Promise.all([stored(items[0].id), stored(items[1].id)]);
  assert.equal(c1.status, "CLAIMED");
  assert.equal(c2.claim, null);
  session.move(-1);
  const state = await until(session, (s) => /first item/.test(s.notice?.text ?? ""), "the first-item notice");
  assert.equal(state.current?.externalId, "c-1");
});

test("reject takes an optional reason, flag insists on a note and keeps the item listed as flagged", async () => {
  const { session, items } = await review(["d-1", "d-2", "d-3"]);
  session.startPanel("reject");
  session.submitPanel();
  await until(session, opened("d-2"), "d-2 after the rejection");
  assert.equal((await stored(items[0].id)).status, "REJECTED");

  session.startPanel("flag");
  session.submitPanel();
  let state = await until(session, (s) => s.problem !== null, "a problem for the empty note");
  assert.match(state.problem ?? "", /note/);
  assert.equal((await stored(items[1].id)).decisions.length, 0, "nothing was decided");
  session.setReason("ask the branch");
  session.submitPanel();
  state = await until(session, opened("d-3"), "d-3 after the flag");
  const flagged = state.queue.items.find((item) => item.externalId === "d-2");
  assert.equal(flagged?.status, "FLAGGED");
  assert.deepEqual((await stored(items[1].id)).decisions.map((d: { reason: string }) => d.reason), ["ask the branch"]);

  session.setFilters({ tier: null, status: "FLAGGED" });
  state = await until(session, (s) => s.queue.items.length === 1 && !s.loadingQueue, "the flagged filter");
  assert.equal(state.queue.items[0].externalId, "d-2");
});

test("an override picks the action by its number, refuses the proposal, and needs a reason", async () => {
  const { session, items } = await review(["e-1", "e-2"], { actions: ["approve_loan", "decline_loan", "refer"] });
  session.startPanel("override");
  session.pickAction(1);
  let state = await until(session, (s) => s.problem !== null, "the proposal refused");
  assert.match(state.problem ?? "", /is the proposal/);
  session.pickAction(3);
  state = await until(session, (s) => s.panel.kind === "override" && s.panel.step === "reason", "the reason step");
  session.submitPanel();
  state = await until(session, (s) => /Say why/.test(s.problem ?? ""), "the reason asked for");
  session.setReason("branch knows them");
  session.submitPanel();
  await until(session, opened("e-2"), "e-2 after the override");
  const [decision] = (await stored(items[0].id)).decisions;
  assert.equal(decision.verdict, "OVERRIDE");
  assert.equal(decision.finalAction, "refer");
  assert.equal(decision.reason, "branch knows them");
});

test("a verdict the workflow does not offer is refused on screen and not sent", async () => {
  const { session, items } = await review(["f-1"], { reviewerRole: "VERIFIER" });
  session.startPanel("override");
  assert.match(session.state.problem ?? "", /do not override/);
  session.startPanel("edit");
  assert.match(session.state.problem ?? "", /drafts/);
  assert.equal(session.state.panel.kind, "none");
  assert.equal((await stored(items[0].id)).decisions.length, 0);
});

test("a high-stakes approval waits for the confirmation, then is sent again with its token", async () => {
  const { session, items } = await review(["g-1", "g-2"], { policy: { highStakesAt: 1000 } }, { stakes: 5000 });
  session.approve();
  let state = await until(session, (s) => s.confirm !== null, "the confirmation");
  assert.equal(state.confirm?.request.verb, "approve");
  assert.equal((await stored(items[0].id)).status, "AWAITING_CONFIRMATION");
  session.cancelConfirm();
  assert.match(session.state.notice?.text ?? "", /nothing was decided/);
  assert.equal((await stored(items[0].id)).decisions.length, 0);

  session.approve();
  await until(session, (s) => s.confirm !== null, "the confirmation, asked again");
  session.confirmDecision();
  state = await until(session, opened("g-2"), "g-2 after the confirmed approval");
  assert.equal((await stored(items[0].id)).status, "APPROVED");
});

test("a decision faster than the policy's minimum dwell gets a gentle note", async () => {
  const { session } = await review(["h-1", "h-2"], { policy: { minDwellMs: 600_000 } });
  session.approve();
  const state = await until(session, opened("h-2"), "h-2");
  assert.match(state.dwellNote ?? "", /you decided this in \d+\.\d s/);
});

test("an item decided elsewhere says who decided it and moves on, and nothing is decided twice", async () => {
  const { session, items } = await review(["i-1", "i-2"]);
  const other = await createUser(`other-${Date.now()}`, "ADMIN");
  // An admin may take back anyone's claim, then decide.
  await gql(other.token, `mutation($id: ID!) { release(id: $id) { __typename } }`, { id: items[0].id });
  const answer = await gql(other.token, `mutation($id: ID!) { approve(id: $id) { __typename } }`, { id: items[0].id });
  assert.equal(answer.approve.__typename, "DecisionSuccess");
  const state = await until(session, opened("i-2"), "i-2 after i-1 was decided elsewhere");
  assert.match(state.notice?.text ?? "", new RegExp(`i-1 was approved by ${other.name}`));
  assert.ok(!state.queue.items.some((item) => item.externalId === "i-1"), "i-1 left the queue");
  session.approve();
  await until(session, (s) => s.current === null && !s.opening, "the queue to run out");
  assert.equal((await stored(items[0].id)).decisions.length, 1);
});

test("a stale version is a conflict that names who decided the item and moves on", async () => {
  const { session, items } = await review(["j-1", "j-2"]);
  const other = await createUser(`late-${Date.now()}`, "ADMIN");
  await gql(other.token, `mutation($id: ID!) { release(id: $id) { __typename } }`, { id: items[0].id });
  await gql(other.token, `mutation($id: ID!) { reject(id: $id) { __typename } }`, { id: items[0].id });
  await until(session, opened("j-2"), "j-2 once the event told of j-1");
  // A decision sent from a screen that still showed j-1 as it claimed it (say, a second tab).
  const stale = {
    verb: "approve" as const,
    itemId: items[0].id,
    version: items[0].version + 1,
    label: "j-1",
    proposedAction: "approve_loan",
    stakes: null,
  };
  await session.decide(stale);
  const state = await until(session, (s) => /j-1 was already rejected by/.test(s.notice?.text ?? ""), "who decided j-1");
  assert.match(state.notice?.text ?? "", new RegExp(`by ${other.name} — moving on`));
  assert.deepEqual((await stored(items[0].id)).decisions.map((d: { verdict: string }) => d.verdict), ["REJECT"]);
});

test("a failed decision stays with its error and is sent again by retry", async () => {
  const { session, items } = await review(["k-1", "k-2"]);
  // The network fails: the session's client is swapped for one whose server is not
  // there (nothing listens on port 9), then given back.
  const broken = new ApiClient("x", "http://127.0.0.1:9/graphql");
  const healthy = (session as unknown as { client: ApiClient }).client;
  (session as unknown as { client: ApiClient }).client = broken;
  session.approve();
  let state = await until(session, (s) => s.failed !== null, "the failure");
  assert.match(state.failed?.message ?? "", /could not be reached/);
  assert.equal((await stored(items[0].id)).decisions.length, 0);
  (session as unknown as { client: ApiClient }).client = healthy;
  session.retry();
  state = await until(session, opened("k-2"), "k-2 after the retry");
  assert.equal(state.failed, null);
  assert.equal((await stored(items[0].id)).status, "APPROVED");
});

test("a draft is re-scored while it is edited and shipped only after Ship it?", async () => {
  const { session, items } = await review(
    ["m-1"],
    { kind: "DRAFT", reviewerRole: "EDITOR", actions: ["send", "hold"], scoreLabel: "open rate" },
    { proposedAction: "send", draft: "Hello there", predictedScore: 0.22 },
  );
  session.startPanel("edit");
  session.editChanged("Hello there, friend");
  let state = await until(
    session,
    (s) => s.panel.kind === "edit" && !s.panel.preview.pending && s.panel.content === "Hello there, friend",
    "the preview",
  );
  const preview = state.panel.kind === "edit" ? state.panel.preview : null;
  assert.ok(preview?.line || preview?.message, "the preview says a score or why there is none");
  session.submitPanel();
  assert.equal(session.state.panel.kind === "edit" && session.state.panel.asking, true, "Ship it? is asked");
  assert.equal((await stored(items[0].id)).decisions.length, 0, "nothing shipped yet");
  session.submitPanel();
  state = await until(session, (s) => s.current === null && !s.opening, "the edit to ship");
  const [decision] = (await stored(items[0].id)).decisions;
  assert.equal(decision.verdict, "EDIT");
  assert.equal((await stored(items[0].id)).status, "EDITED");
});

test("my stats show this reviewer's own row once they decided", async () => {
  const { session } = await review(["n-1", "n-2"]);
  session.approve();
  const state = await until(session, (s) => (s.stats?.decisions ?? 0) >= 1, "my stats");
  assert.equal(state.stats?.decisions, 1);
});

test("an analyst is not offered senior items and sees the queue end plainly", async () => {
  const workflow = await createWorkflow();
  await submit(workflow, [{ externalId: "s-1", confidence: 0.6 }]);
  const analyst = await createUser(`ann-${workflow}`, "ANALYST");
  const session = await open(workflow, analyst);
  const state = await until(session, (s) => s.empty !== null, "the empty queue");
  assert.equal(state.current, null);
  assert.equal(state.queue.items.length, 0);
  assert.match(state.empty ?? "", /nothing is waiting/i);
  assert.ok(ADMIN, "the admin token is set");
});

test("a reviewer told that nothing waits gets the next item as soon as one arrives", async () => {
  const workflow = await createWorkflow();
  const reviewer = await createUser(`wait-${workflow}`, "SENIOR");
  const session = await open(workflow, reviewer);
  await until(session, (s) => s.empty !== null, "the empty queue");
  const [item] = await submit(workflow, [{ externalId: "w-1" }]);
  await until(session, opened("w-1"), "w-1 to open by itself");
  assert.equal((await stored(item.id)).claim.reviewer.name, reviewer.name);
});
