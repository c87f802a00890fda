// graphql-codegen's client preset over documents/*.graphql, as a frontend build would run it.
// It writes persisted-documents.json (hash -> document text) into ARBITER_CODEGEN_OUT.
//
//   ARBITER_CODEGEN_OUT=/tmp/out/ npx graphql-codegen --config codegen.mjs

const out = process.env.ARBITER_CODEGEN_OUT;
if (!out) throw new Error("set ARBITER_CODEGEN_OUT to the output directory");

export default {
  schema: "../../schema.graphql",
  documents: ["documents/*.graphql"],
  silent: true,
  generates: {
    [out.endsWith("/") ? out : `${out}/`]: {
      preset: "client",
      presetConfig: { persistedDocuments: true },
    },
  },
};
