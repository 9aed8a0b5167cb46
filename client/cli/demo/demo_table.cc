#include "cli/demo/demo_table.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "base/text_table.h"
#include "policy/short_reason.h"

namespace tearline::cli::demo {
namespace v1 = tearline::v1;

namespace {

constexpr std::size_t kLabelWrap = 30;  // the first column wraps labels at this width
constexpr std::string_view kWithheld = "withheld: ";

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

// The row of one report section: its heading and one cell per node.
std::vector<TextTable::Cell> row_cells(const v1::DemoRow& row) {
  std::vector<TextTable::Cell> cells{row_heading(row)};
  for (const auto& c : row.cells()) cells.push_back(cell_lines(c));
  return cells;
}

std::vector<std::string> heading_of(const v1::DemoOutcome& outcome) {
  std::vector<std::string> heading{"section"};
  for (const auto& n : outcome.nodes()) heading.push_back(n.short_name());
  return heading;
}

// Columns "section" and one per node, each as wide as its widest line.
TextTable layout_of(const v1::DemoOutcome& outcome) {
  const std::vector<std::string> heading = heading_of(outcome);
  TextTable table(std::vector<TableColumn>(heading.size()));
  table.fit(heading);
  for (const auto& step : outcome.steps()) {
    for (const auto& pub : step.publications()) {
      for (const auto& row : pub.rows()) table.fit_tall(row_cells(row));
    }
  }
  return table;
}

// With more than one broker, the way each copy came: "    path tearline-broker
// > tearline-broker-dea: dea-cucuta, dea-bogota".
void print_routes(std::ostream& out, const v1::DemoPublication& pub,
                  const std::map<std::string, std::string>& short_names) {
  if (short_names.size() < 2) return;  // every node on one broker
  for (const auto& r : pub.routes()) {
    out << "    path";
    for (int i = 0; i < r.brokers_size(); ++i) out << (i == 0 ? " " : " > ") << r.brokers(i);
    out << ":";
    for (int i = 0; i < r.nodes_size(); ++i) {
      const auto it = short_names.find(r.nodes(i));
      out << (i == 0 ? " " : ", ") << (it == short_names.end() ? r.nodes(i) : it->second);
    }
    out << "\n";
  }
}

void print_publication(std::ostream& out, const TextTable& table, const v1::DemoPublication& pub,
                       const std::map<std::string, std::string>& short_names) {
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
  for (const auto& row : pub.rows()) out << table.tall_row(row_cells(row));
  print_routes(out, pub, short_names);
}

}  // namespace

std::vector<std::string> cell_lines(const v1::DemoCell& cell) {
  if (!cell.match()) {
    if (cell.expected_delivered()) return {"!! MISSING", "(" + cell.actual() + ")"};
    return {"!! LEAKED", "(policy: " + withheld_text(cell) + ")"};
  }
  if (cell.expected_delivered()) return {"delivered"};
  for (const auto& r : cell.short_reasons()) {
    if (policy::is_credential_word(r)) return {lower_words(r)};  // nothing more matters
  }
  std::vector<std::string> lines;
  for (const auto& r : cell.short_reasons()) {
    lines.push_back(lines.empty() ? std::string(kWithheld) + r : std::string(kWithheld.size(), ' ') + r);
  }
  if (lines.empty()) lines.emplace_back("withheld");
  return lines;
}

std::string render_table(const v1::DemoOutcome& outcome) {
  const TextTable table = layout_of(outcome);
  // Node id -> short name, or nothing when every node speaks to one broker.
  std::map<std::string, std::string> short_names;
  std::set<std::string> brokers;
  for (const auto& n : outcome.nodes()) {
    short_names[n.id()] = n.short_name();
    brokers.insert(n.broker());
  }
  if (brokers.size() < 2) short_names.clear();
  std::ostringstream out;
  out << table.row(heading_of(outcome)) << table.rule();
  for (const auto& step : outcome.steps()) {
    out << "\n== " << step.title() << "\n";
    for (const auto& e : step.events()) out << "-- " << e << "\n";
    for (const auto& pub : step.publications()) print_publication(out, table, pub, short_names);
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
      << " nodes = " << cells << " read decisions: " << outcome.delivered() << " delivered and " << outcome.withheld()
      << " withheld as the policy says\n";
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
  out << (as_expected ? ", each with the code expected" : "") << (reached ? "" : ", and none reached any node") << "\n";
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
