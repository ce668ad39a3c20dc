// libzmq (Debian libzmq3-dev). No pkgConfig: libzmq.pc adds an -isystem flag SwiftPM rejects.
#include <zmq.h>
