/**
 * A tiny hash router: the console lives at /console/ and its screens at #/..., so any
 * server that serves index.html at /console/ serves every screen.
 *
 *   #/                 the workflows
 *   #/review/<key>     a workflow's queue and its open item
 *   #/admin[/...]      the admin area (its own sub-paths are its business)
 */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "workflows" }
  | { name: "review"; workflow: string }
  | { name: "admin"; rest: string }
  | { name: "unknown"; path: string };

/** The path after the "#", "/" when there is none. */
export function currentPath(): string {
  const hash = window.location.hash.replace(/^#/, "");
  return hash.startsWith("/") ? hash : "/";
}

export function navigate(path: string): void {
  const target = path.startsWith("/") ? path : `/${path}`;
  if (currentPath() !== target) window.location.hash = target;
}

export function reviewPath(workflow: string): string {
  return `/review/${encodeURIComponent(workflow)}`;
}

export function parseRoute(path: string): Route {
  if (path === "/" || path === "") return { name: "workflows" };
  const review = /^\/review\/([^/]+)\/?$/.exec(path);
  if (review) {
    try {
      return { name: "review", workflow: decodeURIComponent(review[1]) };
    } catch {
      return { name: "unknown", path };
    }
  }
  if (path === "/admin" || path.startsWith("/admin/")) {
    return { name: "admin", rest: path.slice("/admin".length) };
  }
  return { name: "unknown", path };
}

/** The current route; re-renders on every hash change. */
export function useRoute(): Route {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const onChange = () => setPath(currentPath());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parseRoute(path);
}
