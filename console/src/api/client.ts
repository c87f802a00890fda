/**
 * The console's only way to the server: the public GraphQL API, over HTTP (POST,
 * application/graphql-response+json) and graphql-ws for subscriptions. Documents are
 * typed by graphql-codegen (src/gql), so `request(Doc, vars)` is checked end to end.
 */
import { createClient, type Client } from "graphql-ws";
import { graphql } from "../gql";
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

/** "connected" after every (re)connect; "lost" when an open or opening socket closed. */
export type ConnectionState = "connecting" | "connected" | "lost";
export type ConnectionListener = (state: ConnectionState) => void;

export interface RequestOptions {
  /** Let the request outlive the page (a release sent while the tab closes). */
  keepalive?: boolean;
}

/** What went wrong, in words a reviewer can act on. */
export function describeError(error: unknown): string {
  if (error instanceof NetworkError) return `The server could not be reached (${error.message}).`;
  if (error instanceof GraphQLRequestError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export class ApiClient {
  private ws: Client | null = null;
  private onUnauthenticated: UnauthenticatedListener = () => {};
  private readonly connectionListeners = new Set<ConnectionListener>();
  private connection: ConnectionState = "connecting";
  private closing = false;

  constructor(
    readonly token: string,
    private readonly endpoint = "/graphql",
  ) {}

  whenUnauthenticated(listener: UnauthenticatedListener): void {
    this.onUnauthenticated = listener;
  }

  /** Run a query or mutation; resolves with its data, rejects with a typed error. */
  async request<R, V>(
    document: TypedDocumentString<R, V>,
    variables?: V,
    options: RequestOptions = {},
  ): Promise<R> {
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
        keepalive: options.keepalive ?? false,
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
      throw new NetworkError(`the server answered ${response.status} without JSON`);
    }
    if (body.errors?.length) throw new GraphQLRequestError(body.errors);
    if (body.data == null) throw new NetworkError(`the server answered ${response.status}`);
    return body.data;
  }

  /** Hear about the WebSocket's state; returns a function that stops listening. */
  onConnection(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  get connectionState(): ConnectionState {
    return this.connection;
  }

  private setConnection(state: ConnectionState): void {
    this.connection = state;
    for (const listener of [...this.connectionListeners]) listener(state);
  }

  /**
   * The WebSocket client (one per session), authenticated in connection_init. It connects
   * at once and retries forever with backoff; graphql-ws resubscribes after a reconnect,
   * and listeners of onConnection hear "connected" so that they read their data again
   * (events committed while disconnected are not replayed).
   */
  socket(on: { connected?: () => void; closed?: () => void } = {}): Client {
    if (on.connected || on.closed) {
      this.onConnection((state) => {
        if (state === "connected") on.connected?.();
        if (state === "lost") on.closed?.();
      });
    }
    if (this.ws === null) {
      const url = new URL(this.endpoint, window.location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      this.closing = false;
      this.ws = createClient({
        url: url.toString(),
        connectionParams: { Authorization: `Bearer ${this.token}` },
        lazy: false,
        retryAttempts: Infinity,
        shouldRetry: () => true,
        onNonLazyError: () => {},
        retryWait: async (retries) => {
          await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 4000)));
        },
        on: {
          connected: () => this.setConnection("connected"),
          closed: (event) => {
            if (this.closing) return;
            this.setConnection("lost");
            // 4403: the token was refused. Ask over HTTP, whose 401 ends the session.
            const code = (event as { code?: number } | undefined)?.code;
            if (code === 4403 || code === 4401) void this.checkToken();
          },
        },
      });
    }
    return this.ws;
  }

  private async checkToken(): Promise<void> {
    try {
      await this.request(TOKEN_CHECK);
    } catch {
      // A 401 already told the session; anything else is the outage the banner shows.
    }
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
    this.closing = true;
    void this.ws?.dispose();
    this.ws = null;
    this.connectionListeners.clear();
  }
}

/** The smallest query there is: answers 401 when the token is not valid. */
const TOKEN_CHECK = graphql(`
  query ConsoleTokenCheck {
    __typename
  }
`);
