#include "base/text_table.h"

#include <algorithm>

namespace tearline {
namespace {

std::vector<TextTable::Cell> one_line_cells(const std::vector<std::string>& cells) {
  std::vector<TextTable::Cell> out;
  out.reserve(cells.size());
  for (const auto& c : cells) out.push_back({c});
  return out;
}

}  // namespace

TextTable::TextTable(std::vector<TableColumn> columns, std::string gap, std::string indent)
    : columns_(std::move(columns)), gap_(std::move(gap)), indent_(std::move(indent)) {
  widths_.reserve(columns_.size());
  for (const auto& c : columns_) widths_.push_back(c.min_width);
}

void TextTable::fit(const std::vector<std::string>& cells) { fit_tall(one_line_cells(cells)); }

void TextTable::fit_tall(const std::vector<Cell>& cells) {
  for (std::size_t i = 0; i < cells.size() && i < widths_.size(); ++i) {
    for (const auto& l : cells[i]) widths_[i] = std::max(widths_[i], l.size());
  }
}

std::string TextTable::row(const std::vector<std::string>& cells) const { return tall_row(one_line_cells(cells)); }

std::string TextTable::tall_row(const std::vector<Cell>& cells) const {
  std::size_t height = 1;
  for (std::size_t i = 0; i < cells.size() && i < widths_.size(); ++i) height = std::max(height, cells[i].size());
  std::string out;
  for (std::size_t at = 0; at < height; ++at) out += line(cells, at);
  return out;
}

std::string TextTable::line(const std::vector<Cell>& cells, std::size_t at) const {
  std::string text = indent_;
  for (std::size_t i = 0; i < widths_.size(); ++i) {
    if (i > 0) text += gap_;
    const std::string empty;
    const std::string& s = i < cells.size() && at < cells[i].size() ? cells[i][at] : empty;
    const std::string padding(s.size() >= widths_[i] ? 0 : widths_[i] - s.size(), ' ');
    text += columns_[i].align == Align::kLeft ? s + padding : padding + s;
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text + "\n";
}

std::string TextTable::rule(char fill) const {
  std::string text = indent_;
  for (std::size_t i = 0; i < widths_.size(); ++i) text += (i > 0 ? gap_ : "") + std::string(widths_[i], fill);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text + "\n";
}

}  // namespace tearline
