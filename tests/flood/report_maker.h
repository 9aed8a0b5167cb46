// Fresh, valid reports for the flood test: one UNCLASSIFIED section of a
// given size, releasable to the originator's country, sealed to one
// recipient or to none (fewer wraps keep the client's CPU out of the
// measurement; the broker's checks do not depend on how many wraps a section
// has). Each report has a new id, a sequence above the last and the current
// time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "flood/raw_node.h"
#include "report/builder.h"

namespace tearline::flood {

class ReportMaker {
 public:
  // `node` must outlive the maker. `recipient` empty: sealed to nobody.
  // Throws std::runtime_error when the recipient or the node itself is not
  // in the node's directory.
  ReportMaker(const RawNode& node, std::string topic, const std::string& recipient, std::size_t bytes);

  Result<report::BuiltReport> next();
  // The bytes of a fresh report for the price of one signature: the first
  // report's sealed section is kept and only the header (id, sequence,
  // created-at) and the signature are new. The broker accepts it as any
  // other (it checks the signature and the commitments, which still match);
  // the section no longer opens, because its AEAD binds the first header,
  // which only the section's recipients could notice. For flooders.
  Result<Bytes> next_resigned();

 private:
  const RawNode& node_;
  std::string topic_;
  policy::Label label_;
  std::vector<std::vector<report::Recipient>> recipients_;
  Bytes content_;
  std::uint64_t last_sequence_ = 0;
  std::optional<tearline::v1::Report> template_;
};

}  // namespace tearline::flood
