/**
 * The policy's several-reviewers fields in the ladder editor: reviews per item, how many
 * must agree (blank: a majority), the four-eyes count at high stakes, blind review. The
 * fields are kept as typed; `reviewChanges` turns them into the policy input (only what
 * changed) or the field's problem, and the server's InvalidInput shows at its field.
 */
import { ProblemNote, type Trouble } from "./problems";

/** The saved policy's values, as the API reads them (agreementRequired is the effective count;
 * agreementIsMajority says whether it follows the majority). */
export interface ReviewPolicy {
  reviewsRequired: number;
  agreementRequired: number;
  agreementIsMajority: boolean;
  highStakesReviewsRequired: number;
  blindReview: boolean;
}

/** The fields as typed. */
export interface ReviewText {
  reviewsRequired: string;
  agreementRequired: string;
  highStakesReviewsRequired: string;
  blindReview: boolean;
}

export interface ReviewInput {
  reviewsRequired?: number;
  agreementRequired?: number | null;
  highStakesReviewsRequired?: number;
  blindReview?: boolean;
}

export const REVIEW_FIELDS = ["reviewsRequired", "agreementRequired", "highStakesReviewsRequired", "blindReview"];
const MAX_REVIEWS = 9;

/** The fields for a saved policy; "Must agree" is blank when the policy asks for a majority. */
export function reviewText(p: ReviewPolicy): ReviewText {
  return {
    reviewsRequired: String(p.reviewsRequired),
    agreementRequired: p.agreementIsMajority ? "" : String(p.agreementRequired),
    highStakesReviewsRequired: String(p.highStakesReviewsRequired),
    blindReview: p.blindReview,
  };
}

function count(text: string, field: string, label: string): number | Trouble {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isInteger(value) || value < 1 || value > MAX_REVIEWS) {
    return { kind: "InvalidInput", text: `Invalid input: ${label} must be a whole number from 1 to ${MAX_REVIEWS}.`, field };
  }
  return value;
}

/**
 * What to send for these fields (only the changes), or the first field's problem. A blank
 * "Must agree" is sent as null (a majority) when it was cleared or the review count changed.
 */
export function reviewChanges(text: ReviewText, saved: ReviewPolicy): ReviewInput | Trouble {
  const reviews = count(text.reviewsRequired, "reviewsRequired", "Reviews per item");
  if (typeof reviews !== "number") return reviews;
  const fourEyes = count(text.highStakesReviewsRequired, "highStakesReviewsRequired", "Four eyes at high stakes");
  if (typeof fourEyes !== "number") return fourEyes;
  const input: ReviewInput = {};
  if (reviews !== saved.reviewsRequired) input.reviewsRequired = reviews;
  if (fourEyes !== saved.highStakesReviewsRequired) input.highStakesReviewsRequired = fourEyes;
  if (text.blindReview !== saved.blindReview) input.blindReview = text.blindReview;
  const before = reviewText(saved).agreementRequired;
  if (text.agreementRequired.trim() === "") {
    if (before !== "" || input.reviewsRequired !== undefined) input.agreementRequired = null;
  } else if (text.agreementRequired.trim() !== before) {
    const agree = count(text.agreementRequired, "agreementRequired", "Must agree");
    if (typeof agree !== "number") return agree;
    input.agreementRequired = agree;
  }
  return input;
}

export function isTrouble(value: ReviewInput | Trouble): value is Trouble {
  return "text" in value && "kind" in value;
}

interface Props {
  text: ReviewText;
  onChange: (text: ReviewText) => void;
  /** The problem to show at its field (the client's check or the server's InvalidInput). */
  trouble: (field: string) => Trouble | null;
}

const NUMBERS: { field: "reviewsRequired" | "agreementRequired" | "highStakesReviewsRequired"; label: string; help: string }[] = [
  {
    field: "reviewsRequired",
    label: "Reviews per item",
    help: "Independent reviews of each item in a review tier; 1 lets one reviewer decide.",
  },
  {
    field: "agreementRequired",
    label: "Must agree (blank: a majority)",
    help: "How many of those reviews must agree on the outcome; the item is disputed and goes to a senior when they do not.",
  },
  {
    field: "highStakesReviewsRequired",
    label: "Four eyes at high stakes: reviewers",
    help: "Distinct reviewers who must agree on items at or above the high-stakes amount; 2 is the four-eyes principle, and the submitter may not be one of them.",
  },
];

export function ReviewRules({ text, onChange, trouble }: Props) {
  return (
    <fieldset class="adm-fieldset">
      <legend>Several reviewers</legend>
      {NUMBERS.map(({ field, label, help }) => {
        const problem = trouble(field);
        return (
          <div class="adm-field" key={field}>
            <label for={`adm-${field}`}>{label}</label>
            <input
              id={`adm-${field}`}
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_REVIEWS}
              step={1}
              value={text[field]}
              aria-describedby={`adm-${field}-help`}
              aria-invalid={problem !== null}
              onInput={(e) => onChange({ ...text, [field]: e.currentTarget.value })}
            />
            <p class="adm-help" id={`adm-${field}-help`}>
              {help}
            </p>
            <ProblemNote trouble={problem} />
          </div>
        );
      })}
      <div class="adm-field">
        <label class="adm-inline" for="adm-blindReview">
          <input
            id="adm-blindReview"
            type="checkbox"
            checked={text.blindReview}
            aria-describedby="adm-blindReview-help"
            onChange={(e) => onChange({ ...text, blindReview: e.currentTarget.checked })}
          />
          Blind review
        </label>
        <p class="adm-help" id="adm-blindReview-help">
          Reviewers do not see the others' votes before casting their own (admins always do).
        </p>
        <ProblemNote trouble={trouble("blindReview")} />
      </div>
    </fieldset>
  );
}
