// zlib (Debian zlib1g-dev): raw-deflate inflation for .npz (zip) entries.
#include <zlib.h>

// inflateInit2 is a function-like macro, invisible to Swift: a raw deflate stream (no zlib header).
static inline int circuits_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -MAX_WBITS);
}

// deflateInit2 likewise: a raw deflate stream at `level` (used by tests to write .npz fixtures).
static inline int circuits_deflate_init_raw(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}
