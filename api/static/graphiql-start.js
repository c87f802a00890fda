// Arbiter's GraphiQL page (GET /graphql from a browser). Every file it loads comes from
// this server, so it works without internet, and it runs no inline script: the page's
// Content-Security-Policy allows same-origin scripts only.
(function () {
  "use strict";

  var WELCOME = [
    "# Arbiter's GraphQL API. Every operation needs a bearer token:",
    "# put it in the Headers panel below, as",
    '#   {"Authorization": "Bearer <token>"}',
    "# (`arbiter users create NAME --role admin` prints one),",
    "# then re-fetch the schema (the circular arrow, left) for",
    "# completion. Subscriptions send the same header when they",
    "# connect. Run an operation with Ctrl-Enter.",
    "",
    "query Me {",
    "  me { name role }",
    "}",
    "",
  ].join("\n");

  var url = window.location.origin + window.location.pathname;
  var subscriptionUrl =
    (window.location.protocol === "https:" ? "wss://" : "ws://") +
    window.location.host +
    window.location.pathname;

  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: subscriptionUrl });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: WELCOME,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: "headers",
      inputValueDeprecation: true,
    }),
  );
})();
