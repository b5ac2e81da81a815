/**
 * HF's `truncation=True, max_length=N` (TruncationStrategy::LongestFirst, direction right, stride 0),
 * applied before the special tokens are added: N minus the specials is shared between the two texts.
 */
export function longestFirst(lengthA: number, lengthB: number | undefined, budget: number): [number, number] {
  const max = Math.max(0, budget);
  if (lengthB === undefined) return [Math.min(lengthA, max), 0];
  if (lengthA + lengthB <= max) return [lengthA, lengthB];
  let n1 = lengthA;
  let n2 = lengthB;
  const swap = n1 > n2;
  if (swap) [n1, n2] = [n2, n1];
  n2 = n1 > max ? n1 : Math.max(n1, max - n1);
  if (n1 + n2 > max) {
    n1 = Math.floor(max / 2);
    n2 = n1 + (max % 2);
  }
  if (swap) [n1, n2] = [n2, n1];
  return [Math.min(n1, lengthA), Math.min(n2, lengthB)];
}
