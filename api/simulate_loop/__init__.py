"""`arbiter simulate-loop`: a generated loan world runs through the public GraphQL API for
simulated months, and each month is measured against the generator's truth.

A client of the API, nothing more: the app runs in this process (SQLite, in-process bus and
jobs, as `make run`), under a simulated clock (domain.clock.using_clock), and is spoken to
only by GraphQL: submitRecommendations / submitCases, claimNext, approve, override,
recommendThreshold, updateEscalationPolicy, mineOverrideThemes, startRetraining, job,
feedbackReport and the modelEvents subscription.

- settings: the arguments and their checks (LoopSettings, LoopInputError)
- client: the app in process, GraphQL over httpx, modelEvents over graphql-transport-ws
- reviewers: simulated people, with planted mistakes and fatigue
- driver: a month of cases, reviews, ladder moves, themes and retraining
- measures: a month's figures against the generator's truth; the promise
- report, chart: loop.json, loop.md and loop.png
- command: the `arbiter simulate-loop` command
"""
