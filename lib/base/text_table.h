// A text table for terminals: the one column aligner of the CLI's tables
// (the demo's routing table, `tearline inject`'s results, the demo's node
// list) and the bench's run table.
//
// Columns are as wide as the widest cell line given to fit(), and never
// narrower than their min_width; cells are padded with spaces to the width
// of their column (left- or right-aligned) and columns are joined by `gap`;
// each line starts with `indent`, and its trailing spaces are removed. A cell
// wider than its column is not cut: it pushes the rest of its line to the
// right, as printf's "%-10s" does. A cell may have several lines: the row is
// as tall as its tallest cell, and shorter cells are blank below. Missing
// cells are blank; cells past the last column are ignored.
//
// Widths count bytes: meant for ASCII (escape other text first). Pure, no
// I/O; a value like any other (no sharing between threads while fitting).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tearline {

enum class Align { kLeft, kRight };

struct TableColumn {
  Align align = Align::kLeft;
  std::size_t min_width = 0;
};

class TextTable {
 public:
  // A cell of several lines, one string per line.
  using Cell = std::vector<std::string>;

  explicit TextTable(std::vector<TableColumn> columns, std::string gap = "  ", std::string indent = "");

  // Widens the columns to fit `cells`: one line each, or (fit_tall) several.
  void fit(const std::vector<std::string>& cells);
  void fit_tall(const std::vector<Cell>& cells);

  std::size_t width(std::size_t column) const { return widths_.at(column); }

  // The row as text: one line, or (tall_row) as many as its tallest cell,
  // each line ending with "\n".
  std::string row(const std::vector<std::string>& cells) const;
  std::string tall_row(const std::vector<Cell>& cells) const;
  // Every column filled with `fill` to its width: "-------  ----".
  std::string rule(char fill = '-') const;

 private:
  std::string line(const std::vector<Cell>& cells, std::size_t at) const;

  std::vector<TableColumn> columns_;
  std::vector<std::size_t> widths_;
  std::string gap_, indent_;
};

}  // namespace tearline
