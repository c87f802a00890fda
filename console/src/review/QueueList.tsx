/**
 * The queue beside the open item: a listbox named "Queue", most urgent first, each item
 * with its tier, confidence, SLA countdown (overdue in red), claim holder and subject.
 * Clicking an item opens (and claims) it; ArrowDown/ArrowUp work like j/k.
 */
import type { Ref } from "preact";
import { assignmentText } from "./assignment";
import { badgeText, leaseOf, reviewsInText } from "./consensus";
import type { QueueItem } from "./controller";
import { itemLabel, payloadSummary, percent, slaText, statusLabel, tierLabel } from "./format";
import type { Filters } from "./queueModel";

interface Props {
  items: QueueItem[];
  currentId: string | null;
  /** Items beyond the page the server sent. */
  more: number;
  loading: boolean;
  filters: Filters;
  tiers: string[];
  me: string;
  /** Items this reviewer has voted on (they wait for the other reviews). */
  voted: ReadonlySet<string>;
  now: number;
  listRef: Ref<HTMLElement>;
  onFilters: (filters: Filters) => void;
  onOpen: (id: string) => void;
  onMove: (delta: 1 | -1) => void;
}

const STATUSES = ["PENDING", "CLAIMED", "FLAGGED", "AWAITING_CONFIRMATION"];

export function QueueList(props: Props) {
  const { items, currentId, more, loading, filters, tiers, me, voted, now, listRef } = props;
  const shown = items.length;
  return (
    <section class="queue-pane" aria-labelledby="queue-title">
      <h2 id="queue-title" tabIndex={-1} ref={shown === 0 ? (listRef as Ref<HTMLHeadingElement>) : undefined}>
        Queue
      </h2>
      <div class="filters">
        <label>
          Tier{" "}
          <select
            value={filters.tier ?? ""}
            onChange={(event) => props.onFilters({ ...filters, tier: event.currentTarget.value || null })}
          >
            <option value="">All tiers</option>
            {tiers.map((tier) => (
              <option key={tier} value={tier}>
                {tierLabel(tier)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{" "}
          <select
            value={filters.status ?? ""}
            onChange={(event) => props.onFilters({ ...filters, status: event.currentTarget.value || null })}
          >
            <option value="">All open</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {statusLabel(status)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p class="muted count" aria-live="polite">
        {loading && shown === 0 ? "Reading the queue…" : `${shown} ${shown === 1 ? "item" : "items"}${more > 0 ? ` (and ${more} more, not listed)` : ""}`}
      </p>
      {shown > 0 && (
        <ul
          class="queue"
          role="listbox"
          aria-labelledby="queue-title"
          tabIndex={0}
          ref={listRef as Ref<HTMLUListElement>}
          aria-activedescendant={currentId && items.some((item) => item.id === currentId) ? `q-${currentId}` : undefined}
          onKeyDown={(event) => {
            if (event.key === "ArrowDown" || event.key === "ArrowUp") {
              event.preventDefault();
              props.onMove(event.key === "ArrowDown" ? 1 : -1);
            }
          }}
        >
          {items.map((item) => (
            <QueueOption
              key={item.id}
              item={item}
              selected={item.id === currentId}
              me={me}
              votedOn={voted.has(item.id)}
              now={now}
              onOpen={props.onOpen}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function QueueOption({
  item,
  selected,
  me,
  votedOn,
  now,
  onOpen,
}: {
  item: QueueItem;
  selected: boolean;
  me: string;
  votedOn: boolean;
  now: number;
  onOpen: (id: string) => void;
}) {
  const sla = slaText(item.slaDueAt, now);
  const lease = leaseOf(item, me) ?? item.claim;
  const claim = lease && Date.parse(lease.expiresAt) > now ? lease : null;
  const holder = claim ? (claim.reviewer.id === me ? "claimed by you" : `claimed by ${claim.reviewer.name}`) : null;
  const status = item.status === "FLAGGED" || item.status === "AWAITING_CONFIRMATION" ? statusLabel(item.status) : null;
  const pinned = assignmentText(item, me)?.replace(/^Assigned/, "assigned") ?? null;
  const summary = payloadSummary(item.payload);
  const consensus = item.consensus;
  const review = consensus?.state === "DISPUTED" ? "disputed" : votedOn ? "your vote is in" : null;
  return (
    <li
      id={`q-${item.id}`}
      role="option"
      aria-selected={selected}
      class={`queue-item${selected ? " selected" : ""}${claim && claim.reviewer.id !== me ? " held" : ""}`}
      onClick={() => onOpen(item.id)}
    >
      <span class="q-line">
        <span class="q-subject">{itemLabel(item)}</span>
        {consensus && (
          <span class="q-badge" title={reviewsInText(consensus)}>
            <span aria-hidden="true">{badgeText(consensus)}</span>
            <span class="visually-hidden">{reviewsInText(consensus)}</span>
          </span>
        )}
        <span class="q-confidence">{percent(item.confidence)}</span>
      </span>
      <span class="q-line q-meta">
        <span>{tierLabel(item.tier)}</span>
        <span class={sla.overdue ? "overdue" : undefined}>{sla.text}</span>
      </span>
      <span class="q-line q-summary">
        {item.proposedAction}
        {summary && ` · ${summary}`}
      </span>
      {(holder || status || pinned || review) && (
        <span class="q-line q-claim">{[review, status, pinned, holder].filter(Boolean).join(" · ")}</span>
      )}
    </li>
  );
}
