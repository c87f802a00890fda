/** How the review screens put numbers, times and payloads into words (pure functions). */

export type TierName = "AUTO_APPROVE" | "ANALYST_REVIEW" | "SENIOR_REVIEW" | "BELOW_FLOOR";

const TIER_LABELS: Record<TierName, string> = {
  AUTO_APPROVE: "Auto-approve",
  ANALYST_REVIEW: "Analyst review",
  SENIOR_REVIEW: "Senior review",
  BELOW_FLOOR: "Below floor",
};

export function tierLabel(tier: string): string {
  return TIER_LABELS[tier as TierName] ?? tier;
}

const STATUS_LABELS: Record<string, string> = {
  PENDING: "pending",
  CLAIMED: "claimed",
  FLAGGED: "flagged",
  AWAITING_CONFIRMATION: "awaiting confirmation",
  APPROVED: "approved",
  EDITED: "edited",
  REJECTED: "rejected",
  OVERRIDDEN: "overridden",
  NEEDS_DATA: "needs data",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.toLowerCase();
}

const VERDICT_PAST: Record<string, string> = {
  APPROVE: "approved",
  REJECT: "rejected",
  FLAG: "flagged",
  EDIT: "edited",
  OVERRIDE: "overrode",
  REQUEST_MORE_DATA: "asked for more data on",
  UNDO: "undid a decision on",
};

const VERDICT_DONE: Record<string, string> = {
  APPROVE: "approved",
  REJECT: "rejected",
  FLAG: "flagged",
  EDIT: "edited",
  OVERRIDE: "overridden",
  REQUEST_MORE_DATA: "sent back for more data",
  UNDO: "undone",
};

/** "approved", "overridden", ... for "app-2 was overridden by bob". */
export function verdictDone(verdict: string): string {
  return VERDICT_DONE[verdict] ?? verdict.toLowerCase();
}

/** "approved", "overrode", ... for "bob approved app-2". */
export function verdictPast(verdict: string): string {
  return VERDICT_PAST[verdict] ?? verdict.toLowerCase();
}

/** 0.8 -> "80%"; rounds to whole percent, keeps one decimal below 1%. */
export function percent(share: number): string {
  const value = share * 100;
  if (value !== 0 && Math.abs(value) < 1) return `${value.toFixed(1)}%`;
  return `${Math.round(value)}%`;
}

/** A predicted score: a share (0..1) as a percentage, anything else with two decimals. */
export function formatScore(score: number): string {
  return score >= 0 && score <= 1 ? percent(score) : score.toFixed(2);
}

/** "Predicted open rate 22% -> 25%" (or "Predicted open rate 25%" without the original). */
export function predictionLine(
  label: string | null | undefined,
  original: number | null | undefined,
  predicted: number,
): string {
  const what = label?.trim() || "score";
  if (original == null) return `Predicted ${what} ${formatScore(predicted)}`;
  return `Predicted ${what} ${formatScore(original)} -> ${formatScore(predicted)}`;
}

/** 400 -> "0.4 s", 12_300 -> "12.3 s", 95_000 -> "1 min 35 s". */
export function seconds(ms: number): string {
  if (ms < 60_000) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
  return duration(ms);
}

/** A span in words: "45 s", "14 min 5 s", "3 h 59 min", "2 d 4 h". */
export function duration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${secs} s`;
  return `${secs} s`;
}

/** A lease or confirmation timer: "14:05" (minutes:seconds), "1:02:03" past an hour. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

export interface SlaText {
  text: string;
  overdue: boolean;
}

/** An SLA countdown: "3 h 59 min left", or "overdue 5 min 2 s"; "no SLA" without one. */
export function slaText(dueAt: string | null | undefined, now: number): SlaText {
  if (!dueAt) return { text: "no SLA", overdue: false };
  const left = Date.parse(dueAt) - now;
  if (left > 0) return { text: `${duration(left)} left`, overdue: false };
  return { text: `overdue ${duration(-left)}`, overdue: true };
}

/** A JSON value in one short line. */
export function scalarText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map(scalarText).join(", ");
  return JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "amount 9000 · industry healthcare": the first scalar fields of a payload. */
export function payloadSummary(payload: unknown, fields = 3): string {
  if (!isPlainObject(payload)) return payload == null ? "" : scalarText(payload);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(payload)) {
    if (parts.length >= fields) break;
    if (isPlainObject(value)) continue;
    if (Array.isArray(value) && value.some((v) => typeof v === "object" && v !== null)) continue;
    const text = scalarText(value);
    parts.push(`${key} ${text.length > 24 ? `${text.slice(0, 23)}…` : text}`);
  }
  return parts.join(" · ");
}

export interface PayloadRow {
  key: string;
  /** Dotted path, unique: a stable key for rendering. */
  path: string;
  depth: number;
  /** Absent for a group (an object or a list of objects) whose fields follow it. */
  value?: string;
}

/**
 * A payload as table rows: scalars as key/value, nested objects as a group row followed
 * by their fields one level deeper, lists of scalars joined, lists of objects by index.
 */
export function payloadRows(payload: unknown, depth = 0, prefix = ""): PayloadRow[] {
  if (!isPlainObject(payload)) {
    return depth === 0 ? [{ key: "value", path: "value", depth: 0, value: scalarText(payload) }] : [];
  }
  const rows: PayloadRow[] = [];
  for (const [key, value] of Object.entries(payload)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) {
      rows.push({ key, path, depth });
      rows.push(...payloadRows(value, depth + 1, path));
    } else if (Array.isArray(value) && value.some((v) => typeof v === "object" && v !== null)) {
      rows.push({ key, path, depth });
      value.forEach((entry, index) => {
        const at = `${path}[${index}]`;
        if (isPlainObject(entry)) {
          rows.push({ key: `[${index}]`, path: at, depth: depth + 1 });
          rows.push(...payloadRows(entry, depth + 2, at));
        } else {
          rows.push({ key: `[${index}]`, path: at, depth: depth + 1, value: scalarText(entry) });
        }
      });
    } else {
      rows.push({ key, path, depth, value: scalarText(value) });
    }
  }
  return rows;
}

/** A signed contribution: "+0.42", "−0.13" (a real minus sign). */
export function signed(value: number, digits = 2): string {
  const text = Math.abs(value).toFixed(digits);
  if (value > 0) return `+${text}`;
  if (value < 0) return `\u2212${text}`;
  return text;
}

/** A time of day in the reviewer's zone, "14:05:09". */
export function timeOfDay(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** "app-2", else the subject, else the id: how an item is named in messages. */
export function itemLabel(item: { id: string; externalId?: string | null; subject?: string | null }): string {
  return item.externalId || item.subject || item.id;
}
