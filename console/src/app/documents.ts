/** The shell's GraphQL documents: who is signed in, and the workflows with their counts. */
import { graphql } from "../gql";

export const Me = graphql(`
  query ConsoleMe {
    me {
      id
      name
      role
    }
  }
`);

export const Workflows = graphql(`
  query ConsoleWorkflows {
    workflows {
      id
      key
      name
      kind
      reviewerRole
      queueCounts {
        tier
        status
        count
      }
    }
  }
`);

export const WorkflowActivity = graphql(`
  subscription ConsoleWorkflowActivity($workflow: String!) {
    queueEvents(workflow: $workflow) {
      id
      kind
    }
  }
`);
