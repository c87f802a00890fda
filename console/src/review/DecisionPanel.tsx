/**
 * The verdict buttons and the panel a verdict opens (reject's reason, flag's note, the
 * override's numbered actions and reasons, the draft editor). Keys typed in a panel's
 * field stay text, except Enter (decide) and Esc (cancel); in the override's reason field,
 * while it is empty, a digit picks a suggested reason.
 */
import { useLayoutEffect, useRef } from "preact/hooks";
import type { JSX, TargetedKeyboardEvent } from "preact";
import { digitOf } from "./keys";
import type { Panel, ReviewController, ReviewState } from "./controller";
import { KeyButton } from "./KeyButton";

interface Props {
  controller: ReviewController;
  state: ReviewState;
  /** Where focus goes when a panel closes (the queue). */
  focusList: () => void;
}

export function DecisionPanel({ controller, state, focusList }: Props) {
  const { panel, busy } = state;
  const decidable = controller.decidable;
  const off = !decidable || busy;
  const context = decisionContext(state.current?.consensus ?? null);
  return (
    <div class="decide">
      {context.hint && <p class="decide-context">{context.hint}</p>}
      <div class="verdicts" role="group" aria-label={context.name}>
        <KeyButton name="Approve" shortcut="a" kind="primary" disabled={off} onClick={() => controller.approve()} />
        <KeyButton name="Reject" shortcut="r" disabled={off} onClick={() => controller.startPanel("reject")} />
        <KeyButton name="Flag" shortcut="f" disabled={off} onClick={() => controller.startPanel("flag")} />
        {controller.canOverride && (
          <KeyButton name="Override" shortcut="o" disabled={off} onClick={() => controller.startPanel("override")} />
        )}
        {controller.canEdit && (
          <KeyButton name="Edit" shortcut="e" disabled={off} onClick={() => controller.startPanel("edit")} />
        )}
      </div>
      {busy && <p class="muted">Sending…</p>}
      {panel.kind !== "none" && <PanelView controller={controller} state={state} panel={panel} focusList={focusList} />}
    </div>
  );
}

/** What the verdict buttons do here: decide, cast one vote of several, or adjudicate. */
function decisionContext(consensus: { state: string; reviewsRequired: number } | null): {
  name: string;
  hint: string | null;
} {
  if (consensus?.state === "DISPUTED") {
    return { name: "Adjudicate", hint: "Adjudicate: your decision settles the disputed item." };
  }
  if (consensus?.state === "COLLECTING") {
    return { name: "Vote", hint: `Your verdict is one vote of ${consensus.reviewsRequired}.` };
  }
  return { name: "Decide", hint: null };
}

function PanelView({ controller, state, panel, focusList }: Props & { panel: Exclude<Panel, { kind: "none" }> }) {
  const cancel = () => {
    controller.closePanel();
    focusList();
  };
  /** Enter decides, Esc cancels; everything else is typing. */
  const fieldKeys = (event: TargetedKeyboardEvent<HTMLElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      controller.submitPanel();
    } else if (event.key === "Escape") {
      event.preventDefault();
      controller.escape();
      if (controller.state.panel.kind === "none") focusList();
    }
  };
  const closeButton = (
    <KeyButton name="Close" shortcut="Esc" onClick={cancel} />
  );
  const send = <KeyButton name="Send" shortcut="Enter" kind="primary" disabled={state.busy} onClick={() => controller.submitPanel()} />;

  if (panel.kind === "reject") {
    return (
      <div class="panel" role="group" aria-labelledby="panel-title">
        <h3 id="panel-title">Reject</h3>
        <label for="reject-reason">Reason (optional)</label>
        <AutoFocusInput
          id="reject-reason"
          value={panel.reason}
          onInput={(value) => controller.setReason(value)}
          onKeyDown={fieldKeys}
        />
        <p class="hint">Enter rejects · Esc cancels</p>
        <div class="panel-buttons">
          {send}
          {closeButton}
        </div>
      </div>
    );
  }

  if (panel.kind === "flag") {
    return (
      <div class="panel" role="group" aria-labelledby="panel-title">
        <h3 id="panel-title">Flag for later</h3>
        <label for="flag-note">Note</label>
        <AutoFocusInput
          id="flag-note"
          value={panel.note}
          onInput={(value) => controller.setReason(value)}
          onKeyDown={fieldKeys}
        />
        <p class="hint">Enter flags · Esc cancels · the item stays in the queue, marked flagged</p>
        <div class="panel-buttons">
          {send}
          {closeButton}
        </div>
      </div>
    );
  }

  if (panel.kind === "override") {
    return <OverridePanel controller={controller} state={state} panel={panel} fieldKeys={fieldKeys} send={send} close={closeButton} />;
  }

  return <EditPanel controller={controller} state={state} panel={panel} fieldKeys={fieldKeys} close={closeButton} />;
}

function AutoFocusInput({
  id,
  value,
  onInput,
  onKeyDown,
}: {
  id: string;
  value: string;
  onInput: (value: string) => void;
  onKeyDown: (event: TargetedKeyboardEvent<HTMLInputElement>) => void;
}) {
  const ref = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => ref.current?.focus(), []);
  return (
    <input
      id={id}
      ref={ref}
      type="text"
      autocomplete="off"
      value={value}
      onInput={(event) => onInput(event.currentTarget.value)}
      onKeyDown={onKeyDown}
    />
  );
}

function OverridePanel({
  controller,
  state,
  panel,
  fieldKeys,
  send,
  close,
}: {
  controller: ReviewController;
  state: ReviewState;
  panel: Extract<Panel, { kind: "override" }>;
  fieldKeys: (event: TargetedKeyboardEvent<HTMLElement>) => void;
  send: JSX.Element;
  close: JSX.Element;
}) {
  const groupRef = useRef<HTMLDivElement>(null);
  const reasonRef = useRef<HTMLInputElement>(null);
  const actions = state.workflow?.actions ?? [];
  const suggestions = (state.workflow?.reasonSuggestions ?? []).slice(0, 9);
  const proposed = state.current?.proposedAction;
  useLayoutEffect(() => {
    if (panel.step === "action") groupRef.current?.focus();
    else reasonRef.current?.focus();
  }, [panel.step]);
  const reasonKeys = (event: TargetedKeyboardEvent<HTMLInputElement>) => {
    const digit = digitOf(event.key);
    if (digit !== null && event.currentTarget.value === "" && digit <= suggestions.length) {
      event.preventDefault();
      controller.pickReason(digit);
      return;
    }
    fieldKeys(event);
  };
  return (
    <div class="panel" role="group" aria-labelledby="panel-title" tabIndex={-1} ref={groupRef}>
      <h3 id="panel-title">Override: {panel.step === "action" ? "choose the action" : `${panel.action}, because…`}</h3>
      <ol class="choices" aria-label="Actions">
        {actions.slice(0, 9).map((action, index) => (
          <li key={action}>
            <button
              type="button"
              class={`choice${panel.action === action ? " chosen" : ""}`}
              aria-pressed={panel.action === action}
              aria-keyshortcuts={panel.step === "action" ? String(index + 1) : undefined}
              onClick={() => controller.pickAction(index + 1)}
            >
              <kbd aria-hidden="true">{index + 1}</kbd> {action}
              {action === proposed && <span class="muted"> (the proposal)</span>}
            </button>
          </li>
        ))}
      </ol>
      {panel.step === "reason" && (
        <>
          <label for="override-reason">Reason</label>
          <input
            id="override-reason"
            ref={reasonRef}
            type="text"
            autocomplete="off"
            value={panel.reason}
            aria-describedby="override-reason-hint"
            onInput={(event) => controller.setReason(event.currentTarget.value)}
            onKeyDown={reasonKeys}
          />
          <p id="override-reason-hint" class="hint">
            {suggestions.length > 0
              ? "While the reason is empty, a digit picks a suggested reason; anything else is typed. Enter decides."
              : "Type why. (Suggested reasons appear once override themes are mined.) Enter decides."}
          </p>
          {suggestions.length > 0 && (
            <ol class="choices" aria-label="Suggested reasons">
              {suggestions.map((label, index) => (
                <li key={label}>
                  <button
                    type="button"
                    class={`choice${panel.tags.includes(label) ? " chosen" : ""}`}
                    aria-pressed={panel.tags.includes(label)}
                    onClick={() => {
                      controller.pickReason(index + 1);
                      reasonRef.current?.focus();
                    }}
                  >
                    <kbd aria-hidden="true">{index + 1}</kbd> {label}
                  </button>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
      <div class="panel-buttons">
        {panel.step === "reason" && send}
        {close}
      </div>
    </div>
  );
}

function EditPanel({
  controller,
  state,
  panel,
  fieldKeys,
  close,
}: {
  controller: ReviewController;
  state: ReviewState;
  panel: Extract<Panel, { kind: "edit" }>;
  fieldKeys: (event: TargetedKeyboardEvent<HTMLElement>) => void;
  close: JSX.Element;
}) {
  const areaRef = useRef<HTMLTextAreaElement>(null);
  const yesRef = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    if (panel.asking) yesRef.current?.focus();
    else areaRef.current?.focus();
  }, [panel.asking]);
  const { preview } = panel;
  const scoreText = preview.line ?? preview.message ?? (preview.pending ? "Scoring…" : "");
  return (
    <div class="panel" role="group" aria-labelledby="panel-title">
      <h3 id="panel-title">Edit the draft</h3>
      <label for="draft-editor">Draft</label>
      <textarea
        id="draft-editor"
        ref={areaRef}
        rows={6}
        value={panel.content}
        aria-describedby="draft-score draft-hint"
        onInput={(event) => controller.editChanged(event.currentTarget.value)}
        onKeyDown={fieldKeys}
      />
      <p id="draft-score" class="prediction" aria-live="polite">
        {scoreText}
      </p>
      <p id="draft-hint" class="hint">
        Enter asks before shipping · Shift+Enter starts a new line · Esc cancels
      </p>
      {panel.asking ? (
        <div class="ask" role="group" aria-labelledby="ship-question">
          <p id="ship-question">
            <strong>{preview.line ? `${preview.line}. ` : ""}Ship it?</strong>
          </p>
          <div class="panel-buttons">
            <KeyButton name="Yes, ship it" shortcut="Enter" kind="primary" disabled={state.busy} buttonRef={yesRef} onClick={() => controller.submitPanel()} />
            <KeyButton name="Not yet" shortcut="Esc" onClick={() => controller.escape()} />
          </div>
        </div>
      ) : (
        <div class="panel-buttons">
          <KeyButton name="Ship it" shortcut="Enter" kind="primary" disabled={state.busy} onClick={() => controller.submitPanel()} />
          {close}
        </div>
      )}
    </div>
  );
}
