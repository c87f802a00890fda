/** Every GraphQL document the review screens send (typed by graphql-codegen). */
import { graphql } from "../gql";

graphql(`
  fragment ConsoleQueueItem on Recommendation {
    id
    externalId
    subject
    payload
    proposedAction
    confidence
    stakes
    tier
    status
    version
    slaDueAt
    slaBreached
    createdAt
    claim {
      claimedAt
      expiresAt
      reviewer {
        id
        name
      }
    }
    assignee {
      id
      name
    }
    assignedTeam {
      key
      name
    }
    claims {
      claimedAt
      expiresAt
      reviewer {
        id
        name
      }
    }
    consensus {
      reviewsRequired
      agreementRequired
      reviewsIn
      state
    }
  }
`);

graphql(`
  fragment ConsoleConsensusVotes on Recommendation {
    consensus {
      votes {
        id
        verdict
        finalAction
        editedContent
        reason
        createdAt
        actor {
          id
          name
        }
      }
    }
  }
`);

graphql(`
  fragment ConsoleItemDetail on Recommendation {
    ...ConsoleQueueItem
    ...ConsoleConsensusVotes
    modelVersion
    finalAction
    decidedAt
    explanation {
      feature
      value
      contribution
    }
    draft {
      original
      content
      originalPredictedScore
      predictedScore
      revisions {
        content
        predictedScore
        createdAt
        author {
          name
        }
      }
    }
    decisions {
      id
      verdict
      automated
      undone
      vote
      finalAction
      reason
      reasonTags
      dwellMs
      createdAt
      actor {
        id
        name
      }
    }
  }
`);

graphql(`
  fragment ConsoleDecisionOutcome on DecisionResult {
    __typename
    ... on DecisionSuccess {
      decision {
        id
        verdict
        finalAction
        dwellMs
        createdAt
        vote
      }
      recommendation {
        ...ConsoleQueueItem
        ...ConsoleConsensusVotes
      }
    }
    ... on ConfirmationRequired {
      message
      token
      expiresAt
    }
    ... on Conflict {
      message
      currentStatus
      currentVersion
    }
    ... on InvalidInput {
      message
      field
    }
    ... on Problem {
      message
    }
  }
`);

graphql(`
  fragment ConsoleClaimOutcome on ClaimResult {
    __typename
    ... on ClaimSuccess {
      recommendation {
        ...ConsoleItemDetail
      }
    }
    ... on Conflict {
      message
      currentStatus
    }
    ... on Problem {
      message
    }
  }
`);

export const ReviewWorkflow = graphql(`
  query ConsoleReviewWorkflow($key: String!) {
    workflow(key: $key) {
      id
      key
      name
      kind
      reviewerRole
      actions
      scoreLabel
      reasonSuggestions
      policy {
        version
        minDwellMs
        undoSeconds
        highStakesAt
        blindReview
      }
    }
  }
`);

export const Queue = graphql(`
  query ConsoleQueue($workflow: String!, $tiers: [Tier!], $statuses: [RecommendationStatus!], $first: Int) {
    queue(workflow: $workflow, tiers: $tiers, statuses: $statuses, first: $first) {
      totalCount
      edges {
        node {
          ...ConsoleQueueItem
        }
      }
    }
  }
`);

export const Item = graphql(`
  query ConsoleItem($id: ID!) {
    recommendation(id: $id) {
      ...ConsoleItemDetail
    }
  }
`);

export const ClaimNext = graphql(`
  mutation ConsoleClaimNext($workflow: String!, $tiers: [Tier!]) {
    claimNext(workflow: $workflow, tiers: $tiers) {
      ...ConsoleClaimOutcome
    }
  }
`);

export const Claim = graphql(`
  mutation ConsoleClaim($id: ID!) {
    claim(id: $id) {
      ...ConsoleClaimOutcome
    }
  }
`);

export const Release = graphql(`
  mutation ConsoleRelease($id: ID!) {
    release(id: $id) {
      __typename
      ... on Problem {
        message
      }
    }
  }
`);

export const Approve = graphql(`
  mutation ConsoleApprove($id: ID!, $version: Int, $token: String) {
    approve(id: $id, expectedVersion: $version, confirmationToken: $token) {
      ...ConsoleDecisionOutcome
    }
  }
`);

export const Reject = graphql(`
  mutation ConsoleReject($id: ID!, $reason: String, $version: Int, $token: String) {
    reject(id: $id, reason: $reason, expectedVersion: $version, confirmationToken: $token) {
      ...ConsoleDecisionOutcome
    }
  }
`);

export const Flag = graphql(`
  mutation ConsoleFlag($id: ID!, $note: String!, $version: Int) {
    flag(id: $id, note: $note, expectedVersion: $version) {
      ...ConsoleDecisionOutcome
    }
  }
`);

export const Override = graphql(`
  mutation ConsoleOverride(
    $id: ID!
    $action: String!
    $reason: String!
    $tags: [String!]
    $version: Int
    $token: String
  ) {
    override(
      id: $id
      action: $action
      reason: $reason
      reasonTags: $tags
      expectedVersion: $version
      confirmationToken: $token
    ) {
      ...ConsoleDecisionOutcome
    }
  }
`);

export const Edit = graphql(`
  mutation ConsoleEdit($id: ID!, $content: String!, $version: Int, $token: String) {
    edit(id: $id, content: $content, expectedVersion: $version, confirmationToken: $token) {
      ...ConsoleDecisionOutcome
    }
  }
`);

export const Undo = graphql(`
  mutation ConsoleUndo($decisionId: ID!) {
    undo(decisionId: $decisionId) {
      ...ConsoleDecisionOutcome
    }
  }
`);

export const PreviewEdit = graphql(`
  mutation ConsolePreviewEdit($id: ID!, $content: String!) {
    previewEdit(id: $id, content: $content) {
      __typename
      ... on DraftPreview {
        predictedScore
        originalPredictedScore
        delta
        scoreMessage: message
      }
      ... on Problem {
        message
      }
    }
  }
`);

export const MyStats = graphql(`
  query ConsoleMyStats($workflow: String!) {
    reviewerStats(workflow: $workflow) {
      decisions
      decisionsToday
      medianDwellMs
      agreementRate
      fastDecisions
      auditAccuracy
      canariesMissed
      fatigueWarning
      reviewer {
        id
        name
      }
    }
  }
`);

export const QueueEvents = graphql(`
  subscription ConsoleQueueEvents($workflow: String!) {
    queueEvents(workflow: $workflow) {
      id
      kind
      at
      previousTier
      recommendation {
        ...ConsoleQueueItem
      }
      actor {
        id
        name
      }
      decision {
        id
        verdict
        finalAction
      }
    }
  }
`);

export const Assign = graphql(`
  mutation ConsoleAssign($id: ID!, $reviewer: ID, $team: String) {
    assign(id: $id, reviewer: $reviewer, team: $team) {
      __typename
      ... on RecommendationSuccess {
        recommendation {
          ...ConsoleItemDetail
        }
      }
      ... on Problem {
        message
      }
      ... on InvalidInput {
        field
      }
    }
  }
`);

/** Whom an item may be assigned to: every team (with its members), and for admins every user. */
export const AssignChoices = graphql(`
  query ConsoleAssignChoices($admin: Boolean!) {
    teams {
      key
      name
      members {
        id
        name
        role
        active
      }
      workflows {
        key
      }
    }
    users @include(if: $admin) {
      id
      name
      role
      active
    }
  }
`);
