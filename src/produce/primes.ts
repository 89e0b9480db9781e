/** The smallest prime ≥ n (n below a few million: trial division is instant). */
export function nextPrime(n: number): number {
  for (let p = Math.max(2, Math.ceil(n)); ; p++) {
    let prime = true;
    for (let d = 2; d * d <= p; d++) {
      if (p % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) return p;
  }
}

/** a^-1 mod p for a prime p and 0 < a < p (Fermat is slower; extended Euclid on small numbers). */
export function modInverse(a: number, p: number): number {
  let [r0, r1] = [p, ((a % p) + p) % p];
  let [t0, t1] = [0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return ((t0 % p) + p) % p;
}
