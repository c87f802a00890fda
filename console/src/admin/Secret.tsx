/**
 * A secret the server shows once (a new user's token, a webhook's signing secret), with a
 * copy button. Without the Clipboard API (plain http on another host), the text is
 * selected instead so that Ctrl+C copies it.
 */
import { useRef, useState } from "preact/hooks";

export function Secret({ label, value, copyLabel }: { label: string; value: string; copyLabel: string }) {
  const field = useRef<HTMLInputElement>(null);
  const [said, setSaid] = useState("Shown once: copy it now.");

  async function copy() {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(value);
      setSaid("Copied.");
    } catch {
      field.current?.focus();
      field.current?.select();
      setSaid("Selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    }
  }

  return (
    <div class="adm-secret">
      <label>
        {label}
        <input ref={field} readOnly value={value} spellcheck={false} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" onClick={copy}>
        {copyLabel}
      </button>
      <span role="status">{said}</span>
    </div>
  );
}
