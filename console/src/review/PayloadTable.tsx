/** A payload as a readable table: nested objects as indented rows under their key. */
import { payloadRows } from "./format";

export function PayloadTable({ payload }: { payload: unknown }) {
  const rows = payloadRows(payload);
  return (
    <table class="payload">
      <caption>Payload</caption>
      <thead class="visually-hidden">
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.path} class={row.value === undefined ? "group" : undefined}>
            <th scope="row" class={`depth-${Math.min(row.depth, 6)}`}>
              {row.key}
            </th>
            <td>{row.value ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
