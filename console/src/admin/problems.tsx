/**
 * Typed problems, shown plainly next to the control that caused them. Mutations answer
 * unions (`... | InvalidInput | Forbidden | NotFound | Conflict`); queries such as
 * simulatePolicy answer bad input with a top-level BAD_USER_INPUT error naming the field.
 */
import { GraphQLRequestError, NetworkError, Unauthenticated } from "../api/client";

/** What went wrong, in words, and the input field it names (if any). */
export interface Trouble {
  kind: string;
  text: string;
  field: string | null;
}

const KINDS: Record<string, string> = {
  InvalidInput: "Invalid input",
  Forbidden: "Not allowed",
  NotFound: "Not found",
  Conflict: "Conflict",
  BAD_USER_INPUT: "Invalid input",
  FORBIDDEN: "Not allowed",
  NOT_FOUND: "Not found",
};

/** A mutation's answer: a success type, or a problem with its message. */
export interface Answer {
  __typename: string;
  message?: string;
  field?: string | null;
}

/** The answer's problem, or null when it is a success. */
export function troubleOf(answer: Answer): Trouble | null {
  if (answer.message === undefined) return null;
  return {
    kind: answer.__typename,
    text: `${KINDS[answer.__typename] ?? answer.__typename}: ${answer.message}`,
    field: answer.field ?? null,
  };
}

/** A thrown request error (network, authentication, top-level GraphQL error) as a problem. */
export function troubleFromError(error: unknown): Trouble {
  if (error instanceof GraphQLRequestError) {
    const first = error.errors[0];
    const code = error.code ?? "ERROR";
    const field = first?.extensions?.["field"];
    return {
      kind: code,
      text: `${KINDS[code] ?? "Error"}: ${error.message}`,
      field: typeof field === "string" ? field : null,
    };
  }
  if (error instanceof Unauthenticated) return { kind: "UNAUTHENTICATED", text: error.message, field: null };
  if (error instanceof NetworkError) {
    return { kind: "NETWORK", text: `The server could not be reached: ${error.message}`, field: null };
  }
  return { kind: "ERROR", text: error instanceof Error ? error.message : String(error), field: null };
}

/** A problem next to its control; nothing when there is none (or it belongs elsewhere). */
export function ProblemNote({ trouble, field, id }: { trouble: Trouble | null; field?: string; id?: string }) {
  if (!trouble) return null;
  if (field !== undefined && trouble.field !== field) return null;
  return (
    <p class="adm-problem" role="alert" id={id}>
      {trouble.text}
    </p>
  );
}
