import type { CodegenConfig } from "@graphql-codegen/cli";

// Every document in src/ is typed from the repository's schema.graphql: a schema change
// that breaks the console breaks its build. Documents are plain strings at run time
// (documentMode "string"), so no GraphQL library ships to the browser.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: true,
  generates: {
    "./src/gql/": {
      preset: "client",
      config: {
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown", ID: "string" },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
