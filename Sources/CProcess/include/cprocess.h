// Linux process controls Swift cannot call directly (prctl is variadic).
#ifndef CIRCUITS_CPROCESS_H
#define CIRCUITS_CPROCESS_H

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when the thread
/// that forked it exits. Returns 0, or -1 with errno set (always -1 off Linux).
int circuits_set_parent_death_signal(int signal);

#endif
