/**
 * Bounds how many distinct values one minute window may hold per dimension, so a
 * buggy service that puts a request id in `error_code` cannot grow the store without
 * limit. Values past the cap are counted under OTHER.
 */
export type Dimension = 'error_code' | 'stage' | 'logger' | 'level';

export const OVERFLOW = 'OTHER';

/** config.cardinality (its defaults live with the other defaults, in config/load.ts). */
export interface CardinalityCaps {
  error_code: number;
  stage: number;
  logger: number;
  level: number;
}

const KEEP_MINUTES = 360;

export class CardinalityGuard {
  private readonly minutes = new Map<number, Record<Dimension, Set<string>>>();
  /** How many new values were folded into OTHER since start (for metrics). */
  overflowed = 0;
  /** The newest minute dropped from memory: a minute after it and after `storedUpTo` was never stored. */
  private evictedUpTo = -Infinity;

  constructor(
    private readonly caps: CardinalityCaps,
    /** Values already stored for a minute (after a restart, or for a late line). */
    private readonly loadExisting: (start: number, dim: Dimension) => string[],
    /**
     * The newest minute the store held when this guard was made (-Infinity: unknown,
     * always ask). A newer minute can only hold what went through this guard, so the
     * store is not asked about it: one query per dimension per new minute, saved.
     */
    private readonly storedUpTo = Infinity,
  ) {}

  admit(start: number, dim: Dimension, value: string): string {
    if (value === '' || value === OVERFLOW) return value;
    const sets = this.setsFor(start);
    const set = sets[dim];
    if (set.has(value)) return value;
    if (set.size >= this.caps[dim]) {
      this.overflowed++;
      return OVERFLOW;
    }
    set.add(value);
    return value;
  }

  private setsFor(start: number): Record<Dimension, Set<string>> {
    let sets = this.minutes.get(start);
    if (sets === undefined) {
      const fresh = start > this.storedUpTo && start > this.evictedUpTo;
      const load = (d: Dimension) => (fresh ? new Set<string>() : new Set(this.loadExisting(start, d).filter((v) => v !== '' && v !== OVERFLOW)));
      sets = { error_code: load('error_code'), stage: load('stage'), logger: load('logger'), level: load('level') };
      this.minutes.set(start, sets);
      if (this.minutes.size > KEEP_MINUTES) {
        // Drop the oldest minute; it is reloaded from the store if a late line needs it.
        let oldest = Infinity;
        for (const k of this.minutes.keys()) if (k < oldest) oldest = k;
        this.minutes.delete(oldest);
        if (oldest > this.evictedUpTo) this.evictedUpTo = oldest;
      }
    }
    return sets;
  }
}
