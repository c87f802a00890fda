/**
 * A workflow's review screen: the live queue beside the open item, keyboard first.
 * Opening it claims the most urgent item; the keys are listed in the `?` overlay.
 */
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { useNow } from "../app/hooks";
import { AssignDialog } from "./AssignDialog";
import { ConsensusView } from "./ConsensusView";
import { mayAssign } from "./assignment";
import { ReviewController, type Me } from "./controller";
import { NOUN } from "./decisions";
import { DecisionPanel } from "./DecisionPanel";
import { ConfirmDialog, ShortcutsDialog } from "./Dialogs";
import { ItemView } from "./ItemView";
import { commandFor, digitOf, isTypingTarget, type Command } from "./keys";
import { MyStats } from "./MyStats";
import { QueueList } from "./QueueList";
import { KeyButton } from "./KeyButton";

interface Props {
  client: ApiClient;
  me: Me;
  workflowKey: string;
}

const TIERS_BY_ROLE: Record<string, string[]> = {
  ANALYST: ["ANALYST_REVIEW"],
  SENIOR: ["ANALYST_REVIEW", "SENIOR_REVIEW"],
  ADMIN: ["ANALYST_REVIEW", "SENIOR_REVIEW"],
};

export function ReviewScreen({ client, me, workflowKey }: Props) {
  const controller = useMemo(() => new ReviewController(client, me, workflowKey), [client, me.id, workflowKey]);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => controller.listen(() => rerender(undefined)), [controller]);
  useEffect(() => {
    void controller.start();
    return () => controller.stop();
  }, [controller]);
  const state = controller.state;
  const now = useNow(1000);
  const listRef = useRef<HTMLElement>(null);
  const focusList = () => listRef.current?.focus();

  useEffect(() => {
    const run = (command: Command) => {
      switch (command) {
        case "approve":
          return controller.approve();
        case "reject":
        case "flag":
        case "override":
        case "edit":
          return controller.startPanel(command);
        case "undo":
          return void controller.undo();
        case "next":
          return controller.move(1);
        case "previous":
          return controller.move(-1);
        case "help":
          return controller.setHelp(true);
        case "escape":
          controller.escape();
          if (controller.state.panel.kind === "none") focusList();
          return;
      }
    };
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing) return;
      const current = controller.state;
      if (current.confirm || current.assigning) return; // the dialog owns the keyboard
      if (current.helpOpen) {
        if (event.key === "?") {
          event.preventDefault();
          controller.setHelp(false);
        }
        return;
      }
      if (event.key === "Escape" && (event.target as Element | null)?.tagName === "SELECT") {
        focusList(); // out of a filter, back to the queue
        return;
      }
      if (isTypingTarget(event.target)) return; // fields handle their own Enter and Esc
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const panel = current.panel;
      const digit = digitOf(event.key);
      if (digit !== null && panel.kind === "override") {
        event.preventDefault();
        if (panel.step === "action") controller.pickAction(digit);
        else if (panel.reason === "") controller.pickReason(digit);
        return;
      }
      const command = commandFor(event);
      if (command === null) return;
      // While a panel waits for text, letters are not verdicts (focus just left its field).
      const typing = panel.kind !== "none" && !(panel.kind === "override" && panel.step === "action");
      if (typing && command !== "escape" && command !== "help") return;
      event.preventDefault();
      run(command);
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [controller]);

  // A closed panel or dialog leaves focus nowhere: give it back to the queue.
  useLayoutEffect(() => {
    if (state.panel.kind !== "none" || state.confirm || state.helpOpen || state.assigning) return;
    const active = document.activeElement;
    if (!active || active === document.body) focusList();
  }, [state.panel.kind, state.confirm, state.helpOpen, state.assigning, state.current?.id]);

  if (state.loadError) {
    return (
      <div class="review">
        <h1>{workflowKey}</h1>
        <p role="alert" class="problem">
          {state.loadError}
        </p>
        <p>
          <a href="#/">Back to the workflows</a>
        </p>
      </div>
    );
  }

  const workflow = state.workflow;
  const current = state.current;
  const last = state.last && state.last.deadline > now ? state.last : null;
  return (
    <div class="review">
      <div class="review-head">
        <h1>{workflow?.name ?? workflowKey}</h1>
        {workflow && (
          <span class="muted">
            {workflow.key} · {workflow.kind === "DRAFT" ? "drafts" : "classification"} · reviewers are{" "}
            {workflow.reviewerRole.toLowerCase()}s
          </span>
        )}
        <KeyButton name="Shortcuts" shortcut="?" onClick={() => controller.setHelp(true)} />
      </div>

      <div class="notices">
        <div class={`notice${state.notice?.tone === "warning" ? " notice-warning" : ""}`} role="status">
          {state.notice?.text}
        </div>
        {state.dwellNote && <p class="gentle">{state.dwellNote}</p>}
        {state.lastVote && (
          <ConsensusView
            consensus={state.lastVote.consensus}
            me={me.id}
            title={`Your vote on ${state.lastVote.label}`}
          />
        )}
        {last && (
          <div class="undo-bar" role="group" aria-label="Last decision">
            <KeyButton name="Undo" shortcut="u" disabled={state.busy} onClick={() => void controller.undo()} />
            <span>
              <span class="countdown">{Math.max(0, Math.floor((last.deadline - now) / 1000))} s</span> left to take
              back {last.text}
            </span>
          </div>
        )}
        {state.failed && (
          <div class="failed" role="alert">
            <p>
              Your {NOUN[state.failed.request.verb]} of{" "}
              {state.failed.request.label} did not go through: {state.failed.message} Nothing was decided; it
              is kept here to send again.
            </p>
            <div class="panel-buttons">
              <button type="button" class="btn btn-primary" disabled={state.busy} onClick={() => controller.retry()}>
                Retry
              </button>
              <button type="button" class="btn btn-plain" onClick={() => controller.discardFailed()}>
                Discard
              </button>
            </div>
          </div>
        )}
      </div>

      <div class="columns">
        <QueueList
          items={controller.listed}
          currentId={current?.id ?? null}
          more={state.more}
          loading={state.loadingQueue}
          filters={state.filters}
          tiers={TIERS_BY_ROLE[me.role] ?? []}
          me={me.id}
          voted={state.voted}
          now={now}
          listRef={listRef}
          onFilters={(filters) => controller.setFilters(filters)}
          onOpen={(id) => {
            focusList();
            void controller.openItem(id);
          }}
          onMove={(delta) => controller.move(delta)}
        />

        <section class="item-pane" aria-label="Item" aria-busy={state.opening}>
          {state.problem && (
            <p role="alert" class="problem">
              {state.problem}
            </p>
          )}
          {current ? (
            <ItemView
              item={current}
              me={me}
              now={now}
              scoreLabel={workflow?.scoreLabel ?? null}
              readOnly={state.readOnly}
              onReclaim={() => controller.reclaim()}
              onAssign={mayAssign(me.role) ? () => controller.setAssigning(true) : undefined}
            >
              <DecisionPanel controller={controller} state={state} focusList={focusList} />
            </ItemView>
          ) : (
            <p class="empty">
              {state.opening
                ? "Opening the next item…"
                : state.empty ?? (workflow ? "Choose an item in the queue." : "Reading the workflow…")}
            </p>
          )}
        </section>

        <MyStats stats={state.stats} error={state.statsError} />
      </div>

      {state.assigning && current && (
        <AssignDialog
          key={current.id}
          client={client}
          me={me}
          workflow={workflowKey}
          item={current}
          assign={(target) => controller.assign(target)}
          onClose={() => controller.setAssigning(false)}
        />
      )}
      {state.helpOpen && <ShortcutsDialog onClose={() => controller.setHelp(false)} />}
      {state.confirm && (
        <ConfirmDialog
          key={state.confirm.token}
          confirmation={state.confirm}
          busy={state.busy}
          now={now}
          onConfirm={() => controller.confirmDecision()}
          onCancel={() => controller.cancelConfirm()}
          onAskAgain={() => controller.askAgain()}
        />
      )}
    </div>
  );
}
