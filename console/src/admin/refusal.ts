/**
 * The part of a mutation's answer the admin screens read when the server refuses: the
 * problem's message, and the input field it names (InvalidInput). Spread it as
 * `__typename ...AdminRefusal` next to the success type's fields.
 */
import { graphql } from "../gql";

graphql(`
  fragment AdminRefusal on Problem {
    message
    ... on InvalidInput {
      field
    }
  }
`);
