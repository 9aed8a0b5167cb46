// Fixed-size secret bytes in libsodium guarded memory, wiped on destruction.
// Move-only.
//
// Memory contract (secure_alloc / secure_free, which SecureBuffer uses):
//  - secure_alloc(n) returns n zeroed bytes, 16-byte aligned when n <= 64
//    (sodium_malloc's own alignment rules apply above that), mlock'd where the
//    RLIMIT_MEMLOCK allows, excluded from core dumps where libsodium does that,
//    with guard pages around the mapping. Throws std::bad_alloc when libsodium
//    cannot map memory. Thread-safe.
//  - secure_free(p) wipes the bytes (sodium_memzero) before they can be reused.
//    p must come from secure_alloc; nullptr is ignored. Thread-safe, no throw.
//
// Sizes <= 64 (every key tearline holds) come from a process-wide slab of
// sodium_malloc'd arenas, 63 slots x 64 bytes each (one 4 KiB page; libsodium's
// guard pages, mlock and MADV_DONTDUMP cover the arena, not each slot), handed
// out from a LIFO free list behind one mutex. That turns each alloc/free from
// mmap + mprotect + mlock + munmap into a lock and a pointer pop.
// WARNING: slots in one arena are NOT separated by guard pages. Writing past
// a 64-byte secret reaches its neighbour's secret instead of faulting; only
// the ends of an arena are guarded. (ASan builds poison free slots and the
// unused tail of each slot, so the sanitizer run still catches overflowing a
// secret's n bytes and use-after-free.)
// Arenas are never returned to the OS: the slab's footprint is bounded by the
// peak number of small secrets alive at once (4 pages mapped, 1 of them
// locked, per 63 secrets). Larger sizes go to sodium_malloc/sodium_free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/bytes.h"

namespace tearline::crypto {

// Calls sodium_init() once; aborts the process if libsodium cannot start.
void ensure_sodium();

template <std::size_t N>
class SecureBuffer {
 public:
  SecureBuffer();
  ~SecureBuffer();
  SecureBuffer(SecureBuffer&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}
  SecureBuffer& operator=(SecureBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
    }
    return *this;
  }
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  static constexpr std::size_t size() { return N; }
  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  ByteView view() const { return ByteView(data_, N); }

 private:
  void release();
  std::uint8_t* data_;
};

void* secure_alloc(std::size_t n);
void secure_free(void* p) noexcept;

template <std::size_t N>
SecureBuffer<N>::SecureBuffer() : data_(static_cast<std::uint8_t*>(secure_alloc(N))) {}

template <std::size_t N>
SecureBuffer<N>::~SecureBuffer() {
  release();
}

template <std::size_t N>
void SecureBuffer<N>::release() {
  if (data_ != nullptr) secure_free(data_);
  data_ = nullptr;
}

}  // namespace tearline::crypto
