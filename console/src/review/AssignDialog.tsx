/**
 * "Assign…": pin the open item to a reviewer or a team, or unpin it. A native modal
 * <dialog> (focus stays inside, Esc cancels); the choices are read when it opens.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { describeError, type ApiClient } from "../api/client";
import type { ConsoleAssignChoicesQuery } from "../gql/graphql";
import { assignChoices, assignmentText, type Choice } from "./assignment";
import type { ItemDetail, Me } from "./controller";
import { AssignChoices } from "./documents";
import { itemLabel } from "./format";

interface Props {
  client: ApiClient;
  me: Me;
  workflow: string;
  item: ItemDetail;
  assign: (target: { reviewer: string | null; team: string | null }) => Promise<{ text: string } | null>;
  onClose: () => void;
}

export function AssignDialog({ client, me, workflow, item, assign, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const selectRef = useRef<HTMLSelectElement>(null);
  const [data, setData] = useState<ConsoleAssignChoicesQuery | null>(null);
  const [chosen, setChosen] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useLayoutEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, []);
  useEffect(() => {
    let alive = true;
    client.request(AssignChoices, { admin: me.role === "ADMIN" }).then(
      (answer) => alive && setData(answer),
      (error: unknown) => alive && setProblem(`The choices could not be read: ${describeError(error)}`),
    );
    return () => {
      alive = false;
    };
  }, [client, me.role]);
  useLayoutEffect(() => selectRef.current?.focus(), [data !== null]);

  const choices = data ? assignChoices(data, workflow, item.tier) : null;
  const all: Choice[] = choices ? [...choices.reviewers, ...choices.teams] : [];
  const picked = all.find((choice) => choice.value === chosen) ?? null;
  const now = assignmentText(item, me.id);

  async function send(target: { reviewer: string | null; team: string | null }) {
    setBusy(true);
    setProblem(null);
    try {
      const refused = await assign(target);
      if (refused) setProblem(refused.text);
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="assign-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id="assign-title">Assign {itemLabel(item)}</h2>
      <p>{now ?? "Not assigned: anyone who reviews this workflow may take it."}</p>
      {!choices && !problem && <p class="muted">Reading who may take it…</p>}
      {choices && (
        <>
          <label for="assign-to">Assign to</label>
          <select
            id="assign-to"
            ref={selectRef}
            value={chosen}
            aria-describedby={problem ? "assign-problem" : undefined}
            aria-invalid={problem !== null}
            onChange={(event) => setChosen(event.currentTarget.value)}
          >
            <option value="">Choose a reviewer or a team…</option>
            {choices.reviewers.length > 0 && (
              <optgroup label="Reviewers">
                {choices.reviewers.map((choice) => (
                  <option key={choice.value} value={choice.value}>
                    {choice.label}
                  </option>
                ))}
              </optgroup>
            )}
            {choices.teams.length > 0 && (
              <optgroup label="Teams">
                {choices.teams.map((choice) => (
                  <option key={choice.value} value={choice.value}>
                    {choice.label}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
          {choices.note && <p class="hint">{choices.note}</p>}
        </>
      )}
      {problem && (
        <p id="assign-problem" role="alert" class="problem">
          {problem}
        </p>
      )}
      <div class="panel-buttons">
        <button
          type="button"
          class="btn btn-primary"
          disabled={busy || picked === null}
          onClick={() => picked && void send({ reviewer: picked.reviewer, team: picked.team })}
        >
          Assign
        </button>
        {now && (
          <button type="button" class="btn btn-plain" disabled={busy} onClick={() => void send({ reviewer: null, team: null })}>
            Unassign
          </button>
        )}
        <button type="button" class="btn btn-plain" onClick={onClose}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
