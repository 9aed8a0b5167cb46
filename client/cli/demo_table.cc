#include "cli/demo_table.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace tearline::cli::demo {
namespace v1 = tearline::v1;

namespace {

constexpr std::size_t kLabelWrap = 30;  // the first column wraps labels at this width
constexpr std::string_view kGap = "  ";
constexpr std::string_view kWithheld = "withheld: ";

bool is_credential_reason(const std::string& r) {
  return r == "REVOKED" || r == "EXPIRED" || r == "NOT_YET_VALID" || r == "UNKNOWN_NODE";
}

std::string lower_words(std::string s) {
  for (char& c : s) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string line;
  for (std::string w; words >> w;) {
    if (!line.empty() && line.size() + 1 + w.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// The label on one line, or when too long one line per part
// ("SECRET REL COL" / "UNITS cucuta-jtf" / "ORCON").
std::vector<std::string> label_lines(const std::string& label) {
  if (label.size() <= kLabelWrap) return {label};
  std::vector<std::string> parts;
  std::string rest = label;
  for (const std::string& marker : {std::string(" ORCON"), std::string(" UNITS ")}) {
    const auto at = rest.rfind(marker);
    if (at == std::string::npos) continue;
    parts.insert(parts.begin(), rest.substr(at + 1));
    rest.erase(at);
  }
  parts.insert(parts.begin(), rest);
  std::vector<std::string> lines;
  for (const auto& p : parts) {
    for (auto& l : wrap(p, kLabelWrap)) lines.push_back(std::move(l));
  }
  return lines;
}

std::vector<std::string> row_heading(const v1::DemoRow& row) {
  std::vector<std::string> lines{row.id() + " " + row.title()};
  for (const auto& l : label_lines(row.label())) lines.push_back("    " + l);
  return lines;
}

std::string withheld_text(const v1::DemoCell& cell) {
  std::string out;
  for (const auto& r : cell.short_reasons()) out += (out.empty() ? "" : "+") + r;
  return out;
}

struct Layout {
  std::size_t first = 0;
  std::vector<std::size_t> columns;
};

Layout layout_of(const v1::DemoOutcome& outcome) {
  Layout l;
  l.first = std::string("section").size();
  for (const auto& n : outcome.nodes()) l.columns.push_back(n.short_name().size());
  for (const auto& step : outcome.steps()) {
    for (const auto& pub : step.publications()) {
      for (const auto& row : pub.rows()) {
        for (const auto& h : row_heading(row)) l.first = std::max(l.first, h.size());
        for (int i = 0; i < row.cells_size() && static_cast<std::size_t>(i) < l.columns.size(); ++i) {
          for (const auto& line : cell_lines(row.cells(i))) {
            l.columns[static_cast<std::size_t>(i)] = std::max(l.columns[static_cast<std::size_t>(i)], line.size());
          }
        }
      }
    }
  }
  return l;
}

void print_row(std::ostream& out, const Layout& l, const v1::DemoRow& row) {
  std::vector<std::string> heading = row_heading(row);
  std::vector<std::vector<std::string>> cells;
  std::size_t height = heading.size();
  for (const auto& c : row.cells()) {
    cells.push_back(cell_lines(c));
    height = std::max(height, cells.back().size());
  }
  for (std::size_t line = 0; line < height; ++line) {
    std::string text = pad(line < heading.size() ? heading[line] : "", l.first);
    for (std::size_t i = 0; i < cells.size() && i < l.columns.size(); ++i) {
      text += kGap;
      text += pad(line < cells[i].size() ? cells[i][line] : "", l.columns[i]);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  }
}

void print_publication(std::ostream& out, const Layout& l, const v1::DemoPublication& pub) {
  out << pub.id() << " " << pub.title() << ": " << pub.sender();
  if (pub.originator() != pub.sender()) out << " (in the name of " << pub.originator() << ")";
  out << " publishes on " << pub.topic() << "\n";
  const bool accepted = pub.verdict() == "ACCEPTED";
  if (accepted) {
    out << "    ACCEPTED";
  } else {
    out << "    REJECTED " << (pub.reasons().empty() ? pub.verdict() : pub.reasons());
  }
  if (!pub.match()) out << "  !! the policy expected " << pub.expected();
  out << "\n";
  if (!accepted) {
    if (pub.received_by_size() == 0) {
      out << "    (reached no node)\n";
    } else {
      out << "    !! reached";
      for (const auto& n : pub.received_by()) out << " " << n;
      out << "\n";
    }
  }
  for (const auto& row : pub.rows()) print_row(out, l, row);
}

}  // namespace

std::vector<std::string> cell_lines(const v1::DemoCell& cell) {
  if (!cell.match()) {
    if (cell.expected_delivered()) return {"!! MISSING", "(" + cell.actual() + ")"};
    return {"!! LEAKED", "(policy: " + withheld_text(cell) + ")"};
  }
  if (cell.expected_delivered()) return {"delivered"};
  for (const auto& r : cell.short_reasons()) {
    if (is_credential_reason(r)) return {lower_words(r)};  // nothing more matters
  }
  std::vector<std::string> lines;
  for (const auto& r : cell.short_reasons()) {
    lines.push_back(lines.empty() ? std::string(kWithheld) + r : std::string(kWithheld.size(), ' ') + r);
  }
  if (lines.empty()) lines.emplace_back("withheld");
  return lines;
}

std::string render_table(const v1::DemoOutcome& outcome) {
  const Layout l = layout_of(outcome);
  std::ostringstream out;
  std::string heading = pad("section", l.first), rule(l.first, '-');
  for (int i = 0; i < outcome.nodes_size() && static_cast<std::size_t>(i) < l.columns.size(); ++i) {
    const std::size_t w = l.columns[static_cast<std::size_t>(i)];
    heading += std::string(kGap) + pad(outcome.nodes(i).short_name(), w);
    rule += std::string(kGap) + std::string(w, '-');
  }
  while (!heading.empty() && heading.back() == ' ') heading.pop_back();
  out << heading << "\n" << rule << "\n";
  for (const auto& step : outcome.steps()) {
    out << "\n== " << step.title() << "\n";
    for (const auto& e : step.events()) out << "-- " << e << "\n";
    for (const auto& pub : step.publications()) print_publication(out, l, pub);
  }
  return out.str();
}

std::string render_summary(const v1::DemoOutcome& outcome) {
  std::ostringstream out;
  std::size_t cells = 0, rows = 0, accepted = 0;
  std::vector<std::string> rejected;
  for (const auto& step : outcome.steps()) {
    for (const auto& pub : step.publications()) {
      if (pub.verdict() == "ACCEPTED") {
        ++accepted;
      } else {
        rejected.push_back(pub.verdict());
      }
      for (const auto& row : pub.rows()) {
        ++rows;
        cells += static_cast<std::size_t>(row.cells_size());
      }
    }
  }
  out << "Summary\n";
  out << "  " << accepted << " reports accepted, " << rows << " sections x " << outcome.nodes_size()
      << " nodes = " << cells << " read decisions: " << outcome.delivered() << " delivered and "
      << outcome.withheld() << " withheld as the policy says\n";
  out << "  " << rejected.size() << " publications rejected (";
  for (std::size_t i = 0; i < rejected.size(); ++i) out << (i == 0 ? "" : ", ") << rejected[i];
  out << ")";
  bool as_expected = true, reached = false;
  for (const auto& step : outcome.steps()) {
    for (const auto& pub : step.publications()) {
      as_expected = as_expected && pub.match();
      reached = reached || pub.received_by_size() > 0;
    }
  }
  out << (as_expected ? ", each with the code expected" : "") << (reached ? "" : ", and none reached any node")
      << "\n";
  for (const auto& note : outcome.notes()) out << "  " << note << "\n";
  if (outcome.ok()) {
    out << "Every node got exactly what the policy says, and every bad publication was rejected as expected.\n";
  } else {
    out << "MISMATCH: " << outcome.mismatches() << " result(s) differ from what the policy says:\n";
    for (const auto& p : outcome.problems()) out << "  !! " << p << "\n";
  }
  return out.str();
}

}  // namespace tearline::cli::demo
