/**
 * A reviewer's verdicts as the API takes them: what is sent (the version seen, the
 * confirmation token when there is one) and how the console words it.
 */
import type { ApiClient } from "../api/client";
import type { ConsoleDecisionOutcomeFragment } from "../gql/graphql";
import * as docs from "./documents";

export type DecisionOutcome = ConsoleDecisionOutcomeFragment;

export type Verb = "approve" | "reject" | "flag" | "override" | "edit";

export interface DecisionRequest {
  verb: Verb;
  itemId: string;
  /** The version the reviewer saw; null for a vote (other reviewers move it meanwhile). */
  version: number | null;
  label: string;
  proposedAction: string;
  stakes: number | null;
  reason?: string | null;
  tags?: string[];
  action?: string;
  content?: string;
  token?: string | null;
}

const PAST: Record<Verb, string> = {
  approve: "Approved",
  reject: "Rejected",
  flag: "Flagged",
  override: "Overrode",
  edit: "Shipped the edit of",
};

/** "approval", "override", ...: what a reviewer sent, as a noun. */
export const NOUN: Record<Verb, string> = {
  approve: "approval",
  reject: "rejection",
  flag: "flag",
  override: "override",
  edit: "edit",
};

/** "Approved app-2 (approve_loan).", "Overrode app-2: decline_loan instead of approve_loan." */
export function decidedSentence(request: DecisionRequest): string {
  let what = `${PAST[request.verb]} ${request.label}`;
  if (request.verb === "approve") what += ` (${request.proposedAction})`;
  if (request.verb === "override") what += `: ${request.action} instead of ${request.proposedAction}`;
  return `${what}.`;
}

/** Send the decision; its typed answer (success, ConfirmationRequired, Conflict, ...). */
export async function sendDecision(client: ApiClient, request: DecisionRequest): Promise<DecisionOutcome> {
  const base = { id: request.itemId, version: request.version };
  const token = request.token ?? null;
  switch (request.verb) {
    case "approve":
      return (await client.request(docs.Approve, { ...base, token })).approve;
    case "reject":
      return (await client.request(docs.Reject, { ...base, reason: request.reason ?? null, token })).reject;
    case "flag":
      return (await client.request(docs.Flag, { ...base, note: request.reason ?? "" })).flag;
    case "override":
      return (
        await client.request(docs.Override, {
          ...base,
          action: request.action ?? "",
          reason: request.reason ?? "",
          tags: request.tags ?? [],
          token,
        })
      ).override;
    case "edit":
      return (await client.request(docs.Edit, { ...base, content: request.content ?? "", token })).edit;
  }
}
