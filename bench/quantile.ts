/** Nearest-rank quantile (q in 0..1) of ascending `sorted`, as the benchmarks report p50/p99. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
