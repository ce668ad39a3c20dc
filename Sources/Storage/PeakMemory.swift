import Foundation

/// Peak resident set size of this process (bytes), from getrusage (benchmarks report it).
public func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}
