#include "crypto/secure_buffer.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define TEARLINE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEARLINE_ASAN 1
#endif
#endif
#ifdef TEARLINE_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace tearline::crypto {
namespace {

constexpr std::size_t kSlotBytes = 64;
// 63 x 64 = 4032 bytes: with libsodium's 16-byte canary the arena fits one
// 4 KiB page. sodium_malloc ends the block at the trailing guard page, so the
// arena starts at (page end - 4032), which is 64-byte aligned.
constexpr std::size_t kSlotsPerArena = 63;
constexpr std::size_t kArenaBytes = kSlotBytes * kSlotsPerArena;

void poison(void* p, std::size_t n) {
#ifdef TEARLINE_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

void unpoison(void* p, std::size_t n) {
#ifdef TEARLINE_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

// Fixed 64-byte slots carved out of sodium_malloc'd arenas (see the header for
// the contract and the trade-off). Invariant: every free slot is all zeros, so
// allocate() needs no wipe. One mutex guards everything; the critical sections
// are a few pointer operations. Arenas are never freed, so a pointer that lies
// inside a recorded arena is a slab slot for the life of the process.
class Slab {
 public:
  // n <= kSlotBytes; under ASan only the n requested bytes become usable.
  void* allocate(std::size_t n) {
    std::lock_guard lock(mu_);
    if (free_.empty()) add_arena();
    void* p = free_.back();
    free_.pop_back();
    unpoison(p, n);
    return p;
  }

  // True (and the slot wiped and recycled) when p is a slab slot.
  bool release(void* p) noexcept {
    auto* bytes = static_cast<std::uint8_t*>(p);
    std::lock_guard lock(mu_);
    // arenas_ is sorted by address; find the last arena starting at or before p.
    auto it = std::upper_bound(arenas_.begin(), arenas_.end(), bytes, std::less<>());
    if (it == arenas_.begin() || !std::less<>()(bytes, *(it - 1) + kArenaBytes)) return false;
    unpoison(p, kSlotBytes);  // the tail past the size asked for is still poisoned
    sodium_memzero(p, kSlotBytes);
    poison(p, kSlotBytes);
    free_.push_back(p);  // capacity reserved in add_arena: cannot throw
    return true;
  }

 private:
  // Throws std::bad_alloc, leaving the slab unchanged, if memory runs out.
  void add_arena() {
    free_.reserve((arenas_.size() + 1) * kSlotsPerArena);
    arenas_.reserve(arenas_.size() + 1);
    auto* arena = static_cast<std::uint8_t*>(sodium_malloc(kArenaBytes));
    if (arena == nullptr) throw std::bad_alloc();
    sodium_memzero(arena, kArenaBytes);  // sodium_malloc fills with 0xdb
    poison(arena, kArenaBytes);
    arenas_.insert(std::upper_bound(arenas_.begin(), arenas_.end(), arena, std::less<>()), arena);
    // Pushed in reverse so the lowest address is handed out first.
    for (std::size_t i = kSlotsPerArena; i-- > 0;) free_.push_back(arena + i * kSlotBytes);
  }

  std::mutex mu_;
  std::vector<std::uint8_t*> arenas_;  // sorted start addresses
  std::vector<void*> free_;            // LIFO; every entry is zeroed
};

// Intentionally leaked: SecureBuffers live in static and thread-local objects
// (and in objects other static destructors tear down), so the slab must
// outlive every one of them. A function-local static object would be
// destroyed at exit in an order we do not control, and a later secure_free
// would touch a dead mutex and vectors. The arenas are wiped slot by slot as
// buffers die; whatever is still live at exit is unmapped by the OS.
Slab& slab() {
  static Slab* const instance = new Slab;
  return *instance;
}

}  // namespace

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
  if (n <= kSlotBytes) return slab().allocate(n);
  void* p = sodium_malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  sodium_memzero(p, n);
  return p;
}

void secure_free(void* p) noexcept {
  if (p == nullptr) return;
  if (slab().release(p)) return;
  sodium_free(p);  // wipes before unmapping
}

}  // namespace tearline::crypto
