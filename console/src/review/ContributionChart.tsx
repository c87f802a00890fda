/**
 * The explanation's feature contributions as a horizontal bar chart: plain elements, the
 * bars decorative, every number also written out (what a screen reader reads).
 */
import { scalarText, signed } from "./format";

interface Contribution {
  feature: string;
  value: unknown;
  contribution: number;
}

const SHOWN = 12;

export function ContributionChart({ items, proposed }: { items: Contribution[]; proposed: string }) {
  const rows = [...items].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, SHOWN);
  const largest = Math.max(...rows.map((row) => Math.abs(row.contribution)), Number.EPSILON);
  return (
    <figure class="chart">
      <figcaption>
        Why the model proposed <strong>{proposed}</strong>: what each feature contributed
      </figcaption>
      <ul class="bars">
        {rows.map((row) => {
          const width = `${Math.max(1, Math.round((Math.abs(row.contribution) / largest) * 100))}%`;
          const shown = row.value === undefined || row.value === null ? "" : ` = ${scalarText(row.value)}`;
          return (
            <li key={row.feature} class="bar-row">
              <span class="bar-label">
                {row.feature}
                {shown}
              </span>
              <span class="bar-track" aria-hidden="true">
                <span class="bar-half bar-half-neg">
                  {row.contribution < 0 && <span class="bar bar-neg" style={{ width }} />}
                </span>
                <span class="bar-half bar-half-pos">
                  {row.contribution > 0 && <span class="bar bar-pos" style={{ width }} />}
                </span>
              </span>
              <span class="bar-value">
                {signed(row.contribution)} {row.contribution >= 0 ? "for" : "against"}
              </span>
            </li>
          );
        })}
      </ul>
      {items.length > rows.length && <p class="muted">…and {items.length - rows.length} smaller ones.</p>}
    </figure>
  );
}
