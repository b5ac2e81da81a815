/** The encoder graph's outputs, one per state the head reads: the contract between the graph and the worker. */
export function stateOutputName(i: number): string {
  return `state_${i}`;
}
