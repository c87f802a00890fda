#!/usr/bin/env node
// urql (@urql/core) at its default settings against a running Arbiter: a query (sent as GET, the
// default `preferGetMethod: 'within-url-limit'`), a mutation (POST), and a queueEvents subscription
// through its subscriptionExchange over graphql-ws that hears the ADDED event of a submission.
//
//   ARBITER_TOKEN=<admin> node urql.mjs --url http://127.0.0.1:8000/graphql --workflow KEY
//                                     [--timeout 15]
//
// stdout: one JSON line {me, meMethod, createWorkflow, createMethod, submitted, event}, where
// `...Method` is the HTTP method urql used and `submitted` the ids of the items submitted until
// the first event arrived (the subscription may start after the first submission).

import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";

import { answer, fail, options, token, within } from "./lib.mjs";

const ME = gql`
  query Me {
    me {
      name
      role
    }
  }
`;

const CREATE_WORKFLOW = gql`
  mutation CreateWorkflow($key: String!) {
    createWorkflow(
      input: { key: $key, name: $key, kind: CLASSIFICATION, reviewerRole: EXPERT, actions: ["A", "B"] }
    ) {
      __typename
      ... on WorkflowSuccess {
        workflow {
          key
        }
      }
      ... on Problem {
        message
      }
    }
  }
`;

const SUBMIT = gql`
  mutation Submit($workflow: String!) {
    submitRecommendations(workflow: $workflow, items: [{ payload: {}, proposedAction: "A", confidence: 0.8 }]) {
      __typename
      ... on SubmitSuccess {
        recommendations {
          id
        }
      }
    }
  }
`;

const QUEUE_EVENTS = gql`
  subscription QueueEvents($workflow: String!) {
    queueEvents(workflow: $workflow) {
      id
      kind
      recommendation {
        id
        status
        tier
      }
    }
  }
`;

const opts = options(
  "urql",
  { url: { type: "string" }, workflow: { type: "string" }, timeout: { type: "string", default: "15" } },
  ["url", "workflow"],
);
const bearer = token("urql");
const seconds = Number(opts.timeout);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const ws = createWsClient({
  url: opts.url.replace(/^http/, "ws"),
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${bearer}` },
  retryAttempts: 0,
});

const methods = [];
const client = new Client({
  url: opts.url,
  fetchOptions: { headers: { Authorization: `Bearer ${bearer}` } },
  fetch: (url, init) => {
    methods.push(init?.method ?? "GET");
    return fetch(url, init);
  },
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || "" };
        return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
      },
    }),
  ],
});

function checked(result, what) {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  return result.data;
}

async function main() {
  const me = checked(await client.query(ME, {}).toPromise(), "me");
  const meMethod = methods.at(-1);
  const created = checked(await client.mutation(CREATE_WORKFLOW, { key: opts.workflow }).toPromise(), "create");
  const createMethod = methods.at(-1);

  let heard;
  const event = new Promise((resolve, reject) => {
    heard = client.subscription(QUEUE_EVENTS, { workflow: opts.workflow }).subscribe((result) => {
      if (result.error) reject(new Error(`queueEvents: ${result.error.message}`));
      else resolve(result.data.queueEvents);
    });
  });
  const submitted = [];
  let arrived;
  event.then((value) => (arrived = value), () => {});
  // The subscription is live only once the server has run it; until an event arrives, submit again.
  while (arrived === undefined) {
    const data = checked(await client.mutation(SUBMIT, { workflow: opts.workflow }).toPromise(), "submit");
    submitted.push(...(data.submitRecommendations.recommendations ?? []).map((item) => item.id));
    await Promise.race([event, sleep(500)]);
  }
  heard.unsubscribe();
  return { me: me.me, meMethod, createWorkflow: created.createWorkflow, createMethod, submitted, event: await event };
}

within(seconds, "urql", main()).then(answer, (error) => fail("urql", error.stack ?? error));
