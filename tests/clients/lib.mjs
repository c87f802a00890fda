// What the client scripts share: options, the bearer token, bounded waits, the JSON answer.

import { parseArgs } from "node:util";

/** Parse --name value options (all strings); exit 2 naming what is missing or unknown. */
export function options(script, spec, required = []) {
  let values;
  try {
    values = parseArgs({ options: spec, strict: true, allowPositionals: false }).values;
  } catch (error) {
    fail(script, error.message, 2);
  }
  for (const name of required) {
    if (values[name] === undefined) fail(script, `--${name} is required`, 2);
  }
  return values;
}

/** The token from ARBITER_TOKEN (kept out of the process list). */
export function token(script) {
  const value = process.env.ARBITER_TOKEN;
  if (!value) fail(script, "set ARBITER_TOKEN to a bearer token", 2);
  return value;
}

/** fetch with `Authorization: Bearer <token>` on every request; each request is recorded. */
export function authorizedFetch(bearer, requests = []) {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${bearer}`);
    const request = new Request(input, { ...init, headers });
    requests.push({ method: request.method, url: request.url });
    return fetch(request);
  };
}

/** `promise`, or a rejection naming `what` after `seconds`. */
export function within(seconds, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${seconds}s`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Print the answer as one JSON line and exit 0 (the socket or timers must not keep us). */
export function answer(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

/** Say why on stderr and exit with `code` (1: the run failed, 2: bad arguments). */
export function fail(script, message, code = 1) {
  process.stderr.write(`${script}: ${message}\n`);
  process.exit(code);
}
