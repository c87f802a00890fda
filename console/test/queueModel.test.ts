import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyEvent,
  emptyQueue,
  heldByOther,
  matches,
  neighbour,
  replaceWithFetched,
  upsert,
  type Filters,
  type QueueEntry,
} from "../src/review/queueModel";

const ALL: Filters = { tier: null, status: null };
const NOW = Date.parse("2026-01-01T12:00:00Z");

function entry(id: string, fields: Partial<QueueEntry> = {}): QueueEntry {
  const n = Number(id.replace(/\D/g, "")) || 0;
  return {
    id,
    status: "PENDING",
    tier: "ANALYST_REVIEW",
    version: 1,
    slaDueAt: new Date(NOW + n * 60_000).toISOString(),
    createdAt: new Date(NOW - 3_600_000).toISOString(),
    claim: null,
    ...fields,
  };
}

function ids(items: QueueEntry[]): string[] {
  return items.map((item) => item.id);
}

test("items are listed most urgent first: by SLA, items without one last", () => {
  let queue = emptyQueue<QueueEntry>();
  for (const item of [entry("r3"), entry("r1"), entry("r9", { slaDueAt: null }), entry("r2")]) {
    queue = upsert(queue, item, ALL);
  }
  assert.deepEqual(ids(queue.items), ["r1", "r2", "r3", "r9"]);
});

test("an item decided elsewhere leaves the queue, and an older event cannot bring it back", () => {
  let queue = replaceWithFetched(emptyQueue<QueueEntry>(), [entry("r1"), entry("r2")], [], ALL);
  queue = applyEvent(queue, { id: "e2", recommendation: entry("r1", { status: "APPROVED", version: 3 }) }, ALL);
  assert.deepEqual(ids(queue.items), ["r2"]);
  queue = applyEvent(queue, { id: "e1", recommendation: entry("r1", { status: "CLAIMED", version: 2 }) }, ALL);
  assert.deepEqual(ids(queue.items), ["r2"]);
});

test("a claim made elsewhere changes the item in place", () => {
  let queue = replaceWithFetched(emptyQueue<QueueEntry>(), [entry("r1"), entry("r2")], [], ALL);
  const claim = { expiresAt: new Date(NOW + 900_000).toISOString(), reviewer: { id: "u-bob", name: "bob" } };
  queue = applyEvent(queue, { id: "e1", recommendation: entry("r2", { status: "CLAIMED", version: 2, claim }) }, ALL);
  assert.equal(queue.items[1].claim?.reviewer.name, "bob");
  assert.equal(heldByOther(queue.items[1], "u-ann", NOW), true);
  assert.equal(heldByOther(queue.items[1], "u-bob", NOW), false);
});

test("an event delivered twice is applied once", () => {
  let queue = replaceWithFetched(emptyQueue<QueueEntry>(), [entry("r1")], [], ALL);
  const event = { id: "e1", recommendation: entry("r5", { version: 1 }) };
  queue = applyEvent(queue, event, ALL);
  const again = applyEvent(queue, event, ALL);
  assert.equal(again, queue);
  assert.deepEqual(ids(again.items), ["r1", "r5"]);
});

test("a fresh read replaces the list, with the events that arrived meanwhile applied on top", () => {
  const before = replaceWithFetched(emptyQueue<QueueEntry>(), [entry("r1"), entry("r2")], [], ALL);
  const during = [
    { id: "e1", recommendation: entry("r3", { version: 1 }) },
    { id: "e2", recommendation: entry("r2", { status: "REJECTED", version: 4 }) },
    { id: "e3", recommendation: entry("r4", { status: "PENDING", version: 1 }) },
  ];
  // The read saw r2 still open (version 3) and r4 at a newer version than its event.
  const fetched = [entry("r2", { version: 3 }), entry("r4", { version: 2, status: "FLAGGED" }), entry("r6")];
  const after = replaceWithFetched(before, fetched, during, ALL);
  assert.deepEqual(ids(after.items), ["r3", "r4", "r6"]);
  assert.equal(after.items.find((item) => item.id === "r4")?.status, "FLAGGED");
});

test("filters keep a tier or a status; without one, every open status shows", () => {
  assert.equal(matches(entry("r1", { status: "FLAGGED" }), ALL), true);
  assert.equal(matches(entry("r1", { status: "NEEDS_DATA" }), ALL), false);
  assert.equal(matches(entry("r1", { status: "APPROVED" }), ALL), false);
  assert.equal(matches(entry("r1", { status: "FLAGGED" }), { tier: null, status: "FLAGGED" }), true);
  assert.equal(matches(entry("r1"), { tier: null, status: "FLAGGED" }), false);
  assert.equal(matches(entry("r1", { tier: "SENIOR_REVIEW" }), { tier: "ANALYST_REVIEW", status: null }), false);
});

test("j and k skip items someone else holds, and stop at the ends", () => {
  const held = { expiresAt: new Date(NOW + 60_000).toISOString(), reviewer: { id: "u-bob", name: "bob" } };
  const lapsed = { expiresAt: new Date(NOW - 1).toISOString(), reviewer: { id: "u-bob", name: "bob" } };
  const items = [entry("r1"), entry("r2", { claim: held }), entry("r3", { claim: lapsed }), entry("r4")];
  assert.equal(neighbour(items, "r1", 0, 1, "u-ann", NOW)?.id, "r3");
  assert.equal(neighbour(items, "r3", 2, -1, "u-ann", NOW)?.id, "r1");
  assert.equal(neighbour(items, "r4", 3, 1, "u-ann", NOW), null);
  assert.equal(neighbour(items, "r1", 0, -1, "u-ann", NOW), null);
  assert.equal(neighbour(items, null, 0, 1, "u-ann", NOW)?.id, "r1");
});

test("after the open item left the list, j opens the one that took its place", () => {
  const items = [entry("r1"), entry("r3"), entry("r4")]; // r2, at index 1, was decided
  assert.equal(neighbour(items, "r2", 1, 1, "u-ann", NOW)?.id, "r3");
  assert.equal(neighbour(items, "r2", 1, -1, "u-ann", NOW)?.id, "r1");
});

test("an item escalated out of the tiers an analyst may see leaves their queue", () => {
  const analyst: Filters = { tier: null, status: null, within: ["AUTO_APPROVE", "ANALYST_REVIEW"] };
  let queue = replaceWithFetched(emptyQueue<QueueEntry>(), [entry("r1"), entry("r2")], [], analyst);
  queue = applyEvent(queue, { id: "e1", recommendation: entry("r1", { tier: "SENIOR_REVIEW", version: 2 }) }, analyst);
  assert.deepEqual(ids(queue.items), ["r2"]);
  assert.equal(matches(entry("r1", { tier: "SENIOR_REVIEW" }), ALL), true, "a senior keeps it");
});
