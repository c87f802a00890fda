/** Sign in with a bearer token; a bad one stays here with a plain message. */
import { useState } from "preact/hooks";
import { ApiClient, describeError, Unauthenticated } from "../api/client";
import { keepToken } from "../api/session";
import { Me } from "./documents";

export interface SignedIn {
  client: ApiClient;
  me: { id: string; name: string; role: string };
}

export function SignIn({ message, onSignedIn }: { message: string | null; onSignedIn: (session: SignedIn) => void }) {
  const [token, setToken] = useState("");
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError("Paste your bearer token first.");
      return;
    }
    setBusy(true);
    setError(null);
    const client = new ApiClient(value);
    try {
      const { me } = await client.request(Me);
      if (!me) throw new Unauthenticated("no user");
      keepToken(value, remember);
      onSignedIn({ client, me });
    } catch (failure) {
      setBusy(false);
      setError(
        failure instanceof Unauthenticated
          ? "That token was not accepted. Check that you copied the whole last line `arbiter users create` printed."
          : `Could not sign in: ${describeError(failure)}`,
      );
    }
  };

  const shown = error ?? message;
  return (
    <div class="sign-in">
      <h1>Sign in</h1>
      <form onSubmit={submit} noValidate>
        <label for="token">Bearer token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          aria-describedby="token-hint"
          aria-invalid={error !== null}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <p id="token-hint" class="hint">
          <code>arbiter users create NAME --role ROLE</code> prints one (its last line); an admin can also create
          users here, under Admin.
        </p>
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(event) => setRemember(event.currentTarget.checked)} />
          Remember me
        </label>
        <p class="hint">
          Without it the token is forgotten when this tab closes; with it, it stays in this browser until you sign
          out.
        </p>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Sign in
        </button>
        {shown && (
          <p role="alert" class="problem">
            {shown}
          </p>
        )}
      </form>
    </div>
  );
}
