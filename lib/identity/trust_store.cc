#include "identity/trust_store.h"

#include <algorithm>
#include <sstream>

#include "base/bytes.h"
#include "base/files.h"
#include "base/toml_reader.h"
#include "crypto/key_checks.h"
#include "identity/countries.h"

namespace tearline::identity {

Result<TrustStore> TrustStore::load(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return Status::fail(Code::IO_ERROR, "trust store: " + text.status().reasons().front().message);
  return parse(as_chars(*text), path.string());
}

Result<TrustStore> TrustStore::parse(std::string_view toml_text, std::string_view source_name) {
  TomlReader reader(toml_text, "trust store " + std::string(source_name), TomlReader::LineStyle::kPrefix);
  if (!reader.parsed()) return reader.status();
  const toml::table& doc = reader.root();
  reader.refuse_unknown_keys(doc, {"authority"});
  TrustStore store;
  Status problems;
  const toml::array* list = doc["authority"].as_array();
  if (list != nullptr) {
    int index = 0;
    for (const auto& node : *list) {
      ++index;
      const std::string where = std::string(source_name) + " authority #" + std::to_string(index);
      const toml::table* t = node.as_table();
      if (t == nullptr) {
        problems.add(Code::INVALID_FIELD, where + " is not a table");
        continue;
      }
      reader.refuse_unknown_keys(*t, {"agency", "country", "verify_key", "partner"},
                                 "authority #" + std::to_string(index) + ": unknown key ");
      auto agency = (*t)["agency"].value<std::string>();
      auto country = (*t)["country"].value<std::string>();
      auto key_hex = (*t)["verify_key"].value<std::string>();
      const toml::node_view<const toml::node> partner = (*t)["partner"];
      Bytes key;
      if (!agency || !is_valid_id(*agency)) {
        problems.add(Code::INVALID_FIELD, where + ": agency missing or not a valid id");
      } else if (!country || !is_known_country(*country)) {
        problems.add(Code::INVALID_FIELD, where + ": country missing or not ISO 3166-1 alpha-3");
      } else if (!key_hex || !from_hex(*key_hex, &key) || key.size() != 32) {
        problems.add(Code::INVALID_FIELD, where + ": verify_key must be 64 hex characters");
      } else if (partner && !partner.is_boolean()) {
        problems.add(Code::INVALID_FIELD, where + ": partner must be true or false");
      } else {
        Authority a{*agency, *country, {}, partner.value_or(false)};
        std::copy(key.begin(), key.end(), a.verify_key.bytes.begin());
        Status added = store.add(std::move(a));
        if (!added) problems.merge(added);
      }
    }
  }
  problems.merge(reader.status());
  if (!problems) return problems;
  if (store.empty()) {
    return Status::fail(Code::EMPTY_TRUST_STORE,
                        "trust store " + std::string(source_name) + " pins no authority; refusing to trust anything");
  }
  return store;
}

std::string TrustStore::to_toml() const {
  std::ostringstream out;
  out << "# Pinned agency authorities. Review every key before trusting it.\n";
  for (const auto& [agency, a] : authorities_) {
    out << "\n[[authority]]\nagency = \"" << a.agency << "\"\ncountry = \"" << a.country << "\"\nverify_key = \""
        << to_hex(a.verify_key.view()) << "\"\n";
    if (a.partner) out << "partner = true\n";
  }
  return out.str();
}

Status TrustStore::add(Authority authority) {
  Status usable = crypto::check_verify_key(authority.verify_key, "the verify_key of authority " + authority.agency);
  if (!usable) return usable;
  if (authorities_.count(authority.agency) != 0) {
    return Status::fail(Code::DUPLICATE_OBJECT, "authority " + authority.agency + " is pinned twice");
  }
  std::string key = authority.agency;
  authorities_.emplace(std::move(key), std::move(authority));
  return Status::ok();
}

const Authority* TrustStore::authority(std::string_view agency) const {
  auto it = authorities_.find(agency);
  return it == authorities_.end() ? nullptr : &it->second;
}

Status set_partner_agencies(const std::filesystem::path& path, const std::vector<std::string>& partners) {
  auto trust = TrustStore::load(path);
  if (!trust) return trust.status();
  TrustStore marked;
  for (auto [agency, authority] : trust->authorities()) {
    authority.partner = std::find(partners.begin(), partners.end(), agency) != partners.end();
    if (Status s = marked.add(authority); !s) return s;
  }
  return write_file_atomic(path, as_bytes(marked.to_toml()), 0644);
}

}  // namespace tearline::identity
