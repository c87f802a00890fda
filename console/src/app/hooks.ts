/** Small hooks the screens share. */
import { useEffect, useState } from "preact/hooks";

/** Date.now(), refreshed every `intervalMs` (countdowns: SLA, lease, undo, confirmation). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
