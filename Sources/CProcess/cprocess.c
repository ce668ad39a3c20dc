#include "cprocess.h"
#include <errno.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

int circuits_set_parent_death_signal(int signal) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}
