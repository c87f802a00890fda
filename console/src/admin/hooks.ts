/** Small data hooks for the admin screens: a query that reloads, a debounced value. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import type { TypedDocumentString } from "../gql/graphql";
import { troubleFromError, type Trouble } from "./problems";

export interface Loaded<R> {
  data: R | null;
  trouble: Trouble | null;
  loading: boolean;
  /** Run the query again (after a mutation, a finished job, an event). */
  reload: () => void;
}

/**
 * Run `document` with `variables` whenever they change (compared as JSON), keeping the
 * last answer on screen while the next one loads; an answer that arrives after a newer
 * request was sent is dropped. `variables` null means "not yet" (nothing is sent).
 */
export function useQuery<R, V>(
  client: ApiClient,
  document: TypedDocumentString<R, V>,
  variables: V | null,
): Loaded<R> {
  const [data, setData] = useState<R | null>(null);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [loading, setLoading] = useState(variables !== null);
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  const key = variables === null ? null : JSON.stringify(variables);

  useEffect(() => {
    if (key === null) return;
    const ticket = ++latest.current;
    setLoading(true);
    client.request(document, JSON.parse(key) as V).then(
      (answer) => {
        if (ticket !== latest.current) return;
        setData(answer);
        setTrouble(null);
        setLoading(false);
      },
      (error: unknown) => {
        if (ticket !== latest.current) return;
        setTrouble(troubleFromError(error));
        setLoading(false);
      },
    );
  }, [client, document, key, round]);

  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, trouble, loading, reload };
}

/** `value`, once it has stopped changing for `ms` milliseconds. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
