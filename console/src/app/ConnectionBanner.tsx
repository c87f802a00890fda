/** "Connection lost — reconnecting…" while the WebSocket is down; graphql-ws retries by itself. */
import { useEffect, useState } from "preact/hooks";
import type { ApiClient, ConnectionState } from "../api/client";

export function ConnectionBanner({ client }: { client: ApiClient }) {
  const [state, setState] = useState<ConnectionState>(client.connectionState);
  useEffect(() => {
    setState(client.connectionState);
    return client.onConnection(setState);
  }, [client]);
  return (
    <div class={state === "lost" ? "banner banner-lost" : "banner"} role="status">
      {state === "lost" ? "Connection lost — reconnecting…" : ""}
    </div>
  );
}
