/**
 * The console's shell: sign-in, the header (who is signed in, with their role, and
 * "Sign out"), the navigation, the connection banner, and the screen the route names.
 * A 401 at any time comes back here, to sign-in, with a message.
 */
import { useEffect, useState } from "preact/hooks";
import { AdminArea } from "../admin/AdminArea";
import { ApiClient, describeError, Unauthenticated } from "../api/client";
import { forgetToken, storedToken } from "../api/session";
import { ReviewScreen } from "../review/ReviewScreen";
import { ConnectionBanner } from "./ConnectionBanner";
import { Me } from "./documents";
import { navigate, useRoute } from "./router";
import { SignIn, type SignedIn } from "./SignIn";
import { WorkflowList } from "./Workflows";

export { Me };

const EXPIRED = "Your session ended: the server no longer accepts your token. Sign in again.";

export function App() {
  const [session, setSession] = useState<SignedIn | null>(null);
  const [restoring, setRestoring] = useState(() => storedToken() !== null);
  const [message, setMessage] = useState<string | null>(null);
  const route = useRoute();
  const [lastWorkflow, setLastWorkflow] = useState<string | null>(null);

  const end = (why: string | null) => {
    setSession((previous) => {
      previous?.client.close();
      return null;
    });
    forgetToken();
    setMessage(why);
  };

  const begin = (next: SignedIn) => {
    next.client.whenUnauthenticated(() => end(EXPIRED));
    next.client.socket(); // live from the start: the banner and every screen share it
    setMessage(null);
    setSession(next);
  };

  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    const client = new ApiClient(token);
    client
      .request(Me)
      .then(({ me }) => {
        if (me) begin({ client, me });
        else end(EXPIRED);
      })
      .catch((error) => {
        if (error instanceof Unauthenticated) end(EXPIRED);
        else setMessage(`Arbiter could not be reached: ${describeError(error)} Sign in when it is back.`);
      })
      .finally(() => setRestoring(false));
  }, []);

  useEffect(() => {
    if (route.name === "review") setLastWorkflow(route.workflow);
  }, [route.name === "review" ? route.workflow : null]);

  useEffect(() => {
    const screen = !session
      ? "Sign in"
      : route.name === "review"
        ? `Review ${route.workflow}`
        : route.name === "admin"
          ? "Admin"
          : "Workflows";
    document.title = `${screen} · Arbiter console`;
  }, [session !== null, route.name, route.name === "review" ? route.workflow : null]);

  if (!session) {
    return (
      <>
        <header class="topbar">
          <span class="brand">Arbiter</span>
        </header>
        <main id="main">
          {restoring ? <p class="muted">Signing in…</p> : <SignIn message={message} onSignedIn={begin} />}
        </main>
      </>
    );
  }

  const { client, me } = session;
  const admin = me.role === "ADMIN";
  return (
    <>
      <header class="topbar">
        <span class="brand">Arbiter</span>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.name === "workflows" ? "page" : undefined}>
            Workflows
          </a>
          {lastWorkflow && (
            <a href={`#/review/${encodeURIComponent(lastWorkflow)}`} aria-current={route.name === "review" ? "page" : undefined}>
              Queue: {lastWorkflow}
            </a>
          )}
          {admin && (
            <a href="#/admin" aria-current={route.name === "admin" ? "page" : undefined}>
              Admin
            </a>
          )}
        </nav>
        <div class="who">
          <span class="who-name">{me.name}</span> <span class="role">{me.role}</span>
          <button type="button" class="btn btn-plain" onClick={() => end("You signed out.")}>
            Sign out
          </button>
        </div>
      </header>
      <ConnectionBanner client={client} />
      <main id="main">
        {route.name === "workflows" && <WorkflowList client={client} />}
        {route.name === "review" && <ReviewScreen key={route.workflow} client={client} me={me} workflowKey={route.workflow} />}
        {route.name === "admin" &&
          (admin ? (
            <AdminArea client={client} me={me} workflowKey={lastWorkflow} navigate={navigate} />
          ) : (
            <p role="alert" class="problem">
              The admin area is for admins; you are {me.role.toLowerCase()}.
            </p>
          ))}
        {route.name === "unknown" && (
          <p>
            Nothing here. <a href="#/">Back to the workflows</a>
          </p>
        )}
      </main>
    </>
  );
}
