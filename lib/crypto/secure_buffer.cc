#include "crypto/secure_buffer.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <new>

namespace tearline::crypto {

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) {
      std::fputs("tearline: libsodium failed to initialize\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)ready;
}

void* secure_alloc(std::size_t n) {
  ensure_sodium();
  void* p = sodium_malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  sodium_memzero(p, n);
  return p;
}

void secure_free(void* p) { sodium_free(p); }  // wipes before freeing

}  // namespace tearline::crypto
