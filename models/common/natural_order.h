#pragma once
// Names compared as a reader expects: runs of digits by their value, so that
// cluster_2 sorts before cluster_10 (trace scopes, GTKWave groups).

#include <string>

namespace npuvp {

bool natural_less(const std::string& a, const std::string& b);

struct NaturalLess {
  bool operator()(const std::string& a, const std::string& b) const { return natural_less(a, b); }
};

}  // namespace npuvp
