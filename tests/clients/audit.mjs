#!/usr/bin/env node
// The GraphQL-over-HTTP audit suite of `graphql-http` (serverAudits) against a running Arbiter.
//
//   ARBITER_TOKEN=... node audit.mjs --url http://127.0.0.1:8000/graphql [--timeout 30]
//
// stdout: one JSON line, a list of {id, name, status, reason} in the suite's order, where status
// is "ok", or "notice" / "warn" / "error" with the reason. Exit 1 if the suite could not run.

import { serverAudits } from "graphql-http";

import { answer, authorizedFetch, fail, options, token, within } from "./lib.mjs";

const opts = options("audit", { url: { type: "string" }, timeout: { type: "string", default: "30" } }, [
  "url",
]);
const fetchFn = authorizedFetch(token("audit"));

async function main() {
  const results = [];
  for (const { id, name, fn } of serverAudits({ url: opts.url, fetchFn })) {
    const result = await fn();
    results.push({ id, name, status: result.status, reason: result.reason ?? null });
  }
  return results;
}

within(Number(opts.timeout), "the audits", main()).then(answer, (error) => fail("audit", error.stack ?? error));
