#!/usr/bin/env node
// Apollo Client 4 against a running Arbiter: a mutation that answers a problem, read through
// `... on Problem { message }`, once with the possibleTypes the server publishes at
// /possible-types.json and once without them (where Apollo cannot match the interface).
//
//   ARBITER_TOKEN=... node apollo.mjs --url http://127.0.0.1:8000/graphql [--timeout 15]
//
// stdout: one JSON line {possibleTypes, withPossibleTypes, withoutPossibleTypes}: the map as
// served, and the mutation's `approve` field as each client returned it.

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";

import { answer, fail, options, token, within } from "./lib.mjs";

const APPROVE_NOTHING = gql`
  mutation ApproveNothing {
    approve(id: "rec_nope", expectedVersion: 1) {
      __typename
      ... on Problem {
        message
      }
    }
  }
`;

const opts = options("apollo", { url: { type: "string" }, timeout: { type: "string", default: "15" } }, [
  "url",
]);
const bearer = token("apollo");

async function served() {
  // Published like the schema: a frontend's build fetches it without a token.
  const response = await fetch(new URL("/possible-types.json", opts.url));
  if (!response.ok) throw new Error(`GET /possible-types.json answered ${response.status}`);
  return response.json();
}

async function approve(possibleTypes) {
  const client = new ApolloClient({
    link: new HttpLink({ uri: opts.url, headers: { Authorization: `Bearer ${bearer}` } }),
    cache: new InMemoryCache(possibleTypes ? { possibleTypes } : {}),
  });
  try {
    const { data } = await client.mutate({ mutation: APPROVE_NOTHING });
    return data.approve;
  } finally {
    client.stop();
  }
}

async function main() {
  const possibleTypes = await served();
  return {
    possibleTypes,
    withPossibleTypes: await approve(possibleTypes),
    withoutPossibleTypes: await approve(null),
  };
}

within(Number(opts.timeout), "apollo", main()).then(answer, (error) => fail("apollo", error.stack ?? error));
