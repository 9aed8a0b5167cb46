// Fixed-size secret bytes in sodium_malloc memory (guard pages, mlock'd where
// allowed), wiped by sodium_free on destruction. Move-only.
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

// Implemented in secure_buffer.cc for the sizes tearline uses.
void* secure_alloc(std::size_t n);
void secure_free(void* p);

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
