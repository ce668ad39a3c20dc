import CProcess

/// glibc's heap returns freed memory to the kernel eagerly: blocks above 128 KB are mapped and
/// unmapped one by one, and the top of the heap is trimmed. A process that allocates and frees
/// the same large blocks over and over then pays page faults and kernel zeroing each time. The
/// coordinator is one: it opens every shard it accepts with libhdf5, which allocates large
/// zeroed blocks (its metadata cache) for every file it opens (`perf stat` of
/// `circuits bench coordinator --workers 20 --tasks 2000`: 2.9 M page faults and 10.7 s of CPU
/// before, 4 k and 6.3 s with the heap kept).
public enum HeapRetention {
    /// Keeps freed blocks up to 32 MB in the heap for reuse (no `mmap` per block, no trimming
    /// below 128 MB of free top). Process-wide; idempotent. Returns false off glibc.
    @discardableResult
    public static func keepFreedMemory() -> Bool {
        circuits_keep_freed_memory(32 << 20, 128 << 20) == 1
    }
}
