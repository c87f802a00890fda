import assert from "node:assert/strict";
import { test } from "node:test";
import {
  clock,
  duration,
  payloadRows,
  payloadSummary,
  percent,
  predictionLine,
  seconds,
  signed,
  slaText,
} from "../src/review/format";

test("a share reads as a whole percentage, and a small one keeps a decimal", () => {
  assert.equal(percent(0.8), "80%");
  assert.equal(percent(0.225), "23%");
  assert.equal(percent(0.004), "0.4%");
  assert.equal(percent(0), "0%");
});

test("a draft's prediction reads as the issue writes it, with the workflow's score label", () => {
  assert.equal(predictionLine("open rate", 0.22, 0.25), "Predicted open rate 22% -> 25%");
  assert.equal(predictionLine("open rate", null, 0.25), "Predicted open rate 25%");
  assert.equal(predictionLine(null, 1.5, 2.25), "Predicted score 1.50 -> 2.25");
});

test("a fast decision reads in tenths of a second", () => {
  assert.equal(seconds(400), "0.4 s");
  assert.equal(seconds(12_340), "12.3 s");
  assert.equal(seconds(95_000), "1 min 35 s");
});

test("an SLA counts down and, once past, says overdue", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  assert.deepEqual(slaText("2026-01-01T15:59:30Z", now), { text: "3 h 59 min left", overdue: false });
  assert.deepEqual(slaText("2026-01-01T11:55:00Z", now), { text: "overdue 5 min 0 s", overdue: true });
  assert.deepEqual(slaText(null, now), { text: "no SLA", overdue: false });
});

test("durations and lease timers are whole units", () => {
  assert.equal(duration(2 * 86_400_000 + 4 * 3_600_000), "2 d 4 h");
  assert.equal(duration(45_900), "45 s");
  assert.equal(clock(14 * 60_000 + 5_500), "14:05");
  assert.equal(clock(3_723_000), "1:02:03");
  assert.equal(clock(-5), "0:00");
});

test("contributions carry their sign, with a real minus", () => {
  assert.equal(signed(0.4213), "+0.42");
  assert.equal(signed(-0.13), "\u22120.13");
  assert.equal(signed(0), "0.00");
});

test("a nested payload becomes indented rows under its keys, lists of objects by index", () => {
  const rows = payloadRows({
    amount: 9000,
    owner: { age: 41, address: { city: "Lyon" } },
    tags: ["a", "b"],
    loans: [{ id: 1 }, 7],
    note: null,
  });
  assert.deepEqual(
    rows.map((row) => [row.depth, row.key, row.value]),
    [
      [0, "amount", "9000"],
      [0, "owner", undefined],
      [1, "age", "41"],
      [1, "address", undefined],
      [2, "city", "Lyon"],
      [0, "tags", "a, b"],
      [0, "loans", undefined],
      [1, "[0]", undefined],
      [2, "id", "1"],
      [1, "[1]", "7"],
      [0, "note", "null"],
    ],
  );
  assert.equal(new Set(rows.map((row) => row.path)).size, rows.length, "every row has its own path");
});

test("a payload that is not an object is one row", () => {
  assert.deepEqual(payloadRows("plain"), [{ key: "value", path: "value", depth: 0, value: "plain" }]);
});

test("a payload's summary is its first scalar fields, nested ones left out", () => {
  assert.equal(
    payloadSummary({ owner: { age: 3 }, amount: 9000, industry: "healthcare", years: 6, more: 1 }),
    "amount 9000 · industry healthcare · years 6",
  );
  assert.equal(payloadSummary({ text: "x".repeat(40) }), `text ${"x".repeat(23)}…`);
});
