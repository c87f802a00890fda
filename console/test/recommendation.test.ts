import assert from "node:assert/strict";
import { test } from "node:test";
import { addAlarm, type Alarm } from "../src/admin/alarms";
import { guaranteeNote, guaranteeWords, ladderWith, parsePercent, share, sliderValue } from "../src/admin/guarantee";

const FOUND = {
  maxAutoApproveError: 0.05,
  confidenceLevel: 0.95,
  autoApproveAt: 0.93,
  errorUpperBound: 0.0312,
  evidence: 412,
  expectedAutoApproveShare: 0.38,
};
const NONE = { ...FOUND, autoApproveAt: null, errorUpperBound: null, expectedAutoApproveShare: null };

test("a share reads as a percentage with at most one decimal", () => {
  assert.equal(share(0.05), "5%");
  assert.equal(share(0.0312), "3.1%");
  assert.equal(share(0.375), "37.5%");
  assert.equal(share(0.95), "95%");
  assert.equal(share(0.0049), "0.5%");
});

test("the guarantee reads as the issue writes it", () => {
  assert.equal(
    guaranteeWords(FOUND),
    "with 95% confidence, at most 5% of auto-approvals are wrong; bound 3.1% from 412 labels; " +
      "38% of items would be auto-approved",
  );
  assert.equal(
    guaranteeWords({ ...FOUND, evidence: 1, expectedAutoApproveShare: null }),
    "with 95% confidence, at most 5% of auto-approvals are wrong; bound 3.1% from 1 label",
  );
  assert.equal(guaranteeWords(NONE), null);
});

test("the note cites the threshold, target, confidence, bound, evidence, procedure and window", () => {
  assert.equal(
    guaranteeNote(FOUND, "month"),
    "Auto-approve at 0.93 as recommended by Learn-then-Test: with 95% confidence at most 5% of " +
      "auto-approvals are wrong (error bound 3.1% from 412 labels of people's decisions in the last month).",
  );
  assert.equal(guaranteeNote(NONE, "month"), null);
});

test("a recommended threshold lands on the slider's steps, never below it", () => {
  assert.equal(sliderValue(0.93), 0.93);
  assert.equal(sliderValue(0.9300000000000002), 0.93);
  assert.equal(sliderValue(0.929999999), 0.93);
  assert.equal(sliderValue(0.935), 0.94);
  assert.equal(sliderValue(0.999), 1);
  assert.equal(sliderValue(1), 1);
});

test("a typed percentage is a share within its bounds, or says what is expected", () => {
  assert.deepEqual(parsePercent("5", "The error", 0, 100), { ok: true, value: 0.05 });
  assert.deepEqual(parsePercent(" 2.5 % ", "The error", 0, 100), { ok: true, value: 0.025 });
  assert.deepEqual(parsePercent("99.9", "The level", 50, 100), { ok: true, value: 0.999 });
  for (const bad of ["", "abc", "0", "100", "-3", "1e400"]) {
    assert.deepEqual(parsePercent(bad, "The error", 0, 100), {
      ok: false,
      problem: "The error must be a percentage above 0% and below 100%.",
    });
  }
  assert.equal(parsePercent("50", "The level", 50, 100).ok, false);
});

test("drift alarms: DRIFT events only, each once, newest first, a few kept", () => {
  const at = new Date("2025-11-12T09:30:00Z");
  let alarms: Alarm[] = [];
  alarms = addAlarm(alarms, { id: "e1", kind: "PROMOTED", message: null, model: { version: 2 } }, at);
  assert.deepEqual(alarms, []);
  const drift = { id: "e2", kind: "DRIFT", message: "agreement on ANALYST_REVIEW fell", model: { version: 2 } };
  alarms = addAlarm(alarms, drift, at);
  assert.deepEqual(alarms, [
    { id: "e2", message: "agreement on ANALYST_REVIEW fell", modelVersion: 2, heardAt: "2025-11-12T09:30:00.000Z" },
  ]);
  const again = addAlarm(alarms, drift, new Date());
  assert.equal(again, alarms, "a redelivered event is not a second alarm");
  for (let n = 3; n <= 8; n++) alarms = addAlarm(alarms, { id: `e${n}`, kind: "DRIFT", message: `m${n}` }, at, 5);
  assert.deepEqual(
    alarms.map((a) => a.id),
    ["e8", "e7", "e6", "e5", "e4"],
  );
  assert.equal(alarms[0]!.modelVersion, null);
  const silent = addAlarm([], { id: "e9", kind: "DRIFT" }, at);
  assert.equal(silent[0]!.message, "The served model drifted (no details were given).");
});

test("applying a threshold above the analyst threshold leaves the lower tiers alone", () => {
  const { ladder, lowered } = ladderWith({ autoApproveAt: 1, analystAt: 0.7, seniorAt: 0.5 }, 0.93);
  assert.deepEqual(ladder, { autoApproveAt: 0.93, analystAt: 0.7, seniorAt: 0.5 });
  assert.equal(lowered, null);
  assert.equal(ladderWith({ autoApproveAt: 1, analystAt: 0.7, seniorAt: 0.5 }, 0.7).lowered, null);
});

test("a threshold below the analyst threshold brings it down, and says so", () => {
  const { ladder, lowered } = ladderWith({ autoApproveAt: 0.95, analystAt: 0.7, seniorAt: 0.5 }, 0.62);
  assert.deepEqual(ladder, { autoApproveAt: 0.62, analystAt: 0.62, seniorAt: 0.5 });
  assert.equal(
    lowered,
    "0.62 is below the analyst threshold (0.70): applying it lowers it to 0.62 (the server refuses a " +
      "lower tier above a higher one); check the simulation before saving.",
  );
});

test("a threshold below both lower thresholds brings both down to it", () => {
  const { ladder, lowered } = ladderWith({ autoApproveAt: 0.95, analystAt: 0.7, seniorAt: 0.5 }, 0.4);
  assert.deepEqual(ladder, { autoApproveAt: 0.4, analystAt: 0.4, seniorAt: 0.4 });
  assert.match(lowered ?? "", /the analyst threshold \(0.70\) and the senior threshold \(0.50\): applying it lowers both to 0.40/);
});
