/**
 * Background jobs (retraining, theme mining): start one, follow it live with the
 * jobProgress subscription until it ends, then tell the screen to refresh. If the
 * WebSocket fails, the job is read once a second instead, so the screen still ends.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { graphql } from "../gql";
import { pct, words } from "./format";
import { troubleFromError, troubleOf, type Answer, type Trouble } from "./problems";

const JobProgress = graphql(`
  subscription AdminJobProgress($id: ID!) {
    jobProgress(id: $id) {
      id
      kind
      state
      progress
      message
    }
  }
`);

const JobNow = graphql(`
  query AdminJobNow($id: ID!) {
    job(id: $id) {
      id
      kind
      state
      progress
      message
    }
  }
`);

export interface JobView {
  id: string;
  kind: string;
  state: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED";
  progress: number;
  message?: string | null;
}

/** A mutation answering JobResult: JobSuccess { job } or a problem. */
export type JobAnswer = Answer & { job?: JobView };

const ended = (job: JobView) => job.state === "SUCCEEDED" || job.state === "FAILED";

/** Start jobs and follow the latest; `onEnd` runs once when it ends. */
export function useJob(client: ApiClient, onEnd: (job: JobView) => void) {
  const [job, setJob] = useState<JobView | null>(null);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [starting, setStarting] = useState(false);
  const stop = useRef<() => void>(() => {});
  const endRef = useRef(onEnd);
  endRef.current = onEnd;

  useEffect(() => () => stop.current(), []);

  function follow(first: JobView) {
    stop.current();
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const see = (next: JobView) => {
      if (!live) return;
      setJob(next);
      if (ended(next)) {
        live = false;
        endRef.current(next);
      }
    };
    const poll = () => {
      client.request(JobNow, { id: first.id }).then(
        (data) => {
          if (data.job) see(data.job);
          if (live) timer = setTimeout(poll, 1000);
        },
        (error: unknown) => {
          if (live) setTrouble(troubleFromError(error));
        },
      );
    };
    const unsubscribe = client.subscribe(
      JobProgress,
      { id: first.id },
      { next: (data) => see(data.jobProgress), error: () => live && poll() },
    );
    stop.current = () => {
      live = false;
      clearTimeout(timer);
      unsubscribe();
    };
    see(first);
  }

  /** Run the mutation that starts a job, and follow the job it answers with. */
  async function start(run: () => Promise<JobAnswer>) {
    setStarting(true);
    setTrouble(null);
    try {
      const answer = await run();
      const problem = troubleOf(answer);
      if (problem) setTrouble(problem);
      else if (answer.job) follow(answer.job);
    } catch (error) {
      setTrouble(troubleFromError(error));
    } finally {
      setStarting(false);
    }
  }

  const running = starting || (job !== null && !ended(job));
  return { job, trouble, running, start };
}

/** The job as a progressbar named `label` with its message, then how it ended. */
export function JobStatus({ job, label }: { job: JobView | null; label: string }) {
  if (!job) return null;
  const said = job.message ? `: ${job.message}` : "";
  if (!ended(job)) {
    const id = `adm-job-${job.id}`;
    return (
      <div class="adm-job">
        <progress
          aria-label={label}
          aria-describedby={id}
          aria-valuetext={`${pct(job.progress, 0)}${said}`}
          value={job.progress}
          max={1}
        />
        <span id={id} aria-live="polite">
          {words(job.state)} {pct(job.progress, 0)}
          {said}
        </span>
      </div>
    );
  }
  return (
    <p class={job.state === "FAILED" ? "adm-problem" : "adm-done"} role="status">
      {label} {job.state === "FAILED" ? "failed" : "finished"}
      {said}
    </p>
  );
}
