#!/usr/bin/env node
// Subscribe to an Arbiter server with the `graphql-ws` client (graphql-transport-ws protocol),
// as a JavaScript frontend would, and print what arrives.
//
//   node subscribe.mjs --url ws://127.0.0.1:8000/graphql --token TOKEN --workflow KEY
//                      [--tiers ANALYST_REVIEW,SENIOR_REVIEW] [--count 1] [--timeout 15]
//   node subscribe.mjs --url ... --token ... --query 'subscription($id: ID!) { jobProgress(id: $id) { state } }'
//                      --variables '{"id": "job_..."}'
//
// The token may also come from ARBITER_TOKEN (it is then not visible in the process list).
// It is sent in connection_init as {"Authorization": "Bearer <token>"}.
//
// stdout: one JSON line per received event (the value of the subscription's root field),
// and nothing else. stderr: progress and the reason for a failure.
//
// Exit status:
//   0  --count events arrived
//   1  an error: GraphQL errors in a result, an `error` message, a socket error
//   2  bad arguments
//   3  --timeout seconds passed before --count events
//   4  the server closed the connection (the close code is printed, e.g. 4403 for a bad
//      token) or completed the subscription before --count events

import { parseArgs } from "node:util";

import { createClient } from "graphql-ws";
import WebSocket from "ws";

const QUEUE_EVENTS = `subscription QueueEvents($workflow: String!, $tiers: [Tier!]) {
  queueEvents(workflow: $workflow, tiers: $tiers) {
    id
    kind
    at
    previousTier
    recommendation { id status tier version confidence }
    actor { id name role }
    decision { id verdict finalAction }
  }
}`;

const EXIT = { ok: 0, error: 1, usage: 2, timeout: 3, closed: 4 };

function say(message) {
  process.stderr.write(`subscribe: ${message}\n`);
}

function usage(message) {
  say(message);
  say(
    "usage: node subscribe.mjs --url WS_URL (--token TOKEN | ARBITER_TOKEN=...) " +
      "(--workflow KEY [--tiers T1,T2] | --query DOCUMENT [--variables JSON]) " +
      "[--count N] [--timeout SECONDS]",
  );
  process.exit(EXIT.usage);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        url: { type: "string" },
        token: { type: "string" },
        workflow: { type: "string" },
        tiers: { type: "string" },
        query: { type: "string" },
        variables: { type: "string" },
        count: { type: "string", default: "1" },
        timeout: { type: "string", default: "15" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    usage(error.message);
  }
  const token = parsed.token ?? process.env.ARBITER_TOKEN;
  if (!parsed.url) usage("--url is required");
  if (token === undefined) usage("--token (or ARBITER_TOKEN) is required");
  if (!parsed.workflow && !parsed.query) usage("give --workflow or --query");
  const count = Number(parsed.count);
  if (!Number.isInteger(count) || count < 1) usage("--count must be a positive integer");
  const timeout = Number(parsed.timeout);
  if (!(timeout > 0)) usage("--timeout must be a positive number of seconds");
  let variables = {};
  if (parsed.variables) {
    try {
      variables = JSON.parse(parsed.variables);
    } catch (error) {
      usage(`--variables is not JSON: ${error.message}`);
    }
  }
  if (!parsed.query) {
    variables = { workflow: parsed.workflow, ...variables };
    if (parsed.tiers) variables.tiers = parsed.tiers.split(",").map((t) => t.trim());
  }
  return {
    url: parsed.url,
    token,
    query: parsed.query ?? QUEUE_EVENTS,
    variables,
    count,
    timeout,
  };
}

function describe(failure) {
  if (Array.isArray(failure)) {
    // an `error` message: the operation's GraphQL errors
    return [EXIT.error, `the server answered with errors: ${JSON.stringify(failure)}`];
  }
  if (failure && typeof failure === "object" && "code" in failure && "reason" in failure) {
    const reason = failure.reason ? ` (${failure.reason})` : "";
    return [EXIT.closed, `the connection closed with code ${failure.code}${reason}`];
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  return [EXIT.error, `error: ${message || "unknown"}`];
}

async function main() {
  const opts = options();
  let received = 0;
  let finished = false;
  let unsubscribe = () => {};

  const client = createClient({
    url: opts.url,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${opts.token}` },
    lazy: true,
    retryAttempts: 0, // a refused or dropped connection is the answer, not something to retry
    on: {
      connected: () => say(`connected to ${opts.url}`),
    },
  });

  async function finish(code, message) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (message) say(message);
    process.exitCode = code;
    try {
      unsubscribe();
      await client.dispose();
    } catch {
      // already closed
    }
    // Whatever the socket still holds must not keep the process alive.
    setTimeout(() => process.exit(code), 1000).unref();
  }

  const timer = setTimeout(() => {
    finish(
      EXIT.timeout,
      `timed out after ${opts.timeout}s with ${received} of ${opts.count} events`,
    );
  }, opts.timeout * 1000);

  unsubscribe = client.subscribe(
    { query: opts.query, variables: opts.variables },
    {
      next: (result) => {
        if (finished) return;
        if (result.errors?.length) {
          finish(EXIT.error, `the result has errors: ${JSON.stringify(result.errors)}`);
          return;
        }
        const data = result.data ?? {};
        const fields = Object.keys(data);
        const event = fields.length === 1 ? data[fields[0]] : data;
        process.stdout.write(`${JSON.stringify(event)}\n`);
        received += 1;
        if (received >= opts.count) finish(EXIT.ok, `received ${received} events`);
      },
      error: (failure) => {
        const [code, message] = describe(failure);
        finish(code, `${message}; received ${received} of ${opts.count} events`);
      },
      complete: () => {
        if (received < opts.count) {
          finish(
            EXIT.closed,
            `the subscription completed after ${received} of ${opts.count} events`,
          );
        }
      },
    },
  );
}

main().catch((error) => {
  say(`error: ${error?.stack ?? error}`);
  process.exit(EXIT.error);
});
