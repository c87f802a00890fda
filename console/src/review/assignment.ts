/** Whom an item may be assigned to, and how an assignment reads (pure functions). */
import type { ConsoleAssignChoicesQuery } from "../gql/graphql";

export interface Choice {
  /** "reviewer:<id>" or "team:<key>": one value space for one select. */
  value: string;
  label: string;
  reviewer: string | null;
  team: string | null;
}

export interface Choices {
  reviewers: Choice[];
  teams: Choice[];
  /** Why the list is what it is, when that is not obvious. */
  note: string | null;
}

const REVIEWER_ROLES = new Set(["ANALYST", "SENIOR", "ADMIN"]);

type Person = { id: string; name: string; role: string; active: boolean };

/** Who may decide an item of this tier (analysts only analyst-tier items). */
function fits(person: Person, tier: string): boolean {
  if (!person.active || !REVIEWER_ROLES.has(person.role)) return false;
  return person.role !== "ANALYST" || tier === "ANALYST_REVIEW";
}

/**
 * The reviewers and teams an item of `workflow` in `tier` may go to. Admins choose from
 * every user (members of the workflow's teams and admins, when it has teams); seniors,
 * who cannot list users, from the members of the workflow's teams (of every team when
 * the workflow has none).
 */
export function assignChoices(data: ConsoleAssignChoicesQuery, workflow: string, tier: string): Choices {
  const own = data.teams.filter((team) => team.workflows.some((w) => w.key === workflow));
  const teams = own.length > 0 ? own : data.teams;
  const members = new Set(own.flatMap((team) => team.members.map((m) => m.id)));
  let people: Person[];
  if (data.users) {
    people = data.users.filter((u) => own.length === 0 || members.has(u.id) || u.role === "ADMIN");
  } else {
    const byId = new Map(teams.flatMap((team) => team.members.map((m) => [m.id, m] as const)));
    people = [...byId.values()];
  }
  const reviewers = people
    .filter((person) => fits(person, tier))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((person) => ({ value: `reviewer:${person.id}`, label: person.name, reviewer: person.id, team: null }));
  const note =
    own.length > 0
      ? `Only the teams that review ${workflow} and their members are offered.`
      : data.teams.length === 0 && !data.users
        ? "There are no teams yet: an admin creates them."
        : null;
  return {
    reviewers,
    teams: teams.map((team) => ({ value: `team:${team.key}`, label: `${team.name} (${team.key})`, reviewer: null, team: team.key })),
    note,
  };
}

interface Assigned {
  assignee?: { id: string; name: string } | null;
  assignedTeam?: { key: string } | null;
}

/** "Assigned to bob", "Assigned to you", "Assigned to team night-shift", or null. */
export function assignmentText(item: Assigned, me: string): string | null {
  if (item.assignee) return `Assigned to ${item.assignee.id === me ? "you" : item.assignee.name}`;
  if (item.assignedTeam) return `Assigned to team ${item.assignedTeam.key}`;
  return null;
}

/** Whether this role may assign items (the server checks the workflow too). */
export function mayAssign(role: string): boolean {
  return role === "ADMIN" || role === "SENIOR";
}
