/**
 * The threshold recommendation in words: the guarantee recommendThreshold gives, the policy
 * note that cites it when the admin applies it, and the percentages the admin types.
 * Pure (no DOM, no requests), so tested under Node.
 */

/** The recommendThreshold fields these words are made of. */
export interface Guarantee {
  maxAutoApproveError: number;
  confidenceLevel: number;
  autoApproveAt?: number | null;
  errorUpperBound?: number | null;
  evidence: number;
  expectedAutoApproveShare?: number | null;
}

/** A share as a percentage with at most one decimal: 0.05 -> "5%", 0.0312 -> "3.1%". */
export function share(value: number): string {
  const rounded = Math.round(value * 1000) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}%`;
}

/** A threshold as the sliders show it: 0.93 -> "0.93". */
export function threshold(value: number): string {
  return value.toFixed(2);
}

/** The slider's value for a recommended threshold: on its 0.01 steps, never below it
 * (rounding down could auto-approve items the guarantee does not cover). */
export function sliderValue(autoApproveAt: number): number {
  return Math.min(1, Math.ceil(Math.round(autoApproveAt * 1e6) / 1e4) / 100);
}

function labels(n: number): string {
  return `${n} label${n === 1 ? "" : "s"}`;
}

/**
 * The guarantee in words ("with 95% confidence, at most 5% of auto-approvals are wrong;
 * bound 3.1% from 412 labels; 38% of items would be auto-approved"); null when there is
 * no recommended threshold (the server's message says why).
 */
export function guaranteeWords(r: Guarantee): string | null {
  if (r.autoApproveAt == null || r.errorUpperBound == null) return null;
  const parts = [
    `with ${share(r.confidenceLevel)} confidence, at most ${share(r.maxAutoApproveError)} of auto-approvals are wrong`,
    `bound ${share(r.errorUpperBound)} from ${labels(r.evidence)}`,
  ];
  if (r.expectedAutoApproveShare != null) {
    parts.push(`${share(r.expectedAutoApproveShare)} of items would be auto-approved`);
  }
  return parts.join("; ");
}

/**
 * The policy note for applying the recommendation: the threshold and the guarantee it
 * comes with (target, confidence, evidence, bound, the procedure, the window); null
 * when there is nothing to apply.
 */
export function guaranteeNote(r: Guarantee, windowWords: string): string | null {
  if (r.autoApproveAt == null || r.errorUpperBound == null) return null;
  return (
    `Auto-approve at ${threshold(sliderValue(r.autoApproveAt))} as recommended by Learn-then-Test: ` +
    `with ${share(r.confidenceLevel)} confidence at most ${share(r.maxAutoApproveError)} of ` +
    `auto-approvals are wrong (error bound ${share(r.errorUpperBound)} from ` +
    `${labels(r.evidence)} of people's decisions in the last ${windowWords}).`
  );
}

/** A percentage typed by the admin, as a share; or why it is not one. */
export type Parsed = { ok: true; value: number } | { ok: false; problem: string };

/**
 * "5" or "5%" -> 0.05, within (low, high) percent exclusive; anything else says what is
 * expected, so that nothing is asked of the server with it.
 */
export function parsePercent(text: string, what: string, low: number, high: number): Parsed {
  const cleaned = text.trim().replace(/\s*%$/, "");
  const value = cleaned === "" ? Number.NaN : Number(cleaned);
  if (!Number.isFinite(value) || value <= low || value >= high) {
    return { ok: false, problem: `${what} must be a percentage above ${low}% and below ${high}%.` };
  }
  return { ok: true, value: Math.round(value * 1000) / 100000 };
}

/** The ladder's three thresholds, highest first (the server refuses any other order). */
export interface Ladder {
  autoApproveAt: number;
  analystAt: number;
  seniorAt: number;
}

/** The ladder after applying a recommended auto-approve threshold, and the words that say
 * which lower thresholds had to come down with it (null when none did). The server refuses
 * analystAt above autoApproveAt and seniorAt above analystAt, so a recommendation below the
 * analyst threshold lowers the analyst threshold to it (and the senior one, when above it)
 * instead of leaving a ladder that cannot be saved. */
export function ladderWith(ladder: Ladder, autoApproveAt: number): { ladder: Ladder; lowered: string | null } {
  const analystAt = Math.min(ladder.analystAt, autoApproveAt);
  const seniorAt = Math.min(ladder.seniorAt, analystAt);
  const moved: string[] = [];
  if (analystAt < ladder.analystAt) moved.push(`the analyst threshold (${threshold(ladder.analystAt)})`);
  if (seniorAt < ladder.seniorAt) moved.push(`the senior threshold (${threshold(ladder.seniorAt)})`);
  const lowered = moved.length
    ? `${threshold(autoApproveAt)} is below ${moved.join(" and ")}: applying it lowers ${moved.length === 1 ? "it" : "both"} to ${threshold(autoApproveAt)} (the server refuses a lower tier above a higher one); check the simulation before saving.`
    : null;
  return { ladder: { autoApproveAt, analystAt, seniorAt }, lowered };
}
