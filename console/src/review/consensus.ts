/**
 * Several reviews per item, in words (pure functions): how many reviews are in, where the
 * consensus stands, each vote, and which lease on an item is this reviewer's.
 */
import { verdictDone } from "./format";

export type ConsensusState = "COLLECTING" | "REACHED" | "DISPUTED" | "ADJUDICATED";

export interface ConsensusCount {
  reviewsRequired: number;
  agreementRequired: number;
  reviewsIn: number;
  state: ConsensusState | string;
}

export interface Vote {
  id: string;
  verdict: string;
  finalAction: string | null;
  editedContent?: string | null;
  reason: string | null;
  createdAt: string;
  actor: { id: string; name: string } | null;
}

interface Lease {
  expiresAt: string;
  reviewer: { id: string; name: string };
}

const STATE_WORDS: Record<string, string> = {
  COLLECTING: "collecting",
  REACHED: "agreed",
  DISPUTED: "disputed: waiting for a senior",
  ADJUDICATED: "adjudicated",
};

/** "collecting", "agreed", "disputed: waiting for a senior", "adjudicated". */
export function stateWords(state: string): string {
  return STATE_WORDS[state] ?? state.toLowerCase();
}

/** "2 of 3 reviews in". */
export function reviewsInText(c: ConsensusCount): string {
  return `${c.reviewsIn} of ${c.reviewsRequired} ${c.reviewsRequired === 1 ? "review" : "reviews"} in`;
}

/** "2 of 3 reviews in · 2 must agree · collecting". */
export function consensusLine(c: ConsensusCount): string {
  return `${reviewsInText(c)} · ${c.agreementRequired} must agree · ${stateWords(c.state)}`;
}

/** The queue's small badge: "2/3". */
export function badgeText(c: ConsensusCount): string {
  return `${c.reviewsIn}/${c.reviewsRequired}`;
}

/** "Approved by ana: approve_loan · “fine”" (`me` reads "you"). */
export function voteText(vote: Vote, me: string): string {
  const who = vote.actor ? (vote.actor.id === me ? "you" : vote.actor.name) : "someone";
  const verdict = verdictDone(vote.verdict);
  let text = `${verdict.charAt(0).toUpperCase()}${verdict.slice(1)} by ${who}`;
  if (vote.finalAction) text += `: ${vote.finalAction}`;
  if (vote.editedContent) text += ` (edited: “${vote.editedContent}”)`;
  if (vote.reason) text += ` · “${vote.reason}”`;
  return text;
}

/** Whether `me` has voted on the item, as far as its visible votes say. */
export function hasVoted(votes: readonly Vote[], me: string): boolean {
  return votes.some((vote) => vote.actor?.id === me);
}

/**
 * This reviewer's live lease on the item, if any: the single `claim` of an item one review
 * decides, or their own among `claims` while several reviewers hold the item at once.
 */
export function leaseOf<T extends Lease>(
  item: { claim: T | null; claims?: readonly T[] | null },
  me: string,
): T | null {
  if (item.claim?.reviewer.id === me) return item.claim;
  return item.claims?.find((claim) => claim.reviewer.id === me) ?? null;
}

/**
 * What the screen says after this reviewer's vote or decision on an item with a consensus:
 * null when the item needs one review (the usual "Approved app-2." stands).
 */
export function afterVoteText(label: string, decided: string, c: ConsensusCount | null, vote: boolean): string | null {
  if (!c) return null;
  if (!vote) return c.state === "ADJUDICATED" ? `Adjudicated: ${decided}` : null;
  switch (c.state) {
    case "COLLECTING":
      return `Your vote is in on ${label}: ${reviewsInText(c)}, ${c.agreementRequired} must agree; it stays open for the others.`;
    case "REACHED":
      return `Your vote is in and ${c.agreementRequired} agree: ${label} is decided. ${decided}`;
    case "DISPUTED":
      return `Your vote is in on ${label}: ${reviewsInText(c)} without ${c.agreementRequired} agreeing, so it is disputed and waits for a senior.`;
    default:
      return null;
  }
}
