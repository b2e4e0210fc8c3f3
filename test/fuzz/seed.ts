/** The seed of a fuzz run: `FUZZ_SEED` to replay one, else a fresh one (print it). */
export function fuzzSeed (): number {
  const given = process.env.FUZZ_SEED
  if (given !== undefined && given !== '') {
    const n = Number(given)
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`FUZZ_SEED must be a whole number ≥ 0, got ${given}`)
    return n
  }
  return Math.floor(Math.random() * 2 ** 31)
}
