/**
 * `p`'s value, or `late()`'s when `p` has not settled within `ms`; the timer never outlives the
 * wait. `p` is not cancelled: the caller aborts it, or lets it finish unheard.
 */
export async function settleWithin<T, L>(p: Promise<T>, ms: number, late: () => L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<L>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
