import type { FlagInfo } from '../../shared/binfmt/flags';

/** A binfmt_misc flag as a chip; its explanation on hover and for screen readers. */
export function FlagChip({ flag }: { flag: FlagInfo }) {
  return (
    <span className={`chip flag-${flag.letter}`} title={`${flag.letter} — ${flag.name}: ${flag.explain}`} aria-label={`${flag.letter} (${flag.name}): ${flag.explain}`} role="img">
      {flag.letter}
    </span>
  );
}
