#include "fuzz_world.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "support/demo_world.h"

namespace tearline::fuzz {
namespace {

// A libsodium randombytes implementation that replays one fixed stream: call
// n fills buffers from ChaCha20 keyed by the fixed seed with n mixed in.
std::uint64_t g_calls = 0;

void fixed_buf(void* const buf, const std::size_t size) {
  unsigned char seed[randombytes_SEEDBYTES] = "tearline fuzz world: fixed keys";
  for (std::size_t i = 0; i < sizeof g_calls; ++i) seed[i] ^= static_cast<unsigned char>(g_calls >> (8 * i));
  ++g_calls;
  randombytes_buf_deterministic(buf, size, seed);
}

std::uint32_t fixed_random() {
  std::uint32_t v = 0;
  fixed_buf(&v, sizeof v);
  return v;
}

const char* fixed_name() { return "tearline-fuzz-fixed"; }

randombytes_implementation g_fixed = {
    .implementation_name = fixed_name,
    .random = fixed_random,
    .stir = nullptr,
    .uniform = nullptr,  // libsodium derives it from random()
    .buf = fixed_buf,
    .close = nullptr,
};

// While alive, libsodium draws from the fixed stream, from its start.
class FixedRandomness {
 public:
  FixedRandomness() {
    // sodium_init() draws its own canary; let it do so before the stream starts.
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
    g_calls = 0;
    randombytes_set_implementation(&g_fixed);
  }
  ~FixedRandomness() { randombytes_set_implementation(&randombytes_sysrandom_implementation); }
  FixedRandomness(const FixedRandomness&) = delete;
  FixedRandomness& operator=(const FixedRandomness&) = delete;
};

}  // namespace

FuzzWorld::FuzzWorld() : dir_("tearline-fuzz"), pki_(dir_.path() / "pki") {
  {
    FixedRandomness fixed;
    testing::DemoWorld::generate_into(pki_.root());
  }
  identity::LoadReport report;
  auto directory = identity::Directory::load(pki_.directory(), testing::kDemoNow, &report);
  if (!directory) throw std::runtime_error("fuzz world directory: " + directory.status().to_string());
  if (!report.rejected.empty()) throw std::runtime_error("fuzz world directory rejected " + report.rejected[0].object);
  directory_ = std::move(directory).value();
  for (const identity::Credential* node : directory_->nodes()) {
    if (node->has_role(identity::kBrokerRole)) continue;  // keys/broker.key, not a node key file
    auto keys = crypto::read_node_keys(pki_.node_key(node->node_id));
    if (!keys) throw std::runtime_error("fuzz world keys of " + node->node_id + ": " + keys.status().to_string());
    keys_.emplace(node->node_id, std::move(keys).value());
  }
}

const FuzzWorld& FuzzWorld::get() {
  static const FuzzWorld world;
  return world;
}

const crypto::NodeSecrets* FuzzWorld::keys(std::string_view node_id) const {
  auto it = keys_.find(node_id);
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace tearline::fuzz
