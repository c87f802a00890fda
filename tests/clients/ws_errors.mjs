#!/usr/bin/env node
// On ONE graphql-ws connection: a syntax error, then a document over the token limit, then a valid
// queueEvents subscription that hears the ADDED event of a submission (made over HTTP).
//
//   ARBITER_TOKEN=<admin> node ws_errors.mjs --url http://127.0.0.1:8000/graphql --workflow KEY
//                                          [--tokens 4000] [--timeout 15]
//
// The workflow must exist. stdout: one JSON line {syntaxError, overLimit, event, submitted,
// connections, closes}: the error messages of the first two (or what else they got), the event
// of the third, the ids submitted until it arrived, and how often the socket opened and closed
// before it did.

import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { answer, fail, options, token, within } from "./lib.mjs";

const opts = options(
  "ws_errors",
  {
    url: { type: "string" },
    workflow: { type: "string" },
    tokens: { type: "string", default: "4000" },
    timeout: { type: "string", default: "15" },
  },
  ["url", "workflow"],
);
const bearer = token("ws_errors");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const SYNTAX_ERROR = 'subscription { queueEvents(workflow: "x") { id }'; // the closing brace is missing
// `id` repeated past the limit: every field name is a token.
const OVER_LIMIT = `subscription { queueEvents(workflow: "x") { ${"id ".repeat(Number(opts.tokens) + 1)}} }`;
const QUEUE_EVENTS = `subscription($workflow: String!) {
  queueEvents(workflow: $workflow) { id kind recommendation { id status } }
}`;
const SUBMIT = `mutation($workflow: String!) {
  submitRecommendations(workflow: $workflow, items: [{payload: {}, proposedAction: "A", confidence: 0.8}]) {
    __typename ... on SubmitSuccess { recommendations { id } }
  }
}`;

let connections = 0;
let closes = 0;
const client = createClient({
  url: opts.url.replace(/^http/, "ws"),
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${bearer}` },
  lazy: false, // one socket for the whole run, whether or not a subscription is active
  retryAttempts: 0,
  on: { connected: () => (connections += 1), closed: () => (closes += 1) },
});

/** The first thing the subscription gets: {next}, {error: [messages]}, or {complete: true}. */
function first(query, variables = {}) {
  let unsubscribe = () => {};
  const outcome = new Promise((resolve) => {
    unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result) => resolve({ next: result }),
        error: (error) =>
          resolve({
            error: Array.isArray(error)
              ? error.map((e) => e.message)
              : [error?.message ?? `closed ${error?.code} ${error?.reason ?? ""}`.trim()],
          }),
        complete: () => resolve({ complete: true }),
      },
    );
  });
  return { outcome, unsubscribe: () => unsubscribe() };
}

async function submit() {
  const response = await fetch(opts.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query: SUBMIT, variables: { workflow: opts.workflow } }),
  });
  const body = await response.json();
  const result = body.data?.submitRecommendations;
  if (result?.__typename !== "SubmitSuccess") throw new Error(`submit: ${JSON.stringify(body)}`);
  return result.recommendations[0].id;
}

async function main() {
  const syntaxError = await first(SYNTAX_ERROR).outcome;
  const overLimit = await first(OVER_LIMIT).outcome;
  const valid = first(QUEUE_EVENTS, { workflow: opts.workflow });
  let arrived;
  valid.outcome.then((value) => (arrived = value));
  // The subscription is live only once the server has run it; until something arrives, submit again.
  const submitted = [];
  while (arrived === undefined) {
    submitted.push(await submit());
    await Promise.race([valid.outcome, sleep(500)]);
  }
  const result = { syntaxError, overLimit, event: arrived, submitted, connections, closes };
  valid.unsubscribe();
  await client.dispose();
  return result;
}

within(Number(opts.timeout), "ws_errors", main()).then(answer, (error) => fail("ws_errors", error.stack ?? error));
