/** Numbers and times as the admin screens print them. */

/** 0.904 -> "90.4%"; null -> "–". */
export function pct(share: number | null | undefined, digits = 1): string {
  if (share == null || Number.isNaN(share)) return "–";
  return `${(share * 100).toFixed(digits)}%`;
}

/** A number with at most `digits` decimals; null -> "–". */
export function num(value: number | null | undefined, digits = 2): string {
  if (value == null || Number.isNaN(value)) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** An ISO time in the browser's time zone, with the zone named. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  // dateStyle cannot be combined with timeZoneName, hence the fields one by one.
  return new Date(iso).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  });
}

/** The day of an ISO time, for chart axes. */
export function day(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

/** Milliseconds as a duration: 412 -> "0.4 s", 95000 -> "1 min 35 s". */
export function duration(ms: number | null | undefined): string {
  if (ms == null) return "–";
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** SCREAMING_CASE enum values as words: ANALYST_REVIEW -> "Analyst review". */
export function words(value: string): string {
  const text = value.toLowerCase().replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export type WindowName = "WEEK" | "MONTH" | "QUARTER";

export const WINDOWS: readonly WindowName[] = ["WEEK", "MONTH", "QUARTER"];

/** How far back each window reaches, as the server counts it (7, 30 or 91 days). */
export const WINDOW_DAYS: Record<WindowName, number> = { WEEK: 7, MONTH: 30, QUARTER: 91 };

/** The calendar month (UTC) an ISO time starts: "2026-11-01T00:00:00Z" -> "Nov 2026". */
export function month(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { month: "short", year: "numeric", timeZone: "UTC" });
}
