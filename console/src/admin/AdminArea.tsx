/**
 * The admin area. The shell renders <AdminArea> for every route under #/admin (ADMIN users only) with
 * { client, me, workflowKey, navigate }. AdminScreens is loaded lazily (a chunk of its
 * own), so reviewers never download it. The chosen workflow lives in the route,
 * #/admin/<key>; without one, the workflow the admin last opened (workflowKey).
 */
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { currentPath } from "../app/router";

export interface AdminAreaProps {
  client: ApiClient;
  me: { id: string; name: string; role: string };
  /** The workflow the admin last opened, if any. */
  workflowKey: string | null;
  navigate: (path: string) => void;
}

type Screens = ComponentType<{ client: ApiClient; workflowKey: string | null; choose: (key: string) => void }>;

function routedWorkflow(): string | null {
  const rest = currentPath().slice("/admin".length).replace(/^\/+|\/+$/g, "");
  if (!rest) return null;
  try {
    return decodeURIComponent(rest);
  } catch {
    return null;
  }
}

export function AdminArea({ client, workflowKey, navigate }: AdminAreaProps) {
  const [Screens, setScreens] = useState<Screens | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    import("./AdminScreens")
      .then((module) => alive && setScreens(() => module.default))
      .catch((error: unknown) => alive && setFailed(error instanceof Error ? error.message : String(error)));
    return () => {
      alive = false;
    };
  }, []);
  const key = routedWorkflow() ?? workflowKey;
  return (
    <div class="admin">
      <h1>Admin</h1>
      {failed ? (
        <p role="alert" class="problem">
          The admin screens could not be loaded: {failed}
        </p>
      ) : Screens ? (
        <Screens client={client} workflowKey={key} choose={(next) => navigate(`/admin/${encodeURIComponent(next)}`)} />
      ) : (
        <p class="muted">Loading the admin screens…</p>
      )}
    </div>
  );
}
