/**
 * The two modal dialogs: the high-stakes confirmation ("Confirm decision") and the
 * keyboard shortcuts. Both are native <dialog> elements opened with showModal(), so focus
 * stays inside them and Esc cancels them.
 */
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { RefObject } from "preact";
import type { Confirmation } from "./controller";
import { clock, timeOfDay } from "./format";
import { SHORTCUTS } from "./keys";

const CONFIRM_WORD = "confirm";

function useModal(ref: RefObject<HTMLDialogElement | null>): void {
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, []);
}

/** What the decision would execute, in one sentence. */
export function whatItDoes(confirmation: Confirmation): string {
  const { request } = confirmation;
  const item = request.label;
  switch (request.verb) {
    case "approve":
      return `Approve ${item}: ${request.proposedAction} will be executed.`;
    case "reject":
      return `Reject ${item}: the proposal ${request.proposedAction} will be discarded.`;
    case "override":
      return `Override ${item}: ${request.action} will be executed instead of ${request.proposedAction}.`;
    case "edit":
      return `Ship the edited draft of ${item}.`;
    case "flag":
      return `Flag ${item}.`;
  }
}

interface ConfirmProps {
  confirmation: Confirmation;
  busy: boolean;
  now: number;
  onConfirm: () => void;
  onCancel: () => void;
  onAskAgain: () => void;
}

export function ConfirmDialog({ confirmation, busy, now, onConfirm, onCancel, onAskAgain }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const fieldRef = useRef<HTMLInputElement>(null);
  const againRef = useRef<HTMLButtonElement>(null);
  const [typed, setTyped] = useState("");
  const [hint, setHint] = useState<string | null>(null);
  useModal(ref);
  const left = Date.parse(confirmation.expiresAt) - now;
  const lapsed = confirmation.lapsed ?? (left <= 0 ? `This confirmation lapsed at ${timeOfDay(confirmation.expiresAt)}. Ask again for a new one.` : null);
  useLayoutEffect(() => {
    if (lapsed) againRef.current?.focus();
    else fieldRef.current?.focus();
  }, [lapsed !== null, confirmation.token]);
  const stakes = confirmation.request.stakes;
  return (
    <dialog
      ref={ref}
      class="dialog"
      role="alertdialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-what"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="confirm-title">Confirm decision</h2>
      <p id="confirm-what">
        <strong>{whatItDoes(confirmation)}</strong>
        {stakes != null && <> The stakes are {stakes.toLocaleString()}, at or above this workflow's high-stakes mark.</>}
      </p>
      {lapsed ? (
        <>
          <p role="alert" class="problem">
            {lapsed}
          </p>
          <div class="panel-buttons">
            <button type="button" class="btn btn-primary" ref={againRef} disabled={busy} onClick={onAskAgain}>
              Ask again
            </button>
            <button type="button" class="btn btn-plain" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        <>
          <label for="confirm-word">
            Type <strong>{CONFIRM_WORD}</strong> and press Enter, or use the Confirm button
          </label>
          <input
            id="confirm-word"
            ref={fieldRef}
            type="text"
            autocomplete="off"
            value={typed}
            onInput={(event) => {
              setTyped(event.currentTarget.value);
              setHint(null);
            }}
            onKeyDown={(event) => {
              if (event.key !== "Enter") return;
              event.preventDefault();
              if (typed.trim().toLowerCase() === CONFIRM_WORD) onConfirm();
              else setHint(`Enter alone does not confirm: type “${CONFIRM_WORD}” first.`);
            }}
          />
          <p class="hint" aria-live="polite">
            {hint ?? `The confirmation is valid for another ${clock(left)}.`}
          </p>
          <div class="panel-buttons">
            <button type="button" class="btn btn-danger" disabled={busy} onClick={onConfirm}>
              Confirm
            </button>
            <button type="button" class="btn btn-plain" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  useModal(ref);
  useLayoutEffect(() => closeRef.current?.focus(), []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-label="Keyboard shortcuts"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2>Keyboard shortcuts</h2>
      <table class="shortcuts">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">What it does</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((shortcut) => (
            <tr key={shortcut.keys}>
              <th scope="row">
                <kbd>{shortcut.keys}</kbd>
              </th>
              <td>{shortcut.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">Keys do nothing while you type in a field, except Enter and Esc.</p>
      <button type="button" class="btn btn-primary" ref={closeRef} onClick={onClose}>
        Close
      </button>
    </dialog>
  );
}
