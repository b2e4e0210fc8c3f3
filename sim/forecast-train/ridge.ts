/**
 * Weighted ridge regression by the normal equations and a Cholesky factorisation, in plain
 * float64 loops in a fixed order: the same data gives the same weights to the last bit on every
 * run (no threads, no BLAS, no transcendental functions), so the model file is reproducible.
 */

/** Solves (XᵀWX + λI) β = XᵀWy for rows of `x` (each with a trailing 1 for the intercept, not penalised). */
export function ridge (x: readonly Float64Array[], y: readonly number[], w: readonly number[], lambda: number): Float64Array {
  const d = x[0].length
  const a = new Float64Array(d * d)
  const b = new Float64Array(d)
  for (let r = 0; r < x.length; r++) {
    const row = x[r]
    const wr = w[r]
    for (let i = 0; i < d; i++) {
      const wi = wr * row[i]
      b[i] += wi * y[r]
      for (let j = 0; j <= i; j++) a[i * d + j] += wi * row[j]
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) a[j * d + i] = a[i * d + j]
    if (i < d - 1) a[i * d + i] += lambda
  }
  return choleskySolve(a, b, d)
}

function choleskySolve (a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k]
      if (i === j) {
        if (!(s > 0)) throw new Error('ridge: the normal matrix is not positive definite')
        l[i * d + i] = Math.sqrt(s)
      } else {
        l[i * d + j] = s / l[j * d + j]
      }
    }
  }
  const z = new Float64Array(d)
  for (let i = 0; i < d; i++) {
    let s = b[i]
    for (let k = 0; k < i; k++) s -= l[i * d + k] * z[k]
    z[i] = s / l[i * d + i]
  }
  const beta = new Float64Array(d)
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i]
    for (let k = i + 1; k < d; k++) s -= l[k * d + i] * beta[k]
    beta[i] = s / l[i * d + i]
  }
  return beta
}
