/**
 * Drift alarms as the Learning screen keeps them: the DRIFT model events heard on
 * modelEvents, newest first, each once (an event may be delivered again after a
 * reconnect), at most a few. Pure, so tested under Node.
 */

/** A DRIFT event as heard: its id, message, model version and when it arrived. */
export interface Alarm {
  id: string;
  message: string;
  modelVersion: number | null;
  /** ISO time the console heard it (model events carry no time of their own). */
  heardAt: string;
}

/** How many recent alarms the screen keeps. */
export const RECENT_ALARMS = 5;

/** The model event fields an alarm is made of. */
export interface HeardEvent {
  id: string;
  kind: string;
  message?: string | null;
  model?: { version: number } | null;
}

/** `alarms` with `event` in front when it is a DRIFT event not heard before; else `alarms`. */
export function addAlarm(alarms: readonly Alarm[], event: HeardEvent, heardAt: Date, limit = RECENT_ALARMS): Alarm[] {
  if (event.kind !== "DRIFT" || alarms.some((a) => a.id === event.id)) return alarms as Alarm[];
  const alarm: Alarm = {
    id: event.id,
    message: event.message ?? "The served model drifted (no details were given).",
    modelVersion: event.model?.version ?? null,
    heardAt: heardAt.toISOString(),
  };
  return [alarm, ...alarms].slice(0, limit);
}
