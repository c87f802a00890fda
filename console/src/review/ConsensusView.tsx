/**
 * Where an item that several review stands: "2 of 3 reviews in · 2 must agree ·
 * collecting", and the votes this reviewer may see (none before their own under blind
 * review; every vote for the senior who adjudicates a dispute).
 */
import { consensusLine, hasVoted, voteText, type ConsensusCount, type Vote } from "./consensus";

interface Props {
  consensus: ConsensusCount & { votes: readonly Vote[] };
  me: string;
  /** The group's accessible name and heading ("Reviews", "Your vote on app-2"). */
  title: string;
}

export function ConsensusView({ consensus, me, title }: Props) {
  const { votes, state } = consensus;
  const mine = hasVoted(votes, me);
  const hidden = state === "COLLECTING" && !mine && consensus.reviewsIn > votes.length;
  const others = votes.filter((vote) => vote.actor?.id !== me);
  const disputed = state === "DISPUTED";
  return (
    <section class={`consensus consensus-${state.toLowerCase()}`} aria-label={title}>
      <h3>{title}</h3>
      <p class="consensus-line">{consensusLine(consensus)}</p>
      {mine && state === "COLLECTING" && <p class="consensus-mine">Your vote is in.</p>}
      {hidden && <p class="muted">Blind review: the others' votes show once you have voted.</p>}
      {disputed && <p class="consensus-adjudicate">The votes disagree: a senior's decision adjudicates the item.</p>}
      {votes.length > 0 && (
        <ul class="votes" aria-label={disputed ? "Every vote" : mine ? "The others' votes" : "Votes"}>
          {(disputed || !mine ? votes : others).map((vote) => (
            <li key={vote.id}>{voteText(vote, me)}</li>
          ))}
          {mine && !disputed && others.length === 0 && <li class="muted">No one else has voted yet.</li>}
        </ul>
      )}
    </section>
  );
}
