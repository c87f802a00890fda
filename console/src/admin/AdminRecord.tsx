/**
 * The admin record: what admins did (users, tokens, teams, assignments, policies,
 * webhooks), newest first, a page of 50 at a time; "Older" pages on with `after`.
 */
import { useEffect, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { when } from "./format";
import { useQuery } from "./hooks";
import { ProblemNote } from "./problems";
import { TableHead } from "./TableHead";

const Page = graphql(`
  query AdminRecord($first: Int!, $after: String) {
    adminActions(first: $first, after: $after) {
      id
      action
      target
      details
      at
      actor {
        id
        name
      }
    }
  }
`);

export const PAGE_SIZE = 50;

/** Details as one line of JSON; "–" when there are none. */
export function compact(details: unknown): string {
  if (details == null) return "–";
  if (typeof details === "object" && Object.keys(details).length === 0) return "–";
  return JSON.stringify(details);
}

export function AdminRecord({ client, round }: { client: ApiClient; round: number }) {
  // The `after` of every page shown so far: the last is the page on screen.
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const after = pages[pages.length - 1];
  const record = useQuery(client, Page, { first: PAGE_SIZE, after });
  const reload = record.reload;
  useEffect(() => {
    if (round > 0) reload();
  }, [round, reload]);
  const actions = record.data?.adminActions ?? [];
  const last = actions[actions.length - 1];
  const newest = pages.length === 1;

  return (
    <section class="adm-section" aria-labelledby="adm-record">
      <h2 id="adm-record">Admin record</h2>
      <p class="adm-note">
        {newest ? "The newest actions" : `Older actions (page ${pages.length})`}, {PAGE_SIZE} at most a page. Secrets are never recorded.
      </p>
      <ProblemNote trouble={record.trouble} />
      {record.data && actions.length === 0 && <p>{newest ? "No admin action yet." : "Nothing older."}</p>}
      {actions.length > 0 && (
        <table class="adm-table adm-record" aria-busy={record.loading}>
          <caption>What admins did</caption>
          <TableHead columns={["When", "Who", "What", "Target", "Details"]} />
          <tbody>
            {actions.map((a) => (
              <tr key={a.id}>
                <td>
                  <time dateTime={a.at}>{when(a.at)}</time>
                </td>
                <td>{a.actor.name}</td>
                <td>
                  <code>{a.action}</code>
                </td>
                <td>{a.target ? <code>{a.target}</code> : "–"}</td>
                <td>
                  <code class="adm-details">{compact(a.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="adm-row">
        <button type="button" disabled={newest} onClick={() => setPages([null])}>
          Newest
        </button>
        <button type="button" disabled={newest} onClick={() => setPages(pages.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={!last || actions.length < PAGE_SIZE} onClick={() => last && setPages([...pages, last.id])}>
          Older
        </button>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
    </section>
  );
}
