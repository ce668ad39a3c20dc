import CBLAS

// Shape-explicit OpenBLAS wrappers for the training kernels (the engine's are internal to
// Tracer). Row-major; the caller takes unsafe base pointers once.

/// `C[M, N] = alpha · op(A) · op(B) + beta · C`, row-major with leading dimensions.
/// `op(A)` is `[M, K]` (stored `[M, K]`, or `[K, M]` when `transA`); `op(B)` is `[K, N]`
/// (stored `[K, N]`, or `[N, K]` when `transB`).
@inline(__always)
func sgemm(_ c: UnsafeMutablePointer<Float>, ldc: Int,
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
