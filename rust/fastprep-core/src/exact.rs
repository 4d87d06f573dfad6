//! Exact sums of floating-point values, of their squares and of weighted products.
//!
//! The moment accumulators keep Σx and Σx² (Σw, Σwx and Σwx² with weights) exactly, so that a
//! mean or variance rounded once from them is the same whichever way the rows were split into
//! batches, partitions or threads, and is correctly rounded. `ExactSum` is a two's-complement
//! fixed-point number whose bit 0 weighs 2^-SCALE, the least bit of a product of three doubles
//! being 2^-3222; it grows towards its top as needed.
//!
//! The bulk of the values goes through Rump, Ogita and Oishi's error-free extraction (their
//! AccSum): every value of a block is cut at a power of two chosen from the block's largest one,
//! so that the parts above the cut add exactly in floating point, many lanes at a time, and
//! what is left is cut again 41 bits lower. `fused_sum` and `fused_squares` make three cuts in
//! one pass, which takes every bit of values within 2^-26 of the largest; a block with bits
//! left below goes through `add_values`, round after round until nothing is left. Each cut's
//! sum adds one double to the fixed-point number.

/// Bit 0 of an `ExactSum` weighs `2^-SCALE`.
pub const SCALE: i32 = 3264;

/// Values `add_values` takes at a time: the exactness of a round's floating-point sum needs
/// `len * (1 + 2^(HEADROOM - 53)) <= 2^HEADROOM`.
pub const MAX_BLOCK: usize = 2048;
const HEADROOM: i32 = 12;

/// A sum of doubles and of products of doubles, kept exactly.
#[derive(Clone, Debug, Default)]
pub struct ExactSum {
    /// The index of `limbs[0]`, which weighs `2^(64 lo - SCALE)`.
    lo: usize,
    /// Two's complement, least significant first. When not empty, the last limb is only the
    /// sign (0 or `u64::MAX`), so that one more term cannot overflow.
    limbs: Vec<u64>,
}

/// `(mantissa, exponent of its bit 0, negative)` of a finite double; `None` for zero.
#[inline]
fn parts(v: f64) -> Option<(u64, i32, bool)> {
    let bits = v.to_bits();
    let negative = bits >> 63 == 1;
    let field = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    match (field, fraction) {
        (0, 0) => None,
        (0, f) => Some((f, -1074, negative)),
        (e, f) => Some((f | (1u64 << 52), e - 1075, negative)),
    }
}

impl ExactSum {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the finite double `v`.
    #[inline]
    pub fn add_f64(&mut self, v: f64) {
        if let Some((m, e, neg)) = parts(v) {
            self.add_magnitude([m, 0, 0], e, neg);
        }
    }

    /// Adds `a * b` exactly (both finite).
    pub fn add_product(&mut self, a: f64, b: f64) {
        if let (Some((ma, ea, na)), Some((mb, eb, nb))) = (parts(a), parts(b)) {
            let p = ma as u128 * mb as u128;
            self.add_magnitude([p as u64, (p >> 64) as u64, 0], ea + eb, na != nb);
        }
    }

    /// Adds `a * b * c` exactly (all finite).
    pub fn add_product3(&mut self, a: f64, b: f64, c: f64) {
        let (Some((ma, ea, na)), Some((mb, eb, nb)), Some((mc, ec, nc))) =
            (parts(a), parts(b), parts(c))
        else {
            return;
        };
        let p = ma as u128 * mb as u128; // < 2^106
        let low = (p as u64 as u128) * mc as u128;
        let high = (p >> 64) * mc as u128;
        let mid = (low >> 64) + (high as u64 as u128);
        let words = [low as u64, mid as u64, ((mid >> 64) + (high >> 64)) as u64];
        self.add_magnitude(words, ea + eb + ec, na ^ nb ^ nc);
    }

    /// Adds (or subtracts) `other`.
    pub fn add_sum(&mut self, other: &ExactSum, subtract: bool) {
        let Some((&sign, body)) = other.limbs.split_last() else {
            return;
        };
        for (k, &limb) in body.iter().enumerate() {
            if limb != 0 {
                self.add_magnitude([limb, 0, 0], limb_exponent(other.lo + k), subtract);
            }
        }
        if sign != 0 {
            // The sign limb is -1 times its weight.
            let top = limb_exponent(other.lo + body.len());
            self.add_magnitude([1, 0, 0], top, !subtract);
        }
    }

    pub fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&l| l == 0)
    }

    /// `(lo, limbs)` with no zero limb at the bottom and no redundant sign limb at the top:
    /// the value is the limbs read as a little-endian two's-complement integer, times
    /// `2^(64 lo - SCALE)`. Zero is `(0, [])`.
    pub fn normalized(&self) -> (usize, &[u64]) {
        let Some(first) = self.limbs.iter().position(|&l| l != 0) else {
            return (0, &[]);
        };
        let mut end = self.limbs.len();
        while end - first >= 2 {
            let (top, below) = (self.limbs[end - 1], self.limbs[end - 2]);
            let redundant = (top == 0 && below >> 63 == 0) || (top == u64::MAX && below >> 63 == 1);
            if !redundant {
                break;
            }
            end -= 1;
        }
        (self.lo + first, &self.limbs[first..end])
    }

    /// Adds `±magnitude * 2^exponent`, `magnitude` three little-endian words.
    fn add_magnitude(&mut self, magnitude: [u64; 3], exponent: i32, negative: bool) {
        let position = exponent + SCALE;
        debug_assert!(position >= 0, "below the fixed point's least bit");
        let (at, shift) = ((position / 64) as usize, position % 64);
        let mut words = [magnitude[0], magnitude[1], magnitude[2], 0];
        if shift != 0 {
            words[3] = magnitude[2] >> (64 - shift);
            words[2] = (magnitude[2] << shift) | (magnitude[1] >> (64 - shift));
            words[1] = (magnitude[1] << shift) | (magnitude[0] >> (64 - shift));
            words[0] = magnitude[0] << shift;
        }
        self.cover(at, at + 5);
        let mut i = at - self.lo;
        let mut carry = false;
        for w in words {
            let limb = &mut self.limbs[i];
            let (a, c1) = if negative {
                limb.overflowing_sub(w)
            } else {
                limb.overflowing_add(w)
            };
            let (b, c2) = if negative {
                a.overflowing_sub(carry as u64)
            } else {
                a.overflowing_add(carry as u64)
            };
            *limb = b;
            carry = c1 || c2;
            i += 1;
        }
        while carry && i < self.limbs.len() {
            let limb = &mut self.limbs[i];
            (*limb, carry) = if negative {
                limb.overflowing_sub(1)
            } else {
                limb.overflowing_add(1)
            };
            i += 1;
        }
        // The sign limb took at most a carry: make the top a pure sign limb again.
        let top = *self.limbs.last().expect("covered");
        if top != 0 && top != u64::MAX {
            self.limbs.push(if (top as i64) < 0 { u64::MAX } else { 0 });
        }
    }

    /// Extends the limbs to cover indices `from..to` (zeros below, the sign above).
    fn cover(&mut self, from: usize, to: usize) {
        if self.limbs.is_empty() {
            self.lo = from;
            self.limbs.resize(to - from, 0);
            return;
        }
        if from < self.lo {
            self.limbs
                .splice(0..0, std::iter::repeat_n(0, self.lo - from));
            self.lo = from;
        }
        let sign = *self.limbs.last().expect("not empty");
        let end = self.lo + self.limbs.len();
        if end < to {
            self.limbs.resize(self.limbs.len() + (to - end), sign);
        }
    }
}

fn limb_exponent(index: usize) -> i32 {
    64 * index as i32 - SCALE
}

impl PartialEq for ExactSum {
    fn eq(&self, other: &Self) -> bool {
        self.normalized() == other.normalized()
    }
}

/// Residuals outside this range go to the fixed-point number one by one: the cut `σ` must
/// stay a normal, finite double.
const FAST_MIN: f64 = pow2(-1000);
const FAST_MAX: f64 = pow2(1000);

/// Adds every value of `values` (finite, at most `MAX_BLOCK` of them, none larger in
/// magnitude than `largest`, the largest or 0 for none) to `acc` exactly, using `values` as
/// scratch.
#[inline(always)]
pub fn add_values(values: &mut [f64], mut largest: f64, acc: &mut ExactSum) {
    debug_assert!(values.len() <= MAX_BLOCK);
    while largest != 0.0 {
        if !(FAST_MIN..FAST_MAX).contains(&largest) {
            values.iter().for_each(|&v| acc.add_f64(v));
            return;
        }
        // σ = 2^(k + 1 + HEADROOM) for 2^k <= largest < 2^(k+1).
        let k = ((largest.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        let sigma = pow2(k + 1 + HEADROOM);
        let (high, rest) = extract(values, sigma);
        acc.add_f64(high);
        largest = rest;
    }
}

const LANES: usize = 8;

/// One round: each value's part above `σ`'s last bit, `(σ + v) - σ`, is taken out (exact),
/// summed (exact: every partial sum is a multiple of that bit below `2^53` of it), and the
/// value replaced by what is left. Returns that sum and the largest value left.
#[inline(always)]
fn extract(values: &mut [f64], sigma: f64) -> (f64, f64) {
    let mut sum = [0.0f64; LANES];
    let mut left = [0.0f64; LANES];
    let mut chunks = values.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            let v = c[l];
            let q = (sigma + v) - sigma;
            let r = v - q;
            sum[l] += q;
            c[l] = r;
            left[l] = if r.abs() > left[l] { r.abs() } else { left[l] };
        }
    }
    for v in chunks.into_remainder() {
        let q = (sigma + *v) - sigma;
        let r = *v - q;
        sum[0] += q;
        *v = r;
        left[0] = if r.abs() > left[0] { r.abs() } else { left[0] };
    }
    let total = sum.iter().fold(0.0, |a, &b| a + b);
    (
        total,
        left.iter().fold(0.0, |a, &b| if b > a { b } else { a }),
    )
}

/// Squares of values within this range split exactly into `p + e` by one multiplication and one
/// FMA: `p` is finite and `e` a multiple of 2^-1064, never rounded as a subnormal.
pub(crate) const SQUARE_MIN: f64 = pow2(-480);
pub(crate) const SQUARE_MAX: f64 = pow2(511);

/// `2^k` for a normal exponent `k`.
const fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Rounds of a fused pass: each takes 41 bits (53 - HEADROOM), three take 123 bits below
/// the block's largest value, which covers full-precision data spanning 2^-26 of its largest.
pub(crate) const ROUNDS: usize = 3;

/// The cuts of `ROUNDS` rounds for values below `2^(k+1)`, `k` the exponent of `top`; None
/// where one would leave the normal, finite range.
#[inline(always)]
pub(crate) fn cuts(top: f64) -> Option<[f64; ROUNDS]> {
    let k = ((top.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let first = k + 1 + HEADROOM;
    let last = first + (ROUNDS as i32 - 1) * (HEADROOM - 53);
    if !(FAST_MIN..FAST_MAX).contains(&top) || first > 1000 || last < -1000 {
        return None;
    }
    Some(std::array::from_fn(|i| {
        pow2(first + i as i32 * (HEADROOM - 53))
    }))
}

/// Lanes of the fused passes: every operation below is on `[f64; L]`, one AVX2 vector.
const L: usize = 4;

/// `ROUNDS` rounds of extraction of `L` values with the cuts `c`: adds each round's parts to
/// `acc` and leaves in `r` what is left.
#[inline(always)]
fn extract_lanes(r: &mut [f64; L], c: &[f64; ROUNDS], acc: &mut [[f64; L]; ROUNDS]) {
    for i in 0..ROUNDS {
        for l in 0..L {
            let q = (c[i] + r[l]) - c[i];
            r[l] -= q;
            acc[i][l] += q;
        }
    }
}

#[inline(always)]
fn track_left(r: &[f64; L], left: &mut [f64; L]) {
    for l in 0..L {
        let a = r[l].abs();
        left[l] = if a > left[l] { a } else { left[l] };
    }
}

/// The exact sum of each round's lanes (any order: every partial sum is exact).
fn lane_sums(acc: &[[f64; L]; ROUNDS]) -> [f64; ROUNDS] {
    std::array::from_fn(|i| acc[i].iter().fold(0.0, |a, &b| a + b))
}

/// Calls `f` on every `L` values of `values` in turn, the last ones padded with zeros.
#[inline(always)]
fn for_lanes(values: &[f64], mut f: impl FnMut([f64; L])) {
    let mut chunks = values.chunks_exact(L);
    for c in &mut chunks {
        f(<[f64; L]>::try_from(c).expect("L values"));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        f(std::array::from_fn(|l| rest.get(l).copied().unwrap_or(0.0)));
    }
}

/// The cuts of the squares' high and low parts, for values of magnitude up to `largest`.
#[inline(always)]
pub(crate) fn square_cuts(largest: f64) -> Option<([f64; ROUNDS], [f64; ROUNDS])> {
    let high = largest * largest;
    // |e| is at most half an ulp of the largest square: below 2^(k - 52) for 2^k <= high.
    let k = ((high.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    Some((cuts(high)?, cuts(pow2(k - 53))?))
}

/// Σ v in one pass (`fused_sum_portable`), four lanes at a time with AVX2 where the CPU has it.
#[inline(always)]
fn fused_sum(values: &[f64], c: &[f64; ROUNDS]) -> Option<[f64; ROUNDS]> {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { avx2::fused_sum(values, c) };
    }
    fused_sum_portable(values, c)
}

/// Σ v² in one pass (`fused_squares_portable`), with AVX2 where the CPU has it.
#[inline(always)]
fn fused_squares(values: &[f64], largest: f64) -> Option<[f64; 2 * ROUNDS]> {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        let (ch, cl) = square_cuts(largest)?;
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { avx2::fused_squares(values, &ch, &cl) };
    }
    fused_squares_portable(values, largest)
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;

    use super::ROUNDS;

    /// Four values from `values[at..]`, zeros past the end.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(values: &[f64], at: usize) -> __m256d {
        if at + 4 <= values.len() {
            _mm256_loadu_pd(values.as_ptr().add(at))
        } else {
            let mut tail = [0.0f64; 4];
            tail[..values.len() - at].copy_from_slice(&values[at..]);
            _mm256_loadu_pd(tail.as_ptr())
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn extract(
        mut r: __m256d,
        c: &[__m256d; ROUNDS],
        acc: &mut [__m256d; ROUNDS],
    ) -> __m256d {
        for i in 0..ROUNDS {
            let q = _mm256_sub_pd(_mm256_add_pd(c[i], r), c[i]);
            r = _mm256_sub_pd(r, q);
            acc[i] = _mm256_add_pd(acc[i], q);
        }
        r
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn finish<const N: usize>(acc: &[__m256d; N], left: __m256d) -> Option<[f64; N]> {
        let nonzero = _mm256_cmp_pd::<_CMP_NEQ_UQ>(left, _mm256_setzero_pd());
        if _mm256_movemask_pd(nonzero) != 0 {
            return None;
        }
        Some(std::array::from_fn(|i| {
            let mut lanes = [0.0f64; 4];
            _mm256_storeu_pd(lanes.as_mut_ptr(), acc[i]);
            lanes.iter().fold(0.0, |a, &b| a + b)
        }))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn cuts(c: &[f64; ROUNDS]) -> [__m256d; ROUNDS] {
        std::array::from_fn(|i| _mm256_set1_pd(c[i]))
    }

    /// `fused_sum_portable`, four lanes at a time.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fused_sum(values: &[f64], c: &[f64; ROUNDS]) -> Option<[f64; ROUNDS]> {
        let c = cuts(c);
        let abs = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        let mut acc = [_mm256_setzero_pd(); ROUNDS];
        let mut left = _mm256_setzero_pd();
        for at in (0..values.len()).step_by(4) {
            let r = extract(load(values, at), &c, &mut acc);
            left = _mm256_max_pd(left, _mm256_and_pd(r, abs));
        }
        finish(&acc, left)
    }

    /// `fused_squares_portable`, four lanes at a time, `ch` and `cl` the cuts of the squares'
    /// high and low parts.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fused_squares(
        values: &[f64],
        ch: &[f64; ROUNDS],
        cl: &[f64; ROUNDS],
    ) -> Option<[f64; 2 * ROUNDS]> {
        let (ch, cl) = (cuts(ch), cuts(cl));
        let abs = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        let mut acc = [_mm256_setzero_pd(); 2 * ROUNDS];
        let (mut high, mut low) = ([_mm256_setzero_pd(); ROUNDS], [_mm256_setzero_pd(); ROUNDS]);
        let mut left = _mm256_setzero_pd();
        for at in (0..values.len()).step_by(4) {
            let v = load(values, at);
            let p = _mm256_mul_pd(v, v);
            let e = _mm256_fmsub_pd(v, v, p);
            let rh = extract(p, &ch, &mut high);
            let rl = extract(e, &cl, &mut low);
            left = _mm256_max_pd(left, _mm256_and_pd(_mm256_or_pd(rh, rl), abs));
        }
        acc[..ROUNDS].copy_from_slice(&high);
        acc[ROUNDS..].copy_from_slice(&low);
        finish(&acc, left)
    }
}

/// Σ v of `values` in one pass of `ROUNDS` rounds: the rounds' exact sums, or None when a value
/// had bits below the last cut.
#[inline(always)]
fn fused_sum_portable(values: &[f64], c: &[f64; ROUNDS]) -> Option<[f64; ROUNDS]> {
    let mut acc = [[0.0f64; L]; ROUNDS];
    let mut left = [0.0f64; L];
    for_lanes(values, |mut r| {
        extract_lanes(&mut r, c, &mut acc);
        track_left(&r, &mut left);
    });
    left.iter().all(|&r| r == 0.0).then(|| lane_sums(&acc))
}

/// Σ v² of `values` in one pass: each square split exactly into `p + e` (one multiplication,
/// one FMA) and both extracted in `ROUNDS` rounds; None when a part had bits below the last
/// cut. The values are within `SQUARE_MIN..SQUARE_MAX` (or 0), `largest` the largest.
#[inline(always)]
fn fused_squares_portable(values: &[f64], largest: f64) -> Option<[f64; 2 * ROUNDS]> {
    let (ch, cl) = square_cuts(largest)?;
    let mut acc_h = [[0.0f64; L]; ROUNDS];
    let mut acc_l = [[0.0f64; L]; ROUNDS];
    let mut left = [0.0f64; L];
    for_lanes(values, |v| {
        let mut p: [f64; L] = std::array::from_fn(|l| v[l] * v[l]);
        let mut e: [f64; L] = std::array::from_fn(|l| v[l].mul_add(v[l], -p[l]));
        extract_lanes(&mut p, &ch, &mut acc_h);
        extract_lanes(&mut e, &cl, &mut acc_l);
        track_left(&p, &mut left);
        track_left(&e, &mut left);
    });
    if left.iter().any(|&r| r != 0.0) {
        return None;
    }
    let (h, l) = (lane_sums(&acc_h), lane_sums(&acc_l));
    Some(std::array::from_fn(|i| {
        if i < ROUNDS {
            h[i]
        } else {
            l[i - ROUNDS]
        }
    }))
}

/// Adds `Σ v` and `Σ v²` of `values` (finite, at most `MAX_BLOCK`; `largest` the largest
/// magnitude, `smallest` the smallest non-zero one) to `sum` and `sum_sq`, with `high` and
/// `low` as scratch of the same length. `values` is used as scratch too.
#[inline(always)]
pub fn add_block_moments(
    values: &mut [f64],
    largest: f64,
    smallest: f64,
    high: &mut [f64],
    low: &mut [f64],
    sum: &mut ExactSum,
    sum_sq: &mut ExactSum,
) {
    // The common case: one pass for the sum, one for the squares, nothing left below the cuts.
    let in_range = smallest >= SQUARE_MIN && largest < SQUARE_MAX;
    match in_range.then(|| fused_squares(values, largest)).flatten() {
        Some(parts) => parts.iter().for_each(|&p| sum_sq.add_f64(p)),
        None => add_squares(values, high, low, sum_sq),
    }
    match cuts(largest).and_then(|c| fused_sum(values, &c)) {
        Some(parts) => parts.iter().for_each(|&p| sum.add_f64(p)),
        None => add_values(values, largest, sum),
    }
}

/// `Σ v²` of `values` into `sum_sq`, round after round over the split squares; a square that
/// does not split exactly (outside `SQUARE_MIN..SQUARE_MAX`) goes in one by one.
fn add_squares(values: &[f64], high: &mut [f64], low: &mut [f64], sum_sq: &mut ExactSum) {
    let n = values.len();
    let (high, low) = (&mut high[..n], &mut low[..n]);
    let (mut high_largest, mut low_largest) = (0.0f64, 0.0f64);
    for i in 0..n {
        let v = values[i];
        let a = v.abs();
        if a == 0.0 || (SQUARE_MIN..SQUARE_MAX).contains(&a) {
            let p = v * v;
            (high[i], low[i]) = (p, v.mul_add(v, -p));
            high_largest = high_largest.max(p);
            low_largest = low_largest.max(low[i].abs());
        } else {
            sum_sq.add_product(v, v);
            (high[i], low[i]) = (0.0, 0.0);
        }
    }
    add_values(high, high_largest, sum_sq);
    add_values(low, low_largest, sum_sq);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &ExactSum, b: &ExactSum) -> bool {
        a == b // equal normalized limbs: the same exact value
    }

    fn slow(values: &[f64]) -> ExactSum {
        let mut s = ExactSum::new();
        values.iter().for_each(|&v| s.add_f64(v));
        s
    }

    fn awkward(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let scale = ((state >> 33) % 80) as i32 - 40;
                let sign = if state >> 63 == 1 { -1.0 } else { 1.0 };
                sign * ((state >> 11) as f64 / (1u64 << 53) as f64) * 2f64.powi(scale)
            })
            .collect()
    }

    #[test]
    fn a_sum_and_its_negation_cancel() {
        let v = awkward(1000, 7);
        let mut s = slow(&v);
        let neg: Vec<f64> = v.iter().map(|x| -x).collect();
        s.add_sum(&slow(&neg), false);
        assert!(s.is_zero());
        assert_eq!(s.normalized(), (0, &[][..]));
    }

    #[test]
    fn order_does_not_matter() {
        let v = awkward(5000, 3);
        let mut rev = v.clone();
        rev.reverse();
        assert!(same(&slow(&v), &slow(&rev)));
        let (a, b) = v.split_at(1234);
        let mut s = slow(a);
        s.add_sum(&slow(b), false);
        assert!(same(&s, &slow(&v)));
    }

    #[test]
    fn extraction_agrees_with_one_by_one() {
        let mut specials = vec![
            0.0,
            -0.0,
            5e-324,
            -5e-324,
            1e308,
            -1e308,
            2.2250738585072014e-308,
        ];
        specials.extend(awkward(600, 11));
        for values in [
            awkward(2048, 5),
            specials,
            vec![1.0; 2048],
            vec![3.0, -3.0, 1e-300],
        ] {
            let mut acc = ExactSum::new();
            let mut scratch = values.clone();
            let largest = values.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
            add_values(&mut scratch, largest, &mut acc);
            assert!(same(&acc, &slow(&values)), "{values:?}");
        }
    }

    #[test]
    fn squares_agree_with_integer_products() {
        let uniform: Vec<f64> = awkward(2048, 4).iter().map(|v| v.fract()).collect();
        let mut outlier = uniform.clone();
        outlier[77] = 1e-30; // bits far below the fused pass's last cut
        let mut wide = awkward(2000, 9);
        wide.extend([1e200, -1e-200, 5e-324, 1e-160, 3.0]);
        let integers: Vec<f64> = (0..2048).map(|i| (i % 97) as f64 - 40.0).collect();
        for values in [uniform, outlier, wide, integers, vec![0.0; 5], vec![]] {
            let mut expected = ExactSum::new();
            values.iter().for_each(|&v| expected.add_product(v, v));
            let (mut sum, mut sum_sq) = (ExactSum::new(), ExactSum::new());
            let (mut high, mut low) = (vec![0.0; values.len()], vec![0.0; values.len()]);
            let mut scratch = values.clone();
            let largest = values.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
            let smallest = values
                .iter()
                .filter(|v| **v != 0.0)
                .fold(f64::INFINITY, |a, &b| a.min(b.abs()));
            add_block_moments(
                &mut scratch,
                largest,
                smallest,
                &mut high,
                &mut low,
                &mut sum,
                &mut sum_sq,
            );
            assert!(same(&sum_sq, &expected), "{values:?}");
            assert!(same(&sum, &slow(&values)), "{values:?}");
            // The fused passes: the portable build and the dispatched one agree bit for bit.
            if let Some(c) = cuts(largest) {
                assert_eq!(fused_sum_portable(&values, &c), fused_sum(&values, &c));
            }
            if largest > 0.0 && largest < SQUARE_MAX {
                let portable = fused_squares_portable(&values, largest);
                assert_eq!(portable, fused_squares(&values, largest));
            }
        }
    }

    #[test]
    fn products_of_three() {
        // 3 * 5 * 7 = 105, at the extremes of the exponent range too.
        let mut s = ExactSum::new();
        s.add_product3(3.0, 5.0, 7.0);
        assert!(same(&s, &slow(&[105.0])));
        let mut t = ExactSum::new();
        t.add_product3(5e-324, 5e-324, 5e-324);
        t.add_product3(-5e-324, 5e-324, 5e-324);
        assert!(t.is_zero());
        let mut u = ExactSum::new();
        u.add_product3(1e300, 1e300, 1e300);
        u.add_product3(1e300, -1e300, 1e300);
        assert!(u.is_zero());
    }
}
