import { useState } from "preact/hooks";
import { ApiClient } from "../api/client";
import { forgetToken, storedToken } from "../api/session";
import { graphql } from "../gql";

export const Me = graphql(`
  query ConsoleMe {
    me {
      id
      name
      role
    }
  }
`);

/** The console's shell (to be filled by the reviewer screens). */
export function App() {
  const [client] = useState(() => {
    const token = storedToken();
    return token ? new ApiClient(token) : null;
  });
  if (!client) return <main><h1>Arbiter</h1></main>;
  return (
    <main>
      <h1>Arbiter</h1>
      <button type="button" onClick={() => forgetToken()}>Sign out</button>
    </main>
  );
}
