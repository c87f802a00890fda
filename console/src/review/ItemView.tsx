/** The open item: its proposal, claim and lease, payload, explanation, draft and history. */
import type { ComponentChildren } from "preact";
import { assignmentText } from "./assignment";
import { leaseOf } from "./consensus";
import { ConsensusView } from "./ConsensusView";
import { ContributionChart } from "./ContributionChart";
import type { ItemDetail, Me } from "./controller";
import {
  clock,
  formatScore,
  itemLabel,
  percent,
  seconds,
  slaText,
  statusLabel,
  tierLabel,
  timeOfDay,
  verdictDone,
} from "./format";
import { PayloadTable } from "./PayloadTable";

interface Props {
  item: ItemDetail;
  me: Me;
  now: number;
  scoreLabel: string | null;
  readOnly: string | null;
  onReclaim: () => void;
  /** Opens the "Assign…" dialog; absent for roles that may not assign. */
  onAssign?: () => void;
  /** The decision buttons and panels, placed under the proposal. */
  children?: ComponentChildren;
}

export function ItemView({ item, me, now, scoreLabel, readOnly, onReclaim, onAssign, children }: Props) {
  const sla = slaText(item.slaDueAt, now);
  return (
    <>
      <h2 class="item-title">
        {itemLabel(item)}
        {item.subject && item.externalId && <span class="muted"> {item.subject}</span>}
      </h2>
      <p class="proposal">
        <span>
          Proposal <strong class="proposed-action">{item.proposedAction}</strong>
        </span>
        <span>
          confidence <strong>{percent(item.confidence)}</strong>
        </span>
        <span>{tierLabel(item.tier)}</span>
        <span>{statusLabel(item.status)}</span>
        <span class={sla.overdue ? "overdue" : undefined}>SLA {sla.text}</span>
        {item.slaBreached && <span class="overdue">SLA breached</span>}
        {item.stakes != null && <span>stakes {item.stakes.toLocaleString()}</span>}
      </p>
      <ClaimLine item={item} me={me} now={now} onReclaim={onReclaim} readOnly={readOnly} />
      <AssignmentLine item={item} me={me} onAssign={onAssign} />
      {readOnly && <p class="read-only">{readOnly}</p>}
      {item.consensus && <ConsensusView consensus={item.consensus} me={me.id} title="Reviews" />}
      {children}
      <PayloadTable payload={item.payload} />
      {item.explanation.length > 0 && <ContributionChart items={item.explanation} proposed={item.proposedAction} />}
      {item.draft && <DraftView draft={item.draft} scoreLabel={scoreLabel} />}
      <History decisions={item.decisions} me={me} />
    </>
  );
}

function ClaimLine({
  item,
  me,
  now,
  onReclaim,
  readOnly,
}: {
  item: ItemDetail;
  me: Me;
  now: number;
  onReclaim: () => void;
  readOnly: string | null;
}) {
  const claim = leaseOf(item, me.id) ?? item.claim;
  const open = ["PENDING", "CLAIMED", "FLAGGED", "AWAITING_CONFIRMATION"].includes(item.status);
  if (!open) return null;
  if (claim && claim.reviewer.id !== me.id) {
    const left = Date.parse(claim.expiresAt) - now;
    if (left > 0) {
      return (
        <p class="claim">
          Claimed by {claim.reviewer.name} until {timeOfDay(claim.expiresAt)}
        </p>
      );
    }
  }
  if (claim && claim.reviewer.id === me.id) {
    const left = Date.parse(claim.expiresAt) - now;
    if (left > 0) {
      return (
        <p class="claim">
          Claimed by you · lease <span class="timer">{clock(left)}</span> left
        </p>
      );
    }
  }
  if (readOnly) return null;
  return (
    <p class="claim lapsed">
      {claim ? "Your lease lapsed: someone else may take this item. " : "Not claimed. "}
      <button type="button" class="btn btn-plain" onClick={onReclaim}>
        Claim again
      </button>
    </p>
  );
}

/** Whom the item is pinned to (everyone sees it), and "Assign…" for those who may. */
function AssignmentLine({ item, me, onAssign }: { item: ItemDetail; me: Me; onAssign?: () => void }) {
  const text = assignmentText(item, me.id);
  const open = ["PENDING", "CLAIMED", "FLAGGED", "AWAITING_CONFIRMATION", "NEEDS_DATA"].includes(item.status);
  if (!text && !(onAssign && open)) return null;
  return (
    <p class="assignment">
      {text && <span class="assigned">{text}</span>}
      {onAssign && open && (
        <button type="button" class="btn btn-plain" onClick={onAssign}>
          Assign…
        </button>
      )}
    </p>
  );
}

function DraftView({ draft, scoreLabel }: { draft: NonNullable<ItemDetail["draft"]>; scoreLabel: string | null }) {
  return (
    <div class="draft">
      <h3>Draft</h3>
      {draft.predictedScore != null && (
        <p class="muted">
          Predicted {scoreLabel || "score"} {formatScore(draft.predictedScore)}
        </p>
      )}
      <pre class="draft-text">{draft.content}</pre>
      {draft.content !== draft.original && (
        <details>
          <summary>The original draft</summary>
          <pre class="draft-text">{draft.original}</pre>
        </details>
      )}
      {draft.revisions.length > 0 && (
        <details>
          <summary>Revisions ({draft.revisions.length})</summary>
          <ol>
            {draft.revisions.map((revision) => (
              <li key={revision.createdAt}>
                {timeOfDay(revision.createdAt)} by {revision.author?.name ?? "someone"}
                {revision.predictedScore != null && ` · ${formatScore(revision.predictedScore)}`}
                <pre class="draft-text">{revision.content}</pre>
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}

function History({ decisions, me }: { decisions: ItemDetail["decisions"]; me: Me }) {
  return (
    <div class="history">
      <h3>History</h3>
      {decisions.length === 0 ? (
        <p class="muted">No decisions yet.</p>
      ) : (
        <ol>
          {decisions.map((decision) => {
            const who = decision.automated
              ? "automatically"
              : `by ${decision.actor ? (decision.actor.id === me.id ? "you" : decision.actor.name) : "someone"}`;
            const verdict = decision.verdict === "UNDO" ? "Undo" : capitalise(verdictDone(decision.verdict));
            const kind = decision.vote ? "Vote: " : "";
            return (
              <li key={decision.id} class={decision.undone ? "undone" : undefined}>
                <time dateTime={decision.createdAt}>{timeOfDay(decision.createdAt)}</time> {kind}
                {verdict} {who}
                {decision.verdict === "OVERRIDE" && decision.finalAction && <> to {decision.finalAction}</>}
                {decision.reason && <> · “{decision.reason}”</>}
                {decision.dwellMs != null && <> · {seconds(decision.dwellMs)}</>}
                {decision.undone && <span class="tag tag-undone"> undone</span>}
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
