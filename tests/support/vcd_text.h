// Reading a VCD's text back in tests.
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace npuvp::test {

// A signal's changes: time in the file's unit, the value as written (a
// vector's binary digits without the 'b', a real's decimal).
using Changes = std::vector<std::pair<std::uint64_t, std::string>>;

// Every declared signal's changes after the initial dump (none: empty), by
// hierarchical name.
inline std::map<std::string, Changes> changes_by_name(const std::string& vcd) {
  std::istringstream in(vcd);
  std::vector<std::string> scopes;
  std::map<std::string, std::string> name_of;
  std::map<std::string, Changes> out;
  std::uint64_t now = 0;
  bool dump = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string w;
    words >> w;
    if (w == "$scope") {
      words >> w >> w;
      scopes.push_back(w);
    } else if (w == "$upscope") {
      scopes.pop_back();
    } else if (w == "$var") {
      std::string type, width, id, var, full;
      words >> type >> width >> id >> var;
      for (const auto& s : scopes) full += s + ".";
      name_of[id] = full + var;
      out[full + var];
    } else if (w == "$dumpvars") {
      dump = true;
    } else if (w == "$end") {
      dump = false;
    } else if (dump || w.empty()) {
      continue;
    } else if (w[0] == '#') {
      now = std::stoull(w.substr(1));
    } else if (w[0] == 'r' || w[0] == 'b') {
      std::string id;
      words >> id;
      out[name_of.at(id)].emplace_back(now, w.substr(1));
    } else if (w[0] == '0' || w[0] == '1') {
      out[name_of.at(w.substr(1))].emplace_back(now, w.substr(0, 1));
    }
  }
  return out;
}

}  // namespace npuvp::test
