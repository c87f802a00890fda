/** The review screen's keyboard: which key does what (pure functions). */

export type Command =
  | "approve"
  | "reject"
  | "flag"
  | "override"
  | "edit"
  | "undo"
  | "next"
  | "previous"
  | "help"
  | "escape";

/** The keys, as the `?` overlay lists them. */
export const SHORTCUTS: ReadonlyArray<{ keys: string; what: string }> = [
  { keys: "a", what: "Approve the proposal, at once" },
  { keys: "r", what: "Reject (an optional reason; Enter decides)" },
  { keys: "f", what: "Flag for later (a note; Enter flags)" },
  { keys: "o", what: "Override: 1–9 picks the action, then 1–9 a suggested reason (or type one); Enter decides" },
  { keys: "e", what: "Edit the draft (DRAFT workflows); Enter ships, after \u201cShip it?\u201d" },
  { keys: "u", what: "Undo your last decision while its window is open" },
  { keys: "j / k", what: "Next / previous item (claims it and gives back the one you leave)" },
  { keys: "Enter", what: "Confirm what is open" },
  { keys: "Esc", what: "Cancel; back to the queue" },
  { keys: "?", what: "Show or hide these shortcuts" },
];

const COMMANDS: Record<string, Command> = {
  a: "approve",
  r: "reject",
  f: "flag",
  o: "override",
  e: "edit",
  u: "undo",
  j: "next",
  k: "previous",
  "?": "help",
  Escape: "escape",
};

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/** The command a key press means, or null (modifier chords belong to the browser). */
export function commandFor(event: KeyLike): Command | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  return COMMANDS[event.key] ?? null;
}

/** 1..9 for the digit keys, null otherwise. */
export function digitOf(key: string): number | null {
  return /^[1-9]$/.test(key) ? Number(key) : null;
}

interface ElementLike {
  tagName?: string;
  isContentEditable?: boolean;
  type?: string;
}

const NON_TEXT_INPUTS = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color"]);

/** Whether keys typed here are text (so single-key shortcuts must stay quiet). */
export function isTypingTarget(target: unknown): boolean {
  if (target === null || typeof target !== "object") return false;
  const element = target as ElementLike;
  if (element.isContentEditable) return true;
  const tag = (element.tagName ?? "").toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !NON_TEXT_INPUTS.has((element.type ?? "text").toLowerCase());
  return false;
}
