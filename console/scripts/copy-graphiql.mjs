// GraphiQL's files, served by Arbiter from dist/graphiql/ so that GraphiQL works without
// internet (no CDN): React 18's UMD builds and GraphiQL 3's bundle and stylesheet.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "graphiql");
mkdirSync(out, { recursive: true });
for (const [from, to] of [
  ["react/umd/react.production.min.js", "react.production.min.js"],
  ["react-dom/umd/react-dom.production.min.js", "react-dom.production.min.js"],
  ["graphiql/graphiql.min.js", "graphiql.min.js"],
  ["graphiql/graphiql.min.css", "graphiql.min.css"],
]) {
  copyFileSync(join(root, "node_modules", from), join(out, to));
}
