import assert from "node:assert/strict";
import { test } from "node:test";
import { commandFor, digitOf, isTypingTarget, SHORTCUTS } from "../src/review/keys";

test("each verdict has its letter, and j and k move", () => {
  const keys = ["a", "r", "f", "o", "e", "u", "j", "k", "?", "Escape"];
  assert.deepEqual(
    keys.map((key) => commandFor({ key })),
    ["approve", "reject", "flag", "override", "edit", "undo", "next", "previous", "help", "escape"],
  );
});

test("chords with a modifier are left to the browser, and other keys mean nothing", () => {
  assert.equal(commandFor({ key: "a", ctrlKey: true }), null);
  assert.equal(commandFor({ key: "r", metaKey: true }), null);
  assert.equal(commandFor({ key: "f", altKey: true }), null);
  assert.equal(commandFor({ key: "A" }), null);
  assert.equal(commandFor({ key: "x" }), null);
});

test("digits 1 to 9 pick, and nothing else does", () => {
  assert.deepEqual(["1", "9", "0", "10", "a", ""].map(digitOf), [1, 9, null, null, null, null]);
});

test("text fields swallow shortcuts, buttons and checkboxes do not", () => {
  assert.equal(isTypingTarget({ tagName: "INPUT", type: "text" }), true);
  assert.equal(isTypingTarget({ tagName: "input" }), true);
  assert.equal(isTypingTarget({ tagName: "TEXTAREA" }), true);
  assert.equal(isTypingTarget({ tagName: "SELECT" }), true);
  assert.equal(isTypingTarget({ tagName: "DIV", isContentEditable: true }), true);
  assert.equal(isTypingTarget({ tagName: "INPUT", type: "checkbox" }), false);
  assert.equal(isTypingTarget({ tagName: "BUTTON" }), false);
  assert.equal(isTypingTarget({ tagName: "UL" }), false);
  assert.equal(isTypingTarget(null), false);
});

test("the shortcuts overlay lists every key the screen answers to", () => {
  const listed = SHORTCUTS.map((shortcut) => shortcut.keys).join(" ");
  for (const key of ["a", "r", "f", "o", "e", "u", "j", "k", "Enter", "Esc", "?"]) {
    assert.ok(listed.split(/[ /]+/).includes(key), `${key} is listed`);
  }
});
