/** A button whose shortcut shows beside its name ("Approve (a)") but is not part of it. */
import type { ComponentChildren, Ref } from "preact";

interface Props {
  name: string;
  shortcut?: string;
  onClick: () => void;
  disabled?: boolean;
  kind?: "primary" | "danger" | "plain";
  buttonRef?: Ref<HTMLButtonElement>;
  children?: ComponentChildren;
}

export function KeyButton({ name, shortcut, onClick, disabled, kind = "plain", buttonRef, children }: Props) {
  return (
    <button
      type="button"
      class={`btn btn-${kind}`}
      onClick={onClick}
      disabled={disabled}
      ref={buttonRef}
      aria-keyshortcuts={shortcut && shortcut.length === 1 ? shortcut : undefined}
    >
      {name}
      {shortcut && (
        <span class="key-hint" aria-hidden="true">
          {" "}({shortcut})
        </span>
      )}
      {children}
    </button>
  );
}
