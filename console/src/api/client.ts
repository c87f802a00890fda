/**
 * The console's only way to the server: the public GraphQL API, over HTTP (POST,
 * application/graphql-response+json) and graphql-ws for subscriptions. Documents are
 * typed by graphql-codegen (src/gql), so `request(Doc, vars)` is checked end to end.
 */
import { createClient, type Client } from "graphql-ws";
import type { TypedDocumentString } from "../gql/graphql";

export class Unauthenticated extends Error {}
export class NetworkError extends Error {}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string } & Record<string, unknown>;
}

export class GraphQLRequestError extends Error {
  constructor(readonly errors: GraphQLErrorShape[]) {
    super(errors.map((e) => e.message).join("; "));
  }
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

export type UnauthenticatedListener = () => void;

export class ApiClient {
  private ws: Client | null = null;
  private onUnauthenticated: UnauthenticatedListener = () => {};

  constructor(
    readonly token: string,
    private readonly endpoint = "/graphql",
  ) {}

  whenUnauthenticated(listener: UnauthenticatedListener): void {
    this.onUnauthenticated = listener;
  }

  /** Run a query or mutation; resolves with its data, rejects with a typed error. */
  async request<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/graphql-response+json, application/json;q=0.9",
          Authorization: `Bearer ${this.token}`,
        },
        body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      });
    } catch (error) {
      throw new NetworkError(error instanceof Error ? error.message : String(error));
    }
    if (response.status === 401) {
      this.onUnauthenticated();
      throw new Unauthenticated("Your token is not valid (any more). Sign in again.");
    }
    let body: { data?: R | null; errors?: GraphQLErrorShape[] };
    try {
      body = await response.json();
    } catch {
      throw new NetworkError(`The server answered ${response.status} without JSON.`);
    }
    if (body.errors?.length) throw new GraphQLRequestError(body.errors);
    if (body.data == null) throw new NetworkError(`The server answered ${response.status}.`);
    return body.data;
  }

  /** The WebSocket client (one per session), authenticated in connection_init. */
  socket(on: { connected?: () => void; closed?: () => void } = {}): Client {
    if (this.ws === null) {
      const url = new URL(this.endpoint, window.location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      this.ws = createClient({
        url: url.toString(),
        connectionParams: { Authorization: `Bearer ${this.token}` },
        retryAttempts: Infinity,
        shouldRetry: () => true,
        retryWait: async (retries) => {
          await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 4000)));
        },
        on: { connected: () => on.connected?.(), closed: () => on.closed?.() },
      });
    }
    return this.ws;
  }

  /** Subscribe to a typed subscription; returns a function that ends it. */
  subscribe<R, V>(
    document: TypedDocumentString<R, V>,
    variables: V,
    handlers: { next: (data: R) => void; error?: (error: unknown) => void },
  ): () => void {
    return this.socket().subscribe<R>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          if (result.data) handlers.next(result.data as R);
          else if (result.errors) handlers.error?.(new GraphQLRequestError(result.errors as GraphQLErrorShape[]));
        },
        error: (error) => handlers.error?.(error),
        complete: () => {},
      },
    );
  }

  close(): void {
    void this.ws?.dispose();
    this.ws = null;
  }
}
