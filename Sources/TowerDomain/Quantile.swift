/// Prometheus's `histogram_quantile` over classic (`le`) buckets, so that a percentile Tower
/// computes from bucket rates is the very number PromQL would give for the same buckets
/// (DESIGN §5). It follows `BucketQuantile` in prometheus/prometheus `promql/quantile.go` step for
/// step, special cases and their order included; each step below names its upstream counterpart.
///
/// Arithmetic is left unfused on purpose: Prometheus's official amd64 builds do not fuse
/// `a + b*c`, while arm64 builds do, so against an arm64 Prometheus the last digit may differ by
/// one ulp. Compare with a relative tolerance of about 1e-12, not bit for bit.
public enum Quantile {
    /// Upstream `smallDeltaTolerance`: relative differences between neighbouring cumulative counts
    /// at or below this are floating-point noise (e.g. from sharded sums) and are ignored.
    public static let smallDeltaTolerance = 1e-12

    /// The `q`-quantile of cumulative `buckets`, with Prometheus's special cases:
    /// NaN `q` → NaN, `q < 0` → -Inf, `q > 1` → +Inf; a highest bucket other than `+Inf` → NaN;
    /// fewer than two distinct bounds → NaN; no observations → NaN. A rank in the `+Inf` bucket
    /// gives the second-highest bound; the first bucket interpolates from 0 unless its bound is
    /// ≤ 0, which is then returned as is.
    ///
    /// nil only for no buckets at all, where PromQL has no series to answer with (upstream would
    /// index past the end; it never gets there because it only groups series that exist). NaN is
    /// returned as NaN: callers turn it into "no data" themselves.
    public static func histogramQuantile(_ q: Double, _ buckets: [Bucket]) -> Double? {
        if buckets.isEmpty { return nil }
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        // `slices.SortFunc` by upper bound. NaN bounds sort first here: upstream's order for them
        // is unspecified, and this keeps Swift's sort on a strict weak ordering.
        var b = buckets.sorted { ($0.le.isNaN && !$1.le.isNaN) || $0.le < $1.le }
        if b[b.count - 1].le != .infinity { return .nan }
        b = coalesce(b)
        ensureMonotonicAndIgnoreSmallDeltas(&b, tolerance: smallDeltaTolerance)
        if b.count < 2 { return .nan }
        let observations = b[b.count - 1].count
        if observations == 0 { return .nan }
        var rank = q * observations
        // `sort.Search(len(buckets)-1, …)`: the +Inf bucket is left out of the search, and the
        // search is the same binary search, so NaN counts land where they land upstream.
        let i = search(b.count - 1) { b[$0].count >= rank }
        if i == b.count - 1 { return b[b.count - 2].le }
        if i == 0 && b[0].le <= 0 { return b[0].le }
        var start = 0.0
        let end = b[i].le
        var count = b[i].count
        if i > 0 {
            start = b[i - 1].le
            count -= b[i - 1].count
            rank -= b[i - 1].count
        }
        return start + (end - start) * (rank / count)
    }

    /// Upstream `coalesceBuckets`: buckets with the same bound (e.g. `le="1"` and `le="1.0"`
    /// summed apart) are merged by adding their counts. Input sorted.
    static func coalesce(_ buckets: [Bucket]) -> [Bucket] {
        var out: [Bucket] = []
        out.reserveCapacity(buckets.count)
        for bucket in buckets {
            if let last = out.last, last.le == bucket.le {
                out[out.count - 1].count += bucket.count
            } else {
                out.append(bucket)
            }
        }
        return out
    }

    /// Upstream `ensureMonotonicAndIgnoreSmallDeltas`. A count that differs from the last accepted
    /// count by a relative amount within `tolerance` (either direction) is set to it; a count
    /// below it is raised to it (the envelope). In both cases the last accepted count stays as it
    /// was, so small steps are measured against it and never accumulate unnoticed.
    static func ensureMonotonicAndIgnoreSmallDeltas(_ buckets: inout [Bucket], tolerance: Double) {
        guard var prev = buckets.first?.count else { return }
        for i in buckets.indices.dropFirst() {
            let curr = buckets[i].count
            if curr == prev { continue }
            if almostEqual(prev, curr, tolerance) {
                buckets[i].count = prev
                continue
            }
            if curr < prev {
                buckets[i].count = prev
                continue
            }
            prev = curr
        }
    }

    /// Upstream `util/almost.Equal`: relative to the sum of magnitudes, with an absolute floor
    /// near zero; two NaNs are equal. (Prometheus's stale-marker NaN never reaches a query answer.)
    static func almostEqual(_ a: Double, _ b: Double, _ epsilon: Double) -> Bool {
        if a.isNaN && b.isNaN { return true }
        if a == b { return true }
        let minNormal = Double.leastNormalMagnitude
        let absSum = abs(a) + abs(b)
        let diff = abs(a - b)
        if a == 0 || b == 0 || absSum < minNormal { return diff < epsilon * minNormal }
        return diff / min(absSum, .greatestFiniteMagnitude) < epsilon
    }

    /// Go's `sort.Search`: the smallest index in `0..<n` for which `predicate` holds, assuming it
    /// holds for every index after that one; `n` when it holds for none.
    static func search(_ n: Int, _ predicate: (Int) -> Bool) -> Int {
        var lo = 0, hi = n
        while lo < hi {
            let mid = Int(UInt(lo + hi) >> 1)
            if predicate(mid) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
