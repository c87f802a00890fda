/** "My stats": the reviewer's own reviewerStats row, with the fatigue warning when there is one. */
import type { StatsRow } from "./controller";
import { percent, seconds } from "./format";

export function MyStats({ stats, error }: { stats: StatsRow | null | undefined; error: string | null }) {
  return (
    <aside class="stats" aria-labelledby="stats-title">
      <h2 id="stats-title">My stats</h2>
      {error ? (
        <p class="muted">{error}</p>
      ) : stats === undefined ? (
        <p class="muted">Reading…</p>
      ) : stats === null ? (
        <p class="muted">No decisions of yours in the last 30 days yet.</p>
      ) : (
        <>
          {stats.fatigueWarning && (
            <p class="fatigue">
              <strong>Fatigue warning:</strong> {stats.fatigueWarning}
            </p>
          )}
          <dl>
            <dt>Decisions, last 30 days</dt>
            <dd>{stats.decisions}</dd>
            <dt>Today</dt>
            <dd>{stats.decisionsToday}</dd>
            <dt>Median time per item</dt>
            <dd>{stats.medianDwellMs == null ? "–" : seconds(stats.medianDwellMs)}</dd>
            <dt>Agreed with the model</dt>
            <dd>{stats.agreementRate == null ? "–" : percent(stats.agreementRate)}</dd>
            <dt>Faster than the suggested minimum</dt>
            <dd>{stats.fastDecisions}</dd>
            <dt>Accuracy on spot checks</dt>
            <dd>{stats.auditAccuracy == null ? "–" : percent(stats.auditAccuracy)}</dd>
          </dl>
        </>
      )}
    </aside>
  );
}
