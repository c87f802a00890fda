/**
 * The queue as the reviewer sees it, kept live from queueEvents (pure functions).
 *
 * The README's rule for live queues: read `queue(...)` (again after every reconnect), then
 * apply events on top, skipping those whose recommendation.version is not newer than what
 * is shown; drop repeated deliveries by event id.
 */

export const OPEN_STATUSES = ["PENDING", "CLAIMED", "FLAGGED", "AWAITING_CONFIRMATION"] as const;

export interface QueueEntry {
  id: string;
  status: string;
  tier: string;
  version: number;
  slaDueAt: string | null;
  createdAt: string;
  claim: { expiresAt: string; reviewer: { id: string; name: string } } | null;
}

export interface Filters {
  /** null: every tier the reviewer may see. */
  tier: string | null;
  /** null: every open status (PENDING, CLAIMED, FLAGGED, AWAITING_CONFIRMATION). */
  status: string | null;
  /** The tiers the reviewer's role may see (an item escalated out of them leaves); null: all. */
  within?: readonly string[] | null;
}

export interface QueueState<T extends QueueEntry> {
  items: T[];
  /** Versions of items that left the view, so that an older event cannot bring them back. */
  gone: Map<string, number>;
  /** Event ids already applied (deliveries are at least once). */
  seen: Set<string>;
}

export interface EventLike<T extends QueueEntry> {
  id: string;
  recommendation: T;
}

export function emptyQueue<T extends QueueEntry>(): QueueState<T> {
  return { items: [], gone: new Map(), seen: new Set() };
}

export function isOpen(status: string): boolean {
  return (OPEN_STATUSES as readonly string[]).includes(status);
}

/** Whether an item belongs in the view under these filters. */
export function matches(item: QueueEntry, filters: Filters): boolean {
  if (filters.status === null ? !isOpen(item.status) : item.status !== filters.status) return false;
  if (filters.within && !filters.within.includes(item.tier)) return false;
  return filters.tier === null || item.tier === filters.tier;
}

/** Queue order, as the server's: slaDueAt (none last), then createdAt, then id. */
export function compareUrgency(a: QueueEntry, b: QueueEntry): number {
  const dueA = a.slaDueAt ? Date.parse(a.slaDueAt) : Number.POSITIVE_INFINITY;
  const dueB = b.slaDueAt ? Date.parse(b.slaDueAt) : Number.POSITIVE_INFINITY;
  if (dueA !== dueB) return dueA < dueB ? -1 : 1;
  const createdA = Date.parse(a.createdAt);
  const createdB = Date.parse(b.createdAt);
  if (createdA !== createdB) return createdA < createdB ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function knownVersion<T extends QueueEntry>(state: QueueState<T>, id: string): number | undefined {
  return state.items.find((item) => item.id === id)?.version ?? state.gone.get(id);
}

/** Put one item as it is now into the view (or take it out), unless what is shown is newer. */
export function upsert<T extends QueueEntry>(state: QueueState<T>, item: T, filters: Filters): QueueState<T> {
  const known = knownVersion(state, item.id);
  if (known !== undefined && item.version <= known) return state;
  const rest = state.items.filter((entry) => entry.id !== item.id);
  const gone = new Map(state.gone);
  if (matches(item, filters)) {
    gone.delete(item.id);
    return { ...state, items: [...rest, item].sort(compareUrgency), gone };
  }
  gone.set(item.id, item.version);
  return { ...state, items: rest, gone };
}

/** Apply one queueEvent; the same state when it was seen already or is not newer. */
export function applyEvent<T extends QueueEntry>(
  state: QueueState<T>,
  event: EventLike<T>,
  filters: Filters,
): QueueState<T> {
  if (state.seen.has(event.id)) return state;
  const seen = new Set(state.seen);
  seen.add(event.id);
  return upsert({ ...state, seen }, event.recommendation, filters);
}

/**
 * A fresh read of the queue, with the events that arrived while it was being read
 * applied on top (they may be newer than the read, or not).
 */
export function replaceWithFetched<T extends QueueEntry>(
  state: QueueState<T>,
  fetched: T[],
  eventsDuringFetch: EventLike<T>[],
  filters: Filters,
): QueueState<T> {
  let next: QueueState<T> = {
    items: fetched.filter((item) => matches(item, filters)).sort(compareUrgency),
    gone: new Map(),
    seen: state.seen,
  };
  for (const event of eventsDuringFetch) next = upsert(next, event.recommendation, filters);
  return next;
}

/** Whether someone other than `me` holds a live lease on the item. */
export function heldByOther(item: QueueEntry, me: string, now: number): boolean {
  return item.claim !== null && item.claim.reviewer.id !== me && Date.parse(item.claim.expiresAt) > now;
}

/**
 * The item j (delta 1) or k (delta -1) opens: the nearest one in that direction that
 * nobody else holds. `from` is the open item's id; when it is no longer listed,
 * `fromIndex` (where it was) stands in for it.
 */
export function neighbour<T extends QueueEntry>(
  items: T[],
  from: string | null,
  fromIndex: number,
  delta: 1 | -1,
  me: string,
  now: number,
): T | null {
  const at = from === null ? -1 : items.findIndex((item) => item.id === from);
  let index: number;
  if (at >= 0) index = at + delta;
  else if (from === null) index = delta === 1 ? 0 : items.length - 1;
  else index = delta === 1 ? fromIndex : fromIndex - 1; // the item at fromIndex moved up into its place
  for (; index >= 0 && index < items.length; index += delta) {
    if (!heldByOther(items[index], me, now)) return items[index];
  }
  return null;
}
