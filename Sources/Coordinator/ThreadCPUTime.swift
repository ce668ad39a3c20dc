import Foundation

/// CPU seconds the calling thread has run (user + system), from `CLOCK_THREAD_CPUTIME_ID`: what
/// the coordinator's loop and its verifier threads cost, apart from other threads of the process.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
