/**
 * One workflow's review session: the live queue, the open (claimed) item, and every
 * decision, each through the public GraphQL API. Screens render its `state` and call its
 * methods; it never touches the DOM.
 *
 * Rules it keeps: an item is claimed when it opens and released when the reviewer moves
 * on; every decision names the version the reviewer saw; a failed call stays on screen
 * with its error and can be retried; a conflict says who decided the item and moves on.
 */
import { describeError, GraphQLRequestError, Unauthenticated, type ApiClient } from "../api/client";
import type {
  ConsoleClaimOutcomeFragment,
  ConsoleItemDetailFragment,
  ConsoleMyStatsQuery,
  ConsoleQueueEventsSubscription,
  ConsoleQueueItemFragment,
  ConsoleReviewWorkflowQuery,
  RecommendationStatus,
  Tier,
} from "../gql/graphql";
import {
  decidedSentence,
  NOUN,
  sendDecision,
  type DecisionOutcome,
  type DecisionRequest,
  type Verb,
} from "./decisions";

export type { DecisionRequest, Verb };
import { assignmentText } from "./assignment";
import { afterVoteText, leaseOf } from "./consensus";
import * as docs from "./documents";
import {
  itemLabel,
  predictionLine,
  seconds,
  statusLabel,
  timeOfDay,
  verdictDone,
} from "./format";
import {
  applyEvent,
  compareUrgency,
  emptyQueue,
  heldByOther,
  isOpen,
  matches,
  neighbour,
  replaceWithFetched,
  upsert,
  type EventLike,
  type Filters,
  type QueueState,
} from "./queueModel";

export type QueueItem = ConsoleQueueItemFragment;
export type ItemDetail = ConsoleItemDetailFragment;
export type WorkflowInfo = NonNullable<ConsoleReviewWorkflowQuery["workflow"]>;
export type StatsRow = ConsoleMyStatsQuery["reviewerStats"][number];
type QueueEvent = ConsoleQueueEventsSubscription["queueEvents"];
type Outcome = DecisionOutcome;
type ClaimOutcome = ConsoleClaimOutcomeFragment;
type Success = Extract<Outcome, { __typename: "DecisionSuccess" }>;

export interface Me {
  id: string;
  name: string;
  role: string;
}

export interface Preview {
  /** "Predicted open rate 22% -> 25%", when there is a score. */
  line: string | null;
  /** Why there is no score, or what went wrong. */
  message: string | null;
  pending: boolean;
}

export type Panel =
  | { kind: "none" }
  | { kind: "reject"; reason: string }
  | { kind: "flag"; note: string }
  | { kind: "override"; step: "action" | "reason"; action: string | null; reason: string; tags: string[] }
  | { kind: "edit"; content: string; preview: Preview; asking: boolean };

export interface Confirmation {
  request: DecisionRequest;
  token: string;
  expiresAt: string;
  message: string;
  /** Set when the token lapsed (or the server refused it): ask again. */
  lapsed: string | null;
}

export interface LastDecision {
  decisionId: string;
  itemId: string;
  label: string;
  /** "your approval of app-2" */
  text: string;
  /** Local clock (ms) when the undo window closes. */
  deadline: number;
}

/** The reviewer's latest vote on an item several review: where its consensus stands. */
export interface LastVote {
  itemId: string;
  label: string;
  consensus: NonNullable<ItemDetail["consensus"]>;
}

export interface Notice {
  text: string;
  tone: "info" | "warning";
}

export interface ReviewState {
  workflow: WorkflowInfo | null;
  loadError: string | null;
  filters: Filters;
  queue: QueueState<QueueItem>;
  /** Items the server has beyond the first page it sent (not listed). */
  more: number;
  loadingQueue: boolean;
  current: ItemDetail | null;
  /** Why the open item cannot be decided from here, when it cannot. */
  readOnly: string | null;
  /** What claimNext said when nothing was waiting. */
  empty: string | null;
  opening: boolean;
  panel: Panel;
  /** The last answer's typed problem (Forbidden, InvalidInput, ...), in its words. */
  problem: string | null;
  confirm: Confirmation | null;
  busy: boolean;
  failed: { request: DecisionRequest; message: string } | null;
  last: LastDecision | null;
  /** The latest vote this reviewer cast here, with the votes it lets them see. */
  lastVote: LastVote | null;
  /** Items this reviewer voted on in this session (they stay open for the others). */
  voted: ReadonlySet<string>;
  notice: Notice | null;
  dwellNote: string | null;
  /** undefined: not (yet) available; null: no decisions in the last 30 days. */
  stats: StatsRow | null | undefined;
  /** Why there are no stats to show (reviewerStats refused), when there are none. */
  statsError: string | null;
  helpOpen: boolean;
  /** The "Assign…" dialog is open (it owns the keyboard). */
  assigning: boolean;
}

const NO_PANEL: Panel = { kind: "none" };
const PREVIEW_DELAY_MS = 300;
const STATS_DELAY_MS = 400;
const QUEUE_PAGE = 200;
const RESUBSCRIBED_AFTER_MS = 1000;
const RESUBSCRIBE_FIRST_MS = 1000;
const RESUBSCRIBE_MAX_MS = 30_000;
/** Analysts read only these tiers (an item escalated to SENIOR_REVIEW leaves their queue). */
const VISIBLE_TIERS: Record<string, readonly string[]> = { ANALYST: ["AUTO_APPROVE", "ANALYST_REVIEW"] };

export class ReviewController {
  state: ReviewState = {
    workflow: null,
    loadError: null,
    filters: { tier: null, status: null },
    queue: emptyQueue(),
    more: 0,
    loadingQueue: true,
    current: null,
    readOnly: null,
    empty: null,
    opening: false,
    panel: NO_PANEL,
    problem: null,
    confirm: null,
    busy: false,
    failed: null,
    last: null,
    lastVote: null,
    voted: new Set<string>(),
    notice: null,
    dwellNote: null,
    stats: undefined,
    statsError: null,
    helpOpen: false,
    assigning: false,
  };

  private readonly listeners = new Set<() => void>();
  /** Releases sent without waiting, by item id, until the server has answered them. */
  private readonly releasing = new Map<string, Promise<unknown>>();
  private stopped = false;
  private openSeq = 0;
  private fetchSeq = 0;
  private previewSeq = 0;
  private eventsDuringFetch: EventLike<QueueItem>[] | null = null;
  private cursor = 0;
  private previewTimer: number | undefined;
  private statsTimer: number | undefined;
  private reconnectTimer: number | undefined;
  private resubscribeTimer: number | undefined;
  private resubscribeDelay = RESUBSCRIBE_FIRST_MS;
  private unsubscribeEvents: () => void = () => {};
  private cleanup: Array<() => void> = [];

  constructor(
    private readonly client: ApiClient,
    readonly me: Me,
    readonly workflowKey: string,
  ) {}

  // ------------------------------------------------------------------ plumbing

  /** Re-render on every change; returns a function that stops listening. */
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<ReviewState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
  }

  private warn(text: string): void {
    this.set({ notice: { text, tone: "warning" } });
  }

  private info(text: string): void {
    this.set({ notice: { text, tone: "info" } });
  }

  /** The reviewer's filters, within the tiers their role may see. */
  private get view(): Filters {
    return { ...this.state.filters, within: VISIBLE_TIERS[this.me.role] ?? null };
  }

  /** The queue as listed, with the open item in its place even when the filters hide it. */
  get listed(): QueueItem[] {
    const { queue, current } = this.state;
    if (!current || queue.items.some((item) => item.id === current.id)) return queue.items;
    if (!isOpen(current.status) || !leaseOf(current, this.me.id)) return queue.items;
    return [...queue.items, current].sort(compareUrgency);
  }

  get canOverride(): boolean {
    return this.state.workflow?.reviewerRole === "EXPERT";
  }

  get canEdit(): boolean {
    const workflow = this.state.workflow;
    return workflow?.kind === "DRAFT" && workflow.reviewerRole !== "VERIFIER" && !!this.state.current?.draft;
  }

  /** Whether the open item takes decisions from this reviewer now. */
  get decidable(): boolean {
    const { current, readOnly } = this.state;
    return current !== null && readOnly === null && isOpen(current.status);
  }

  // ------------------------------------------------------------------ life cycle

  /**
   * Listen to the workflow's queueEvents. A subscription the server ends with an error (a
   * slow subscriber, say) is started again after a pause, and the queue read again.
   */
  private subscribeEvents(): void {
    this.unsubscribeEvents = this.client.subscribe(
      docs.QueueEvents,
      { workflow: this.workflowKey },
      {
        next: (data) => {
          this.resubscribeDelay = RESUBSCRIBE_FIRST_MS;
          this.onEvent(data.queueEvents);
        },
        error: (error) => {
          if (this.stopped || this.state.loadError) return; // no workflow: nothing to listen to
          const pause = this.resubscribeDelay;
          this.resubscribeDelay = Math.min(pause * 2, RESUBSCRIBE_MAX_MS);
          this.warn(`Live updates stopped (${describeError(error)}); trying again in ${Math.round(pause / 1000)} s.`);
          window.clearTimeout(this.resubscribeTimer);
          this.resubscribeTimer = window.setTimeout(() => {
            if (this.stopped) return;
            this.subscribeEvents();
            void this.refetchQueue();
          }, pause);
        },
      },
    );
  }

  async start(): Promise<void> {
    this.subscribeEvents();
    const offConnection = this.client.onConnection((connection) => {
      // Events committed while disconnected are not replayed: read everything again, now
      // and once more when the resubscription (sent just after "connected") surely runs.
      if (connection === "connected" && !this.stopped) {
        void this.loadWorkflow();
        void this.refetchQueue();
        window.clearTimeout(this.reconnectTimer);
        this.reconnectTimer = window.setTimeout(() => void this.refetchQueue(), RESUBSCRIBED_AFTER_MS);
      }
    });
    const onHide = () => this.releaseOnExit();
    window.addEventListener("pagehide", onHide);
    this.cleanup.push(
      () => this.unsubscribeEvents(),
      offConnection,
      () => window.removeEventListener("pagehide", onHide),
    );
    const [found] = await Promise.all([this.loadWorkflow(), this.refetchQueue()]);
    if (!found || this.stopped) return;
    this.refreshStats(0);
    await this.openNext();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const fn of this.cleanup) fn();
    window.clearTimeout(this.previewTimer);
    window.clearTimeout(this.statsTimer);
    window.clearTimeout(this.reconnectTimer);
    window.clearTimeout(this.resubscribeTimer);
    this.leave(this.state.current);
    this.listeners.clear();
  }

  /** The tab is closing: give the claim back with a request that outlives the page. */
  private releaseOnExit(): void {
    const current = this.state.current;
    if (current && this.holds(current)) {
      void this.client.request(docs.Release, { id: current.id }, { keepalive: true }).catch(() => {});
    }
  }

  private async loadWorkflow(): Promise<boolean> {
    try {
      const { workflow } = await this.client.request(docs.ReviewWorkflow, { key: this.workflowKey });
      if (this.stopped) return false;
      if (!workflow) {
        this.set({ loadError: `There is no workflow "${this.workflowKey}" (or you may not see it).` });
        return false;
      }
      this.set({ workflow, loadError: null });
      return true;
    } catch (error) {
      if (!(error instanceof Unauthenticated) && !this.stopped) {
        this.set({ loadError: `The workflow could not be read: ${describeError(error)}` });
      }
      return false;
    }
  }

  // ------------------------------------------------------------------ the queue

  setFilters(filters: Filters): void {
    this.set({ filters });
    void this.refetchQueue();
  }

  /** Read the queue again; events that arrive meanwhile are applied on top of the read. */
  async refetchQueue(): Promise<void> {
    const seq = ++this.fetchSeq;
    const { filters } = this.state;
    this.eventsDuringFetch = [];
    this.set({ loadingQueue: true });
    try {
      const { queue } = await this.client.request(docs.Queue, {
        workflow: this.workflowKey,
        tiers: filters.tier ? [filters.tier as Tier] : null,
        statuses: filters.status ? [filters.status as RecommendationStatus] : null,
        first: QUEUE_PAGE,
      });
      if (seq !== this.fetchSeq || this.stopped) return;
      const fetched = queue.edges.map((edge) => edge.node);
      const during = this.eventsDuringFetch ?? [];
      this.eventsDuringFetch = null;
      this.set({
        queue: replaceWithFetched(this.state.queue, fetched, during, this.view),
        more: Math.max(0, queue.totalCount - fetched.length),
        loadingQueue: false,
      });
    } catch (error) {
      if (seq !== this.fetchSeq || this.stopped) return;
      this.eventsDuringFetch = null;
      this.set({ loadingQueue: false });
      if (!(error instanceof Unauthenticated)) this.warn(`The queue could not be read: ${describeError(error)}`);
    }
  }

  private onEvent(event: QueueEvent): void {
    if (this.stopped) return;
    this.eventsDuringFetch?.push(event);
    const before = this.state.queue;
    const queue = applyEvent(before, event, this.view);
    if (queue !== before) this.set({ queue });
    void this.followLastVote(event.recommendation);
    const current = this.state.current;
    const rec = event.recommendation;
    if (!current && this.state.empty !== null && !this.state.opening && this.waitingFor(rec)) {
      // The reviewer was told nothing waits; now something does: open it.
      void this.openNext();
      return;
    }
    if (!current || rec.id !== current.id || rec.version <= current.version) return;
    const byOther = event.actor !== null && event.actor.id !== this.me.id;
    const label = itemLabel(current);
    if (byOther && !isOpen(rec.status) && !this.state.busy) {
      const verdict = event.decision ? verdictDone(event.decision.verdict) : statusLabel(rec.status);
      this.warn(`${label} was ${verdict} by ${event.actor!.name} — moving on.`);
      this.set({ current: null, panel: NO_PANEL, confirm: null });
      void this.openNext();
      return;
    }
    if (byOther && rec.claim && rec.claim.reviewer.id !== this.me.id && !this.state.busy) {
      this.warn(`${rec.claim.reviewer.name} claimed ${label} after your lease lapsed — moving on.`);
      this.set({ current: null, panel: NO_PANEL, confirm: null });
      void this.openNext();
      return;
    }
    this.set({ current: mergeEvent(current, rec) });
  }

  /** The item of the reviewer's last vote changed (another vote): read its votes again. */
  private async followLastVote(rec: QueueItem): Promise<void> {
    const lastVote = this.state.lastVote;
    if (!lastVote || lastVote.itemId !== rec.id) return;
    try {
      const item = (await this.client.request(docs.Item, { id: rec.id })).recommendation;
      const now = this.state.lastVote;
      if (this.stopped || !item?.consensus || now?.itemId !== rec.id) return;
      this.set({ lastVote: { ...now, consensus: item.consensus } });
    } catch {
      // The panel keeps what it showed; the queue row still follows the events.
    }
  }

  /** Whether this item, as an event shows it, is free for this reviewer in this view. */
  private waitingFor(item: QueueItem): boolean {
    return matches(item, this.view) && item.status !== "CLAIMED" && !heldByOther(item, this.me.id, Date.now());
  }

  // ------------------------------------------------------------------ opening items

  private holds(item: Pick<QueueItem, "status" | "claim" | "claims">): boolean {
    return leaseOf(item, this.me.id) !== null && isOpen(item.status);
  }

  /** Give the item's claim back (when this reviewer holds it); never waits. */
  private leave(item: ItemDetail | null): void {
    if (!item || !this.holds(item)) return;
    const id = item.id;
    const pending: Promise<unknown> = this.client.request(docs.Release, { id }).catch(() => {});
    this.releasing.set(id, pending);
    void pending.then(() => {
      if (this.releasing.get(id) === pending) this.releasing.delete(id);
    });
  }

  /**
   * Claim an item by id. A release of it still on its way goes first: coming back to an
   * item just left (k after j) must not have the server take the claim and then the
   * release, which would leave the item free while it is shown as held.
   */
  private async claimById(id: string): Promise<ClaimOutcome> {
    await this.releasing.get(id);
    return (await this.client.request(docs.Claim, { id })).claim;
  }

  /** Claim and open the most urgent item (claimNext); with a status filter, the first listed. */
  async openNext(): Promise<void> {
    const workflow = this.state.workflow;
    if (!workflow || this.stopped) return;
    const seq = ++this.openSeq;
    const leaving = this.state.current;
    this.leave(leaving);
    this.set({ opening: true, current: null, panel: NO_PANEL, problem: null, readOnly: null, empty: null });
    const { filters } = this.state;
    let outcome: ClaimOutcome;
    // An item this reviewer still holds (a reload, another tab) comes first: claimNext
    // hands out free items only, and a held one would otherwise wait for its lease to lapse.
    const now = Date.now();
    const mine = this.state.queue.items.find(
      (item) =>
        item.id !== leaving?.id &&
        Date.parse(leaseOf(item, this.me.id)?.expiresAt ?? "") > now &&
        (filters.status === null || item.status === filters.status),
    );
    try {
      if (mine) {
        outcome = await this.claimById(mine.id);
      } else if (filters.status === null || filters.status === "PENDING") {
        const tiers = filters.tier ? [filters.tier as Tier] : null;
        outcome = (await this.client.request(docs.ClaimNext, { workflow: workflow.key, tiers })).claimNext;
      } else {
        const candidate = this.state.queue.items.find(
          (item) => item.id !== leaving?.id && !heldByOther(item, this.me.id, now),
        );
        if (!candidate) {
          if (seq === this.openSeq) {
            this.set({ opening: false, empty: `No ${statusLabel(filters.status)} item waits for you here.` });
          }
          return;
        }
        outcome = await this.claimById(candidate.id);
      }
    } catch (error) {
      this.openFailed(seq, error);
      return;
    }
    await this.applyClaim(seq, outcome, null);
  }

  /** Open this item: claim it, giving back the one being left. */
  async openItem(id: string): Promise<void> {
    if (!this.state.workflow || this.stopped) return;
    const current = this.state.current;
    if (current?.id === id && this.state.readOnly === null && !this.state.opening) return;
    const seq = ++this.openSeq;
    if (current?.id !== id) this.leave(current);
    this.set({ opening: true, panel: NO_PANEL, problem: null, empty: null });
    let outcome: ClaimOutcome;
    try {
      outcome = await this.claimById(id);
    } catch (error) {
      this.openFailed(seq, error);
      return;
    }
    await this.applyClaim(seq, outcome, id);
  }

  /** j (1) and k (-1): the next or previous item nobody else holds. */
  move(delta: 1 | -1): void {
    const items = this.listed;
    const current = this.state.current;
    const target = neighbour(items, current?.id ?? null, this.cursor, delta, this.me.id, Date.now());
    if (target) {
      void this.openItem(target.id);
      return;
    }
    this.info(delta === 1 ? "That was the last item in the queue." : "That was the first item in the queue.");
  }

  /** Claim the open item again (its lease lapsed). */
  reclaim(): void {
    const current = this.state.current;
    if (current) void this.openItem(current.id);
  }

  private openFailed(seq: number, error: unknown): void {
    if (seq !== this.openSeq || this.stopped || error instanceof Unauthenticated) return;
    this.set({ opening: false });
    this.warn(`The next item could not be opened: ${describeError(error)}`);
  }

  private async applyClaim(seq: number, outcome: ClaimOutcome, requested: string | null): Promise<void> {
    if (seq !== this.openSeq || this.stopped) {
      // Overtaken (the reviewer moved on meanwhile): do not keep what nobody looks at.
      if (outcome.__typename === "ClaimSuccess" && outcome.recommendation.id !== this.state.current?.id) {
        this.leave(outcome.recommendation);
      }
      return;
    }
    switch (outcome.__typename) {
      case "ClaimSuccess": {
        const item = outcome.recommendation;
        const queue = upsert(this.state.queue, item, this.view);
        const index = queue.items.findIndex((entry) => entry.id === item.id);
        if (index >= 0) this.cursor = index;
        this.set({ queue, current: item, readOnly: null, opening: false, empty: null });
        return;
      }
      case "QueueEmpty":
        this.set({ current: null, opening: false, empty: outcome.message });
        return;
      case "NotFound":
        if (requested) this.dropFromQueue(requested);
        this.set({ opening: false });
        this.warn(`That item is no longer there (${outcome.message}).`);
        return;
      default:
        if (requested) {
          await this.showReadOnly(seq, requested, outcome.message);
          return;
        }
        this.set({ current: null, opening: false, empty: outcome.message });
    }
  }

  /** Show an item this reviewer cannot claim now, saying why. */
  private async showReadOnly(seq: number, id: string, why: string): Promise<void> {
    let item: ItemDetail | null = null;
    try {
      item = (await this.client.request(docs.Item, { id })).recommendation;
    } catch (error) {
      this.openFailed(seq, error);
      return;
    }
    if (seq !== this.openSeq || this.stopped) return;
    if (!item) {
      this.dropFromQueue(id);
      this.set({ opening: false, current: null });
      return;
    }
    let reason = why;
    if (item.claim && item.claim.reviewer.id !== this.me.id) {
      reason = `Claimed by ${item.claim.reviewer.name} until ${timeOfDay(item.claim.expiresAt)}.`;
    } else if (!isOpen(item.status)) {
      reason = `Already ${statusLabel(item.status)}${this.whoDecided(item)}.`;
    }
    this.set({ current: item, readOnly: reason, opening: false });
  }

  private dropFromQueue(id: string): void {
    const queue = this.state.queue;
    const gone = new Map(queue.gone);
    const known = queue.items.find((item) => item.id === id);
    if (known) gone.set(id, known.version);
    this.set({ queue: { ...queue, items: queue.items.filter((item) => item.id !== id), gone } });
  }

  /** " by bob", " automatically", or "" — who made the item's latest standing decision. */
  private whoDecided(item: ItemDetail): string {
    const latest = [...item.decisions].reverse().find((d) => !d.undone && d.verdict !== "UNDO");
    if (!latest) return "";
    if (latest.automated || !latest.actor) return " automatically";
    return latest.actor.id === this.me.id ? " by you" : ` by ${latest.actor.name}`;
  }

  // ------------------------------------------------------------------ panels

  setHelp(open: boolean): void {
    this.set({ helpOpen: open });
  }

  // ------------------------------------------------------------------ assignment

  setAssigning(open: boolean): void {
    this.set({ assigning: open && this.state.current !== null });
  }

  /**
   * Pin the open item to a reviewer or a team (both null: unpin) and show it as it is
   * then. A claim of someone the item no longer goes to ends on the server, so when this
   * reviewer's ends the item stays on screen to read, not to decide. Resolves with the
   * problem in words when the server refused (the dialog shows it), else null.
   */
  async assign(target: { reviewer: string | null; team: string | null }): Promise<{ text: string; field: string | null } | null> {
    const current = this.state.current;
    if (!current) return null;
    const held = this.holds(current);
    const { assign: answer } = await this.client.request(docs.Assign, { id: current.id, ...target });
    if (answer.__typename !== "RecommendationSuccess") {
      return { text: answer.message, field: "field" in answer ? (answer.field ?? null) : null };
    }
    const item = answer.recommendation;
    if (this.stopped || this.state.current?.id !== item.id) return null;
    const lost = held && !this.holds(item);
    const pinned = assignmentText(item, this.me.id);
    this.set({
      queue: upsert(this.state.queue, item, this.view),
      current: item,
      assigning: false,
      panel: lost ? NO_PANEL : this.state.panel,
      readOnly: lost ? `${pinned ?? "Assigned"}: only they may claim or decide it now.` : this.state.readOnly,
    });
    this.info(pinned ? `${itemLabel(item)}: ${pinned.charAt(0).toLowerCase()}${pinned.slice(1)}.` : `${itemLabel(item)} is no longer assigned.`);
    return null;
  }

  /** r, f, o, e: open the verdict's panel (nothing happens when it does not apply). */
  startPanel(kind: "reject" | "flag" | "override" | "edit"): void {
    const current = this.state.current;
    if (this.refuse() || !current) return;
    if (kind === "override" && !this.canOverride) {
      this.set({ problem: "This workflow's reviewers approve, reject or flag; they do not override." });
      return;
    }
    if (kind === "edit" && !this.canEdit) {
      this.set({ problem: "Only drafts are edited, in DRAFT workflows whose reviewers are editors or experts." });
      return;
    }
    this.set({ problem: null, failed: null });
    if (kind === "reject") this.set({ panel: { kind, reason: "" } });
    if (kind === "flag") this.set({ panel: { kind, note: "" } });
    if (kind === "override") this.set({ panel: { kind, step: "action", action: null, reason: "", tags: [] } });
    if (kind === "edit") {
      const content = current.draft?.content ?? "";
      this.set({ panel: { kind, content, preview: { line: null, message: null, pending: true }, asking: false } });
      void this.preview(content);
    }
  }

  /** Esc: leave the panel (or the "Ship it?" question) without deciding. */
  escape(): void {
    const panel = this.state.panel;
    if (panel.kind === "edit" && panel.asking) {
      this.set({ panel: { ...panel, asking: false } });
      return;
    }
    if (panel.kind === "override" && panel.step === "reason") {
      this.set({ panel: { ...panel, step: "action" }, problem: null });
      return;
    }
    this.set({ panel: NO_PANEL, problem: null });
  }

  closePanel(): void {
    this.set({ panel: NO_PANEL, problem: null });
  }

  setReason(reason: string): void {
    const panel = this.state.panel;
    if (panel.kind === "reject") this.set({ panel: { ...panel, reason } });
    if (panel.kind === "flag") this.set({ panel: { ...panel, note: reason } });
    if (panel.kind === "override") {
      // A picked suggestion stays a tag while the reason still says it.
      const tags = panel.tags.filter((tag) => reason.includes(tag));
      this.set({ panel: { ...panel, reason, tags } });
    }
  }

  /** The override's action, by its number (1 = the workflow's first action). */
  pickAction(number: number): void {
    const panel = this.state.panel;
    const workflow = this.state.workflow;
    const current = this.state.current;
    if (panel.kind !== "override" || !workflow || !current) return;
    const action = workflow.actions[number - 1];
    if (action === undefined) return;
    if (action === current.proposedAction) {
      this.set({ problem: `${action} is the proposal: pick another action, or approve it with a.` });
      return;
    }
    this.set({ panel: { ...panel, step: "reason", action }, problem: null });
  }

  /** A suggested reason (the workflow's reasonSuggestions), by its number. */
  pickReason(number: number): void {
    const panel = this.state.panel;
    const label = this.state.workflow?.reasonSuggestions[number - 1];
    if (panel.kind !== "override" || label === undefined) return;
    const reason = panel.reason.trim() ? `${panel.reason.trim()}; ${label}` : label;
    const tags = panel.tags.includes(label) ? panel.tags : [...panel.tags, label];
    this.set({ panel: { ...panel, reason, tags }, problem: null });
  }

  editChanged(content: string): void {
    const panel = this.state.panel;
    if (panel.kind !== "edit") return;
    this.set({ panel: { ...panel, content, asking: false, preview: { ...panel.preview, pending: true } } });
    window.clearTimeout(this.previewTimer);
    this.previewTimer = window.setTimeout(() => void this.preview(content), PREVIEW_DELAY_MS);
  }

  /** Re-score the edited draft (previewEdit); only the latest answer is shown. */
  private async preview(content: string): Promise<void> {
    const current = this.state.current;
    if (!current) return;
    const seq = ++this.previewSeq;
    let preview: Preview;
    try {
      const { previewEdit } = await this.client.request(docs.PreviewEdit, { id: current.id, content });
      if (previewEdit.__typename === "DraftPreview") {
        const line =
          previewEdit.predictedScore == null
            ? null
            : predictionLine(
                this.state.workflow?.scoreLabel,
                previewEdit.originalPredictedScore,
                previewEdit.predictedScore,
              );
        preview = { line, message: previewEdit.scoreMessage ?? null, pending: false };
      } else {
        preview = { line: null, message: previewEdit.message, pending: false };
      }
    } catch (error) {
      if (error instanceof Unauthenticated) return;
      preview = { line: null, message: `No score: ${describeError(error)}`, pending: false };
    }
    const panel = this.state.panel;
    if (seq !== this.previewSeq || panel.kind !== "edit" || this.state.current?.id !== current.id) return;
    this.set({ panel: { ...panel, preview } });
  }

  // ------------------------------------------------------------------ deciding

  private request(verb: Verb, extra: Partial<DecisionRequest> = {}): DecisionRequest | null {
    const current = this.state.current;
    if (!current) return null;
    return {
      verb,
      itemId: current.id,
      // A vote is cast on what every reviewer sees alike; others' leases and votes move the
      // version meanwhile, which must not turn one's vote into a conflict.
      version: current.consensus?.state === "COLLECTING" ? null : current.version,
      label: itemLabel(current),
      proposedAction: current.proposedAction,
      stakes: current.stakes,
      ...extra,
    };
  }

  /** Why a verdict key does nothing now, said rather than swallowed. */
  private refuse(): boolean {
    const { current, readOnly, busy, opening } = this.state;
    if (busy) return true;
    if (!current) {
      this.set({ problem: opening ? "The item is still opening." : "No item is open." });
      return true;
    }
    if (!this.decidable) {
      this.set({ problem: `${itemLabel(current)} cannot be decided from here: ${readOnly ?? statusLabel(current.status)}` });
      return true;
    }
    return false;
  }

  /** a: approve the open item at once. */
  approve(): void {
    if (this.refuse()) return;
    const request = this.request("approve");
    if (request) void this.decide(request);
  }

  /** Enter in a panel: decide with what it holds (an edit first asks "Ship it?"). */
  submitPanel(): void {
    const panel = this.state.panel;
    if (this.state.busy || !this.decidable) return;
    let request: DecisionRequest | null = null;
    if (panel.kind === "reject") request = this.request("reject", { reason: panel.reason.trim() || null });
    if (panel.kind === "flag") {
      if (!panel.note.trim()) {
        this.set({ problem: "Write a note to flag the item: it says why it waits." });
        return;
      }
      request = this.request("flag", { reason: panel.note.trim() });
    }
    if (panel.kind === "override") {
      if (!panel.action) {
        this.set({ problem: "Pick the action first, by its number." });
        return;
      }
      if (!panel.reason.trim()) {
        this.set({ problem: "Say why: pick a suggested reason by its number, or type one." });
        return;
      }
      request = this.request("override", { action: panel.action, reason: panel.reason.trim(), tags: panel.tags });
    }
    if (panel.kind === "edit") {
      if (!panel.asking) {
        this.set({ panel: { ...panel, asking: true } });
        return;
      }
      request = this.request("edit", { content: panel.content });
    }
    if (request) void this.decide(request);
  }

  /** Send a decision; its answer decides what the screen does next. */
  async decide(request: DecisionRequest): Promise<void> {
    if (this.state.busy || this.stopped) return;
    this.set({ busy: true, failed: null, problem: null });
    let outcome: Outcome;
    try {
      outcome = await sendDecision(this.client, request);
    } catch (error) {
      if (this.stopped) return;
      this.set({ busy: false, confirm: null });
      if (error instanceof Unauthenticated) return;
      this.set({ failed: { request, message: describeError(error) } });
      return;
    }
    if (this.stopped) return;
    this.set({ busy: false });
    switch (outcome.__typename) {
      case "DecisionSuccess":
        await this.decided(request, outcome);
        return;
      case "ConfirmationRequired":
        this.set({
          confirm: {
            request: { ...request, token: null },
            token: outcome.token,
            expiresAt: outcome.expiresAt,
            message: outcome.message,
            lapsed: null,
          },
        });
        return;
      case "Conflict":
        await this.conflicted(request, outcome.message);
        return;
      case "NotFound":
        this.dropFromQueue(request.itemId);
        this.warn(`${request.label} is no longer there (${outcome.message}) — moving on.`);
        this.set({ current: null, panel: NO_PANEL, confirm: null });
        await this.openNext();
        return;
      case "InvalidInput":
        if (outcome.field === "confirmationToken") {
          this.set({
            confirm: {
              request: { ...request, token: null },
              token: "",
              expiresAt: new Date(0).toISOString(),
              message: outcome.message,
              lapsed: "This confirmation is no longer valid (it lapsed or was used). Ask again for a new one.",
            },
          });
          return;
        }
        this.set({ problem: outcome.message, confirm: null });
        return;
      default:
        this.set({ problem: outcome.message, confirm: null });
    }
  }

  private async decided(request: DecisionRequest, success: Success): Promise<void> {
    const workflow = this.state.workflow;
    const { decision, recommendation } = success;
    const now = Date.now();
    const undoMs = (workflow?.policy.undoSeconds ?? 0) * 1000;
    const deadline = Math.min(now + undoMs, Date.parse(decision.createdAt) + undoMs);
    const minDwell = workflow?.policy.minDwellMs ?? 0;
    const fast =
      request.verb !== "flag" && decision.dwellMs != null && minDwell > 0 && decision.dwellMs < minDwell;
    const decidedText = decidedSentence(request);
    const what = afterVoteText(request.label, decidedText, recommendation.consensus, decision.vote) ?? decidedText;
    const voted = decision.vote ? new Set([...this.state.voted, recommendation.id]) : this.state.voted;
    const lastVote =
      decision.vote && recommendation.consensus
        ? { itemId: recommendation.id, label: request.label, consensus: recommendation.consensus }
        : this.state.lastVote;
    this.set({
      voted,
      lastVote,
      queue: upsert(this.state.queue, recommendation, this.view),
      current: null,
      panel: NO_PANEL,
      confirm: null,
      failed: null,
      problem: null,
      last:
        undoMs > 0 && !(decision.vote && recommendation.consensus?.state !== "COLLECTING")
          ? {
              decisionId: decision.id,
              itemId: recommendation.id,
              label: request.label,
              text: `your ${NOUN[request.verb]} of ${request.label}`,
              deadline,
            }
          : null,
      notice: { text: what, tone: "info" },
      dwellNote: fast
        ? `A gentle note: you decided this in ${seconds(decision.dwellMs!)} (this workflow suggests at least ${seconds(minDwell)}).`
        : null,
    });
    this.refreshStats();
    await this.openNext();
  }

  /** A Conflict: say who decided the item and move on, or show it as it is now. */
  private async conflicted(request: DecisionRequest, message: string): Promise<void> {
    let item: ItemDetail | null;
    try {
      item = (await this.client.request(docs.Item, { id: request.itemId })).recommendation;
    } catch (error) {
      if (error instanceof Unauthenticated) return;
      this.set({ failed: { request, message: `${message}; reading the item again failed: ${describeError(error)}` } });
      return;
    }
    if (this.stopped) return;
    if (!item) {
      this.dropFromQueue(request.itemId);
      this.warn(`${request.label} is no longer there — moving on.`);
      this.set({ current: null, panel: NO_PANEL, confirm: null });
      await this.openNext();
      return;
    }
    const queue = upsert(this.state.queue, item, this.view);
    const latest = [...item.decisions].reverse().find((d) => !d.undone && d.verdict !== "UNDO");
    if (!isOpen(item.status)) {
      const verdict = latest ? verdictDone(latest.verdict) : statusLabel(item.status);
      const who = this.whoDecided(item);
      const yours = latest?.actor?.id === this.me.id;
      this.set({ queue, current: null, panel: NO_PANEL, confirm: null });
      if (yours) this.info(`${request.label} was already ${verdict} by you (your earlier try went through) — moving on.`);
      else this.warn(`${request.label} was already ${verdict}${who} — moving on.`);
      await this.openNext();
      return;
    }
    if (item.claim && heldByOther(item, this.me.id, Date.now())) {
      this.set({ queue, current: null, panel: NO_PANEL, confirm: null });
      this.warn(`${request.label} is claimed by ${item.claim.reviewer.name} — moving on.`);
      await this.openNext();
      return;
    }
    // Still open, but changed under the reviewer: show it as it is now; the panel stays.
    const change = latest && latest.actor?.id !== this.me.id ? ` (${verdictDone(latest.verdict)}${this.whoDecided(item)})` : "";
    this.set({ queue, current: item, confirm: null });
    this.warn(`${request.label} changed meanwhile${change}; it is shown as it is now — decide again.`);
    if (!this.holds(item)) {
      const seq = ++this.openSeq;
      try {
        const outcome = await this.claimById(item.id);
        await this.applyClaim(seq, outcome, item.id);
      } catch (error) {
        this.openFailed(seq, error);
      }
    }
  }

  /** Enter in the confirmation dialog (after typing the word) or its Confirm button. */
  confirmDecision(): void {
    const confirm = this.state.confirm;
    if (!confirm || confirm.lapsed || this.state.busy) return;
    if (Date.parse(confirm.expiresAt) <= Date.now()) {
      this.set({
        confirm: {
          ...confirm,
          lapsed: `This confirmation lapsed at ${timeOfDay(confirm.expiresAt)}. Ask again for a new one.`,
        },
      });
      return;
    }
    void this.decide({ ...confirm.request, token: confirm.token });
  }

  /** The token lapsed: send the decision again without one, for a new confirmation. */
  askAgain(): void {
    const confirm = this.state.confirm;
    if (!confirm || this.state.busy) return;
    this.set({ confirm: null });
    void this.decide({ ...confirm.request, token: null });
  }

  cancelConfirm(): void {
    const confirm = this.state.confirm;
    if (!confirm) return;
    this.set({ confirm: null });
    this.info(`Not confirmed: nothing was decided on ${confirm.request.label}.`);
  }

  /** The failed decision, once more (its panel's text is still there). */
  retry(): void {
    const failed = this.state.failed;
    if (failed) void this.decide(failed.request);
  }

  discardFailed(): void {
    const failed = this.state.failed;
    if (!failed) return;
    this.set({ failed: null });
    this.info(`Discarded: your ${NOUN[failed.request.verb]} of ${failed.request.label} was not sent.`);
  }

  /** u: take the last decision back while its window is open, and open the item again. */
  async undo(): Promise<void> {
    const last = this.state.last;
    if (!last || this.state.busy) return;
    if (Date.now() > last.deadline) {
      this.set({ last: null });
      this.info("The undo window has closed.");
      return;
    }
    this.set({ busy: true, problem: null });
    let outcome: Outcome;
    try {
      outcome = (await this.client.request(docs.Undo, { decisionId: last.decisionId })).undo;
    } catch (error) {
      this.set({ busy: false });
      if (!(error instanceof Unauthenticated)) this.warn(`Undo did not go through: ${describeError(error)}`);
      return;
    }
    this.set({ busy: false });
    if (outcome.__typename !== "DecisionSuccess") {
      this.set({ last: outcome.__typename === "Conflict" ? null : last });
      this.warn(`Could not undo: ${outcome.message}`);
      return;
    }
    const retracted = (set: ReadonlySet<string>) => new Set([...set].filter((id) => id !== last.itemId));
    this.set({
      queue: upsert(this.state.queue, outcome.recommendation, this.view),
      last: null,
      dwellNote: null,
      voted: retracted(this.state.voted),
      lastVote: this.state.lastVote?.itemId === last.itemId ? null : this.state.lastVote,
    });
    this.info(`Undone: ${last.label} is back in the queue.`);
    this.refreshStats();
    await this.openItem(last.itemId);
  }

  // ------------------------------------------------------------------ my stats

  /** Read this reviewer's reviewerStats row again, soon (several decisions, one read). */
  refreshStats(delay = STATS_DELAY_MS): void {
    window.clearTimeout(this.statsTimer);
    this.statsTimer = window.setTimeout(() => void this.loadStats(), delay);
  }

  private async loadStats(): Promise<void> {
    try {
      const { reviewerStats } = await this.client.request(docs.MyStats, { workflow: this.workflowKey });
      if (this.stopped) return;
      this.set({ stats: reviewerStats.find((row) => row.reviewer.id === this.me.id) ?? null, statsError: null });
    } catch (error) {
      if (this.stopped || error instanceof Unauthenticated) return;
      const refused = error instanceof GraphQLRequestError && error.code === "FORBIDDEN";
      this.set({ statsError: refused ? "Your role keeps no reviewer stats." : `Not available: ${describeError(error)}` });
    }
  }
}

/** The open item with an event's news; its votes stay as read (events carry none). */
function mergeEvent(current: ItemDetail, rec: QueueItem): ItemDetail {
  const consensus = rec.consensus ? { ...rec.consensus, votes: current.consensus?.votes ?? [] } : null;
  return { ...current, ...rec, consensus };
}
