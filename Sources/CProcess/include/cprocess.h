// Linux process controls Swift cannot call directly (prctl is variadic).
#ifndef CIRCUITS_CPROCESS_H
#define CIRCUITS_CPROCESS_H

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when the thread
/// that forked it exits. Returns 0, or -1 with errno set (always -1 off Linux).
int circuits_set_parent_death_signal(int signal);

/// mallopt(M_MMAP_THRESHOLD, mmap_threshold) and mallopt(M_TRIM_THRESHOLD, trim_threshold):
/// glibc keeps freed blocks below the first in the heap and trims its top only above the
/// second. Returns 1 when both were set (0 off glibc).
int circuits_keep_freed_memory(int mmap_threshold, int trim_threshold);

#endif
