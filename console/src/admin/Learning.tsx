/**
 * Learning: the workflow's models with their holdout metrics (accuracy against the
 * proposals they would replace, calibration), the active one marked; "Retrain now" with
 * live job progress; and the feedback report's sentence. Models trained elsewhere
 * (the schedule, the CLI) appear as they are announced on modelEvents. A DRIFT event (the
 * SLA sweep's drift monitor: people stopped agreeing with the served model) is an alert
 * with its message and the time it was heard, kept among the few recent alarms. Below the
 * models' chart, the loop month by month from the decision log (LoopByMonth).
 */
import { useEffect, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { addAlarm, type Alarm } from "./alarms";
import { BarChart } from "./charts";
import { num, pct, when, words } from "./format";
import { useQuery } from "./hooks";
import { JobStatus, useJob } from "./job";
import { LoopByMonth } from "./LoopByMonth";
import { ProblemNote } from "./problems";

const Models = graphql(`
  query AdminLearning($workflow: String!) {
    workflow(key: $workflow) {
      key
      activeModel {
        id
      }
      activeScorer {
        id
      }
      models {
        id
        version
        kind
        status
        features
        trainedOn
        message
        createdAt
        promotedAt
        metrics {
          holdoutSize
          accuracy
          baselineAccuracy
          logLoss
          calibrationError
          r2
          meanAbsoluteError
          baselineMeanAbsoluteError
        }
      }
    }
    feedbackReport(workflow: $workflow) {
      message
    }
  }
`);

const Retrain = graphql(`
  mutation AdminStartRetraining($workflow: String!) {
    startRetraining(workflow: $workflow) {
      __typename
      ... on JobSuccess {
        job {
          id
          kind
          state
          progress
          message
        }
      }
      ... on Problem {
        message
      }
      ... on InvalidInput {
        field
      }
    }
  }
`);

const ModelEvents = graphql(`
  subscription AdminModelEvents($workflow: String!) {
    modelEvents(workflow: $workflow) {
      id
      kind
      message
      model {
        version
      }
    }
  }
`);

/** The feedback report's sentence ("In November you corrected 412 recommendations. ..."). */
export function FeedbackSentence({ message }: { message: string | null | undefined }) {
  return (
    <p class="adm-feedback">
      {message ?? "No feedback report yet: it is written when a retrained model is promoted."}
    </p>
  );
}

/** The latest drift alarm as an alert (announced when it appears), the earlier ones listed. */
export function DriftAlarms({ alarms }: { alarms: readonly Alarm[] }) {
  const [latest, ...earlier] = alarms;
  const line = (a: Alarm) => (
    <>
      <strong>Drift{a.modelVersion != null ? ` in v${a.modelVersion}` : ""}:</strong> {a.message}{" "}
      <span class="adm-note">(heard {when(a.heardAt)})</span>
    </>
  );
  return (
    <div class="adm-alarms">
      <div role="alert">{latest && <p class="adm-warning">{line(latest)}</p>}</div>
      {earlier.length > 0 && (
        <>
          <h3 id="adm-earlier-alarms">Earlier drift alarms</h3>
          <ul aria-labelledby="adm-earlier-alarms">
            {earlier.map((a) => (
              <li key={a.id}>{line(a)}</li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export function Learning({ client, workflow }: { client: ApiClient; workflow: string }) {
  const models = useQuery(client, Models, { workflow });
  const [round, setRound] = useState(0);
  const retrain = useJob(client, () => {
    models.reload();
    setRound((n) => n + 1);
  });
  const reload = models.reload;
  const [alarms, setAlarms] = useState<Alarm[]>([]);

  useEffect(
    () =>
      client.subscribe(
        ModelEvents,
        { workflow },
        {
          next: ({ modelEvents: event }) => {
            setAlarms((heard) => addAlarm(heard, event, new Date()));
            reload();
            setRound((n) => n + 1);
          },
          error: () => {},
        },
      ),
    [client, workflow, reload],
  );

  const found = models.data?.workflow;
  const activeIds = new Set([found?.activeModel?.id, found?.activeScorer?.id].filter(Boolean));
  const list = found?.models ?? [];
  const classifiers = list.filter((m) => m.kind === "CLASSIFIER" && m.metrics?.accuracy != null);

  return (
    <section class="adm-section" aria-labelledby="adm-learning">
      <h2 id="adm-learning">Learning</h2>
      <ProblemNote trouble={models.trouble} />
      <DriftAlarms alarms={alarms} />
      {models.data && <FeedbackSentence message={models.data.feedbackReport?.message} />}
      <div class="adm-row">
        <button
          type="button"
          disabled={retrain.running}
          onClick={() => retrain.start(async () => (await client.request(Retrain, { workflow })).startRetraining)}
        >
          Retrain now
        </button>
      </div>
      <ProblemNote trouble={retrain.trouble} />
      <JobStatus job={retrain.job} label="Retraining" />
      {classifiers.length > 0 && (
        <BarChart
          title="Holdout accuracy against the proposals it would replace"
          bars={classifiers.slice(0, 4).flatMap((m) => [
            { label: `v${m.version} accuracy`, value: m.metrics!.accuracy ?? 0, text: pct(m.metrics!.accuracy) },
            { label: `v${m.version} baseline`, value: m.metrics!.baselineAccuracy ?? 0, text: pct(m.metrics!.baselineAccuracy) },
          ])}
        />
      )}
      <LoopByMonth client={client} workflow={workflow} round={round} />
      {models.data && list.length === 0 && <p>No model yet: retraining needs at least 40 labelled decisions.</p>}
      {list.length > 0 && (
        <table class="adm-table">
          <caption>Models, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Trained on</th>
              <th scope="col">Accuracy</th>
              <th scope="col">Baseline accuracy</th>
              <th scope="col">Calibration error</th>
              <th scope="col">Log loss</th>
              <th scope="col">R² / mean abs. error</th>
              <th scope="col">Features</th>
              <th scope="col">Created</th>
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {list.map((m) => {
              const active = activeIds.has(m.id);
              const x = m.metrics;
              return (
                <tr key={m.id} class={active ? "adm-active" : undefined} aria-current={active ? "true" : undefined}>
                  <td>v{m.version}</td>
                  <td>{words(m.kind)}</td>
                  <td>{active ? <strong>Active ★</strong> : words(m.status)}</td>
                  <td>{m.trainedOn} labels</td>
                  <td>{pct(x?.accuracy)}</td>
                  <td>{pct(x?.baselineAccuracy)}</td>
                  <td>{pct(x?.calibrationError)}</td>
                  <td>{num(x?.logLoss, 3)}</td>
                  <td>
                    {x?.r2 != null ? `R² ${num(x.r2, 3)}, MAE ${num(x.meanAbsoluteError, 3)} (mean: ${num(x.baselineMeanAbsoluteError, 3)})` : "–"}
                  </td>
                  <td>{m.features.join(", ") || "–"}</td>
                  <td>{when(m.createdAt)}</td>
                  <td>{m.message ?? (m.promotedAt ? `promoted ${when(m.promotedAt)}` : "–")}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
