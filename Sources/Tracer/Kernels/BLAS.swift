import CBLAS

// Thin, shape-explicit wrappers over OpenBLAS. Row-major throughout. Each takes unsafe base
// pointers obtained once by the caller; no allocation, no Swift loops.

/// `C[M, N] = alpha · op(A) · op(B) + beta · C`, row-major, with leading dimensions.
/// `op(A)` is `[M, K]` (A stored `[M, K]`, or `[K, M]` when `transA`); `op(B)` is `[K, N]`
/// (B stored `[K, N]`, or `[N, K]` when `transB`).
@inlinable @inline(__always)
public func gemm(_ c: UnsafeMutablePointer<Float>, ldc: Int,
          _ a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
          _ b: UnsafePointer<Float>, ldb: Int, transB: Bool = false,
          m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `y[M] = alpha · op(A) · x + beta · y`, A stored `[M, N]` row-major (or its transpose).
@inline(__always)
func gemv(_ y: UnsafeMutablePointer<Float>, incY: Int = 1,
          _ a: UnsafePointer<Float>, lda: Int, trans: Bool = false,
          _ x: UnsafePointer<Float>, incX: Int = 1,
          m: Int, n: Int, alpha: Float = 1, beta: Float = 0) {
    guard m > 0, n > 0 else { return }
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda),
                x, Int32(incX), beta, y, Int32(incY))
}

/// The number of threads OpenBLAS uses.
public func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
public var blasThreads: Int { Int(openblas_get_num_threads()) }

/// `B[M, N] = alpha · op(A) · B` in place, A `[M, M]` triangular (lower when `lower`, else
/// upper; the other triangle is not read), row-major. Half the work of the `gemm` with a full A.
@inline(__always)
func trmm(_ b: UnsafeMutablePointer<Float>, ldb: Int, _ a: UnsafePointer<Float>, lda: Int, lower: Bool, transA: Bool = false,
          m: Int, n: Int, alpha: Float = 1) {
    guard m > 0, n > 0 else { return }
    cblas_strmm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, transA ? CblasTrans : CblasNoTrans, CblasNonUnit,
                Int32(m), Int32(n), alpha, a, Int32(lda), b, Int32(ldb))
}
